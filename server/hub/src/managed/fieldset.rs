//! Sets of field paths and their `FieldsV1` encoding, as structured-merge-diff's `fieldpath`
//! package has them: `f:data` for a field, `k:{"name":"x"}` for an associative list item, `v:"x"`
//! for a set item, `.` for a path that is owned itself and also has owned children.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// One step of a path. The variant order is structured-merge-diff's order (fields, then keys,
/// then values, then indexes), which is also the order `FieldsV1` lists them in. Keys and values
/// are kept as their JSON text, which orders strings as the Go side does.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pe {
    Field(String),
    /// An associative list item: its key fields, sorted by name, each with its JSON value.
    Key(Vec<(String, String)>),
    /// A set item: the item's JSON text.
    Value(String),
    Index(usize),
}

impl Pe {
    /// The list item of an associative list keyed by `keys`, or `None` when the item lacks one.
    pub fn key_of(item: &Value, keys: &[String]) -> Option<Pe> {
        let mut fields: Vec<(String, String)> = keys
            .iter()
            .map(|k| Some((k.clone(), item.get(k)?.to_string())))
            .collect::<Option<_>>()?;
        fields.sort();
        Some(Pe::Key(fields))
    }

    /// How `fieldpath.PathElement.String` prints it in conflict messages: `.data`,
    /// `[name="x"]`, `[="x"]`, `[0]`.
    fn display(&self) -> String {
        match self {
            Pe::Field(f) => format!(".{f}"),
            Pe::Key(fields) => {
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("[{}]", parts.join(","))
            }
            Pe::Value(v) => format!("[={v}]"),
            Pe::Index(i) => format!("[{i}]"),
        }
    }

    /// The `FieldsV1` key.
    fn encode(&self) -> String {
        match self {
            Pe::Field(f) => format!("f:{f}"),
            Pe::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                    .collect();
                format!("k:{{{}}}", parts.join(","))
            }
            Pe::Value(v) => format!("v:{v}"),
            Pe::Index(i) => format!("i:{i}"),
        }
    }

    fn decode(s: &str) -> Option<Pe> {
        let (kind, rest) = s.split_at_checked(2)?;
        match kind {
            "f:" => Some(Pe::Field(rest.to_string())),
            "v:" => {
                let v: Value = serde_json::from_str(rest).ok()?;
                Some(Pe::Value(v.to_string()))
            }
            "k:" => {
                let Value::Object(m) = serde_json::from_str(rest).ok()? else {
                    return None;
                };
                let mut fields: Vec<(String, String)> =
                    m.into_iter().map(|(k, v)| (k, v.to_string())).collect();
                fields.sort();
                Some(Pe::Key(fields))
            }
            "i:" => rest.parse().ok().map(Pe::Index),
            _ => None,
        }
    }
}

/// A path from the object's root.
pub type Path = [Pe];

/// Renders a path like structured-merge-diff: `.data.key`, `.spec.items[name="a"].image`.
pub fn path_string(path: &Path) -> String {
    path.iter().map(Pe::display).collect()
}

/// A set of paths, as a tree: `members` are paths that end here, `children` go deeper. A path can
/// be both (an associative list item that is owned and whose fields are owned).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Set {
    members: BTreeSet<Pe>,
    children: BTreeMap<Pe, Set>,
}

impl Set {
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds `path`; the empty path (the object itself) is never a member.
    pub fn insert(&mut self, path: &Path) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    pub fn has_member(&self, pe: &Pe) -> bool {
        self.members.contains(pe)
    }

    pub fn child(&self, pe: &Pe) -> Option<&Set> {
        self.children.get(pe)
    }

    pub fn members(&self) -> impl Iterator<Item = &Pe> {
        self.members.iter()
    }

    pub fn children(&self) -> impl Iterator<Item = (&Pe, &Set)> {
        self.children.iter()
    }

    pub fn union(&self, other: &Set) -> Set {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, c) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(c),
                None => c.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    pub fn difference(&self, other: &Set) -> Set {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, c)| {
                let d = match other.children.get(pe) {
                    Some(o) => c.difference(o),
                    None => c.clone(),
                };
                (!d.is_empty()).then(|| (pe.clone(), d))
            })
            .collect();
        Set { members, children }
    }

    pub fn intersection(&self, other: &Set) -> Set {
        let members = self.members.intersection(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, c)| {
                let i = c.intersection(other.children.get(pe)?);
                (!i.is_empty()).then(|| (pe.clone(), i))
            })
            .collect();
        Set { members, children }
    }

    /// Removes the subtree under `pe` (members and children) and returns it.
    pub fn take_subtree(&mut self, pe: &Pe) -> Set {
        let mut out = Set::default();
        if self.members.remove(pe) {
            out.members.insert(pe.clone());
        }
        if let Some(c) = self.children.remove(pe) {
            out.children.insert(pe.clone(), c);
        }
        out
    }

    /// Every member path, in structured-merge-diff's iteration order (members, then children).
    pub fn paths(&self) -> Vec<Vec<Pe>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<Pe>, out: &mut Vec<Vec<Pe>>) {
        for m in &self.members {
            let mut p = prefix.clone();
            p.push(m.clone());
            out.push(p);
        }
        for (pe, c) in &self.children {
            prefix.push(pe.clone());
            c.collect(prefix, out);
            prefix.pop();
        }
    }

    /// The `fieldsV1` object.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.emit(false))
    }

    fn emit(&self, include_self: bool) -> Map<String, Value> {
        let mut out = Map::new();
        if include_self {
            out.insert(".".into(), Value::Object(Map::new()));
        }
        // Walk both sorted collections in one order so the keys come out sorted as upstream.
        let mut keys: BTreeSet<&Pe> = self.members.iter().collect();
        keys.extend(self.children.keys());
        for pe in keys {
            let v = match self.children.get(pe) {
                Some(c) => c.emit(self.members.contains(pe)),
                None => Map::new(),
            };
            out.insert(pe.encode(), Value::Object(v));
        }
        out
    }

    /// Parses a `fieldsV1` object; `None` when it is not one.
    pub fn from_fields_v1(v: &Value) -> Option<Set> {
        let mut set = Set::default();
        for (k, sub) in v.as_object()? {
            let pe = Pe::decode(k)?;
            let sub_map = sub.as_object()?;
            let is_member = sub_map.is_empty() || sub_map.contains_key(".");
            let rest: Map<String, Value> = sub_map
                .iter()
                .filter(|(k, _)| *k != ".")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if is_member {
                set.members.insert(pe.clone());
            }
            if !rest.is_empty() {
                set.children
                    .insert(pe, Set::from_fields_v1(&Value::Object(rest))?);
            }
        }
        Some(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(s: &str) -> Pe {
        Pe::Field(s.into())
    }

    #[test]
    fn encodes_fields_keys_values_and_self_like_upstream() {
        let mut s = Set::default();
        s.insert(&[f("data"), f("key")]);
        let item = Pe::key_of(&json!({"name": "nginx", "image": "x"}), &["name".into()]).unwrap();
        let containers = [f("spec"), f("containers")];
        let mut p = containers.to_vec();
        p.push(item.clone());
        s.insert(&p);
        p.push(f("image"));
        s.insert(&p);
        s.insert(&[f("metadata"), f("finalizers"), Pe::Value("\"a\"".into())]);
        assert_eq!(
            s.to_fields_v1(),
            json!({
                "f:data": {"f:key": {}},
                "f:metadata": {"f:finalizers": {"v:\"a\"": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}}}}
            })
        );
        assert_eq!(Set::from_fields_v1(&s.to_fields_v1()), Some(s.clone()));
        assert_eq!(
            path_string(&[f("spec"), f("containers"), item, f("image")]),
            ".spec.containers[name=\"nginx\"].image"
        );
    }

    #[test]
    fn multi_key_items_sort_their_keys_and_decode_whatever_the_order() {
        let item = Pe::key_of(
            &json!({"protocol": "TCP", "containerPort": 80}),
            &["protocol".into(), "containerPort".into()],
        )
        .unwrap();
        assert_eq!(
            item.encode(),
            "k:{\"containerPort\":80,\"protocol\":\"TCP\"}"
        );
        assert_eq!(
            Pe::decode("k:{\"protocol\":\"TCP\",\"containerPort\":80}"),
            Some(item)
        );
        assert_eq!(Pe::decode("x:1"), None);
    }

    #[test]
    fn set_algebra_keeps_no_empty_children() {
        let mut a = Set::default();
        a.insert(&[f("data"), f("a")]);
        a.insert(&[f("data"), f("b")]);
        let mut b = Set::default();
        b.insert(&[f("data"), f("a")]);
        b.insert(&[f("data"), f("b")]);
        assert!(a.difference(&b).is_empty());
        b.insert(&[f("spec")]);
        assert_eq!(a.intersection(&b), a);
        assert!(a.union(&b).paths().contains(&vec![f("spec")]));
        assert_eq!(
            a.paths(),
            vec![vec![f("data"), f("a")], vec![f("data"), f("b")]]
        );
    }
}
