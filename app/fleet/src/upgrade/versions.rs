//! Kubernetes and node-image version numbers: parsing, ordering and the one-minor-at-a-time
//! upgrade path (aks §3.2, §9).

use std::cmp::Ordering;
use std::fmt;

use super::upgrade_error::UpgradeError;

/// A Kubernetes version as the CLI takes it (aks §10): optional `v`/`V`, then `x.y` or `x.y.z`.
/// `x.y` names a minor line; a run resolves it to the newest patch of that line in a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KubernetesVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: Option<u32>,
}

impl KubernetesVersion {
    pub fn parse(text: &str) -> Result<Self, UpgradeError> {
        let bad = || UpgradeError::InvalidKubernetesVersion(text.to_string());
        let t = text.trim();
        let t = t
            .strip_prefix('v')
            .or_else(|| t.strip_prefix('V'))
            .unwrap_or(t);
        let parts: Vec<&str> = t.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let num = |s: &str| {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                s.parse::<u32>().ok()
            }
        };
        let major = num(parts[0]).ok_or_else(bad)?;
        let minor = num(parts[1]).ok_or_else(bad)?;
        let patch = match parts.get(2) {
            Some(p) => Some(num(p).ok_or_else(bad)?),
            None => None,
        };
        Ok(Self {
            major,
            minor,
            patch,
        })
    }

    /// Same `major.minor` line.
    pub fn same_minor(&self, other: &Self) -> bool {
        self.major == other.major && self.minor == other.minor
    }

    /// `x.y` matches every patch of its line; `x.y.z` only itself.
    pub fn matches(&self, exact: &Self) -> bool {
        self.same_minor(exact) && self.patch.is_none_or(|p| exact.patch == Some(p))
    }

    fn key(&self) -> (u32, u32, u32) {
        (self.major, self.minor, self.patch.unwrap_or(0))
    }
}

/// Ordered by `(major, minor, patch)`, a missing patch counting as 0.
impl Ord for KubernetesVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key()
            .cmp(&other.key())
            .then(self.patch.is_some().cmp(&other.patch.is_some()))
    }
}

impl PartialOrd for KubernetesVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for KubernetesVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(p) => write!(f, "{}.{}.{}", self.major, self.minor, p),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

/// Checks the control-plane path from `current` to the exact `target` (aks issue 19: one minor at
/// a time, never down). `Ok(false)` means already there.
pub fn check_upgrade_path(
    current: &KubernetesVersion,
    target: &KubernetesVersion,
) -> Result<bool, UpgradeError> {
    if target < current {
        return Err(UpgradeError::Downgrade {
            from: current.to_string(),
            to: target.to_string(),
        });
    }
    // A new major counts as skipping minors: nothing allows 1.x → 2.y in one step.
    if target.major != current.major || target.minor > current.minor + 1 {
        return Err(UpgradeError::SkipsMinor {
            from: current.to_string(),
            to: target.to_string(),
        });
    }
    Ok(target != current)
}

/// A node image version such as `AKSUbuntu-2204gen2containerd-202410.09.0`: the family is
/// everything before the last `-`, the version the dotted numbers after it (aks §9).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeImage {
    pub family: String,
    pub version: Vec<u64>,
    pub text: String,
}

impl NodeImage {
    pub fn parse(text: &str) -> Result<Self, UpgradeError> {
        let bad = || UpgradeError::InvalidNodeImageVersion(text.to_string());
        let (family, version) = text.trim().rsplit_once('-').ok_or_else(bad)?;
        if family.is_empty() {
            return Err(bad());
        }
        let version = version
            .split('.')
            .map(|p| {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    None
                } else {
                    p.parse::<u64>().ok()
                }
            })
            .collect::<Option<Vec<u64>>>()
            .ok_or_else(bad)?;
        Ok(Self {
            family: family.to_string(),
            version,
            text: text.trim().to_string(),
        })
    }
}

/// Ordered by family, then version numerically (`2021.10.9` < `2021.10.12`).
impl Ord for NodeImage {
    fn cmp(&self, other: &Self) -> Ordering {
        self.family
            .cmp(&other.family)
            .then_with(|| self.version.cmp(&other.version))
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl PartialOrd for NodeImage {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> KubernetesVersion {
        KubernetesVersion::parse(s).expect("version")
    }

    #[test]
    fn kubernetes_versions_parse_as_the_cli_takes_them() {
        assert_eq!(v("v1.26.0"), v("1.26.0"));
        assert_eq!(v("V1.27").patch, None);
        for bad in ["1", "1.2.3.4", "x.1", "1..2", "", "1.26.0-rc"] {
            assert!(KubernetesVersion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions_order_numerically() {
        assert!(v("1.9.0") < v("1.10.0"));
        assert!(v("1.26.3") < v("1.26.10"));
        assert!(
            v("1.26") < v("1.26.0"),
            "the bare line sorts before its patches"
        );
    }

    #[test]
    fn one_minor_at_a_time_and_never_down() {
        assert_eq!(check_upgrade_path(&v("1.29.4"), &v("1.30.1")), Ok(true));
        assert_eq!(check_upgrade_path(&v("1.29.4"), &v("1.29.9")), Ok(true));
        assert_eq!(check_upgrade_path(&v("1.29.4"), &v("1.29.4")), Ok(false));
        let skip = check_upgrade_path(&v("1.29.4"), &v("1.31.0")).expect_err("skips 1.30");
        assert_eq!(
            skip.to_string(),
            "upgrading Kubernetes version 1.29.4 to 1.31.0 is not allowed: it skips a minor \
             version; upgrade one minor version at a time"
        );
        assert!(matches!(
            check_upgrade_path(&v("1.30.1"), &v("1.29.9")),
            Err(UpgradeError::Downgrade { .. })
        ));
        assert!(check_upgrade_path(&v("1.30.1"), &v("2.0.0")).is_err());
    }

    #[test]
    fn node_images_split_family_and_version() {
        let i = NodeImage::parse("AKSUbuntu-2204gen2containerd-202410.09.0").expect("image");
        assert_eq!(i.family, "AKSUbuntu-2204gen2containerd");
        assert_eq!(i.version, vec![202410, 9, 0]);
        let a = NodeImage::parse("AKSUbuntu-1804gen2containerd-2021.10.9").expect("a");
        let b = NodeImage::parse("AKSUbuntu-1804gen2containerd-2021.10.12").expect("b");
        assert!(a < b);
        assert!(NodeImage::parse("nodash").is_err());
        assert!(NodeImage::parse("Fam-2021.x").is_err());
    }
}
