//! Offline checks of `kubernetes` units' manifests, for `devctl check`:
//! every manifest path exists (a directory holds `.yaml`, `.yml` or
//! `.json` files), every file parses as YAML, and every document is a
//! mapping with `apiVersion`, `kind` and `metadata.name`. Problems point
//! into the YAML file itself (its own named source), so the report shows
//! the offending line. Nothing here talks to a cluster: what only the API
//! server knows (kinds, schemas, conflicts) fails the unit when it starts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};
use serde_json::Value;

use crate::{Compiled, Problem, Source};

const HELP_FIELDS: &str = "every object needs `apiVersion`, `kind` and `metadata.name`";

/// Every problem in the manifests of `c`'s kubernetes units.
pub fn check_kubernetes(c: &Compiled) -> Vec<Problem> {
    let mut out = Vec::new();
    for u in &c.units {
        let Some(k) = &u.kubernetes else { continue };
        for m in &k.manifests {
            match files(m) {
                Ok(files) => {
                    for f in files {
                        check_file(&f, &mut out);
                    }
                }
                Err(message) => out.push(
                    Problem::bare(
                        "devctl::kubernetes::manifest",
                        format!("kubernetes `{}`: {message}", u.name),
                    )
                    .with_help("fix the path in `manifests`; paths are relative to devctl.kdl"),
                ),
            }
        }
    }
    out
}

/// The YAML files a manifest path stands for.
fn files(path: &Path) -> Result<Vec<PathBuf>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(format!(
            "{} holds no .yaml, .yml or .json file",
            path.display()
        ));
    }
    Ok(out)
}

/// One document of a file: its text and where it starts.
struct Doc<'a> {
    offset: usize,
    text: &'a str,
}

/// Split at `---` lines (a `...` line ends a document).
fn split(text: &str) -> Vec<Doc<'_>> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end();
        let separator =
            bare == "---" || bare.starts_with("--- ") || bare == "..." || bare.starts_with("---\t");
        if separator {
            docs.push(Doc {
                offset: start,
                text: &text[start..pos],
            });
            start = pos + line.len();
        }
        pos += line.len();
    }
    docs.push(Doc {
        offset: start,
        text: &text[start..],
    });
    docs
}

/// The span of a document's first meaningful line.
fn head(doc: &Doc<'_>) -> SourceSpan {
    let mut pos = doc.offset;
    for line in doc.text.split_inclusive('\n') {
        let t = line.trim();
        if !t.is_empty() && !t.starts_with('#') {
            return SourceSpan::new(pos.into(), line.trim_end().len());
        }
        pos += line.len();
    }
    SourceSpan::new(doc.offset.into(), 0)
}

/// Byte offset of the start of 1-based `line` in `text`.
fn line_offset(text: &str, line: usize) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum()
}

fn check_file(path: &Path, out: &mut Vec<Problem>) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            out.push(Problem::bare(
                "devctl::kubernetes::manifest",
                format!("cannot read {}: {e}", path.display()),
            ));
            return;
        }
    };
    let src: Source = NamedSource::new(path.display().to_string(), Arc::new(text.clone()));
    for (i, doc) in split(&text).iter().enumerate() {
        if doc.text.lines().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#')
        }) {
            continue;
        }
        let n = i + 1;
        let value: Value = match serde_saphyr::from_str(doc.text) {
            Ok(v) => v,
            Err(e) => {
                let at = e
                    .location()
                    .map(|l| {
                        l.span().byte_offset().map_or_else(
                            || line_offset(doc.text, l.line() as usize),
                            |o| o as usize,
                        )
                    })
                    .unwrap_or(0)
                    .min(doc.text.len());
                let first = e.to_string();
                let first = first.lines().next().unwrap_or("invalid YAML");
                out.push(
                    Problem::at(
                        "devctl::kubernetes::yaml",
                        format!("{}: document {n} is not valid YAML: {first}", path.display()),
                        &src,
                        SourceSpan::new((doc.offset + at).into(), 1),
                        "here",
                    )
                    .with_help("fix the YAML syntax; `kubectl apply --dry-run=client -f FILE` shows the same"),
                );
                continue;
            }
        };
        check_object(path, &src, doc, n, &value, out);
    }
}

fn check_object(
    path: &Path,
    src: &Source,
    doc: &Doc<'_>,
    n: usize,
    v: &Value,
    out: &mut Vec<Problem>,
) {
    let problem = |what: String| {
        Problem::at(
            "devctl::kubernetes::object",
            format!("{}: document {n} {what}", path.display()),
            src,
            head(doc),
            "this document",
        )
        .with_help(HELP_FIELDS)
    };
    let Some(obj) = v.as_object() else {
        if !v.is_null() {
            out.push(problem("is not a mapping".into()));
        }
        return;
    };
    if obj.get("kind").and_then(Value::as_str) == Some("List") {
        return;
    }
    let mut missing = Vec::new();
    for field in ["apiVersion", "kind"] {
        if obj
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            missing.push(format!("`{field}`"));
        }
    }
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str);
    if name.is_none_or(str::is_empty) {
        missing.push("`metadata.name`".into());
    }
    if !missing.is_empty() {
        out.push(problem(format!("has no {}", missing.join(", "))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(dir: &Path, manifests: &str) -> Compiled {
        let kdl = format!("project \"p\"\nkubernetes \"k\" {{\n    manifests {manifests}\n}}\n");
        crate::compile_str(&kdl, &dir.join("devctl.kdl")).unwrap()
    }

    #[test]
    fn problems_point_into_the_yaml_file() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("app.yaml");
        std::fs::write(
            &file,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\n# second\nkind: ConfigMap\nmetadata: {}\n---\nkey: [unclosed\n",
        )
        .unwrap();
        let c = compiled(tmp.path(), "\"app.yaml\" \"missing.yaml\"");
        let problems = check_kubernetes(&c);
        assert_eq!(problems.len(), 3, "{problems:?}");
        let text = std::fs::read_to_string(&file).unwrap();
        let fields = &problems[0];
        assert!(
            fields
                .message()
                .contains("document 2 has no `apiVersion`, `metadata.name`"),
            "{}",
            fields.message()
        );
        let span = fields.span().unwrap();
        assert_eq!(
            &text[span.offset()..span.offset() + span.len()],
            "kind: ConfigMap"
        );
        assert_eq!(
            span.offset(),
            text.find("kind: ConfigMap\nmetadata: {}").unwrap()
        );
        let yaml = &problems[1];
        assert!(
            yaml.message().contains("document 3 is not valid YAML"),
            "{}",
            yaml.message()
        );
        assert!(yaml.span().unwrap().offset() >= text.find("key: [").unwrap());
        assert!(
            problems[2].message().contains("missing.yaml"),
            "{}",
            problems[2].message()
        );
    }

    #[test]
    fn a_clean_directory_has_no_problems_and_an_empty_one_does() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("k8s");
        std::fs::create_dir(&dir).unwrap();
        let c = compiled(tmp.path(), "\"k8s\"");
        assert_eq!(check_kubernetes(&c).len(), 1, "empty directory");
        std::fs::write(
            dir.join("a.yaml"),
            "apiVersion: v1\nkind: List\nitems: []\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("b.json"),
            "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"n\"}}",
        )
        .unwrap();
        assert!(check_kubernetes(&c).is_empty());
    }
}
