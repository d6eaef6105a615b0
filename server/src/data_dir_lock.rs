//! One fleetdeck per data directory: two on the same one would run two engines on one store and
//! the second would rewrite the first's kubeconfig. The running one holds an exclusive advisory
//! lock on `fleetdeck.lock` (released by the OS however the process ends, SIGKILL included) and
//! writes its pid there so the refusal can name it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Held for as long as fleetdeck runs on the directory.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the directory's lock, or refuses naming the directory and the pid that holds it.
    pub fn acquire(dir: &Path) -> Result<DataDirLock> {
        let path = dir.join("fleetdeck.lock");
        let io = |source| Error::DataDir {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(Error::DataDirInUse {
                    path: dir.to_path_buf(),
                    holder: holder.trim().parse().ok(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(DataDirLock { _file: file })
    }
}

/// How the refusal names the holder.
pub fn holder_text(path: &Path, holder: Option<u32>) -> String {
    let who = match holder {
        Some(pid) => format!("another fleetdeck (pid {pid})"),
        None => "another fleetdeck".into(),
    };
    format!(
        "{who} is already running on the data directory {}; stop it first, or give this one its \
         own directory with --data-dir",
        PathBuf::from(path).display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid_until_it_lets_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = DataDirLock::acquire(dir.path()).expect("first");
        match DataDirLock::acquire(dir.path()) {
            Err(Error::DataDirInUse { path, holder }) => {
                assert_eq!(path, dir.path());
                assert_eq!(holder, Some(std::process::id()));
            }
            other => panic!("expected DataDirInUse, got {other:?}"),
        }
        drop(first);
        DataDirLock::acquire(dir.path()).expect("free again once the first is gone");
    }
}
