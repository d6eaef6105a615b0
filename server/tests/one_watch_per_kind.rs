//! Issue 14, "one watch per kind per process": a whole embedded fleetdeck (engine, member agent,
//! dashboard views) keeps exactly one watch of each kind open on its fleet hub, however many of
//! its parts follow that kind. The hub counts its open watch streams per resource.

mod fleet_support;

use std::collections::BTreeMap;
use std::time::Duration;

use fleet_support::*;
use serde_json::json;

/// The fleet kinds some part of fleetdeck follows: the placement and run controllers, the member
/// agent, the dashboard's views.
const FOLLOWED: &[&str] = &[
    "memberclusters.cluster.kubernetes-fleet.io",
    "clusterresourceplacements.placement.kubernetes-fleet.io",
    "resourceplacements.placement.kubernetes-fleet.io",
    "clusterresourcebindings.placement.kubernetes-fleet.io",
    "resourcebindings.placement.kubernetes-fleet.io",
    "clusterstagedupdateruns.placement.kubernetes-fleet.io",
    "stagedupdateruns.placement.kubernetes-fleet.io",
    "clusterapprovalrequests.placement.kubernetes-fleet.io",
    "approvalrequests.placement.kubernetes-fleet.io",
    // The placement controller follows every selectable kind; two of them:
    "namespaces",
    "configmaps",
];

fn more_than_once(open: &BTreeMap<String, usize>) -> Vec<(&String, &usize)> {
    open.iter().filter(|(_, n)| **n > 1).collect()
}

#[tokio::test(start_paused = true)]
async fn a_running_fleetdeck_keeps_one_watch_per_kind_on_its_hub() {
    let fleet = Fleet::members(&[
        ("member1", "environment=staging"),
        ("member2", "environment=canary"),
    ])
    .await;
    let hub = fleet.running.hub.clone().expect("an embedded hub");

    // The whole fleet at work: a placement, a run rolling it out, the agent applying it.
    fleet.config_map("value1").await;
    fleet.external_placement().await;
    fleet
        .strategy(json!([{"name": "all", "labelSelector": {}}]))
        .await;
    fleet.run("example-run", None, "Run").await;
    fleet
        .wait_run("example-run", "Succeeded", is_succeeded)
        .await;
    for member in ["member1", "member2"] {
        fleet.wait_member_value(member, "value1").await;
    }

    // Every followed kind is watched (a watch that ends on its timeout is reopened at once, so
    // a kind may briefly read as not watched)...
    let open = eventually("every followed kind watched", || async {
        let open = hub.open_watches();
        if FOLLOWED.iter().all(|kind| open.contains_key(*kind)) {
            Ok(open)
        } else {
            Err(open)
        }
    })
    .await;
    assert!(
        more_than_once(&open).is_empty(),
        "kinds watched more than once: {:?} (all open watches: {open:#?})",
        more_than_once(&open)
    );
    // ... and no kind, followed or selectable, ever twice while the fleet runs on.
    for _ in 0..100 {
        let open = hub.open_watches();
        assert!(
            more_than_once(&open).is_empty(),
            "kinds watched more than once: {:?} (all open watches: {open:#?})",
            more_than_once(&open)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fleet.stop().await;
}
