//! The shape of the daemon's core, checked from its source: the modules
//! of `src/core/` import each other without a circle (read from their
//! `crate::core::…` paths), no file of `src/core/` or `src/providers/`
//! exceeds 800 lines, and the core names no provider (providers live in
//! `src/providers/`, one folder each, and reach the core through its
//! traits).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The core module a file belongs to: `core/x.rs` and `core/x/…` are `x`;
/// `core/mod.rs` is none.
fn module_of(core: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(core).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    match first.strip_suffix(".rs") {
        Some("mod") => None,
        Some(m) => Some(m.to_string()),
        None => Some(first),
    }
}

/// Lines that are code (not comments).
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
}

/// The `crate::core::<module>` names a text refers to.
fn core_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in code_lines(text) {
        let mut rest = line;
        while let Some(i) = rest.find("crate::core::") {
            rest = &rest[i + "crate::core::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// The module graph of `src/core/`.
fn core_graph() -> BTreeMap<String, BTreeSet<String>> {
    let core = src().join("core");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in rust_files(&core) {
        let Some(m) = module_of(&core, &f) else {
            continue;
        };
        let text = std::fs::read_to_string(&f).unwrap();
        let refs: Vec<String> = core_refs(&text).into_iter().filter(|r| *r != m).collect();
        graph.entry(m).or_default().extend(refs);
    }
    graph
}

/// A circle in `graph`, if any, as the path around it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(n) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let at = path.iter().position(|p| p == n).unwrap();
                let mut cycle = path[at..].to_vec();
                cycle.push(n.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(n.to_string(), Mark::Open);
        path.push(n.to_string());
        for next in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, graph, marks, path) {
                return Some(c);
            }
        }
        path.pop();
        marks.insert(n.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for n in graph.keys() {
        if let Some(c) = visit(n, graph, &mut marks, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn core_modules_import_each_other_without_a_circle() {
    let graph = core_graph();
    assert!(graph.len() > 10, "the core's modules were found: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "core modules import each other in a circle: {}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_circle_check_finds_a_circle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", &["b"][..]),
        ("b", &["c"][..]),
        ("c", &["a", "d"][..]),
        ("d", &[][..]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
    .collect();
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let refs = core_refs(
        "use crate::core::jobs::job::Job;\n// crate::core::manager\nx(crate::core::notes::channel())",
    );
    assert_eq!(
        refs.into_iter().collect::<Vec<_>>(),
        ["jobs".to_string(), "notes".to_string()]
    );
}

#[test]
fn no_core_or_provider_file_exceeds_800_lines() {
    let mut long = Vec::new();
    for dir in ["core", "providers"] {
        for f in rust_files(&src().join(dir)) {
            let n = std::fs::read_to_string(&f).unwrap().lines().count();
            if n > 800 {
                long.push(format!("{} ({n} lines)", f.display()));
            }
        }
    }
    assert!(long.is_empty(), "files over 800 lines: {long:#?}");
}

#[test]
fn the_core_names_no_provider() {
    let words = [
        "docker",
        "container",
        "kubernetes",
        "kube",
        "localprovider",
        "local_provider",
        "providers::local",
        "bollard",
    ];
    let mut found = Vec::new();
    for f in rust_files(&src().join("core")) {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let lower = line.to_lowercase();
            for w in words {
                if lower.contains(w) {
                    found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "the core names a provider: {found:#?}");
}

/// What a previous daemon left is stopped by its provider's boot recovery
/// (`ProviderKind::recover`): the core itself stops no process tree and
/// looks for no invocation marker (its in-process tests may).
#[test]
fn the_core_leaves_stopping_leftovers_to_the_providers() {
    let words = ["find_marked", "stop_tree", "marker_only", "kill_marked"];
    let core = src().join("core");
    let mut found = Vec::new();
    for f in rust_files(&core) {
        if f.starts_with(core.join("tests")) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in code_lines(&text).enumerate() {
            if words.iter().any(|w| line.contains(w)) {
                found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the core stops processes itself: {found:#?}"
    );
}
