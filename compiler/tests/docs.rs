//! Docs are tests: every KDL example in `man/devctl.kdl.5` (`.EX`/`.EE`
//! blocks), in `README.md` (```kdl fences, if the file exists) and every
//! `examples/**/devctl.kdl` compiles. A block whose first line is
//! `// invalid` must fail instead.

use std::path::{Path, PathBuf};

use devctl_compiler::compile_str;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Undo the roff escapes used in the man page's examples.
fn unroff(line: &str) -> String {
    line.replace("\\-", "-")
        .replace("\\(aq", "'")
        .replace("\\(->", "→")
        .replace("\\&", "")
        .replace("\\e", "\\")
}

fn man_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut cur: Option<Vec<String>> = None;
    for line in text.lines() {
        match (line, &mut cur) {
            (".EX", None) => cur = Some(Vec::new()),
            (".EE", Some(_)) => blocks.push(cur.take().unwrap().join("\n")),
            (l, Some(b)) => b.push(unroff(l)),
            _ => {}
        }
    }
    assert!(cur.is_none(), "unterminated .EX block");
    blocks
}

fn fenced_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut cur: Option<Vec<&str>> = None;
    for line in text.lines() {
        match (line.trim_end(), &mut cur) {
            ("```kdl", None) => cur = Some(Vec::new()),
            ("```", Some(_)) => blocks.push(cur.take().unwrap().join("\n")),
            (_, Some(b)) => b.push(line),
            _ => {}
        }
    }
    blocks
}

/// KDL blocks start with a comment or a top-level manifest node.
fn is_kdl(block: &str) -> bool {
    let first = block.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    [
        "//",
        "project",
        "service",
        "daemon",
        "build",
        "container",
        "kubernetes",
        "group",
    ]
    .iter()
    .any(|k| first.starts_with(k))
}

fn check(origin: &str, block: &str) {
    let invalid = block
        .lines()
        .next()
        .is_some_and(|l| l.trim() == "// invalid");
    let res = compile_str(block, Path::new("/srv/docs/doc/devctl.kdl"));
    match (invalid, res) {
        (false, Err(e)) => panic!(
            "{origin}: example does not compile:\n{:?}\n{block}",
            miette::Report::new(e)
        ),
        (true, Ok(_)) => panic!("{origin}: example marked `// invalid` compiles:\n{block}"),
        _ => {}
    }
}

#[test]
fn man_page_examples_compile() {
    let text = std::fs::read_to_string(repo().join("man/devctl.kdl.5")).unwrap();
    let blocks: Vec<String> = man_blocks(&text)
        .into_iter()
        .filter(|b| is_kdl(b))
        .collect();
    assert!(
        blocks.len() >= 6,
        "only {} KDL blocks in devctl.kdl(5)",
        blocks.len()
    );
    assert!(
        blocks
            .iter()
            .filter(|b| b.starts_with("// invalid"))
            .count()
            >= 3
    );
    for (i, b) in blocks.iter().enumerate() {
        check(&format!("devctl.kdl.5 block {i}"), b);
    }
}

#[test]
fn readme_examples_compile() {
    let Ok(text) = std::fs::read_to_string(repo().join("README.md")) else {
        return;
    };
    for (i, b) in fenced_blocks(&text).iter().enumerate() {
        check(&format!("README.md block {i}"), b);
    }
}

#[test]
fn example_manifests_compile() {
    let mut found = 0;
    let mut dirs = vec![repo().join("examples")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == "devctl.kdl") {
                found += 1;
                check(
                    &path.display().to_string(),
                    &std::fs::read_to_string(&path).unwrap(),
                );
            }
        }
    }
    assert!(found >= 3, "{found} example manifests");
}

#[test]
fn extraction_handles_escapes_and_markers() {
    let man = ".PP\n.EX\n// invalid\nservice \"a\\-b\" { run \"x\\(aqs\"; }\n.EE\n";
    assert_eq!(
        man_blocks(man),
        ["// invalid\nservice \"a-b\" { run \"x's\"; }"]
    );
    let md = "text\n```kdl\nservice \"a\" { run \"x\"; }\n```\n```sh\nls\n```\n";
    assert_eq!(fenced_blocks(md), ["service \"a\" { run \"x\"; }"]);
    assert!(!is_kdl("devctl probe tcp HOST PORT"));
}
