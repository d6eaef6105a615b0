//! The simulated release catalogue of upgrade runs (seed 004): a YAML file the user edits
//! (`examples/release-catalogue.yaml` is the shipped default). fleetdeck writes the default to
//! `<data-dir>/release-catalogue.yaml` when the file is missing, never over the user's edits, and
//! the engine and the simulated members read the file again each time they use it, so an edit
//! applies without a restart.

use std::path::{Path, PathBuf};

use app::fleet::upgrade::release_catalogue::ReleaseCatalogue;

/// The file's name in the data directory.
pub const FILE_NAME: &str = "release-catalogue.yaml";

/// The shipped catalogue.
pub const DEFAULT: &str = include_str!("../../examples/release-catalogue.yaml");

/// The catalogue's path: `flag`, or the data directory's file, created with the default if
/// missing.
pub fn ensure(flag: Option<&Path>, data_dir: &Path) -> crate::Result<PathBuf> {
    if let Some(path) = flag {
        load(path).map_err(crate::Error::Config)?;
        return Ok(path.to_path_buf());
    }
    let path = data_dir.join(FILE_NAME);
    if !path.exists() {
        std::fs::write(&path, DEFAULT).map_err(|source| crate::Error::DataDir {
            path: path.clone(),
            source,
        })?;
    }
    Ok(path)
}

/// The dashboard's catalogue: the file at `path`, read at each use like the engine reads it.
pub fn for_console(path: &Path) -> app::server_fns::ssr::Catalogue {
    let path = path.to_path_buf();
    app::server_fns::ssr::Catalogue(std::sync::Arc::new(move || load(&path)))
}

/// Reads and checks the catalogue; the message names the file and what is wrong.
pub fn load(path: &Path) -> Result<ReleaseCatalogue, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the release catalogue {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("release catalogue {}: {e}", path.display()))
}

/// Parses a catalogue document; entries that are not versions are refused, so a typo never
/// silently removes a release.
pub fn parse(text: &str) -> Result<ReleaseCatalogue, String> {
    let catalogue: ReleaseCatalogue = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let errors = catalogue.check();
    if !errors.is_empty() {
        let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
        return Err(all.join("; "));
    }
    Ok(catalogue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::fleet::upgrade::versions::KubernetesVersion;

    #[test]
    fn the_shipped_catalogue_parses_and_lags_in_westeurope() {
        let c = parse(DEFAULT).expect("valid");
        let k = KubernetesVersion::parse("1.26").expect("version");
        assert_eq!(
            c.kubernetes_in("eastus", &k).map(|v| v.to_string()),
            Some("1.26.6".into())
        );
        let east = c.latest_image("eastus", "AKSUbuntu-2204gen2containerd");
        let west = c.latest_image("westeurope", "AKSUbuntu-2204gen2containerd");
        assert!(east > west, "{east:?} vs {west:?}");
    }

    #[test]
    fn a_bad_entry_is_refused_with_its_text() {
        let err = parse("regions:\n  eastus:\n    kubernetesVersions: [1.26]\n").unwrap_err();
        assert!(err.contains("1.26"), "{err}");
        let dir = tempfile::tempdir().expect("dir");
        let path = ensure(None, dir.path()).expect("written");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), DEFAULT);
        std::fs::write(&path, "regions: {}\n").expect("edit");
        ensure(None, dir.path()).expect("kept");
        assert_eq!(load(&path).expect("edited").regions.len(), 0);
    }
}
