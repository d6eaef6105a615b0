//! The whole `fleetdeck` process killed anywhere (issue 21): the real binary on a data directory on
//! disk runs seed 002's cluster-scoped flow — a rollout with a gate after the staging stage and one
//! before the canary stage, a second rollout, then a rollback to the first snapshot by index —
//! over and over, while a killer SIGKILLs it (one time in four: SIGTERM, after which it must
//! exit cleanly by itself) at seeded random moments and starts it again on the same directory. After every restart every write acknowledged before the kill is still there;
//! every run reaches `Succeeded`; after each run every member holds exactly that run's snapshot;
//! and whenever a gate is approved, no cluster of a later stage has started on the run's snapshot.
//!
//! `harness = false`: it prints the seed and every kill point, so a failure reproduces with
//! `FLEETDECK_CRASH_SEED=<seed> cargo test -p server --test process_crash`. `FLEETDECK_CRASH_KILLS`
//! sets the number of kills (20 by default; README "Reliability" runs 200).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{json, Value};
use tokio::sync::RwLock;

const FLEET_GROUP: &str = "placement.kubernetes-fleet.io";
const PLACEMENT: &str = "example-placement";
const STRATEGY: &str = "example-strategy";
/// How long one step may take, kills included, before the test gives up saying which step.
const STEP_DEADLINE: Duration = Duration::from_secs(300);

fn main() {
    let seed: u64 = std::env::var("FLEETDECK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let kills: usize = std::env::var("FLEETDECK_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    println!("process_crash: seed {seed}, {kills} kills (FLEETDECK_CRASH_SEED={seed} reproduces)");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(crash_test(seed, kills));
    println!("test process_crash ... ok");
}

/// SplitMix64: a seeded generator, enough to place kills reproducibly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// Clients of the hub and of each member, from the kubeconfig the current process wrote.
#[derive(Clone)]
struct Clients {
    hub: kube::Client,
    members: BTreeMap<String, kube::Client>,
}

/// One started fleetdeck process.
struct Process {
    child: Child,
    log: PathBuf,
}

fn start(bin: &Path, work: &Path, incarnation: usize) -> Process {
    let data = work.join("data");
    let _ = std::fs::remove_file(data.join("kubeconfig"));
    let log = work.join(format!("fleetdeck-{incarnation}.log"));
    let out = std::fs::File::create(&log).expect("log file");
    let child = Command::new(bin)
        .args(["serve", "--data-dir"])
        .arg(&data)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--hub-addr",
            "127.0.0.1:0",
            "--kubelet-delay",
            "100ms",
            "--log",
            "info",
        ])
        .stdout(Stdio::from(out.try_clone().expect("log file")))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("start fleetdeck");
    Process { child, log }
}

/// Waits for the process to say it runs, then connects to the hub and the members.
async fn connect(p: &mut Process, work: &Path) -> Clients {
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let log = std::fs::read_to_string(&p.log).unwrap_or_default();
        if log.contains("fleetdeck is running") {
            break;
        }
        if let Ok(Some(status)) = p.child.try_wait() {
            panic!("fleetdeck exited during startup ({status}):\n{log}");
        }
        assert!(
            Instant::now() < until,
            "fleetdeck did not start in 120 s:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kubeconfig =
        Kubeconfig::read_from(work.join("data").join("kubeconfig")).expect("kubeconfig");
    let mut contexts = BTreeMap::new();
    for ctx in &kubeconfig.contexts {
        let options = KubeConfigOptions {
            context: Some(ctx.name.clone()),
            ..KubeConfigOptions::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig.clone(), &options)
            .await
            .expect("context usable");
        contexts.insert(
            ctx.name.clone(),
            kube::Client::try_from(config).expect("client"),
        );
    }
    let hub = contexts.remove("hub").expect("a hub context");
    Clients {
        hub,
        members: contexts,
    }
}

fn fleet(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: FLEET_GROUP.into(),
        version: "v1beta1".into(),
        api_version: format!("{FLEET_GROUP}/v1beta1"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

fn core(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: String::new(),
        version: "v1".into(),
        api_version: "v1".into(),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// A write the hub acknowledged: it must survive every later kill.
#[derive(Clone, Debug)]
struct Acked {
    resource: ApiResource,
    namespace: Option<String>,
    name: String,
    rv: u64,
    /// The acknowledged object's JSON at `pointer`, which any later version keeps unless the test
    /// itself changed it since (then the newer acknowledgement replaces this one).
    pointer: &'static str,
    value: Value,
}

/// Shared between the driver and the killer.
struct World {
    clients: RwLock<Clients>,
    acked: Mutex<BTreeMap<(String, String), Acked>>,
    /// What the driver is doing, printed with each kill.
    step: Mutex<String>,
    done: AtomicBool,
    kills: AtomicUsize,
}

impl World {
    async fn clients(&self) -> Clients {
        self.clients.read().await.clone()
    }

    fn at(&self, step: impl Into<String>) {
        *self.step.lock().expect("step lock") = step.into();
    }

    fn ack(&self, a: Acked) {
        let key = (a.resource.plural.clone(), a.name.clone());
        self.acked.lock().expect("acked lock").insert(key, a);
    }
}

fn rv_of(o: &DynamicObject) -> u64 {
    o.metadata
        .resource_version
        .as_deref()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or(0)
}

fn api(c: &kube::Client, r: &ApiResource, ns: Option<&str>) -> Api<DynamicObject> {
    match ns {
        Some(ns) => Api::namespaced_with(c.clone(), ns, r),
        None => Api::all_with(c.clone(), r),
    }
}

/// Retries `f` across kills until it succeeds, or panics naming `what` after the deadline.
async fn retry<T, F, Fut>(world: &World, what: &str, f: F) -> T
where
    F: Fn(Clients) -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let until = Instant::now() + STEP_DEADLINE;
    loop {
        match f(world.clients().await).await {
            Ok(t) => return t,
            Err(e) => {
                assert!(Instant::now() < until, "{what}: still failing: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Creates `body` unless it exists, or (with `update`) merges it into the existing object;
/// records the acknowledgement.
async fn ensure(
    world: &World,
    r: &ApiResource,
    ns: Option<&str>,
    body: Value,
    pointer: &'static str,
    update: bool,
) {
    let name = body["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let obj: DynamicObject = serde_json::from_value(body.clone()).expect("object");
    let written = retry(world, &format!("write {}/{name}", r.plural), |c| {
        let (obj, body, name) = (obj.clone(), body.clone(), name.clone());
        async move {
            let a = api(&c.hub, r, ns);
            match a.create(&PostParams::default(), &obj).await {
                Ok(o) => Ok(o),
                Err(kube::Error::Api(s)) if s.code == 409 && update => a
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&body))
                    .await
                    .map_err(|e| e.to_string()),
                Err(kube::Error::Api(s)) if s.code == 409 => {
                    a.get(&name).await.map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            }
        }
    })
    .await;
    let value = serde_json::to_value(&written)
        .ok()
        .and_then(|v| v.pointer(pointer).cloned())
        .unwrap_or(Value::Null);
    world.ack(Acked {
        resource: r.clone(),
        namespace: ns.map(str::to_string),
        name,
        rv: rv_of(&written),
        pointer,
        value,
    });
}

/// After a restart: every acknowledged write is there, at least as new, with its content.
async fn verify_acked(world: &World) {
    let acked: Vec<Acked> = world
        .acked
        .lock()
        .expect("acked lock")
        .values()
        .cloned()
        .collect();
    // One list per resource (and namespace), not one GET per write: the record grows every round.
    let mut by_list: BTreeMap<(String, Option<String>), Vec<Acked>> = BTreeMap::new();
    for a in acked {
        by_list
            .entry((a.resource.plural.clone(), a.namespace.clone()))
            .or_default()
            .push(a);
    }
    for ((plural, ns), acked) in by_list {
        let resource = acked[0].resource.clone();
        let stored: BTreeMap<String, DynamicObject> =
            retry(world, &format!("list {plural}"), |c| {
                let (resource, ns) = (resource.clone(), ns.clone());
                async move {
                    let list = api(&c.hub, &resource, ns.as_deref())
                        .list(&ListParams::default())
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok(list
                        .items
                        .into_iter()
                        .map(|o| (o.metadata.name.clone().unwrap_or_default(), o))
                        .collect())
                }
            })
            .await;
        for a in acked {
            let got = stored.get(&a.name).unwrap_or_else(|| {
                panic!("acknowledged {plural}/{} (rv {}) is lost", a.name, a.rv)
            });
            assert!(
                rv_of(got) >= a.rv,
                "{plural}/{}: rv {} older than the acknowledged {}",
                a.name,
                rv_of(got),
                a.rv
            );
            // A newer version is a later write (one whose acknowledgement raced this check); the
            // acknowledged version itself must have its content.
            if rv_of(got) == a.rv {
                let value = serde_json::to_value(got)
                    .ok()
                    .and_then(|v| v.pointer(a.pointer).cloned())
                    .unwrap_or(Value::Null);
                assert_eq!(
                    value, a.value,
                    "{plural}/{}: acknowledged {} lost",
                    a.name, a.pointer
                );
            }
        }
    }
}

/// Sends SIGTERM and waits for a clean exit (status 0); a process that does not stop is a
/// failure (the 60 s are a guard against hanging, not a timing requirement).
async fn terminate(p: &mut Process) {
    let status = Command::new("kill")
        .args(["-TERM", &p.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM failed");
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        match p.child.try_wait().expect("wait for fleetdeck") {
            Some(exit) => {
                let log = std::fs::read_to_string(&p.log).unwrap_or_default();
                assert!(
                    exit.success(),
                    "fleetdeck exited with {exit} on SIGTERM:\n{log}"
                );
                assert!(
                    log.contains("fleetdeck stopped"),
                    "fleetdeck did not say it stopped:\n{log}"
                );
                return;
            }
            None if Instant::now() > until => {
                let log = std::fs::read_to_string(&p.log).unwrap_or_default();
                panic!("fleetdeck did not stop within 60 s of SIGTERM:\n{log}");
            }
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// The killer: SIGKILLs the process at seeded random moments, starts it again on the same
/// directory and checks the acknowledged writes, until it has killed `kills` times.
async fn killer(
    world: Arc<World>,
    mut p: Process,
    bin: PathBuf,
    work: PathBuf,
    seed: u64,
    kills: usize,
) -> Process {
    let mut rng = Rng(seed);
    let started = Instant::now();
    for n in 1..=kills {
        let delay = rng.between(150, 1500);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if world.done.load(Ordering::SeqCst) {
            break;
        }
        // One stop in four is a SIGTERM: fleetdeck must then finish and exit cleanly by itself.
        let graceful = rng.next().is_multiple_of(4);
        let how = if graceful {
            terminate(&mut p).await;
            "SIGTERM"
        } else {
            p.child.kill().expect("SIGKILL fleetdeck");
            p.child.wait().expect("reap fleetdeck");
            "SIGKILL"
        };
        let step = world.step.lock().expect("step lock").clone();
        println!(
            "kill {n} ({how}) at +{} ms ({delay} ms after start), during: {step}",
            started.elapsed().as_millis()
        );
        world.kills.store(n, Ordering::SeqCst);
        p = start(&bin, &work, n);
        let clients = connect(&mut p, &work).await;
        *world.clients.write().await = clients;
        verify_acked(&world).await;
    }
    p
}

/// The stage of each member by its `environment` label (the demo fleet: member2 staging,
/// member1 and member3 canary).
async fn stages(world: &World) -> BTreeMap<String, String> {
    retry(world, "read the member clusters", |c| async move {
        let members = api(&c.hub, &fleet_member(), None)
            .list(&ListParams::default())
            .await
            .map_err(|e| e.to_string())?;
        Ok(members
            .items
            .into_iter()
            .map(|m| {
                let env = m
                    .metadata
                    .labels
                    .unwrap_or_default()
                    .remove("environment")
                    .unwrap_or_default();
                (m.metadata.name.unwrap_or_default(), env)
            })
            .collect())
    })
    .await
}

fn fleet_member() -> ApiResource {
    ApiResource {
        group: "cluster.kubernetes-fleet.io".into(),
        version: "v1beta1".into(),
        api_version: "cluster.kubernetes-fleet.io/v1beta1".into(),
        kind: "MemberCluster".into(),
        plural: "memberclusters".into(),
    }
}

/// The cluster → resource snapshot name of every binding of the placement.
async fn bindings(c: &Clients) -> Result<BTreeMap<String, String>, String> {
    let list = api(
        &c.hub,
        &fleet("ClusterResourceBinding", "clusterresourcebindings"),
        None,
    )
    .list(&ListParams::default().labels(&format!("kubernetes-fleet.io/parent-CRP={PLACEMENT}")))
    .await
    .map_err(|e| e.to_string())?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|b| {
            let cluster = b.data.pointer("/spec/targetCluster")?.as_str()?.to_string();
            let snap = b
                .data
                .pointer("/spec/resourceSnapshotName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            Some((cluster, snap))
        })
        .collect())
}

fn condition(o: &DynamicObject, type_: &str) -> Option<String> {
    o.data
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .and_then(|c| c["status"].as_str())
        .map(str::to_string)
}

/// Creates run `name` (on the latest snapshot, or on `index`), approves its gates once the
/// clusters behind them are provably not started, and waits for `Succeeded`. Returns the index
/// the run used.
async fn roll_out(
    world: &World,
    name: &str,
    index: Option<&str>,
    stage_of: &BTreeMap<String, String>,
) -> String {
    let runs = fleet("ClusterStagedUpdateRun", "clusterstagedupdateruns");
    let mut spec =
        json!({"placementName": PLACEMENT, "stagedRolloutStrategyName": STRATEGY, "state": "Run"});
    if let Some(i) = index {
        spec["resourceSnapshotIndex"] = json!(i);
    }
    world.at(format!("creating run {name}"));
    ensure(
        world,
        &runs,
        None,
        json!({"apiVersion": format!("{FLEET_GROUP}/v1beta1"), "kind": "ClusterStagedUpdateRun",
               "metadata": {"name": name}, "spec": spec}),
        "/spec",
        false,
    )
    .await;
    let approvals = fleet("ClusterApprovalRequest", "clusterapprovalrequests");
    let until = Instant::now() + STEP_DEADLINE;
    loop {
        assert!(Instant::now() < until, "run {name} did not succeed in time");
        world.at(format!("run {name} in progress"));
        let c = world.clients().await;
        let run = match api(&c.hub, &runs, None).get(name).await {
            Ok(r) => r,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        match condition(&run, "Succeeded").as_deref() {
            Some("True") => {
                // Only this test approves: a gate it never approved must not have been passed.
                let Ok(gates) = api(&c.hub, &approvals, None)
                    .list(&ListParams::default())
                    .await
                else {
                    continue;
                };
                let gates: Vec<(String, Option<String>)> = gates
                    .items
                    .iter()
                    .filter(|r| {
                        r.data
                            .pointer("/spec/parentStageRollout")
                            .and_then(Value::as_str)
                            == Some(name)
                    })
                    .map(|r| {
                        (
                            r.metadata.name.clone().unwrap_or_default(),
                            condition(r, "Approved"),
                        )
                    })
                    .collect();
                assert_eq!(gates.len(), 2, "run {name} succeeded with gates {gates:?}");
                for (gate, approved) in &gates {
                    assert_eq!(
                        approved.as_deref(),
                        Some("True"),
                        "run {name} succeeded past {gate}, which was never approved"
                    );
                }
                let used = run
                    .data
                    .pointer("/status/resourceSnapshotIndexUsed")
                    .and_then(Value::as_str)
                    .expect("a succeeded run names its snapshot index")
                    .to_string();
                return used;
            }
            Some("False") => panic!("run {name} failed: {}", run.data["status"]),
            _ => {}
        }
        let Some(used) = run
            .data
            .pointer("/status/resourceSnapshotIndexUsed")
            .and_then(Value::as_str)
        else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let snapshot = format!("{PLACEMENT}-{used}-snapshot");
        let requests = match api(&c.hub, &approvals, None)
            .list(&ListParams::default())
            .await
        {
            Ok(l) => l.items,
            Err(_) => continue,
        };
        for req in requests {
            if req
                .data
                .pointer("/spec/parentStageRollout")
                .and_then(Value::as_str)
                != Some(name)
                || condition(&req, "Approved").as_deref() == Some("True")
            {
                continue;
            }
            let req_name = req.metadata.name.clone().unwrap_or_default();
            // The gate holds canary: nothing in it may have started on this run's snapshot.
            let Ok(now) = bindings(&c).await else { break };
            let early: Vec<&String> = now
                .iter()
                .filter(|(cluster, snap)| {
                    stage_of.get(*cluster).map(String::as_str) == Some("canary")
                        && **snap == snapshot
                })
                .map(|(cluster, _)| cluster)
                .collect();
            let stage = req
                .data
                .pointer("/spec/targetStage")
                .and_then(Value::as_str)
                .unwrap_or("");
            let gate_before_canary =
                req_name.ends_with("-after-staging") || req_name.ends_with("-before-canary");
            if gate_before_canary {
                assert!(
                    early.is_empty(),
                    "run {name}: {early:?} started on {snapshot} before {req_name} (stage {stage}) was approved"
                );
            }
            world.at(format!("approving {req_name}"));
            let generation = req.metadata.generation.unwrap_or(1);
            let patch = json!({"status": {"conditions": [{
                "type": "Approved", "status": "True", "reason": "approved", "message": "approved",
                "lastTransitionTime": "2026-12-07T00:00:00Z", "observedGeneration": generation}]}});
            if let Ok(o) = api(&c.hub, &approvals, None)
                .patch_status(&req_name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                world.ack(Acked {
                    resource: approvals.clone(),
                    namespace: None,
                    name: req_name,
                    rv: rv_of(&o),
                    pointer: "/metadata/name",
                    value: json!(o.metadata.name),
                });
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// After a run: every member's ConfigMap has `value`, and every binding names the snapshot.
async fn check_members(world: &World, run: &str, index: &str, value: &str) {
    world.at(format!("checking the members after {run}"));
    let snapshot = format!("{PLACEMENT}-{index}-snapshot");
    let (bound, held) = retry(world, "read bindings and members", |c| async move {
        let bound = bindings(&c).await?;
        let mut held = BTreeMap::new();
        for (member, client) in &c.members {
            let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "test-namespace");
            let cm = cms.get_opt("test-cm").await.map_err(|e| e.to_string())?;
            let key = cm
                .and_then(|cm| cm.data)
                .and_then(|mut d| d.remove("key"))
                .unwrap_or_else(|| "<absent>".into());
            held.insert(member.clone(), key);
        }
        Ok((bound, held))
    })
    .await;
    for (member, key) in &held {
        assert_eq!(
            key, value,
            "after {run}: {member} holds test-cm key {key}, not {value}"
        );
        assert_eq!(
            bound.get(member),
            Some(&snapshot),
            "after {run}: {member}'s binding is not on {snapshot}"
        );
    }
    println!("{run}: succeeded on snapshot {index}; every member holds {value}");
}

async fn crash_test(seed: u64, kills: usize) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_fleetdeck"));
    let work = tempfile::tempdir().expect("temp dir");
    let mut first = start(&bin, work.path(), 0);
    let clients = connect(&mut first, work.path()).await;
    let world = Arc::new(World {
        clients: RwLock::new(clients),
        acked: Mutex::new(BTreeMap::new()),
        step: Mutex::new("starting".into()),
        done: AtomicBool::new(false),
        kills: AtomicUsize::new(0),
    });

    // The fleet and the placement, written once, before the kills start.
    let stage_of = stages(&world).await;
    for stage in ["staging", "canary"] {
        assert!(
            stage_of.values().any(|s| s == stage),
            "the demo fleet has a {stage} member: {stage_of:?}"
        );
    }
    let ns = core("Namespace", "namespaces");
    ensure(
        &world,
        &ns,
        None,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "test-namespace"}}),
        "/metadata/name",
        false,
    )
    .await;
    let cms = core("ConfigMap", "configmaps");
    let cm = |value: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "namespace": "test-namespace"}, "data": {"key": value}})
    };
    ensure(
        &world,
        &cms,
        Some("test-namespace"),
        cm("v0-a"),
        "/data",
        true,
    )
    .await;
    ensure(&world, &fleet("ClusterResourcePlacement", "clusterresourceplacements"), None, json!({
        "apiVersion": format!("{FLEET_GROUP}/v1beta1"), "kind": "ClusterResourcePlacement",
        "metadata": {"name": PLACEMENT},
        "spec": {"resourceSelectors": [{"group": "", "kind": "Namespace", "version": "v1", "name": "test-namespace"}],
                 "policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}}), "/spec", false).await;
    ensure(
        &world,
        &fleet(
            "ClusterStagedUpdateStrategy",
            "clusterstagedupdatestrategies",
        ),
        None,
        json!({
        "apiVersion": format!("{FLEET_GROUP}/v1beta1"), "kind": "ClusterStagedUpdateStrategy",
        "metadata": {"name": STRATEGY},
        "spec": {"stages": [
            {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}},
             "afterStageTasks": [{"type": "Approval"}]},
            {"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}},
             "sortingLabelKey": "order", "maxConcurrency": 1,
             "beforeStageTasks": [{"type": "Approval"}]}]}}),
        "/spec",
        false,
    )
    .await;

    let killer = tokio::spawn(killer(
        world.clone(),
        first,
        bin.clone(),
        work.path().to_path_buf(),
        seed,
        kills,
    ));

    // Rollout, second rollout, rollback by index, until the killer has done its work.
    let mut round = 0;
    while !killer.is_finished() || round == 0 {
        let (a, b) = (format!("v{round}-a"), format!("v{round}-b"));
        if round > 0 {
            world.at(format!("round {round}: test-cm = {a}"));
            ensure(&world, &cms, Some("test-namespace"), cm(&a), "/data", true).await;
        }
        let run_a = format!("r{round}-a");
        let index_a = roll_out(&world, &run_a, None, &stage_of).await;
        check_members(&world, &run_a, &index_a, &a).await;

        world.at(format!("round {round}: test-cm = {b}"));
        ensure(&world, &cms, Some("test-namespace"), cm(&b), "/data", true).await;
        let run_b = format!("r{round}-b");
        let index_b = roll_out(&world, &run_b, None, &stage_of).await;
        assert_ne!(index_a, index_b, "a changed ConfigMap makes a new snapshot");
        check_members(&world, &run_b, &index_b, &b).await;

        let run_c = format!("r{round}-rollback");
        let index_c = roll_out(&world, &run_c, Some(&index_a), &stage_of).await;
        assert_eq!(index_c, index_a, "the rollback used the picked snapshot");
        check_members(&world, &run_c, &index_a, &a).await;
        round += 1;
    }
    world.done.store(true, Ordering::SeqCst);
    let mut last = killer.await.expect("killer");
    println!(
        "process_crash: {} kills over {round} rounds of three runs; nothing lost, every run succeeded in stage order",
        world.kills.load(Ordering::SeqCst)
    );
    let _ = last.child.kill();
    let _ = last.child.wait();
}
