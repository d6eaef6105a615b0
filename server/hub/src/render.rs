//! Response shapes chosen by the Accept header: the object, a Table, or PartialObjectMetadata
//! (spec §3.1, §3.3). kube-rs sends no Accept at all, which means JSON objects (spec §8.16).

use std::borrow::Cow;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
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
    pub fn object<'a>(&'a self, obj: &'a Value) -> Served<'a> {
        Served {
            obj,
            api_version: Cow::Owned(self.api_version()),
            kind: &self.kind.kind,
        }
    }

    pub fn one<'a>(&'a self, obj: &'a Value, rv: u64) -> Rendered<'a> {
        match self.format {
            Format::Object => Rendered::Object(self.object(obj)),
            Format::Metadata => Rendered::Value(table::partial_metadata(obj)),
            Format::Table => {
                Rendered::Value(table::table(&self.kind, &[obj], rv, self.include, true))
            }
        }
    }

    /// A watch event's object; Table watches send column definitions with the first event only.
    pub fn event_object<'a>(&'a self, obj: &'a Value, first: &mut bool) -> Rendered<'a> {
        let out = match self.format {
            Format::Table => {
                Rendered::Value(table::table(&self.kind, &[obj], 0, self.include, *first))
            }
            _ => self.one(obj, 0),
        };
        *first = false;
        out
    }

    pub fn list<'a>(&'a self, objs: &'a [&'a Value], rv: u64) -> Rendered<'a> {
        match self.format {
            Format::Table => {
                Rendered::Value(table::table(&self.kind, objs, rv, self.include, true))
            }
            Format::Metadata => Rendered::Value(
                json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                "metadata": {"resourceVersion": rv.to_string()},
                "items": objs.iter().map(|o| table::partial_metadata(o)).collect::<Vec<_>>()}),
            ),
            Format::Object => Rendered::List(ServedList {
                kind: &self.kind.kind,
                api_version: self.api_version(),
                resource_version: rv.to_string(),
                items: objs,
            }),
        }
    }
}

/// A response or watch body, serialized straight from the stored objects: a list of 10,000
/// bindings is written out without first copying every object (the copies were a fifth of the
/// fleet hub's CPU in a 1,000-member rollout).
pub(crate) enum Rendered<'a> {
    Value(Value),
    Object(Served<'a>),
    List(ServedList<'a>),
}

impl Serialize for Rendered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Rendered::Value(v) => v.serialize(s),
            Rendered::Object(o) => o.serialize(s),
            Rendered::List(l) => l.serialize(s),
        }
    }
}

/// A stored object with the requested version's `apiVersion` and its `kind` in front.
pub(crate) struct Served<'a> {
    obj: &'a Value,
    api_version: Cow<'a, str>,
    kind: &'a str,
}

impl Serialize for Served<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(fields) = self.obj.as_object() else {
            return self.obj.serialize(s);
        };
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("apiVersion", &*self.api_version)?;
        map.serialize_entry("kind", self.kind)?;
        for (k, v) in fields {
            if k != "apiVersion" && k != "kind" {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

pub(crate) struct ServedList<'a> {
    kind: &'a str,
    api_version: String,
    resource_version: String,
    items: &'a [&'a Value],
}

impl Serialize for ServedList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Meta<'a>(&'a str);
        impl Serialize for Meta<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("resourceVersion", self.0)?;
                map.end()
            }
        }
        struct Items<'a>(&'a ServedList<'a>);
        impl Serialize for Items<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.items.iter().map(|obj| Served {
                    obj,
                    api_version: Cow::Borrowed(&self.0.api_version),
                    kind: self.0.kind,
                }))
            }
        }
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("kind", &format!("{}List", self.kind))?;
        map.serialize_entry("apiVersion", &self.api_version)?;
        map.serialize_entry("metadata", &Meta(&self.resource_version))?;
        map.serialize_entry("items", &Items(self))?;
        map.end()
    }
}
