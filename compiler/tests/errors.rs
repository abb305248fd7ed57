//! Error paths not covered by the invalid corpus in `tests/`: I/O errors,
//! size checks before reading, deadlines, project names from directories,
//! argument-shape errors and duplicates, and warnings.

use std::path::Path;
use std::time::Duration;

use devctl_compiler::{
    CompileError, ErrorKind, compile_file, compile_file_with_deadline, compile_str,
};

fn err(text: &str) -> CompileError {
    compile_str(text, Path::new("/srv/proj/devctl.kdl")).expect_err(text)
}

fn codes(e: &CompileError) -> Vec<&'static str> {
    e.errors.iter().map(|p| p.code_str()).collect()
}

fn first_span<'a>(text: &'a str, e: &CompileError) -> &'a str {
    let s = e.errors[0].span().unwrap();
    &text[s.offset()..s.offset() + s.len()]
}

#[test]
fn missing_file_and_directory_are_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = compile_file(&dir.path().join("devctl.kdl")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.errors[0].help_text().unwrap().contains("check the path"));
    let e = compile_file(dir.path()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.errors[0].message().contains("not a regular file"));
}

#[test]
fn oversized_file_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("devctl.kdl");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(devctl_compiler::MAX_FILE_BYTES as u64 + 1)
        .unwrap();
    let e = compile_file(&path).unwrap_err();
    assert_eq!(codes(&e), ["devctl::manifest::too-large"]);
    assert_eq!(e.kind, ErrorKind::Invalid);
}

#[test]
fn compile_file_reads_and_names_the_project_after_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let proj = dir.path().join("my-app");
    std::fs::create_dir(&proj).unwrap();
    std::fs::write(
        proj.join("devctl.kdl"),
        "service \"web\" { run \"app\"; dir \"sub/../srv\"; }\n",
    )
    .unwrap();
    let c = compile_file(&proj.join("devctl.kdl")).unwrap();
    assert_eq!(c.project.as_str(), "my-app");
    assert_eq!(c.units.last().unwrap().name.as_str(), "my-app");
    assert_eq!(
        c.unit("web").unwrap().dir.as_deref(),
        Some(proj.join("srv").as_path())
    );
    let ok = compile_file_with_deadline(&proj.join("devctl.kdl"), Duration::from_secs(30)).unwrap();
    assert_eq!(ok, c);
}

#[test]
fn directory_name_that_is_not_a_name_asks_for_project() {
    let e = compile_str(
        "service \"web\" { run \"app\"; }",
        Path::new("/srv/my app/devctl.kdl"),
    )
    .unwrap_err();
    assert_eq!(codes(&e), ["devctl::manifest::no-project-name"]);
    assert!(
        e.errors[0]
            .help_text()
            .unwrap()
            .contains("project \"name\"")
    );
    let c = compile_str(
        "project \"ok\"\nservice \"web\" { run \"app\"; }",
        Path::new("/srv/my app/devctl.kdl"),
    )
    .unwrap();
    assert_eq!(c.project.as_str(), "ok");
}

#[test]
fn control_character_in_manifest_directory_is_refused() {
    let e = compile_str(
        "project \"p\"\nservice \"web\" { run \"app\"; }",
        Path::new("/srv/a\nExecStartPre=x/devctl.kdl"),
    )
    .unwrap_err();
    assert_eq!(codes(&e), ["devctl::manifest::bad-path"]);
}

#[test]
fn deadline_gives_a_timeout_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("devctl.kdl");
    let mut text = String::from("project \"big\"\n");
    for i in 0..5000 {
        text.push_str(&format!(
            "service \"u{i}\" {{ run \"app\" \"--port\" \"{i}\"; env A=\"{i}\"; }}\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    let e = compile_file_with_deadline(&path, Duration::from_millis(1)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert_eq!(codes(&e), ["devctl::manifest::timeout"]);
}

#[test]
fn argument_shape_errors() {
    let text = "service \"a\" {\n    run\n}\n";
    let e = err(text);
    assert_eq!(codes(&e), ["devctl::manifest::missing-argument"]);
    assert_eq!(first_span(text, &e), "run");
    let text = "service \"a\" \"b\" { run \"x\"; }";
    let e = err(text);
    assert_eq!(codes(&e), ["devctl::manifest::extra-argument"]);
    assert_eq!(first_span(text, &e), "\"b\"");
    let text = "service \"a\" { run \"x\"; port 1 { x; }; }";
    let e = err(text);
    assert_eq!(codes(&e), ["devctl::manifest::unexpected-children"]);
    let text = "service \"a\" { run \"x\"; env; }";
    assert_eq!(codes(&err(text)), ["devctl::manifest::missing-argument"]);
    let text = "service \"a\" { run \"x\"; timeout; }";
    assert_eq!(codes(&err(text)), ["devctl::manifest::not-allowed"]);
    let text = "build \"a\" { run \"x\"; timeout; }";
    assert_eq!(codes(&err(text)), ["devctl::manifest::missing-argument"]);
}

#[test]
fn duplicates_are_reported_with_both_places() {
    let cases = [
        (
            "service \"a\" { run \"x\"; requires \"b\"; wants \"b\"; }\nservice \"b\" { run \"y\"; }",
            "devctl::manifest::duplicate-dependency",
        ),
        (
            "service \"a\" { run \"x\"; }\ngroup \"g\" { units \"a\" \"a\"; }",
            "devctl::manifest::duplicate-member",
        ),
        (
            "service \"a\" { run \"x\"; port 80 80; }",
            "devctl::manifest::duplicate-port",
        ),
        (
            "project \"a\"\nproject \"b\"\nservice \"s\" { run \"x\"; }",
            "devctl::manifest::duplicate-child",
        ),
        (
            "service \"a\" { run \"x\"; ready { tcp 1; period \"1s\"; period \"2s\"; }; }",
            "devctl::manifest::duplicate-child",
        ),
    ];
    for (text, code) in cases {
        let e = err(text);
        assert_eq!(codes(&e), [code], "{text}");
    }
}

#[test]
fn value_checks() {
    let cases = [
        (
            "service \"a\" { run \"x\"; stop timeout=\"1us\"; }",
            "devctl::manifest::bad-duration",
        ),
        (
            "service \"a\" { run \"x\"; stop timeout=\"400d\"; }",
            "devctl::manifest::bad-duration",
        ),
        (
            "service \"a\" { run \"x\"; restart \"always\" backoff=\"1m\" max-delay=\"1s\"; }",
            "devctl::manifest::bad-value",
        ),
        (
            "service \"a\" { run \"x\"; alive { tcp 1; success-threshold 2; }; }",
            "devctl::manifest::bad-value",
        ),
        (
            "service \"a\" { run \"x\"; ready { tcp 1 host=\"a b\"; }; }",
            "devctl::manifest::bad-value",
        ),
        (
            "service \"a\" { run \"x\"; env \"1A\"=\"x\"; }",
            "devctl::manifest::bad-env-name",
        ),
        (
            "service \"a\" { run \"x\"; env \"x\"; }",
            "devctl::manifest::extra-argument",
        ),
        (
            "service \"a\" { run \"x\"; watch \"/abs/**\"; }",
            "devctl::manifest::bad-glob",
        ),
        (
            "service \"a\" { run \"x\"; link \"no scheme\"; }",
            "devctl::manifest::bad-url",
        ),
        (
            "service \"a\" { run \"x\"; ready { http \"http://h:99999/\"; }; }",
            "devctl::manifest::bad-url",
        ),
        (
            "service \"a\" { run \"x\"; trigger \"sometimes\"; watch \"a\"; }",
            "devctl::manifest::bad-value",
        ),
        (
            "service \"a\" { run \"x\"; dir \"\"; }",
            "devctl::manifest::empty",
        ),
        (
            "container \"c\" { image \"a b\"; }",
            "devctl::manifest::bad-value",
        ),
        (
            "container \"c\" { image \"x\"; workdir \"rel\"; }",
            "devctl::manifest::bad-value",
        ),
        (
            "container \"c\" { image \"x\"; publish 1 protocol=\"sctp\"; }",
            "devctl::manifest::bad-value",
        ),
        (
            "container \"c\" { image \"x\"; volume \"bad name!\" \"/d\"; }",
            "devctl::manifest::bad-value",
        ),
        (
            "kubernetes \"k\" { manifests \"a.yaml\"; port-forward \"job/x\" 1; }",
            "devctl::manifest::bad-value",
        ),
        (
            "kubernetes \"k\" { context \"c\"; }",
            "devctl::manifest::missing-field",
        ),
        (
            "group \"g\" { description \"empty\"; }\nservice \"a\" { run \"x\"; }",
            "devctl::manifest::missing-field",
        ),
        (
            "daemon \"d\" { pid-file \"p\"; }",
            "devctl::manifest::missing-field",
        ),
    ];
    for (text, code) in cases {
        let e = err(text);
        assert_eq!(codes(&e), [code], "{text}");
        assert!(e.errors[0].help_text().is_some(), "{text}");
    }
}

#[test]
fn liveness_without_restart_warns() {
    let c = compile_str(
        "service \"a\" { run \"x\"; alive { tcp 1; }; restart \"no\"; }",
        Path::new("/srv/proj/devctl.kdl"),
    )
    .unwrap();
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(c.warnings[0].unit.as_deref(), Some("a"));
    assert!(c.warnings[0].span.is_some());
    assert!(
        c.warnings[0]
            .to_string()
            .starts_with("a: has a liveness probe")
    );
}

#[test]
fn misspelt_settings_get_useful_help() {
    let cases = [
        (
            "service \"a\" { run \"x\"; cwd \"d\"; }",
            "a service spells this `dir`",
        ),
        (
            "service \"a\" { comand \"x\"; }",
            "did you mean `run`? (or `sh` for a shell command)",
        ),
        (
            "service \"a\" { run \"x\"; requries \"b\"; }",
            "did you mean `requires`?",
        ),
        (
            "service \"a\" { run \"x\"; image \"b\"; }",
            "`image` applies to: container, kubernetes",
        ),
        ("servise \"a\" { run \"x\"; }", "did you mean `service`?"),
        (
            "service \"a\" { run \"x\"; stop signal=\"SIGTREM\"; }",
            "did you mean `SIGTERM`?",
        ),
        (
            "service \"a\" { run \"x\"; requires \"bd\"; }\nservice \"db\" { run \"y\"; }",
            "did you mean `db`?",
        ),
    ];
    for (text, help) in cases {
        let e = err(text);
        assert_eq!(e.errors[0].help_text(), Some(help), "{text}");
    }
}

/// `backoff="0"` restarts at once (systemd's `RestartSec=0`); every other
/// restart duration must still be longer than zero.
#[test]
fn only_the_restart_backoff_may_be_zero() {
    let ok = compile_str(
        "service \"a\" { run \"x\"; restart \"always\" backoff=\"0\"; }",
        Path::new("/srv/proj/devctl.kdl"),
    )
    .unwrap();
    let a = ok.units.iter().find(|u| u.name.as_str() == "a").unwrap();
    assert_eq!(a.restart.backoff, Duration::ZERO);
    let text = devctl_units::to_unit_file(a);
    assert!(text.contains("RestartSec=0\n"), "{text}");
    assert_eq!(
        devctl_units::from_unit_file("a.service", &text)
            .unwrap()
            .restart
            .backoff,
        Duration::ZERO
    );
    for key in ["max-delay", "within", "reset-after"] {
        let text = format!("service \"a\" {{ run \"x\"; restart \"always\" {key}=\"0\"; }}");
        let e = err(&text);
        assert_eq!(codes(&e), ["devctl::manifest::bad-duration"], "{key}");
        assert!(e.errors[0].message().contains("longer than zero"), "{key}");
    }
}

/// `logs { }`: each setting optional, all three reach the unit file.
#[test]
fn a_logs_block_sets_what_it_names() {
    let c = compile_str(
        "service \"a\" { run \"x\"; logs { max-size \"64KiB\"; files 2; max-age \"7d\"; } }\n\
         build \"b\" { run \"y\"; logs { files 9; } }\n\
         service \"c\" { run \"z\"; }",
        Path::new("/srv/proj/devctl.kdl"),
    )
    .unwrap();
    let a = c.unit("a").unwrap();
    assert_eq!(a.logs.max_size, Some(64 << 10));
    assert_eq!(a.logs.files, Some(2));
    assert_eq!(a.logs.max_age, Some(Duration::from_secs(7 * 86_400)));
    let b = c.unit("b").unwrap();
    assert_eq!(
        (b.logs.max_size, b.logs.files, b.logs.max_age),
        (None, Some(9), None)
    );
    assert!(c.unit("c").unwrap().logs.is_empty());
    let text = devctl_units::to_unit_file(a);
    for line in [
        "X-Devctl-Log-Max-Size=64KiB\n",
        "X-Devctl-Log-Files=2\n",
        "X-Devctl-Log-Max-Age=7d\n",
    ] {
        assert!(text.contains(line), "{text}");
    }
    assert_eq!(
        devctl_units::from_unit_file("a.service", &text)
            .unwrap()
            .logs,
        a.logs
    );
    let c_text = devctl_units::to_unit_file(c.unit("c").unwrap());
    assert!(!c_text.contains("X-Devctl-Log"), "{c_text}");
    // systemd has journald: the setting is said not to carry over.
    let sd = devctl_compiler::emit_systemd(&c, Path::new("/usr/bin/devctl"));
    assert!(
        sd.warnings
            .iter()
            .any(|w| w.to_string().starts_with("a: `logs`")),
        "{:?}",
        sd.warnings
    );
}

/// Every way a `logs` block can be wrong: code, the span underlined, and
/// a help that says what to write.
#[test]
fn bad_logs_settings_are_errors_with_spans_and_help() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (manifest logs block, code, underlined text, help fragment)
        (
            "logs { max-size \"16 parsecs\"; }",
            "devctl::manifest::bad-size",
            "\"16 parsecs\"",
            "\"16MiB\"",
        ),
        (
            "logs { max-size \"huge\"; }",
            "devctl::manifest::bad-size",
            "\"huge\"",
            "\"16MiB\"",
        ),
        (
            "logs { max-size 1048576; }",
            "devctl::manifest::bad-size",
            "1048576",
            "\"1048576B\"",
        ),
        (
            "logs { max-size \"1KiB\"; }",
            "devctl::manifest::bad-size",
            "\"1KiB\"",
            "at least \"4KiB\"",
        ),
        (
            "logs { max-size \"1TiB\"; }",
            "devctl::manifest::bad-size",
            "\"1TiB\"",
            "at most \"64GiB\"",
        ),
        (
            "logs { max-size #true; }",
            "devctl::manifest::wrong-type",
            "#true",
            "\"16MiB\"",
        ),
        (
            "logs { files 0; }",
            "devctl::manifest::out-of-range",
            "0",
            "`files 1` keeps only it",
        ),
        (
            "logs { files -2; }",
            "devctl::manifest::out-of-range",
            "-2",
            "`files 1` keeps only it",
        ),
        (
            "logs { files 5000; }",
            "devctl::manifest::out-of-range",
            "5000",
            "from 1 to 1000",
        ),
        (
            "logs { files \"5\"; }",
            "devctl::manifest::wrong-type",
            "\"5\"",
            "drop the quotes",
        ),
        (
            "logs { max-age \"-1d\"; }",
            "devctl::manifest::bad-duration",
            "\"-1d\"",
            "\"10s\"",
        ),
        (
            "logs { max-age \"a while\"; }",
            "devctl::manifest::bad-duration",
            "\"a while\"",
            "\"10s\"",
        ),
        (
            "logs { max-age \"0s\"; }",
            "devctl::manifest::bad-duration",
            "\"0s\"",
            "\"10s\"",
        ),
        (
            "logs { max-age 7; }",
            "devctl::manifest::bad-duration",
            "7",
            "\"7s\"",
        ),
        (
            "logs { keep 5; }",
            "devctl::manifest::unknown-node",
            "keep",
            "`logs` spells this `files`",
        ),
        (
            "logs { max-sise \"1MiB\"; }",
            "devctl::manifest::unknown-node",
            "max-sise",
            "did you mean `max-size`?",
        ),
        (
            "logs { compress #true; }",
            "devctl::manifest::unknown-node",
            "compress",
            "max-size, files and max-age",
        ),
        (
            "logs { files 2; files 3; }",
            "devctl::manifest::duplicate-child",
            "files",
            "keep one",
        ),
        (
            "logs { files 2 3; }",
            "devctl::manifest::extra-argument",
            "3",
            "devctl.kdl(5)",
        ),
        (
            "logs { }",
            "devctl::manifest::missing-argument",
            "logs",
            "max-size \"16MiB\"",
        ),
        (
            "logs",
            "devctl::manifest::missing-argument",
            "logs",
            "max-size \"16MiB\"",
        ),
        (
            "logs max-size=\"16MiB\"",
            "devctl::manifest::extra-argument",
            "max-size=\"16MiB\"",
            "logs { max-size",
        ),
        (
            "logs \"big\"",
            "devctl::manifest::extra-argument",
            "\"big\"",
            "logs { max-size",
        ),
        (
            "log { files 2; }",
            "devctl::manifest::unknown-node",
            "log",
            "spells this `logs`",
        ),
    ];
    for (block, code, span, help) in cases {
        let text = format!("service \"a\" {{\n    run \"x\"\n    {block}\n}}\n");
        let e = err(&text);
        assert_eq!(codes(&e), [*code], "{block}: {:?}", e.errors);
        assert_eq!(first_span(&text, &e).trim(), *span, "{block}");
        let got = e.errors[0].help_text().unwrap_or_default();
        assert!(got.contains(help), "{block}: help {got:?}");
    }
    // Not for groups: they keep no log.
    let e = err("group \"g\" { units \"a\"; logs { files 2; } }\nservice \"a\" { run \"x\"; }");
    assert_eq!(codes(&e), ["devctl::manifest::not-allowed"]);
}
