//! Scale simulation (issue 5): a whole embedded fleetdeck in-process with 10,000 lightweight
//! simulated members (from a fleet config file, as `--fleet-config` reads it), a PickAll External
//! ClusterResourcePlacement selecting a namespace with a ConfigMap, and a
//! ClusterStagedUpdateStrategy of 20 stages (one `stage` label value each, sorted by `order`,
//! `maxConcurrency: 25%`, no gates). For each round it changes the ConfigMap, creates a run and
//! reports the time from creating the run to `Initialized=True` (the plan) and to
//! `Succeeded=True` (the rollout), the hub writes it took, and at the end the peak RSS
//! (`VmHWM`). Then it checks every member's own store for the ConfigMap with the last round's
//! data: nothing is taken on trust.
//!
//! Run: `cargo bench -p server --bench scale` (release). Smaller fleets for quick runs:
//! `FLEETDECK_SCALE_MEMBERS=1000`; also `FLEETDECK_SCALE_STAGES` (20), `FLEETDECK_SCALE_ROUNDS`
//! (2) and `FLEETDECK_SCALE_TIMEOUT_SECS` (3600). No timing is asserted anywhere.

use std::time::{Duration, Instant};

use app::fleet::{ClusterResourceBinding, ClusterSchedulingPolicySnapshot, ClusterStagedUpdateRun};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use server::cli::ServeArgs;

fn env_or(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number")),
        Err(_) => default,
    }
}

/// A line of /proc/self/status in kB (`VmRSS`, `VmHWM`).
fn proc_status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

#[tokio::main]
async fn main() {
    let members = env_or("FLEETDECK_SCALE_MEMBERS", 10_000) as usize;
    let stages = env_or("FLEETDECK_SCALE_STAGES", 20) as usize;
    let rounds = env_or("FLEETDECK_SCALE_ROUNDS", 2) as usize;
    let timeout = Duration::from_secs(env_or("FLEETDECK_SCALE_TIMEOUT_SECS", 3600));
    let dir = tempfile::tempdir().expect("temp dir");
    let fleet_config = dir.path().join("fleet.yaml");
    std::fs::write(
        &fleet_config,
        format!(
            "lightweight: true\ngroups:\n  - count: {members}\n    name: \"m{{i:05}}\"\n    region: westeurope\n    labels:\n      stage: \"s{{i%{stages}}}\"\n      order: \"{{i}}\"\n"
        ),
    )
    .expect("write the fleet config");

    let rss_before = proc_status_kb("VmRSS");
    let clock = Instant::now();
    let running = server::serve::start(ServeArgs {
        fleet_config: Some(fleet_config),
        ..ServeArgs::ephemeral(dir.path())
    })
    .await
    .expect("fleetdeck starts");
    let rss_started = proc_status_kb("VmRSS");
    println!(
        "fleet: {members} lightweight members registered in {:.1} s; RSS {:.0} MB → {:.0} MB ({:.1} KB per member)",
        clock.elapsed().as_secs_f64(),
        mb(rss_before),
        mb(rss_started),
        rss_started.saturating_sub(rss_before) as f64 / members.max(1) as f64
    );

    let hub = running.client.clone();
    apply(
        &hub,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "scale"}}),
    )
    .await;
    apply(&hub, payload(0)).await;
    let clock = Instant::now();
    apply(&hub, json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
        "metadata": {"name": "scale"},
        "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "scale"}],
                 "policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}}))
    .await;
    let stage_list: Vec<_> = (0..stages)
        .map(|s| json!({"name": format!("stage{s}"), "labelSelector": {"matchLabels": {"stage": format!("s{s}")}},
                        "sortingLabelKey": "order", "maxConcurrency": "25%"}))
        .collect();
    apply(&hub, json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateStrategy",
        "metadata": {"name": "scale"}, "spec": {"stages": stage_list}}))
    .await;

    // Scheduling: every member gets a binding, then the policy snapshot says Scheduled (a run
    // created before that fails for good, spec §9.3 step 2).
    let bindings: Api<ClusterResourceBinding> = Api::all(hub.clone());
    let snapshots: Api<ClusterSchedulingPolicySnapshot> = Api::all(hub.clone());
    let of_placement = ListParams::default().labels("kubernetes-fleet.io/parent-CRP=scale");
    loop {
        let n = bindings
            .list(&of_placement)
            .await
            .expect("bindings")
            .items
            .len();
        let scheduled = snapshots
            .list(&of_placement)
            .await
            .expect("policy snapshots")
            .items
            .iter()
            .any(|s| {
                s.status
                    .as_ref()
                    .and_then(|st| st.conditions.as_deref())
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Scheduled" && c.status == "True")
            });
        if n >= members && scheduled {
            break;
        }
        assert!(
            clock.elapsed() < timeout,
            "only {n} of {members} bindings after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "scheduling: placement created → {members} bindings, policy snapshot Scheduled in {:.1} s",
        clock.elapsed().as_secs_f64()
    );

    let runs: Api<ClusterStagedUpdateRun> = Api::all(hub.clone());
    let fleet_hub = running.hub.clone().expect("the embedded hub");
    for round in 1..=rounds {
        apply(&hub, payload(round)).await;
        let fleet_rv = fleet_hub.resource_version();
        let member_rv: u64 = running
            .members
            .iter()
            .map(|m| m.hub.resource_version())
            .sum();
        let name = format!("scale-{round}");
        let clock = Instant::now();
        apply(&hub, json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
            "metadata": {"name": name},
            "spec": {"placementName": "scale", "stagedRolloutStrategyName": "scale", "state": "Run"}}))
        .await;
        let mut initialized = None;
        let mut last_report = Instant::now();
        let succeeded = loop {
            let run = runs.get(&name).await.expect("run");
            let status = run.status.as_ref();
            let conditions = status
                .and_then(|s| s.conditions.clone())
                .unwrap_or_default();
            let find = |t: &str| conditions.iter().find(|c| c.type_ == t);
            if initialized.is_none() {
                match find("Initialized") {
                    Some(c) if c.status == "True" => initialized = Some(clock.elapsed()),
                    Some(c) => panic!("round {round}: initialization failed: {}", c.message),
                    None => {}
                }
            }
            match find("Succeeded") {
                Some(c) if c.status == "True" => break clock.elapsed(),
                Some(c) => panic!("round {round}: the run failed: {}", c.message),
                None => {}
            }
            if last_report.elapsed() > Duration::from_secs(10) {
                let done = status
                    .and_then(|s| s.stages_status.as_ref())
                    .into_iter()
                    .flatten()
                    .flat_map(|s| s.clusters.iter().flatten())
                    .filter(|c| {
                        c.conditions
                            .iter()
                            .flatten()
                            .any(|k| k.type_ == "Succeeded" && k.status == "True")
                    })
                    .count();
                let progressing = find("Progressing")
                    .map(|c| c.message.clone())
                    .unwrap_or_default();
                eprintln!(
                    "  round {round}: {:.0} s, {done}/{members} clusters succeeded ({progressing})",
                    clock.elapsed().as_secs_f64()
                );
                last_report = Instant::now();
            }
            assert!(
                clock.elapsed() < timeout,
                "round {round}: not done after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let fleet_writes = fleet_hub.resource_version() - fleet_rv;
        let member_writes = running
            .members
            .iter()
            .map(|m| m.hub.resource_version())
            .sum::<u64>()
            - member_rv;
        println!(
            "round {round}: run created → Initialized=True {:.2} s, → Succeeded=True {:.1} s; writes: {fleet_writes} on the fleet hub ({:.1} per member), {member_writes} on members",
            initialized.unwrap_or_default().as_secs_f64(),
            succeeded.as_secs_f64(),
            fleet_writes as f64 / members.max(1) as f64
        );
    }

    // Every member really holds the last round's ConfigMap.
    let want = payload(rounds)["data"].clone();
    let mut wrong = Vec::new();
    for member in &running.members {
        let cms: Api<ConfigMap> = Api::namespaced(member.client.clone(), "scale");
        let have = cms.get_opt("payload").await.expect("member get");
        let data = have.and_then(|cm| cm.data).map(|d| json!(d));
        if data.as_ref() != Some(&want) {
            wrong.push(member.config.name.clone());
        }
    }
    println!(
        "check: {} of {members} members hold the ConfigMap with the last round's data",
        members - wrong.len()
    );
    println!("peak RSS (VmHWM): {:.0} MB", mb(proc_status_kb("VmHWM")));
    // Where the engine's time went: reconciles and their summed duration, per controller.
    if let Some(engine) = &running.engine {
        for line in engine.metrics().encode().lines().filter(|l| {
            l.starts_with("controller_runtime_reconcile_total{")
                || l.starts_with("controller_runtime_reconcile_time_seconds_sum{")
        }) {
            println!("engine: {line}");
        }
    }
    assert!(
        wrong.is_empty(),
        "members without the expected ConfigMap: {:?}",
        &wrong[..wrong.len().min(10)]
    );
    running.shutdown();
    let _ = running.wait().await;
}

/// The ConfigMap every member must end up with; its data changes per round.
fn payload(round: usize) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "payload", "namespace": "scale"},
           "data": {"round": round.to_string(), "greeting": format!("hello from round {round}")}})
}

async fn apply(client: &kube::Client, object: serde_json::Value) {
    let api_version = object["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kind = object["kind"].as_str().unwrap_or_default().to_string();
    let (group, version) = api_version.split_once('/').unwrap_or(("", &api_version));
    let resource =
        kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(group, version, &kind));
    let api: Api<kube::api::DynamicObject> = match object["metadata"]["namespace"].as_str() {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let body: kube::api::DynamicObject = serde_json::from_value(object.clone()).expect("object");
    if api.get_opt(&name).await.expect("get").is_some() {
        api.patch(&name, &PatchParams::default(), &Patch::Merge(object))
            .await
            .expect("patch");
    } else {
        api.create(&PostParams::default(), &body)
            .await
            .expect("create");
    }
}
