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
    assert!(
        !label_selector::selector_matches(&sel, &labels(&[("zone", "a"), ("env", "prod")]))
            .expect("valid")
    );
    assert!(
        !label_selector::selector_matches(&sel, &labels(&[("zone", "a"), ("tier", "gold")]))
            .expect("valid")
    );
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
