//! The frame around every page: header with navigation, live-link indicator and theme toggle.

use leptos::prelude::*;
use leptos_router::components::A;

use super::theme::ThemeToggle;
use super::{LinkStatus, LiveLink};
use crate::server_fns::acting_user::who_am_i;

const NAV: [(&str, &str); 7] = [
    ("/", "Overview"),
    ("/fleet", "Fleet"),
    ("/runs", "Runs"),
    ("/upgrades", "Upgrades"),
    ("/approvals", "Approvals"),
    ("/placements", "Placements"),
    ("/strategies", "Strategies"),
];

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a
            href="#main"
            class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-indigo-800 focus:ring-2 focus:ring-indigo-500"
        >
            "Skip to content"
        </a>
        <header class="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <div class="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
                <a href="/" class="text-lg font-semibold tracking-tight text-indigo-700 dark:text-indigo-300">
                    "fleetdeck"
                </a>
                <nav aria-label="Main" class="flex flex-wrap gap-1 text-sm">
                    {NAV
                        .into_iter()
                        .map(|(href, label)| {
                            view! {
                                <A
                                    href=href
                                    exact=true
                                    attr:class="rounded-md px-3 py-1.5 text-slate-600 hover:bg-slate-100 hover:text-slate-900 aria-[current=page]:bg-indigo-50 aria-[current=page]:font-medium aria-[current=page]:text-indigo-700 dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white dark:aria-[current=page]:bg-indigo-950 dark:aria-[current=page]:text-indigo-200"
                                >
                                    {label}
                                </A>
                            }
                        })
                        .collect_view()}
                </nav>
                <div class="ml-auto flex items-center gap-3">
                    <ActingAs/>
                    <LinkIndicator/>
                    <ThemeToggle/>
                </div>
            </div>
        </header>
        <main id="main" tabindex="-1" class="mx-auto max-w-6xl px-4 py-6">{children()}</main>
    }
}

/// Who is signed in (every action is recorded under this name, and the hub decides what they
/// may do), and the Sign out button: a plain form post, so it works without JavaScript.
#[component]
fn ActingAs() -> impl IntoView {
    let user = Resource::new(|| (), |_| who_am_i());
    view! {
        <span id="acting-as" class="flex items-center gap-2 text-xs text-slate-700 dark:text-slate-300">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    user.await.ok().flatten().map(|u| {
                        let name = u.name.clone();
                        let role = u.role.clone().map(|r| format!(" ({r})"));
                        view! {
                            <span title="Every action you take is recorded under this name">
                                "signed in as " <strong data-user=name>{u.name}</strong>{role}
                            </span>
                            <form method="post" action="/auth/signout">
                                <button type="submit" class="whitespace-nowrap rounded-md border border-slate-400 px-2 py-1 text-slate-800 hover:bg-slate-100 dark:border-slate-500 dark:text-slate-100 dark:hover:bg-slate-800">
                                    "Sign out"
                                </button>
                            </form>
                        }
                    })
                })}
            </Suspense>
        </span>
    }
}

/// A dot that tells whether live updates are flowing.
#[component]
fn LinkIndicator() -> impl IntoView {
    let link = LiveLink::expect();
    let status = link.status;
    let dot = move || match status.get() {
        LinkStatus::Live => "bg-emerald-500",
        LinkStatus::Connecting | LinkStatus::Reconnecting => "bg-amber-400",
        LinkStatus::Offline => "bg-rose-500",
    };
    view! {
        <span
            id="live-status"
            data-status=move || status.get().label()
            class="flex items-center gap-1.5 text-xs text-slate-500 dark:text-slate-400"
            title="Live updates from the server"
        >
            <span class=move || format!("inline-block h-2 w-2 rounded-full {}", dot())></span>
            {move || status.get().label()}
        </span>
    }
}

/// A page heading with a one-line explanation.
#[component]
pub fn PageHeader(title: &'static str, subtitle: &'static str) -> impl IntoView {
    view! {
        <leptos_meta::Title text=title/>
        <div class="mb-6">
            <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{subtitle}</p>
        </div>
    }
}

/// A bordered panel.
#[component]
pub fn Card(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h2 class="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">
                {title}
            </h2>
            {children()}
        </section>
    }
}
