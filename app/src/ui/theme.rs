//! Light and dark themes: Tailwind's `dark:` variant keys off a `dark` class on `<html>`
//! (see style/tailwind.css), chosen by the user or, until they choose, by the system.

use leptos::prelude::*;

/// The localStorage key that remembers an explicit choice (also spelled out in `EARLY_SCRIPT`).
#[cfg(feature = "hydrate")]
const STORAGE_KEY: &str = "fleetdeck-theme";

/// Runs in `<head>` before the body paints.
pub const EARLY_SCRIPT: &str = "(function(){try{var t=localStorage.getItem('fleetdeck-theme');\
var d=t?t==='dark':window.matchMedia('(prefers-color-scheme: dark)').matches;\
document.documentElement.classList.toggle('dark',d);}catch(e){}})();";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

/// A button that flips the theme and remembers the choice.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    // Unknown on the server: the early script decides before hydration, and we read it back.
    let theme = RwSignal::new(None::<Theme>);
    Effect::new(move |_| theme.set(Some(current())));

    let label = move || match theme.get() {
        Some(Theme::Dark) => "Light mode",
        Some(Theme::Light) => "Dark mode",
        None => "Theme",
    };
    view! {
        <button
            id="theme-toggle"
            type="button"
            class="rounded-md border border-slate-300 px-3 py-1 text-sm text-slate-700 hover:bg-slate-100 dark:border-slate-700 dark:text-slate-200 dark:hover:bg-slate-800"
            on:click=move |_| {
                let next = match current() {
                    Theme::Dark => Theme::Light,
                    Theme::Light => Theme::Dark,
                };
                apply(next);
                theme.set(Some(next));
            }
        >
            {label}
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn current() -> Theme {
    let dark = document()
        .document_element()
        .is_some_and(|html| html.class_list().contains("dark"));
    if dark {
        Theme::Dark
    } else {
        Theme::Light
    }
}

#[cfg(not(feature = "hydrate"))]
fn current() -> Theme {
    Theme::Light
}

#[cfg(feature = "hydrate")]
fn apply(theme: Theme) {
    let dark = theme == Theme::Dark;
    if let Some(html) = document().document_element() {
        let _ = html.class_list().toggle_with_force("dark", dark);
    }
    if let Ok(Some(storage)) = window().local_storage() {
        let _ = storage.set_item(STORAGE_KEY, if dark { "dark" } else { "light" });
    }
}

#[cfg(not(feature = "hydrate"))]
fn apply(_theme: Theme) {}
