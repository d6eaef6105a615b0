//! Response shapes chosen by the Accept header: the object, a Table, or PartialObjectMetadata
//! (spec §3.1, §3.3). kube-rs sends no Accept at all, which means JSON objects (spec §8.16).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::registry::KindSpec;
use crate::table::{self, Include};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Object,
    Table,
    Metadata,
}

impl Format {
    pub fn from_accept(accept: &str) -> Format {
        // The first acceptable entry wins; kubectl lists Table first and JSON as fallback.
        for a in accept.split(',') {
            if a.contains("as=Table") {
                return Format::Table;
            }
            if a.contains("as=PartialObjectMetadata") {
                return Format::Metadata;
            }
            if a.contains("json") || a.contains("*/*") {
                return Format::Object;
            }
        }
        Format::Object
    }
}

#[derive(Clone)]
pub(crate) struct Renderer {
    pub kind: Arc<KindSpec>,
    pub version: String,
    pub format: Format,
    pub include: Include,
}

impl Renderer {
    pub fn api_version(&self) -> String {
        self.kind.api_version(&self.version)
    }

    /// The object as served at the requested version (objects are stored once for all versions).
    pub fn object(&self, obj: &Value) -> Value {
        let mut o = obj.clone();
        if let Some(m) = o.as_object_mut() {
            m.insert("apiVersion".into(), Value::String(self.api_version()));
            m.insert("kind".into(), Value::String(self.kind.kind.clone()));
        }
        o
    }

    pub fn one(&self, obj: &Value, rv: u64) -> Value {
        match self.format {
            Format::Object => self.object(obj),
            Format::Metadata => table::partial_metadata(obj),
            Format::Table => table::table(&self.kind, &[obj], rv, self.include, true),
        }
    }

    /// A watch event's object; Table watches send column definitions with the first event only.
    pub fn event_object(&self, obj: &Value, first: &mut bool) -> Value {
        let out = match self.format {
            Format::Table => table::table(&self.kind, &[obj], 0, self.include, *first),
            _ => self.one(obj, 0),
        };
        *first = false;
        out
    }

    pub fn list(&self, objs: &[&Value], rv: u64) -> Value {
        match self.format {
            Format::Table => table::table(&self.kind, objs, rv, self.include, true),
            Format::Metadata => {
                json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                "metadata": {"resourceVersion": rv.to_string()},
                "items": objs.iter().map(|o| table::partial_metadata(o)).collect::<Vec<_>>()})
            }
            Format::Object => {
                json!({"kind": format!("{}List", self.kind.kind), "apiVersion": self.api_version(),
                "metadata": {"resourceVersion": rv.to_string()},
                "items": objs.iter().map(|o| self.object(o)).collect::<Vec<_>>()})
            }
        }
    }
}
