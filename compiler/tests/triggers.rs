//! The settings that run a build on its own: `schedule`, `every`,
//! `on-commit`, `always-run`. What they compile to (and back from the unit
//! file), and every way to get them wrong, with the span pointed at.

use std::path::Path;
use std::time::Duration;

use devctl_compiler::{CompileError, compile_str};
use devctl_units::{Schedule, Unit};

fn compile_at(root: &Path, text: &str) -> Result<Vec<Unit>, CompileError> {
    let text = format!("project \"p\"\n{text}");
    compile_str(&text, &root.join("devctl.kdl")).map(|c| c.units)
}

fn err_at(root: &Path, text: &str) -> CompileError {
    compile_at(root, text).expect_err(text)
}

fn err(text: &str) -> CompileError {
    err_at(Path::new("/srv/proj"), text)
}

fn codes(e: &CompileError) -> Vec<&'static str> {
    e.errors.iter().map(|p| p.code_str()).collect()
}

fn first_span(text: &str, e: &CompileError) -> String {
    let text = format!("project \"p\"\n{text}");
    let s = e.errors[0].span().unwrap();
    text[s.offset()..s.offset() + s.len()].to_owned()
}

fn unit<'a>(units: &'a [Unit], name: &str) -> &'a Unit {
    units.iter().find(|u| u.name.as_str() == name).unwrap()
}

fn round_trip(u: &Unit) -> Unit {
    let text = devctl_units::to_unit_file(u);
    devctl_units::from_unit_file(&u.file_name(), &text).unwrap()
}

#[test]
fn schedule_every_and_always_run_compile_and_round_trip() {
    let text = r#"
        build "nightly" { run "make" "dist"; schedule "30 2 * * MON-FRI"; }
        build "poll" { sh "./poll"; every "10m"; always-run; }
        build "plain" { run "true"; always-run #false; }
    "#;
    let units = compile_at(Path::new("/srv/proj"), text).unwrap();
    let nightly = unit(&units, "nightly");
    assert_eq!(
        nightly.schedule,
        Some(Schedule::Cron("30 2 * * MON-FRI".into()))
    );
    let poll = unit(&units, "poll");
    assert_eq!(
        poll.schedule,
        Some(Schedule::Every(Duration::from_secs(600)))
    );
    assert!(poll.always_run);
    assert!(!unit(&units, "plain").always_run);
    let file = devctl_units::to_unit_file(nightly);
    assert!(
        file.contains("X-Devctl-Schedule=30 2 * * MON-FRI\n"),
        "{file}"
    );
    assert!(devctl_units::to_unit_file(poll).contains("X-Devctl-Every=10min\n"));
    for u in &units {
        assert_eq!(&round_trip(u), u);
    }
}

#[test]
fn on_commit_compiles_inside_a_repository_and_in_a_worktree() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let sub = repo.path().join("app");
    std::fs::create_dir(&sub).unwrap();
    let text = r#"build "test" { run "make" "test"; on-commit; }"#;
    let units = compile_at(&sub, text).unwrap();
    let t = unit(&units, "test");
    assert!(t.on_commit);
    assert_eq!(&round_trip(t), t);
    // A worktree has a `.git` file naming its git directory.
    let wt = tempfile::tempdir().unwrap();
    std::fs::write(
        wt.path().join(".git"),
        "gitdir: /elsewhere/.git/worktrees/wt\n",
    )
    .unwrap();
    assert!(unit(&compile_at(wt.path(), text).unwrap(), "test").on_commit);
}

#[test]
fn on_commit_outside_a_repository_is_an_error_at_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let text = "build \"test\" {\n    run \"make\"\n    on-commit\n}\n";
    let e = err_at(dir.path(), text);
    assert_eq!(codes(&e), ["devctl::manifest::not-a-repository"]);
    assert_eq!(first_span(text, &e), "on-commit");
    assert!(e.errors[0].message().contains("not in a git repository"));
    assert!(e.errors[0].help_text().unwrap().contains("git init"));
    // Turned off, it needs no repository.
    let off = "build \"test\" { run \"make\"; on-commit #false; }";
    assert!(!unit(&compile_at(dir.path(), off).unwrap(), "test").on_commit);
}

#[test]
fn bad_cron_pattern_points_at_the_pattern() {
    let text = r#"build "b" { run "x"; schedule "61 * * * *"; }"#;
    let e = err(text);
    assert_eq!(codes(&e), ["devctl::manifest::bad-schedule"]);
    assert_eq!(first_span(text, &e), "\"61 * * * *\"");
    assert!(
        e.errors[0].message().contains("not a cron pattern"),
        "{}",
        e.errors[0].message()
    );
    assert!(e.errors[0].help_text().unwrap().contains("minute hour"));
    for bad in ["* * *", "0 0 31 2 *", "*/5 * * * * *"] {
        let text = format!("build \"b\" {{ run \"x\"; schedule \"{bad}\"; }}");
        let e = err(&text);
        assert_eq!(codes(&e), ["devctl::manifest::bad-schedule"], "{bad}");
    }
}

#[test]
fn bad_interval_is_an_error_with_its_span() {
    let text = r#"build "b" { run "x"; every "ten minutes"; }"#;
    let e = err(text);
    assert_eq!(codes(&e), ["devctl::manifest::bad-duration"]);
    assert_eq!(first_span(text, &e), "\"ten minutes\"");
    let text = r#"build "b" { run "x"; every "500ms"; }"#;
    let e = err(text);
    assert_eq!(codes(&e), ["devctl::manifest::bad-schedule"]);
    assert_eq!(first_span(text, &e), "\"500ms\"");
    assert!(e.errors[0].help_text().unwrap().contains("at least"));
}

#[test]
fn two_schedules_or_a_schedule_on_a_service_are_refused() {
    let text = r#"build "b" { run "x"; schedule "* * * * *"; every "1m"; }"#;
    let e = err(text);
    assert_eq!(codes(&e), ["devctl::manifest::duplicate-schedule"]);
    assert_eq!(first_span(text, &e), "every");
    // A schedule on a service is refused, and the help says why and
    // where the periodic work goes.
    for setting in [r#"every "1m""#, r#"schedule "0 * * * *""#] {
        let text = format!(r#"service "s" {{ run "x"; {setting}; }}"#);
        let e = err(&text);
        assert_eq!(codes(&e), ["devctl::manifest::not-allowed"]);
        assert!(
            e.errors[0].message().contains("not allowed in a service"),
            "{}",
            e.errors[0].message()
        );
        let help = e.errors[0].help_text().unwrap_or_default();
        assert!(
            help.contains("a service stays up") && help.contains("`build`"),
            "{help}"
        );
    }
    let e = err(r#"build "b" { run "x"; always-run "yes"; }"#);
    assert_eq!(codes(&e), ["devctl::manifest::wrong-type"]);
}

#[test]
fn systemd_export_warns_about_schedules_and_commits() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let text = "project \"p\"\nbuild \"b\" { run \"x\"; every \"5m\"; on-commit; }\n";
    let c = compile_str(text, &repo.path().join("devctl.kdl")).unwrap();
    let out = devctl_compiler::emit_systemd(&c, Path::new("/usr/bin/devctl"));
    let warnings: Vec<String> = out.warnings.iter().map(|w| w.message.clone()).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`every \"5min\"` is not expressed") && w.contains(".timer")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`on-commit` is not expressed")),
        "{warnings:?}"
    );
}
