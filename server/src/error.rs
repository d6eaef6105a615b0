use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything that can stop the server from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source} (is another fleetdeck running? pick a free port with --addr)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create the data directory {path}: {source} (choose another with --data-dir)")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no per-user data directory could be determined; pass --data-dir")]
    NoDataDir,
    #[error("the dashboard configuration is invalid: {0}")]
    Config(String),
    #[error("the fleet configuration is invalid: {0}")]
    Fleet(#[from] crate::members::fleet_config::FleetConfigError),
    #[error("cannot set up TLS for the hub: {0}")]
    Tls(String),
    #[error("the embedded hub failed: {0}")]
    Hub(Box<hub::Error>),
    #[error("simulated member {member} could not start: {message}")]
    Member { member: String, message: String },
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
}

impl From<hub::Error> for Error {
    fn from(error: hub::Error) -> Self {
        Error::Hub(Box::new(error))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
