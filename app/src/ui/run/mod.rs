//! The run page (`/runs/<name>`, `/runs/<namespace>/<name>`): rendered on the server, readable
//! without JavaScript, then kept current — it reloads its run whenever the live link says the hub
//! changed, so the timeline, the gates and the history move without a reload.

mod actions;
mod new;
mod panels;
mod timeline;

pub use actions::Outcome;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
pub use new::NewRunPage;
pub use panels::pill_class;

use super::LiveLink;
use crate::error::AppError;
use crate::fleet::views::run_detail::RunDetail;
use crate::server_fns::runs::{get_run, run_history, HistoryLine, RunKey};

/// What the browser fetched since the server rendered the page.
#[derive(Clone, Copy)]
pub(crate) struct Live {
    detail: RwSignal<Option<(RunKey, Result<RunDetail, AppError>)>>,
    history: RwSignal<Option<(RunKey, Vec<HistoryLine>)>>,
    /// Bumped after each action this page took, to reload at once.
    pub acted: RwSignal<u64>,
}

impl Live {
    /// Reloads the run and its history whenever the hub changes or the page acts. Effects run
    /// only in the browser; a slower answer never overwrites a newer one.
    fn follow(key: Memo<RunKey>) -> Self {
        let live = Live {
            detail: RwSignal::new(None),
            history: RwSignal::new(None),
            acted: RwSignal::new(0),
        };
        let link = LiveLink::expect();
        let latest = StoredValue::new(0u64);
        Effect::new(move |_| {
            let key = key.get();
            link.changed.track();
            live.acted.track();
            let ticket = latest.get_value() + 1;
            latest.set_value(ticket);
            // The run and its history load side by side: the page shows each as it arrives.
            let history_key = key.clone();
            leptos::task::spawn_local(async move {
                let detail = get_run(key.clone()).await;
                if latest.get_value() == ticket {
                    live.detail.set(Some((key, detail)));
                }
            });
            leptos::task::spawn_local(async move {
                let history = run_history(history_key.clone()).await;
                if let (Ok(history), true) = (history, latest.get_value() == ticket) {
                    live.history.set(Some((history_key, history)));
                }
            });
        });
        live
    }
}

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        let p = params.read();
        RunKey::new(
            p.get("namespace").as_deref(),
            &p.get("name").unwrap_or_default(),
        )
    });
    let rendered = Resource::new(move || key.get(), get_run);
    let rendered_history = Resource::new(move || key.get(), run_history);
    let live = Live::follow(key);
    view! {
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the run…"</p> }>
            {move || Suspend::new(async move {
                let first = rendered.await;
                let first_history = rendered_history.await.unwrap_or_default();
                let fetched = move || {
                    live.detail.get().filter(|(k, _)| *k == key.get()).map(|(_, d)| d)
                };
                // The newest good state: what the browser fetched, else what the server rendered.
                let first_ok = first.clone().ok();
                let detail = Memo::new(move |_| {
                    fetched().and_then(Result::ok).or_else(|| first_ok.clone())
                });
                let error = Memo::new(move |_| match fetched() {
                    Some(Err(e)) => Some(e),
                    Some(Ok(_)) => None,
                    None => first.clone().err(),
                });
                let history = Memo::new(move |_| {
                    live.history
                        .get()
                        .filter(|(k, _)| *k == key.get())
                        .map(|(_, h)| h)
                        .unwrap_or_else(|| first_history.clone())
                });
                view! {
                    {move || error.get().map(|e| view! {
                        <p role="alert" class="mb-4 rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-800 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-200">
                            {e.to_string()}
                        </p>
                    })}
                    <Show
                        when=move || detail.read().is_some()
                        fallback=move || view! {
                            <leptos_meta::Title text="Run not found"/>
                            <p class="text-sm"><a href="/runs" class="text-indigo-700 underline dark:text-indigo-300">"Back to the runs"</a></p>
                        }
                    >
                        <RunBody key detail=Signal::derive(move || detail.get().unwrap_or_default()) history live/>
                    </Show>
                }
            })}
        </Suspense>
    }
}

#[component]
fn RunBody(
    key: Memo<RunKey>,
    detail: Signal<RunDetail>,
    history: Memo<Vec<HistoryLine>>,
    live: Live,
) -> impl IntoView {
    view! {
        <leptos_meta::Title text=move || key.get().name.clone()/>
        <panels::Summary key detail/>
        <actions::RunActions key detail live/>
        <panels::Problems detail/>
        <section aria-labelledby="timeline-heading" class="mt-6">
            <h2 id="timeline-heading" class="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">
                "Stages"
            </h2>
            <timeline::Timeline key detail live/>
        </section>
        <div class="mt-6 grid gap-4 lg:grid-cols-2">
            <panels::Conditions detail/>
            <panels::History history/>
        </div>
    }
}
