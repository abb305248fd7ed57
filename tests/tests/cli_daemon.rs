//! End-to-end tests of `devctl` against the real `devctld`: autostart and
//! `daemon stop`, start/stop/restart/status/is-*/show against real
//! processes, enable vs start, `up NAMES`, `run BUILD` exit codes, `wait`
//! timeouts, invalid manifests changing nothing, `--json` errors, and a
//! broken pipe on `status`.

use std::process::{Command, Stdio};

use devctl_tests::{CEILING, TestEnv, devctl_bin, devctld_bin, wait_until};

const MANIFEST: &str = r#"project "clitest"

service "web" {
    run "sleep" "1000"
}

service "worker" {
    run "sleep" "1000"
    enabled #false
}

build "gen" {
    run "sh" "-c" "echo generating; echo oops >&2; exit 3"
}

service "never-ready" {
    run "sleep" "1000"
    ready { exec "false"; period "50ms" }
    enabled #false
}

build "ok" {
    run "sh" "-c" "echo fine"
}
"#;

fn env_with_daemon() -> TestEnv {
    let mut env = TestEnv::new();
    env.write_manifest(MANIFEST);
    env.start_daemon();
    env
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn autostart_once_then_daemon_stop() {
    let env = TestEnv::new();
    env.write_manifest(MANIFEST);
    let mut cmd = Command::new(devctl_bin());
    env.apply_env(&mut cmd)
        .env("DEVCTLD", devctld_bin())
        .current_dir(&env.project_dir)
        .arg("status");
    let first = devctl_tests::run_with_ceiling(cmd, CEILING);
    first.expect_code(0);
    assert!(
        first.stderr.contains("devctl: started devctld (pid "),
        "{}",
        first.stderr
    );
    assert!(first.stdout.contains("web"), "{}", first.stdout);
    let second = env.devctl(&["status"]);
    second.expect_code(0);
    assert!(
        !second.stderr.contains("started devctld"),
        "{}",
        second.stderr
    );
    let info = json(
        &env.devctl(&["daemon", "status", "--json"])
            .expect_code(0)
            .stdout,
    );
    assert!(info["pid"].as_u64().unwrap() > 0);
    env.devctl(&["start", "web"]).expect_code(0);
    env.devctl(&["daemon", "stop"]).expect_code(0);
    env.devctl(&["daemon", "status"]).expect_code(3);
    assert!(!env.socket().exists());
    env.assert_no_orphans();
}

#[test]
fn start_stop_status_is_active() {
    let env = env_with_daemon();
    env.devctl(&["start", "web"]).expect_code(0);
    assert_eq!(
        env.devctl(&["is-active", "web"]).expect_code(0).stdout,
        "active\n"
    );
    env.devctl(&["start", "web"]).expect_code(0);
    let table = env.devctl(&["status"]).expect_code(0).stdout.clone();
    assert!(table.starts_with("UNIT"), "{table}");
    assert!(!table.contains('\x1b'), "{table}");
    let units = json(&env.devctl(&["status", "--json"]).expect_code(0).stdout);
    let web = units
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "web")
        .unwrap();
    assert_eq!(web["active"], "active");
    let pid = web["main_pid"].as_u64().unwrap();
    let detail = env.devctl(&["status", "web"]).expect_code(0).stdout.clone();
    assert!(detail.contains(&format!("Main PID: {pid}")), "{detail}");
    let show = env
        .devctl(&["show", "web", "-P", "ActiveState"])
        .expect_code(0)
        .stdout
        .clone();
    assert_eq!(show, "active\n");
    env.devctl(&["stop", "web"]).expect_code(0);
    env.devctl(&["stop", "web"]).expect_code(0);
    assert_eq!(
        env.devctl(&["is-active", "web"]).expect_code(3).stdout,
        "inactive\n"
    );
    env.devctl(&["is-failed", "web"]).expect_code(3);
    env.assert_no_orphans();
}

#[test]
fn unknown_units_are_4() {
    let env = env_with_daemon();
    assert_eq!(
        env.devctl(&["is-active", "nope"]).expect_code(4).stdout,
        "unknown\n"
    );
    let r = env.devctl(&["status", "nope", "--json"]);
    r.expect_code(4);
    assert_eq!(json(&r.stdout)["error"]["kind"], "not-found");
    let r = env.devctl(&["start", "nope"]);
    r.expect_code(4);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    env.devctl(&["-p", "no-such-project", "status", "x"])
        .expect_code(4);
}

#[test]
fn enable_is_not_start() {
    let env = env_with_daemon();
    env.devctl(&["is-enabled", "worker"]).expect_code(3);
    env.devctl(&["enable", "worker"]).expect_code(0);
    env.devctl(&["is-enabled", "worker"]).expect_code(0);
    env.devctl(&["is-active", "worker"]).expect_code(3);
    env.devctl(&["disable", "--now", "web"]).expect_code(0);
    env.devctl(&["enable", "--now", "web"]).expect_code(0);
    env.devctl(&["is-active", "web"]).expect_code(0);
    env.devctl(&["disable", "--now", "web"]).expect_code(0);
    env.devctl(&["is-active", "web"]).expect_code(3);
    env.devctl(&["is-enabled", "web"]).expect_code(3);
    env.assert_no_orphans();
}

#[test]
fn up_names_stops_the_others_and_down_stops_all() {
    let env = env_with_daemon();
    env.devctl(&["start", "web", "worker"]).expect_code(0);
    let up = env.devctl(&["up", "web"]);
    up.expect_code(0);
    assert!(up.stdout.contains("stopped: worker"), "{}", up.stdout);
    env.devctl(&["is-active", "worker"]).expect_code(3);
    env.devctl(&["is-active", "web"]).expect_code(0);
    env.devctl(&["down"]).expect_code(0);
    env.devctl(&["is-active", "web"]).expect_code(3);
    env.assert_no_orphans();
}

#[test]
fn run_exits_with_the_build_code() {
    let env = env_with_daemon();
    let r = env.devctl(&["run", "gen"]);
    r.expect_code(3);
    assert!(r.stdout.contains("generating"), "{}", r.stdout);
    assert!(r.stdout.contains("oops"), "{}", r.stdout);
    let r = env.devctl(&["run", "ok"]);
    r.expect_code(0);
    assert!(r.stdout.contains("fine"), "{}", r.stdout);
    let r = env.devctl(&["run", "web"]);
    r.expect_code(2);
    assert!(r.stderr.contains("not a build"), "{}", r.stderr);
    env.devctl(&["run", "nope"]).expect_code(4);
    let logs = env
        .devctl(&["logs", "gen", "ok"])
        .expect_code(0)
        .stdout
        .clone();
    let gen_at = logs.find("generating").unwrap();
    let ok_at = logs.find("fine").unwrap();
    assert!(gen_at < ok_at, "not merged by time: {logs}");
}

/// A job with a failing unit: without `--json` the CLI asks for the failed
/// outcomes only and reports the failure; with `--json` every unit's
/// outcome is listed.
#[test]
fn a_failed_job_reports_the_failure_and_json_lists_every_outcome() {
    let env = env_with_daemon();
    let r = env.devctl(&["start", "gen", "ok"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("devctl: clitest/gen: failed"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("clitest/ok"), "{}", r.stderr);
    let r = env.devctl(&["start", "gen", "ok", "--json"]);
    r.expect_code(1);
    // The job's answer, then the error as JSON.
    let v: serde_json::Value = serde_json::Deserializer::from_str(&r.stdout)
        .into_iter()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("not JSON: {}", r.stdout));
    let outcomes: Vec<(String, bool)> = v[0]["job"]["outcomes"]
        .as_array()
        .unwrap_or_else(|| panic!("no outcomes: {}", r.stdout))
        .iter()
        .map(|o| (o["unit"].as_str().unwrap().to_owned(), o["ok"] == true))
        .collect();
    assert_eq!(
        outcomes,
        vec![("gen".to_owned(), false), ("ok".to_owned(), true)],
        "{}",
        r.stdout
    );
}

#[test]
fn wait_times_out_with_124() {
    let env = env_with_daemon();
    let r = env.devctl(&["wait", "web", "--for", "active", "--timeout", "300ms"]);
    r.expect_code(124);
    assert!(r.stderr.contains("clitest/web"), "{}", r.stderr);
    env.devctl(&["wait", "web", "--for", "inactive", "--timeout", "5s"])
        .expect_code(0);
}

#[test]
fn invalid_manifest_changes_nothing() {
    let env = env_with_daemon();
    env.devctl(&["start", "web"]).expect_code(0);
    env.write_manifest("service \"web\" {\n    run \"sleep\" \"1\"\n    bogus 1\n}\n");
    let r = env.devctl(&["reload"]);
    r.expect_code(65);
    assert!(r.stderr.contains("bogus"), "{}", r.stderr);
    env.devctl(&["stop", "web"]).expect_code(65);
    env.devctl(&["is-active", "web"]).expect_code(0);
    env.write_manifest(MANIFEST);
    let r = env.devctl(&["reload"]);
    r.expect_code(0);
    assert!(r.stdout.contains("unchanged"), "{}", r.stdout);
    env.devctl(&["stop", "web"]).expect_code(0);
}

#[test]
fn status_into_a_closed_pipe_is_success() {
    let env = env_with_daemon();
    let mut cmd = Command::new(devctl_bin());
    env.apply_env(&mut cmd)
        .current_dir(&env.project_dir)
        .args(["status"]);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn events_follow_shows_state_changes() {
    let env = env_with_daemon();
    env.devctl(&["status"]).expect_code(0);
    let mut cmd = Command::new(devctl_bin());
    env.apply_env(&mut cmd)
        .current_dir(&env.project_dir)
        .args(["events", "--json"]);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    // The subscription is open once devctl has connected; start until seen.
    let seen = wait_until("an event for web", CEILING, || {
        env.devctl(&["restart", "web"]).expect_code(0);
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).ok()?;
        let v = json(&line);
        (v["unit"] == "web").then_some(v)
    });
    assert!(seen["type"].is_string());
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn forget_drops_the_project() {
    let env = env_with_daemon();
    env.devctl(&["start", "web"]).expect_code(0);
    env.devctl(&["forget", "clitest"]).expect_code(0);
    // Outside the project directory nothing can load it again.
    let elsewhere = env.home.path().to_path_buf();
    env.devctl_in(&elsewhere, &["-p", "clitest", "is-active", "web"])
        .expect_code(4);
    // Inside it, a read-only verb loads the unknown project again.
    env.devctl(&["is-active", "web"]).expect_code(3);
    env.devctl(&["forget", "no-such"]).expect_code(4);
    env.assert_no_orphans();
}

/// `-p PROJECT` on a read-only verb: a project the daemon knows is queried
/// as is, even from a directory whose manifest declares another project or
/// does not compile; one it does not know is loaded from this directory's
/// manifest when that manifest declares it.
#[test]
fn a_read_only_verb_addressed_by_name_loads_only_an_unknown_project() {
    let env = env_with_daemon();
    env.devctl(&["start", "web"]).expect_code(0);
    let other = env.home.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("devctl.kdl"), "project \"other\"\nservice {\n").unwrap();
    let r = env.devctl_in(&other, &["-p", "clitest", "is-active", "web"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "active\n");
    env.devctl(&["forget", "clitest"]).expect_code(0);
    env.devctl_in(&other, &["-p", "clitest", "is-active", "web"])
        .expect_code(4);
    env.devctl(&["-p", "clitest", "is-active", "web"])
        .expect_code(3);
    let projects = env.request("GET", "/v1/projects", None).unwrap().json();
    assert_eq!(projects[0]["name"], "clitest", "{projects}");
    env.assert_no_orphans();
}

#[test]
fn logs_follow_prints_new_lines() {
    let env = env_with_daemon();
    env.devctl(&["run", "ok"]).expect_code(0);
    let mut cmd = Command::new(devctl_bin());
    env.apply_env(&mut cmd)
        .current_dir(&env.project_dir)
        .args(["logs", "-f", "-n", "0", "ok"]);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let line = wait_until("a followed log line", CEILING, || {
        env.devctl(&["run", "ok"]).expect_code(0);
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).ok()?;
        line.contains(" ok | ").then_some(line)
    });
    assert!(!line.contains('\x1b'), "{line}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn daemon_run_in_the_foreground() {
    let env = TestEnv::new();
    let mut cmd = Command::new(devctl_bin());
    env.apply_env(&mut cmd)
        .env("DEVCTLD", devctld_bin())
        .args(["daemon", "run"]);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("devctld to answer", CEILING, || {
        env.request("GET", "/v1/version", None)
            .ok()
            .filter(|r| r.status == 200)
    });
    env.devctl(&["daemon", "stop"]).expect_code(0);
    let status = wait_until("devctl daemon run to exit", CEILING, || {
        child.try_wait().ok().flatten()
    });
    assert_eq!(status.code(), Some(0));
}

#[test]
fn enable_boot_marks_the_project() {
    let env = env_with_daemon();
    let r = env.devctl(&["enable", "--boot"]);
    r.expect_code(0);
    assert!(
        r.stdout.contains("clitest: comes up when devctld starts"),
        "{}",
        r.stdout
    );
    let r = env.devctl(&["disable", "--boot", "--json"]);
    r.expect_code(0);
    assert_eq!(json(&r.stdout)[0]["result"]["boot"], false);
    env.devctl(&["enable"]).expect_code(2);
}

#[test]
fn trigger_reruns_a_build_and_quiet_is_quiet() {
    let env = env_with_daemon();
    let r = env.devctl(&["trigger", "ok", "-q"]);
    r.expect_code(0);
    assert!(r.stdout.is_empty() && r.stderr.is_empty(), "{r:?}");
    wait_until("the triggered build's output", CEILING, || {
        let logs = env.devctl(&["logs", "ok"]);
        logs.stdout.contains("fine").then_some(())
    });
    let r = env.devctl(&["-q", "reload"]);
    r.expect_code(0);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let r = env.devctl(&["is-active", "web", "-q"]);
    r.expect_code(3);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn start_timeout_is_124_and_the_unit_keeps_going() {
    let env = env_with_daemon();
    let r = env.devctl(&["start", "never-ready", "--timeout", "300ms"]);
    r.expect_code(124);
    assert!(r.stderr.contains("clitest/never-ready"), "{}", r.stderr);
    assert_eq!(
        env.devctl(&["is-active", "never-ready"])
            .expect_code(0)
            .stdout,
        "activating\n"
    );
    env.devctl(&["stop", "never-ready"]).expect_code(0);
    env.assert_no_orphans();
}

#[test]
fn every_read_command_speaks_json() {
    let env = env_with_daemon();
    env.devctl(&["run", "ok"]).expect_code(0);
    let list = json(
        &env.devctl(&["list", "--all", "--json"])
            .expect_code(0)
            .stdout,
    );
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|u| u["project"] == "clitest" && u["name"] == "web")
    );
    let show = json(&env.devctl(&["show", "web", "--json"]).expect_code(0).stdout);
    assert_eq!(show[0]["name"], "web");
    let is = json(
        &env.devctl(&["is-active", "web", "--json"])
            .expect_code(3)
            .stdout,
    );
    assert_eq!(is[0]["state"], "inactive");
    let logs = env
        .devctl(&["logs", "ok", "--json"])
        .expect_code(0)
        .stdout
        .clone();
    let records: Vec<serde_json::Value> = logs.lines().map(json).collect();
    assert!(
        records
            .iter()
            .any(|r| r["text"] == "fine" && r["stream"] == "stdout"),
        "{logs}"
    );
    let cat = json(&env.devctl(&["cat", "web", "--json"]).expect_code(0).stdout);
    assert_eq!(cat["file"], "web.service");
}

/// A verb that loads reuses the last compile of the very same manifest
/// bytes (kept in the runtime directory); any edit is compiled afresh, and
/// going back to the old bytes gives back the old units.
#[test]
fn a_kept_compile_is_used_for_the_same_bytes_only() {
    let env = env_with_daemon();
    env.devctl(&["start", "web"]).expect_code(0);
    let kept = env.runtime_dir().join("compiled");
    let entries = || {
        std::fs::read_dir(&kept)
            .map(|d| d.filter_map(Result::ok).count())
            .unwrap_or(0)
    };
    assert_eq!(entries(), 1, "nothing kept in {}", kept.display());
    let with_extra = format!(
        "{MANIFEST}\nservice \"extra\" {{\n    run \"sleep\" \"1000\"\n    enabled #false\n}}\n"
    );
    env.write_manifest(&with_extra);
    env.devctl(&["start", "extra"]).expect_code(0);
    env.devctl(&["is-active", "extra"]).expect_code(0);
    // Back to the first bytes: `extra` is no longer defined.
    env.write_manifest(MANIFEST);
    env.devctl(&["start", "extra"]).expect_code(4);
    env.devctl(&["is-active", "web"]).expect_code(0);
    assert_eq!(entries(), 1, "one entry per manifest");
    env.devctl(&["down"]).expect_code(0);
}
