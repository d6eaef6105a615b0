//! Approvals: the inbox of every approval request (waiting ones first, oldest first) and the
//! Approve form that the inbox and the run page share.

use leptos::prelude::*;

use super::clock::{ago, span, Clock};
use super::layout::{Card, PageHeader};
use super::run::Outcome;
use super::LiveLink;
use crate::fleet::views::approval_view::{ApprovalRow, ApprovalStatus, MAX_COMMENT_CHARS};
use crate::server_fns::approvals::{list_approvals, Approve};
use crate::server_fns::permissions::ConsoleAction;
use crate::ui::gate::{refused, use_browser_gate, DISABLED, REASON};

/// Approve behind a confirmation: an optional comment, what approving does, and who it will be
/// recorded as. Posts to the approve server function (also without JavaScript).
#[component]
pub fn ApproveForm(
    /// Empty for a ClusterApprovalRequest.
    namespace: String,
    name: String,
    /// What the gate guards, e.g. "before stage canary".
    what: String,
    #[prop(optional)] on_done: Option<Callback<()>>,
) -> impl IntoView {
    let approve = ServerAction::<Approve>::new();
    Effect::new(move |_| {
        if let (Some(Ok(())), Some(done)) = (approve.value().get(), on_done) {
            done.run(());
        }
    });
    let id = format!("approve-comment-{name}");
    // What the hub says this person may do here: Approve is disabled, with the reason, otherwise.
    let scope = (!namespace.is_empty()).then(|| namespace.clone());
    let gate = use_browser_gate(move || scope.clone(), ConsoleAction::Approve);
    let enabled = move || !refused(gate);
    let reason_id = format!("approve-reason-{name}");
    view! {
        {move || gate.get().and_then(|g| g.reason).map(|reason| {
            let reason_id = reason_id.clone();
            view! {
                <div class="approve-refused mt-1">
                    <button type="button" disabled aria-describedby=reason_id.clone() class=DISABLED>"Approve"</button>
                    <p id=reason_id class=REASON>{reason}</p>
                </div>
            }
        })}
        <details class="approve mt-1" class:hidden=move || !enabled()>
            <summary class="inline-flex cursor-pointer list-none items-center rounded-md border border-indigo-700 bg-indigo-700 px-2.5 py-1 text-xs font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 dark:border-indigo-400 dark:bg-indigo-400 dark:text-slate-950">
                "Approve…"
            </summary>
            <ActionForm action=approve attr:class="mt-2 space-y-2 rounded-md border border-slate-200 bg-white p-2 dark:border-slate-700 dark:bg-slate-900">
                <input type="hidden" name="namespace" value=namespace/>
                <input type="hidden" name="name" value=name.clone()/>
                <label for=id.clone() class="block text-xs font-medium">"Comment (optional)"</label>
                <textarea
                    id=id
                    name="comment"
                    rows="2"
                    maxlength=MAX_COMMENT_CHARS.to_string()
                    class="block w-full rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-600 dark:bg-slate-950 dark:text-slate-100"
                ></textarea>
                <p class="text-xs text-slate-700 dark:text-slate-300">
                    {format!("Approving lets the run continue {what}. Your name (top right) and the comment are recorded on the request and in the run's history.")}
                </p>
                <button
                    type="submit"
                    data-request=name
                    class="inline-flex items-center rounded-md border border-indigo-700 bg-indigo-700 px-3 py-1 text-sm font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 disabled:opacity-60 dark:border-indigo-400 dark:bg-indigo-400 dark:text-slate-950"
                    disabled=move || approve.pending().get()
                >
                    "Approve"
                </button>
            </ActionForm>
            <Outcome value=Signal::derive(move || approve.value().get()) done="Approved. The run picks it up within moments."/>
        </details>
    }
}

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let link = LiveLink::expect();
    let rendered = Resource::new(|| (), |_| list_approvals());
    // Reloaded in the browser whenever the hub changes.
    let live = RwSignal::new(None::<Vec<ApprovalRow>>);
    let acted = RwSignal::new(0u64);
    Effect::new(move |_| {
        link.changed.track();
        acted.track();
        leptos::task::spawn_local(async move {
            if let Ok(rows) = list_approvals().await {
                live.set(Some(rows));
            }
        });
    });
    view! {
        <PageHeader title="Approvals" subtitle="Every approval request, cluster- and namespace-scoped: the ones waiting for a person first, oldest first."/>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let first = rendered.await;
                let error = first.as_ref().err().map(|e| e.to_string());
                let first = first.unwrap_or_default();
                let rows = Memo::new(move |_| live.get().unwrap_or_else(|| first.clone()));
                view! {
                    {error.map(|e| view! { <p role="alert" class="mb-3 text-sm text-rose-700">{e}</p> })}
                    <Show
                        when=move || !rows.read().is_empty()
                        fallback=|| view! {
                            <Card title="Nothing to approve">
                                <p class="text-sm text-slate-700 dark:text-slate-300">
                                    "No approval request exists. A run creates one when it reaches a stage with an Approval task."
                                </p>
                            </Card>
                        }
                    >
                        <ul id="approvals" class="space-y-2">
                            <For each=move || rows.get() key=|r| r.clone() let:row>
                                <ApprovalLine row acted/>
                            </For>
                        </ul>
                    </Show>
                }
            })}
        </Suspense>
    }
}

#[component]
fn ApprovalLine(row: ApprovalRow, acted: RwSignal<u64>) -> impl IntoView {
    let run_path = match &row.namespace {
        Some(ns) => format!("/runs/{ns}/{}", row.run),
        None => format!("/runs/{}", row.run),
    };
    let title = match &row.namespace {
        Some(ns) => format!("{ns}/{}", row.name),
        None => row.name.clone(),
    };
    let what = format!("{} stage {}", row.side, row.stage);
    let created = row.created;
    let pending = row.state == ApprovalStatus::Pending;
    let (icon, look) = match row.state {
        ApprovalStatus::Pending => (
            "●",
            "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
        ),
        ApprovalStatus::Approved => (
            "✓",
            "bg-sky-100 text-sky-900 dark:bg-sky-900/60 dark:text-sky-100",
        ),
        ApprovalStatus::Accepted => (
            "✓",
            "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100",
        ),
    };
    view! {
        <li
            class="approval rounded-lg border border-slate-200 bg-white p-3 shadow-sm dark:border-slate-800 dark:bg-slate-900"
            data-request=row.name.clone()
            data-state=format!("{:?}", row.state).to_lowercase()
        >
            <div class="flex flex-wrap items-center gap-2">
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {look}")>
                    <span aria-hidden="true">{icon} " "</span>{row.state.label()}
                </span>
                <span class="font-mono text-sm font-medium break-all">{title}</span>
            </div>
            <p class="mt-1 text-sm text-slate-700 dark:text-slate-300">
                "Run " <a href=run_path class="font-mono text-indigo-700 underline dark:text-indigo-300">{row.run.clone()}</a>
                {format!(", {what}")}
                {move || created.map(|c| {
                    let waited = span((Clock::now() - c).num_seconds());
                    if pending { format!(" · waiting for {waited}") } else { format!(" · created {}", ago(c, Clock::now())) }
                })}
            </p>
            {row.approved_message.clone().map(|m| view! { <p class="approved-by mt-1 text-sm text-slate-700 dark:text-slate-300">{m}</p> })}
            {pending.then(|| view! {
                <ApproveForm
                    namespace=row.namespace.clone().unwrap_or_default()
                    name=row.name.clone()
                    what=what.clone()
                    on_done=Callback::new(move |_| acted.update(|n| *n += 1))
                />
            })}
        </li>
    }
}
