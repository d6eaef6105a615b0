//! Snapshot diff bench (issue 16: "diff size/time for a 1 MB snapshot").
//!
//! Builds two selections of ConfigMaps and Deployments of about 1 MB of JSON each (the second with
//! one resource in ten changed, one removed and one added, and server-managed noise on every
//! object), then times, `FLEETDECK_DIFF_ROUNDS` times (default 30, after 3 unmeasured):
//! - `diff_resources` (YAML rendering of both sides, noise hidden, matching, line diffs), and
//! - the unified and side-by-side texts of every changed resource (what the page shows),
//!
//! and prints p50/p95 with the sizes. Run: `cargo bench -p fleet --bench snapshot_diff`.

use std::time::{Duration, Instant};

use fleet::placement::snapshot_diff::{diff_resources, summary, Change, DiffOptions};
use serde_json::{json, Value};

fn config_map(i: usize, version: &str) -> Value {
    let data: serde_json::Map<String, Value> = (0..20)
        .map(|k| {
            (
                format!("key-{k}"),
                json!(format!("{version}-{i}-{k}-{}", "x".repeat(60))),
            )
        })
        .collect();
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("config-{i}"), "namespace": "app",
                     "labels": {"app": "web", "tier": format!("t{}", i % 5)}},
        "data": data,
    })
}

fn deployment(i: usize, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("web-{i}"), "namespace": "app"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": format!("web-{i}")}},
            "template": {"metadata": {"labels": {"app": format!("web-{i}")}},
                "spec": {"containers": [{"name": "web", "image": image,
                    "ports": [{"containerPort": 8080}],
                    "env": (0..8).map(|e| json!({"name": format!("E{e}"), "value": format!("v{e}")})).collect::<Vec<_>>(),
                    "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}}]}}},
    })
}

fn with_noise(mut v: Value, i: usize) -> Value {
    v["metadata"]["uid"] = json!(format!("0000-{i}"));
    v["metadata"]["resourceVersion"] = json!(format!("{}", 1000 + i));
    v["metadata"]["managedFields"] = json!([{"manager": "kubectl", "operation": "Apply"}]);
    v["status"] = json!({"observedGeneration": 1});
    v
}

fn selection(version: &str, target_bytes: usize, changed_every: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut bytes = 0;
    let mut i = 0;
    while bytes < target_bytes {
        let v = if changed_every > 0 && i % changed_every == 0 {
            version
        } else {
            "v1"
        };
        let r = if i % 4 == 0 {
            deployment(i, &format!("registry.example/web:{v}"))
        } else {
            config_map(i, v)
        };
        let r = with_noise(r, i);
        bytes += serde_json::to_vec(&r).map_or(0, |b| b.len());
        out.push(r);
        i += 1;
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let rounds: usize = std::env::var("FLEETDECK_DIFF_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let old = selection("v1", 1 << 20, 0);
    let mut new = selection("v2", 1 << 20, 10);
    new.remove(1);
    new.push(with_noise(config_map(99_999, "v2"), 99_999));
    let size = |list: &[Value]| {
        list.iter()
            .map(|r| serde_json::to_vec(r).map_or(0, |b| b.len()))
            .sum::<usize>()
    };
    println!(
        "old: {} resources, {} bytes; new: {} resources, {} bytes",
        old.len(),
        size(&old),
        new.len(),
        size(&new)
    );

    let mut diff_times = Vec::new();
    let mut render_times = Vec::new();
    let mut shown = 0;
    for round in 0..rounds + 3 {
        let started = Instant::now();
        let diffs = diff_resources(&old, &new, DiffOptions::default());
        let diffed = started.elapsed();
        let started = Instant::now();
        let mut chars = 0;
        for d in diffs.iter().filter(|d| d.change != Change::Unchanged) {
            chars += d.unified().len();
            chars += d.side_by_side().len();
        }
        let rendered = started.elapsed();
        if round == 0 {
            let s = summary(&diffs);
            println!("summary: {} changed, {} added, {} removed, {} unchanged; {chars} bytes of unified text", s.changed, s.added, s.removed, s.unchanged);
        }
        shown = chars;
        if round >= 3 {
            diff_times.push(diffed);
            render_times.push(rendered);
        }
    }
    diff_times.sort();
    render_times.sort();
    println!(
        "diff_resources (1 MB each side): p50 {:.1} ms, p95 {:.1} ms; unified + side-by-side of the changes: p50 {:.1} ms, p95 {:.1} ms ({rounds} rounds, {shown} B)",
        percentile(&diff_times, 0.5).as_secs_f64() * 1e3,
        percentile(&diff_times, 0.95).as_secs_f64() * 1e3,
        percentile(&render_times, 0.5).as_secs_f64() * 1e3,
        percentile(&render_times, 0.95).as_secs_f64() * 1e3,
    );
}
