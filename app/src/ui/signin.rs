//! `/signin` and `/signin/setup`: plain HTML forms that post to the server (`/auth/…`) and are
//! answered with redirects, so signing in works without JavaScript. Errors arrive as codes in the
//! query and are shown in an alert that screen readers announce.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::server_fns::sign_in_options::get_sign_in_options;

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-400 bg-white px-3 py-2 text-base text-slate-900 focus:border-indigo-600 focus:outline-none focus:ring-2 focus:ring-indigo-500 dark:border-slate-500 dark:bg-slate-900 dark:text-slate-100";
const LABEL: &str = "block text-sm font-medium text-slate-800 dark:text-slate-200";
const BUTTON: &str = "mt-2 w-full rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2 dark:bg-indigo-400 dark:text-slate-950 dark:hover:bg-indigo-300 dark:focus:ring-offset-slate-950";

const BUTTON_LINK: &str = "block w-full rounded-md bg-indigo-700 px-4 py-2 text-center font-medium text-white hover:bg-indigo-800 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2 dark:bg-indigo-400 dark:text-slate-950 dark:hover:bg-indigo-300 dark:focus:ring-offset-slate-950";

/// `s` as a URL query value (percent-encoded), without a browser API, so the server and the
/// browser render the same link.
fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

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
        // Signing in with the identity provider (OpenID Connect): what went wrong, and who can fix it.
        "oidc-unreachable" => "fleetdeck could not reach the identity provider. Try again in a moment; if it keeps failing, ask an administrator to check --oidc-issuer and that fleetdeck can reach it.".into(),
        "oidc-discovery" => "The identity provider's configuration does not match the issuer fleetdeck was given. Ask an administrator to check --oidc-issuer (it must be exactly the provider's issuer URL).".into(),
        "oidc-denied" => "The identity provider did not sign you in (it refused, or the sign-in was cancelled). Try again, or ask your identity provider's administrator for access to fleetdeck.".into(),
        "oidc-state" => "This answer from the identity provider does not belong to a sign-in started in this browser, or it took longer than 10 minutes. Start the sign-in again from this page.".into(),
        "oidc-exchange" => "The identity provider would not exchange the sign-in code for a token. Ask an administrator to check --oidc-client-id, --oidc-client-secret and that --oidc-redirect-url is registered with the provider.".into(),
        "oidc-no-id-token" => "The identity provider answered without an ID token. Ask an administrator to allow the openid scope for fleetdeck's client at the provider.".into(),
        "oidc-signature" => "The identity provider's token was not signed by a key it publishes, so fleetdeck cannot trust it. Ask an administrator to check --oidc-issuer.".into(),
        "oidc-audience" => "The identity provider's token was issued for another application, not this fleetdeck. Ask an administrator to check --oidc-client-id.".into(),
        "oidc-issuer" => "The identity provider's token was issued by someone other than the configured issuer. Ask an administrator to check --oidc-issuer.".into(),
        "oidc-expired" => "The identity provider's token had already expired. Sign in again; if this keeps happening, check that the clocks of fleetdeck's machine and the provider agree.".into(),
        "oidc-nonce" => "The identity provider's token answers a different sign-in. Start the sign-in again from this page.".into(),
        "oidc-token" => "The identity provider's token could not be verified. Sign in again; if it keeps failing, ask an administrator to check the --oidc-* settings.".into(),
        "oidc-username" => "The identity provider's token does not say who you are in the claim fleetdeck uses as your name. Ask an administrator to check --oidc-username-claim (and the scopes requested with --oidc-scope).".into(),
        // Signing in with a pasted Kubernetes bearer token (a real hub).
        "token-invalid" => "The hub does not accept this token (it may have expired, or be for another cluster). Paste a current token for this hub, e.g. from kubectl create token.".into(),
        "token-unknown" => "The hub accepted the token but would not say whose it is (it needs SelfSubjectReview, Kubernetes 1.28 or later, which every authenticated user may create). Ask an administrator.".into(),
        "token-unreachable" => "fleetdeck could not reach the hub to check the token. Try again in a moment.".into(),
        "oidc-email" => "The identity provider says your e-mail address is not verified, so it cannot name you. Verify it with the provider, then sign in again.".into(),
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
    let options = Resource::new(|| (), |_| get_sign_in_options());
    let token_next = next.clone();
    let start = format!("/auth/oidc/start?next={}", query_value(&next));
    view! {
        <Frame title="Sign in">
            <Alert message/>
            {signed_out.then(|| view! {
                <p role="status" class="mb-4 text-sm text-slate-700 dark:text-slate-300">"You are signed out."</p>
            })}
            <Suspense fallback=|| ()>
                {move || {
                    let start = start.clone();
                    options.get().and_then(Result::ok).and_then(|o| o.identity_provider).map(|name| view! {
                        <a id="signin-oidc" href=start class=BUTTON_LINK>{format!("Sign in with {name}")}</a>
                        <p class="my-4 text-center text-sm text-slate-700 dark:text-slate-300">"or with a fleetdeck account"</p>
                    })
                }}
            </Suspense>
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
            <Suspense fallback=|| ()>
                {move || {
                    let next = token_next.clone();
                    options.get().and_then(Result::ok).filter(|o| o.bearer_token).map(|_| view! {
                        <form method="post" action="/auth/token" class="mt-6 space-y-4 border-t border-slate-300 pt-4 dark:border-slate-700">
                            <input type="hidden" name="next" value=next/>
                            <div>
                                <label for="signin-token" class=LABEL>"Or sign in with your Kubernetes token"</label>
                                <input id="signin-token" name="token" type="password" autocomplete="off" required
                                    spellcheck="false" class=INPUT aria-describedby="signin-token-hint"/>
                                <p id="signin-token-hint" class="mt-1 text-xs text-slate-700 dark:text-slate-300">
                                    "A bearer token the hub accepts (e.g. from kubectl create token). fleetdeck acts with it and forgets it when you sign out."
                                </p>
                            </div>
                            <button type="submit" class=BUTTON>"Sign in with token"</button>
                        </form>
                    })
                }}
            </Suspense>
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
        assert!(sign_in_message("oidc-signature", None).is_some_and(|m| m
            .contains("not signed by a key it publishes")
            && m.contains("--oidc-issuer")));
    }

    #[test]
    fn the_return_page_travels_percent_encoded_to_the_identity_provider_start() {
        assert_eq!(query_value("/runs/team-a/r1"), "/runs/team-a/r1");
        assert_eq!(
            query_value("/runs?tab=history&x=a b"),
            "/runs%3Ftab%3Dhistory%26x%3Da%20b"
        );
    }
}
