//! One handler for every resource URL (spec §3): the path is parsed here, the kind comes from the
//! registry, so a new kind needs no new route.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::auth::{self, Requester, UserInfo};
use crate::deletion::{self, DeleteOptions};
use crate::ops::{self, Sub};
use crate::patch::PatchType;
use crate::registry::KindSpec;
use crate::render::{Format, Renderer};
use crate::request::{read_body, writer};
use crate::scale;
use crate::selector::{FieldSelector, LabelSelector, Selectors};
use crate::state::HubState;
use crate::status::{self, Cause, Error, Result};
use crate::store::Tx;
use crate::table::Include;
use crate::{discovery, watch};

/// The hub a request is served from (the axum state).
type Hub = Arc<HubState>;

pub(crate) async fn dispatch(State(hub): State<Hub>, req: Request) -> Response {
    match handle(hub, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn json_response(code: StatusCode, v: &impl serde::Serialize, content_type: &str) -> Response {
    match serde_json::to_vec(v) {
        Ok(body) => (
            code,
            [(header::CONTENT_TYPE, content_type.to_string())],
            body,
        )
            .into_response(),
        Err(e) => Error::Internal(format!("encoding the response: {e}")).into_response(),
    }
}

/// An already serialised JSON body (the cached OpenAPI documents).
fn json_bytes(body: axum::body::Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn ok(v: &impl serde::Serialize) -> Response {
    json_response(StatusCode::OK, v, "application/json")
}

struct Target {
    kind: Arc<KindSpec>,
    version: String,
    namespace: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

async fn handle(hub: Hub, req: Request) -> Result<Response> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    // kube-rs sends `?&limit=500` and `+` for spaces: a real form-urlencoded parser (spec §3).
    let q: HashMap<String, String> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let accept = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let reg = &hub.registry;
    let get_only = |m: &Method| {
        if *m == Method::GET {
            Ok(())
        } else {
            Err(Error::MethodNotAllowed)
        }
    };
    match segs[..] {
        ["version"] => {
            get_only(&parts.method)?;
            Ok(ok(&discovery::version()))
        }
        ["healthz"] | ["readyz"] | ["livez"] => Ok("ok".into_response()),
        ["api"] | ["apis"] => {
            get_only(&parts.method)?;
            let core = segs[0] == "api";
            if discovery::wants_aggregated(&accept) {
                return Ok(json_response(
                    StatusCode::OK,
                    &discovery::aggregated(reg, core),
                    discovery::AGGREGATED_CONTENT_TYPE,
                ));
            }
            let host = parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1");
            Ok(ok(&if core {
                discovery::legacy_api(host)
            } else {
                discovery::legacy_groups(reg)
            }))
        }
        ["openapi", "v3"] => {
            get_only(&parts.method)?;
            Ok(json_bytes(hub.openapi.get(reg).index.clone()))
        }
        ["openapi", "v3", ..] => {
            get_only(&parts.method)?;
            let docs = hub.openapi.get(reg);
            docs.by_path
                .get(&segs[2..].join("/"))
                .map(|d| json_bytes(d.clone()))
                .ok_or(Error::NoRoute)
        }
        ["api", v] => {
            get_only(&parts.method)?;
            discovery::resource_list(reg, "", v)
                .map(|d| ok(&d))
                .ok_or(Error::NoRoute)
        }
        ["apis", g, v] => {
            get_only(&parts.method)?;
            discovery::resource_list(reg, g, v)
                .map(|d| ok(&d))
                .ok_or(Error::NoRoute)
        }
        ["apis", "authorization.k8s.io", "v1", review @ ("selfsubjectaccessreviews" | "selfsubjectrulesreviews")]
            if parts.method == Method::POST =>
        {
            let user = parts
                .extensions
                .get::<Requester>()
                .map(|r| r.0.clone())
                .unwrap_or_else(UserInfo::in_process);
            let body = read_body(&hub, &parts.headers, body).await?;
            let answer = if review == "selfsubjectaccessreviews" {
                serde_json::to_value(auth::review::access(&hub.store, &user, body)?)
            } else {
                serde_json::to_value(auth::review::rules(&hub.store, &user, body)?)
            }
            .map_err(|e| Error::Internal(format!("encoding the review: {e}")))?;
            Ok(json_response(
                StatusCode::CREATED,
                &answer,
                "application/json",
            ))
        }
        // Who the caller is (kubectl auth whoami; the dashboard names a pasted token's owner).
        ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"]
            if parts.method == Method::POST =>
        {
            let user = parts
                .extensions
                .get::<Requester>()
                .map(|r| r.0.clone())
                .unwrap_or_else(UserInfo::in_process);
            let body = read_body(&hub, &parts.headers, body).await?;
            let answer = serde_json::to_value(auth::review::who(&user, body)?)
                .map_err(|e| Error::Internal(format!("encoding the review: {e}")))?;
            Ok(json_response(
                StatusCode::CREATED,
                &answer,
                "application/json",
            ))
        }
        ["api", v, ref rest @ ..] => {
            let t = target(&hub, "", v, rest)?;
            resource(hub, t, parts.method, &parts.headers, &q, &accept, body).await
        }
        ["apis", g, v, ref rest @ ..] => {
            let t = target(&hub, g, v, rest)?;
            resource(hub, t, parts.method, &parts.headers, &q, &accept, body).await
        }
        _ => Err(Error::NoRoute),
    }
}

fn target(hub: &Hub, group: &str, version: &str, rest: &[&str]) -> Result<Target> {
    // `/api/v1/namespaces/x/status` is the Namespace's own subresource, not a plural in x.
    let ns_sub = group.is_empty() && rest.len() == 3 && matches!(rest[2], "status" | "finalize");
    let (namespace, rest) = if rest.len() >= 3 && rest[0] == "namespaces" && !ns_sub {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    if rest.is_empty() || rest.len() > 3 {
        return Err(Error::NoRoute);
    }
    let kind = hub
        .registry
        .find(group, version, rest[0])
        .ok_or(Error::NoRoute)?;
    if namespace.is_some() && !kind.namespaced() {
        return Err(Error::NoRoute);
    }
    let name = rest.get(1).map(|s| s.to_string());
    if name.is_some() && kind.namespaced() && namespace.is_none() {
        return Err(Error::NoRoute);
    }
    let sub = rest.get(2).map(|s| s.to_string());
    match sub.as_deref() {
        None => {}
        Some("status") if kind.status_subresource => {}
        Some("scale") if kind.scale.is_some() => {}
        Some(_) => return Err(Error::NoRoute),
    }
    Ok(Target {
        kind,
        version: version.to_string(),
        namespace,
        name,
        sub,
    })
}

/// Runs a write on a blocking thread when it goes to SQLite, whose fsyncs must not stall the
/// async workers. A memory store (simulated members, `--in-memory`) has nothing to wait on and
/// writes in place, without the thread hop.
async fn write<R: Send + 'static>(
    hub: &Hub,
    dry: bool,
    f: impl FnOnce(&Hub, &mut Tx<'_>) -> Result<R> + Send + 'static,
) -> Result<R> {
    if !hub.store.durable() {
        return hub.store.write(dry, |tx| f(hub, tx));
    }
    let h = hub.clone();
    tokio::task::spawn_blocking(move || h.store.write(dry, |tx| f(&h, tx)))
        .await
        .map_err(|e| Error::Internal(format!("write task failed: {e}")))?
}

async fn resource(
    hub: Hub,
    t: Target,
    method: Method,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    accept: &str,
    body: Body,
) -> Result<Response> {
    let renderer = Renderer {
        kind: t.kind.clone(),
        version: t.version.clone(),
        format: Format::from_accept(accept),
        include: Include::from_query(q.get("includeObject").map(String::as_str)),
    };
    let dry = q.get("dryRun").is_some_and(|d| d == "All");
    let kind = t.kind.clone();
    let ns = t.namespace.clone().unwrap_or_default();
    let sub = match t.sub.as_deref() {
        Some("status") => Sub::Status,
        _ => Sub::Main,
    };
    let is_scale = t.sub.as_deref() == Some("scale");
    let verb = match (&method, t.name.is_some()) {
        (&Method::GET, true) => "get",
        (&Method::GET, false) => "list",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => return Err(Error::MethodNotAllowed),
    };
    if !kind.verbs.iter().any(|v| v == verb) {
        return Err(Error::MethodNotAllowed);
    }
    match (method.clone(), t.name.clone()) {
        (Method::GET, None) => {
            let selectors = selectors(&kind, q)?;
            if q.get("watch").is_some_and(|w| w == "true" || w == "1") {
                return watch_response(&hub, renderer, t.namespace, selectors, q);
            }
            let (objs, rv) = hub.store.list(&kind.resource(), t.namespace.as_deref());
            let matching: Vec<&Value> = objs
                .iter()
                .map(|o| o.as_ref())
                .filter(|o| selectors.matches(o))
                .collect();
            Ok(ok(&renderer.list(&matching, rv)))
        }
        (Method::GET, Some(name)) => {
            let obj = hub
                .store
                .get(&kind.resource(), &ns, &name)
                .ok_or_else(|| Error::NotFound(kind.subject(&name)))?;
            if is_scale {
                return Ok(ok(&scale::of(&kind, &obj)));
            }
            Ok(ok(&renderer.one(&obj, hub.store.current_rv())))
        }
        (Method::POST, None) => {
            if kind.namespaced() && t.namespace.is_none() {
                return Err(Error::MethodNotAllowed);
            }
            let w = writer(
                &t.kind,
                &t.version,
                t.sub.as_deref(),
                headers,
                q,
                Vec::new(),
                "CreateOptions",
            )?;
            let body = read_body(&hub, headers, body).await?;
            let (k, v, url_ns) = (kind.clone(), t.version.clone(), t.namespace.clone());
            let obj = write(&hub, dry, move |_, tx| {
                ops::create(tx, &k, &v, url_ns.as_deref(), body, ops::Fields::Update(&w))
            })
            .await?;
            let mut response = json_response(
                StatusCode::CREATED,
                &renderer.object(&obj),
                "application/json",
            );
            let name = obj.pointer("/metadata/name").and_then(|n| n.as_str());
            if let Some(name) = name {
                response
                    .extensions_mut()
                    .insert(crate::writes::CreatedName(name.to_string()));
            }
            Ok(response)
        }
        (Method::PUT, Some(name)) => {
            let w = writer(
                &t.kind,
                &t.version,
                t.sub.as_deref(),
                headers,
                q,
                Vec::new(),
                "UpdateOptions",
            )?;
            let body = read_body(&hub, headers, body).await?;
            let (k, v) = (kind.clone(), t.version.clone());
            if is_scale {
                let obj = write(&hub, dry, move |h, tx| {
                    scale::update(
                        tx,
                        &h.registry,
                        &k,
                        &ns,
                        &name,
                        scale::Change::Replace(body),
                    )
                })
                .await?;
                return Ok(ok(&scale::of(&kind, &obj)));
            }
            let obj = write(&hub, dry, move |h, tx| {
                ops::update(
                    tx,
                    &h.registry,
                    ops::Target {
                        kind: &k,
                        ns: &ns,
                        name: &name,
                    },
                    &v,
                    body,
                    sub,
                    &w,
                )
            })
            .await?;
            Ok(ok(&renderer.object(&obj)))
        }
        (Method::PATCH, Some(name)) => {
            let ct = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let pt = PatchType::from_content_type(ct)?;
            // ValidatePatchOptions, before the object is looked up.
            let mut causes = Vec::new();
            if pt == PatchType::Apply {
                if q.get("fieldManager").is_none_or(|m| m.is_empty()) {
                    causes.push(Cause::required(
                        "fieldManager",
                        "Required value: is required for apply patch",
                    ));
                }
            } else if q.contains_key("force") {
                causes.push(Cause::forbidden(
                    "force",
                    "Forbidden: may not be specified for non-apply patch",
                ));
            }
            let w = writer(
                &t.kind,
                &t.version,
                t.sub.as_deref(),
                headers,
                q,
                causes,
                "PatchOptions",
            )?;
            let body = read_body(&hub, headers, body).await?;
            let (k, v) = (kind.clone(), t.version.clone());
            if is_scale {
                let obj = write(&hub, dry, move |h, tx| {
                    scale::update(
                        tx,
                        &h.registry,
                        &k,
                        &ns,
                        &name,
                        scale::Change::Patch(pt, body),
                    )
                })
                .await?;
                return Ok(ok(&scale::of(&kind, &obj)));
            }
            let force = q.get("force").is_some_and(|f| f == "true");
            let (obj, created) = write(&hub, dry, move |h, tx| {
                let target = ops::Target {
                    kind: &k,
                    ns: &ns,
                    name: &name,
                };
                if pt == PatchType::Apply {
                    return ops::apply(tx, &h.registry, target, &v, body, &w, force, sub);
                }
                Ok((
                    ops::patch(tx, &h.registry, target, pt, &body, sub, &w)?,
                    false,
                ))
            })
            .await?;
            let code = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(json_response(
                code,
                &renderer.object(&obj),
                "application/json",
            ))
        }
        (Method::DELETE, Some(name)) => {
            let opts = DeleteOptions::from_body(&read_body(&hub, headers, body).await?)?;
            let dry = dry || opts.dry_run;
            let (k, n, nsc) = (kind.clone(), name.clone(), ns.clone());
            let (obj, still_there) = write(&hub, dry, move |h, tx| {
                let obj = deletion::delete(tx, &h.registry, &k, &nsc, &n, &opts)?;
                let still = tx.get(&k.resource(), &nsc, &n).is_some();
                Ok((obj, still))
            })
            .await?;
            if kind.builtin && !still_there {
                let details = json!({"name": name, "group": kind.group, "kind": kind.plural, "uid": crate::object::uid(&obj)});
                return Ok(ok(&status::success(details)));
            }
            Ok(ok(&renderer.object(&obj)))
        }
        (Method::DELETE, None) => {
            let opts = DeleteOptions::from_body(&read_body(&hub, headers, body).await?)?;
            let dry = dry || opts.dry_run;
            let selectors = selectors(&kind, q)?;
            let (k, url_ns) = (kind.clone(), t.namespace.clone());
            let deleted = write(&hub, dry, move |h, tx| {
                let mut out = Vec::new();
                for o in tx.list(&k.resource(), url_ns.as_deref()) {
                    if selectors.matches(&o)
                        && tx
                            .get(
                                &k.resource(),
                                crate::object::namespace(&o),
                                crate::object::name(&o),
                            )
                            .is_some()
                    {
                        out.push(deletion::delete(
                            tx,
                            &h.registry,
                            &k,
                            crate::object::namespace(&o),
                            crate::object::name(&o),
                            &opts,
                        )?);
                    }
                }
                Ok(out)
            })
            .await?;
            let refs: Vec<&Value> = deleted.iter().map(|o| o.as_ref()).collect();
            Ok(ok(&Renderer {
                format: Format::Object,
                ..renderer
            }
            .list(&refs, hub.store.current_rv())))
        }
        _ => Err(Error::MethodNotAllowed),
    }
}

fn selectors(kind: &KindSpec, q: &HashMap<String, String>) -> Result<Selectors> {
    Ok(Selectors {
        labels: LabelSelector::parse(q.get("labelSelector").map(String::as_str).unwrap_or(""))?,
        fields: FieldSelector::parse(
            q.get("fieldSelector").map(String::as_str).unwrap_or(""),
            kind,
        )?,
    })
}

fn watch_response(
    hub: &Hub,
    renderer: Renderer,
    namespace: Option<String>,
    selectors: Selectors,
    q: &HashMap<String, String>,
) -> Result<Response> {
    let resource_version = match q.get("resourceVersion").map(String::as_str) {
        None | Some("") | Some("0") => None,
        Some(s) => Some(
            s.parse::<u64>()
                .map_err(|_| Error::BadRequest(format!("invalid resource version: {s:?}")))?,
        ),
    };
    let timeout = match q.get("timeoutSeconds") {
        Some(s) => Some(Duration::from_secs(s.parse::<u64>().map_err(|_| {
            Error::BadRequest(format!("invalid timeoutSeconds: {s:?}"))
        })?)),
        None => None,
    };
    let content_type = match renderer.format {
        Format::Table => "application/json;as=Table;v=v1;g=meta.k8s.io",
        _ => "application/json",
    };
    let req = watch::WatchRequest {
        renderer,
        namespace,
        selectors,
        resource_version,
        bookmarks: q
            .get("allowWatchBookmarks")
            .is_some_and(|b| b == "true" || b == "1"),
        send_initial_events: q
            .get("sendInitialEvents")
            .is_some_and(|b| b == "true" || b == "1"),
        timeout,
        grace: hub.slow_watch_grace,
    };
    let body = watch::start(&hub.store, &hub.open_watches, req);
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .map_err(|e| Error::Internal(e.to_string()))
}
