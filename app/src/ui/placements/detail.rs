//! One placement's page. Its sections follow what a person asks in order: what state is it in,
//! which cluster runs which snapshot, what snapshots exist, what changed between two of them,
//! and what rolling back to one would do. The diff and the rollback are chosen with GET forms
//! (`?from=&to=`, `?rollback=`), so they work without JavaScript and can be linked to.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::diff::DiffPanel;
use super::rollback::RollbackPanel;
use super::{spread, ToneChip};
use crate::fleet::views::placement_view::{ClusterCell, PlacementRow};
use crate::server_fns::placements::{get_placement, HistoryEntry, PlacementDetail, PlacementKey};
use crate::ui::clock::{ago, stamp, Clock};
use crate::ui::LiveLink;

/// Clusters shown in the clusters × snapshots table; the rest are counted.
const MATRIX_ROWS: usize = 100;
/// Snapshot columns in that table: the newest ones.
const MATRIX_COLUMNS: usize = 6;

const FIELD: &str = "mt-1 block rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-600 dark:bg-slate-950 dark:text-slate-100";
const BUTTON: &str = "inline-flex items-center rounded-md border border-indigo-700 bg-indigo-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 dark:border-indigo-400 dark:bg-indigo-400 dark:text-slate-950";
const LINK: &str = "text-indigo-700 underline underline-offset-2 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:text-indigo-300";

#[component]
pub fn PlacementPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        let p = params.read();
        PlacementKey::new(
            p.get("namespace").as_deref(),
            &p.get("name").unwrap_or_default(),
        )
    });
    let link = LiveLink::expect();
    let detail = Resource::new(
        move || (key.get(), link.changed.get()),
        |(key, _)| get_placement(key),
    );
    let query = use_query_map();
    let number = move |name: &str| query.read().get(name).and_then(|v| v.parse::<u64>().ok());
    view! {
        <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading the placement…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! {
                        <h1 class="mb-4 text-2xl font-semibold tracking-tight">{key.get_untracked().reference()}</h1>
                        <p role="alert" class="text-sm text-rose-700 dark:text-rose-300">{e.to_string()}</p>
                        <a href="/placements" class=LINK>"All placements"</a>
                    }.into_any(),
                    Ok(d) => view! { <Placement key=key.get_untracked() detail=d/> }.into_any(),
                }
            })}
        </Transition>
        {move || {
            let (from, to) = (number("from"), number("to"));
            let noise = query.read().get("noise").is_some_and(|v| v == "on" || v == "true");
            let split = query.read().get("layout").is_some_and(|v| v == "split");
            match (from, to) {
                (Some(from), Some(to)) => Some(view! { <DiffPanel key=key.get() from to noise split/> }),
                _ => None,
            }
        }}
        {move || number("rollback").map(|target| {
            let strategy = query.read().get("strategy").unwrap_or_default();
            view! { <RollbackPanel key=key.get() target strategy/> }
        })}
    }
}

#[component]
fn Placement(key: PlacementKey, detail: PlacementDetail) -> impl IntoView {
    let PlacementDetail {
        row,
        history,
        problems,
        ..
    } = detail;
    let scope = row
        .namespace
        .clone()
        .map(|ns| format!("ResourcePlacement in namespace {ns}"))
        .unwrap_or_else(|| "ClusterResourcePlacement".into());
    let title = row.reference();
    view! {
        <leptos_meta::Title text=format!("{title} · Placements")/>
        <nav aria-label="Breadcrumb" class="mb-2 text-sm"><a href="/placements" class=LINK>"Placements"</a></nav>
        <div class="mb-6 flex flex-wrap items-start justify-between gap-3">
            <div>
                <h1 class="font-mono text-2xl font-semibold tracking-tight">{title}</h1>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                    {format!("{scope} · policy {} · strategy {} · {} resources selected", row.policy, row.strategy, row.selected)}
                </p>
            </div>
            <ToneChip tone=row.tone/>
        </div>
        <p id="placement-headline" class="mb-6 rounded-md border border-slate-200 bg-white p-3 text-sm dark:border-slate-800 dark:bg-slate-900" role="status">
            {row.headline.clone()}
        </p>
        {(!problems.is_empty()).then(|| view! {
            <div role="alert" class="mb-6 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
                <p class="font-medium">"Some snapshot objects cannot be read:"</p>
                <ul class="ml-5 list-disc">{problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            </div>
        })}
        <div class="space-y-6">
            <Matrix row=row.clone() history=history.clone()/>
            <History key=key.clone() history=history.clone() row=row/>
            <CompareForm history/>
        </div>
    }
}

/// Clusters down, snapshots across: a half-finished rollout shows as two columns of marks.
#[component]
fn Matrix(row: PlacementRow, history: Vec<HistoryEntry>) -> impl IntoView {
    let columns: Vec<u64> = history
        .iter()
        .take(MATRIX_COLUMNS)
        .map(|h| h.index)
        .collect();
    let older = history.len().saturating_sub(MATRIX_COLUMNS);
    let hidden = row.clusters.len().saturating_sub(MATRIX_ROWS);
    let spread = spread(&row);
    let cols = columns.clone();
    view! {
        <section aria-labelledby="matrix-title" class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h2 id="matrix-title" class="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">"Which cluster runs which snapshot"</h2>
            <p class="mt-1 mb-3 text-sm text-slate-700 dark:text-slate-300">{if spread.is_empty() { "No cluster is scheduled.".to_string() } else { spread }}</p>
            {(!row.clusters.is_empty()).then(|| view! {
                <div role="region" aria-label="Clusters and snapshots (scrolls sideways)" tabindex="0" class="overflow-x-auto">
                    <table id="matrix" class="text-sm">
                        <caption class="sr-only">"Scheduled clusters and the snapshot index each runs"</caption>
                        <thead>
                            <tr class="text-xs text-slate-600 dark:text-slate-400">
                                <th scope="col" class="py-1 pr-4 text-left">"Cluster"</th>
                                {cols.iter().map(|i| view! { <th scope="col" class="px-3 py-1 text-center font-mono">{format!("#{i}")}</th> }).collect_view()}
                                {(older > 0).then(|| view! { <th scope="col" class="px-3 py-1 text-center">{format!("{older} older")}</th> })}
                            </tr>
                        </thead>
                        <tbody>
                            {row.clusters.iter().take(MATRIX_ROWS).map(|c| {
                                let columns = columns.clone();
                                view! {
                                    <tr class="border-t border-slate-100 dark:border-slate-800" data-cluster=c.cluster.clone() data-index=c.index.map(|i| i.to_string()).unwrap_or_default()>
                                        <th scope="row" class="py-1 pr-4 text-left font-mono font-normal">{c.cluster.clone()}</th>
                                        {columns.iter().map(|i| view! { <td class="px-3 py-1 text-center">{mark(c, *i)}</td> }).collect_view()}
                                        {(older > 0).then(|| view! {
                                            <td class="px-3 py-1 text-center">{c.index.filter(|i| !columns.contains(i)).map(|i| format!("#{i}"))}</td>
                                        })}
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                {(hidden > 0).then(|| view! { <p class="mt-2 text-xs text-slate-600 dark:text-slate-400">{format!("{hidden} more clusters not listed; the counts above include them.")}</p> })}
            })}
        </section>
    }
}

/// The cell for `cluster` under snapshot `index`: a mark with words for screen readers.
fn mark(cluster: &ClusterCell, index: u64) -> impl IntoView {
    if cluster.index != Some(index) {
        return view! { <span class="text-slate-300 dark:text-slate-700" aria-hidden="true">"·"</span> }.into_any();
    }
    let (icon, words, class) = match (&cluster.problem, cluster.available) {
        (Some(p), _) => (
            "✕",
            format!("runs #{index}, in trouble: {p}"),
            "text-rose-700 dark:text-rose-300",
        ),
        (None, Some(true)) => (
            "●",
            format!("runs #{index}, available"),
            "text-emerald-700 dark:text-emerald-300",
        ),
        (None, _) => (
            "◑",
            format!("runs #{index}, not available yet"),
            "text-amber-700 dark:text-amber-300",
        ),
    };
    let tooltip = words.clone();
    view! {
        <span class=class title=tooltip>
            <span aria-hidden="true">{icon}</span>
            <span class="sr-only">{words}</span>
        </span>
    }
    .into_any()
}

#[component]
fn History(key: PlacementKey, history: Vec<HistoryEntry>, row: PlacementRow) -> impl IntoView {
    let now = move || Clock::now();
    let base = key.path();
    let latest = row.latest_index;
    view! {
        <section aria-labelledby="history-title" class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h2 id="history-title" class="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">"Snapshot history"</h2>
            <p class="mt-1 mb-3 text-sm text-slate-700 dark:text-slate-300">"Newest first. Each snapshot is what the placement selected at one moment; a run rolls one of them out. Pick one to compare or to roll back to."</p>
            <div role="region" aria-label="Snapshot history (scrolls sideways)" tabindex="0" class="overflow-x-auto">
                <table id="history" class="w-full text-left text-sm">
                    <caption class="sr-only">"Resource snapshots of this placement"</caption>
                    <thead class="text-xs uppercase tracking-wide text-slate-600 dark:text-slate-400">
                        <tr>
                            <th scope="col" class="py-1 pr-3">"Index"</th>
                            <th scope="col" class="py-1 pr-3">"Created"</th>
                            <th scope="col" class="hidden py-1 pr-3 md:table-cell">"Resources"</th>
                            <th scope="col" class="hidden py-1 pr-3 lg:table-cell">"Hash"</th>
                            <th scope="col" class="py-1 pr-3">"Runs here"</th>
                            <th scope="col" class="hidden py-1 pr-3 md:table-cell">"Rolled out by"</th>
                            <th scope="col" class="py-1">"Actions"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {history.into_iter().map(|h| {
                            let created = h.created;
                            let compare = latest.filter(|l| *l != h.index).map(|l| format!("{base}?from={}&to={l}#diff", h.index));
                            let rollback = (latest != Some(h.index) || h.clusters.len() < row.clusters.len()).then(|| format!("{base}?rollback={}#rollback", h.index));
                            let size = if h.bytes >= 10_240 { format!("{} KiB", h.bytes / 1024) } else { format!("{} B", h.bytes) };
                            let chunks = if h.expected_objects > 1 || !h.complete {
                                format!(", {} of {} objects{}", h.objects, h.expected_objects, if h.complete { "" } else { " — incomplete" })
                            } else { String::new() };
                            view! {
                                <tr class="snapshot border-t border-slate-100 align-top dark:border-slate-800" data-index=h.index.to_string()>
                                    <td class="py-2 pr-3 font-mono">
                                        {format!("#{}", h.index)}
                                        {h.latest.then(|| view! { <span class="ml-1 rounded bg-indigo-100 px-1 text-xs text-indigo-900 dark:bg-indigo-900/60 dark:text-indigo-100">"latest"</span> })}
                                    </td>
                                    <td class="py-2 pr-3 whitespace-nowrap">
                                        {created.map(|t| view! { <time datetime=t.to_rfc3339() title=stamp(t)>{move || ago(t, now())}</time> })}
                                    </td>
                                    <td class="hidden py-2 pr-3 md:table-cell">{format!("{} ({size}{chunks})", h.resources)}</td>
                                    <td class="hidden py-2 pr-3 font-mono text-xs lg:table-cell" title=h.hash.clone().unwrap_or_default()>{h.hash.as_deref().map(short_hash)}</td>
                                    <td class="py-2 pr-3">
                                        {if h.clusters.is_empty() { "—".to_string() } else if h.clusters.len() <= 3 { h.clusters.join(", ") } else { format!("{} clusters", h.clusters.len()) }}
                                    </td>
                                    <td class="hidden py-2 pr-3 md:table-cell">
                                        {h.runs.into_iter().map(|(href, name)| view! { <a href=href class=format!("{LINK} mr-2 inline-block whitespace-nowrap font-mono")>{name}</a> }).collect_view()}
                                    </td>
                                    <td class="py-2 whitespace-nowrap">
                                        {compare.map(|href| view! { <a href=href class=format!("{LINK} mr-3") aria-label=format!("Compare snapshot {} with the latest", h.index)>"Compare"</a> })}
                                        {rollback.map(|href| view! { <a href=href class=LINK aria-label=format!("Roll back to snapshot {}", h.index)>"Roll back to this"</a> })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// `sha256:` and twelve hex digits are enough to tell snapshots apart.
fn short_hash(hash: &str) -> String {
    let bare = hash.strip_prefix("sha256:").unwrap_or(hash);
    bare.chars().take(12).collect()
}

/// Pick any two snapshots to compare (a GET form: works without JavaScript). The fields follow
/// the query, so a link that opens another diff also shows that pair picked in the form.
#[component]
fn CompareForm(history: Vec<HistoryEntry>) -> impl IntoView {
    let query = use_query_map();
    let (newest, second) = (
        history.first().map(|h| h.index),
        history.get(1).map(|h| h.index),
    );
    let pick = move |name: &str, default: Option<u64>| {
        query
            .read()
            .get(name)
            .and_then(|v| v.parse::<u64>().ok())
            .or(default)
    };
    let from = Memo::new(move |_| pick("from", second));
    let to = Memo::new(move |_| pick("to", newest));
    let noise = Memo::new(move |_| query.read().get("noise").is_some());
    let split = Memo::new(move |_| query.read().get("layout").is_some_and(|v| v == "split"));
    let value =
        |picked: Memo<Option<u64>>| move || picked.get().map(|i| i.to_string()).unwrap_or_default();
    // `selected` for the server's HTML; `prop:value` keeps the field right after navigating.
    let options = move |selected: Option<u64>| {
        history
            .iter()
            .map(|h| {
                let label = format!("#{}{}", h.index, if h.latest { " (latest)" } else { "" });
                view! { <option value=h.index.to_string() selected=Some(h.index) == selected>{label}</option> }
            })
            .collect_view()
    };
    view! {
        <section aria-labelledby="compare-title" class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h2 id="compare-title" class="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">"Compare two snapshots"</h2>
            <Form method="GET" action="" attr:class="mt-2 flex flex-wrap items-end gap-3" attr:id="compare-form">
                <div>
                    <label for="diff-from" class="block text-sm font-medium">"From"</label>
                    <select id="diff-from" name="from" class=FIELD prop:value=value(from)>{options(from.get_untracked())}</select>
                </div>
                <div>
                    <label for="diff-to" class="block text-sm font-medium">"To"</label>
                    <select id="diff-to" name="to" class=FIELD prop:value=value(to)>{options(to.get_untracked())}</select>
                </div>
                <fieldset class="text-sm">
                    <legend class="font-medium">"Layout"</legend>
                    <label class="mr-3"><input type="radio" name="layout" value="unified" checked=!split.get_untracked() prop:checked=move || !split.get()/>" Unified"</label>
                    <label><input type="radio" name="layout" value="split" checked=split.get_untracked() prop:checked=move || split.get()/>" Side by side"</label>
                </fieldset>
                <label class="flex items-center gap-1 text-sm">
                    <input type="checkbox" name="noise" value="on" checked=noise.get_untracked() prop:checked=move || noise.get()/>
                    "Show server-managed fields"
                </label>
                <button type="submit" class=BUTTON>"Compare"</button>
            </Form>
        </section>
    }
}
