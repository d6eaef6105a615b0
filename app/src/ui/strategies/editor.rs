//! The strategy editor: the form (stages added, removed and reordered in place), the YAML the form
//! stands for, and the plan preview, all following the same draft. "Check with the hub" sends the
//! draft as a server-side dry run; Save (behind a confirmation) writes it. The hub's messages show
//! beside the fields they are about, for as long as the draft is the one the hub answered.

use leptos::prelude::*;

use crate::server_fns::permissions::ConsoleAction;
use crate::ui::gate::{refused, use_browser_gate, GateReason, DISABLED};
use leptos_router::hooks::use_navigate;

use super::preview::PlanPreview;
use super::stage_fields::{StageFields, StageRow};
use super::{BUTTON, ERROR, FIELD, HINT, LABEL, NEUTRAL, PANEL, PRIMARY};
use crate::error::{AppError, FieldCause};
use crate::fleet::types::yaml::to_yaml;
use crate::fleet::views::strategy_form::{StageDraft, StrategyDraft};
use crate::server_fns::strategies::{PreviewContext, SaveStrategy, StrategyKey};
use crate::ui::run::Outcome;

/// The editor's state: the fields, and the version of the strategy they started from.
#[derive(Clone, Copy)]
pub(crate) struct Editor {
    pub namespace: RwSignal<String>,
    pub name: RwSignal<String>,
    pub resource_version: RwSignal<String>,
    pub rows: RwSignal<Vec<StageRow>>,
    next_id: StoredValue<u64>,
    /// The draft as last loaded from or saved to the hub: the edit is unsaved when they differ.
    pub base: RwSignal<StrategyDraft>,
    pub draft: Memo<StrategyDraft>,
}

impl Editor {
    pub fn new(initial: StrategyDraft) -> Self {
        let namespace = RwSignal::new(String::new());
        let name = RwSignal::new(String::new());
        let resource_version = RwSignal::new(String::new());
        let rows = RwSignal::new(Vec::<StageRow>::new());
        let draft = Memo::new(move |_| StrategyDraft {
            namespace: namespace.get(),
            name: name.get(),
            resource_version: resource_version.get(),
            stages: rows.with(|r| r.iter().map(|s| s.draft.get()).collect()),
        });
        let editor = Editor {
            namespace,
            name,
            resource_version,
            rows,
            next_id: StoredValue::new(0),
            base: RwSignal::new(initial.clone()),
            draft,
        };
        editor.load(initial);
        editor
    }

    fn row(&self, stage: StageDraft) -> StageRow {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        StageRow {
            id,
            draft: RwSignal::new(stage),
        }
    }

    /// Replaces the fields with `draft` (as stored on the hub).
    pub fn load(&self, draft: StrategyDraft) {
        self.namespace.set(draft.namespace.clone());
        self.name.set(draft.name.clone());
        self.resource_version.set(draft.resource_version.clone());
        let rows: Vec<StageRow> = draft.stages.iter().cloned().map(|s| self.row(s)).collect();
        self.rows.set(rows);
        self.base.set(draft);
    }

    /// True when the fields differ from what was loaded or saved.
    pub fn dirty(&self) -> bool {
        self.draft.with(|d| self.base.with(|b| d != b))
    }

    fn add_stage(&self) {
        let n = self.rows.with_untracked(Vec::len) + 1;
        let row = self.row(StageDraft {
            name: format!("stage{n}"),
            ..Default::default()
        });
        self.rows.update(|r| r.push(row));
    }
}

/// The hub's answer to the draft it was given: shown while the fields still hold that draft.
#[derive(Clone, Debug, PartialEq)]
struct Answer {
    draft: StrategyDraft,
    causes: Vec<FieldCause>,
}

#[component]
pub(crate) fn StrategyEditor(
    editor: Editor,
    context: PreviewContext,
    is_new: bool,
) -> impl IntoView {
    let save = ServerAction::<SaveStrategy>::new();
    let check = ServerAction::<SaveStrategy>::new();
    // Whether the hub lets this person save strategies in the draft's scope: asked again only
    // when the namespace changes, not at every keystroke (editing sends no request).
    let scope = Memo::new(move |_| editor.draft.with(|d| d.namespace().map(str::to_string)));
    let save_gate = use_browser_gate(move || scope.get(), ConsoleAction::SaveStrategy);
    let answer = RwSignal::new(None::<Answer>);
    for action in [save, check] {
        Effect::new(move |_| {
            let causes = match action.value().get() {
                Some(Err(AppError::Rejected { causes, .. })) => causes,
                Some(_) => Vec::new(),
                None => return,
            };
            answer.set(Some(Answer {
                draft: editor.draft.get_untracked(),
                causes,
            }));
        });
    }
    let causes = Signal::derive(move || {
        answer.with(|a| match a {
            Some(a) if editor.draft.with(|d| *d == a.draft) => a.causes.clone(),
            _ => Vec::new(),
        })
    });
    // Saved: the hub's version is the new base; a new strategy opens its own page.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            editor.resource_version.set(saved.resource_version.clone());
            editor.base.set(editor.draft.get_untracked());
            if is_new {
                navigate(
                    &StrategyKey::new(saved.namespace(), &saved.name).path(),
                    Default::default(),
                );
            }
        }
    });
    let top_causes = move || {
        causes.with(|c| {
            c.iter()
                .filter(|x| !x.field.starts_with("spec.stages["))
                .map(|x| format!("{}: {}", x.field, x.message))
                .collect::<Vec<_>>()
        })
    };
    let yaml = Memo::new(move |_| {
        editor.draft.with(|d| match d.spec() {
            Ok(spec) => Ok(to_yaml(&d.object_json(spec))),
            Err(problems) => Err(problems
                .iter()
                .map(|p| format!("stage {}: {}", p.stage + 1, p.error))
                .collect::<Vec<_>>()
                .join("; ")),
        })
    });
    let consequence = move || {
        let d = editor.draft.get();
        let what = format!(
            "{} {}",
            d.kind(),
            StrategyKey::new(d.namespace(), d.name.trim()).reference()
        );
        let stages = d.stages.len();
        if d.resource_version.is_empty() {
            format!(
                "Creates {what} with {stages} stage{} on the hub. Runs can use it once it exists.",
                if stages == 1 { "" } else { "s" }
            )
        } else {
            format!("Replaces the stages of {what} on the hub ({stages} stage{} now). Runs already initialized keep the copy they took; runs initialized from now on use the new stages.", if stages == 1 { "" } else { "s" })
        }
    };
    let unsaved = move || editor.dirty();
    view! {
        <div class="grid gap-6 lg:grid-cols-2">
            <ActionForm action=save attr:id="strategy-form" attr:class="min-w-0 space-y-4">
                <input type="hidden" name="dry_run" value="false"/>
                <input type="hidden" name="draft[resource_version]" value=move || editor.resource_version.get() prop:value=move || editor.resource_version.get()/>
                <section class=format!("{PANEL} space-y-3") aria-labelledby="identity-title">
                    <h2 id="identity-title" class="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">"Strategy"</h2>
                    {if is_new {
                        view! {
                            <div>
                                <label for="strategy-name" class=LABEL>"Name"</label>
                                <input id="strategy-name" name="draft[name]" class=format!("{FIELD} font-mono") required maxlength="253"
                                    value=move || editor.name.get() prop:value=move || editor.name.get() on:input=move |ev| editor.name.set(event_target_value(&ev))/>
                            </div>
                            <div>
                                <label for="strategy-namespace" class=LABEL>"Namespace"</label>
                                <input id="strategy-namespace" name="draft[namespace]" class=format!("{FIELD} font-mono") aria-describedby="strategy-namespace-hint"
                                    value=move || editor.namespace.get() prop:value=move || editor.namespace.get() on:input=move |ev| editor.namespace.set(event_target_value(&ev))/>
                                <p id="strategy-namespace-hint" class=HINT>"Empty: a ClusterStagedUpdateStrategy, for ClusterResourcePlacements. A namespace: a StagedUpdateStrategy there, for that namespace's ResourcePlacements."</p>
                            </div>
                        }.into_any()
                    } else {
                        view! {
                            <input type="hidden" name="draft[name]" value=move || editor.name.get() prop:value=move || editor.name.get()/>
                            <input type="hidden" name="draft[namespace]" value=move || editor.namespace.get() prop:value=move || editor.namespace.get()/>
                            <p class="text-sm">{move || editor.draft.with(|d| format!("{} {}", d.kind(), StrategyKey::new(d.namespace(), &d.name).reference()))}</p>
                        }.into_any()
                    }}
                    <div aria-live="polite">
                        {move || top_causes().into_iter().map(|m| view! { <p class=ERROR>{m}</p> }).collect_view()}
                    </div>
                </section>
                <section aria-labelledby="stages-title" class="space-y-3">
                    <h2 id="stages-title" class="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">"Stages, in order"</h2>
                    <For each=move || editor.rows.get() key=|row| row.id let:row>
                        <StageFields row rows=editor.rows causes/>
                    </For>
                    <Show when=move || editor.rows.with(Vec::is_empty)>
                        <p class="text-sm text-slate-700 dark:text-slate-300">"No stages: a run with this strategy would place no cluster. Add one."</p>
                    </Show>
                    <button type="button" id="add-stage" class=format!("{BUTTON} {NEUTRAL}") on:click=move |_| editor.add_stage()>"+ Add a stage"</button>
                </section>
                <div class="flex flex-wrap items-start gap-2">
                    <button type="button" id="check-strategy" class=format!("{BUTTON} {NEUTRAL}")
                        disabled=move || check.pending().get()
                        on:click=move |_| { check.dispatch(SaveStrategy { draft: editor.draft.get_untracked(), dry_run: true }); }>
                        "Check with the hub"
                    </button>
                    <Show when=move || save_gate.get().is_some_and(|g| !g.enabled)>
                        <button type="button" disabled class=DISABLED aria-describedby="save-strategy-reason">{if is_new { "Create" } else { "Save" }}</button>
                    </Show>
                    <details class="action" data-action="save" class:hidden=move || refused(save_gate)>
                        <summary class=format!("{BUTTON} {PRIMARY} cursor-pointer list-none")>{if is_new { "Create…" } else { "Save…" }}</summary>
                        <div class="mt-2 max-w-sm rounded-md border border-slate-200 bg-white p-3 text-sm shadow dark:border-slate-700 dark:bg-slate-900">
                            <p id="save-consequence">{consequence}</p>
                            <p class="mt-1 text-xs text-slate-600 dark:text-slate-400">"The hub checks it first (a dry run); nothing is written if it refuses."</p>
                            <button type="submit" id="save-strategy" class=format!("{BUTTON} {PRIMARY} mt-3") disabled=move || save.pending().get()>
                                {if is_new { "Create the strategy" } else { "Save the strategy" }}
                            </button>
                        </div>
                    </details>
                    <Show when=unsaved>
                        <span class="self-center text-sm text-amber-800 dark:text-amber-300" id="unsaved">"Unsaved changes"</span>
                    </Show>
                </div>
                <GateReason gate=save_gate id="save-strategy-reason"/>
                <div id="check-result">
                    <Outcome value=Signal::derive(move || check.value().get().map(|r| r.map(|_| ()))) done="The hub accepts this strategy, and runs could initialize with it: nothing was written yet."/>
                </div>
                <div id="save-result">
                    <Outcome value=Signal::derive(move || save.value().get().map(|r| r.map(|_| ()))) done="Saved on the hub."/>
                </div>
            </ActionForm>
            <div class="min-w-0 space-y-6">
                <PlanPreview draft=editor.draft context/>
                <section class=PANEL aria-labelledby="yaml-title">
                    <h2 id="yaml-title" class="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">"As YAML"</h2>
                    <p class=HINT>"What the form stands for, as kubectl apply would take it. Read-only: edit the form."</p>
                    {move || match yaml.get() {
                        Ok(text) => view! {
                            <pre id="strategy-yaml" tabindex="0" aria-labelledby="yaml-title" class="mt-2 overflow-x-auto rounded-md bg-slate-100 p-3 font-mono text-xs text-slate-900 dark:bg-slate-950 dark:text-slate-100"><code>{text}</code></pre>
                        }.into_any(),
                        Err(e) => view! { <p class=ERROR>{format!("Not YAML yet: {e}")}</p> }.into_any(),
                    }}
                </section>
            </div>
        </div>
    }
}
