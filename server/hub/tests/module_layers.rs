//! The hub's modules depend on each other one way (issue 14): handlers → ops → deletion → store,
//! and so on down to `status`. A `use crate::…` that points back up would tie two modules into
//! one again; this test reads the sources and fails on any cycle, naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level module a source file belongs to (`store/sqlite.rs` → `store`).
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules named after `crate::` in `src`, outside `#[cfg(test)]` code (which
/// comes last in every file of the crate).
fn dependencies(src: &str) -> BTreeSet<String> {
    let code = src.split("#[cfg(test)]").next().unwrap_or("");
    let ident = |s: &str| -> String {
        s.trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut deps = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let names: Vec<String> = match rest.strip_prefix('{') {
            Some(group) => group
                .split('}')
                .next()
                .unwrap_or("")
                .split(',')
                .map(ident)
                .collect(),
            None => vec![ident(rest)],
        };
        for name in names {
            // `crate::Hub` and other items of the crate root are the top, not a module.
            if name.starts_with(|c: char| c.is_ascii_lowercase()) {
                deps.insert(name);
            }
        }
    }
    deps
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).expect("below src");
            let module = module_of(rel);
            if module == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read source");
            let mut deps = dependencies(&text);
            deps.remove(&module);
            graph.entry(module).or_default().extend(deps);
        }
    }
    graph
}

/// A path from `from` back to `from`, if there is one.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().cloned().unwrap_or_default();
        for next in graph.get(&last).into_iter().flatten() {
            if next == from {
                let mut cycle = path.clone();
                cycle.push(next.clone());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn hub_modules_depend_on_each_other_one_way() {
    let graph = graph();
    // The scan must see the modules it is about, or it proves nothing.
    for (module, dep) in [
        ("handlers", "ops"),
        ("ops", "deletion"),
        ("deletion", "store"),
    ] {
        assert!(
            graph.get(module).is_some_and(|d| d.contains(dep)),
            "expected {module} → {dep} in {graph:?}"
        );
    }
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_through(&graph, m))
        .map(|c| c.join(" → "))
        .collect();
    assert!(cycles.is_empty(), "module cycles: {cycles:#?}");
}

#[test]
fn the_scan_sees_grouped_and_nested_imports() {
    let deps = dependencies(
        "use crate::store::Tx;\nuse crate::{discovery, openapi::index, Hub};\nfn f() { crate::deletion::remove() }\n#[cfg(test)]\nuse crate::handlers;",
    );
    let want: BTreeSet<String> = ["deletion", "discovery", "openapi", "store"]
        .map(String::from)
        .into();
    assert_eq!(deps, want);
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(
        cycle_through(&g, "a"),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}
