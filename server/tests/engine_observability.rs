//! Observability of a real rollout on a whole fleetdeck: the spec §11 metrics and the reconcile
//! metrics on the dashboard's `/metrics`, and the Kubernetes Events of the run's transitions as
//! `kubectl describe` lists them.

mod fleet_support;

use app::fleet::types::condition::find_condition;
use app::fleet::ClusterStagedUpdateRun;
use fleet_support::*;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, DeleteParams, ListParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET /metrics` on the dashboard, over TCP as Prometheus scrapes it; returns the body.
async fn scrape(fleet: &Fleet) -> String {
    let mut stream = tokio::net::TcpStream::connect(fleet.running.dashboard_addr)
        .await
        .expect("connect to the dashboard");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: fleetdeck\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("response");
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    body.to_string()
}

/// The value of the series `name{labels}` (labels exactly as printed), if present.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn finished(run: &ClusterStagedUpdateRun, type_: &str) -> bool {
    run.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .and_then(|c| find_condition(c, type_))
        .is_some()
}

#[tokio::test(start_paused = true)]
async fn a_rollout_is_visible_in_metrics_and_events_and_its_series_go_with_it() {
    let fleet = Fleet::start().await;
    fleet.config_map("value1").await;
    fleet.external_placement().await;
    fleet.seed_strategy().await;
    let _user = fleet.approve_everything();
    fleet.run("runa", None, "Run").await;
    fleet
        .wait_run("runa", "Succeeded", |r| finished(r, "Succeeded"))
        .await;
    // A run whose strategy does not exist: a user error.
    fleet
        .apply(serde_json::json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
            "metadata": {"name": "broken"},
            "spec": {"placementName": PLACEMENT, "stagedRolloutStrategyName": "missing", "state": "Run"}}))
        .await;
    fleet
        .wait_run("broken", "Initialized", |r| finished(r, "Initialized"))
        .await;

    let body = scrape(&fleet).await;
    let status = "fleet_workload_update_run_status_last_timestamp_seconds";
    let succeeded = format!(
        r#"{status}{{namespace="",name="runa",state="Run",condition="Succeeded",status="True",reason="UpdateRunSucceeded",failureType="none"}}"#
    );
    let now = k8s_openapi::jiff::Timestamp::now().as_second() as f64;
    let at = sample(&body, &succeeded).unwrap_or_else(|| panic!("no {succeeded} in\n{body}"));
    assert!(at > 1.0e9 && at <= now + 1.0, "a Unix time: {at}");
    for (condition, st, reason) in [
        ("Progressing", "True", "UpdateRunProgressing"),
        ("Progressing", "False", "UpdateRunWaiting"),
    ] {
        let series = format!(
            r#"{status}{{namespace="",name="runa",state="Run",condition="{condition}",status="{st}",reason="{reason}",failureType="none"}}"#
        );
        assert!(sample(&body, &series).is_some(), "no {series} in\n{body}");
    }
    let broken = format!(
        r#"{status}{{namespace="",name="broken",state="Run",condition="Initialized",status="False",reason="UpdateRunInitializedFailed",failureType="user_error"}}"#
    );
    assert!(sample(&body, &broken).is_some(), "no {broken} in\n{body}");

    let latency = "fleet_workload_update_run_approval_request_latency_seconds";
    for task in ["afterStage", "beforeStage"] {
        let count = format!(r#"{latency}_count{{namespace="",name="runa",taskType="{task}"}}"#);
        assert_eq!(sample(&body, &count), Some(1.0), "{count} in\n{body}");
        for le in [
            "60.0", "300.0", "900.0", "1800.0", "3600.0", "7200.0", "21600.0", "43200.0",
            "86400.0", "+Inf",
        ] {
            let bucket = format!(
                r#"{latency}_bucket{{le="{le}",namespace="",name="runa",taskType="{task}"}}"#
            );
            assert_eq!(sample(&body, &bucket), Some(1.0), "{bucket} in\n{body}");
        }
    }
    let duration = "fleet_workload_update_run_stage_cluster_updating_duration_seconds";
    let count = format!(r#"{duration}_count{{namespace="",name="runa"}}"#);
    assert_eq!(
        sample(&body, &count),
        Some(2.0),
        "one per stage: {count} in\n{body}"
    );
    for le in [
        "15.0", "30.0", "60.0", "120.0", "300.0", "600.0", "1800.0", "3600.0", "+Inf",
    ] {
        let bucket = format!(r#"{duration}_bucket{{le="{le}",namespace="",name="runa"}}"#);
        assert_eq!(sample(&body, &bucket), Some(2.0), "{bucket} in\n{body}");
    }

    for controller in [
        "clusterstagedupdaterun-controller",
        "clusterresourceplacement-controller",
    ] {
        let total = format!(
            r#"controller_runtime_reconcile_total{{controller="{controller}",result="success"}}"#
        );
        assert!(
            sample(&body, &total).is_some_and(|n| n >= 1.0),
            "{total} in\n{body}"
        );
        let time = format!(
            r#"controller_runtime_reconcile_time_seconds_count{{controller="{controller}"}}"#
        );
        assert!(
            sample(&body, &time).is_some_and(|n| n >= 1.0),
            "{time} in\n{body}"
        );
    }
    let errors = r#"controller_runtime_reconcile_errors_total{controller="clusterstagedupdaterun-controller"}"#;
    assert!(sample(&body, errors).is_some(), "{errors} in\n{body}");

    // The run's transitions as events, in order, on the run (cluster scope: namespace default).
    let events: Api<Event> = Api::namespaced(fleet.hub.clone(), "default");
    let mut listed = events
        .list(
            &ListParams::default()
                .fields("involvedObject.name=runa,involvedObject.kind=ClusterStagedUpdateRun"),
        )
        .await
        .expect("events")
        .items;
    listed.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let seen: Vec<(String, String, String)> = listed
        .iter()
        .map(|e| {
            (
                e.type_.clone().unwrap_or_default(),
                e.reason.clone().unwrap_or_default(),
                e.message.clone().unwrap_or_default(),
            )
        })
        .collect();
    let normal = |reason: &str, message: &str| {
        (
            "Normal".to_string(),
            reason.to_string(),
            message.to_string(),
        )
    };
    assert_eq!(
        seen,
        [
            normal("Initialized", "The UpdateRun initialized successfully"),
            normal(
                "StageStarted",
                "Stage staging started updating its clusters"
            ),
            normal(
                "WaitingForApproval",
                "Stage staging waits for approval request runa-after-staging (after the stage)"
            ),
            normal("StageSucceeded", "Stage staging completed successfully"),
            normal(
                "WaitingForApproval",
                "Stage canary waits for approval request runa-before-canary (before the stage)"
            ),
            normal("StageStarted", "Stage canary started updating its clusters"),
            normal("StageSucceeded", "Stage canary completed successfully"),
            normal("Succeeded", "All stages are completed successfully"),
        ]
    );
    let broken_events = events
        .list(&ListParams::default().fields("involvedObject.name=broken"))
        .await
        .expect("events")
        .items;
    assert_eq!(
        broken_events
            .iter()
            .map(|e| (
                e.type_.clone().unwrap_or_default(),
                e.reason.clone().unwrap_or_default()
            ))
            .collect::<Vec<_>>(),
        [("Warning".to_string(), "InitializationFailed".to_string())]
    );

    // kubectl describe lists them (it reads core/v1 events by involvedObject).
    let kubectl = std::path::Path::new("/usr/bin/kubectl");
    if kubectl.exists() {
        let cache = tempfile::tempdir().expect("cache dir");
        let output = tokio::process::Command::new(kubectl)
            .arg("--kubeconfig")
            .arg(&fleet.running.kubeconfig)
            .arg("--cache-dir")
            .arg(cache.path())
            .args(["describe", "clusterstagedupdaterun", "runa"])
            .output()
            .await
            .expect("kubectl runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let events = stdout
            .split_once("Events:")
            .map(|(_, e)| e)
            .unwrap_or_default();
        for reason in [
            "Initialized",
            "StageStarted",
            "WaitingForApproval",
            "StageSucceeded",
            "Succeeded",
        ] {
            assert!(
                events.contains(reason),
                "{reason} missing from describe:\n{stdout}"
            );
        }
    } else {
        eprintln!("SKIPPED the kubectl describe check: /usr/bin/kubectl is not installed");
    }

    // Deleting a run drops its series (spec §11).
    let runs: Api<ClusterStagedUpdateRun> = Api::all(fleet.hub.clone());
    runs.delete("runa", &DeleteParams::default())
        .await
        .expect("delete");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let body = scrape(&fleet).await;
        if !body.contains(r#"name="runa""#) {
            assert!(
                body.contains(r#"name="broken""#),
                "other runs keep theirs:\n{body}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "runa's series stayed:\n{body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    fleet.stop().await;
}
