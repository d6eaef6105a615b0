//! Every acknowledged write survives a crash: a child process writes through the hub and reports
//! each acknowledged write; the parent SIGKILLs it mid-stream (no destructors, no flush, no
//! checkpoint), reopens the SQLite file, and finds every acknowledged object, the resourceVersion
//! counter at least as far as the last acknowledgement, and new writes ordered after it. Rounds
//! alternate one writer and many concurrent ones, whose writes the hub commits in groups (one
//! fsync each): a write is acknowledged only once its group is on disk.
//!
//! `harness = false`: the same binary is the parent (no arguments) and the writer (`child DB`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use hub::{Hub, Registry, Storage};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

/// Acknowledgements the parent waits for before each kill.
const ACKS_PER_ROUND: usize = 300;
/// Kill-and-reopen rounds, each appending to the same database.
const ROUNDS: usize = 6;
/// Concurrent writers in the odd rounds (the even ones have one).
const CONCURRENT_WRITERS: usize = 16;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [mode, db, round, writers] if mode == "child" => {
            let writers = writers.parse().expect("writer count");
            child(Path::new(db), round, writers)
        }
        // libtest-style flags (e.g. `--show-output`, a filter) are ignored: there is one test.
        _ => parent(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Writes until killed, with `writers` concurrent tasks: each alternately creates a ConfigMap and
/// patches it, printing `<name> <data> <resourceVersion>` after the hub acknowledged each write.
fn child(db: &Path, round: &str, writers: usize) {
    let hub = Hub::open(Storage::Sqlite(db.to_path_buf()), Registry::new()).expect("open store");
    runtime().block_on(async move {
        let cms: Api<ConfigMap> =
            Api::default_namespaced(kube::Client::new(hub.router(), "default"));
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let cms = cms.clone();
                let round = round.to_string();
                tokio::spawn(async move { write_forever(cms, &format!("r{round}-w{w}")).await })
            })
            .collect();
        for t in tasks {
            t.await.expect("writer task");
        }
    });
}

async fn write_forever(cms: Api<ConfigMap>, prefix: &str) {
    let ack = |name: &str, data: &str, rv: Option<String>| {
        // One locked write per line, so lines from concurrent writers never interleave.
        let mut out = std::io::stdout().lock();
        writeln!(out, "{name} {data} {}", rv.unwrap_or_default()).expect("stdout");
        out.flush().expect("flush");
    };
    for i in 0.. {
        let name = format!("{prefix}-cm-{i}");
        let cm: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": name}, "data": {"v": "created"}
        }))
        .expect("configmap");
        let created = cms
            .create(&PostParams::default(), &cm)
            .await
            .expect("create");
        ack(&name, "created", created.metadata.resource_version);
        let patch = json!({"data": {"v": "patched"}});
        let patched = cms
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("patch");
        ack(&name, "patched", patched.metadata.resource_version);
    }
}

fn parent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db: PathBuf = dir.path().join("hub.db");
    let exe = std::env::current_exe().expect("own executable");
    // name -> (latest acknowledged data, its resourceVersion)
    let mut acked: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut max_rv = 0u64;
    for round in 0..ROUNDS {
        let round_floor = max_rv;
        let writers = if round % 2 == 1 {
            CONCURRENT_WRITERS
        } else {
            1
        };
        let mut child = Command::new(&exe)
            .args([
                "child",
                db.to_str().expect("utf-8 path"),
                &round.to_string(),
                &writers.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the writer");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        for _ in 0..ACKS_PER_ROUND {
            let line = lines
                .next()
                .expect("the writer stopped before it was killed")
                .expect("read an acknowledgement");
            let mut parts = line.split(' ');
            let (Some(name), Some(data), Some(rv)) = (parts.next(), parts.next(), parts.next())
            else {
                panic!("malformed acknowledgement {line:?}");
            };
            let rv: u64 = rv.parse().expect("numeric resourceVersion");
            // Concurrent writers' acknowledgements arrive in any order; one object's only go up,
            // and a new round's only after everything acknowledged before the kill.
            let floor = acked.get(name).map_or(round_floor, |(_, prev)| *prev);
            assert!(rv > floor, "{name}: resourceVersion {rv} after {floor}");
            max_rv = max_rv.max(rv);
            acked.insert(name.to_string(), (data.to_string(), rv));
        }
        // SIGKILL while the writer is mid-stream.
        child.kill().expect("SIGKILL the writer");
        child.wait().expect("reap the writer");
        verify(&db, &acked, max_rv);
        println!(
            "round {round} ({writers} writers): SIGKILLed after {} acknowledged writes to {} objects (rv {max_rv}); all present after reopen",
            (round + 1) * ACKS_PER_ROUND,
            acked.len()
        );
    }
    println!("test crash_durability ... ok");
}

/// Reopens the store and checks every acknowledged write, the counter, and that a new write
/// sorts after everything acknowledged.
fn verify(db: &Path, acked: &BTreeMap<String, (String, u64)>, max_rv: u64) {
    let hub = Hub::open(Storage::Sqlite(db.to_path_buf()), Registry::new())
        .expect("the store reopens after a SIGKILL");
    assert!(
        hub.resource_version() >= max_rv,
        "counter {} is behind the acknowledged rv {max_rv}",
        hub.resource_version()
    );
    runtime().block_on(async {
        let cms: Api<ConfigMap> =
            Api::default_namespaced(kube::Client::new(hub.router(), "default"));
        for (name, (data, rv)) in acked {
            let got = cms
                .get_opt(name)
                .await
                .expect("get")
                .unwrap_or_else(|| panic!("acknowledged {name} is lost"));
            let got_rv: u64 = got
                .metadata
                .resource_version
                .as_deref()
                .unwrap_or("0")
                .parse()
                .expect("numeric resourceVersion");
            let got_data = got.data.unwrap_or_default().remove("v").unwrap_or_default();
            // A write after the last acknowledgement may have landed too (acknowledged to
            // nobody); it can only be newer.
            assert!(
                got_rv >= *rv,
                "{name}: rv {got_rv} older than acknowledged {rv}"
            );
            if got_rv == *rv {
                assert_eq!(&got_data, data, "{name}: acknowledged data lost");
            }
        }
        let probe: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("probe-{max_rv}")}}))
                .expect("cm");
        let created = cms
            .create(&PostParams::default(), &probe)
            .await
            .expect("write after reopen");
        let rv: u64 = created
            .metadata
            .resource_version
            .as_deref()
            .unwrap_or("0")
            .parse()
            .expect("numeric resourceVersion");
        assert!(rv > max_rv, "a new write ({rv}) must sort after {max_rv}");
    });
}
