//! The embedded members' agents beating, as KubeFleet's member agent does (spec placement-extras
//! §4.1): every `spec.heartbeatPeriodSeconds` (default 60), with ±10% jitter so a fleet does not
//! beat in step, the agent renews `status.agentStatus[MemberAgent].lastReceivedHeartbeat` and the
//! properties' `observationTime`, and re-stamps its conditions' `observedGeneration`. Condition
//! `lastTransitionTime`s stay: nothing transitioned (KubeFleet's `meta.SetStatusCondition`).
//!
//! One task drives every member of the process from a timer heap, reading each member from the
//! shared MemberCluster store, so a beat is one status write: N members beat N / period times a
//! second — at 10,000 members and the default 60 s, about 167 merge patches a second on the
//! fleet hub, 16 at a time at most. A member whose period changes is rescheduled at once.
//!
//! A simulated agent can be stopped, to see a member go stale: annotate its MemberCluster with
//! [`STOPPED_ANNOTATION`]`=true` (`kubectl annotate membercluster member3
//! sim.fleetdeck.dev/agent-stopped=true`); removing the annotation starts it again.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use app::fleet::placement::member_status::renewed_status;
use app::fleet::types::condition::Time;
use app::fleet::types::merge_patch::StatusPatch;
use app::fleet::views::member_view::DEFAULT_HEARTBEAT_PERIOD_SECONDS;
use app::fleet::MemberCluster;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher::Event;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::informers::Informers;

/// Annotating a MemberCluster with this (`"true"`) stops its simulated agent's heartbeats.
pub const STOPPED_ANNOTATION: &str = "sim.fleetdeck.dev/agent-stopped";
/// At most this many heartbeat writes are in flight.
const CONCURRENT_BEATS: usize = 16;

/// Which members this process beats for changes as they join and leave (placement-extras §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hosting {
    Joined(String),
    Left(String),
}

/// Beats for the members `hosting` names as joined, until they leave or `shutdown`.
pub async fn run(
    hub: kube::Client,
    informers: Informers,
    mut hosting: UnboundedReceiver<Hosting>,
    shutdown: CancellationToken,
) {
    let informer = informers.of::<MemberCluster>();
    let mut events = std::pin::pin!(informer.events());
    let store = informer.store();
    let api: Api<MemberCluster> = Api::all(hub);
    let mut schedule = Schedule::default();
    let mut rng = SplitMix(seed());
    let default = Duration::from_secs(u64::from(DEFAULT_HEARTBEAT_PERIOD_SECONDS));
    let mut beats = FuturesUnordered::new();
    loop {
        let due = schedule.next_due();
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(change) = hosting.recv() => match change {
                // Registration has just written a heartbeat: the first beats spread over one period.
                Hosting::Joined(name) => {
                    let first = default.mul_f64(rng.unit());
                    schedule.set(name, Instant::now() + first, default);
                }
                Hosting::Left(name) => schedule.remove(&name),
            },
            Some(event) = events.next() => {
                if let Event::Apply(member) | Event::InitApply(member) = event {
                    schedule.member_changed(&member, &mut rng);
                }
            }
            () = sleep_until(due), if due.is_some() && beats.len() < CONCURRENT_BEATS => {
                if let Some((name, period)) = schedule.pop_due(Instant::now()) {
                    let next = period.mul_f64(0.9 + 0.2 * rng.unit());
                    schedule.set(name.clone(), Instant::now() + next, period);
                    beats.push(beat(api.clone(), store.clone(), name));
                }
            }
            Some(result) = beats.next(), if !beats.is_empty() => {
                if let Err((name, error)) = result {
                    tracing::debug!(member = %name, %error, "heartbeat not written; the next one will try again");
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// One heartbeat: the member's agent status and properties as the store has them, with the
/// times renewed. Skipped while the member is annotated as stopped, or gone.
async fn beat(
    api: Api<MemberCluster>,
    store: Store<MemberCluster>,
    name: String,
) -> Result<(), (String, kube::Error)> {
    let Some(member) = store.get(&ObjectRef::new(&name)) else {
        return Ok(());
    };
    // A leaving member's agent has stopped; a beat would write back its old conditions.
    if stopped(&member) || member.metadata.deletion_timestamp.is_some() {
        return Ok(());
    }
    let Some(status) = renewed_status(&member, &Time(Timestamp::now())) else {
        return Ok(());
    };
    api.patch_status(
        &name,
        &PatchParams::default(),
        &Patch::Merge(&StatusPatch { status }),
    )
    .await
    .map(|_| ())
    .map_err(|e| (name, e))
}

fn stopped(member: &MemberCluster) -> bool {
    member
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(STOPPED_ANNOTATION))
        .is_some_and(|v| v == "true")
}

/// When each member beats next: a min-heap of due times, invalidated lazily by a per-member
/// sequence number when a member is rescheduled.
#[derive(Default)]
struct Schedule {
    heap: BinaryHeap<Reverse<(Instant, u64, String)>>,
    /// name → (sequence of its live heap entry, its period, whether it was stopped last seen)
    members: HashMap<String, (u64, Duration, bool)>,
    next_seq: u64,
}

impl Schedule {
    fn set(&mut self, name: String, at: Instant, period: Duration) {
        self.next_seq += 1;
        let stopped = self.members.get(&name).is_some_and(|m| m.2);
        self.members
            .insert(name.clone(), (self.next_seq, period, stopped));
        self.heap.push(Reverse((at, self.next_seq, name)));
    }

    /// Stops beating for `name` (its heap entry is dropped lazily).
    fn remove(&mut self, name: &str) {
        self.members.remove(name);
    }

    fn next_due(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, seq, name))) = self.heap.peek() {
            if self.members.get(name).is_some_and(|m| m.0 == *seq) {
                return Some(*at);
            }
            self.heap.pop();
        }
        None
    }

    fn pop_due(&mut self, now: Instant) -> Option<(String, Duration)> {
        self.next_due().filter(|at| *at <= now)?;
        let Reverse((_, _, name)) = self.heap.pop()?;
        let period = self.members.get(&name)?.1;
        Some((name, period))
    }

    /// A member we drive changed on the hub: a new period or a restarted agent beats soon.
    fn member_changed(&mut self, member: &Arc<MemberCluster>, rng: &mut SplitMix) {
        let Some(name) = member.metadata.name.as_deref() else {
            return;
        };
        let Some(&(_, period, was_stopped)) = self.members.get(name) else {
            return;
        };
        let now_stopped = stopped(member);
        let new_period = Duration::from_secs(
            member
                .spec
                .heartbeat_period_seconds
                .and_then(|p| u64::try_from(p).ok())
                .filter(|p| *p > 0)
                .unwrap_or(u64::from(DEFAULT_HEARTBEAT_PERIOD_SECONDS)),
        );
        if new_period != period || (was_stopped && !now_stopped) {
            let first = if was_stopped && !now_stopped {
                Duration::ZERO
            } else {
                new_period.mul_f64(rng.unit())
            };
            self.set(name.to_string(), Instant::now() + first, new_period);
        }
        if let Some(m) = self.members.get_mut(name) {
            m.2 = now_stopped;
        }
    }
}

/// A small, fast generator for jitter (not for secrets).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0x5EED;
    }
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use app::fleet::placement::member_cluster::MemberClusterSpec;

    use super::*;

    fn member(period: Option<i32>, stopped: bool) -> Arc<MemberCluster> {
        let mut m = MemberCluster::new(
            "m1",
            MemberClusterSpec {
                heartbeat_period_seconds: period,
                ..MemberClusterSpec::default()
            },
        );
        if stopped {
            m.metadata.annotations =
                Some([(STOPPED_ANNOTATION.to_string(), "true".to_string())].into());
        }
        Arc::new(m)
    }

    #[tokio::test(start_paused = true)]
    async fn a_shorter_period_or_a_restarted_agent_is_rescheduled_at_once() {
        let mut schedule = Schedule::default();
        let mut rng = SplitMix(1);
        let minute = Duration::from_secs(60);
        schedule.set("m1".into(), Instant::now() + minute, minute);
        assert_eq!(schedule.pop_due(Instant::now()), None, "not due yet");

        schedule.member_changed(&member(Some(1), false), &mut rng);
        let due = schedule.next_due().expect("scheduled");
        assert!(
            due <= Instant::now() + Duration::from_secs(1),
            "within the new period"
        );
        assert_eq!(
            schedule.pop_due(due),
            Some(("m1".into(), Duration::from_secs(1)))
        );
        assert_eq!(schedule.next_due(), None, "the old entry is gone");

        schedule.set("m1".into(), Instant::now() + minute, Duration::from_secs(1));
        schedule.member_changed(&member(Some(1), true), &mut rng);
        assert!(
            schedule.next_due().expect("kept") > Instant::now(),
            "stopping changes nothing yet"
        );
        schedule.member_changed(&member(Some(1), false), &mut rng);
        assert_eq!(
            schedule.next_due(),
            Some(Instant::now()),
            "restarted: beats at once"
        );
        assert!(stopped(&member(None, true)) && !stopped(&member(None, false)));
    }
}
