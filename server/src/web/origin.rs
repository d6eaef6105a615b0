//! Refuses cross-site writes. A browser attaches this origin's cookies to a form or `fetch` sent
//! from any other site, so without this check any web page could press Approve on a local
//! fleetdeck. Browsers say where a request comes from (`Sec-Fetch-Site`, `Origin`); a request
//! from another site is answered 403 before any server function runs. Requests without either
//! header come from non-browser clients, which carry no ambient credentials to abuse.

use app::error::AppError;
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn same_origin_writes(request: Request<Body>, next: Next) -> Response {
    if is_safe(request.method()) {
        return next.run(request).await;
    }
    match cross_site(request.headers()) {
        None => next.run(request).await,
        Some(from) => refuse(&from),
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Where a cross-site request came from, or `None` when it is same-origin (or not a browser's).
pub fn cross_site(headers: &HeaderMap) -> Option<String> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        if !matches!(site, "same-origin" | "none") {
            return Some(text("origin").unwrap_or(site).to_string());
        }
    }
    let origin = text("origin")?;
    let host = text(header::HOST.as_str())?;
    // `Origin` is `scheme://host[:port]`; it must name this server's own host and port.
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    (origin_host != Some(host)).then(|| origin.to_string())
}

fn refuse(from: &str) -> Response {
    let error = AppError::CrossSite(format!(
        "refused: this change was sent from another site ({from}); fleetdeck accepts changes only from its own pages — open the dashboard directly and try again"
    ));
    let body = serde_json::to_string(&error).unwrap_or_default();
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_and_non_browser_requests_pass() {
        assert_eq!(cross_site(&headers(&[("host", "127.0.0.1:3000")])), None);
        assert_eq!(
            cross_site(&headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:3000"),
                ("sec-fetch-site", "same-origin"),
            ])),
            None
        );
        // A bookmark or typed address: the user's own navigation.
        assert_eq!(cross_site(&headers(&[("sec-fetch-site", "none")])), None);
    }

    #[test]
    fn another_site_or_port_is_refused() {
        assert_eq!(
            cross_site(&headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ])),
            Some("https://evil.example".into())
        );
        // Another local port is another origin (same-site, not same-origin).
        assert_eq!(
            cross_site(&headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:8080")
            ])),
            Some("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            cross_site(&headers(&[
                ("host", "127.0.0.1:3000"),
                ("sec-fetch-site", "same-site")
            ])),
            Some("same-site".into())
        );
        assert_eq!(
            cross_site(&headers(&[("host", "127.0.0.1:3000"), ("origin", "null")])),
            Some("null".into())
        );
    }
}
