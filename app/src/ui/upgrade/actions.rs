//! Start, Stop, Skip, Delete and Approve on an upgrade run, each behind a confirmation that says what
//! will happen (a native `<details>`: it opens by keyboard and works without JavaScript), each a
//! form posting to its server function, which acts on the hub as the signed-in person. Buttons
//! the hub's RBAC would refuse are disabled, the reason beside them.

use leptos::prelude::*;

use super::Live;
use crate::fleet::views::upgrade_view::UpgradeDetail;
use crate::server_fns::permissions::{ConsoleAction, Gate};
use crate::server_fns::upgrades::{ActOnUpgrade, ApproveGate, DeleteUpgrade, UpgradeAction};
use crate::ui::gate::{gate_of, use_browser_permissions, DISABLED, REASON};
use crate::ui::run::Outcome;

pub const BUTTON: &str = "inline-flex items-center rounded-md border px-3 py-1.5 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 dark:focus-visible:ring-offset-slate-950";
const SMALL: &str = "inline-flex items-center rounded-md border px-2 py-0.5 text-xs font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 dark:focus-visible:ring-offset-slate-950";
const NEUTRAL: &str = "border-slate-400 bg-white text-slate-900 hover:bg-slate-50 dark:border-slate-500 dark:bg-slate-800 dark:text-slate-100 dark:hover:bg-slate-700";
const PRIMARY: &str = "border-indigo-700 bg-indigo-700 text-white hover:bg-indigo-800 dark:border-indigo-400 dark:bg-indigo-400 dark:text-slate-950 dark:hover:bg-indigo-300";
const PANEL: &str = "mt-2 max-w-sm rounded-md border border-slate-200 bg-white p-3 text-sm font-normal text-slate-900 shadow dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100";
/// The ids of the reasons disabled buttons point at.
const CHANGE_REASON: &str = "upgrade-change-reason";
const APPROVE_REASON: &str = "upgrade-approve-reason";
const DELETE_REASON: &str = "upgrade-delete-reason";
const DANGER: &str = "border-rose-700 bg-rose-700 text-white hover:bg-rose-800 dark:border-rose-400 dark:bg-rose-400 dark:text-slate-950 dark:hover:bg-rose-300";

/// The page's actions and what the hub says this person may do, shared by the summary's
/// buttons and the ones in the timeline.
#[derive(Clone, Copy)]
pub(crate) struct Acts {
    act: ServerAction<ActOnUpgrade>,
    approve: ServerAction<ApproveGate>,
    delete: ServerAction<DeleteUpgrade>,
    change: Signal<Option<Gate>>,
    approval: Signal<Option<Gate>>,
    deletion: Signal<Option<Gate>>,
}

impl Acts {
    pub fn new(live: Live) -> Self {
        let act = ServerAction::<ActOnUpgrade>::new();
        let approve = ServerAction::<ApproveGate>::new();
        let delete = ServerAction::<DeleteUpgrade>::new();
        // Reload at once after an action, instead of waiting for the live link.
        Effect::new(move |_| {
            act.version().track();
            approve.version().track();
            delete.version().track();
            live.acted.update(|n| *n += 1);
        });
        // Upgrade runs and gates are cluster-scoped: asked without a namespace.
        let answer = use_browser_permissions(|| None);
        Acts {
            act,
            approve,
            delete,
            deletion: Signal::derive(move || {
                answer
                    .get()
                    .map(|a| gate_of(a, ConsoleAction::DeleteUpgradeRun))
            }),
            change: Signal::derive(move || {
                answer
                    .get()
                    .map(|a| gate_of(a, ConsoleAction::ChangeUpgradeRun))
            }),
            approval: Signal::derive(move || {
                answer.get().map(|a| gate_of(a, ConsoleAction::ApproveGate))
            }),
        }
    }
}

/// Until the hub answers (and without JavaScript) the buttons stay on; the hub decides anyway.
fn refused(gate: Signal<Option<Gate>>) -> bool {
    gate.get().is_some_and(|g| !g.enabled)
}

#[component]
pub(crate) fn RunActions(
    name: Memo<String>,
    detail: Signal<UpgradeDetail>,
    acts: Acts,
) -> impl IntoView {
    view! {
        <div id="upgrade-actions" class="mt-4 flex flex-wrap items-start gap-2">
            <Show when=move || detail.read().may_start>
                <Confirm acts name action=UpgradeAction::Start target=String::new() label="Start…".to_string() small=false/>
            </Show>
            <Show when=move || detail.read().may_stop>
                <Confirm acts name action=UpgradeAction::Stop target=String::new() label="Stop…".to_string() small=false/>
            </Show>
            <Delete acts name detail/>
        </div>
        // Why Delete is off: the run is active (the hub refuses it too), or RBAC.
        {move || delete_reason(acts, detail).map(|r| view! { <p id=DELETE_REASON class=REASON>{r}</p> })}
        // Each reason once, and only where a button it disables is on the page.
        {move || acts.change.get().and_then(|g| g.reason).filter(|_| any_change(&detail.read())).map(|r| view! { <p id=CHANGE_REASON class=REASON>{r}</p> })}
        {move || acts.approval.get().and_then(|g| g.reason).filter(|_| any_approval(&detail.read())).map(|r| view! { <p id=APPROVE_REASON class=REASON>{r}</p> })}
        <Outcome value=Signal::derive(move || acts.act.value().get()) done="Done: written to the hub; the engine takes it from here."/>
        <Outcome value=Signal::derive(move || acts.approve.value().get()) done="Approved: the gate is Completed and the run goes on."/>
        <Outcome value=Signal::derive(move || acts.delete.value().get()) done="Deleted. The Upgrades page no longer lists it."/>
    }
}

/// Why this person cannot delete the run now: the run's state first, then the hub's RBAC. (No
/// read guard is held while the other signal is read.)
fn delete_reason(acts: Acts, detail: Signal<UpgradeDetail>) -> Option<String> {
    let refusal = detail.with(|d| d.delete_refusal.clone());
    refusal.or_else(|| {
        acts.deletion
            .get()
            .filter(|g| !g.enabled)
            .and_then(|g| g.reason)
    })
}

/// Delete, behind a confirmation; disabled with the reason while the run is active.
#[component]
fn Delete(acts: Acts, name: Memo<String>, detail: Signal<UpgradeDetail>) -> impl IntoView {
    view! {
        <Show
            when=move || delete_reason(acts, detail).is_none()
            fallback=|| view! {
                <button type="button" disabled class=DISABLED data-action="delete" aria-describedby=DELETE_REASON>"Delete"</button>
            }
        >
            <details class="action inline-block" data-action="delete">
                <summary class=format!("{BUTTON} {NEUTRAL} cursor-pointer list-none")>"Delete…"</summary>
                <div class=PANEL>
                    <p>"The run and its gates are deleted. Members keep the versions they have now; nothing is rolled back. This cannot be undone."</p>
                    <ActionForm action=acts.delete>
                        <input type="hidden" name="name" value=move || name.get()/>
                        <button type="submit" class=format!("{BUTTON} {DANGER} mt-3") disabled=move || acts.delete.pending().get()>
                            "Delete the run"
                        </button>
                    </ActionForm>
                </div>
            </details>
        </Show>
    }
}

/// The words of one confirmation.
struct Texts {
    slug: String,
    target: String,
    label: String,
    what: String,
    consequence: String,
    confirm: String,
    short: String,
}

/// Whether the page offers start, stop or any skip.
fn any_change(d: &UpgradeDetail) -> bool {
    d.may_start
        || d.may_stop
        || d.stages.iter().any(|s| {
            s.progress.skippable
                || s.wait.as_ref().is_some_and(|w| w.skippable)
                || s.groups
                    .iter()
                    .any(|g| g.progress.skippable || g.members.iter().any(|m| m.progress.skippable))
        })
}

/// Whether the page offers a gate to approve.
fn any_approval(d: &UpgradeDetail) -> bool {
    d.stages.iter().any(|s| {
        s.before_gates
            .iter()
            .chain(&s.after_gates)
            .chain(
                s.groups
                    .iter()
                    .flat_map(|g| g.before_gates.iter().chain(&g.after_gates)),
            )
            .any(|g| g.approvable)
    })
}

/// One action behind its confirmation; `label` names it for the person ("Skip group g1…").
#[component]
pub(crate) fn Confirm(
    acts: Acts,
    name: Memo<String>,
    action: UpgradeAction,
    target: String,
    label: String,
    /// Read by screen readers after the label: which member, group or stage.
    #[prop(optional, into)]
    what: String,
    small: bool,
) -> impl IntoView {
    let slug = format!("{action:?}").to_lowercase();
    let size = if small { SMALL } else { BUTTON };
    let look = if action == UpgradeAction::Start {
        PRIMARY
    } else {
        NEUTRAL
    };
    let consequence = action.consequence(&target);
    let confirm = match action {
        UpgradeAction::Start => "Start the run".to_string(),
        UpgradeAction::Stop => "Stop the run".to_string(),
        UpgradeAction::SkipAfterStageWait => format!("End the wait after {target}"),
        _ => format!("Skip {target}"),
    };
    let short = label.trim_end_matches('…').to_string();
    // Copied into the confirmation each time it renders (the `Show` may render it again).
    let texts = StoredValue::new(Texts {
        slug,
        target,
        label,
        what: format!(" {what}"),
        consequence,
        confirm,
        short,
    });
    let text = move |pick: fn(&Texts) -> &String| texts.with_value(|t| pick(t).clone());
    view! {
        <Show
            when=move || !refused(acts.change)
            fallback=move || view! {
                <button type="button" disabled class=DISABLED data-action=text(|t| &t.slug) data-target=text(|t| &t.target) aria-describedby=CHANGE_REASON>
                    {text(|t| &t.short)}
                </button>
            }
        >
            <details class="action inline-block" data-action=text(|t| &t.slug) data-target=text(|t| &t.target)>
                <summary class=format!("{size} {look} cursor-pointer list-none")>
                    {text(|t| &t.label)}<span class="sr-only">{text(|t| &t.what)}</span>
                </summary>
                <div class=PANEL>
                    <p>{text(|t| &t.consequence)}</p>
                    <ActionForm action=acts.act>
                        <input type="hidden" name="name" value=move || name.get()/>
                        <input type="hidden" name="action" value=format!("{action:?}")/>
                        <input type="hidden" name="target" value=text(|t| &t.target)/>
                        <button type="submit" class=format!("{BUTTON} {PRIMARY} mt-3") disabled=move || acts.act.pending().get()>
                            {text(|t| &t.confirm)}
                        </button>
                    </ActionForm>
                </div>
            </details>
        </Show>
    }
}

/// Approve a Pending Approval gate, behind its confirmation.
#[component]
pub(crate) fn Approve(acts: Acts, name: Memo<String>, gate: String, what: String) -> impl IntoView {
    let texts = StoredValue::new((gate, what));
    let gate = move || texts.with_value(|t| t.0.clone());
    let what = move || texts.with_value(|t| t.1.clone());
    view! {
        <Show
            when=move || !refused(acts.approval)
            fallback=move || view! {
                <button type="button" disabled class=DISABLED data-action="approve" data-gate=gate() aria-describedby=APPROVE_REASON>"Approve"</button>
            }
        >
            <details class="action mt-1" data-action="approve" data-gate=gate()>
                <summary class=format!("{SMALL} {PRIMARY} cursor-pointer list-none")>"Approve…"<span class="sr-only">{format!(" {}", what())}</span></summary>
                <div class=PANEL>
                    <p>{format!("Approving {} lets the run go past it: the gate becomes Completed. This cannot be undone.", what())}</p>
                    <ActionForm action=acts.approve>
                        <input type="hidden" name="run" value=move || name.get()/>
                        <input type="hidden" name="gate" value=gate()/>
                        <button type="submit" class=format!("{BUTTON} {PRIMARY} mt-3") disabled=move || acts.approve.pending().get()>
                            "Approve the gate"
                        </button>
                    </ActionForm>
                </div>
            </details>
        </Show>
    }
}
