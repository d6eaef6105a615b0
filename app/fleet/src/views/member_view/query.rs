//! One page of the Fleet page: the rows that match a query (name search, label selector, health,
//! placement), cut to a page, with counts over the whole fleet. Pure, so the server answers a
//! page without shipping the fleet, and the rules are tested here.
//!
//! **Stale** means the member agent has not been heard from for more than
//! [`STALE_AFTER_PERIODS`] heartbeat periods (`spec.heartbeatPeriodSeconds`, default 60): three
//! missed beats, jitter included, is no longer lateness. KubeFleet's scheduler has a fixed rule of
//! its own (a cluster with no heartbeat for more than 5 minutes is not eligible, spec
//! placement-extras §3.2); with the default period three beats are 3 minutes, so the page says
//! "stale" before the scheduler stops picking the cluster. A joined member that never reported a
//! heartbeat is stale too.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use serde::{Deserialize, Serialize};

use super::MemberRow;
use crate::types::label_selector::{self, SelectorError};

/// Rows per page.
pub const PAGE_SIZE: usize = 50;
/// A member is stale after this many heartbeat periods without a heartbeat.
pub const STALE_AFTER_PERIODS: u32 = 3;

/// A member's health as the page shows it; the three are disjoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Health {
    /// Joined, and its agent beat recently.
    Joined,
    /// Joined, but its agent has been silent for more than [`STALE_AFTER_PERIODS`] periods.
    Stale,
    /// Not joined: left, failing to join, or not reported yet.
    NotJoined,
}

impl Health {
    pub const ALL: [Health; 3] = [Health::Joined, Health::Stale, Health::NotJoined];

    /// The URL parameter value (`?health=`).
    pub fn param(self) -> &'static str {
        match self {
            Health::Joined => "joined",
            Health::Stale => "stale",
            Health::NotJoined => "not-joined",
        }
    }

    pub fn from_param(value: &str) -> Option<Self> {
        Health::ALL.into_iter().find(|h| h.param() == value.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Health::Joined => "Joined",
            Health::Stale => "Stale heartbeat",
            Health::NotJoined => "Not joined",
        }
    }

    /// A glyph that says the same as the colour (colour is never the only signal).
    pub fn icon(self) -> &'static str {
        match self {
            Health::Joined => "✓",
            Health::Stale => "⚠",
            Health::NotJoined => "✕",
        }
    }
}

/// How long `row`'s agent may be silent before it is stale.
pub fn stale_after(row: &MemberRow) -> chrono::Duration {
    chrono::Duration::seconds(
        i64::from(row.heartbeat_period_seconds.max(1)) * i64::from(STALE_AFTER_PERIODS),
    )
}

/// The member's health at `now`.
pub fn health(row: &MemberRow, now: DateTime<Utc>) -> Health {
    if row.joined != Some(true) {
        return Health::NotJoined;
    }
    match row.last_seen {
        Some(seen) if now - seen <= stale_after(row) => Health::Joined,
        _ => Health::Stale,
    }
}

/// What the page asks for; every field is a URL query parameter (`?q=&labels=&health=&placement=&page=`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FleetQuery {
    /// Part of the member's name, any case.
    #[serde(default)]
    pub q: String,
    /// A label selector in kubectl's grammar: `env=prod,region in (east,west),!canary`.
    #[serde(default)]
    pub labels: String,
    /// `joined`, `stale`, `not-joined`, or empty for all.
    #[serde(default)]
    pub health: String,
    /// Only members a placement (by name, `namespace/name` if namespaced) has a binding on.
    #[serde(default)]
    pub placement: String,
    /// 1-based; out-of-range pages show the nearest one.
    #[serde(default)]
    pub page: usize,
}

/// One placement over the whole fleet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementSummary {
    pub placement: String,
    /// Members with a binding of it.
    pub clusters: usize,
    /// Of those, the ones whose binding is `Available` at its generation.
    pub available: usize,
    /// Clusters per snapshot index, lowest index first; `None` (not bound yet) last.
    pub by_index: Vec<IndexCount>,
}

impl PlacementSummary {
    /// Clusters not available yet (not bound, applying, or failing).
    pub fn not_yet(&self) -> usize {
        self.clusters - self.available
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexCount {
    pub index: Option<String>,
    pub clusters: usize,
}

/// Counts over the whole fleet, whatever the query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetSummary {
    pub members: usize,
    pub joined: usize,
    pub stale: usize,
    pub not_joined: usize,
    pub placements: Vec<PlacementSummary>,
}

impl FleetSummary {
    pub fn count(&self, health: Health) -> usize {
        match health {
            Health::Joined => self.joined,
            Health::Stale => self.stale,
            Health::NotJoined => self.not_joined,
        }
    }
}

/// A row of the page with its health at the time of the answer (the server's clock decides,
/// never the browser's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRow {
    pub member: MemberRow,
    pub health: Health,
}

/// The answer to a [`FleetQuery`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetPage {
    /// At most [`PAGE_SIZE`] rows, by name.
    pub rows: Vec<PageRow>,
    /// Members matching the query, on every page.
    pub matching: usize,
    /// The page shown (1-based) and how many there are (at least 1).
    pub page: usize,
    pub pages: usize,
    pub summary: FleetSummary,
    /// Why the label selector was refused; nothing matches then.
    pub selector_error: Option<String>,
    /// The server's time of the answer.
    pub now: DateTime<Utc>,
}

/// Parses a label selector in the string grammar of kubectl's `-l` (`=`, `==`, `!=`, `in`,
/// `notin`, `key`, `!key`, comma-separated) into a LabelSelector, checked as apimachinery does.
pub fn parse_selector(input: &str) -> Result<LabelSelector, SelectorError> {
    let bad = |why: &str| SelectorError(format!("cannot read the label selector {input:?}: {why}"));
    let mut expressions = Vec::new();
    let requirement =
        |key: &str, operator: &str, values: Option<Vec<String>>| LabelSelectorRequirement {
            key: key.trim().to_string(),
            operator: operator.to_string(),
            values,
        };
    for raw in split_top_level(input) {
        let part = raw.trim();
        if part.is_empty() {
            if input.trim().is_empty() {
                continue;
            }
            return Err(bad("an empty requirement (two commas in a row?)"));
        }
        let req = if let Some(key) = part.strip_prefix('!') {
            requirement(key, "DoesNotExist", None)
        } else if let Some(open) = part.find('(') {
            if !part.ends_with(')') {
                return Err(bad("a set must end with ')'"));
            }
            let head: Vec<&str> = part[..open].split_whitespace().collect();
            let [key, op] = head[..] else {
                return Err(bad("a set is written 'key in (a,b)' or 'key notin (a,b)'"));
            };
            let operator = match op {
                "in" => "In",
                "notin" => "NotIn",
                _ => return Err(bad("the set operators are 'in' and 'notin'")),
            };
            let values = part[open + 1..part.len() - 1]
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            requirement(key, operator, Some(values))
        } else if let Some((k, v)) = part.split_once("!=") {
            requirement(k, "NotIn", Some(vec![v.trim().to_string()]))
        } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
            requirement(k, "In", Some(vec![v.trim().to_string()]))
        } else {
            requirement(part, "Exists", None)
        };
        expressions.push(req);
    }
    let selector = LabelSelector {
        match_labels: None,
        match_expressions: Some(expressions),
    };
    label_selector::validate(&selector).map_err(|e| bad(&e.0))?;
    Ok(selector)
}

/// Splits on commas outside parentheses: `a in (x,y),b` is two requirements.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0usize, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// The whole fleet's counts at `now`.
pub fn summary(rows: &[MemberRow], now: DateTime<Utc>) -> FleetSummary {
    let mut summary = FleetSummary {
        members: rows.len(),
        ..FleetSummary::default()
    };
    // placement → (clusters, available, clusters per index)
    let mut placements: BTreeMap<&str, (usize, usize, BTreeMap<IndexKey, usize>)> = BTreeMap::new();
    for row in rows {
        match health(row, now) {
            Health::Joined => summary.joined += 1,
            Health::Stale => summary.stale += 1,
            Health::NotJoined => summary.not_joined += 1,
        }
        for p in &row.placements {
            let entry = placements.entry(p.placement.as_str()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(p.available == Some(true));
            *entry
                .2
                .entry(IndexKey::of(p.resource_index.as_deref()))
                .or_default() += 1;
        }
    }
    summary.placements = placements
        .into_iter()
        .map(
            |(placement, (clusters, available, by_index))| PlacementSummary {
                placement: placement.to_string(),
                clusters,
                available,
                by_index: by_index
                    .into_iter()
                    .map(|(key, clusters)| IndexCount {
                        index: key.index,
                        clusters,
                    })
                    .collect(),
            },
        )
        .collect();
    summary
}

/// Orders snapshot indexes numerically, with "not bound yet" after every index.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct IndexKey {
    unbound: bool,
    number: u64,
    index: Option<String>,
}

impl IndexKey {
    fn of(index: Option<&str>) -> Self {
        IndexKey {
            unbound: index.is_none(),
            number: index.and_then(|i| i.parse().ok()).unwrap_or(0),
            index: index.map(str::to_string),
        }
    }
}

/// The page `query` asks for, out of `rows` (sorted by name), at `now`.
pub fn page(rows: &[MemberRow], query: &FleetQuery, now: DateTime<Utc>) -> FleetPage {
    let needle = query.q.trim().to_lowercase();
    let health_filter = Health::from_param(&query.health);
    let placement = query.placement.trim();
    let (selector, selector_error) = if query.labels.trim().is_empty() {
        (None, None)
    } else {
        match parse_selector(&query.labels) {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e.0)),
        }
    };
    let keeps = |row: &MemberRow| {
        selector_error.is_none()
            && (needle.is_empty() || row.name.to_lowercase().contains(&needle))
            && health_filter.is_none_or(|h| health(row, now) == h)
            && (placement.is_empty() || row.placements.iter().any(|p| p.placement == placement))
            && selector
                .as_ref()
                .is_none_or(|s| label_selector::selector_matches(s, &row.labels).unwrap_or(false))
    };
    let matching: Vec<&MemberRow> = rows.iter().filter(|r| keeps(r)).collect();
    let pages = matching.len().div_ceil(PAGE_SIZE).max(1);
    let page = query.page.clamp(1, pages);
    FleetPage {
        rows: matching
            .iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .map(|r| PageRow {
                member: (*r).clone(),
                health: health(r, now),
            })
            .collect(),
        matching: matching.len(),
        page,
        pages,
        summary: summary(rows, now),
        selector_error,
        now,
    }
}

/// Changes whenever the page could show something different, but not when only heartbeat times
/// moved while every member kept its health: the live link tells open pages to reload when this
/// moves, so a fleet of 10,000 heartbeating members does not reload every page every second.
pub fn fingerprint(rows: &[MemberRow], now: DateTime<Utc>) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for row in rows {
        (
            &row.name,
            &row.labels,
            row.joined,
            row.heartbeat_period_seconds,
        )
            .hash(&mut hasher);
        (&row.node_count, &row.placements, health(row, now)).hash(&mut hasher);
        (&row.kubernetes_version, &row.node_images).hash(&mut hasher);
    }
    hasher.finish()
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
