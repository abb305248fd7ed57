//! A unit's lifecycle as its log and its state tell it, through the real
//! binaries: a build that succeeded stays finished across `devctl daemon
//! reexec` (it is not run again, like a oneshot across systemd's
//! daemon-reexec), and the markers of an exit (`-- exited 0 --`,
//! `-- build succeeded --`) come after every line the run wrote before it.

use devctl_tests::{CEILING, TestEnv, status, wait_until};

/// The lines of `unit`'s log (markers as `-- text --`).
fn log_lines(env: &TestEnv, unit: &str) -> Vec<String> {
    env.devctl(&["logs", unit, "-n", "100000"])
        .stdout
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn reexec_keeps_a_succeeded_build_finished() {
    let mut env = TestEnv::new();
    env.write_manifest(
        r#"project "rb"
build "gen" {
    sh "echo built-$$"
}
service "api" {
    sh "exec sleep 1000"
    requires "gen"
}
"#,
    );
    let daemon = env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    let built = |env: &TestEnv| {
        log_lines(env, "gen")
            .iter()
            .filter(|l| l.contains("built-"))
            .count()
    };
    assert_eq!(built(&env), 1);
    let api_pid = status(&env, "api")["main_pid"].as_u64().expect("api runs");
    for round in 1..=2 {
        env.devctl(&["daemon", "reexec"]).expect_code(0);
        assert!(env.daemon_exit(daemon).is_none(), "devctld exited");
        // The service was adopted: the new image has taken every unit over.
        wait_until("api to be adopted", CEILING, || {
            let s = status(&env, "api");
            (s["origin"] == "adopted" && s["main_pid"].as_u64() == Some(api_pid)).then_some(())
        });
        let finished = status(&env, "gen");
        assert_eq!(
            (finished["active"].as_str(), finished["sub"].as_str()),
            (Some("active"), Some("exited")),
            "round {round}: {finished}"
        );
        assert_eq!(finished["result"], "success", "{finished}");
        let lines = log_lines(&env, "gen");
        assert_eq!(
            built(&env),
            1,
            "round {round}: the build ran again: {lines:#?}"
        );
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains("build succeeded"))
                .count(),
            1,
            "{lines:#?}"
        );
    }
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

/// Every run of the build writes a burst then exits; in the log, each
/// run's last line precedes its exit and success markers.
#[test]
fn exit_markers_follow_every_line_written_before_the_exit() {
    let mut env = TestEnv::new();
    env.write_manifest(
        r#"project "mo"
build "burst" {
    sh "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done; printf 'last-line'; echo ' of run' >&2; printf 'unterminated'"
}
"#,
    );
    env.start_daemon();
    const RUNS: usize = 25;
    for run in 1..=RUNS {
        env.devctl(&["restart", "burst"]).expect_code(0);
        let s = status(&env, "burst");
        assert_eq!(s["result"], "success", "run {run}: {s}");
    }
    let lines = log_lines(&env, "burst");
    let mut runs = 0;
    let mut wrote_last = false;
    let mut wrote_tail = false;
    let mut exited = false;
    for l in &lines {
        wrote_last |= l.contains("last-line");
        wrote_tail |= l.contains(" of run");
        if l.contains("-- exited 0 --") {
            assert!(
                wrote_last && wrote_tail,
                "the exit marker overtook the run's output:\n{}",
                lines.join("\n")
            );
            exited = true;
        } else if l.contains("-- build succeeded --") {
            assert!(exited, "success before the exit:\n{}", lines.join("\n"));
            (wrote_last, wrote_tail, exited) = (false, false, false);
            runs += 1;
        }
    }
    assert_eq!(runs, RUNS, "{}", lines.join("\n"));
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

/// A unit whose readiness never comes fails with result `timeout` once the
/// default start timeout passes (no `start-timeout` of its own), and the
/// waiting `start` of its dependent is answered: no start waits forever.
#[test]
fn the_default_start_timeout_fails_a_unit_that_is_never_ready() {
    let mut env = TestEnv::new();
    env.write_manifest(
        r#"project "st"
service "never" {
    sh "exec sleep 1000"
    ready { notify }
    restart "no"
}
service "app" {
    sh "exec sleep 1000"
    requires "never"
}
"#,
    );
    let mut cmd = env.daemon_command();
    cmd.env("DEVCTL_DEFAULT_START_TIMEOUT", "700ms");
    let pid = env.spawn_daemon_cmd(cmd);
    env.wait_daemon_ready(pid);
    let r = env.devctl(&["start", "app"]);
    r.expect_code(1);
    let never = status(&env, "never");
    assert_eq!(
        (never["active"].as_str(), never["result"].as_str()),
        (Some("failed"), Some("timeout")),
        "{never}"
    );
    let message = never["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("not ready after 700ms") && message.contains("default start timeout"),
        "{never}"
    );
    assert_eq!(status(&env, "app")["result"], "dependency");
    wait_until("the never-ready tree to be gone", CEILING, || {
        env.marked_children().is_empty().then_some(())
    });
}

#[test]
fn a_malformed_default_start_timeout_stops_the_daemon_with_a_clear_error() {
    for bad in ["soon", "0s"] {
        let mut env = TestEnv::new();
        let mut cmd = env.daemon_command();
        cmd.env("DEVCTL_DEFAULT_START_TIMEOUT", bad);
        let pid = env.spawn_daemon_cmd(cmd);
        let code = env.wait_daemon_exit(pid, CEILING);
        assert_eq!(code, Some(69), "{}", env.daemon_log());
        let log = env.daemon_log();
        assert!(
            log.contains(&format!(
                "DEVCTL_DEFAULT_START_TIMEOUT={bad} is not a usable duration"
            )) && log.contains("positive duration"),
            "{log}"
        );
    }
}

/// The last words of a run being stopped are logged before the stop
/// completes, so they can never count for the next run: here the first run
/// prints the readiness line again as it is stopped, the second never
/// does, and must not be taken for ready.
#[test]
fn a_stopped_runs_last_line_never_makes_the_next_run_ready() {
    let mut env = TestEnv::new();
    env.write_manifest(
        r#"project "lr"
service "web" {
    sh "if [ -e second ]; then exec sleep 1000; fi; touch second; trap 'echo serving now; exit 0' TERM; echo serving now; sleep 1000 & wait"
    ready { log "serving now" }
    start-timeout "1s"
    restart "no"
}
"#,
    );
    env.start_daemon();
    env.devctl(&["start", "web"]).expect_code(0);
    assert_eq!(status(&env, "web")["ready"], true);
    env.devctl(&["restart", "web"]).expect_code(1);
    let s = status(&env, "web");
    assert_eq!(
        (s["active"].as_str(), s["result"].as_str()),
        (Some("failed"), Some("probe-timeout")),
        "{s}"
    );
    let lines = log_lines(&env, "web");
    let matched = lines
        .iter()
        .filter(|l| l.contains("readiness line matched"))
        .count();
    assert_eq!(matched, 1, "only the first run was ready: {lines:#?}");
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}
