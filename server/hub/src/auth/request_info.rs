//! What a request asks to do, read from its method, path and query as kube-apiserver's
//! `RequestInfoFactory` reads it: `get` without a name is `list` (or `watch`), `delete` without a
//! name is `deletecollection`, and `/namespaces/{ns}/…` sets the namespace.

use axum::http::Method;

use super::Attributes;

/// The request's attributes; anything outside `/api/{v}/…` and `/apis/{g}/{v}/…` is a
/// non-resource request whose verb is the lower-cased method.
pub fn attributes(method: &Method, path: &str, query: &str) -> Attributes {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let non_resource = Attributes {
        verb: method.as_str().to_lowercase(),
        path: path.to_string(),
        ..Default::default()
    };
    let (group, rest) = match parts[..] {
        ["api", _, ..] if parts.len() >= 3 => ("", &parts[1..]),
        ["apis", g, _, ..] if parts.len() >= 4 => (g, &parts[2..]),
        _ => return non_resource,
    };
    let mut a = Attributes {
        resource_request: true,
        group: group.to_string(),
        version: rest[0].to_string(),
        path: path.to_string(),
        verb: match *method {
            Method::POST => "create",
            Method::GET | Method::HEAD => "get",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE => "delete",
            _ => "",
        }
        .to_string(),
        ..Default::default()
    };
    let mut rest = &rest[1..];
    if rest.first() == Some(&"namespaces") {
        if let Some(ns) = rest.get(1) {
            a.namespace = ns.to_string();
            // `/namespaces/x/status` and `/finalize` are the Namespace's own subresources.
            if rest.len() > 2 && !matches!(rest[2], "status" | "finalize") {
                rest = &rest[2..];
            }
        }
    }
    a.resource = rest.first().map(|s| s.to_string()).unwrap_or_default();
    a.name = rest.get(1).map(|s| s.to_string()).unwrap_or_default();
    a.subresource = rest.get(2).map(|s| s.to_string()).unwrap_or_default();
    let q = || form_urlencoded::parse(query.as_bytes());
    if a.name.is_empty() && a.verb == "get" {
        let watch = q().any(|(k, v)| k == "watch" && (v == "true" || v == "1"));
        a.verb = if watch { "watch" } else { "list" }.into();
        // `kubectl get x NAME -w` watches with `metadata.name=NAME`: a name for resourceNames.
        if let Some((_, sel)) = q().find(|(k, _)| k == "fieldSelector") {
            if let Some(name) = sel.strip_prefix("metadata.name=") {
                if !name.is_empty() && !name.contains([',', '/', '=', '!']) {
                    a.name = name.to_string();
                }
            }
        }
    }
    if a.name.is_empty() && a.verb == "delete" {
        a.verb = "deletecollection".into();
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(method: Method, path: &str, query: &str) -> Attributes {
        attributes(&method, path, query)
    }

    const FLEET: &str = "/apis/placement.kubernetes-fleet.io/v1beta1";

    #[test]
    fn get_with_a_name_is_get_and_without_is_list_or_watch() {
        let a = at(
            Method::GET,
            &format!("{FLEET}/clusterstagedupdateruns/r1"),
            "",
        );
        assert_eq!(
            (a.verb.as_str(), a.resource.as_str(), a.name.as_str()),
            ("get", "clusterstagedupdateruns", "r1")
        );
        assert_eq!(a.group, "placement.kubernetes-fleet.io");
        assert_eq!(a.version, "v1beta1");
        assert!(a.resource_request && a.namespace.is_empty());
        assert_eq!(
            at(
                Method::GET,
                &format!("{FLEET}/clusterstagedupdateruns"),
                "limit=500"
            )
            .verb,
            "list"
        );
        assert_eq!(
            at(
                Method::GET,
                &format!("{FLEET}/clusterstagedupdateruns"),
                "watch=true"
            )
            .verb,
            "watch"
        );
        assert_eq!(
            at(
                Method::GET,
                &format!("{FLEET}/clusterstagedupdateruns"),
                "watch=1"
            )
            .verb,
            "watch"
        );
        assert_eq!(
            at(
                Method::GET,
                &format!("{FLEET}/clusterstagedupdateruns"),
                "watch=false"
            )
            .verb,
            "list"
        );
    }

    #[test]
    fn a_watch_of_one_name_carries_the_name() {
        let a = at(
            Method::GET,
            &format!("{FLEET}/clusterstagedupdateruns"),
            "fieldSelector=metadata.name%3Dr1&watch=true",
        );
        assert_eq!((a.verb.as_str(), a.name.as_str()), ("watch", "r1"));
        let b = at(
            Method::GET,
            &format!("{FLEET}/clusterstagedupdateruns"),
            "fieldSelector=metadata.name%3Dr1%2Cx%3Dy",
        );
        assert_eq!((b.verb.as_str(), b.name.as_str()), ("list", ""));
    }

    #[test]
    fn write_methods_map_to_verbs_and_delete_without_name_to_deletecollection() {
        let runs = format!("{FLEET}/namespaces/team/stagedupdateruns");
        assert_eq!(at(Method::POST, &runs, "").verb, "create");
        assert_eq!(at(Method::PUT, &format!("{runs}/r"), "").verb, "update");
        assert_eq!(at(Method::PATCH, &format!("{runs}/r"), "").verb, "patch");
        assert_eq!(at(Method::DELETE, &format!("{runs}/r"), "").verb, "delete");
        assert_eq!(at(Method::DELETE, &runs, "").verb, "deletecollection");
    }

    #[test]
    fn namespaces_and_subresources_are_read_from_the_path() {
        let a = at(
            Method::PUT,
            &format!("{FLEET}/namespaces/team/approvalrequests/a/status"),
            "",
        );
        assert_eq!(
            (
                a.namespace.as_str(),
                a.resource.as_str(),
                a.name.as_str(),
                a.subresource.as_str()
            ),
            ("team", "approvalrequests", "a", "status")
        );
        let core = at(Method::GET, "/api/v1/namespaces/team/configmaps", "");
        assert_eq!(
            (
                core.group.as_str(),
                core.resource.as_str(),
                core.verb.as_str()
            ),
            ("", "configmaps", "list")
        );
        // A Namespace object is its own namespace, as upstream.
        let ns = at(Method::GET, "/api/v1/namespaces/team", "");
        assert_eq!(
            (
                ns.resource.as_str(),
                ns.name.as_str(),
                ns.namespace.as_str()
            ),
            ("namespaces", "team", "team")
        );
        let fin = at(Method::PUT, "/api/v1/namespaces/team/finalize", "");
        assert_eq!(
            (
                fin.resource.as_str(),
                fin.name.as_str(),
                fin.subresource.as_str()
            ),
            ("namespaces", "team", "finalize")
        );
        let all = at(Method::GET, "/api/v1/namespaces", "");
        assert_eq!(
            (
                all.resource.as_str(),
                all.verb.as_str(),
                all.namespace.as_str()
            ),
            ("namespaces", "list", "")
        );
    }

    #[test]
    fn discovery_and_other_paths_are_non_resource_requests() {
        for p in [
            "/api",
            "/apis",
            "/apis/placement.kubernetes-fleet.io",
            "/version",
            "/openapi/v3",
            "/api/v1",
        ] {
            let a = at(Method::GET, p, "");
            assert!(!a.resource_request, "{p}");
            assert_eq!((a.verb.as_str(), a.path.as_str()), ("get", p));
        }
        // `/apis/g/v` (a group-version's resource list) is discovery too, as upstream.
        let gv = at(Method::GET, FLEET, "");
        assert!(!gv.resource_request);
        assert_eq!(at(Method::POST, "/apis", "").verb, "post");
    }
}
