//! Kubernetes objects as YAML text, the way `kubectl get -o yaml` lays them out: block style,
//! keys sorted, list items at their parent key's indentation.
//!
//! Why not a YAML library: only emitting is needed, for JSON values, and the dashboard compiles
//! this into its WASM, where a full YAML implementation would cost more than the whole diff view.
//! The emitter stays on a small subset that is always valid: a string is written plain only when
//! no YAML reader could take it for anything else, as a literal block when it spans lines, and
//! double-quoted (JSON escapes are valid YAML) otherwise. The tests parse every output back with
//! a maintained YAML parser and compare it with the input.

use std::fmt::Write as _;

use serde_json::Value;

/// The YAML document for `value` (no `---`), ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            write_scalar(&mut out, scalar, 2);
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for (i, key) in keys.into_iter().enumerate() {
        // The first key of a map inside a list item shares the `- ` line.
        if i > 0 || !out.ends_with("- ") {
            pad(out, indent);
        }
        write_key(out, key);
        out.push(':');
        write_value_after_key(out, &map[key], indent);
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !out.ends_with("- ") {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => write_map(out, map, indent + 2),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, indent + 2),
            scalar => {
                write_scalar(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }
}

fn write_value_after_key(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2);
        }
        // kubectl's layout: list items at the key's own indentation.
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar, indent + 2);
            out.push('\n');
        }
    }
}

/// A scalar (or an empty collection) on the current line; `indent` is where a literal block's
/// lines go.
fn write_scalar(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s, indent),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn write_string(out: &mut String, s: &str, indent: usize) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if is_literal_block_safe(s) {
        write_literal_block(out, s, indent);
    } else {
        write_double_quoted(out, s);
    }
}

/// Keys never use a block: plain or double-quoted.
fn write_key(out: &mut String, key: &str) {
    if is_plain_safe(key) {
        out.push_str(key);
    } else {
        write_double_quoted(out, key);
    }
}

/// YAML's double-quoted style, escaping what a reader would not take verbatim: quotes,
/// backslashes, control characters and the Unicode line and paragraph separators (YAML 1.1
/// readers break lines there).
fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `|`, `|-` or `|+` by how many newlines end the text, then each line indented.
fn write_literal_block(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let chomp = match s.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    out.push('|');
    out.push_str(chomp);
    for line in s[..body.len()].split('\n').chain(
        // `|+` keeps the extra trailing newlines as empty lines.
        std::iter::repeat_n("", (s.len() - body.len()).saturating_sub(1)),
    ) {
        out.push('\n');
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
    }
    // The caller ends the line.
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Words that YAML 1.1 or 1.2 readers turn into booleans or null when unquoted.
const RESERVED: &[&str] = &[
    "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n",
];

/// True when `s` written bare reads back as the same string in every YAML reader: it starts
/// with a letter or `/`, holds only letters, digits, spaces and `-_./:@`, has no `: ` or ` #`,
/// does not end in `:` or a space, and is no reserved word. Anything that starts like a number,
/// a date or an indicator gets quoted instead.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " -_./:@".contains(c))
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.ends_with(' ')
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str())
    // `.inf`, `.nan` start with `.`, already excluded; `e`-notation needs a leading digit.
}

/// Multi-line text that a literal block carries verbatim: printable characters and tabs only,
/// no line starting with a space or tab (that would need an indentation indicator), and no
/// carriage returns (a reader would fold them into newlines).
fn is_literal_block_safe(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with('\n')
        && s.chars().all(|c| {
            c == '\n'
                || c == '\t'
                || !(c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
        })
        && s.split('\n').all(|line| !line.starts_with([' ', '\t']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn read_back(yaml: &str) -> Value {
        serde_saphyr::from_str::<Value>(yaml)
            .unwrap_or_else(|e| panic!("not valid YAML ({e}):\n{yaml}"))
    }

    #[test]
    fn a_config_map_looks_like_kubectl_output() {
        let cm = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "test-cm", "namespace": "test-namespace", "labels": {"app": "web"}},
            "data": {"key": "value1", "port": "8080", "enabled": "true", "script": "echo hi\nexit 0\n"},
        });
        let yaml = to_yaml(&cm);
        assert_eq!(
            yaml,
            "apiVersion: v1\n\
             data:\n  \
               enabled: \"true\"\n  \
               key: value1\n  \
               port: \"8080\"\n  \
               script: |\n    \
                 echo hi\n    \
                 exit 0\n\
             kind: ConfigMap\n\
             metadata:\n  \
               labels:\n    \
                 app: web\n  \
               name: test-cm\n  \
               namespace: test-namespace\n"
        );
        assert_eq!(read_back(&yaml), cm);
    }

    #[test]
    fn lists_sit_at_their_key_and_maps_in_lists_start_on_the_dash_line() {
        let deployment = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}], "args": []},
        ]}}}});
        let yaml = to_yaml(&deployment);
        assert_eq!(
            yaml,
            "spec:\n  template:\n    spec:\n      containers:\n      - args: []\n        \
             image: nginx:1.14.2\n        name: nginx\n        ports:\n        - containerPort: 80\n"
        );
        assert_eq!(read_back(&yaml), deployment);
    }

    #[test]
    fn strings_that_read_as_something_else_are_quoted() {
        for s in [
            "",
            "yes",
            "No",
            "null",
            "~",
            "1.0",
            "0x1F",
            "12:30",
            "2026-12-06",
            "-dash",
            " lead",
            "trail ",
            "a: b",
            "a #c",
            "end:",
            "{x}",
            "[x]",
            "*ref",
            "&anchor",
            "!tag",
            "'q'",
            "\"q\"",
            "%p",
            "@at",
            "`b`",
            "tab\there",
            "cr\r\nlf",
            "\n",
            " indented\nblock",
        ] {
            let yaml = to_yaml(&json!({ "k": s }));
            assert_eq!(read_back(&yaml), json!({ "k": s }), "{s:?} as\n{yaml}");
        }
        assert_eq!(to_yaml(&json!({"k": "yes"})), "k: \"yes\"\n");
    }

    #[test]
    fn trailing_newlines_choose_the_chomping() {
        for s in ["a\nb", "a\nb\n", "a\nb\n\n\n"] {
            let yaml = to_yaml(&json!({ "k": s }));
            assert_eq!(read_back(&yaml), json!({ "k": s }), "{s:?} as\n{yaml}");
        }
        assert!(to_yaml(&json!({"k": "a\nb"})).starts_with("k: |-\n"));
        assert!(to_yaml(&json!({"k": "a\nb\n\n"})).starts_with("k: |+\n"));
    }

    #[test]
    fn scalars_and_empty_documents() {
        assert_eq!(to_yaml(&json!(null)), "null\n");
        assert_eq!(to_yaml(&json!({})), "{}\n");
        assert_eq!(
            to_yaml(&json!([[1, 2], [], {}])),
            "- - 1\n  - 2\n- []\n- {}\n"
        );
        assert_eq!(
            read_back(&to_yaml(&json!([[1, 2], [], {}]))),
            json!([[1, 2], [], {}])
        );
    }

    fn any_string() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z]{1,8}",
            "[ -~]{0,12}",
            "[a-z :#\\-\n\t]{0,16}",
            Just("true".to_string()),
            Just("0755".to_string()),
            "\\PC{0,6}",
        ]
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (-1.0e6f64..1.0e6).prop_map(|f| json!(f)),
            any_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(any_string(), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn every_value_reads_back_unchanged(value in any_value()) {
            let yaml = to_yaml(&value);
            let back = serde_saphyr::from_str::<Value>(&yaml);
            prop_assert!(back.is_ok(), "invalid YAML {:?}:\n{}", back.err(), yaml);
            prop_assert_eq!(back.ok(), Some(value), "as\n{}", yaml);
        }
    }
}
