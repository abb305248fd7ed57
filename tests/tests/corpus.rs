//! The manifest corpus. Every file in `corpus/invalid/` must fail to
//! compile; its first line, `// expect: "TEXT"` (a JSON string), is the
//! source text the first error's primary span must cover, and the rendered
//! report is snapshot-tested. Hostile inputs too big or too binary to commit
//! (invalid UTF-8, NUL, 10 MB strings, 10 000-deep nesting, a 10 000-unit
//! cycle) are generated here. Every file in `corpus/valid/` must compile.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use devctl_compiler::{CompileError, ErrorKind, compile_bytes, compile_str};
use miette::{GraphicalReportHandler, GraphicalTheme};

const MANIFEST: &str = "/srv/project/devctl.kdl";

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    files.sort();
    files
}

fn render(err: &CompileError) -> String {
    let mut out = String::new();
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut out, err)
        .unwrap();
    out
}

fn span_text<'a>(text: &'a str, err: &CompileError) -> &'a str {
    let span = err.errors[0]
        .span()
        .unwrap_or_else(|| panic!("first error has no span: {}", render(err)));
    &text[span.offset()..span.offset() + span.len()]
}

fn compile_bounded(bytes: &[u8]) -> (Result<devctl_compiler::Compiled, CompileError>, Duration) {
    let start = Instant::now();
    let res = compile_bytes(bytes, Path::new(MANIFEST));
    (res, start.elapsed())
}

#[test]
fn invalid_corpus_fails_with_spans_and_reports() {
    let files = corpus("invalid");
    assert!(files.len() >= 40, "only {} invalid manifests", files.len());
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap();
        let expect: String = serde_json::from_str(
            first
                .strip_prefix("// expect: ")
                .unwrap_or_else(|| panic!("{name}: no expect line")),
        )
        .unwrap();
        let err = compile_str(&text, Path::new(MANIFEST)).expect_err(&name);
        assert_eq!(err.kind, ErrorKind::Invalid, "{name}");
        assert!(!err.errors.is_empty(), "{name}");
        assert_eq!(
            span_text(&text, &err),
            expect,
            "{name}: wrong primary span\n{}",
            render(&err)
        );
        for p in &err.errors {
            assert!(
                p.help_text().is_some(),
                "{name}: `{}` has no help",
                p.message()
            );
        }
        insta::assert_snapshot!(name, render(&err));
    }
}

#[test]
fn valid_corpus_compiles() {
    let files = corpus("valid");
    assert!(files.len() >= 5);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let fake = format!(
            "/srv/valid/{}/devctl.kdl",
            path.file_stem().unwrap().to_string_lossy()
        );
        let c = compile_str(&text, Path::new(&fake))
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), render(&e)));
        // What the compiler writes, the supervisor reads back unchanged.
        for (name, text) in devctl_compiler::emit_devctl(&c) {
            let back = devctl_units::from_unit_file(&name, &text)
                .unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            assert_eq!(
                Some(&back),
                c.units.iter().find(|u| u.file_name() == name),
                "{}: {name}",
                path.display()
            );
        }
    }
}

#[test]
fn errors_are_in_source_order() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/invalid/many-errors.kdl"),
    )
    .unwrap();
    let err = compile_str(&text, Path::new(MANIFEST)).unwrap_err();
    assert_eq!(err.errors.len(), 4, "{}", render(&err));
    let offsets: Vec<usize> = err
        .errors
        .iter()
        .map(|p| p.span().unwrap().offset())
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
}

#[test]
fn empty_and_comment_only_files_have_nothing_to_run() {
    for text in [
        "",
        "\n\n   \n",
        "// just a comment\n/* and another */\n",
        "project \"x\"\n",
    ] {
        let err = compile_str(text, Path::new(MANIFEST)).unwrap_err();
        assert_eq!(
            err.errors[0].code_str(),
            "devctl::manifest::empty",
            "{text:?}"
        );
        assert!(err.errors[0].message().contains("nothing to run"));
    }
}

#[test]
fn invalid_utf8_reports_byte_offset() {
    let mut bytes = b"service \"api\" {\n    run \"app\" \"".to_vec();
    let at = bytes.len();
    bytes.extend_from_slice(&[0xc3, 0x28, b'"', b'\n', b'}']);
    let err = compile_bytes(&bytes, Path::new(MANIFEST)).unwrap_err();
    assert_eq!(err.errors[0].span().unwrap().offset(), at);
    assert!(
        err.errors[0]
            .message()
            .contains(&format!("byte offset {at}")),
        "{}",
        err.errors[0].message()
    );
    insta::assert_snapshot!("generated-invalid-utf8", render(&err));
    // Overlong encoding of '/' and a UTF-16 byte-order mark.
    let err =
        compile_bytes(b"service \"a\xc0\xaf\" { run \"x\"; }", Path::new(MANIFEST)).unwrap_err();
    assert_eq!(err.errors[0].span().unwrap().offset(), 10);
    let err = compile_bytes(b"\xff\xfes\0e\0", Path::new(MANIFEST)).unwrap_err();
    assert!(err.errors[0].help_text().unwrap().contains("UTF-16"));
}

#[test]
fn nul_byte_is_rejected_with_offset() {
    let bytes = b"service \"api\" {\n    run \"app\0\"\n}\n";
    let err = compile_bytes(bytes, Path::new(MANIFEST)).unwrap_err();
    assert_eq!(err.errors[0].span().unwrap().offset(), 28);
    assert!(err.errors[0].message().contains("NUL"));
    insta::assert_snapshot!("generated-nul", render(&err));
}

#[test]
fn ten_megabyte_string_is_rejected_before_parsing() {
    let text = format!(
        "service \"api\" {{\n    run \"app\" \"{}\"\n}}\n",
        "x".repeat(10 << 20)
    );
    let (res, took) = compile_bounded(text.as_bytes());
    let err = res.unwrap_err();
    assert_eq!(err.errors[0].code_str(), "devctl::manifest::too-large");
    assert!(took < Duration::from_millis(500), "{took:?}");
    insta::assert_snapshot!("generated-10mb-string", render(&err));
}

#[test]
fn string_over_the_cap_is_rejected() {
    let text = format!(
        "service \"api\" {{\n    run \"app\" \"{}\"\n}}\n",
        "x".repeat(100 << 10)
    );
    let err = compile_str(&text, Path::new(MANIFEST)).unwrap_err();
    assert_eq!(err.errors[0].code_str(), "devctl::manifest::too-long");
    assert_eq!(span_text(&text, &err), "\"");
}

#[test]
fn ten_thousand_deep_nesting_is_rejected_quickly() {
    for open in ["a {\n", "a /-{\n", "a { /-b {\n"] {
        let text = open.repeat(10_000);
        let (res, took) = compile_bounded(text.as_bytes());
        let err = res.unwrap_err();
        assert_eq!(
            err.errors[0].code_str(),
            "devctl::manifest::too-deep",
            "{open:?}"
        );
        assert_eq!(span_text(&text, &err), "{");
        assert!(took < Duration::from_millis(500), "{open:?}: {took:?}");
    }
    let text = "a {\n".repeat(10_000);
    insta::assert_snapshot!(
        "generated-deep-nesting",
        render(&compile_str(&text, Path::new(MANIFEST)).unwrap_err())
    );
}

#[test]
fn pathological_slashdash_is_bounded() {
    // kdl-rs#177: each repetition doubles the parser's time.
    for n in [10, 20, 40] {
        for pat in ["a /-{\n", "/- a {\n b\n", "a /-{ "] {
            let text = pat.repeat(n);
            let (res, took) = compile_bounded(text.as_bytes());
            assert!(res.is_err(), "{pat:?} x{n}");
            assert!(took < Duration::from_millis(500), "{pat:?} x{n}: {took:?}");
        }
        // Balanced, so the pre-scan cannot reject it as unclosed.
        let balanced = format!("{}{}", "a /-{\n".repeat(n), "}\n".repeat(n));
        let (res, took) = compile_bounded(balanced.as_bytes());
        assert!(res.is_err());
        assert!(took < Duration::from_millis(500), "balanced x{n}: {took:?}");
    }
}

#[test]
fn ten_thousand_unit_cycle_is_found_iteratively() {
    let n = 10_000;
    let mut text = String::from("project \"chain\"\n");
    for i in 0..n {
        text.push_str(&format!(
            "service \"u{i}\" {{ run \"app\"; requires \"u{}\"; }}\n",
            (i + 1) % n
        ));
    }
    let err = compile_str(&text, Path::new(MANIFEST)).unwrap_err();
    assert_eq!(err.errors.len(), 1);
    let msg = err.errors[0].message();
    assert!(msg.starts_with("dependency cycle: u0 → u1 → u2"), "{msg}");
    assert!(msg.ends_with("u9999 → u0"), "{msg}");
    assert_eq!(span_text(&text, &err), "\"u0\"");
}

#[test]
fn ten_thousand_unit_chain_compiles() {
    let n = 10_000;
    let mut text = String::from("project \"chain\"\n");
    for i in 0..n {
        let dep = if i + 1 < n {
            format!(" requires \"u{}\";", i + 1)
        } else {
            String::new()
        };
        text.push_str(&format!("service \"u{i}\" {{ run \"app\";{dep} }}\n"));
    }
    let c = compile_str(&text, Path::new(MANIFEST)).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(c.units.len(), n + 1);
}

/// Every valid manifest's systemd export passes `systemd-analyze verify
/// --user` with no output, escapes included (T28: values with `%`, `$`,
/// quotes, semicolons and newlines must not break or inject lines).
#[test]
fn valid_corpus_systemd_export_verifies() {
    for path in corpus("valid") {
        let text = std::fs::read_to_string(&path).unwrap();
        let fake = format!(
            "/srv/valid/{}/devctl.kdl",
            path.file_stem().unwrap().to_string_lossy()
        );
        let c = compile_str(&text, Path::new(&fake)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        // verify checks that ExecStartPost='s program exists: a stand-in devctl.
        let devctl = dir.path().join("devctl");
        std::fs::write(&devctl, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&devctl, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let out = devctl_compiler::emit_systemd(&c, &devctl);
        for text in out.files.values() {
            assert!(
                !text.contains("\nExecStartPre=/bin/touch"),
                "{}: injected line",
                path.display()
            );
        }
        let runtime = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = vec![
            "verify".into(),
            "--user".into(),
            "--man=no".into(),
            "--recursive-errors=no".into(),
        ];
        for (name, text) in &out.files {
            std::fs::write(dir.path().join(name), text).unwrap();
            args.push(dir.path().join(name).display().to_string());
        }
        let res = std::process::Command::new("/usr/bin/systemd-analyze")
            .args(&args)
            .env("XDG_RUNTIME_DIR", runtime.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&res.stderr);
        assert!(
            res.status.success() && stderr.trim().is_empty(),
            "{}: systemd-analyze verify:\n{stderr}",
            path.display()
        );
    }
}
