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
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::super::PlacementOnMember;
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + seconds, 0)
            .single()
            .expect("time")
    }

    fn member(name: &str, labels: &[(&str, &str)], last_seen: i64) -> MemberRow {
        MemberRow {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            joined: Some(true),
            last_seen: Some(at(last_seen)),
            heartbeat_period_seconds: 60,
            ..MemberRow::default()
        }
    }

    fn on(placement: &str, index: Option<&str>, available: Option<bool>) -> PlacementOnMember {
        PlacementOnMember {
            placement: placement.into(),
            state: if index.is_some() {
                "Bound"
            } else {
                "Scheduled"
            }
            .into(),
            resource_index: index.map(str::to_string),
            available,
        }
    }

    #[test]
    fn stale_is_more_than_three_missed_periods_of_the_members_own_period() {
        let mut row = member("m", &[], 0);
        assert_eq!(
            health(&row, at(180)),
            Health::Joined,
            "exactly three periods: still joined"
        );
        assert_eq!(health(&row, at(181)), Health::Stale);
        row.heartbeat_period_seconds = 1;
        assert_eq!(health(&row, at(3)), Health::Joined);
        assert_eq!(
            health(&row, at(4)),
            Health::Stale,
            "a one-second period is stale after 3 s"
        );
        row.last_seen = None;
        assert_eq!(
            health(&row, at(0)),
            Health::Stale,
            "joined but never heard from"
        );
        row.joined = Some(false);
        assert_eq!(health(&row, at(0)), Health::NotJoined);
        row.joined = None;
        assert_eq!(
            health(&row, at(0)),
            Health::NotJoined,
            "unknown is not joined"
        );
    }

    #[test]
    fn selectors_read_kubectl_grammar_and_refuse_nonsense() {
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let sel = parse_selector("env=prod, region in (east, west),!canary").expect("parses");
        let yes = labels(&[("env", "prod"), ("region", "east")]);
        let canary = labels(&[("env", "prod"), ("region", "east"), ("canary", "1")]);
        let north = labels(&[("env", "prod"), ("region", "north")]);
        assert!(label_selector::selector_matches(&sel, &yes).expect("valid"));
        assert!(!label_selector::selector_matches(&sel, &canary).expect("valid"));
        assert!(!label_selector::selector_matches(&sel, &north).expect("valid"));

        let sel = parse_selector("env!=prod,tier notin (gold),zone").expect("parses");
        assert!(label_selector::selector_matches(&sel, &labels(&[("zone", "a")])).expect("valid"));
        assert!(!label_selector::selector_matches(
            &sel,
            &labels(&[("zone", "a"), ("env", "prod")])
        )
        .expect("valid"));
        assert!(!label_selector::selector_matches(
            &sel,
            &labels(&[("zone", "a"), ("tier", "gold")])
        )
        .expect("valid"));
        assert!(!label_selector::selector_matches(&sel, &labels(&[])).expect("valid"));

        for nonsense in [
            "env in (a",
            "env within (a)",
            "a,,b",
            "bad key=x",
            "env=no spaces",
        ] {
            assert!(
                parse_selector(nonsense).is_err(),
                "{nonsense:?} must be refused"
            );
        }
    }

    fn fleet() -> Vec<MemberRow> {
        let mut rows: Vec<MemberRow> = (0..120)
            .map(|i| {
                let env = if i % 2 == 0 { "prod" } else { "staging" };
                let mut row = member(&format!("member-{i:03}"), &[("env", env)], 0);
                // 0..100 run web: 0..60 on index 2 (available), 60..100 still on 1 (not yet).
                if i < 60 {
                    row.placements.push(on("web", Some("2"), Some(true)));
                } else if i < 100 {
                    row.placements.push(on("web", Some("1"), Some(false)));
                }
                row
            })
            .collect();
        rows[5].joined = Some(false);
        rows[7].last_seen = Some(at(-1000));
        rows[9].placements.push(on("apps/api", None, None));
        rows
    }

    #[test]
    fn a_page_holds_fifty_matching_rows_and_counts_cover_the_whole_fleet() {
        let rows = fleet();
        let now = at(10);
        let first = page(&rows, &FleetQuery::default(), now);
        assert_eq!((first.matching, first.page, first.pages), (120, 1, 3));
        assert_eq!(first.rows.len(), PAGE_SIZE);
        assert_eq!(first.rows[0].member.name, "member-000");
        let last = page(
            &rows,
            &FleetQuery {
                page: 99,
                ..FleetQuery::default()
            },
            now,
        );
        assert_eq!(
            (last.page, last.rows.len()),
            (3, 20),
            "past the end: the last page"
        );
        assert_eq!(last.rows[0].member.name, "member-100");
        let s = &first.summary;
        assert_eq!(
            (s.members, s.joined, s.stale, s.not_joined),
            (120, 118, 1, 1)
        );
        let web = &s.placements[1];
        assert_eq!(
            (
                web.placement.as_str(),
                web.clusters,
                web.available,
                web.not_yet()
            ),
            ("web", 100, 60, 40)
        );
        let indexes: Vec<(Option<&str>, usize)> = web
            .by_index
            .iter()
            .map(|c| (c.index.as_deref(), c.clusters))
            .collect();
        assert_eq!(indexes, [(Some("1"), 40), (Some("2"), 60)]);
        let api = &s.placements[0];
        assert_eq!(
            (
                api.placement.as_str(),
                api.clusters,
                api.by_index[0].index.clone()
            ),
            ("apps/api", 1, None)
        );

        // Filters narrow the rows, never the counts.
        let q = |q: FleetQuery| page(&rows, &q, now);
        let prod = q(FleetQuery {
            labels: "env=prod".into(),
            ..FleetQuery::default()
        });
        assert_eq!((prod.matching, prod.pages), (60, 2));
        assert_eq!(prod.summary, first.summary);
        assert!(prod.rows.iter().all(|r| r.member.labels["env"] == "prod"));
        let searched = q(FleetQuery {
            q: "MEMBER-01".into(),
            ..FleetQuery::default()
        });
        assert_eq!(searched.matching, 10, "member-010..019, any case");
        let stale = q(FleetQuery {
            health: "stale".into(),
            ..FleetQuery::default()
        });
        assert_eq!(
            stale
                .rows
                .iter()
                .map(|r| (r.member.name.as_str(), r.health))
                .collect::<Vec<_>>(),
            [("member-007", Health::Stale)]
        );
        let gone = q(FleetQuery {
            health: "not-joined".into(),
            ..FleetQuery::default()
        });
        assert_eq!(
            gone.rows
                .iter()
                .map(|r| (r.member.name.as_str(), r.health))
                .collect::<Vec<_>>(),
            [("member-005", Health::NotJoined)]
        );
        let api = q(FleetQuery {
            placement: "apps/api".into(),
            ..FleetQuery::default()
        });
        assert_eq!(api.matching, 1);
        let both = q(FleetQuery {
            labels: "env=staging".into(),
            placement: "web".into(),
            page: 2,
            ..FleetQuery::default()
        });
        assert_eq!(
            (both.matching, both.page, both.rows.len()),
            (50, 1, 50),
            "page 2 of one page is page 1"
        );
        let bad = q(FleetQuery {
            labels: "env in (".into(),
            ..FleetQuery::default()
        });
        assert_eq!(bad.matching, 0);
        assert!(bad.selector_error.is_some());
        assert_eq!(bad.summary, first.summary, "the counts stay");
    }

    #[test]
    fn fingerprint_ignores_heartbeats_but_not_health_labels_or_placements() {
        let rows = fleet();
        let now = at(10);
        let base = fingerprint(&rows, now);
        let mut beat = rows.clone();
        beat[0].last_seen = Some(at(9));
        assert_eq!(
            fingerprint(&beat, now),
            base,
            "a heartbeat alone changes nothing shown"
        );
        assert_ne!(
            fingerprint(&rows, at(181)),
            base,
            "members going stale change it"
        );
        let mut relabelled = rows.clone();
        relabelled[3].labels.insert("tier".into(), "gold".into());
        assert_ne!(fingerprint(&relabelled, now), base);
        let mut moved = rows.clone();
        moved[70].placements[0] = on("web", Some("2"), Some(true));
        assert_ne!(fingerprint(&moved, now), base);
    }
}
