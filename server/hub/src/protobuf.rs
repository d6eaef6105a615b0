//! Kubernetes protobuf request bodies (spec §0.2, §3.4): `kubectl create ns|cm|secret|deployment|
//! service|role|clusterrole|rolebinding|clusterrolebinding` send them and do not fall back to JSON
//! on a 415. The bytes are decoded with kube-rs' prost bindings (`k8s-pb`) and mapped to the JSON
//! the normal create path takes; replies stay JSON.
//!
//! Go's gogo-protobuf writes empty strings and empty messages, so zero values count as absent
//! (omitempty), as in the apiserver's JSON. Only the fields those kubectl generators can set are
//! mapped; the built-in kinds accept nothing else as protobuf.

use std::collections::BTreeMap;

use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::authorization::v1 as authz;
use k8s_pb::api::core::v1 as core;
use k8s_pb::api::rbac::v1 as rbac;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::Unknown;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use serde_json::{json, Map, Value};

use crate::status::{Error, Result};

/// The four bytes before every Kubernetes protobuf envelope.
const MAGIC: &[u8] = b"k8s\0";

/// Decodes a `k8s\0` + `runtime.Unknown` body into the JSON object it encodes.
pub fn decode(bytes: &[u8]) -> Result<Value> {
    let rest = bytes.strip_prefix(MAGIC).ok_or_else(|| {
        Error::BadRequest("protobuf body does not start with the Kubernetes magic prefix".into())
    })?;
    let unknown = Unknown::decode(rest).map_err(|e| bad(&e))?;
    let type_meta = unknown.type_meta.unwrap_or_default();
    let api_version = type_meta.api_version.unwrap_or_default();
    let kind = type_meta.kind.unwrap_or_default();
    if unknown
        .content_encoding
        .as_deref()
        .is_some_and(|e| !e.is_empty())
    {
        return Err(unsupported(&api_version, &kind));
    }
    let raw = unknown.raw.unwrap_or_default();
    let mut obj = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => namespace(core::Namespace::decode(&raw[..]).map_err(|e| bad(&e))?),
        ("v1", "ConfigMap") => config_map(core::ConfigMap::decode(&raw[..]).map_err(|e| bad(&e))?),
        ("v1", "Secret") => secret(core::Secret::decode(&raw[..]).map_err(|e| bad(&e))?),
        ("v1", "Service") => service(core::Service::decode(&raw[..]).map_err(|e| bad(&e))?),
        ("apps/v1", "Deployment") => {
            deployment(apps::Deployment::decode(&raw[..]).map_err(|e| bad(&e))?)
        }
        // `kubectl auth can-i` posts its review as protobuf too (typed clientset).
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => {
            access_review(authz::SelfSubjectAccessReview::decode(&raw[..]).map_err(|e| bad(&e))?)
        }
        ("authorization.k8s.io/v1", "SelfSubjectRulesReview") => {
            rules_review(authz::SelfSubjectRulesReview::decode(&raw[..]).map_err(|e| bad(&e))?)
        }
        // `kubectl create role|clusterrole|rolebinding|clusterrolebinding` (granting access).
        ("rbac.authorization.k8s.io/v1", "Role") => {
            role(rbac::Role::decode(&raw[..]).map_err(|e| bad(&e))?)
        }
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => {
            cluster_role(rbac::ClusterRole::decode(&raw[..]).map_err(|e| bad(&e))?)
        }
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => {
            let b = rbac::RoleBinding::decode(&raw[..]).map_err(|e| bad(&e))?;
            binding(b.metadata, b.subjects, b.role_ref)
        }
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            let b = rbac::ClusterRoleBinding::decode(&raw[..]).map_err(|e| bad(&e))?;
            binding(b.metadata, b.subjects, b.role_ref)
        }
        _ => return Err(unsupported(&api_version, &kind)),
    };
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    Ok(Value::Object(obj))
}

fn bad(e: &prost::DecodeError) -> Error {
    Error::BadRequest(format!("couldn't decode the protobuf request body: {e}"))
}

fn unsupported(api_version: &str, kind: &str) -> Error {
    Error::UnsupportedMediaType(format!(
        "the hub decodes protobuf only for v1 Namespace, ConfigMap, Secret, Service, apps/v1 \
         Deployment, the RBAC kinds and the self access reviews, not {api_version:?} {kind:?}; send application/json"
    ))
}

/// Builds a JSON object, leaving out absent and zero values (Go's omitempty).
#[derive(Default)]
struct Obj(Map<String, Value>);

impl Obj {
    fn set(mut self, key: &str, v: Option<Value>) -> Self {
        match v {
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::Object(m)) if m.is_empty() => {}
            Some(Value::Array(a)) if a.is_empty() => {}
            Some(Value::Null) | None => {}
            Some(v) => {
                self.0.insert(key.into(), v);
            }
        }
        self
    }
    fn str(self, key: &str, v: Option<String>) -> Self {
        self.set(key, v.map(Value::String))
    }
    fn int(self, key: &str, v: Option<impl Into<i64>>) -> Self {
        self.set(key, v.map(|n| json!(n.into())))
    }
    /// Like `int`, but 0 is a meaningful value (e.g. `replicas: 0`).
    fn int0(mut self, key: &str, v: Option<impl Into<i64>>) -> Self {
        if let Some(n) = v {
            self.0.insert(key.into(), json!(n.into()));
        }
        self
    }
    fn bool(self, key: &str, v: Option<bool>) -> Self {
        self.set(key, v.filter(|b| *b).map(Value::Bool))
    }
    fn strings(self, key: &str, v: Vec<String>) -> Self {
        self.set(key, Some(json!(v)))
    }
    fn map(self, key: &str, v: BTreeMap<String, String>) -> Self {
        self.set(key, Some(json!(v)))
    }
    fn list<T>(self, key: &str, items: Vec<T>, f: impl Fn(T) -> Value) -> Self {
        self.set(key, Some(Value::Array(items.into_iter().map(f).collect())))
    }
    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

fn object_meta(m: Option<meta::ObjectMeta>) -> Value {
    let m = m.unwrap_or_default();
    Obj::default()
        .str("name", m.name)
        .str("generateName", m.generate_name)
        .str("namespace", m.namespace)
        .str("resourceVersion", m.resource_version)
        .map("labels", m.labels)
        .map("annotations", m.annotations)
        .list("ownerReferences", m.owner_references, |r| {
            Obj::default()
                .str("apiVersion", r.api_version)
                .str("kind", r.kind)
                .str("name", r.name)
                .str("uid", r.uid)
                .set("controller", r.controller.map(Value::Bool))
                .set(
                    "blockOwnerDeletion",
                    r.block_owner_deletion.map(Value::Bool),
                )
                .done()
        })
        .strings("finalizers", m.finalizers)
        .done()
}

fn head(metadata: Option<meta::ObjectMeta>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("metadata".into(), object_meta(metadata));
    m
}

fn policy_rules(rules: Vec<rbac::PolicyRule>) -> Option<Value> {
    // `apiGroups: [""]` (the core group) is meaningful: lists are kept whole, only empty ones go.
    Some(Value::Array(
        rules
            .into_iter()
            .map(|r| {
                Obj::default()
                    .strings("verbs", r.verbs)
                    .strings("apiGroups", r.api_groups)
                    .strings("resources", r.resources)
                    .strings("resourceNames", r.resource_names)
                    .strings("nonResourceURLs", r.non_resource_ur_ls)
                    .done()
            })
            .collect(),
    ))
}

fn role(r: rbac::Role) -> Map<String, Value> {
    Obj(head(r.metadata)).set("rules", policy_rules(r.rules)).0
}

fn cluster_role(r: rbac::ClusterRole) -> Map<String, Value> {
    let aggregation = r.aggregation_rule.map(|a| {
        Obj::default()
            .list("clusterRoleSelectors", a.cluster_role_selectors, |s| {
                label_selector(Some(s)).unwrap_or_else(|| json!({}))
            })
            .done()
    });
    Obj(head(r.metadata))
        .set("rules", policy_rules(r.rules))
        .set("aggregationRule", aggregation)
        .0
}

fn binding(
    metadata: Option<meta::ObjectMeta>,
    subjects: Vec<rbac::Subject>,
    role_ref: Option<rbac::RoleRef>,
) -> Map<String, Value> {
    let role_ref = role_ref.unwrap_or_default();
    Obj(head(metadata))
        .list("subjects", subjects, |s| {
            Obj::default()
                .str("kind", s.kind)
                .str("apiGroup", s.api_group)
                .str("name", s.name)
                .str("namespace", s.namespace)
                .done()
        })
        .set(
            "roleRef",
            Some(
                Obj::default()
                    .str("apiGroup", role_ref.api_group)
                    .str("kind", role_ref.kind)
                    .str("name", role_ref.name)
                    .done(),
            ),
        )
        .0
}

fn namespace(ns: core::Namespace) -> Map<String, Value> {
    // spec.finalizers and status are server-owned for a new Namespace (builtin defaults).
    head(ns.metadata)
}

fn config_map(cm: core::ConfigMap) -> Map<String, Value> {
    let mut m = head(cm.metadata);
    let rest = Obj(std::mem::take(&mut m))
        .map("data", cm.data)
        .set(
            "binaryData",
            Some(json!(cm
                .binary_data
                .into_iter()
                .map(|(k, v)| (k, base64(&v)))
                .collect::<BTreeMap<_, _>>())),
        )
        .bool("immutable", cm.immutable);
    rest.0
}

fn secret(s: core::Secret) -> Map<String, Value> {
    let m = head(s.metadata);
    let data: BTreeMap<String, String> = s.data.into_iter().map(|(k, v)| (k, base64(&v))).collect();
    Obj(m)
        .map("data", data)
        .map("stringData", s.string_data)
        .str("type", s.r#type)
        .bool("immutable", s.immutable)
        .0
}

fn int_or_string(v: Option<IntOrString>) -> Option<Value> {
    let v = v?;
    match v.r#type {
        Some(1) => v.str_val.filter(|s| !s.is_empty()).map(Value::String),
        _ => v.int_val.filter(|n| *n != 0).map(|n| json!(n)),
    }
}

fn service(s: core::Service) -> Map<String, Value> {
    let spec = s.spec.unwrap_or_default();
    let spec = Obj::default()
        .list("ports", spec.ports, |p| {
            Obj::default()
                .str("name", p.name)
                .str("protocol", p.protocol)
                .str("appProtocol", p.app_protocol)
                .int("port", p.port)
                .set("targetPort", int_or_string(p.target_port))
                .int("nodePort", p.node_port)
                .done()
        })
        .map("selector", spec.selector)
        .str("clusterIP", spec.cluster_ip)
        .strings("clusterIPs", spec.cluster_ips)
        .str("type", spec.r#type)
        .strings("externalIPs", spec.external_ips)
        .str("sessionAffinity", spec.session_affinity)
        .str("externalName", spec.external_name)
        .str("externalTrafficPolicy", spec.external_traffic_policy)
        .str("internalTrafficPolicy", spec.internal_traffic_policy)
        .strings("ipFamilies", spec.ip_families)
        .str("ipFamilyPolicy", spec.ip_family_policy)
        .done();
    Obj(head(s.metadata)).set("spec", Some(spec)).0
}

fn label_selector(s: Option<meta::LabelSelector>) -> Option<Value> {
    let s = s?;
    Some(
        Obj::default()
            .map("matchLabels", s.match_labels)
            .list("matchExpressions", s.match_expressions, |r| {
                Obj::default()
                    .str("key", r.key)
                    .str("operator", r.operator)
                    .strings("values", r.values)
                    .done()
            })
            .done(),
    )
}

fn quantities(q: BTreeMap<String, Quantity>) -> Value {
    json!(q
        .into_iter()
        .map(|(k, v)| (k, v.string.unwrap_or_default()))
        .collect::<BTreeMap<_, _>>())
}

fn container(c: core::Container) -> Value {
    let resources = c.resources.unwrap_or_default();
    Obj::default()
        .str("name", c.name)
        .str("image", c.image)
        .strings("command", c.command)
        .strings("args", c.args)
        .str("workingDir", c.working_dir)
        .list("ports", c.ports, |p| {
            Obj::default()
                .str("name", p.name)
                .int("hostPort", p.host_port)
                .int("containerPort", p.container_port)
                .str("protocol", p.protocol)
                .done()
        })
        .list("env", c.env, |e| {
            Obj::default()
                .str("name", e.name)
                .str("value", e.value)
                .done()
        })
        .set(
            "resources",
            Some(
                Obj::default()
                    .set("limits", Some(quantities(resources.limits)))
                    .set("requests", Some(quantities(resources.requests)))
                    .done(),
            ),
        )
        .str("terminationMessagePath", c.termination_message_path)
        .str("terminationMessagePolicy", c.termination_message_policy)
        .str("imagePullPolicy", c.image_pull_policy)
        .bool("stdin", c.stdin)
        .bool("tty", c.tty)
        .done()
}

fn pod_template(t: Option<core::PodTemplateSpec>) -> Value {
    let t = t.unwrap_or_default();
    let spec = t.spec.unwrap_or_default();
    let spec = Obj::default()
        .list("initContainers", spec.init_containers, container)
        .list("containers", spec.containers, container)
        .str("restartPolicy", spec.restart_policy)
        .int(
            "terminationGracePeriodSeconds",
            spec.termination_grace_period_seconds,
        )
        .str("dnsPolicy", spec.dns_policy)
        .map("nodeSelector", spec.node_selector)
        .str("serviceAccountName", spec.service_account_name)
        .str("schedulerName", spec.scheduler_name)
        .done();
    let mut out = Map::new();
    out.insert("metadata".into(), object_meta(t.metadata));
    out.insert("spec".into(), spec);
    Value::Object(out)
}

fn deployment(d: apps::Deployment) -> Map<String, Value> {
    let spec = d.spec.unwrap_or_default();
    let strategy = spec.strategy.map(|s| {
        let ru = s.rolling_update.map(|r| {
            Obj::default()
                .set("maxUnavailable", int_or_string(r.max_unavailable))
                .set("maxSurge", int_or_string(r.max_surge))
                .done()
        });
        Obj::default()
            .str("type", s.r#type)
            .set("rollingUpdate", ru)
            .done()
    });
    let spec = Obj::default()
        .int0("replicas", spec.replicas)
        .set("selector", label_selector(spec.selector))
        .set("template", Some(pod_template(spec.template)))
        .set("strategy", strategy)
        .int("minReadySeconds", spec.min_ready_seconds)
        .int("revisionHistoryLimit", spec.revision_history_limit)
        .bool("paused", spec.paused)
        .int("progressDeadlineSeconds", spec.progress_deadline_seconds)
        .done();
    Obj(head(d.metadata)).set("spec", Some(spec)).0
}

/// Standard base64 with padding, as Go's encoding/json writes `[]byte`.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn access_review(r: authz::SelfSubjectAccessReview) -> Map<String, Value> {
    let spec = r.spec.unwrap_or_default();
    let resource = spec.resource_attributes.map(|a| {
        Obj::default()
            .str("namespace", a.namespace)
            .str("verb", a.verb)
            .str("group", a.group)
            .str("version", a.version)
            .str("resource", a.resource)
            .str("subresource", a.subresource)
            .str("name", a.name)
            .done()
    });
    let non_resource = spec.non_resource_attributes.map(|a| {
        Obj::default()
            .str("path", a.path)
            .str("verb", a.verb)
            .done()
    });
    let mut m = Map::new();
    m.insert("metadata".into(), object_meta(r.metadata));
    // An empty attributes message still says which kind of review it is: keep it as `{}`.
    let mut spec = Map::new();
    if let Some(v) = resource {
        spec.insert("resourceAttributes".into(), v);
    }
    if let Some(v) = non_resource {
        spec.insert("nonResourceAttributes".into(), v);
    }
    m.insert("spec".into(), Value::Object(spec));
    m
}

fn rules_review(r: authz::SelfSubjectRulesReview) -> Map<String, Value> {
    let spec = r.spec.unwrap_or_default();
    let mut m = Map::new();
    m.insert("metadata".into(), object_meta(r.metadata));
    m.insert(
        "spec".into(),
        Obj::default().str("namespace", spec.namespace).done(),
    );
    m
}
