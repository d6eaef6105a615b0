//! One strategy's page and the new-strategy page. A strategy's page follows the hub: when the
//! strategy changes there (kubectl edit, another tab), unedited fields take the new version at
//! once, and edited ones are kept, with an offer to load the hub's version instead.

use leptos::prelude::*;

use crate::server_fns::permissions::ConsoleAction;
use crate::ui::gate::{refused, use_browser_gate, GateReason, DISABLED};
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::editor::{Editor, StrategyEditor};
use super::{BUTTON, DANGER, LINK, NEUTRAL};
use crate::error::AppError;
use crate::fleet::views::strategy_form::{StageDraft, StrategyDraft};
use crate::server_fns::strategies::{
    get_strategy, strategy_preview_context, DeleteStrategy, PreviewContext, StrategyKey,
};
use crate::ui::run::Outcome;
use crate::ui::LiveLink;

fn failure(e: AppError) -> AnyView {
    view! {
        <p role="alert" class="text-sm text-rose-700 dark:text-rose-300">{e.to_string()}</p>
        <p class="mt-2 text-sm"><a href="/strategies" class=LINK>"All strategies"</a></p>
    }
    .into_any()
}

/// `namespace/name` or `name`.
fn key_of(reference: &str) -> StrategyKey {
    match reference.split_once('/') {
        Some((ns, name)) => StrategyKey::new(Some(ns), name),
        None => StrategyKey::new(None, reference),
    }
}

#[component]
pub fn StrategyPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        let p = params.read();
        StrategyKey::new(
            p.get("namespace").as_deref(),
            &p.get("name").unwrap_or_default(),
        )
    });
    let detail = Resource::new(move || key.get(), get_strategy);
    let context = Resource::new(|| (), |_| strategy_preview_context());
    view! {
        <Suspense fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading the strategy…"</p> }>
            {move || Suspend::new(async move {
                match (detail.await, context.await) {
                    (Err(e), _) | (_, Err(e)) => view! {
                        <h1 class="mb-4 font-mono text-2xl font-semibold tracking-tight">{key.get_untracked().reference()}</h1>
                        {failure(e)}
                    }.into_any(),
                    (Ok(d), Ok(c)) => view! { <StrategyBody key=key.get_untracked() initial=d context=c/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The same strategy, apart from the version: what the editor holds after its own save.
fn same_content(a: &StrategyDraft, b: &StrategyDraft) -> bool {
    (&a.namespace, &a.name, &a.stages) == (&b.namespace, &b.name, &b.stages)
}

#[component]
fn StrategyBody(
    key: StrategyKey,
    initial: StrategyDraft,
    context: PreviewContext,
) -> impl IntoView {
    let editor = Editor::new(initial);
    let newer = RwSignal::new(None::<StrategyDraft>);
    let gone = RwSignal::new(None::<String>);
    let link = LiveLink::expect();
    let follow = key.clone();
    let delete = ServerAction::<DeleteStrategy>::new();
    Effect::new(move |previous: Option<()>| {
        link.changed.track();
        if previous.is_none() {
            return;
        }
        // Our own delete: the page is about to leave (the release build first fetches the list's
        // code), so asking for the strategy again would only earn a 404.
        if delete.pending().get_untracked()
            || delete.value().with_untracked(|v| matches!(v, Some(Ok(()))))
        {
            return;
        }
        let key = follow.clone();
        leptos::task::spawn_local(async move {
            match get_strategy(key).await {
                Ok(hub) if hub.resource_version != editor.resource_version.get_untracked() => {
                    if same_content(&hub, &editor.draft.get_untracked()) {
                        // Our own save, seen before its answer: adopt the version only.
                        editor.resource_version.set(hub.resource_version.clone());
                        editor.base.set(hub);
                    } else if editor
                        .draft
                        .with_untracked(|d| editor.base.with_untracked(|b| d == b))
                    {
                        editor.load(hub);
                    } else {
                        newer.set(Some(hub));
                    }
                }
                Ok(_) => {}
                Err(AppError::NotFound(m)) => gone.set(Some(m)),
                Err(_) => {}
            }
        });
    });
    let delete_gate = {
        let ns = key.namespace.clone();
        use_browser_gate(move || Some(ns.clone()), ConsoleAction::DeleteStrategy)
    };
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/strategies", Default::default());
        }
    });
    let title = key.reference();
    let kind = if key.namespace().is_some() {
        format!("StagedUpdateStrategy in namespace {}", key.namespace)
    } else {
        "ClusterStagedUpdateStrategy, for ClusterResourcePlacements".to_string()
    };
    let clone_href = format!("/strategies/new?from={}", key.reference());
    let (ns, name) = (key.namespace.clone(), key.name.clone());
    view! {
        <leptos_meta::Title text=format!("{title} · Strategies")/>
        <nav aria-label="Breadcrumb" class="mb-2 text-sm"><a href="/strategies" class=LINK>"Strategies"</a></nav>
        <div class="mb-4 flex flex-wrap items-start justify-between gap-3">
            <div class="min-w-0">
                <h1 class="break-all font-mono text-2xl font-semibold tracking-tight">{title.clone()}</h1>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{kind}</p>
            </div>
            <div id="strategy-actions" class="flex flex-wrap items-start gap-2">
                <details class="action" data-action="clone">
                    <summary class=format!("{BUTTON} {NEUTRAL} cursor-pointer list-none")>"Clone…"</summary>
                    <div class="mt-2 max-w-xs rounded-md border border-slate-200 bg-white p-3 text-sm shadow dark:border-slate-700 dark:bg-slate-900">
                        <p>"Opens a new strategy with these stages under another name. Nothing is written until you create it there."</p>
                        <a href=clone_href id="clone-strategy" class=format!("{BUTTON} {NEUTRAL} mt-3")>"Clone into a new strategy"</a>
                    </div>
                </details>
                <Show when=move || delete_gate.get().is_some_and(|g| !g.enabled)>
                    <button type="button" disabled class=DISABLED aria-describedby="delete-strategy-reason">"Delete"</button>
                </Show>
                <details class="action" data-action="delete" class:hidden=move || refused(delete_gate)>
                    <summary class=format!("{BUTTON} {NEUTRAL} cursor-pointer list-none")>"Delete…"</summary>
                    <div class="mt-2 max-w-xs rounded-md border border-slate-200 bg-white p-3 text-sm shadow dark:border-slate-700 dark:bg-slate-900">
                        <p>{format!("Deletes {} from the hub. Runs already initialized keep the copy they took and go on; runs that name it and are not initialized yet will fail to initialize. This cannot be undone.", key.describe())}</p>
                        <ActionForm action=delete>
                            <input type="hidden" name="key[namespace]" value=ns/>
                            <input type="hidden" name="key[name]" value=name/>
                            <button type="submit" id="delete-strategy" class=format!("{BUTTON} {DANGER} mt-3") disabled=move || delete.pending().get()>"Delete the strategy"</button>
                        </ActionForm>
                    </div>
                </details>
            </div>
        </div>
        <GateReason gate=delete_gate id="delete-strategy-reason"/>
        <Outcome value=Signal::derive(move || delete.value().get()) done="Deleted. Opening the list…"/>
        {move || gone.get().map(|m| view! {
            <p role="alert" class="mb-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">{m}</p>
        })}
        {move || newer.get().map(|hub| {
            let version = hub.resource_version.clone();
            view! {
                <div id="newer-version" role="status" class="mb-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
                    <p>{format!("This strategy changed on the hub since you opened it (version {version}); your unsaved changes are kept. Saving them now would be refused as a conflict.")}</p>
                    <button type="button" class=format!("{BUTTON} {NEUTRAL} mt-2") on:click=move |_| {
                        editor.load(hub.clone());
                        newer.set(None);
                    }>"Load the hub's version (discards your changes)"</button>
                </div>
            }
        })}
        <StrategyEditor editor context is_new=false/>
    }
}

/// A new strategy's first draft: one stage taking every scheduled cluster, or a copy of `from`.
fn template() -> StrategyDraft {
    StrategyDraft {
        stages: vec![StageDraft {
            name: "all".into(),
            selector: "{}".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[component]
pub fn NewStrategyPage() -> impl IntoView {
    let query = use_query_map();
    let from = Memo::new(move |_| query.read().get("from").filter(|f| !f.is_empty()));
    let source = Resource::new(
        move || from.get(),
        |from| async move {
            match from {
                None => Ok(template()),
                Some(reference) => get_strategy(key_of(&reference)).await.map(|mut d| {
                    d.name = format!("{}-copy", d.name);
                    d.resource_version.clear();
                    d
                }),
            }
        },
    );
    let context = Resource::new(|| (), |_| strategy_preview_context());
    let subtitle = move || {
        match from.get() {
        Some(f) => format!("A copy of {f}: rename it, change what you need, and create it."),
        None => "Stages of clusters chosen by labels, run in order. The preview shows the plan as you type.".to_string(),
    }
    };
    view! {
        <leptos_meta::Title text="New strategy · Strategies"/>
        <nav aria-label="Breadcrumb" class="mb-2 text-sm"><a href="/strategies" class=LINK>"Strategies"</a></nav>
        <h1 class="text-2xl font-semibold tracking-tight">"New strategy"</h1>
        <p class="mt-1 mb-6 text-sm text-slate-600 dark:text-slate-400">{subtitle}</p>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (source.await, context.await) {
                    (Err(e), _) | (_, Err(e)) => failure(e),
                    (Ok(d), Ok(c)) => view! { <StrategyEditor editor=Editor::new(d) context=c is_new=true/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
