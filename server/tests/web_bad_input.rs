//! The dashboard against bad input (issue 21): every server function refuses cross-site writes,
//! answers malformed arguments with a 4xx, bodies are bounded in size and time, and the event
//! stream has a bound on its subscribers. Driven in-process through the router.

use std::time::Duration;

use app::live::Topics;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use futures::StreamExt;
use http_body_util::BodyExt;
use server::web::{router, AppState, EventStreams};
use tower::ServiceExt;

mod signin_support;

const HOST: &str = "127.0.0.1:3000";

fn state() -> AppState {
    let hub = kube::Client::new(
        hub::Hub::memory(server::fleet_kinds::registry()).router(),
        "default",
    );
    AppState::in_process(&hub, Topics::default())
}

/// Every server function the dashboard serves (registered at link time).
fn server_functions() -> Vec<(&'static str, Method)> {
    let mut fns: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
    fns.sort_by_key(|(p, _)| *p);
    assert!(
        fns.len() >= 25,
        "the server functions are registered: {fns:?}"
    );
    fns
}

/// Sends `req` through the dashboard's router. Bounded so that a request that never completes
/// fails naming itself (on the paused clock the bound is virtual).
fn send(
    st: &AppState,
    req: Request<Body>,
) -> impl std::future::Future<Output = (StatusCode, String)> + Send + 'static {
    let router = router(st.clone());
    async move {
        let res = tokio::time::timeout(Duration::from_secs(60), router.oneshot(req))
            .await
            .expect("an answer within 60 s")
            .expect("infallible");
        let status = res.status();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }
}

fn post(path: &str, cookie: &str, headers: &[(&str, &str)], body: Body) -> Request<Body> {
    let mut req = Request::post(path)
        .header("host", HOST)
        .header("cookie", cookie);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(body).expect("request")
}

#[tokio::test]
async fn every_server_function_is_a_post_and_refuses_cross_site_writes() {
    let st = state();
    let cookie = signin_support::ops_cookie(&st).await;
    let forged: &[&[(&str, &str)]] = &[
        &[
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
        // The browser's own word wins over an Origin that names this host.
        &[
            ("origin", "http://127.0.0.1:3000"),
            ("sec-fetch-site", "cross-site"),
        ],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
        &[("origin", "http://127.0.0.1:3000.evil.example")],
        &[("origin", "http://127.0.0.1:8080")],
    ];
    for (path, method) in server_functions() {
        // A GET server function would pass the guard, which checks writes only.
        assert_eq!(method, Method::POST, "{path}");
        for headers in forged {
            let mut h = headers.to_vec();
            h.push(("content-type", "application/x-www-form-urlencoded"));
            let (code, body) = send(&st, post(path, &cookie, &h, Body::from("name=x"))).await;
            assert_eq!(code, StatusCode::FORBIDDEN, "{path} {headers:?}: {body}");
            assert!(body.contains("CrossSite"), "{path} {headers:?}: {body}");
        }
    }
}

#[tokio::test]
async fn server_functions_answer_malformed_arguments_with_4xx() {
    let st = state();
    let cookie = signin_support::ops_cookie(&st).await;
    let long = "n".repeat(10_000);
    let bodies: Vec<(&str, String)> = vec![
        ("application/x-www-form-urlencoded", String::new()),
        ("application/x-www-form-urlencoded", "%%%".into()),
        (
            "application/x-www-form-urlencoded",
            "name=../../etc/passwd&namespace=..&id=-1".into(),
        ),
        (
            "application/x-www-form-urlencoded",
            format!("name={long}&namespace={long}"),
        ),
        (
            "application/x-www-form-urlencoded",
            "name=%00&namespace=%FF".into(),
        ),
        (
            "application/x-www-form-urlencoded",
            "name=UPPER_case!&index=x&stage=%20".into(),
        ),
        ("application/json", "{\"name\":".into()),
        ("text/plain", "name=x".into()),
        ("", "name=x".into()),
    ];
    let mut server_errors = Vec::new();
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for (path, _) in server_functions() {
        for (ct, body) in &bodies {
            let mut h = vec![
                ("origin", "http://127.0.0.1:3000"),
                ("sec-fetch-site", "same-origin"),
            ];
            if !ct.is_empty() {
                h.push(("content-type", ct));
            }
            let (code, text) = send(&st, post(path, &cookie, &h, Body::from(body.clone()))).await;
            *answers.entry(code.as_u16()).or_default() += 1;
            // 503 is an honest "not available here" (no members in this process).
            if code.is_server_error() && code != StatusCode::SERVICE_UNAVAILABLE {
                let shown: String = body.chars().take(60).collect();
                server_errors.push(format!("{path} ({ct}) {shown:?} → {code} {text}"));
            }
        }
    }
    println!("server-function answers to malformed arguments by code: {answers:?}");
    assert!(
        server_errors.is_empty(),
        "{} 5xx answers to bad input:\n{}",
        server_errors.len(),
        server_errors.join("\n")
    );
}

#[tokio::test]
async fn an_oversized_body_is_413_before_any_server_function_reads_it() {
    let st = state();
    let cookie = signin_support::ops_cookie(&st).await;
    let big = format!("text={}", "x".repeat(st.body_limits.max));
    let h = [
        ("origin", "http://127.0.0.1:3000"),
        ("sec-fetch-site", "same-origin"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let (code, body) = send(
        &st,
        post("/api/activity/post_note", &cookie, &h, Body::from(big)),
    )
    .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(st.feed.list().iter().all(|e| !e.message.starts_with("xxx")));
    // Streamed without a length, too.
    let chunks = futures::stream::iter(
        (0..=st.body_limits.max / 4096).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 4096])),
    );
    let (code, body) = send(
        &st,
        post(
            "/api/activity/post_note",
            &cookie,
            &h,
            Body::from_stream(futures::stream::iter([Ok(b"text=".to_vec())]).chain(chunks)),
        ),
    )
    .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // Under the limit the note is posted.
    let (code, body) = send(
        &st,
        post(
            "/api/activity/post_note",
            &cookie,
            &h,
            Body::from("text=fits"),
        ),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
}

/// A body that trickles (a byte every second, each within any per-read timeout) or stops gets a
/// 408 once the deadline passes, and a request sent meanwhile is answered. On tokio's paused
/// clock: the deadline is the real 30 s default, and the test takes no time.
#[tokio::test(start_paused = true)]
async fn a_body_that_trickles_or_stops_gets_408_and_holds_up_no_one() {
    let st = state();
    let cookie = signin_support::ops_cookie(&st).await;
    let h = [
        ("origin", "http://127.0.0.1:3000"),
        ("sec-fetch-site", "same-origin"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let trickle = futures::stream::unfold(0u32, |n| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Some((Ok::<_, std::io::Error>(vec![b'x']), n + 1))
    });
    let trickle = futures::stream::iter([Ok(b"text=".to_vec())]).chain(trickle);
    let stopped = futures::stream::iter([Ok::<_, std::io::Error>(b"text=ab".to_vec())])
        .chain(futures::stream::pending());
    for (what, body) in [
        ("trickling", Body::from_stream(trickle)),
        ("stopped", Body::from_stream(stopped)),
    ] {
        let started = tokio::time::Instant::now();
        let slow = tokio::spawn(send(
            &st,
            post("/api/activity/post_note", &cookie, &h, body),
        ));
        // Meanwhile another browser posts a note.
        let (code, text) = send(
            &st,
            post(
                "/api/activity/post_note",
                &cookie,
                &h,
                Body::from("text=meanwhile"),
            ),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{text}");
        let (code, text) = slow.await.expect("the slow request");
        assert_eq!(code, StatusCode::REQUEST_TIMEOUT, "{what}: {text}");
        assert!(text.contains("did not arrive within 30 s"), "{text}");
        assert_eq!(
            started.elapsed().as_secs(),
            st.body_limits.timeout.as_secs(),
            "{what}: answered at the deadline"
        );
    }
    assert!(st.feed.list().iter().all(|e| !e.message.starts_with("ab")));
}

#[tokio::test]
async fn event_streams_past_the_bound_get_503_until_one_closes() {
    let mut st = state();
    st.event_streams = EventStreams::new(3);
    let cookie = signin_support::ops_cookie(&st).await;
    let open = |st: &AppState| {
        let req = Request::get("/api/events")
            .header("cookie", cookie.clone())
            .body(Body::empty())
            .expect("request");
        let router = router(st.clone());
        async move { router.oneshot(req).await.expect("infallible") }
    };
    let mut streams = Vec::new();
    for _ in 0..3 {
        let res = open(&st).await;
        assert_eq!(res.status(), StatusCode::OK);
        streams.push(res);
    }
    assert_eq!(st.event_streams.open(), 3);
    let res = open(&st).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "5");
    let body = res.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("too many open event streams (3)"), "{text}");
    // A browser that leaves frees its slot.
    drop(streams.pop());
    assert_eq!(st.event_streams.open(), 2);
    let res = open(&st).await;
    assert_eq!(res.status(), StatusCode::OK);
    // A stream that ends on shutdown frees its slot too.
    streams.push(res);
    st.shutdown.cancel();
    for s in streams {
        let mut frames = s.into_body().into_data_stream();
        while frames.next().await.is_some() {}
    }
    assert_eq!(st.event_streams.open(), 0);
}
