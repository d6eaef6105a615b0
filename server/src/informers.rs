//! The hub's objects as this process follows them: one watch and one reflector store per kind,
//! shared by everything that follows that kind — the placement and run controllers, the member
//! agent, the member directory and the dashboard's views (STYLE "One shared watch feeds
//! everything"; issue 14). Before, each of them kept its own watches, and a MemberCluster was
//! watched five times by one process.
//!
//! A kind's watch starts the first time something asks for it, and runs until the last
//! [`Informers`] handle is dropped, so a dashboard-only replica on a real hub never watches what
//! only a leading engine needs.
//!
//! Every subscriber gets every event, as a watch of its own would have given it: the fan-out is an
//! unbounded channel per subscriber, so a slow one never holds the others back nor loses
//! events. (kube-runtime's own shared reflector, `reflector::store_shared`, is not used: its
//! subscribers never hear of deletions, which wake placements and runs here, and a subscriber
//! that falls behind stalls the root watch.) A subscriber that comes late is brought up to date
//! the way a watch of its own would start: with the whole list first (`Init`, `InitApply`…,
//! `InitDone`).
//!
//! Views that recompute from the stores (the dashboard, the member directory) take
//! [`Informer::changes`] instead: ticks that coalesce while they are busy, so however far behind
//! they fall nothing queues up for them.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::future::ready;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::{Stream, StreamExt};
use kube::runtime::reflector::{store::Writer, Store};
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::{UnboundedReceiverStream, WatchStream};

/// The kinds this process follows on one hub, each watched once. Cheap to clone; the watches stop
/// when the last clone is dropped.
#[derive(Clone)]
pub struct Informers {
    inner: Arc<Inner>,
}

struct Inner {
    client: kube::Client,
    /// `Informer<K>` by `TypeId::of::<K>()`.
    kinds: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in lock(&self.tasks).iter() {
            task.abort();
        }
    }
}

/// What a kind can be followed as: every object of it on the hub (all namespaces).
pub trait Followed:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static
{
}

impl<K> Followed for K where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static
{
}

impl Informers {
    /// Follows kinds on the hub of `client`, once each is asked for.
    pub fn new(client: kube::Client) -> Self {
        Informers {
            inner: Arc::new(Inner {
                client,
                kinds: Mutex::default(),
                tasks: Mutex::default(),
            }),
        }
    }

    /// The hub's client (for reads that must not come from a cache, and for writes).
    pub fn client(&self) -> &kube::Client {
        &self.inner.client
    }

    /// Kind `K`'s informer; its watch starts on the first call.
    pub fn of<K: Followed>(&self) -> Informer<K> {
        let mut kinds = lock(&self.inner.kinds);
        if let Some(informer) = kinds
            .get(&TypeId::of::<K>())
            .and_then(|i| i.downcast_ref::<Informer<K>>())
        {
            return informer.clone();
        }
        let writer = Writer::<K>::default();
        let informer = Informer {
            store: writer.as_reader(),
            fanout: Arc::default(),
        };
        let task = tokio::spawn(follow(
            Api::<K>::all(self.inner.client.clone()),
            writer,
            informer.fanout.clone(),
        ));
        lock(&self.inner.tasks).push(task);
        kinds.insert(TypeId::of::<K>(), Box::new(informer.clone()));
        informer
    }

    /// The store of kind `K` (watched from now on).
    pub fn store<K: Followed>(&self) -> Store<K> {
        self.of::<K>().store()
    }
}

/// One kind's store and its events, for as many subscribers as want them.
pub struct Informer<K: Resource<DynamicType = ()> + 'static> {
    store: Store<K>,
    fanout: Arc<Mutex<Fanout<K>>>,
}

impl<K: Resource<DynamicType = ()> + 'static> Clone for Informer<K> {
    fn clone(&self) -> Self {
        Informer {
            store: self.store.clone(),
            fanout: self.fanout.clone(),
        }
    }
}

impl<K: Followed> Informer<K> {
    /// Every object of the kind, as the watch last saw it.
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// The watch's events from now on, after the current list if there is one already (a late
    /// subscriber starts like a watch of its own). The store is updated before each event.
    pub fn events(&self) -> impl Stream<Item = Event<Arc<K>>> + Send + 'static {
        let (tx, rx) = unbounded_channel();
        let mut fanout = lock(&self.fanout);
        let relist_at_init_done = match fanout.phase {
            Phase::Starting => false,
            // The list under way began before this subscriber: it gets the whole list when it
            // is complete.
            Phase::Listing => true,
            Phase::Watching => {
                let _ = tx.send(Event::Init);
                for object in self.store.state() {
                    let _ = tx.send(Event::InitApply(object));
                }
                let _ = tx.send(Event::InitDone);
                false
            }
        };
        fanout.subscribers.push(Subscriber {
            tx,
            relist_at_init_done,
        });
        UnboundedReceiverStream::new(rx)
    }

    /// A tick now and after every event of the watch; ticks coalesce while the subscriber is
    /// busy. For views that recompute from [`Informer::store`].
    pub fn changes(&self) -> impl Stream<Item = ()> + Send + 'static {
        WatchStream::new(lock(&self.fanout).changed.subscribe()).map(|_| ())
    }

    /// Objects added, changed or deleted (and each object of every list): what
    /// `WatchStreamExt::touched_objects` yields of a watch of its own.
    pub fn touched(&self) -> impl Stream<Item = Arc<K>> + Send + 'static {
        self.events().filter_map(|event| {
            ready(match event {
                Event::Apply(o) | Event::InitApply(o) | Event::Delete(o) => Some(o),
                Event::Init | Event::InitDone => None,
            })
        })
    }

    /// Objects added or changed (and each object of every list): what
    /// `WatchStreamExt::applied_objects` yields, and what `Controller::new` triggers on.
    pub fn applied(&self) -> impl Stream<Item = Arc<K>> + Send + 'static {
        self.events().filter_map(|event| {
            ready(match event {
                Event::Apply(o) | Event::InitApply(o) => Some(o),
                Event::Delete(_) | Event::Init | Event::InitDone => None,
            })
        })
    }
}

/// Where a kind's watch is: before its first list, inside a list, or following changes.
#[derive(Clone, Copy, Default)]
enum Phase {
    #[default]
    Starting,
    Listing,
    Watching,
}

struct Fanout<K: Resource<DynamicType = ()> + 'static> {
    phase: Phase,
    subscribers: Vec<Subscriber<K>>,
    /// Counts the events, for [`Informer::changes`].
    changed: watch::Sender<u64>,
}

impl<K: Resource<DynamicType = ()> + 'static> Default for Fanout<K> {
    fn default() -> Self {
        Fanout {
            phase: Phase::Starting,
            subscribers: Vec::new(),
            changed: watch::Sender::new(0),
        }
    }
}

struct Subscriber<K> {
    tx: UnboundedSender<Event<Arc<K>>>,
    /// Came in the middle of a list: send the whole list before its `InitDone`.
    relist_at_init_done: bool,
}

/// Watches `api` into `writer` and hands each event to the subscribers, until aborted.
async fn follow<K: Followed>(api: Api<K>, mut writer: Writer<K>, fanout: Arc<Mutex<Fanout<K>>>)
where
    K::DynamicType: Eq + Hash + Clone,
{
    // When the watch stops (aborted with its `Informers`), its subscribers' streams end.
    let _close = CloseOnDrop(fanout.clone());
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                // The backoff paces the retries; every subscriber only ever sees good events.
                tracing::warn!(%error, kind = %K::kind(&()), "informer: watch failed; retrying");
                continue;
            }
        };
        dispatch(&mut writer, &fanout, event);
    }
}

/// Applies one watch event to the store and hands it to the subscribers. Applied and dispatched
/// under the subscribers' lock, so that a subscriber joining meanwhile either sees the event in
/// the store it is replayed or gets it sent.
fn dispatch<K: Followed>(writer: &mut Writer<K>, fanout: &Mutex<Fanout<K>>, event: Event<K>)
where
    K::DynamicType: Eq + Hash + Clone,
{
    let mut fanout = lock(fanout);
    writer.apply_watcher_event(&event);
    let store = writer.as_reader();
    let event = shared(event);
    match event {
        Event::Init => fanout.phase = Phase::Listing,
        Event::InitDone => fanout.phase = Phase::Watching,
        _ => {}
    }
    fanout.changed.send_modify(|n| *n = n.wrapping_add(1));
    let init_done = matches!(event, Event::InitDone);
    fanout.subscribers.retain_mut(|subscriber| {
        if subscriber.relist_at_init_done {
            // It joined in the middle of a list: it gets the whole list once complete, as a
            // list of its own (`Init` first), and none of the list's events before. (Without
            // the `Init`, a view that builds its list between `Init` and `InitDone` — the
            // dashboard's Fleet view — dropped the list and never showed a member.)
            if !init_done {
                return true;
            }
            subscriber.relist_at_init_done = false;
            if subscriber.tx.send(Event::Init).is_err() {
                return false;
            }
            for object in store.state() {
                if subscriber.tx.send(Event::InitApply(object)).is_err() {
                    return false;
                }
            }
        }
        subscriber.tx.send(event.clone()).is_ok()
    });
}

/// An event whose object the subscribers share.
fn shared<K>(event: Event<K>) -> Event<Arc<K>> {
    match event {
        Event::Apply(o) => Event::Apply(Arc::new(o)),
        Event::Delete(o) => Event::Delete(Arc::new(o)),
        Event::Init => Event::Init,
        Event::InitApply(o) => Event::InitApply(Arc::new(o)),
        Event::InitDone => Event::InitDone,
    }
}

struct CloseOnDrop<K: Resource<DynamicType = ()> + 'static>(Arc<Mutex<Fanout<K>>>);

impl<K: Resource<DynamicType = ()> + 'static> Drop for CloseOnDrop<K> {
    fn drop(&mut self) {
        lock(&self.0).subscribers.clear();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{DeleteParams, PostParams};
    use kube::ResourceExt;
    use serde_json::json;

    use super::*;

    fn hub() -> (hub::Hub, kube::Client) {
        let hub = hub::Hub::memory(hub::Registry::new());
        let client = kube::Client::new(hub.router(), "default");
        (hub, client)
    }

    async fn create(client: &kube::Client, name: &str) {
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        let cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": name}})).expect("config map");
        cms.create(&PostParams::default(), &cm)
            .await
            .expect("create");
    }

    /// The next event, by kind and object name.
    async fn next(events: &mut (impl Stream<Item = Event<Arc<ConfigMap>>> + Unpin)) -> String {
        let event = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("an event in time")
            .expect("the stream goes on");
        match event {
            Event::Init => "Init".into(),
            Event::InitApply(o) => format!("InitApply {}", o.name_any()),
            Event::InitDone => "InitDone".into(),
            Event::Apply(o) => format!("Apply {}", o.name_any()),
            Event::Delete(o) => format!("Delete {}", o.name_any()),
        }
    }

    #[tokio::test]
    async fn every_subscriber_sees_every_event_of_one_watch() {
        let (hub, client) = hub();
        create(&client, "a").await;
        let informers = Informers::new(client.clone());
        let mut first = informers.of::<ConfigMap>().events().boxed();
        let mut second = informers.of::<ConfigMap>().events().boxed();
        for events in [&mut first, &mut second] {
            assert_eq!(next(events).await, "Init");
            assert_eq!(next(events).await, "InitApply a");
            assert_eq!(next(events).await, "InitDone");
        }
        let store = informers.store::<ConfigMap>();
        assert_eq!(store.state().len(), 1, "the store holds the list");

        create(&client, "b").await;
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        cms.delete("a", &DeleteParams::default())
            .await
            .expect("delete");
        for events in [&mut first, &mut second] {
            assert_eq!(next(events).await, "Apply b");
            assert_eq!(next(events).await, "Delete a");
        }
        assert_eq!(
            store
                .state()
                .iter()
                .map(|c| c.name_any())
                .collect::<Vec<_>>(),
            ["b"],
            "the store follows, and is updated before the event arrives"
        );
        assert_eq!(
            hub.open_watches().get("configmaps"),
            Some(&1),
            "one watch for both"
        );
    }

    #[tokio::test]
    async fn a_late_subscriber_starts_with_the_whole_list() {
        let (_hub, client) = hub();
        create(&client, "a").await;
        let informers = Informers::new(client.clone());
        let mut early = informers.of::<ConfigMap>().events().boxed();
        while next(&mut early).await != "InitDone" {}

        let mut late = informers.of::<ConfigMap>().touched().boxed();
        let first = tokio::time::timeout(Duration::from_secs(5), late.next())
            .await
            .expect("in time")
            .expect("an object");
        assert_eq!(first.name_any(), "a");
        create(&client, "b").await;
        let second = tokio::time::timeout(Duration::from_secs(5), late.next())
            .await
            .expect("in time")
            .expect("an object");
        assert_eq!(second.name_any(), "b");
    }

    #[tokio::test]
    async fn a_subscriber_joining_during_a_list_gets_the_whole_list_as_a_list_of_its_own() {
        use futures::FutureExt;
        let cm = |name: &str| -> ConfigMap {
            serde_json::from_value(json!({"metadata": {"name": name, "namespace": "default"}}))
                .expect("config map")
        };
        let mut writer = Writer::<ConfigMap>::default();
        let informer = Informer {
            store: writer.as_reader(),
            fanout: Arc::default(),
        };
        let mut early = informer.events().boxed();
        dispatch(&mut writer, &informer.fanout, Event::Init);
        dispatch(&mut writer, &informer.fanout, Event::InitApply(cm("a")));
        // Joins in the middle of the list.
        let mut late = informer.events().boxed();
        dispatch(&mut writer, &informer.fanout, Event::InitApply(cm("b")));
        dispatch(&mut writer, &informer.fanout, Event::InitDone);
        let drain = |events: &mut futures::stream::BoxStream<'static, Event<Arc<ConfigMap>>>| {
            let mut seen = Vec::new();
            while let Some(Some(event)) = events.next().now_or_never() {
                seen.push(match event {
                    Event::Init => "Init".to_string(),
                    Event::InitApply(o) => format!("InitApply {}", o.name_any()),
                    Event::InitDone => "InitDone".to_string(),
                    Event::Apply(o) => format!("Apply {}", o.name_any()),
                    Event::Delete(o) => format!("Delete {}", o.name_any()),
                });
            }
            seen
        };
        let want = ["Init", "InitApply a", "InitApply b", "InitDone"];
        assert_eq!(drain(&mut early), want, "the list as it came");
        let mut got = drain(&mut late);
        got[1..3].sort();
        assert_eq!(got, want, "Init first, then every object, then InitDone");
    }

    #[tokio::test]
    async fn changes_tick_at_once_then_once_for_many_events() {
        use futures::FutureExt;
        let (_hub, client) = hub();
        let informers = Informers::new(client.clone());
        let informer = informers.of::<ConfigMap>();
        let mut changes = informer.changes().boxed();
        assert_eq!(changes.next().await, Some(()), "a tick at once");
        let store = informer.store();
        store.wait_until_ready().await.expect("listed");
        // Five events while the subscriber is busy elsewhere...
        for name in ["a", "b", "c", "d", "e"] {
            create(&client, name).await;
        }
        while store.state().len() < 5 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        // ... are one tick, after which the store holds them all.
        assert_eq!(changes.next().now_or_never(), Some(Some(())));
        assert_eq!(changes.next().now_or_never(), None, "nothing queued");
    }

    #[tokio::test]
    async fn the_watches_stop_with_the_last_handle() {
        let (hub, client) = hub();
        let informers = Informers::new(client);
        let mut events = informers.of::<ConfigMap>().events().boxed();
        while next(&mut events).await != "InitDone" {}
        assert_eq!(hub.open_watches().get("configmaps"), Some(&1));
        let clone = informers.clone();
        drop(informers);
        assert_eq!(
            hub.open_watches().get("configmaps"),
            Some(&1),
            "a clone keeps it"
        );
        drop(clone);
        let ended = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("in time");
        assert!(ended.is_none(), "subscribers' streams end");
        for _ in 0..500 {
            if hub.open_watches().is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("still open: {:?}", hub.open_watches());
    }
}
