//! Hub write throughput with concurrent clients, next to what the disk itself allows (issue 20).
//!
//! `cargo bench -p hub --bench concurrent_writes` prints, for a durable hub (SQLite on disk in a
//! temporary directory, WAL, `synchronous=FULL`, requests through the router in-process):
//! - the disk's limits measured here and now: 4 KiB write + fdatasync per op; SQLite one-row
//!   transactions; SQLite rows when 1,000 share a transaction;
//! - ConfigMap creates from 1, 16 and 64 concurrent clients: writes/s, p50 and p99 latency;
//! - one write until each of 100 watches has it: p50 / p99 over every delivery.
//!
//! Only the hub's public API is used, so the same file measures an older commit's hub too.
//! `FLEETDECK_HUB_BENCH_SECS` (default 4) sets each measurement's duration.

use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use futures::StreamExt;
use hub::{Hub, Registry, Storage};
use serde_json::json;
use tokio::sync::mpsc;
use tower::ServiceExt;

const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn secs() -> Duration {
    let s = std::env::var("FLEETDECK_HUB_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    Duration::from_secs(s)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn send(hub: &Hub, method: &str, uri: &str, ct: &str, body: String) -> u16 {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", ct)
        .body(Body::from(body))
        .expect("request");
    let resp = hub.router().oneshot(req).await.expect("infallible");
    let code = resp.status().as_u16();
    let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await;
    code
}

/// fdatasync'd 4 KiB writes per second on the directory's disk, each over the same block (as
/// SQLite's write-ahead log rewrites its file after a checkpoint; appends would also pay for the
/// file's growing size on every sync).
fn fsync_limit(dir: &Path) -> f64 {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::create(dir.join("fsync-probe")).expect("probe file");
    let block = [7u8; 4096];
    f.write_all_at(&block, 0).expect("write");
    f.sync_all().expect("fsync");
    let until = Instant::now() + secs();
    let mut n = 0u64;
    let start = Instant::now();
    while Instant::now() < until {
        f.write_all_at(&block, 0).expect("write");
        f.sync_data().expect("fdatasync");
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// SQLite transactions/s with one row each, and rows/s with 1,000 rows per transaction.
fn sqlite_limits(dir: &Path) -> (f64, f64) {
    let conn = rusqlite::Connection::open(dir.join("sqlite-probe.db")).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("full");
    conn.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .expect("table");
    let body = "x".repeat(300);
    let mut k = 0i64;
    let mut one_row = || {
        let until = Instant::now() + secs() / 2;
        let start = Instant::now();
        let mut n = 0u64;
        while Instant::now() < until {
            k += 1;
            conn.execute("INSERT INTO t VALUES (?1, ?2)", rusqlite::params![k, body])
                .expect("insert");
            n += 1;
        }
        n as f64 / start.elapsed().as_secs_f64()
    };
    let single = one_row();
    let until = Instant::now() + secs() / 2;
    let start = Instant::now();
    let mut rows = 0u64;
    while Instant::now() < until {
        let tx = conn.unchecked_transaction().expect("tx");
        for _ in 0..1000 {
            k += 1;
            tx.execute("INSERT INTO t VALUES (?1, ?2)", rusqlite::params![k, body])
                .expect("insert");
        }
        tx.commit().expect("commit");
        rows += 1000;
    }
    (single, rows as f64 / start.elapsed().as_secs_f64())
}

/// `clients` tasks creating ConfigMaps for the measurement time: (writes/s, sorted latencies).
async fn concurrent_creates(hub: &Hub, clients: usize) -> (f64, Vec<Duration>) {
    let until = Instant::now() + secs();
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let hub = hub.clone();
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = 0u64;
                while Instant::now() < until {
                    i += 1;
                    let body = json!({"metadata": {"name": format!("c{clients}-{c}-{i}")},
                                      "data": {"k": "v"}});
                    let t = Instant::now();
                    let code = send(&hub, "POST", CMS, "application/json", body.to_string()).await;
                    assert_eq!(code, 201, "create");
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client"));
    }
    let rate = all.len() as f64 / start.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

/// Opens `n` watches on ConfigMaps from the current resourceVersion; each reports (sequence,
/// arrival) for every event carrying `data.seq`.
async fn open_watches(hub: &Hub, n: usize) -> mpsc::UnboundedReceiver<(u64, Instant)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let rv = hub.resource_version();
    for _ in 0..n {
        let req = Request::builder()
            .uri(format!("{CMS}?watch=true&resourceVersion={rv}"))
            .body(Body::empty())
            .expect("request");
        let resp = hub.router().oneshot(req).await.expect("infallible");
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut stream = resp.into_body().into_data_stream();
            let mut buf = Vec::new();
            while let Some(Ok(chunk)) = stream.next().await {
                buf.extend_from_slice(&chunk);
                while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=pos).collect();
                    let now = Instant::now();
                    let Ok(ev) = serde_json::from_slice::<serde_json::Value>(&line) else {
                        continue;
                    };
                    if let Some(seq) = ev["object"]["data"]["seq"]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                    {
                        let _ = tx.send((seq, now));
                    }
                }
            }
        });
    }
    rx
}

/// One patch at a time; the time from sending it to each of `watchers` receiving it.
async fn fanout(hub: &Hub, watchers: usize) -> Vec<Duration> {
    send(
        hub,
        "POST",
        CMS,
        "application/json",
        json!({"metadata": {"name": "fanout"}}).to_string(),
    )
    .await;
    let mut rx = open_watches(hub, watchers).await;
    let mut lat = Vec::new();
    let until = Instant::now() + secs();
    let mut seq = 0u64;
    while Instant::now() < until {
        seq += 1;
        let patch = json!({"data": {"seq": seq.to_string()}}).to_string();
        let start = Instant::now();
        send(
            hub,
            "PATCH",
            &format!("{CMS}/fanout"),
            "application/merge-patch+json",
            patch,
        )
        .await;
        let mut got = 0;
        while got < watchers {
            let (s, at) = rx.recv().await.expect("watchers alive");
            if s == seq {
                got += 1;
                lat.push(at - start);
            }
        }
    }
    lat.sort();
    lat
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    // The figures depend on what else the machine does: say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load.trim());
    println!("disk ({}):", dir.path().display());
    println!(
        "  4 KiB write + fdatasync: {:.0}/s",
        fsync_limit(dir.path())
    );
    let (single, grouped) = sqlite_limits(dir.path());
    println!("  SQLite one-row transactions: {single:.0}/s");
    println!("  SQLite rows, 1,000 per transaction: {grouped:.0}/s");
    for clients in [1, 16, 64] {
        let sub = tempfile::tempdir_in(dir.path()).expect("tempdir");
        let hub = Hub::open(Storage::Sqlite(sub.path().join("hub.db")), Registry::new())
            .expect("open hub");
        let (rate, lat) = rt.block_on(concurrent_creates(&hub, clients));
        println!(
            "hub creates, {clients:>2} clients: {rate:>7.0} writes/s, p50 {:?}, p99 {:?} ({} writes)",
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            lat.len()
        );
    }
    let sub = tempfile::tempdir_in(dir.path()).expect("tempdir");
    let hub = Hub::open(Storage::Sqlite(sub.path().join("hub.db")), Registry::new()).expect("open");
    let lat = rt.block_on(fanout(&hub, 100));
    println!(
        "write -> 100 watches: p50 {:?}, p99 {:?} ({} deliveries)",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.len()
    );
}
