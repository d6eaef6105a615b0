//! Kind registrations: everything the hub knows about a kind lives in one `KindSpec`, so adding a
//! kind is one `Registry::register` call and never a new handler (issue 4).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::schema::OpenApiSchema;
use crate::status::{Cause, Subject};

/// The fleet model plugs its validation in here: `(old, new)`, `old` is `None` on create.
pub type ValidateFn = Arc<dyn Fn(Option<&Value>, &Value) -> Result<(), Vec<Cause>> + Send + Sync>;
/// A validating admission webhook, run after the schema and [`ValidateFn`] found nothing, as an
/// apiserver calls its webhooks after its own checks: `(old, new, stored)` where `stored(ns)` lists
/// the stored objects of the kind (every namespace for `None`), as a webhook's own list would.
/// `Err` is the apiserver's whole denial sentence, answered with 403.
pub type AdmitFn = Arc<
    dyn Fn(Option<&Value>, &Value, &dyn Fn(Option<&str>) -> Vec<Arc<Value>>) -> Result<(), String>
        + Send
        + Sync,
>;
/// A check before an object is deleted (a validating admission webhook on DELETE): `Err` is the
/// reason, answered with 403 "<resource> \"<name>\" is forbidden: <reason>".
pub type AdmitDeleteFn = Arc<dyn Fn(&Value) -> Result<(), String> + Send + Sync>;
/// Server-side defaulting applied to a new object before it is stored (e.g. Service clusterIP).
pub type DefaultFn = Arc<dyn Fn(&mut Value) + Send + Sync>;
/// A table cell computed in Rust, for built-ins whose real printers are Go code (spec §3.3).
pub type CellFn = Arc<dyn Fn(&Value) -> Value + Send + Sync>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Cluster,
    Namespaced,
}

/// Which name syntax the kind accepts; kube-apiserver checks DNS-1123 subdomains for most kinds
/// and DNS-1123 labels for Namespace and Service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    Subdomain,
    Label,
}

#[derive(Clone)]
pub enum CellSource {
    JsonPath(String),
    Computed(CellFn),
}

/// One `additionalPrinterColumns` entry.
#[derive(Clone)]
pub struct PrinterColumn {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i32,
    pub source: CellSource,
}

impl PrinterColumn {
    pub fn new(name: &str, type_: &str, json_path: &str) -> Self {
        PrinterColumn {
            name: name.into(),
            type_: type_.into(),
            format: String::new(),
            description: String::new(),
            priority: 0,
            source: CellSource::JsonPath(json_path.into()),
        }
    }
    pub fn computed(
        name: &str,
        type_: &str,
        f: impl Fn(&Value) -> Value + Send + Sync + 'static,
    ) -> Self {
        PrinterColumn {
            source: CellSource::Computed(Arc::new(f)),
            ..Self::new(name, type_, "")
        }
    }
    /// `Age` from `.metadata.creationTimestamp`, which every kind ends with.
    pub fn age() -> Self {
        Self::new("Age", "date", ".metadata.creationTimestamp")
    }
    /// Priority 1 = shown only with `-o wide`.
    pub fn wide(mut self) -> Self {
        self.priority = 1;
        self
    }
    pub fn format(mut self, format: &str) -> Self {
        self.format = format.into();
        self
    }
    pub fn description(mut self, description: &str) -> Self {
        self.description = description.into();
        self
    }
}

/// Where `/scale` finds replicas (spec §3.2, `autoscaling/v1` Scale).
#[derive(Clone, Debug)]
pub struct ScaleSpec {
    pub spec_replicas: Vec<String>,
    pub status_replicas: Vec<String>,
    pub selector: Vec<String>,
}

impl ScaleSpec {
    /// The Deployment layout: `.spec.replicas`, `.status.replicas`, `.spec.selector`.
    pub fn replicas() -> Self {
        let p = |s: &str| s.split('.').map(String::from).collect();
        ScaleSpec {
            spec_replicas: p("spec.replicas"),
            status_replicas: p("status.replicas"),
            selector: p("spec.selector"),
        }
    }
}

#[derive(Clone)]
pub struct KindSpec {
    pub group: String,
    /// Served versions, the first one preferred. Objects are stored once, version-agnostic.
    pub versions: Vec<String>,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub scope: Scope,
    pub status_subresource: bool,
    pub scale: Option<ScaleSpec>,
    pub printer_columns: Vec<PrinterColumn>,
    /// Built-in kinds accept strategic merge patch and unconditional PUT, and answer DELETE with a
    /// Status; custom kinds do none of these (spec §3.5–§3.7).
    pub builtin: bool,
    /// Whether `metadata.generation` is maintained (CRs and Deployment; spec §7).
    pub generation: bool,
    pub name_rule: NameRule,
    /// Extra field-selector labels beyond metadata.name/namespace: (label, dotted JSON path).
    pub field_labels: Vec<(String, String)>,
    pub validate: Option<ValidateFn>,
    pub admit: Option<AdmitFn>,
    pub admit_delete: Option<AdmitDeleteFn>,
    pub defaults: Option<DefaultFn>,
    /// The CRD version's `openAPIV3Schema`: defaults and validation (types, enum, pattern, sizes,
    /// required, CEL rules) applied to every write, as kube-apiserver does for custom resources.
    pub schema: Option<Arc<OpenApiSchema>>,
    /// The other served versions' `openAPIV3Schema` as the CRD declares them, published in the
    /// OpenAPI documents (`kubectl explain`); versions missing here publish `schema`.
    pub version_schemas: BTreeMap<String, Arc<Value>>,
    /// The verbs served (discovery lists them; other requests get 405). Every verb by default;
    /// access reviews are create-only.
    pub verbs: Vec<String>,
    /// Decodes an object as the kind's Go/Rust type, as kube-apiserver decodes built-ins: a
    /// value of the wrong type anywhere (a map in a ConfigMap's `data`) is refused with 400
    /// instead of stored, where every typed client's list of the kind would fail on it.
    pub decode: Option<DecodeFn>,
}

/// See [`KindSpec::decode`]: `Err` says what does not decode.
pub type DecodeFn = fn(&Value) -> Result<(), String>;

/// Every verb a stored kind serves.
pub const ALL_VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

impl KindSpec {
    /// A custom kind with CRD semantics: generation, no strategic merge, PUT needs resourceVersion.
    pub fn new(group: &str, version: &str, kind: &str, plural: &str, scope: Scope) -> Self {
        KindSpec {
            group: group.into(),
            versions: vec![version.into()],
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_lowercase(),
            short_names: vec![],
            categories: vec![],
            scope,
            status_subresource: false,
            scale: None,
            printer_columns: vec![],
            builtin: false,
            generation: true,
            name_rule: NameRule::Subdomain,
            field_labels: vec![],
            validate: None,
            admit: None,
            admit_delete: None,
            defaults: None,
            schema: None,
            version_schemas: BTreeMap::new(),
            verbs: ALL_VERBS.iter().map(|v| v.to_string()).collect(),
            decode: None,
        }
    }
    /// A built-in kind (core, apps, coordination…): no generation unless `with_generation`.
    pub fn builtin(group: &str, version: &str, kind: &str, plural: &str, scope: Scope) -> Self {
        KindSpec {
            builtin: true,
            generation: false,
            ..Self::new(group, version, kind, plural, scope)
        }
    }
    /// Objects of this kind must decode as `T` (see [`KindSpec::decode`]).
    pub fn typed<T: serde::de::DeserializeOwned>(mut self) -> Self {
        self.decode = Some(|v| T::deserialize(v).map(|_| ()).map_err(|e| e.to_string()));
        self
    }
    pub fn also_served_as(mut self, version: &str) -> Self {
        self.versions.push(version.into());
        self
    }
    pub fn verbs(mut self, verbs: &[&str]) -> Self {
        self.verbs = verbs.iter().map(|v| v.to_string()).collect();
        self
    }
    pub fn short_names(mut self, names: &[&str]) -> Self {
        self.short_names = names.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn categories(mut self, categories: &[&str]) -> Self {
        self.categories = categories.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn status_subresource(mut self) -> Self {
        self.status_subresource = true;
        self
    }
    pub fn scale(mut self, scale: ScaleSpec) -> Self {
        self.scale = Some(scale);
        self
    }
    pub fn with_generation(mut self) -> Self {
        self.generation = true;
        self
    }
    pub fn name_rule(mut self, rule: NameRule) -> Self {
        self.name_rule = rule;
        self
    }
    /// Printer columns in CRD order; `Age` is not implied, add `PrinterColumn::age()` where wanted.
    pub fn columns(mut self, columns: Vec<PrinterColumn>) -> Self {
        self.printer_columns = columns;
        self
    }
    pub fn field_label(mut self, label: &str, path: &str) -> Self {
        self.field_labels.push((label.into(), path.into()));
        self
    }
    pub fn validate(
        mut self,
        f: impl Fn(Option<&Value>, &Value) -> Result<(), Vec<Cause>> + Send + Sync + 'static,
    ) -> Self {
        self.validate = Some(Arc::new(f));
        self
    }
    pub fn defaults(mut self, f: impl Fn(&mut Value) + Send + Sync + 'static) -> Self {
        self.defaults = Some(Arc::new(f));
        self
    }

    /// Enforces a CRD version's `schema.openAPIV3Schema` (see `OpenApiSchema`).
    pub fn openapi_schema(mut self, schema: Value) -> Self {
        self.schema = Some(Arc::new(OpenApiSchema::new(schema)));
        self
    }

    /// The schema a served version declares, for the OpenAPI documents.
    pub fn declared_schema(&self, version: &str) -> Option<&Value> {
        match self.version_schemas.get(version) {
            Some(s) => Some(s),
            None => self.schema.as_ref().map(|s| s.raw()),
        }
    }

    pub fn namespaced(&self) -> bool {
        self.scope == Scope::Namespaced
    }
    /// The storage key of the kind: `configmaps` or `deployments.apps`.
    pub fn resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }
    pub fn preferred_version(&self) -> &str {
        &self.versions[0]
    }
    /// How error messages and `Status.details` name the object `name` of this kind (spec §7).
    pub(crate) fn subject(&self, name: &str) -> Subject {
        Subject {
            group: self.group.clone(),
            plural: self.plural.clone(),
            kind: self.kind.clone(),
            name: name.into(),
        }
    }
}

/// All registered kinds, in registration order (discovery lists them in that order).
#[derive(Clone, Default)]
pub struct Registry {
    kinds: Vec<Arc<KindSpec>>,
}

impl Registry {
    /// An empty registry; the hub always adds its built-ins (`builtin::register_builtins`).
    pub fn new() -> Self {
        Registry::default()
    }
    /// Registers a kind, replacing an earlier registration of the same group and plural.
    pub fn register(&mut self, spec: KindSpec) -> &mut Self {
        self.kinds
            .retain(|k| !(k.group == spec.group && k.plural == spec.plural));
        self.kinds.push(Arc::new(spec));
        self
    }
    pub fn kinds(&self) -> &[Arc<KindSpec>] {
        &self.kinds
    }
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<KindSpec>> {
        self.kinds
            .iter()
            .find(|k| {
                k.group == group && k.plural == plural && k.versions.iter().any(|v| v == version)
            })
            .cloned()
    }
    pub fn find_kind(&self, group: &str, kind: &str) -> Option<Arc<KindSpec>> {
        self.kinds
            .iter()
            .find(|k| k.group == group && k.kind == kind)
            .cloned()
    }
    /// Group-versions in registration order, the core group ("") first if present.
    pub fn group_versions(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for k in &self.kinds {
            for v in &k.versions {
                let gv = (k.group.clone(), v.clone());
                if !out.contains(&gv) {
                    out.push(gv);
                }
            }
        }
        out.sort_by_key(|(g, _)| !g.is_empty());
        out
    }
    pub fn kinds_in(&self, group: &str, version: &str) -> Vec<Arc<KindSpec>> {
        self.kinds
            .iter()
            .filter(|k| k.group == group && k.versions.iter().any(|v| v == version))
            .cloned()
            .collect()
    }
}
