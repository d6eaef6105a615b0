//! The HTTP surface, driven in-process through the router (no TCP): health probes, the
//! activity event stream and the refusal of cross-site writes.

use std::time::Duration;

use app::live::Topics;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures::StreamExt;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use server::web::{router, AppState};
use tower::ServiceExt;

mod signin_support;

fn state(site_root: &std::path::Path) -> AppState {
    let hub = kube::Client::new(
        hub::Hub::memory(server::fleet_kinds::registry()).router(),
        "default",
    );
    let mut state = AppState::in_process(&hub, Topics::default());
    state.leptos_options = LeptosOptions::builder()
        .output_name("fleetdeck")
        .site_root(site_root.to_string_lossy().to_string())
        .build();
    state
}

/// GETs `uri` signed in as `ops` (pages and the event stream need a session).
async fn get(state: &AppState, uri: &str, headers: &[(&str, &str)]) -> axum::response::Response {
    let cookie = signin_support::ops_cookie(state).await;
    let mut req = Request::get(uri).header("cookie", cookie);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    // Bounded so that a request that never completes fails here, naming itself, instead of
    // leaving CI idle until its limit.
    let res = router(state.clone()).oneshot(req.body(Body::empty()).expect("request"));
    tokio::time::timeout(Duration::from_secs(60), res)
        .await
        .unwrap_or_else(|_| panic!("GET {uri} answered within 60 s"))
        .expect("infallible")
}

/// Reads SSE frames until `n` events (not comments) have arrived.
async fn read_events(body: Body, n: usize) -> Vec<String> {
    let mut frames = body.into_data_stream();
    let mut buf = String::new();
    let mut events = Vec::new();
    while events.len() < n {
        let chunk = tokio::time::timeout(Duration::from_secs(5), frames.next())
            .await
            .expect("an event within 5 s")
            .expect("stream still open")
            .expect("body chunk");
        buf.push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        while let Some(end) = buf.find("\n\n") {
            let frame = buf[..end].to_string();
            buf.drain(..end + 2);
            if frame.lines().any(|l| l.starts_with("event:")) {
                events.push(frame);
            }
        }
    }
    events
}

fn field<'a>(frame: &'a str, name: &str) -> &'a str {
    frame
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {name} in {frame:?}"))
}

#[tokio::test]
async fn healthz_answers_ok() {
    let dir = tempdir();
    let res = get(&state(dir.path()), "/healthz", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn readyz_reports_missing_assets_then_ready() {
    let dir = tempdir();
    let st = state(dir.path());
    let res = get(&st, "/readyz", &[]).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = res.into_body().collect().await.expect("body").to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(json["ready"], false);
    let msg = json["checks"]["assets"].as_str().expect("message");
    assert!(
        msg.contains("fleetdeck.js is missing") && msg.contains("cargo leptos build"),
        "{msg}"
    );

    std::fs::create_dir_all(dir.path().join("pkg")).expect("mkdir");
    std::fs::write(dir.path().join("pkg/fleetdeck.js"), "").expect("write");
    std::fs::write(dir.path().join("pkg/fleetdeck.wasm"), "").expect("write");
    let res = get(&st, "/readyz", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn assets_are_served_precompressed_when_the_browser_accepts_it() {
    let dir = tempdir();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(pkg.join("fleetdeck.wasm"), b"raw wasm").expect("write");
    std::fs::write(pkg.join("fleetdeck.wasm.br"), b"brotli wasm").expect("write");
    std::fs::write(pkg.join("fleetdeck.wasm.gz"), b"gzip wasm").expect("write");
    let st = state(dir.path());

    let cases = [
        ("br", Some("br"), "brotli wasm"),
        ("gzip", Some("gzip"), "gzip wasm"),
        ("identity", None, "raw wasm"),
    ];
    for (accept, encoding, body) in cases {
        let res = get(&st, "/pkg/fleetdeck.wasm", &[("accept-encoding", accept)]).await;
        assert_eq!(res.status(), StatusCode::OK, "{accept}");
        assert_eq!(
            res.headers()["content-type"],
            "application/wasm",
            "{accept}"
        );
        assert_eq!(
            res.headers()
                .get("content-encoding")
                .map(|v| v.to_str().expect("ascii")),
            encoding,
            "{accept}"
        );
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(&bytes[..], body.as_bytes(), "{accept}");
    }
}

#[tokio::test]
async fn event_stream_lists_then_watches() {
    let dir = tempdir();
    let st = state(dir.path());
    st.feed.publish("test", "before connecting");
    let res = get(&st, "/api/events", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    assert_eq!(res.headers()["x-accel-buffering"], "no");

    let reader = tokio::spawn(read_events(res.into_body(), 2));
    // Give the stream a moment to send its snapshot before the live entry is published.
    tokio::time::sleep(Duration::from_millis(50)).await;
    st.feed.publish("test", "after connecting");
    let events = reader.await.expect("reader");

    assert_eq!(field(&events[0], "event"), "snapshot");
    assert_eq!(field(&events[0], "id"), "1");
    let list: Vec<app::live::Activity> =
        serde_json::from_str(field(&events[0], "data")).expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].message, "before connecting");

    assert_eq!(field(&events[1], "event"), "added");
    assert_eq!(field(&events[1], "id"), "2");
    let entry: app::live::Activity =
        serde_json::from_str(field(&events[1], "data")).expect("entry");
    assert_eq!(entry.message, "after connecting");
}

#[tokio::test]
async fn event_stream_resumes_after_last_event_id() {
    let dir = tempdir();
    let st = state(dir.path());
    for i in 1..=4 {
        st.feed.publish("test", format!("entry {i}"));
    }
    let res = get(&st, "/api/events", &[("last-event-id", "2")]).await;
    let events = read_events(res.into_body(), 2).await;
    let ids: Vec<_> = events
        .iter()
        .map(|e| (field(e, "event"), field(e, "id")))
        .collect();
    assert_eq!(ids, [("added", "3"), ("added", "4")]);
}

#[tokio::test]
async fn event_stream_ends_when_the_server_shuts_down() {
    let dir = tempdir();
    let st = state(dir.path());
    let res = get(&st, "/api/events", &[]).await;
    let mut frames = res.into_body().into_data_stream();
    frames.next().await.expect("snapshot").expect("chunk");
    st.shutdown.cancel();
    let end = tokio::time::timeout(Duration::from_secs(5), frames.next())
        .await
        .expect("the stream ends promptly on shutdown");
    assert!(end.is_none(), "no more frames after shutdown");
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

async fn post(
    state: &AppState,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, String) {
    let cookie = signin_support::ops_cookie(state).await;
    let mut req = Request::post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router(state.clone())
        .oneshot(req.body(Body::from(body.to_string())).expect("request"))
        .await
        .expect("infallible");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn a_write_from_another_site_is_refused_before_the_server_function_runs() {
    let dir = tempdir();
    let st = state(dir.path());
    let (status, body) = post(
        &st,
        "/api/activity/post_note",
        &[
            ("host", "127.0.0.1:3000"),
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
        "text=pwned",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.contains("sent from another site (https://evil.example)"),
        "{body}"
    );
    assert!(
        st.feed.list().iter().all(|e| e.message != "pwned"),
        "nothing was posted"
    );

    let (status, body) = post(
        &st,
        "/api/activity/post_note",
        &[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
            ("sec-fetch-site", "same-origin"),
        ],
        "text=hello",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(st.feed.list().iter().any(|e| e.message == "hello"));
}

#[tokio::test]
async fn pages_and_server_function_answers_are_compressed_when_the_browser_accepts_it() {
    let dir = tempdir();
    let st = state(dir.path());
    let res = get(&st, "/no-such-page", &[("accept-encoding", "br")]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.headers()
            .get("content-encoding")
            .map(|v| v.to_str().expect("ascii")),
        Some("br")
    );
    let req = Request::post("/api/server_info")
        .header("cookie", signin_support::ops_cookie(&st).await)
        .header("accept-encoding", "gzip")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::empty())
        .expect("request");
    let res = router(st.clone()).oneshot(req).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()
            .get("content-encoding")
            .map(|v| v.to_str().expect("ascii")),
        Some("gzip")
    );
    // The event stream is never compressed: an event must not wait in a compressor's buffer.
    let res = get(&st, "/api/events", &[("accept-encoding", "br")]).await;
    assert_eq!(res.headers().get("content-encoding"), None);
}

/// A cargo-leptos content hash as it appears in a file name (22 base64url characters).
const HASH: &str = "3q2-7wEjDhYqFJt0pV8r1g";

fn header<'a>(res: &'a axum::response::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().expect("ascii"))
}

#[tokio::test]
async fn hashed_assets_are_cached_for_a_year_and_revalidated_with_their_etag() {
    let dir = tempdir();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    let wasm = format!("/pkg/fleetdeck.{HASH}.wasm");
    std::fs::write(pkg.join(format!("fleetdeck.{HASH}.wasm")), b"raw wasm").expect("write");
    std::fs::write(
        pkg.join(format!("fleetdeck.{HASH}.wasm.br")),
        b"brotli wasm",
    )
    .expect("write");
    let st = state(dir.path());

    let res = get(&st, &wasm, &[("accept-encoding", "br")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-encoding"), Some("br"));
    assert_eq!(
        header(&res, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let etag = header(&res, "etag").expect("an ETag").to_string();
    assert!(
        etag.starts_with('"'),
        "the precompressed bytes get a strong tag: {etag}"
    );

    // Asked again with the tag: 304 and no body, the same validators.
    let res = get(
        &st,
        &wasm,
        &[("accept-encoding", "br"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&res, "etag"), Some(etag.as_str()));
    assert_eq!(
        header(&res, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let body = res.into_body().collect().await.expect("body").to_bytes();
    assert!(body.is_empty());

    // The uncompressed file is another representation: another tag, so the brotli tag does
    // not validate it.
    let res = get(&st, &wasm, &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let plain = header(&res, "etag").expect("an ETag").to_string();
    assert_ne!(plain, etag);
    let body = res.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], b"raw wasm");

    // A stale tag (the file changed) gets the new bytes.
    let res = get(
        &st,
        &wasm,
        &[("accept-encoding", "br"), ("if-none-match", "\"stale\"")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn unhashed_assets_and_pages_must_be_revalidated() {
    let dir = tempdir();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(pkg.join("fleetdeck.wasm"), b"raw wasm").expect("write");
    let st = state(dir.path());

    let res = get(&st, "/pkg/fleetdeck.wasm", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control"), Some("no-cache"));
    let etag = header(&res, "etag").expect("an ETag").to_string();
    let res = get(&st, "/pkg/fleetdeck.wasm", &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    let res = get(&st, "/pkg/no-such-file.js", &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    for page in ["/", "/no-such-page"] {
        let res = get(&st, page, &[]).await;
        assert!(
            header(&res, "content-type").is_some_and(|t| t.starts_with("text/html")),
            "{page}"
        );
        assert_eq!(header(&res, "cache-control"), Some("no-cache"), "{page}");
    }
}

#[tokio::test]
async fn pages_name_the_hashed_bundle_from_the_site_roots_hash_file() {
    let dir = tempdir();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(
        dir.path().join("hash.txt"),
        format!("js: {HASH}\nwasm: {HASH}\ncss: {HASH}\n"),
    )
    .expect("write");
    pages_name_the_hashed_bundle(dir).await;
}

#[tokio::test]
async fn pages_name_the_hashed_bundle_found_in_the_pkg_directory() {
    // A copied binary with a site root but no hash.txt: the names come from the files.
    let dir = tempdir();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(pkg.join(format!("fleetdeck.{HASH}.css")), "").expect("write");
    pages_name_the_hashed_bundle(dir).await;
}

async fn pages_name_the_hashed_bundle(dir: tempfile::TempDir) {
    let pkg = dir.path().join("pkg");
    for ext in ["js", "wasm"] {
        let _ = std::fs::remove_file(pkg.join(format!("fleetdeck.{HASH}.{ext}")));
    }
    let mut st = state(dir.path());
    let has_hash_file = dir.path().join("hash.txt").is_file();
    if has_hash_file {
        // Not ready until the hashed files that hash.txt names exist.
        server::web::assets::use_hash_file(&mut st.leptos_options);
        assert!(st.leptos_options.hash_files);
        let res = get(&st, "/readyz", &[]).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    for ext in ["js", "wasm"] {
        std::fs::write(pkg.join(format!("fleetdeck.{HASH}.{ext}")), "").expect("write");
    }
    server::web::assets::use_hash_file(&mut st.leptos_options);
    assert!(st.leptos_options.hash_files);
    let res = get(&st, "/readyz", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = get(&st, "/", &[]).await;
    let body = res.into_body().collect().await.expect("body").to_bytes();
    let html = std::str::from_utf8(&body).expect("utf-8");
    for name in [
        format!("/pkg/fleetdeck.{HASH}.js"),
        format!("/pkg/fleetdeck.{HASH}.wasm"),
        format!("/pkg/fleetdeck.{HASH}.css"),
    ] {
        assert!(html.contains(&name), "the page names {name}");
    }
}
