//! Which members a fleetdeck starts with: the seeds' demo fleet, the ones named on the command
//! line (`--member`), or a fleet config file (`--fleet-config fleet.yaml`) with explicit members
//! and generated groups (`count: 10000`, for scale tests). Format: `examples/fleet.yaml`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use app::fleet::upgrade::maintenance_window::MaintenanceWindow;
use app::fleet::upgrade::managed_cluster::{ManagedClusterStatus, NodePool};
use app::fleet::upgrade::versions::{KubernetesVersion, NodeImage};
use serde::Deserialize;

/// The MemberCluster property a simulated member reports its region in.
pub use app::fleet::types::names::REGION_PROPERTY;
use app::fleet::types::names::UPDATE_GROUP_LABEL;

/// Why a `--member` flag or a fleet config file is refused. The texts name the entry at fault
/// and say what to write instead.
#[derive(Debug, thiserror::Error)]
pub enum FleetConfigError {
    #[error("cannot read the fleet config {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("fleet config {}: {source}", .path.display())]
    InFile {
        path: PathBuf,
        source: Box<FleetConfigError>,
    },
    #[error("{0}")]
    Yaml(#[from] serde_saphyr::Error),
    /// `at` names the entry, e.g. `members[0].name` or `groups[1].labels (i = 3)`.
    #[error("{at}: {source}")]
    At {
        at: String,
        source: Box<FleetConfigError>,
    },
    #[error("--member {flag}: a member named {name} is already configured")]
    DuplicateFlag { flag: String, name: String },
    #[error("{at}: member name {name:?} is already used by {first}")]
    DuplicateName {
        at: String,
        name: String,
        first: String,
    },
    #[error("member name {0:?} must be a DNS label: lowercase letters, digits and '-', at most 63 characters")]
    BadName(String),
    #[error("label {pair:?} of member {member} must be key=value")]
    LabelNotKeyValue { member: String, pair: String },
    #[error("label key {0:?} must be [prefix/]name with a name of at most 63 letters, digits, '-', '_' or '.'")]
    BadLabelKey(String),
    #[error("label {key}: value {value:?} must be at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit")]
    BadLabelValue { key: String, value: String },
    #[error("{text:?}: '{{' without a closing '}}'")]
    UnclosedBrace { text: String },
    #[error("{text:?}: '}}' without an opening '{{'")]
    UnopenedBrace { text: String },
    #[error("{text:?}: {source}; use {{i}}, {{i%N}} or {{i/N}}, optionally with :0W")]
    BadPlaceholder {
        text: String,
        source: Box<FleetConfigError>,
    },
    #[error("bad padding {pad:?} in {{{inner}}}")]
    BadPadding { pad: String, inner: String },
    #[error("{n:?} in {{{inner}}} is not a positive integer")]
    NotPositive { n: String, inner: String },
    #[error("unknown placeholder {{{inner}}}")]
    UnknownPlaceholder { inner: String },
    /// A simulated cluster's version, node pool, window or upgrade time (seed 004).
    #[error("{0}")]
    Cluster(String),
}

impl FleetConfigError {
    fn at(at: impl Into<String>) -> impl FnOnce(FleetConfigError) -> FleetConfigError {
        let at = at.into();
        move |source| FleetConfigError::At {
            at,
            source: Box::new(source),
        }
    }
}

/// One member cluster to simulate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberConfig {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Reported as the `fleetdeck.dev/region` property.
    pub region: Option<String>,
    /// No listener, no kubeconfig context, no store file: an in-memory API server reached only
    /// in-process (README "Choices worth knowing").
    pub lightweight: bool,
    /// What an upgrade run changes on the simulated cluster, and how long an upgrade takes.
    pub cluster: SimulatedCluster,
}

/// The simulated cluster behind a member, as upgrade runs see it (seed 004): reported as the
/// MemberCluster's `fleetdeck.dev/managedCluster` status when the member first registers (later
/// registrations keep what upgrades made of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulatedCluster {
    pub kubernetes_version: String,
    pub node_pools: Vec<NodePool>,
    pub maintenance_window: Option<MaintenanceWindow>,
    pub node_os_maintenance_window: Option<MaintenanceWindow>,
    /// How long one upgrade of this member takes.
    pub upgrade_time: std::time::Duration,
}

/// A simulated cluster's defaults: one minor below the seed's `--kubernetes-version 1.26.0`,
/// one Ubuntu pool at the oldest image of the shipped release catalogue.
pub const DEFAULT_KUBERNETES_VERSION: &str = "1.25.6";
pub const DEFAULT_NODE_IMAGE: &str = "AKSUbuntu-2204gen2containerd-202401.09.0";
pub const DEFAULT_NODE_POOL: &str = "nodepool1";
/// The region of a member configured without one, for the release catalogue.
pub const DEFAULT_REGION: &str = "eastus";
pub const DEFAULT_UPGRADE_TIME: std::time::Duration = std::time::Duration::from_secs(5);

impl Default for SimulatedCluster {
    fn default() -> Self {
        SimulatedCluster {
            kubernetes_version: DEFAULT_KUBERNETES_VERSION.into(),
            node_pools: vec![NodePool {
                name: DEFAULT_NODE_POOL.into(),
                node_image_version: DEFAULT_NODE_IMAGE.into(),
            }],
            maintenance_window: None,
            node_os_maintenance_window: None,
            upgrade_time: DEFAULT_UPGRADE_TIME,
        }
    }
}

impl SimulatedCluster {
    /// The status the member reports before any upgrade.
    pub fn initial_status(&self, region: Option<&str>) -> ManagedClusterStatus {
        ManagedClusterStatus {
            region: region.unwrap_or(DEFAULT_REGION).to_string(),
            kubernetes_version: self.kubernetes_version.clone(),
            node_pools: self.node_pools.clone(),
            maintenance_window: self.maintenance_window.clone(),
            node_os_maintenance_window: self.node_os_maintenance_window.clone(),
            operation: None,
        }
    }
}

impl MemberConfig {
    pub fn named(name: &str) -> Self {
        MemberConfig {
            name: name.to_string(),
            labels: BTreeMap::new(),
            region: None,
            lightweight: false,
            cluster: SimulatedCluster::default(),
        }
    }
}

/// The seeds' fleet (seed 000, "member clusters"): two canaries ordered by `order`, one staging.
pub fn demo_fleet() -> Vec<MemberConfig> {
    [
        ("member1", "environment=canary,order=2"),
        ("member2", "environment=staging"),
        ("member3", "environment=canary,order=1"),
    ]
    .into_iter()
    .map(|(name, labels)| {
        parse(&format!("{name}:{labels}")).expect("the demo fleet is well formed")
    })
    .collect()
}

/// Parses `NAME[:key=value,key=value…]`, the `--member` flag's syntax.
pub fn parse(text: &str) -> Result<MemberConfig, FleetConfigError> {
    let (name, labels) = text.split_once(':').unwrap_or((text, ""));
    let name = name.trim();
    check_name(name)?;
    let mut member = MemberConfig::named(name);
    for pair in labels.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) =
            pair.split_once('=')
                .ok_or_else(|| FleetConfigError::LabelNotKeyValue {
                    member: name.to_string(),
                    pair: pair.to_string(),
                })?;
        member
            .labels
            .insert(key.trim().to_string(), value.trim().to_string());
    }
    Ok(member)
}

/// The file's shape. Unknown fields are errors, so a typo never silently changes the fleet.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    /// The default of `lightweight` for every entry below.
    #[serde(default)]
    lightweight: bool,
    #[serde(default)]
    members: Vec<FileMember>,
    #[serde(default)]
    groups: Vec<FileGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMember {
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, Scalar>,
    region: Option<String>,
    lightweight: Option<bool>,
    #[serde(rename = "updateGroup")]
    update_group: Option<String>,
    #[serde(rename = "kubernetesVersion")]
    kubernetes_version: Option<String>,
    #[serde(rename = "nodePools")]
    node_pools: Option<Vec<FileNodePool>>,
    #[serde(rename = "maintenanceWindow")]
    maintenance_window: Option<MaintenanceWindow>,
    #[serde(rename = "nodeOsMaintenanceWindow")]
    node_os_maintenance_window: Option<MaintenanceWindow>,
    #[serde(rename = "upgradeTime")]
    upgrade_time: Option<String>,
}

/// The simulated cluster of a member or group (seed 004); absent fields take the defaults of
/// [`SimulatedCluster`].
#[derive(Debug, Default, Clone)]
struct FileCluster {
    /// Shorthand for the label `updates.fleetdeck.dev/group` (a template in groups).
    update_group: Option<String>,
    kubernetes_version: Option<String>,
    node_pools: Option<Vec<FileNodePool>>,
    maintenance_window: Option<MaintenanceWindow>,
    node_os_maintenance_window: Option<MaintenanceWindow>,
    /// e.g. `30s`, `2m`, `0s`.
    upgrade_time: Option<String>,
}

/// Builds the [`FileCluster`] of a member or group entry (the same fields in both).
macro_rules! file_cluster {
    ($e:expr) => {
        FileCluster {
            update_group: $e.update_group.clone(),
            kubernetes_version: $e.kubernetes_version.clone(),
            node_pools: $e.node_pools.clone(),
            maintenance_window: $e.maintenance_window.clone(),
            node_os_maintenance_window: $e.node_os_maintenance_window.clone(),
            upgrade_time: $e.upgrade_time.clone(),
        }
    };
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileNodePool {
    name: String,
    node_image_version: String,
}

impl FileCluster {
    fn build(&self) -> Result<SimulatedCluster, FleetConfigError> {
        let bad = |field: &str, why: String| FleetConfigError::Cluster(format!("{field}: {why}"));
        let mut c = SimulatedCluster::default();
        if let Some(v) = &self.kubernetes_version {
            match KubernetesVersion::parse(v) {
                Ok(k) if k.patch.is_some() => c.kubernetes_version = k.to_string(),
                Ok(_) => {
                    return Err(bad(
                        "kubernetesVersion",
                        format!("{v:?} must be an exact version x.y.z"),
                    ))
                }
                Err(e) => return Err(bad("kubernetesVersion", e.to_string())),
            }
        }
        if let Some(pools) = &self.node_pools {
            c.node_pools = Vec::new();
            for p in pools {
                NodeImage::parse(&p.node_image_version)
                    .map_err(|e| bad("nodePools", e.to_string()))?;
                c.node_pools.push(NodePool {
                    name: p.name.clone(),
                    node_image_version: p.node_image_version.clone(),
                });
            }
        }
        for (field, window) in [
            ("maintenanceWindow", &self.maintenance_window),
            ("nodeOsMaintenanceWindow", &self.node_os_maintenance_window),
        ] {
            if let Some(w) = window {
                w.state_at(chrono::Utc::now())
                    .map_err(|why| bad(field, why))?;
            }
        }
        c.maintenance_window = self.maintenance_window.clone();
        c.node_os_maintenance_window = self.node_os_maintenance_window.clone();
        if let Some(t) = &self.upgrade_time {
            c.upgrade_time = humantime::parse_duration(t)
                .map_err(|e| bad("upgradeTime", format!("{t:?}: {e}")))?;
        }
        Ok(c)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGroup {
    count: u32,
    /// First value of `i` (default 0).
    #[serde(default)]
    start: u32,
    /// A template over `i`: `{i}`, `{i%N}`, `{i/N}`, each optionally zero-padded (`{i:05}`).
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, Scalar>,
    region: Option<String>,
    lightweight: Option<bool>,
    #[serde(rename = "updateGroup")]
    update_group: Option<String>,
    #[serde(rename = "kubernetesVersion")]
    kubernetes_version: Option<String>,
    #[serde(rename = "nodePools")]
    node_pools: Option<Vec<FileNodePool>>,
    #[serde(rename = "maintenanceWindow")]
    maintenance_window: Option<MaintenanceWindow>,
    #[serde(rename = "nodeOsMaintenanceWindow")]
    node_os_maintenance_window: Option<MaintenanceWindow>,
    #[serde(rename = "upgradeTime")]
    upgrade_time: Option<String>,
}

/// A label value as YAML writes it: `order: 2` means the string "2".
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Bool(bool),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Int(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }
}

/// Reads a fleet config file; errors name the file and the entry at fault.
pub fn load(path: &Path) -> Result<Vec<MemberConfig>, FleetConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| FleetConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_file(&text).map_err(|e| FleetConfigError::InFile {
        path: path.to_path_buf(),
        source: Box::new(e),
    })
}

/// Parses a fleet config document (see [`load`]).
pub fn parse_file(text: &str) -> Result<Vec<MemberConfig>, FleetConfigError> {
    let file: FileConfig = if text.trim().is_empty() {
        FileConfig::default()
    } else {
        serde_saphyr::from_str(text)?
    };
    let mut out = Vec::new();
    for (n, m) in file.members.iter().enumerate() {
        let at = format!("members[{n}]");
        let mut member = MemberConfig::named(&m.name);
        check_name(&member.name).map_err(FleetConfigError::at(format!("{at}.name")))?;
        for (key, value) in &m.labels {
            let value = value.text();
            check_label(key, &value).map_err(FleetConfigError::at(format!("{at}.labels")))?;
            member.labels.insert(key.clone(), value);
        }
        member.region = m.region.clone();
        member.lightweight = m.lightweight.unwrap_or(file.lightweight);
        let cluster = file_cluster!(m);
        member.cluster = cluster.build().map_err(FleetConfigError::at(&at))?;
        if let Some(group) = &cluster.update_group {
            check_label(UPDATE_GROUP_LABEL, group)
                .map_err(FleetConfigError::at(format!("{at}.updateGroup")))?;
            member
                .labels
                .insert(UPDATE_GROUP_LABEL.into(), group.clone());
        }
        out.push((at, member));
    }
    for (n, g) in file.groups.iter().enumerate() {
        let at = format!("groups[{n}]");
        let name = Template::parse(&g.name).map_err(FleetConfigError::at(format!("{at}.name")))?;
        let labels = g
            .labels
            .iter()
            .map(|(k, v)| {
                Template::parse(&v.text())
                    .map(|t| (k.clone(), t))
                    .map_err(FleetConfigError::at(format!("{at}.labels.{k}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let group_cluster = file_cluster!(g);
        let cluster = group_cluster.build().map_err(FleetConfigError::at(&at))?;
        let update_group = group_cluster
            .update_group
            .as_deref()
            .map(Template::parse)
            .transpose()
            .map_err(FleetConfigError::at(format!("{at}.updateGroup")))?;
        for i in g.start..g.start.saturating_add(g.count) {
            let mut member = MemberConfig::named(&name.render(i));
            check_name(&member.name)
                .map_err(FleetConfigError::at(format!("{at}.name (i = {i})")))?;
            for (key, value) in &labels {
                let value = value.render(i);
                check_label(key, &value)
                    .map_err(FleetConfigError::at(format!("{at}.labels (i = {i})")))?;
                member.labels.insert(key.clone(), value);
            }
            member.region = g.region.clone();
            member.lightweight = g.lightweight.unwrap_or(file.lightweight);
            member.cluster = cluster.clone();
            if let Some(group) = &update_group {
                let group = group.render(i);
                check_label(UPDATE_GROUP_LABEL, &group)
                    .map_err(FleetConfigError::at(format!("{at}.updateGroup (i = {i})")))?;
                member.labels.insert(UPDATE_GROUP_LABEL.into(), group);
            }
            out.push((format!("{at} (i = {i})"), member));
        }
    }
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (at, member) in &out {
        if let Some(first) = seen.insert(&member.name, at) {
            return Err(FleetConfigError::DuplicateName {
                at: at.clone(),
                name: member.name.clone(),
                first: first.to_string(),
            });
        }
    }
    Ok(out.into_iter().map(|(_, m)| m).collect())
}

/// A name or label template: text with `{i}`, `{i%N}`, `{i/N}` and an optional `:0W` padding.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template(Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Index { op: Op, width: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Modulo(u32),
    Divide(u32),
}

impl Template {
    fn parse(text: &str) -> Result<Template, FleetConfigError> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let close = rest[open..].find('}').map(|c| open + c).ok_or_else(|| {
                FleetConfigError::UnclosedBrace {
                    text: text.to_string(),
                }
            })?;
            pieces.push(Self::placeholder(&rest[open + 1..close]).map_err(|e| {
                FleetConfigError::BadPlaceholder {
                    text: text.to_string(),
                    source: Box::new(e),
                }
            })?);
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(FleetConfigError::UnopenedBrace {
                text: text.to_string(),
            });
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template(pieces))
    }

    fn placeholder(inner: &str) -> Result<Piece, FleetConfigError> {
        let (expr, width) = match inner.split_once(':') {
            Some((expr, pad)) => {
                let digits = pad.strip_prefix('0').unwrap_or(pad);
                let width = digits
                    .parse::<usize>()
                    .ok()
                    .filter(|w| *w <= 20)
                    .ok_or_else(|| FleetConfigError::BadPadding {
                        pad: pad.to_string(),
                        inner: inner.to_string(),
                    })?;
                (expr.trim(), width)
            }
            None => (inner.trim(), 0),
        };
        let divisor = |n: &str| {
            n.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| FleetConfigError::NotPositive {
                    n: n.to_string(),
                    inner: inner.to_string(),
                })
        };
        let op = if expr == "i" {
            Op::Same
        } else if let Some(n) = expr
            .strip_prefix('i')
            .and_then(|e| e.trim().strip_prefix('%'))
        {
            Op::Modulo(divisor(n)?)
        } else if let Some(n) = expr
            .strip_prefix('i')
            .and_then(|e| e.trim().strip_prefix('/'))
        {
            Op::Divide(divisor(n)?)
        } else {
            return Err(FleetConfigError::UnknownPlaceholder {
                inner: inner.to_string(),
            });
        };
        Ok(Piece::Index { op, width })
    }

    fn render(&self, i: u32) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Index { op, width } => {
                    let v = match op {
                        Op::Same => i,
                        Op::Modulo(n) => i % n,
                        Op::Divide(n) => i / n,
                    };
                    out.push_str(&format!("{v:0width$}"));
                }
            }
        }
        out
    }
}

fn check_name(name: &str) -> Result<(), FleetConfigError> {
    if is_dns_label(name) {
        Ok(())
    } else {
        Err(FleetConfigError::BadName(name.to_string()))
    }
}

/// Kubernetes label syntax: `[prefix/]name` keys, values of at most 63 characters.
fn check_label(key: &str, value: &str) -> Result<(), FleetConfigError> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok =
        prefix.is_none_or(|p| !p.is_empty() && p.len() <= 253 && p.split('.').all(is_dns_label));
    if !prefix_ok || !is_label_segment(name, false) {
        return Err(FleetConfigError::BadLabelKey(key.to_string()));
    }
    if !is_label_segment(value, true) {
        return Err(FleetConfigError::BadLabelValue {
            key: key.to_string(),
            value: value.to_string(),
        });
    }
    Ok(())
}

fn is_label_segment(s: &str, may_be_empty: bool) -> bool {
    if s.is_empty() {
        return may_be_empty;
    }
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    s.len() <= 63
        && s.bytes()
            .all(|b| alnum(b) || matches!(b, b'-' | b'_' | b'.'))
        && s.bytes().next().is_some_and(alnum)
        && s.bytes().last().is_some_and(alnum)
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_fleet_is_the_seeds_fleet() {
        let fleet = demo_fleet();
        let names: Vec<_> = fleet.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["member1", "member2", "member3"]);
        assert_eq!(fleet[0].labels["environment"], "canary");
        assert_eq!(fleet[0].labels["order"], "2");
        assert_eq!(fleet[1].labels.len(), 1);
        assert_eq!(fleet[2].labels["order"], "1");
    }

    #[test]
    fn member_flags_parse_and_bad_ones_say_why() {
        let m = parse("eu-1:region=westeurope, tier = gold").expect("parses");
        assert_eq!(m.name, "eu-1");
        assert_eq!(m.labels["tier"], "gold");
        assert_eq!(parse("solo").expect("parses").labels.len(), 0);
        assert!(parse("Member1")
            .unwrap_err()
            .to_string()
            .contains("DNS label"));
        assert!(parse("m:env")
            .unwrap_err()
            .to_string()
            .contains("key=value"));
    }

    #[test]
    fn a_file_lists_members_and_generates_groups() {
        let fleet = parse_file(
            r#"
members:
  - name: member1
    labels: {environment: canary, order: 2}
    region: eastus
groups:
  - count: 40
    start: 1
    name: "m{i:03}"
    region: westeurope
    lightweight: true
    labels:
      stage: "s{i%20}"
      order: "{i}"
      block: "b{i/10}"
"#,
        )
        .expect("parses");
        assert_eq!(fleet.len(), 41);
        assert_eq!(fleet[0].name, "member1");
        assert_eq!(fleet[0].labels["order"], "2");
        assert_eq!(fleet[0].region.as_deref(), Some("eastus"));
        assert!(!fleet[0].lightweight);
        let m = &fleet[1];
        assert_eq!(m.name, "m001");
        assert_eq!(
            (
                m.labels["stage"].as_str(),
                m.labels["order"].as_str(),
                m.labels["block"].as_str()
            ),
            ("s1", "1", "b0")
        );
        assert!(m.lightweight);
        assert_eq!(m.region.as_deref(), Some("westeurope"));
        let last = &fleet[40];
        assert_eq!(
            (last.name.as_str(), last.labels["stage"].as_str()),
            ("m040", "s0")
        );
        let stages: std::collections::BTreeSet<_> = fleet[1..]
            .iter()
            .map(|m| m.labels["stage"].clone())
            .collect();
        assert_eq!(stages.len(), 20);
    }

    #[test]
    fn the_top_level_lightweight_is_the_default_of_every_entry() {
        let fleet = parse_file(
            "lightweight: true\nmembers:\n  - name: a\n  - name: b\n    lightweight: false\n",
        )
        .expect("parses");
        assert_eq!(
            fleet.iter().map(|m| m.lightweight).collect::<Vec<_>>(),
            [true, false]
        );
        assert!(parse_file("").expect("empty is fine").is_empty());
    }

    #[test]
    fn bad_files_say_what_is_wrong_and_where() {
        let cases = [
            ("members:\n  - name: Upper\n", "members[0].name"),
            (
                "members:\n  - name: a\n  - name: a\n",
                "members[1]: member name \"a\" is already used by members[0]",
            ),
            (
                "groups:\n  - count: 3\n    name: \"m{j}\"\n",
                "groups[0].name",
            ),
            (
                "groups:\n  - count: 3\n    name: \"m{i%0}\"\n",
                "not a positive integer",
            ),
            (
                "groups:\n  - count: 3\n    name: \"m{i\"\n",
                "without a closing",
            ),
            (
                "groups:\n  - count: 3\n    name: \"m\"\n",
                "groups[0] (i = 1): member name \"m\" is already used by groups[0] (i = 0)",
            ),
            (
                "groups:\n  - count: 2\n    name: \"m{i}\"\n    labels: {stage: \"-{i}\"}\n",
                "groups[0].labels (i = 0)",
            ),
            ("members:\n  - name: a\n    lables: {}\n", "lables"),
            (
                "members:\n  - name: a\n    labels: {\"bad key!\": x}\n",
                "label key",
            ),
        ];
        for (text, want) in cases {
            let err = parse_file(text).expect_err(text).to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn templates_render_padding_modulo_and_division() {
        let t = Template::parse("x{i:04}-{i%3}-{i/2:02}").expect("parses");
        assert_eq!(t.render(7), "x0007-1-03");
        assert_eq!(Template::parse("plain").expect("parses").render(3), "plain");
        assert!(Template::parse("a}b").is_err());
    }

    #[test]
    fn the_example_file_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet.yaml");
        let fleet = load(&path).expect("the example is valid");
        assert!(fleet.iter().any(|m| m.name == "member1"));
        assert!(fleet.iter().any(|m| m.lightweight));
    }

    #[test]
    fn members_and_groups_carry_their_simulated_cluster() {
        let fleet = parse_file(
            "members:\n  - name: a\n    updateGroup: group-1a\n    kubernetesVersion: 1.24.9\n    upgradeTime: 30s\n    maintenanceWindow: {dayOfWeek: Saturday, startTime: \"02:00\", durationHours: 4}\n    nodePools:\n      - {name: system, nodeImageVersion: AzureLinux-V2gen2-202401.09.0}\ngroups:\n  - count: 2\n    name: \"g{i}\"\n    updateGroup: \"group-{i}\"\n",
        )
        .expect("parses");
        let a = &fleet[0];
        assert_eq!(
            a.labels.get(UPDATE_GROUP_LABEL).map(String::as_str),
            Some("group-1a")
        );
        assert_eq!(a.cluster.kubernetes_version, "1.24.9");
        assert_eq!(a.cluster.upgrade_time, std::time::Duration::from_secs(30));
        assert_eq!(a.cluster.node_pools[0].name, "system");
        assert_eq!(
            a.cluster
                .maintenance_window
                .as_ref()
                .map(|w| w.duration_hours),
            Some(4)
        );
        assert_eq!(
            fleet[2].labels.get(UPDATE_GROUP_LABEL).map(String::as_str),
            Some("group-1")
        );
        assert_eq!(fleet[2].cluster, SimulatedCluster::default());
        for (bad, want) in [
            ("members:\n  - name: a\n    kubernetesVersion: 1.26\n", "members[0]: kubernetesVersion: \"1.26\" must be an exact version"),
            ("members:\n  - name: a\n    upgradeTime: soon\n", "members[0]: upgradeTime: \"soon\""),
            ("members:\n  - name: a\n    nodePools: [{name: p, nodeImageVersion: nodash}]\n", "members[0]: nodePools: invalid node image version"),
            ("members:\n  - name: a\n    maintenanceWindow: {startTime: \"25:00\", durationHours: 4}\n", "members[0]: maintenanceWindow:"),
            ("members:\n  - name: a\n    kubernetesVersoin: 1.26.0\n", "kubernetesVersoin"),
        ] {
            let err = parse_file(bad).expect_err(bad).to_string();
            assert!(err.contains(want), "{bad}: {err}");
        }
    }
}
