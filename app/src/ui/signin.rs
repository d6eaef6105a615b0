//! `/signin` and `/signin/setup`: plain HTML forms that post to the server (`/auth/…`) and are
//! answered with redirects, so signing in works without JavaScript. Errors arrive as codes in the
//! query and are shown in an alert that screen readers announce.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-400 bg-white px-3 py-2 text-base text-slate-900 focus:border-indigo-600 focus:outline-none focus:ring-2 focus:ring-indigo-500 dark:border-slate-500 dark:bg-slate-900 dark:text-slate-100";
const LABEL: &str = "block text-sm font-medium text-slate-800 dark:text-slate-200";
const BUTTON: &str = "mt-2 w-full rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2 dark:bg-indigo-400 dark:text-slate-950 dark:hover:bg-indigo-300 dark:focus:ring-offset-slate-950";

/// The words for an error code the server put in the query.
pub fn sign_in_message(code: &str, retry: Option<&str>) -> Option<String> {
    let wait = retry.and_then(|r| r.parse::<u64>().ok()).unwrap_or(60);
    Some(match code {
        "invalid" => "That name and password do not match an account. Check both and try again.".into(),
        "limited" => format!("Too many sign-in attempts. Try again in {wait} seconds."),
        "unavailable" => "fleetdeck could not check your sign-in just now. Try again in a moment.".into(),
        "mismatch" => "The two passwords differ. Type the same password in both fields.".into(),
        "short" => "Choose a password of at least 10 characters.".into(),
        "expired" => "This sign-in link has expired. Ask an administrator for a new one.".into(),
        "unknown" => "This sign-in link has been used already or is not valid. Sign in with your password, or ask an administrator for a new link.".into(),
        _ => return None,
    })
}

#[component]
fn Alert(message: Option<String>) -> impl IntoView {
    message.map(|m| {
        view! {
            <p
                id="signin-error"
                role="alert"
                class="mb-4 rounded-md border border-red-700 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-400 dark:bg-red-950 dark:text-red-100"
            >
                {m}
            </p>
        }
    })
}

#[component]
fn Frame(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title/>
        <div class="mx-auto mt-8 w-full max-w-sm rounded-lg border border-slate-300 bg-white p-6 shadow-sm dark:border-slate-700 dark:bg-slate-900">
            <h1 class="mb-4 text-xl font-semibold">{title}</h1>
            {children()}
        </div>
    }
}

/// `/signin?next=…&error=…`: name and password.
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let q = query.get_untracked();
    let (next, name) = (
        q.get("next").unwrap_or_default(),
        q.get("name").unwrap_or_default(),
    );
    let message = q
        .get("error")
        .and_then(|code| sign_in_message(&code, q.get("retry").as_deref()));
    let signed_out = q.get("signed_out").is_some();
    let has_error = message.is_some();
    view! {
        <Frame title="Sign in">
            <Alert message/>
            {signed_out.then(|| view! {
                <p role="status" class="mb-4 text-sm text-slate-700 dark:text-slate-300">"You are signed out."</p>
            })}
            <form method="post" action="/auth/signin" class="space-y-4">
                <input type="hidden" name="next" value=next/>
                <div>
                    <label for="signin-name" class=LABEL>"Name"</label>
                    <input id="signin-name" name="name" type="text" autocomplete="username" required
                        autocapitalize="none" spellcheck="false" value=name class=INPUT
                        aria-describedby=has_error.then_some("signin-error")/>
                </div>
                <div>
                    <label for="signin-password" class=LABEL>"Password"</label>
                    <input id="signin-password" name="password" type="password" autocomplete="current-password" required
                        class=INPUT aria-invalid=has_error.then_some("true")
                        aria-describedby=has_error.then_some("signin-error")/>
                </div>
                <button type="submit" class=BUTTON>"Sign in"</button>
            </form>
            <p class="mt-4 text-sm text-slate-700 dark:text-slate-300">
                "New here? Open the one-time link an administrator gave you to set your password."
            </p>
        </Frame>
    }
}

/// `/signin/setup?token=…`: set a password with a one-time link.
#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let q = query.get_untracked();
    let message = q
        .get("error")
        .and_then(|code| sign_in_message(&code, q.get("retry").as_deref()));
    let token = q.get("token").unwrap_or_default();
    let has_error = message.is_some();
    view! {
        <Frame title="Set your password">
            <Alert message/>
            <form method="post" action="/auth/setup" class="space-y-4">
                <input type="hidden" name="token" value=token/>
                <div>
                    <label for="setup-password" class=LABEL>"New password"</label>
                    <input id="setup-password" name="password" type="password" autocomplete="new-password" required
                        minlength="10" class=INPUT aria-describedby="setup-hint"
                        aria-invalid=has_error.then_some("true")/>
                    <p id="setup-hint" class="mt-1 text-xs text-slate-700 dark:text-slate-300">"At least 10 characters."</p>
                </div>
                <div>
                    <label for="setup-confirm" class=LABEL>"Type it again"</label>
                    <input id="setup-confirm" name="confirm" type="password" autocomplete="new-password" required
                        minlength="10" class=INPUT/>
                </div>
                <button type="submit" class=BUTTON>"Set password and sign in"</button>
            </form>
        </Frame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_code_has_words_and_unknown_codes_show_nothing() {
        assert_eq!(
            sign_in_message("limited", Some("12")).as_deref(),
            Some("Too many sign-in attempts. Try again in 12 seconds.")
        );
        assert!(sign_in_message("invalid", None).is_some());
        assert_eq!(sign_in_message("<script>", None), None);
    }
}
