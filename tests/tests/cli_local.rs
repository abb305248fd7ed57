//! End-to-end tests of `devctl`'s local verbs (no daemon needed): check,
//! compile, cat, completions, man, usage errors, manifest discovery, `-C`,
//! `-f`, `--json` errors, broken pipes, and an unstartable daemon (69).
//!
//! The binary is located by the harness (`$DEVCTL_BIN`, else
//! `target/debug/devctl`). `DEVCTLD` points nowhere so no daemon starts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use devctl_tests::devctl_bin;

const VALID: &str = r#"project "pizzeria"

service "web" {
    run "sleep" "1000"
}

build "codegen" {
    run "true"
}
"#;

const INVALID: &str = r#"servce "web" {
    run "sleep" "1000"
}

service "api" {
    requires "nope"
}
"#;

/// A temporary DEVCTL_HOME and project directory.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("proj/sub/deeper")).unwrap();
        Env { dir }
    }
    fn proj(&self) -> PathBuf {
        self.dir.path().join("proj")
    }
    fn write(&self, text: &str) {
        std::fs::write(self.proj().join("devctl.kdl"), text).unwrap();
    }
    fn cmd(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(devctl_bin());
        c.args(args)
            .current_dir(cwd)
            .env("DEVCTL_HOME", self.dir.path().join("home"))
            .env("DEVCTLD", "/nonexistent/devctld")
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        c
    }
    fn run(&self, args: &[&str]) -> Output {
        self.cmd(&self.proj(), args).output().unwrap()
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited by a signal")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_valid_is_zero() {
    let env = Env::new();
    env.write(VALID);
    let o = env.run(&["check"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("pizzeria"), "{}", text(&o.stdout));
}

#[test]
fn check_invalid_is_65_with_every_error() {
    let env = Env::new();
    env.write(INVALID);
    let o = env.run(&["check"]);
    assert_eq!(code(&o), 65);
    let err = text(&o.stderr);
    assert!(err.contains("servce"), "{err}");
    assert!(err.contains("nope"), "{err}");
    assert!(!err.contains('\x1b'), "colour on a pipe: {err}");
}

#[test]
fn check_json_error_shape() {
    let env = Env::new();
    env.write(INVALID);
    let o = env.run(&["check", "--json"]);
    assert_eq!(code(&o), 65);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-manifest");
    assert!(v["error"]["message"].is_string());
    let diags = v["error"]["diagnostics"].as_array().unwrap();
    assert!(diags.len() >= 2, "{v}");
    assert_eq!(diags[0]["line"], 1);
    assert!(diags[0]["column"].is_number());
}

#[test]
fn compile_invalid_writes_nothing() {
    let env = Env::new();
    env.write(INVALID);
    let out = env.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let o = env.run(&["compile", "-o", out.to_str().unwrap()]);
    assert_eq!(code(&o), 65);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    let o = env.run(&[
        "compile",
        "--target",
        "systemd",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 65);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn compile_stdout_and_dir() {
    let env = Env::new();
    env.write(VALID);
    let o = env.run(&["compile"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let s = text(&o.stdout);
    assert!(s.contains("# web.service"), "{s}");
    assert!(s.contains("[Unit]") || s.contains("[Service]"), "{s}");
    let out = env.dir.path().join("out");
    let o = env.run(&["compile", "-o", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(out.join("web.service").is_file());
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "temp files left: {names:?}"
    );
}

#[test]
fn cat_one_unit_and_unknown() {
    let env = Env::new();
    env.write(VALID);
    let o = env.run(&["cat", "web"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("sleep"));
    let o = env.run(&["cat", "nope"]);
    assert_eq!(code(&o), 4);
    assert!(
        text(&o.stderr).starts_with("error: "),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn discovery_from_a_subdirectory_and_dash_c_and_dash_f() {
    let env = Env::new();
    env.write(VALID);
    let o = env
        .cmd(&env.proj().join("sub/deeper"), &["check"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let elsewhere = env.dir.path().join("home");
    let o = env
        .cmd(
            &elsewhere,
            &["-C", env.proj().join("sub").to_str().unwrap(), "check"],
        )
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    std::fs::write(env.dir.path().join("other.kdl"), INVALID).unwrap();
    let o = env.run(&["-f", "../other.kdl", "check"]);
    assert_eq!(code(&o), 65);
}

#[test]
fn no_manifest_is_4_with_help() {
    let env = Env::new();
    let o = env.run(&["check"]);
    assert_eq!(code(&o), 4);
    let err = text(&o.stderr);
    assert!(err.contains("no devctl.kdl"), "{err}");
    assert!(err.contains("help:"), "{err}");
    let o = env.run(&["-f", "missing.kdl", "check", "--json"]);
    assert_eq!(code(&o), 4);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "not-found");
}

#[test]
fn usage_errors_are_2() {
    let env = Env::new();
    for args in [
        &["frobnicate"][..],
        &["start"],
        &["wait", "web"],
        &["--timeout", "soon", "status"],
        &["-C", "/nonexistent/dir", "check"],
    ] {
        let o = env.run(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o.stderr));
        assert!(!o.stderr.is_empty(), "{args:?}");
    }
    let o = env.run(&["-p", "../evil", "status", "--json"]);
    assert_eq!(code(&o), 2);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "usage");
    let o = env.run(&["--help"]);
    assert_eq!(code(&o), 0);
}

#[test]
fn completions_for_every_shell() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = env.run(&["completions", shell]);
        assert_eq!(code(&o), 0, "{shell}");
        let s = text(&o.stdout);
        assert!(s.contains("is-active") && s.contains("devctl"), "{shell}");
    }
    assert_eq!(code(&env.run(&["completions", "tcsh"])), 2);
}

#[test]
fn man_page_matches_the_committed_file() {
    let env = Env::new();
    let o = env.run(&["man"]);
    assert_eq!(code(&o), 0);
    let committed =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../man/devctl.1")).unwrap();
    assert!(
        o.stdout == committed,
        "man/devctl.1 is out of date; regenerate it with `cargo run -p devctl-ctl -- man > man/devctl.1`"
    );
}

#[test]
fn broken_pipe_is_success() {
    let env = Env::new();
    for args in [&["man"][..], &["completions", "bash"]] {
        let mut child = env
            .cmd(&env.proj(), args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert_eq!(code(&o), 0, "{args:?}: {}", text(&o.stderr));
        assert!(o.stderr.is_empty(), "{args:?}: {}", text(&o.stderr));
    }
}

#[test]
fn unstartable_daemon_is_69() {
    let env = Env::new();
    env.write(VALID);
    let o = env.run(&["-p", "pizzeria", "status"]);
    assert_eq!(code(&o), 69, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("devctld"), "{}", text(&o.stderr));
    let o = env
        .cmd(&env.proj(), &["-p", "pizzeria", "status", "--json"])
        .env("DEVCTLD", "/bin/false")
        .output()
        .unwrap();
    assert_eq!(code(&o), 69);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "daemon-unreachable");
    assert!(env.dir.path().join("home/state/devctld.log").is_file());
}

#[test]
fn daemon_status_and_stop_without_a_daemon() {
    let env = Env::new();
    let o = env.run(&["daemon", "status"]);
    assert_eq!(code(&o), 3);
    assert!(text(&o.stdout).contains("not running"));
    let o = env.run(&["daemon", "stop"]);
    assert_eq!(code(&o), 0);
}

#[test]
fn probe_exit_codes() {
    let env = Env::new();
    let o = env.run(&["probe", "exec", "--deadline", "2s", "--", "true"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let args = [
        "probe",
        "exec",
        "--deadline",
        "100ms",
        "--period",
        "20ms",
        "--",
        "false",
    ];
    assert_eq!(code(&env.run(&args)), 1);
    let args = [
        "probe",
        "tcp",
        "127.0.0.1",
        "1",
        "--deadline",
        "100ms",
        "--period",
        "20ms",
    ];
    assert_eq!(code(&env.run(&args)), 1);
    let o = env.run(&["probe", "tcp", "not-an-address"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn compile_for_systemd() {
    let env = Env::new();
    env.write(VALID);
    let out = env.dir.path().join("sd");
    let o = env.run(&[
        "compile",
        "--target",
        "systemd",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(out.join("pizzeria-web.service").is_file());
    let o = env.run(&["cat", "--target", "systemd", "web"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("pizzeria-web.service"));
    let o = env.run(&["compile", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["web.service"].as_str().unwrap().contains("sleep"));
}

/// Run devctl under a pseudo-terminal (`script`), returning what it printed.
fn on_a_tty(env: &Env, args: &str, no_color: bool) -> String {
    let line = format!("{} {args}", devctl_bin().display());
    let mut script = Command::new("script");
    script
        .args(["-qec", &line, "/dev/null"])
        .current_dir(env.proj())
        .env("DEVCTL_HOME", env.dir.path().join("home"))
        .env("DEVCTLD", "/nonexistent/devctld")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    if no_color {
        script.env("NO_COLOR", "1");
    }
    text(&script.output().expect("script(1) runs").stdout)
}

#[test]
fn colour_only_on_a_tty_and_never_with_no_color() {
    let env = Env::new();
    env.write(INVALID);
    assert!(on_a_tty(&env, "check", false).contains('\x1b'));
    assert!(!on_a_tty(&env, "check", true).contains('\x1b'));
    let piped = env.run(&["check"]);
    assert!(!text(&piped.stderr).contains('\x1b'));
}

/// The argv the compiler writes into `ExecStartPost=`, run with this devctl.
fn compiled_probe(env: &Env, check: devctl_units::ProbeCheck) -> Output {
    let probe = devctl_units::Probe::readiness(check);
    let argv = devctl_compiler::probe_argv(&probe).expect("a probe devctl can run");
    assert_eq!(argv[..2], ["devctl", "probe"]);
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    let mut cmd = env.cmd(&env.proj(), &args);
    cmd.output().unwrap()
}

#[test]
fn probes_written_by_the_compiler_run() {
    let env = Env::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let tcp = devctl_units::ProbeCheck::Tcp {
        host: "127.0.0.1".into(),
        port,
    };
    assert_eq!(code(&compiled_probe(&env, tcp)), 0);
    let exec = devctl_units::ProbeCheck::Exec(vec!["sh".into(), "-c".into(), "exit 0".into()]);
    assert_eq!(code(&compiled_probe(&env, exec)), 0);
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut s in listener.incoming().flatten() {
            let mut b = [0u8; 1024];
            let _ = s.read(&mut b);
            let _ = s.write_all(b"HTTP/1.1 302 Found\r\nlocation: /x\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let http = devctl_units::ProbeCheck::Http {
        url: format!("http://127.0.0.1:{port}/healthz"),
        status: None,
    };
    assert_eq!(code(&compiled_probe(&env, http)), 0);
}

#[test]
fn no_devctld_anywhere_is_69_with_help() {
    let env = Env::new();
    let lonely = env.dir.path().join("bin");
    std::fs::create_dir(&lonely).unwrap();
    let exe = lonely.join("devctl");
    if std::fs::hard_link(devctl_bin(), &exe).is_err() {
        std::fs::copy(devctl_bin(), &exe).unwrap();
    }
    // A concurrent test's fork may briefly hold a freshly copied file open
    // for writing (ETXTBSY): retry the exec, bounded.
    let o = devctl_tests::wait_until("devctl to exec", devctl_tests::CEILING, || {
        let result = Command::new(&exe)
            .args(["-p", "pizzeria", "status"])
            .current_dir(env.proj())
            .env("DEVCTL_HOME", env.dir.path().join("home"))
            .env_remove("DEVCTLD")
            .env("PATH", env.dir.path().join("empty"))
            .output();
        match result {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => None,
            other => Some(other.unwrap()),
        }
    });
    assert_eq!(code(&o), 69, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("cannot find the devctld program"), "{err}");
    assert!(err.contains("help: "), "{err}");
}
