//! The embedded members' agents beat: `lastReceivedHeartbeat` moves every
//! `heartbeatPeriodSeconds`, a changed period takes effect at once, and a stopped agent
//! (`sim.fleetdeck.dev/agent-stopped=true`) stops beating until the annotation goes.

use std::time::Duration;

use app::fleet::placement::member_cluster::MEMBER_AGENT;
use app::fleet::MemberCluster;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use server::cli::ServeArgs;
use server::members::heartbeat::STOPPED_ANNOTATION;

fn heartbeat(m: &MemberCluster) -> Option<String> {
    m.status
        .as_ref()?
        .agent(MEMBER_AGENT)?
        .last_received_heartbeat
        .as_ref()
        .map(|t| t.0.to_string())
}

/// The member's heartbeat once it differs from `before`; bounded so a broken agent fails the
/// test instead of hanging it (not a timing assertion: beats come every second here).
async fn next_beat(api: &Api<MemberCluster>, before: &str) -> String {
    for _ in 0..300 {
        let now = heartbeat(&api.get("east").await.expect("get")).unwrap_or_default();
        if now != before {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no heartbeat after {before}");
}

#[tokio::test]
async fn members_beat_at_their_period_and_a_stopped_agent_falls_silent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = server::serve::start(ServeArgs {
        member: vec!["east:environment=canary".into()],
        ..ServeArgs::ephemeral(dir.path())
    })
    .await
    .expect("starts");
    let api: Api<MemberCluster> = Api::all(running.client.clone());
    let registered =
        heartbeat(&api.get("east").await.expect("get")).expect("registered with a beat");

    // The default period is 60 s; one second is taken up at once.
    api.patch(
        "east",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"heartbeatPeriodSeconds": 1}})),
    )
    .await
    .expect("period");
    let first = next_beat(&api, &registered).await;
    let second = next_beat(&api, &first).await;
    assert!(second > first, "{first} then {second}");
    let member = api.get("east").await.expect("get");
    let joined = member
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Joined"))
        .expect("joined");
    assert_eq!(
        joined.observed_generation, member.metadata.generation,
        "conditions re-stamped to the new generation"
    );

    // Stopped: after at most one beat already under way, silence.
    api.patch(
        "east",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {STOPPED_ANNOTATION: "true"}}})),
    )
    .await
    .expect("stop");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let last = heartbeat(&api.get("east").await.expect("get")).expect("beat");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        heartbeat(&api.get("east").await.expect("get")).as_deref(),
        Some(last.as_str()),
        "a stopped agent does not beat"
    );

    // Started again: it beats at once.
    api.patch(
        "east",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {STOPPED_ANNOTATION: null}}})),
    )
    .await
    .expect("start");
    next_beat(&api, &last).await;
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}
