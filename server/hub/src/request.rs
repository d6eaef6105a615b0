//! What a write request carries besides its URL: its body, read within the hub's size and time
//! limits and decoded (JSON, YAML for apply, protobuf), and its writer (the field manager).

use std::collections::HashMap;

use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderMap};
use serde_json::{json, Value};

use crate::managed::{self, Writer};
use crate::registry::KindSpec;
use crate::state::HubState;
use crate::status::{Cause, Error, Result, Subject};

pub(crate) async fn read_body(hub: &HubState, headers: &HeaderMap, body: Body) -> Result<Value> {
    let bytes = match tokio::time::timeout(hub.body_timeout, to_bytes(body, hub.max_body)).await {
        Err(_) => return Err(Error::BodyTimeout(hub.body_timeout)),
        // Over the limit is the client's 413; a body that breaks off (a closed connection, broken
        // chunked encoding) is its 400, not a size problem.
        Ok(Err(e)) if is_over_limit(&e) => return Err(Error::TooLarge),
        Ok(Err(e)) => {
            return Err(Error::BadRequest(format!(
                "error reading the request body: {e}"
            )))
        }
        Ok(Ok(bytes)) => bytes,
    };
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("application/vnd.kubernetes.protobuf") {
        // spec §0.2: `kubectl create <generator>` sends protobuf and does not retry with JSON.
        return crate::protobuf::decode(&bytes);
    }
    if ct.contains("protobuf") {
        return Err(Error::UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/vnd.kubernetes.protobuf".into(),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let json = serde_json::from_slice(&bytes);
    if json.is_err() && ct.starts_with("application/apply-patch+yaml") {
        // An apply body may be YAML proper; kubectl and kube-rs send JSON, which is YAML too.
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| Error::BadRequest(format!("couldn't decode the request body: {e}")))?;
        return serde_saphyr::from_str(text).map_err(|e| {
            Error::BadRequest(format!("couldn't decode the request body as YAML: {e}"))
        });
    }
    json.map_err(|e| Error::BadRequest(format!("couldn't decode the request body as JSON: {e}")))
}

/// Who a write is by (spec §3.4): `fieldManager`, else kube-apiserver's default taken from the
/// User-Agent; validated like `ValidateFieldManager`, with `options` naming the request's
/// options kind in the 422 (`CreateOptions`, `UpdateOptions`, `PatchOptions`).
pub(crate) fn writer(
    kind: &KindSpec,
    version: &str,
    sub: Option<&str>,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    mut causes: Vec<Cause>,
    options: &str,
) -> Result<Writer> {
    let manager = match q.get("fieldManager").filter(|m| !m.is_empty()) {
        Some(m) => {
            causes.extend(managed::validate_manager(m));
            m.clone()
        }
        None => managed::manager_from_user_agent(
            headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        ),
    };
    if !causes.is_empty() {
        return Err(Error::Invalid(
            Subject {
                group: "meta.k8s.io".into(),
                kind: options.into(),
                ..Default::default()
            },
            causes,
        ));
    }
    Ok(Writer {
        manager,
        api_version: kind.api_version(version),
        status: sub == Some("status"),
    })
}

fn is_over_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}
