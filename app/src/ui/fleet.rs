//! The Fleet page: counts over the whole fleet, then one page (50) of member clusters matching a
//! search, a label selector, a health and a placement filter (a GET form: it works without
//! JavaScript and can be bookmarked), shown as a members × placements table — each cell the
//! snapshot index that placement runs on that member and whether it is available there, so a
//! half-finished rollout reads at a glance. Rendered on the server; in the browser it reloads
//! its own page of rows whenever the live link's `fleet` counter moves (never the whole fleet).

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::clock::{ago, stamp, Clock};
use super::layout::{Card, PageHeader};
use super::LiveLink;
use crate::error::AppError;
use crate::fleet::views::member_view::query::{
    FleetPage as Page, FleetQuery, FleetSummary, Health, PageRow, PlacementSummary, PAGE_SIZE,
};
use crate::fleet::views::member_view::PlacementOnMember;
use crate::server_fns::fleet::get_fleet_page;

const FIELD: &str = "mt-1 block w-full rounded-md border border-slate-400 bg-white px-2 py-1 text-sm text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-500 dark:bg-slate-950 dark:text-slate-100";
const LINK: &str = "rounded text-indigo-700 underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:text-indigo-300";

fn health_class(h: Health) -> &'static str {
    match h {
        Health::Joined => {
            "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100"
        }
        Health::Stale => "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
        Health::NotJoined => "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100",
    }
}

/// Percent-encodes a query value (everything but RFC 3986's unreserved characters).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The page's query string for `query` (empty fields left out), e.g. `?labels=env%3Dprod&page=2`.
fn href(query: &FleetQuery) -> String {
    let mut parts = Vec::new();
    for (key, value) in [
        ("q", &query.q),
        ("labels", &query.labels),
        ("health", &query.health),
        ("placement", &query.placement),
    ] {
        if !value.trim().is_empty() {
            parts.push(format!("{key}={}", encode(value.trim())));
        }
    }
    if query.page > 1 {
        parts.push(format!("page={}", query.page));
    }
    if parts.is_empty() {
        "/fleet".into()
    } else {
        format!("/fleet?{}", parts.join("&"))
    }
}

#[component]
pub fn FleetPage() -> impl IntoView {
    let link = LiveLink::expect();
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let p = params.read();
        FleetQuery {
            q: p.get("q").unwrap_or_default(),
            labels: p.get("labels").unwrap_or_default(),
            health: p.get("health").unwrap_or_default(),
            placement: p.get("placement").unwrap_or_default(),
            page: p.get("page").and_then(|n| n.parse().ok()).unwrap_or(1),
        }
    });
    // The server renders the first answer; the browser then follows the query and the hub.
    let rendered = Resource::new(|| (), move |_| get_fleet_page(query.get_untracked()));
    let fetched: RwSignal<Option<Result<Page, AppError>>> = RwSignal::new(None);
    let latest = StoredValue::new(0u64);
    Effect::new(move |_| {
        let query = query.get();
        link.fleet.track();
        let ticket = latest.get_value() + 1;
        latest.set_value(ticket);
        leptos::task::spawn_local(async move {
            let answer = get_fleet_page(query).await;
            // A slower, older answer never overwrites a newer one.
            if latest.get_value() == ticket {
                fetched.set(Some(answer));
            }
        });
    });
    view! {
        <PageHeader title="Fleet" subtitle="Member clusters, their health, and which snapshot each placement runs on each of them."/>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let first = rendered.await;
                let first_ok = first.clone().ok();
                let data = Memo::new(move |_| match fetched.get() {
                    Some(Ok(page)) => Some(page),
                    Some(Err(_)) | None => first_ok.clone(),
                });
                let error = Memo::new(move |_| match fetched.get() {
                    Some(Err(e)) => Some(e.to_string()),
                    Some(Ok(_)) => None,
                    None => first.clone().err().map(|e| e.to_string()),
                });
                view! {
                    {move || error.get().map(|e| view! { <p role="alert" class="mb-3 text-sm text-rose-700 dark:text-rose-300">{e}</p> })}
                    {move || data.get().map(|page| {
                        let summary = page.summary.clone();
                        view! {
                            <Summary summary=summary.clone()/>
                            <Filters query summary/>
                            <Members page/>
                        }
                    })}
                }
            })}
        </Suspense>
    }
}

/// The counts over the whole fleet, each health a link that filters by it.
#[component]
fn Summary(summary: FleetSummary) -> impl IntoView {
    let sentence = format!(
        "{} members: {} joined, {} with a stale heartbeat, {} not joined.",
        summary.members, summary.joined, summary.stale, summary.not_joined
    );
    view! {
        <section aria-labelledby="fleet-counts-heading" class="mb-4">
            <h2 id="fleet-counts-heading" class="sr-only">"Fleet health"</h2>
            // A live region: a member going stale is announced.
            <p id="fleet-sentence" role="status" aria-live="polite" class="sr-only">{sentence}</p>
            <ul id="fleet-counts" class="grid grid-cols-2 gap-2 sm:grid-cols-4">
                <li class="rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900">
                    <a href="/fleet" class="block rounded focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500" data-count="members">
                        <span class="block text-2xl font-semibold">{summary.members}</span>
                        <span class="text-xs text-slate-700 dark:text-slate-300">"members"</span>
                    </a>
                </li>
                {Health::ALL.into_iter().map(|h| {
                    let n = summary.count(h);
                    view! {
                        <li class="rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900">
                            <a href=format!("/fleet?health={}", h.param()) class="block rounded focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500" data-count=h.param()>
                                <span class="block text-2xl font-semibold">{n}</span>
                                <span class=format!("inline-block rounded-full px-2 py-0.5 text-xs font-medium {}", health_class(h))>
                                    <span aria-hidden="true">{h.icon()}" "</span>{h.label().to_lowercase()}
                                </span>
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {(!summary.placements.is_empty()).then(|| view! {
                <ul id="placement-counts" class="mt-3 grid gap-2 md:grid-cols-2" aria-label="Placements across the fleet">
                    {summary.placements.iter().cloned().map(|p| view! { <PlacementCount p/> }).collect_view()}
                </ul>
            })}
        </section>
    }
}

#[component]
fn PlacementCount(p: PlacementSummary) -> impl IntoView {
    let percent = (p.available * 100).checked_div(p.clusters).unwrap_or(0);
    let indexes = p
        .by_index
        .iter()
        .map(|c| match &c.index {
            Some(i) => format!("snapshot {i} on {}", c.clusters),
            None => format!("not bound yet on {}", c.clusters),
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let name = p.placement.clone();
    view! {
        <li class="placement-count rounded-lg border border-slate-200 bg-white p-3 text-sm dark:border-slate-800 dark:bg-slate-900" data-placement=name.clone()>
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <a href=format!("/fleet?placement={}", encode(&name)) class=format!("font-mono font-medium {LINK}")>{name.clone()}</a>
                <span class="available text-xs text-slate-700 dark:text-slate-300">
                    {format!("{} of {} available · {} not yet", p.available, p.clusters, p.not_yet())}
                </span>
            </div>
            <div class="mt-2 h-2 rounded bg-slate-200 dark:bg-slate-700" role="img" aria-label=format!("{percent}% available")>
                <div class="h-2 rounded bg-emerald-600 dark:bg-emerald-400" style=format!("width: {percent}%")></div>
            </div>
            <p class="indexes mt-1 text-xs text-slate-700 dark:text-slate-300">{indexes}</p>
        </li>
    }
}

#[component]
fn Filters(query: Memo<FleetQuery>, summary: FleetSummary) -> impl IntoView {
    view! {
        <Form method="GET" action="/fleet" attr:id="fleet-filters" attr:class="mb-3 grid gap-3 rounded-lg border border-slate-200 bg-white p-3 sm:grid-cols-2 lg:grid-cols-[1fr_1.4fr_auto_auto_auto] lg:items-end dark:border-slate-800 dark:bg-slate-900">
            <div>
                <label for="fleet-q" class="block text-xs font-medium">"Name contains"</label>
                <input id="fleet-q" name="q" type="search" class=FIELD prop:value=move || query.get().q autocomplete="off"/>
            </div>
            <div>
                <label for="fleet-labels" class="block text-xs font-medium">"Labels"</label>
                <input
                    id="fleet-labels"
                    name="labels"
                    class=format!("{FIELD} font-mono")
                    prop:value=move || query.get().labels
                    placeholder="env=prod,region in (east)"
                    aria-describedby="fleet-labels-help"
                    autocomplete="off"
                />
                <p id="fleet-labels-help" class="sr-only">"A label selector as kubectl takes it: key=value, key!=value, key in (a,b), key notin (a,b), key, !key, separated by commas."</p>
            </div>
            <div>
                <label for="fleet-health" class="block text-xs font-medium">"Health"</label>
                <select id="fleet-health" name="health" class=FIELD onchange="this.form.requestSubmit()">
                    <option value="" selected=move || query.get().health.is_empty()>"Any"</option>
                    {Health::ALL.into_iter().map(|h| view! {
                        <option value=h.param() selected=move || query.get().health == h.param()>{h.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for="fleet-placement" class="block text-xs font-medium">"Placement"</label>
                <select id="fleet-placement" name="placement" class=FIELD onchange="this.form.requestSubmit()">
                    <option value="" selected=move || query.get().placement.is_empty()>"Any"</option>
                    {summary.placements.into_iter().map(|p| {
                        let name = p.placement;
                        let value = name.clone();
                        let current = name.clone();
                        view! { <option value=value selected=move || query.get().placement == current>{name}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="flex items-end gap-3">
                <button type="submit" class="rounded-md border border-indigo-700 bg-indigo-700 px-3 py-1 text-sm font-medium text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 dark:border-indigo-400 dark:bg-indigo-400 dark:text-slate-950">
                    "Filter"
                </button>
                <a href="/fleet" class=format!("text-sm {LINK}")>"Clear"</a>
            </div>
        </Form>
    }
}

#[component]
fn Members(page: Page) -> impl IntoView {
    let placements: Vec<String> = page
        .summary
        .placements
        .iter()
        .map(|p| p.placement.clone())
        .collect();
    // The newest index each placement has anywhere: a cell behind it is mid-rollout.
    let newest: Vec<Option<u64>> = page
        .summary
        .placements
        .iter()
        .map(|p| {
            p.by_index
                .iter()
                .filter_map(|c| c.index.as_deref()?.parse().ok())
                .max()
        })
        .collect();
    let first = (page.page - 1) * PAGE_SIZE + usize::from(!page.rows.is_empty());
    let last = (page.page - 1) * PAGE_SIZE + page.rows.len();
    let range = if page.matching == 0 {
        "No member matches.".to_string()
    } else {
        format!("Members {first}–{last} of {} matching", page.matching)
    };
    view! {
        {page.selector_error.clone().map(|e| view! {
            <p role="alert" id="selector-error" class="mb-3 rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-100">{e}</p>
        })}
        <p id="fleet-range" class="mb-2 text-sm text-slate-700 dark:text-slate-300" aria-live="polite">{range}</p>
        {if page.summary.members == 0 {
            view! {
                <Card title="No member clusters">
                    <p class="text-sm text-slate-700 dark:text-slate-300">
                        "No member cluster has joined this fleet. Start fleetdeck with the demo fleet, or with --member NAME:labels."
                    </p>
                </Card>
            }.into_any()
        } else if page.rows.is_empty() {
            ().into_any()
        } else {
            let header = placements.clone();
            view! {
                // Focusable: on a phone the placement columns scroll, and a keyboard must reach them.
                <div tabindex="0" role="region" aria-label="Members table" class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-800 dark:bg-slate-900">
                    <table id="members" class="min-w-full text-sm">
                        <caption class="sr-only">"Member clusters by placement: each cell is the snapshot index the placement runs on that member, and whether it is available there."</caption>
                        <thead class="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-700 dark:bg-slate-800/60 dark:text-slate-300">
                            <tr>
                                // The status first: on a phone it must never scroll off.
                                <th scope="col" class="px-3 py-2">"Status"</th>
                                <th scope="col" class="px-3 py-2">"Member"</th>
                                {header.into_iter().map(|p| {
                                    let data = p.clone();
                                    view! { <th scope="col" class="px-3 py-2 font-mono normal-case" data-placement=data>{p}</th> }
                                }).collect_view()}
                                <th scope="col" class="px-3 py-2">"Nodes"</th>
                                <th scope="col" class="px-3 py-2">"Kubernetes"</th>
                                <th scope="col" class="px-3 py-2">"Node images"</th>
                                <th scope="col" class="px-3 py-2">"Update group"</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                            {page.rows.into_iter().map(|row| {
                                let (placements, newest) = (placements.clone(), newest.clone());
                                view! { <MemberLine row placements newest/> }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <Pager page=page.page pages=page.pages/>
    }
}

#[component]
fn MemberLine(row: PageRow, placements: Vec<String>, newest: Vec<Option<u64>>) -> impl IntoView {
    let PageRow { member, health } = row;
    let seen = member.last_seen;
    let name = member.name.clone();
    let data_name = name.clone();
    view! {
        <tr class="member align-top" data-member=data_name data-health=health.param()>
            <td class="px-3 py-2">
                <span class=format!("health whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium {}", health_class(health))>
                    <span aria-hidden="true">{health.icon()}" "</span>{health.label()}
                </span>
                <div class="seen mt-1 whitespace-nowrap text-xs text-slate-700 dark:text-slate-300">
                    {move || match seen {
                        Some(t) => view! { <span title=stamp(t)>{format!("beat {}", ago(t, Clock::now()))}</span> }.into_any(),
                        None => view! { <span>"never heard from"</span> }.into_any(),
                    }}
                </div>
            </td>
            <th scope="row" class="px-3 py-2 text-left font-normal">
                <span class="name font-mono font-medium">{name}</span>
                <ul class="mt-1 flex max-w-xs flex-wrap gap-1" aria-label="Labels">
                    {member.labels.iter().filter(|(k, _)| k.as_str() != "kubernetes-fleet.io/member-name").map(|(k, v)| view! {
                        <li class="label rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-800 dark:bg-slate-800 dark:text-slate-200">
                            {format!("{k}={v}")}
                        </li>
                    }).collect_view()}
                </ul>
            </th>
            {placements.iter().zip(newest).map(|(p, newest)| {
                let on = member.placements.iter().find(|m| &m.placement == p).cloned();
                view! { <Cell placement=p.clone() on newest/> }
            }).collect_view()}
            <td class="px-3 py-2 text-xs text-slate-700 dark:text-slate-300">{member.node_count.clone().unwrap_or_else(|| "—".into())}</td>
            <td class="kubernetes px-3 py-2 font-mono text-xs text-slate-800 dark:text-slate-200">{member.kubernetes_version.clone().unwrap_or_else(|| "—".into())}</td>
            <td class="node-images px-3 py-2 text-xs text-slate-800 dark:text-slate-200">
                {if member.node_images.is_empty() {
                    view! { <span>"—"</span> }.into_any()
                } else {
                    view! {
                        <ul aria-label="Node pools">
                            {member.node_images.iter().map(|(pool, image)| view! {
                                <li class="whitespace-nowrap"><span class="text-slate-700 dark:text-slate-300">{format!("{pool}: ")}</span><span class="font-mono">{image.clone()}</span></li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </td>
            <td class="update-group px-3 py-2 font-mono text-xs text-slate-800 dark:text-slate-200">{member.update_group.clone().unwrap_or_else(|| "—".into())}</td>
        </tr>
    }
}

/// One placement on one member: its snapshot index, and available or not, in icon and words.
#[component]
fn Cell(placement: String, on: Option<PlacementOnMember>, newest: Option<u64>) -> impl IntoView {
    let Some(on) = on else {
        return view! {
            <td class="cell px-3 py-2 text-xs text-slate-600 dark:text-slate-400" data-placement=placement data-index="">
                <span aria-hidden="true">"—"</span><span class="sr-only">"not placed here"</span>
            </td>
        }
        .into_any();
    };
    let index = on.resource_index.clone();
    let behind = index
        .as_deref()
        .and_then(|i| i.parse::<u64>().ok())
        .zip(newest)
        .is_some_and(|(i, n)| i < n);
    let (icon, words, class) = match (on.available, index.is_some()) {
        (Some(true), _) => ("✓", "available", "text-emerald-800 dark:text-emerald-300"),
        (Some(false), _) => (
            "◷",
            "not available yet",
            "text-amber-800 dark:text-amber-300",
        ),
        (None, true) => ("◷", "applying", "text-amber-800 dark:text-amber-300"),
        (None, false) => ("○", "not bound yet", "text-slate-700 dark:text-slate-300"),
    };
    let state = on.state.to_lowercase();
    let data_index = index.clone().unwrap_or_default();
    let shown = match index {
        Some(i) => format!("snapshot {i}"),
        None => "no snapshot".into(),
    };
    let words = if on.state == "Unscheduled" {
        "leaving"
    } else {
        words
    };
    view! {
        <td
            class=format!("cell px-3 py-2 text-xs {}", if behind { "bg-amber-50 dark:bg-amber-950/40" } else { "" })
            data-placement=placement
            data-index=data_index
            data-available=on.available.map(|a| a.to_string()).unwrap_or_default()
            title=state
        >
            <span class="index block whitespace-nowrap font-mono font-medium">
                {shown}
                {behind.then(|| view! { <span class="font-sans font-normal">" (behind)"</span> })}
            </span>
            <span class=format!("state whitespace-nowrap {class}")><span aria-hidden="true">{icon}" "</span>{words}</span>
        </td>
    }
    .into_any()
}

/// Previous / next links that keep the filters; plain links, so paging works without JavaScript.
#[component]
fn Pager(page: usize, pages: usize) -> impl IntoView {
    let params = use_query_map();
    let to = move |n: usize| {
        let p = params.read_untracked();
        href(&FleetQuery {
            q: p.get("q").unwrap_or_default(),
            labels: p.get("labels").unwrap_or_default(),
            health: p.get("health").unwrap_or_default(),
            placement: p.get("placement").unwrap_or_default(),
            page: n,
        })
    };
    let step = "rounded-md border border-slate-300 bg-white px-3 py-1 text-sm font-medium text-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-600 dark:bg-slate-800 dark:text-indigo-300";
    (pages > 1).then(|| view! {
        <nav aria-label="Pages" id="fleet-pager" class="mt-3 flex flex-wrap items-center gap-3 text-sm">
            {(page > 1).then(|| view! { <a href=to(page - 1) rel="prev" class=step>"← Previous"</a> })}
            <span aria-current="page">{format!("Page {page} of {pages}")}</span>
            {(page < pages).then(|| view! { <a href=to(page + 1) rel="next" class=step>"Next →"</a> })}
        </nav>
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters_and_leave_out_what_is_empty() {
        assert_eq!(href(&FleetQuery::default()), "/fleet");
        let q = FleetQuery {
            labels: "env in (a,b)".into(),
            health: "stale".into(),
            page: 2,
            ..FleetQuery::default()
        };
        assert_eq!(
            href(&q),
            "/fleet?labels=env%20in%20%28a%2Cb%29&health=stale&page=2"
        );
    }
}
