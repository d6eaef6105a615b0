//! Keeps the dashboard's live views current: the process's shared stores of MemberClusters,
//! bindings and update runs on the hub (`crate::informers`), and on every change the Fleet and
//! Runs rows recomputed (`app::fleet::views::member_view`, `run_view`) and published as topics.

use std::time::Duration;

use app::fleet::views::member_view::{rows, BindingFacts};
use app::fleet::views::run_view::{self, RunRow};
use app::fleet::{
    ClusterResourceBinding, ClusterStagedUpdateRun, MemberCluster, ResourceBinding, StagedUpdateRun,
};
use app::live::Topics;
use futures::{FutureExt, StreamExt};
use kube::runtime::reflector::Store;
use tokio_util::sync::CancellationToken;

use crate::informers::Informers;

/// Bursts of hub events (a rollout touches many bindings at once) become one recomputation.
const COALESCE: Duration = Duration::from_millis(50);
/// The pause after a recomputation is at least this many times as long as it took, so the views
/// use at most a third of a core however large the fleet (at 10,000 members one pass is tens of
/// milliseconds, and a rollout changes bindings continuously).
const PAUSE_PER_WORK: u32 = 2;

pub async fn run(informers: Informers, topics: Topics, shutdown: CancellationToken) {
    let members = informers.of::<MemberCluster>();
    let crbs = informers.of::<ClusterResourceBinding>();
    let rbs = informers.of::<ResourceBinding>();
    let csurs = informers.of::<ClusterStagedUpdateRun>();
    let surs = informers.of::<StagedUpdateRun>();
    let changes = futures::stream::select_all([
        members.changes().boxed(),
        crbs.changes().boxed(),
        rbs.changes().boxed(),
        csurs.changes().boxed(),
        surs.changes().boxed(),
    ]);
    let (members, crbs, rbs, csurs, surs) = (
        members.store(),
        crbs.store(),
        rbs.store(),
        csurs.store(),
        surs.store(),
    );
    let changes = changes
        .ready_chunks(256)
        .take_until(shutdown.cancelled_owned());
    let mut changes = std::pin::pin!(changes);
    let mut last_pass = Duration::ZERO;
    while changes.next().await.is_some() {
        tokio::time::sleep(COALESCE.max(last_pass * PAUSE_PER_WORK)).await;
        let started = std::time::Instant::now();
        // Rows only once every store holds its initial list (the stream drives the stores, so
        // never block on readiness here).
        let ready = |store_ready: Option<Result<(), _>>| matches!(store_ready, Some(Ok(())));
        if ready(members.wait_until_ready().now_or_never())
            && ready(crbs.wait_until_ready().now_or_never())
            && ready(rbs.wait_until_ready().now_or_never())
        {
            topics.set_members(compute(&members, &crbs, &rbs));
        }
        if ready(csurs.wait_until_ready().now_or_never())
            && ready(surs.wait_until_ready().now_or_never())
        {
            let mut runs: Vec<RunRow> = csurs
                .state()
                .iter()
                .map(|r| run_view::row(r.as_ref()))
                .chain(surs.state().iter().map(|r| run_view::row(r.as_ref())))
                .collect();
            runs.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
            topics.set_runs(runs);
        }
        topics.changed();
        last_pass = started.elapsed();
    }
}

fn compute(
    members: &Store<MemberCluster>,
    crbs: &Store<ClusterResourceBinding>,
    rbs: &Store<ResourceBinding>,
) -> Vec<app::fleet::views::member_view::MemberRow> {
    let members: Vec<MemberCluster> = members.state().iter().map(|m| m.as_ref().clone()).collect();
    let bindings: Vec<BindingFacts> = crbs
        .state()
        .iter()
        .map(|b| BindingFacts::of(b.as_ref()))
        .chain(rbs.state().iter().map(|b| BindingFacts::of(b.as_ref())))
        .collect();
    rows(&members, &bindings)
}
