//! One server-sent-events connection per page, shared by every component through context.
//! The browser's EventSource reconnects by itself and sends `Last-Event-ID`, so after a network
//! blip the server replays only what the page missed.

use leptos::prelude::*;

use crate::fleet::views::run_view::RunRow;
use crate::live::{merge_entry, Activity};
use crate::server_fns::activity::VISIBLE_ENTRIES;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkStatus {
    /// Server-rendered, or the script has not connected yet.
    Connecting,
    Live,
    /// Lost; the browser is retrying.
    Reconnecting,
    /// The server refused the stream; no retry.
    Offline,
}

impl LinkStatus {
    pub fn label(self) -> &'static str {
        match self {
            LinkStatus::Connecting => "connecting",
            LinkStatus::Live => "live",
            LinkStatus::Reconnecting => "reconnecting",
            LinkStatus::Offline => "offline",
        }
    }
}

/// What the stream has delivered so far.
#[derive(Clone, Copy)]
pub struct LiveLink {
    pub status: RwSignal<LinkStatus>,
    /// The last full list the server sent, replacing the server-rendered one.
    pub snapshot: RwSignal<Option<Vec<Activity>>>,
    /// Entries streamed since that list.
    pub added: RwSignal<Vec<Activity>>,
    /// Moves when a Fleet page could show something new: it reloads its own page of rows.
    pub fleet: RwSignal<u64>,
    /// The Runs page's rows as last pushed.
    pub runs: RwSignal<Option<Vec<RunRow>>>,
    /// Moves whenever the hub changed: pages showing one object reload it.
    pub changed: RwSignal<u64>,
}

impl LiveLink {
    /// Creates the link, provides it as context and (in the browser) connects it.
    pub fn provide() -> Self {
        let link = LiveLink {
            status: RwSignal::new(LinkStatus::Connecting),
            snapshot: RwSignal::new(None),
            added: RwSignal::new(Vec::new()),
            fleet: RwSignal::new(0),
            runs: RwSignal::new(None),
            changed: RwSignal::new(0),
        };
        provide_context(link);
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| connect(link));
        link
    }

    pub fn expect() -> Self {
        expect_context::<LiveLink>()
    }

    /// The activity list to show: the streamed state on top of what the server rendered.
    pub fn activity(&self, rendered: Option<Vec<Activity>>) -> Vec<Activity> {
        let mut list = self.snapshot.get().or(rendered).unwrap_or_default();
        for entry in self.added.get() {
            merge_entry(&mut list, entry, VISIBLE_ENTRIES);
        }
        list
    }

    #[cfg(feature = "hydrate")]
    fn on_snapshot(&self, list: Vec<Activity>) {
        self.snapshot.set(Some(list));
        self.added.set(Vec::new());
    }

    #[cfg(feature = "hydrate")]
    fn on_added(&self, entry: Activity) {
        self.added
            .update(|added| merge_entry(added, entry, VISIBLE_ENTRIES));
    }
}

#[cfg(feature = "hydrate")]
fn connect(link: LiveLink) {
    use crate::live::{
        ADDED_EVENT, CHANGED_EVENT, EVENTS_PATH, FLEET_EVENT, RUNS_EVENT, SNAPSHOT_EVENT,
    };
    use send_wrapper::SendWrapper;
    use wasm_bindgen::prelude::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{Event, EventSource, MessageEvent};

    let Ok(source) = EventSource::new(EVENTS_PATH) else {
        link.status.set(LinkStatus::Offline);
        return;
    };
    let on_open = Closure::<dyn FnMut(Event)>::new(move |_| link.status.set(LinkStatus::Live));
    let watched = source.clone();
    let on_error = Closure::<dyn FnMut(Event)>::new(move |_| {
        let status = if watched.ready_state() == EventSource::CLOSED {
            LinkStatus::Offline
        } else {
            LinkStatus::Reconnecting
        };
        link.status.set(status);
    });
    let on_snapshot = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(list) = event
            .data()
            .as_string()
            .and_then(|d| serde_json::from_str(&d).ok())
        {
            link.on_snapshot(list);
        }
    });
    let on_added = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(entry) = event
            .data()
            .as_string()
            .and_then(|d| serde_json::from_str(&d).ok())
        {
            link.on_added(entry);
        }
    });
    // A topic event carries the whole list: it replaces what the signal holds.
    fn topic<T: serde::de::DeserializeOwned + Send + Sync + 'static>(
        signal: RwSignal<Option<T>>,
    ) -> Closure<dyn FnMut(MessageEvent)> {
        Closure::new(move |event: MessageEvent| {
            if let Some(value) = event
                .data()
                .as_string()
                .and_then(|d| serde_json::from_str(&d).ok())
            {
                signal.set(Some(value));
            }
        })
    }
    let on_runs = topic(link.runs);
    // A counter event carries a number: the signal moves, and what follows it reloads.
    fn counter(signal: RwSignal<u64>) -> Closure<dyn FnMut(MessageEvent)> {
        Closure::new(move |event: MessageEvent| {
            if let Some(n) = event.data().as_string().and_then(|d| d.parse::<u64>().ok()) {
                signal.set(n);
            }
        })
    }
    let on_fleet = counter(link.fleet);
    let on_changed = counter(link.changed);
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let _ = source
        .add_event_listener_with_callback(SNAPSHOT_EVENT, on_snapshot.as_ref().unchecked_ref());
    let _ = source.add_event_listener_with_callback(ADDED_EVENT, on_added.as_ref().unchecked_ref());
    let _ = source.add_event_listener_with_callback(FLEET_EVENT, on_fleet.as_ref().unchecked_ref());
    let _ = source.add_event_listener_with_callback(RUNS_EVENT, on_runs.as_ref().unchecked_ref());
    let _ =
        source.add_event_listener_with_callback(CHANGED_EVENT, on_changed.as_ref().unchecked_ref());

    // The closures must live as long as the connection; both go together when the page does.
    let held = SendWrapper::new((
        source,
        on_open,
        on_error,
        on_snapshot,
        on_added,
        on_fleet,
        on_runs,
        on_changed,
    ));
    on_cleanup(move || held.0.close());
}
