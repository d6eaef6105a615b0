//! The `fleetdeck` server: the web dashboard and (in later slices) the embedded hub, the engine
//! and the simulated member clusters.

pub mod cli;
pub mod engine;
mod error;
pub mod fleet_kinds;
pub mod kubeconfig;
pub mod members;
pub mod serve;
pub mod tls;
pub mod web;

pub use error::{Error, Result};
