//! The module graph of `mcp-oauth/src`: dependencies point one way (request flow →
//! validation → keys and metadata → http), so no two modules depend on each other,
//! directly or through others. Checked at two levels: the top-level modules (a file or a
//! directory directly under `src/`), and the modules inside each directory (`validate::jwt`
//! and `validate::router` are two). A dependency is any `crate::` path (in `use` lists
//! too), or a `super::` path inside a directory, outside the file's `#[cfg(test)] mod
//! tests`. `lib.rs` (re-exports), unit-test files and `testing/` (a client of the whole
//! crate) are left out.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mcp-oauth/src")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The code of a file without its unit tests.
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
        .collect()
}

/// The module a file is, one level inside its directory: `validate/jwt.rs` and
/// `validate/jwks/tests.rs` are `validate::jwt` and `validate::jwks`, `validate/mod.rs`
/// is `validate`, `layer.rs` is `layer`.
fn submodule_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .take(2)
        .filter(|p| p != "mod")
        .collect();
    parts.join("::")
}

/// `code` with each `prefix::{a, b::{c, d}}` group written out as `prefix::a prefix::b::c
/// prefix::b::d`, so that every path can be read on its own.
fn flatten_groups(code: &str) -> String {
    fn expand(prefix: &str, group: &str, out: &mut String) {
        let (mut depth, mut item) = (0, String::new());
        for c in group.chars().chain(std::iter::once(',')) {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 && c == ',' {
                let item = std::mem::take(&mut item);
                let item = item.trim();
                match item.split_once("::{") {
                    Some((head, inner)) => {
                        let inner = inner.strip_suffix('}').unwrap_or(inner);
                        expand(&format!("{prefix}{head}::"), inner, out);
                    }
                    None if !item.is_empty() => {
                        out.push_str(prefix);
                        out.push_str(item);
                        out.push(' ');
                    }
                    None => {}
                }
            } else {
                item.push(c);
            }
        }
    }
    let mut out = String::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::{") {
        out.push_str(&rest[..i]);
        let group = &rest[i + "crate::{".len()..];
        let (mut depth, mut end) = (1, group.len());
        for (j, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = j;
                break;
            }
        }
        expand("crate::", &group[..end], &mut out);
        rest = group.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The modules one level inside each directory named by `crate::a::b` paths (and
/// `super::b` paths of a file in `a/`): `a::b` when `a/b` is a module, else `a`.
fn dependencies(code: &str, dir: Option<&str>) -> BTreeSet<String> {
    let code = &flatten_groups(code);
    let is_submodule = |a: &str, b: &str| {
        let base = src().join(a);
        base.is_dir() && (base.join(format!("{b}.rs")).exists() || base.join(b).is_dir())
    };
    let mut deps = BTreeSet::new();
    for (prefix, within) in [("crate::", None), ("super::", dir)] {
        if prefix == "super::" && within.is_none() {
            continue;
        }
        for (i, _) in code.match_indices(prefix) {
            if prefix == "crate::" && code[..i].ends_with("super::") {
                continue;
            }
            let rest = &code[i + prefix.len()..];
            let first = ident(rest);
            let (a, after) = match within {
                Some(dir) => (dir.to_owned(), rest),
                None => (first.clone(), &rest[first.len()..]),
            };
            let b = match within {
                Some(_) => first,
                None => after.strip_prefix("::").map(ident).unwrap_or_default(),
            };
            if a.is_empty() {
                continue;
            }
            if !b.is_empty() && is_submodule(&a, &b) {
                deps.insert(format!("{a}::{b}"));
            } else {
                deps.insert(a);
            }
        }
    }
    deps.retain(|d| d != "self" && !d.starts_with("testing"));
    deps
}

/// The modules of the crate, one level inside each directory, and what each depends on.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &all {
        let module = submodule_of(file);
        let top = module_of(file);
        let is_tests = file.file_stem().is_some_and(|s| s == "tests");
        if top == "lib" || top == "testing" || is_tests {
            continue;
        }
        let dir = file
            .strip_prefix(src())
            .unwrap()
            .components()
            .count()
            .gt(&1)
            .then_some(top.as_str());
        let deps = dependencies(&code(file), dir);
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(deps.into_iter().filter(|d| *d != module));
    }
    graph
}

/// `graph` seen from the top: `validate::jwt` and `validate::jwks` are both `validate`.
fn top_level(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let top = |m: &str| m.split("::").next().unwrap_or(m).to_owned();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, deps) in graph {
        let module = top(module);
        let deps: BTreeSet<String> = deps.iter().map(|d| top(d)).collect();
        let entry = out.entry(module.clone()).or_default();
        entry.extend(deps.into_iter().filter(|d| *d != module));
    }
    out
}

/// Every cycle, written `a -> b -> a`.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    graph
        .keys()
        .filter_map(|m| cycle_through(graph, m))
        .map(|path| format!("{} -> {}", path.join(" -> "), path[0]))
        .collect()
}

/// A path from `from` back to itself, if there is one.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        target: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == target {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, target, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![from.to_owned()];
    walk(graph, from, from, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = top_level(&graph());
    assert!(
        graph.len() > 10,
        "the crate's modules were not found: {graph:?}"
    );
    let cycles = cycles(&graph);
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn no_two_modules_inside_a_directory_depend_on_each_other() {
    let graph = graph();
    assert!(
        graph.contains_key("validate::jwt") && graph["validate::jwt"].contains("validate::jwks"),
        "the submodules were not found: {graph:?}"
    );
    let cycles = cycles(&graph);
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_checker_sees_grouped_and_nested_uses() {
    let deps = dependencies(
        "use crate::{a, b::c, d::{e, f}};\nlet x = crate::g::h();",
        None,
    );
    let expected: BTreeSet<String> = ["a", "b", "d", "g"].map(String::from).into();
    assert_eq!(deps, expected);
    let deps = dependencies("use crate::{validate::{jwt, jwks::Keys}, http};", None);
    let expected: BTreeSet<String> = ["validate::jwt", "validate::jwks", "http"]
        .map(String::from)
        .into();
    assert_eq!(deps, expected);
    let deps = dependencies("use super::rules;\nuse crate::scope;", Some("validate"));
    let expected: BTreeSet<String> = ["validate::rules", "scope"].map(String::from).into();
    assert_eq!(deps, expected);
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert!(cycle_through(&graph, "a").is_some());
}

/// Small modules that own one thing: no source file of the crate over 600 lines
/// (`testing/`, the loopback authorization server for tests, aside).
#[test]
fn no_file_is_over_600_lines_outside_testing() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let long: Vec<String> = all
        .iter()
        .filter(|f| module_of(f) != "testing")
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > 600).then(|| format!("{}: {lines}", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "{long:#?}");
}
