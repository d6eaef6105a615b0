//! The activity feed: rendered on the server, then kept current by the page's live link.

use leptos::prelude::*;

use super::LiveLink;
use crate::live::Activity;
use crate::server_fns::activity::{list_activity, PostNote, MAX_NOTE_CHARS};

const LINKED: &str = "activity-message break-words text-indigo-700 underline underline-offset-2 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:text-indigo-300";

/// The feed, newest first.
#[component]
pub fn ActivityFeed() -> impl IntoView {
    let link = LiveLink::expect();
    let rendered = Resource::new(|| (), |_| list_activity());
    view! {
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let rendered = rendered.await;
                let error = rendered.as_ref().err().map(|e| e.to_string());
                let rendered = rendered.ok();
                let entries = move || {
                    let mut list = link.activity(rendered.clone());
                    list.reverse();
                    list
                };
                view! {
                    {error.map(|e| view! { <p class="text-sm text-rose-600">{e}</p> })}
                    <ol id="activity" class="mt-3 divide-y divide-slate-100 dark:divide-slate-800">
                        <For each=entries key=|entry| entry.seq let:entry>
                            <ActivityRow entry/>
                        </For>
                    </ol>
                }
            })}
        </Suspense>
    }
}

#[component]
fn ActivityRow(entry: Activity) -> impl IntoView {
    let source = entry.source.clone();
    view! {
        <li class="flex items-baseline gap-3 py-2 text-sm" data-seq=entry.seq data-source=source>
            <time class="shrink-0 font-mono text-xs text-slate-500 dark:text-slate-400" datetime=entry.at.to_rfc3339()>
                {entry.at.format("%H:%M:%S").to_string()}
            </time>
            <span class="shrink-0 rounded bg-slate-100 px-1.5 text-xs text-slate-600 dark:bg-slate-800 dark:text-slate-300">
                {entry.source}
            </span>
            // Every row has the same elements, whatever it carries: the feed's rows are
            // hydrated against the server's, and a row whose shape differed would not hydrate.
            <span hidden=!entry.warning class="shrink-0 rounded bg-amber-100 px-1.5 text-xs font-medium text-amber-900 dark:bg-amber-900/60 dark:text-amber-100">"⚠ Warning"</span>
            // An `a` without `href` is a placeholder, not a link.
            <a href=entry.link.clone() class=if entry.link.is_some() { LINKED } else { "activity-message break-words" }>{entry.message}</a>
        </li>
    }
}

/// Posts a note through a server function. Works without JavaScript too (a plain form POST).
#[component]
pub fn NoteForm() -> impl IntoView {
    let post = ServerAction::<PostNote>::new();
    let outcome = move || {
        post.value().get().map(|result| match result {
            Ok(entry) => view! {
                <p id="note-result" class="text-xs text-emerald-700 dark:text-emerald-400">
                    {format!("Posted as #{}", entry.seq)}
                </p>
            }
            .into_any(),
            Err(e) => view! {
                <p id="note-result" role="alert" class="text-xs text-rose-600 dark:text-rose-400">{e.to_string()}</p>
            }
            .into_any(),
        })
    };
    view! {
        <ActionForm action=post attr:class="flex flex-col gap-1">
            <div class="flex gap-2">
                <input
                    id="note-text"
                    name="text"
                    type="text"
                    maxlength=MAX_NOTE_CHARS
                    placeholder="Tell the team what is happening…"
                    class="min-w-0 flex-1 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm placeholder:text-slate-400 focus:border-indigo-500 focus:outline-none dark:border-slate-700 dark:bg-slate-950"
                />
                <button
                    id="note-post"
                    type="submit"
                    class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-700 disabled:opacity-50"
                    disabled=move || post.pending().get()
                >
                    "Post"
                </button>
            </div>
            {outcome}
        </ActionForm>
    }
}
