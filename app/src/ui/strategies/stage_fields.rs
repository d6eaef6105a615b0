//! One stage of the editor: its fields, with the hub's message for each field beside it, and the
//! buttons that move or remove it. Field names follow the server function's arguments
//! (`draft[stages][0][name]`), so the form also posts without JavaScript; each input carries its
//! value as an attribute too, since the server renders attributes but not `prop:value`.

use leptos::prelude::*;

use super::{BUTTON, ERROR, FIELD, HINT, LABEL, NEUTRAL};
use crate::error::FieldCause;
use crate::fleet::views::strategy_form::StageDraft;

/// A stage in the editor: a stable id (so moving it moves its inputs, focus included) and its
/// fields.
#[derive(Clone, Copy)]
pub(crate) struct StageRow {
    pub id: u64,
    pub draft: RwSignal<StageDraft>,
}

/// The hub's messages about `spec.stages[index].<field>` (and anything below it).
pub(crate) fn messages_for(causes: &[FieldCause], index: usize, field: &str) -> Vec<String> {
    let path = format!("spec.stages[{index}].{field}");
    causes
        .iter()
        .filter(|c| {
            c.field == path
                || c.field.starts_with(&format!("{path}."))
                || c.field.starts_with(&format!("{path}["))
        })
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect()
}

/// Messages under a field; the input names them with `aria-describedby`.
fn field_messages(
    id: String,
    messages: impl Fn() -> Vec<String> + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div id=id class="field-messages">
            {move || messages().into_iter().map(|m| view! { <p class=ERROR>{m}</p> }).collect_view()}
        </div>
    }
}

#[component]
pub(crate) fn StageFields(
    row: StageRow,
    rows: RwSignal<Vec<StageRow>>,
    causes: Signal<Vec<FieldCause>>,
) -> impl IntoView {
    let id = row.id;
    let index = Memo::new(move |_| rows.with(|r| r.iter().position(|x| x.id == id).unwrap_or(0)));
    let count = move || rows.with(Vec::len);
    let name = move |field: &str| format!("draft[stages][{}][{field}]", index.get());
    let dom = move |field: &str| format!("stage-{id}-{field}");
    let value = move |get: fn(&StageDraft) -> String| move || row.draft.with(get);
    let hub =
        move |field: &'static str| move || causes.with(|c| messages_for(c, index.get(), field));
    let invalid = move |field: &'static str| {
        move || {
            (!causes
                .with(|c| messages_for(c, index.get(), field))
                .is_empty())
            .to_string()
        }
    };
    // Selector text that does not read is answered here, at once: the hub never sees the text.
    let selector_messages = move || {
        let mut m: Vec<String> = row
            .draft
            .with(|d| d.config().err())
            .map(|e| e.to_string())
            .into_iter()
            .collect();
        m.extend(causes.with(|c| messages_for(c, index.get(), "labelSelector")));
        m
    };
    let move_by = move |delta: isize| {
        rows.update(|r| {
            let i = index.get_untracked();
            let j = i as isize + delta;
            if j >= 0 && (j as usize) < r.len() {
                r.swap(i, j as usize);
            }
        })
    };
    let title = move || {
        let n = row.draft.with(|d| d.name.clone());
        format!(
            "Stage {}{}",
            index.get() + 1,
            if n.is_empty() {
                String::new()
            } else {
                format!(": {n}")
            }
        )
    };
    view! {
        <fieldset class="stage rounded-md border border-slate-300 p-3 dark:border-slate-700" data-stage-index=move || index.get().to_string()>
            <legend class="px-1 text-sm font-semibold">{title}</legend>
            <div class="grid gap-3 sm:grid-cols-2">
                <div>
                    <label for=dom("name") class=LABEL>"Name"</label>
                    <input id=dom("name") name=move || name("name") class=format!("{FIELD} stage-name font-mono") required
                        aria-invalid=invalid("name") aria-describedby=dom("name-msg")
                        value=value(|d| d.name.clone()) prop:value=value(|d| d.name.clone())
                        on:input=move |ev| row.draft.update(|d| d.name = event_target_value(&ev))/>
                    <p class=HINT>"Lower-case letters and digits only."</p>
                    {field_messages(dom("name-msg"), hub("name"))}
                </div>
                <div>
                    <label for=dom("max") class=LABEL>"Max concurrency"</label>
                    <input id=dom("max") name=move || name("max_concurrency") class=format!("{FIELD} stage-max font-mono") placeholder="1"
                        aria-invalid=invalid("maxConcurrency") aria-describedby=dom("max-msg")
                        value=value(|d| d.max_concurrency.clone()) prop:value=value(|d| d.max_concurrency.clone())
                        on:input=move |ev| row.draft.update(|d| d.max_concurrency = event_target_value(&ev))/>
                    <p class=HINT>"Clusters updating at once: a number, or a percentage of the stage like 25%. Empty: 1."</p>
                    {field_messages(dom("max-msg"), hub("maxConcurrency"))}
                </div>
                <div class="sm:col-span-2">
                    <label for=dom("selector") class=LABEL>"Clusters (label selector)"</label>
                    <input id=dom("selector") name=move || name("selector") class=format!("{FIELD} stage-selector font-mono") placeholder="environment=canary,order"
                        aria-invalid=move || (!selector_messages().is_empty()).to_string() aria-describedby=format!("{} {}", dom("selector-hint"), dom("selector-msg"))
                        value=value(|d| d.selector.clone()) prop:value=value(|d| d.selector.clone())
                        on:input=move |ev| row.draft.update(|d| d.selector = event_target_value(&ev))/>
                    <p id=dom("selector-hint") class=HINT>
                        "As kubectl -l takes it: "<code>"env=canary,order"</code>", "<code>"env in (a,b)"</code>", "<code>"!legacy"</code>". "
                        <code>"{}"</code>" takes every scheduled cluster; empty takes none."
                    </p>
                    {field_messages(dom("selector-msg"), selector_messages)}
                </div>
                <div>
                    <label for=dom("sort") class=LABEL>"Sorting label key"</label>
                    <input id=dom("sort") name=move || name("sorting_label_key") class=format!("{FIELD} stage-sort font-mono") placeholder="order"
                        aria-invalid=invalid("sortingLabelKey") aria-describedby=dom("sort-msg")
                        value=value(|d| d.sorting_label_key.clone()) prop:value=value(|d| d.sorting_label_key.clone())
                        on:input=move |ev| row.draft.update(|d| d.sorting_label_key = event_target_value(&ev))/>
                    <p class=HINT>"A label holding an integer: clusters update in its order. Empty: by name."</p>
                    {field_messages(dom("sort-msg"), hub("sortingLabelKey"))}
                </div>
                <div>
                    <label for=dom("wait") class=LABEL>"Wait after the stage"</label>
                    <input id=dom("wait") name=move || name("wait_after") class=format!("{FIELD} stage-wait font-mono") placeholder="1m"
                        aria-invalid=invalid("afterStageTasks") aria-describedby=dom("after-msg")
                        value=value(|d| d.wait_after.clone()) prop:value=value(|d| d.wait_after.clone())
                        on:input=move |ev| row.draft.update(|d| d.wait_after = event_target_value(&ev))/>
                    <p class=HINT>"A TimedWait such as 30s, 1m or 1h30m; empty: none."</p>
                </div>
                <fieldset class="sm:col-span-2">
                    <legend class=LABEL>"Approvals"</legend>
                    <label class="mt-1 flex items-center gap-2 text-sm">
                        <input type="checkbox" class="stage-approve-before" name=move || name("approve_before") value="true"
                            aria-describedby=dom("before-msg")
                            checked=move || row.draft.with(|d| d.approve_before) prop:checked=move || row.draft.with(|d| d.approve_before)
                            on:change=move |ev| row.draft.update(|d| d.approve_before = event_target_checked(&ev))/>
                        "Before the stage starts"
                    </label>
                    {field_messages(dom("before-msg"), hub("beforeStageTasks"))}
                    <label class="mt-1 flex items-center gap-2 text-sm">
                        <input type="checkbox" class="stage-approve-after" name=move || name("approve_after") value="true"
                            aria-describedby=dom("after-msg")
                            checked=move || row.draft.with(|d| d.approve_after) prop:checked=move || row.draft.with(|d| d.approve_after)
                            on:change=move |ev| row.draft.update(|d| d.approve_after = event_target_checked(&ev))/>
                        "After the stage finishes"
                    </label>
                    {field_messages(dom("after-msg"), hub("afterStageTasks"))}
                </fieldset>
            </div>
            {field_messages(dom("msg"), move || causes.with(|c| {
                let path = format!("spec.stages[{}]", index.get());
                c.iter().filter(|x| x.field == path).map(|x| format!("{}: {}", x.field, x.message)).collect()
            }))}
            <div class="mt-3 flex flex-wrap gap-2">
                <button type="button" class=format!("{BUTTON} {NEUTRAL} stage-up") disabled=move || index.get() == 0
                    aria-label=move || format!("Move stage {} up", index.get() + 1) on:click=move |_| move_by(-1)>"↑ Up"</button>
                <button type="button" class=format!("{BUTTON} {NEUTRAL} stage-down") disabled={move || index.get() + 1 >= count()}
                    aria-label=move || format!("Move stage {} down", index.get() + 1) on:click=move |_| move_by(1)>"↓ Down"</button>
                <button type="button" class=format!("{BUTTON} {NEUTRAL} stage-remove")
                    aria-label=move || format!("Remove stage {}", index.get() + 1)
                    on:click=move |_| rows.update(|r| r.retain(|x| x.id != id))>"Remove"</button>
            </div>
        </fieldset>
    }
}
