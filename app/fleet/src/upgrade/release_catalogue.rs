//! The simulated release catalogue: which Kubernetes versions and node images exist in which
//! region (aks §9). It is a data file the user edits, so every entry is parsed on use and entries
//! that do not parse are ignored (the engine's loader reports them with [`ReleaseCatalogue::check`]).

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::upgrade_error::UpgradeError;
use super::upgrade_run::NodeImageVersion;
use super::versions::{KubernetesVersion, NodeImage};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseCatalogue {
    /// Region name → what is published there.
    #[serde(default)]
    pub regions: BTreeMap<String, RegionReleases>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegionReleases {
    /// Exact versions, `x.y.z`.
    #[serde(default)]
    pub kubernetes_versions: Vec<String>,
    /// Full node image versions, `<family>-<version>`.
    #[serde(default)]
    pub node_images: Vec<String>,
    /// Exact versions published in preview, `x.y.z`: a run may name them, auto-upgrade never
    /// picks them (aks §11: GA versions only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preview_kubernetes_versions: Vec<String>,
}

impl ReleaseCatalogue {
    /// Every entry that does not parse, so a loader can refuse or warn.
    pub fn check(&self) -> Vec<UpgradeError> {
        let mut errors = Vec::new();
        for releases in self.regions.values() {
            for k in releases
                .kubernetes_versions
                .iter()
                .chain(&releases.preview_kubernetes_versions)
            {
                match KubernetesVersion::parse(k) {
                    Ok(v) if v.patch.is_some() => {}
                    Ok(_) => errors.push(UpgradeError::InvalidKubernetesVersion(k.clone())),
                    Err(e) => errors.push(e),
                }
            }
            for i in &releases.node_images {
                if let Err(e) = NodeImage::parse(i) {
                    errors.push(e);
                }
            }
        }
        errors
    }

    fn kubernetes(&self, region: &str) -> impl Iterator<Item = KubernetesVersion> + '_ {
        self.regions
            .get(region)
            .into_iter()
            .flat_map(|r| {
                r.kubernetes_versions
                    .iter()
                    .chain(&r.preview_kubernetes_versions)
            })
            .filter_map(|k| KubernetesVersion::parse(k).ok())
            .filter(|k| k.patch.is_some())
    }

    /// Every GA Kubernetes version published in any region (auto-upgrade's choice, aks §11).
    pub fn ga_kubernetes_anywhere(&self) -> BTreeSet<KubernetesVersion> {
        self.regions
            .values()
            .flat_map(|r| r.kubernetes_versions.iter())
            .filter_map(|k| KubernetesVersion::parse(k).ok())
            .filter(|k| k.patch.is_some())
            .collect()
    }

    /// Per image family, the newest image published in any region.
    pub fn newest_images_anywhere(&self) -> Vec<NodeImage> {
        let mut newest: BTreeMap<String, NodeImage> = BTreeMap::new();
        for image in self.regions.keys().flat_map(|r| self.images(r)) {
            match newest.get(&image.family) {
                Some(have) if *have >= image => {}
                _ => {
                    newest.insert(image.family.clone(), image);
                }
            }
        }
        newest.into_values().collect()
    }

    fn images(&self, region: &str) -> impl Iterator<Item = NodeImage> + '_ {
        self.regions
            .get(region)
            .into_iter()
            .flat_map(|r| r.node_images.iter())
            .filter_map(|i| NodeImage::parse(i).ok())
    }

    /// The newest exact version in `region` that `target` names (`x.y` → its newest patch).
    pub fn kubernetes_in(
        &self,
        region: &str,
        target: &KubernetesVersion,
    ) -> Option<KubernetesVersion> {
        self.kubernetes(region).filter(|k| target.matches(k)).max()
    }

    /// Whether `target` is published in any region at all: a version published nowhere fails the
    /// member, one published elsewhere only holds it Pending (see [`super::member_target`]).
    pub fn kubernetes_anywhere(&self, target: &KubernetesVersion) -> bool {
        self.regions
            .keys()
            .any(|r| self.kubernetes_in(r, target).is_some())
    }

    /// The newest image of `family` in `region` (the `Latest` choice, aks §9).
    pub fn latest_image(&self, region: &str, family: &str) -> Option<NodeImage> {
        self.images(region).filter(|i| i.family == family).max()
    }

    pub fn image_in(&self, region: &str, image: &NodeImage) -> bool {
        self.images(region).any(|i| i == *image)
    }

    pub fn image_anywhere(&self, image: &NodeImage) -> bool {
        self.regions.keys().any(|r| self.image_in(r, image))
    }

    /// `Consistent` (aks §9): per image family, the newest version published in **every** region
    /// where the run has a node pool of that family — the "latest common" image. It equals the
    /// minimum of the regions' latest versions when regions publish cumulatively; taking the
    /// newest common version also holds when a region skipped a release. A family with no common
    /// version is left out, and members with a pool of that family are Skipped at their turn.
    /// Sorted by family.
    pub fn consistent_images<'a>(
        &self,
        pools: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Vec<NodeImage> {
        let mut regions_by_family: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (region, family) in pools {
            regions_by_family.entry(family).or_default().insert(region);
        }
        let mut chosen = Vec::new();
        for (family, regions) in regions_by_family {
            let mut common: Option<BTreeSet<NodeImage>> = None;
            for region in regions {
                let here: BTreeSet<NodeImage> =
                    self.images(region).filter(|i| i.family == family).collect();
                common = Some(match common {
                    None => here,
                    Some(c) => c.intersection(&here).cloned().collect(),
                });
            }
            if let Some(best) = common.and_then(|c| c.into_iter().next_back()) {
                chosen.push(best);
            }
        }
        chosen
    }
}

/// Parses `customNodeImageVersions` (aks §3.2): at most one version per family.
pub fn custom_images(versions: &[NodeImageVersion]) -> Result<Vec<NodeImage>, UpgradeError> {
    let mut seen = BTreeSet::new();
    let mut images = Vec::new();
    for v in versions {
        let image = NodeImage::parse(&v.version)?;
        if !seen.insert(image.family.clone()) {
            return Err(UpgradeError::CustomImagesDuplicateFamily(image.family));
        }
        images.push(image);
    }
    images.sort();
    Ok(images)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UBUNTU: &str = "AKSUbuntu-1804gen2containerd";

    fn catalogue(regions: &[(&str, &[&str], &[&str])]) -> ReleaseCatalogue {
        ReleaseCatalogue {
            regions: regions
                .iter()
                .map(|(r, k, i)| {
                    (
                        r.to_string(),
                        RegionReleases {
                            kubernetes_versions: k.iter().map(|s| s.to_string()).collect(),
                            node_images: i.iter().map(|s| s.to_string()).collect(),
                            ..Default::default()
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn consistent_takes_the_latest_common_image_across_regions() {
        // The spec's example: X's latest is …-2021.10.12, Y's is …-2021.10.17 → both get 10.12.
        let c = catalogue(&[
            (
                "x",
                &[],
                &[
                    "AKSUbuntu-1804gen2containerd-2021.10.5",
                    "AKSUbuntu-1804gen2containerd-2021.10.12",
                ],
            ),
            (
                "y",
                &[],
                &[
                    "AKSUbuntu-1804gen2containerd-2021.10.5",
                    "AKSUbuntu-1804gen2containerd-2021.10.12",
                    "AKSUbuntu-1804gen2containerd-2021.10.17",
                    "AzureLinux-2-2021.10.17",
                ],
            ),
        ]);
        let chosen = c.consistent_images([("x", UBUNTU), ("y", UBUNTU), ("y", "AzureLinux-2")]);
        let texts: Vec<&str> = chosen.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "AKSUbuntu-1804gen2containerd-2021.10.12",
                "AzureLinux-2-2021.10.17"
            ]
        );
        // Latest, by contrast, is per region.
        let latest_y = c.latest_image("y", UBUNTU).expect("y has ubuntu");
        assert_eq!(latest_y.text, "AKSUbuntu-1804gen2containerd-2021.10.17");
    }

    #[test]
    fn a_family_missing_in_one_region_has_no_consistent_choice() {
        let c = catalogue(&[("x", &[], &["AzureLinux-2-2021.10.17"]), ("y", &[], &[])]);
        assert!(c
            .consistent_images([("x", "AzureLinux-2"), ("y", "AzureLinux-2")])
            .is_empty());
    }

    #[test]
    fn kubernetes_minor_lines_resolve_to_the_newest_patch_in_the_region() {
        let c = catalogue(&[
            ("x", &["1.30.1", "1.30.10", "1.31.0", "bogus"], &[]),
            ("y", &["1.30.1"], &[]),
        ]);
        let line = KubernetesVersion::parse("1.30").expect("line");
        assert_eq!(
            c.kubernetes_in("x", &line).map(|v| v.to_string()),
            Some("1.30.10".into())
        );
        assert_eq!(
            c.kubernetes_in("y", &line).map(|v| v.to_string()),
            Some("1.30.1".into())
        );
        let exact = KubernetesVersion::parse("1.31.0").expect("exact");
        assert!(c.kubernetes_in("y", &exact).is_none());
        assert!(c.kubernetes_anywhere(&exact));
        assert_eq!(c.check().len(), 1, "the bogus entry is reported");
    }

    #[test]
    fn custom_images_allow_one_version_per_family() {
        let v = |s: &str| NodeImageVersion { version: s.into() };
        assert!(custom_images(&[v("A-1.0"), v("B-2.0")]).is_ok());
        assert_eq!(
            custom_images(&[v("A-1.0"), v("A-2.0")]),
            Err(UpgradeError::CustomImagesDuplicateFamily("A".into()))
        );
    }
}
