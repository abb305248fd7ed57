//! Reliability tests: the CLI driving a real daemon with real processes: whole-tree stop
//! (T01), escalation (T02, T03), crash loops (T10), exit classification and
//! start failures (T11, port-in-use, dependency, probe-timeout) and builds
//! through `devctl run` (T06). Every test ends with the orphan oracle.

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use devctl_test_support::net::free_port;
use devctl_tests::{CEILING, TestEnv, field, status, wait_until};

fn listening(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// A started daemon and a manifest.
fn setup(kdl: &str) -> TestEnv {
    let mut env = TestEnv::new();
    env.write_manifest(kdl);
    env.start_daemon();
    env
}

/// T01: stop takes the whole tree — background child, a setsid
/// double-forked grandchild holding a port, a TERM-ignoring child.
#[test]
fn stop_takes_the_whole_tree_including_a_setsid_escapee() {
    let port = free_port();
    let env = setup(&format!(
        r#"project "t01"
service "tree" {{
    sh "sleep 300 & setsid sh -c 'python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 &'; (trap '' TERM; exec sleep 301) & wait"
    stop timeout="2s"
}}
"#
    ));
    env.devctl(&["start", "tree"]).expect_code(0);
    wait_until("the escapee to listen", CEILING, || {
        listening(port).then_some(())
    });
    assert!(
        env.marked_children().len() >= 4,
        "the tree is up: {:?}",
        env.marked_children()
    );
    env.devctl(&["stop", "tree"]).expect_code(0);
    env.assert_no_orphans();
    TcpListener::bind(("127.0.0.1", port)).expect("the port is free right after stop");
    let s = status(&env, "tree");
    assert_eq!(field(&s, "active"), "inactive", "{s}");
}

/// T02: a TERM-ignoring service is killed at its stop timeout, and the
/// kill does not trigger a restart; a SIGSTOPped one too (SIGCONT is sent).
#[test]
fn term_ignoring_and_stopped_services_are_escalated() {
    let env = setup(
        r#"project "t02"
service "stubborn" {
    sh "trap '' TERM; while true; do sleep 1; done"
    stop timeout="2s"
    restart "always"
}
"#,
    );
    for frozen in [false, true] {
        env.devctl(&["start", "stubborn"]).expect_code(0);
        let pid = status(&env, "stubborn")["main_pid"]
            .as_u64()
            .expect("main pid") as i32;
        if frozen {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGSTOP,
            )
            .unwrap();
        }
        let t = Instant::now();
        env.devctl(&["stop", "stubborn"]).expect_code(0);
        let took = t.elapsed();
        assert!(
            took >= Duration::from_millis(1500),
            "waited for the stop timeout ({took:?}, frozen={frozen})"
        );
        assert!(
            took < Duration::from_secs(10),
            "escalated promptly ({took:?}, frozen={frozen})"
        );
        env.assert_no_orphans();
        let s = status(&env, "stubborn");
        assert_eq!(
            field(&s, "active"),
            "inactive",
            "a user stop never restarts: {s}"
        );
    }
}

/// T03: the leader exits on TERM at once, a child in its group ignores
/// TERM; stop returns only after the child is killed.
#[test]
fn stop_waits_for_the_whole_group_not_the_leader() {
    let env = setup(
        r#"project "t03"
service "leader" {
    sh "(trap '' TERM; exec sleep 3601) & trap 'exit 0' TERM; sleep 3600 & wait"
    stop timeout="1s"
}
"#,
    );
    env.devctl(&["start", "leader"]).expect_code(0);
    wait_until("the children to run", CEILING, || {
        (env.marked_children().len() >= 3).then_some(())
    });
    env.devctl(&["stop", "leader"]).expect_code(0);
    env.assert_no_orphans();
}

/// T10: a crash loop ends in `failed (start-limit-hit)`, status shows the
/// attempts against the limit, and no spawn happens after that.
#[test]
fn crash_loop_hits_the_start_limit() {
    let env = TestEnv::new();
    let count = env.project_dir.join("starts");
    let mut env = env;
    env.write_manifest(&format!(
        r#"project "t10"
service "crashy" {{
    sh "echo start >> '{}'; exit 1"
    restart "on-failure" backoff="100ms" max-delay="200ms" limit=3 within="1m"
}}
"#,
        count.display()
    ));
    env.start_daemon();
    env.devctl(&["start", "crashy", "--no-block"]);
    let s = wait_until("crashy to fail", CEILING, || {
        let s = status(&env, "crashy");
        (field(&s, "active") == "failed").then_some(s)
    });
    assert_eq!(field(&s, "result"), "start-limit-hit", "{s}");
    let restarts = s["restarts"].as_u64().unwrap();
    let limit = s["restart_limit"].as_u64().unwrap();
    assert_eq!(limit, 3, "{s}");
    assert!(restarts <= limit, "{s}");
    let human = env.devctl(&["status", "crashy"]);
    assert!(human.stdout.contains("start-limit-hit"), "{human:?}");
    assert!(
        human.stdout.contains(&format!("{restarts}/{limit}")),
        "attempts n/limit shown: {human:?}"
    );
    let starts = || std::fs::read_to_string(&count).unwrap().lines().count();
    let seen = starts();
    assert!(
        seen as u64 >= restarts,
        "every attempt ran ({seen} starts, {restarts} restarts)"
    );
    // Observation window: no further spawns once failed.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(starts(), seen, "no spawn after start-limit-hit");
    env.assert_no_orphans();
}

/// T11: start failures are classified and never retried.
#[test]
fn exec_failed_port_in_use_dependency_and_probe_timeout() {
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let held_port = held.local_addr().unwrap().port();
    let silent = free_port();
    let env = setup(&format!(
        r#"project "t11"
service "missing" {{
    run "/nonexistent/devctl-test-binary"
    restart "always"
}}
service "needs-missing" {{
    sh "exec sleep 300"
    requires "missing"
}}
service "portless" {{
    sh "exec sleep 300"
    port {held_port}
}}
service "never-ready" {{
    sh "exec sleep 300"
    ready {{ tcp {silent}; period "50ms" }}
    start-timeout "1s"
    restart "no"
}}
"#
    ));
    let r = env.devctl(&["start", "missing"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    let s = status(&env, "missing");
    assert_eq!(
        (field(&s, "active"), field(&s, "result")),
        ("failed".into(), "exec-failed".into()),
        "{s}"
    );
    assert!(
        field(&s, "message").contains("/nonexistent/devctl-test-binary"),
        "{s}"
    );
    assert_eq!(s["restarts"], 0, "exec-failed is permanent: {s}");

    let r = env.devctl(&["start", "needs-missing"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert_eq!(
        field(&status(&env, "needs-missing"), "result"),
        "dependency"
    );

    let r = env.devctl(&["start", "portless"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    let s = status(&env, "portless");
    assert_eq!(field(&s, "result"), "port-in-use", "{s}");
    assert!(field(&s, "message").contains(&held_port.to_string()), "{s}");

    let r = env.devctl(&["start", "never-ready"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert_eq!(
        field(&status(&env, "never-ready"), "result"),
        "probe-timeout"
    );
    wait_until("the unready tree to be killed", CEILING, || {
        env.marked_children().is_empty().then_some(())
    });
    env.assert_no_orphans();
    drop(held);
}

/// T06: `devctl run` streams a build and exits with its exit code; a build
/// over its timeout is killed with its whole tree.
#[test]
fn builds_exit_codes_and_timeouts() {
    let env = setup(
        r#"project "t06"
build "gen" {
    sh "echo generating; exit 3"
}
build "ok" {
    sh "echo fine"
}
build "slow" {
    sh "sleep 300 & sleep 301"
    timeout "1s"
}
"#,
    );
    let r = env.devctl(&["run", "gen"]);
    assert_eq!(r.code, Some(3), "{r:?}");
    assert!(r.stdout.contains("generating"), "{r:?}");
    let r = env.devctl(&["run", "ok"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let t = Instant::now();
    let r = env.devctl(&["run", "slow"]);
    assert_ne!(r.code, Some(0), "{r:?}");
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "the timeout fired ({:?})",
        t.elapsed()
    );
    assert_eq!(field(&status(&env, "slow"), "result"), "timeout");
    env.assert_no_orphans();
}

/// T07: SIGKILL the daemon while services run; the next daemon continues
/// the session with exactly one instance of each service and no orphan.
#[test]
fn daemon_sigkill_continues_the_session_without_duplicates() {
    let mut env = TestEnv::new();
    env.write_manifest(
        r#"project "t07"
service "a" {
    sh "exec sleep 300"
}
service "b" {
    sh "sleep 300 & exec sleep 301"
}
"#,
    );
    let first = env.start_daemon();
    env.devctl(&["start", "a", "b"]).expect_code(0);
    let before = env.marked_children();
    assert_eq!(before.len(), 3, "{before:?}");
    let session = env.request("GET", "/v1/version", None).unwrap().json()["session_id"].clone();
    env.signal_daemon(first, nix::sys::signal::Signal::SIGKILL);
    assert_eq!(
        env.wait_daemon_exit(first, CEILING),
        None,
        "killed by a signal"
    );
    env.start_daemon();
    let v = env.request("GET", "/v1/version", None).unwrap().json();
    assert_eq!(v["recovered"], true, "{v}");
    assert_eq!(v["session_id"], session, "the session continues");
    for unit in ["a", "b"] {
        let s = wait_until("the unit to be running again", CEILING, || {
            let s = status(&env, unit);
            (field(&s, "active") == "active").then_some(s)
        });
        assert!(
            matches!(field(&s, "origin").as_str(), "adopted" | "restarted"),
            "{s}"
        );
    }
    let after = env.marked_children();
    assert_eq!(
        after.len(),
        3,
        "one instance of each service, no duplicate: {after:?}"
    );
    env.devctl(&["stop", "a", "b"]).expect_code(0);
    env.assert_no_orphans();
}

/// T12: parallel restarts, stops and starts of one service: never two
/// instances at once, no command hangs, and the end state is consistent.
#[test]
fn concurrent_operations_never_run_two_instances() {
    let env = setup(
        r#"project "t12"
service "web" {
    sh "exec sleep 300"
    stop timeout="2s"
}
"#,
    );
    env.devctl(&["start", "web"]).expect_code(0);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        let marker = env.marker.clone();
        let daemon = devctl_tests::devctld_bin().canonicalize().ok();
        std::thread::spawn(move || {
            let mut worst = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let n = devctl_tests::marked_pids(&marker)
                    .into_iter()
                    .filter(|p| std::fs::read_link(format!("/proc/{p}/exe")).ok() != daemon)
                    .filter(|p| {
                        std::fs::read(format!("/proc/{p}/cmdline"))
                            .is_ok_and(|c| c.starts_with(b"sleep\x00300"))
                    })
                    .count();
                worst = worst.max(n);
                std::thread::sleep(Duration::from_millis(10));
            }
            worst
        })
    };
    let verbs: Vec<&str> = std::iter::repeat_n("restart", 20)
        .chain(std::iter::repeat_n("stop", 5))
        .chain(std::iter::repeat_n("start", 5))
        .collect();
    // Scoped threads: a failure joins every worker before `env` drops, so
    // the harness still cleans up.
    let runs: Vec<(Option<i32>, String)> = std::thread::scope(|scope| {
        let workers: Vec<_> = verbs
            .iter()
            .map(|verb| {
                scope.spawn(|| {
                    let r = env.devctl(&[verb, "web"]);
                    (r.code, r.stderr)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or((None, "worker panicked".into())))
            .collect()
    });
    let codes: Vec<Option<i32>> = runs.iter().map(|(c, _)| *c).collect();
    for (code, stderr) in &runs {
        assert!(
            matches!(code, Some(0 | 1)),
            "every invocation answers ({code:?}: {stderr}): {codes:?}"
        );
    }
    // The last command in devctld's order is never superseded: it
    // succeeds, and once everything answered the unit is where it left it.
    assert!(
        codes.contains(&Some(0)),
        "the last command succeeds: {codes:?}"
    );
    let s = status(&env, "web");
    let settled = (field(&s, "active"), field(&s, "sub"));
    assert!(
        settled == ("active".into(), "running".into())
            || settled == ("inactive".into(), "dead".into()),
        "settled as the last command left it, never wedged: {s}"
    );
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let worst = sampler.join().unwrap();
    assert!(worst <= 1, "{worst} instances of web ran at once");
    env.devctl(&["start", "web"]).expect_code(0);
    let s = status(&env, "web");
    assert_eq!(field(&s, "active"), "active", "{s}");
    env.devctl(&["stop", "web"]).expect_code(0);
    env.assert_no_orphans();
}
