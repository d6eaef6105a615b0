//! The diff between two snapshots of a placement: a headline with counts and who runs each
//! side, then every added, removed or changed resource as a unified or side-by-side YAML diff.
//! Lines carry `+` / `-` as text, so colour is never the only signal.

use leptos::prelude::*;

use crate::fleet::placement::snapshot_diff::{Change, ResourceDiff, RowTag};
use crate::server_fns::placements::{diff_snapshots, DiffRequest, PlacementKey, SnapshotDiff};

#[component]
pub fn DiffPanel(key: PlacementKey, from: u64, to: u64, noise: bool, split: bool) -> impl IntoView {
    let request = DiffRequest {
        placement: key,
        from,
        to,
        show_noise: noise,
    };
    let diff = Resource::new(move || request.clone(), diff_snapshots);
    view! {
        <section id="diff" aria-labelledby="diff-title" class="mt-6 rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h2 id="diff-title" class="text-lg font-semibold">{format!("Snapshot #{from} → #{to}")}</h2>
            <Suspense fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Comparing…"</p> }>
                {move || Suspend::new(async move {
                    match diff.await {
                        Err(e) => view! { <p role="alert" class="text-sm text-rose-700 dark:text-rose-300">{e.to_string()}</p> }.into_any(),
                        Ok(d) => view! { <DiffBody diff=d from to noise split/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn who(clusters: &[String]) -> String {
    match clusters.len() {
        0 => "no cluster".into(),
        1..=4 => clusters.join(", "),
        n => format!("{n} clusters"),
    }
}

#[component]
fn DiffBody(diff: SnapshotDiff, from: u64, to: u64, noise: bool, split: bool) -> impl IntoView {
    let s = diff.summary;
    let (changed, unchanged): (Vec<ResourceDiff>, Vec<ResourceDiff>) = diff
        .resources
        .into_iter()
        .partition(|d| d.change != Change::Unchanged);
    view! {
        <p id="diff-summary" class="mt-1 text-sm text-slate-700 dark:text-slate-300">
            {format!(
                "{} changed, {} added, {} removed, {} unchanged. #{from} runs on {}; #{to} runs on {}.",
                s.changed, s.added, s.removed, s.unchanged, who(&diff.from_clusters), who(&diff.to_clusters)
            )}
            {(!noise).then_some(" Server-managed fields (uid, resourceVersion, managedFields, status…) are hidden.")}
        </p>
        {changed.is_empty().then(|| view! { <p class="mt-3 text-sm">"The two snapshots place the same resources."</p> })}
        <div class="mt-4 space-y-4">
            {changed.into_iter().map(|d| view! { <ResourceChange d split/> }).collect_view()}
        </div>
        {(!unchanged.is_empty()).then(|| view! {
            <details class="mt-4 text-sm">
                <summary class="cursor-pointer">{format!("{} unchanged resource{}", unchanged.len(), if unchanged.len() == 1 { "" } else { "s" })}</summary>
                <ul class="ml-5 mt-1 list-disc font-mono text-xs">
                    {unchanged.iter().map(|d| view! { <li>{name(d)}</li> }).collect_view()}
                </ul>
            </details>
        })}
    }
}

fn name(d: &ResourceDiff) -> String {
    let (_, kind, ns, name) = &d.key;
    if ns.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {ns}/{name}")
    }
}

#[component]
fn ResourceChange(d: ResourceDiff, split: bool) -> impl IntoView {
    let (word, class) = match d.change {
        Change::Added => (
            "Added",
            "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100",
        ),
        Change::Removed => (
            "Removed",
            "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100",
        ),
        _ => (
            "Changed",
            "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
        ),
    };
    let title = name(&d);
    let data_resource = title.clone();
    view! {
        <details open class="resource-diff rounded-md border border-slate-200 dark:border-slate-700" data-resource=data_resource data-change=word>
            <summary class="cursor-pointer px-3 py-2 text-sm">
                <span class=format!("mr-2 rounded px-1.5 py-0.5 text-xs font-medium {class}")>{word}</span>
                <span class="font-mono">{title}</span>
            </summary>
            {if split { view! { <SideBySide d/> }.into_any() } else { view! { <Unified d/> }.into_any() }}
        </details>
    }
}

#[component]
fn Unified(d: ResourceDiff) -> impl IntoView {
    let text = d.unified();
    view! {
        <pre tabindex="0" class="unified overflow-x-auto border-t border-slate-200 text-xs leading-5 dark:border-slate-700"><code>
            {text.lines().map(|line| {
                let class = match line.chars().next() {
                    Some('+') if !line.starts_with("+++") => "block bg-emerald-50 px-3 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100",
                    Some('-') if !line.starts_with("---") => "block bg-rose-50 px-3 text-rose-900 dark:bg-rose-950 dark:text-rose-100",
                    Some('@') => "block bg-slate-100 px-3 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
                    _ => "block px-3",
                };
                view! { <span class=class>{line.to_string()}"\n"</span> }
            }).collect_view()}
        </code></pre>
    }
}

#[component]
fn SideBySide(d: ResourceDiff) -> impl IntoView {
    let rows = d.side_by_side();
    view! {
        <div role="region" aria-label="Side-by-side diff (scrolls sideways)" tabindex="0" class="overflow-x-auto border-t border-slate-200 dark:border-slate-700">
            <table class="split w-full font-mono text-xs leading-5">
                <caption class="sr-only">"Old lines on the left, new lines on the right"</caption>
                <thead class="sr-only"><tr><th scope="col">"Old line"</th><th scope="col">"Old"</th><th scope="col">"New line"</th><th scope="col">"New"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let (old_class, new_class, old_mark, new_mark) = match r.tag {
                            RowTag::Equal => ("", "", " ", " "),
                            RowTag::Delete => ("bg-rose-50 text-rose-900 dark:bg-rose-950 dark:text-rose-100", "", "-", " "),
                            RowTag::Insert => ("", "bg-emerald-50 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100", " ", "+"),
                            RowTag::Replace => ("bg-rose-50 text-rose-900 dark:bg-rose-950 dark:text-rose-100", "bg-emerald-50 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100", "-", "+"),
                        };
                        let (on, ot) = r.old.map(|(n, t)| (n.to_string(), t)).unwrap_or_default();
                        let (nn, nt) = r.new.map(|(n, t)| (n.to_string(), t)).unwrap_or_default();
                        view! {
                            <tr>
                                <td class="w-8 select-none pr-2 text-right text-slate-500 dark:text-slate-400">{on}</td>
                                <td class=format!("whitespace-pre pr-4 {old_class}")>{(!ot.is_empty() || old_mark != " ").then(|| format!("{old_mark} {ot}"))}</td>
                                <td class="w-8 select-none border-l border-slate-200 pr-2 text-right text-slate-500 dark:border-slate-700 dark:text-slate-400">{nn}</td>
                                <td class=format!("whitespace-pre {new_class}")>{(!nt.is_empty() || new_mark != " ").then(|| format!("{new_mark} {nt}"))}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
