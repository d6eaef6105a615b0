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
    #[error("{}", crate::data_dir_lock::holder_text(path, *holder))]
    DataDirInUse { path: PathBuf, holder: Option<u32> },
    #[error("the dashboard configuration is invalid: {0}")]
    Config(String),
    #[error("the fleet configuration is invalid: {0}")]
    Fleet(#[from] crate::members::fleet_config::FleetConfigError),
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("the embedded hub failed: {0}")]
    Hub(Box<hub::Error>),
    #[error("simulated member {member} could not start: {message}")]
    Member { member: String, message: String },
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
    /// A reconcile of the engine failed.
    #[error("the engine failed: {0}")]
    Engine(#[from] crate::engine::Error),
    /// A pass of a member agent failed.
    #[error("the member agent failed: {0}")]
    Agent(#[from] crate::members::agent::AgentError),
    /// Adding, changing or signing in a dashboard account failed; the message says why.
    #[error("{0}")]
    Accounts(String),
}

impl From<hub::Error> for Error {
    fn from(error: hub::Error) -> Self {
        Error::Hub(Box::new(error))
    }
}

impl Error {
    /// A short, stable snake_case name of the kind of error, for metric labels.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Bind { .. } => "bind",
            Error::DataDir { .. } => "data_dir",
            Error::NoDataDir => "no_data_dir",
            Error::Config(_) => "config",
            Error::Fleet(_) => "fleet_config",
            Error::Tls(_) => "tls",
            Error::Hub(_) => "hub",
            Error::Member { .. } => "member",
            Error::Serve(_) => "serve",
            Error::Engine(_) => "engine",
            Error::Agent(_) => "agent",
            Error::Accounts(_) => "accounts",
            Error::DataDirInUse { .. } => "data_dir_in_use",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::members::fleet_config::FleetConfigError;

    /// Position of the variant. Exhaustive, so a new variant fails to compile here until it also
    /// gets a sample below.
    fn ordinal(e: &Error) -> usize {
        match e {
            Error::Bind { .. } => 0,
            Error::DataDir { .. } => 1,
            Error::NoDataDir => 2,
            Error::Config(_) => 3,
            Error::Fleet(_) => 4,
            Error::Tls(_) => 5,
            Error::Hub(_) => 6,
            Error::Member { .. } => 7,
            Error::Serve(_) => 8,
            Error::Engine(_) => 9,
            Error::Agent(_) => 10,
            Error::Accounts(_) => 11,
            Error::DataDirInUse { .. } => 12,
        }
    }

    #[test]
    fn every_variant_has_its_own_snake_case_metric_label() {
        let m = || String::from("m");
        let io = || std::io::Error::other("io");
        let errors = [
            Error::Bind {
                addr: ([127, 0, 0, 1], 0).into(),
                source: io(),
            },
            Error::DataDir {
                path: PathBuf::from("d"),
                source: io(),
            },
            Error::NoDataDir,
            Error::Config(m()),
            FleetConfigError::BadName(m()).into(),
            Error::Tls(m()),
            hub::Error::NoRoute.into(),
            Error::Member {
                member: m(),
                message: m(),
            },
            Error::Serve(io()),
            crate::engine::Error::CacheStopped.into(),
            crate::members::agent::AgentError::NotServed {
                api_version: m(),
                kind: m(),
            }
            .into(),
            Error::Accounts(m()),
            Error::DataDirInUse {
                path: PathBuf::from("d"),
                holder: Some(1),
            },
        ];
        let ordinals: Vec<usize> = errors.iter().map(ordinal).collect();
        assert_eq!(ordinals, (0..errors.len()).collect::<Vec<_>>());
        let labels: BTreeSet<&str> = errors.iter().map(|e| e.metric_label()).collect();
        assert_eq!(labels.len(), errors.len(), "labels repeat: {labels:?}");
        for label in labels {
            assert!(
                !label.is_empty() && label.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{label} is not snake_case"
            );
        }
    }
}
