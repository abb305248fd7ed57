//! devctld as a real process, driven over its socket: lifecycle (lock,
//! stale/live socket, clean stop by signal and by API), permissions and
//! hostile clients (reliability.md T09, T27, T30, T31, T32).

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use devctl_tests::{CEILING, TestEnv, run_with_ceiling, wait_until};
use nix::sys::signal::Signal;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn version_reports_the_daemon() {
    let mut env = TestEnv::new();
    let pid = env.start_daemon();
    let v = env.request("GET", "/v1/version", None).unwrap().json();
    assert_eq!(v["pid"], pid);
    assert_eq!(v["api"], 1);
    assert_eq!(v["hosting"], "standalone");
    assert_eq!(v["recovered"], false);
    assert!(v["session_id"].as_str().is_some_and(|s| !s.is_empty()));
}

#[test]
fn devctld_arguments() {
    let mut cmd = std::process::Command::new(devctl_tests::devctld_bin());
    cmd.arg("--version");
    let r = run_with_ceiling(cmd, CEILING);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains(env!("CARGO_PKG_VERSION")), "{}", r.stdout);
    let mut cmd = std::process::Command::new(devctl_tests::devctld_bin());
    cmd.arg("--bogus");
    assert_eq!(run_with_ceiling(cmd, CEILING).code, Some(2));
}

/// T30: runtime directory 0700, socket 0600.
#[test]
fn socket_0600_in_a_0700_directory() {
    let mut env = TestEnv::new();
    env.start_daemon();
    assert_eq!(mode(&env.runtime_dir()), 0o700);
    assert_eq!(mode(&env.state_dir()), 0o700);
    assert_eq!(mode(&env.socket()), 0o600);
    assert_eq!(mode(&env.runtime_dir().join("devctld.lock")), 0o600);
}

/// T09 (a): a socket file left by a dead daemon is reclaimed.
#[test]
fn stale_socket_is_reclaimed() {
    let mut env = TestEnv::new();
    std::fs::create_dir_all(env.runtime_dir()).unwrap();
    std::fs::set_permissions(env.runtime_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    drop(std::os::unix::net::UnixListener::bind(env.socket()).unwrap());
    assert!(
        UnixStream::connect(env.socket()).is_err(),
        "the leftover is stale"
    );
    env.start_daemon();
    assert_eq!(env.request("GET", "/v1/version", None).unwrap().status, 200);
}

/// T09 (b): a second daemon exits non-zero, names the first, and leaves
/// the live socket alone.
#[test]
fn second_instance_is_refused_and_the_socket_keeps_working() {
    let mut env = TestEnv::new();
    let first = env.start_daemon();
    let ino = std::fs::metadata(env.socket()).unwrap().ino();
    let second = env.spawn_daemon();
    assert_eq!(env.wait_daemon_exit(second, CEILING), Some(69));
    assert!(
        env.daemon_log()
            .contains(&format!("devctld is already running (pid {first})")),
        "{}",
        env.daemon_log()
    );
    assert_eq!(
        std::fs::metadata(env.socket()).unwrap().ino(),
        ino,
        "the live socket was not replaced"
    );
    let v = env.request("GET", "/v1/version", None).unwrap().json();
    assert_eq!(v["pid"], first);
}

/// T09 (c): two daemons started together over a stale socket: one wins.
#[test]
fn simultaneous_starts_have_one_winner() {
    let mut env = TestEnv::new();
    std::fs::create_dir_all(env.runtime_dir()).unwrap();
    std::fs::set_permissions(env.runtime_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    drop(std::os::unix::net::UnixListener::bind(env.socket()).unwrap());
    let a = env.spawn_daemon();
    let b = env.spawn_daemon();
    let loser = wait_until("one of the two daemons to give up", CEILING, || {
        [a, b]
            .into_iter()
            .find_map(|p| env.daemon_exit(p).map(|code| (p, code)))
    });
    assert_eq!(loser.1, Some(69), "{}", env.daemon_log());
    let winner = if loser.0 == a { b } else { a };
    let v = wait_until("the winner to answer", CEILING, || {
        env.request("GET", "/v1/version", None)
            .ok()
            .filter(|r| r.status == 200)
            .map(|r| r.json())
    });
    assert_eq!(v["pid"], winner);
    assert_eq!(env.daemon_exit(winner), None, "the winner keeps running");
}

/// T09 (d): a regular file at the socket path is not deleted.
#[test]
fn regular_file_at_the_socket_path_is_refused() {
    let mut env = TestEnv::new();
    std::fs::create_dir_all(env.runtime_dir()).unwrap();
    std::fs::set_permissions(env.runtime_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(env.socket(), b"precious").unwrap();
    let pid = env.spawn_daemon();
    assert_eq!(env.wait_daemon_exit(pid, CEILING), Some(69));
    assert!(
        env.daemon_log().contains("is not a socket"),
        "{}",
        env.daemon_log()
    );
    assert_eq!(std::fs::read(env.socket()).unwrap(), b"precious");
}

#[test]
fn sigterm_is_a_clean_stop_and_sighup_is_harmless() {
    let mut env = TestEnv::new();
    let pid = env.start_daemon();
    env.signal_daemon(pid, Signal::SIGHUP);
    // Still serving after SIGHUP (poll: the signal is handled asynchronously).
    for _ in 0..3 {
        assert_eq!(env.request("GET", "/v1/version", None).unwrap().status, 200);
    }
    assert_eq!(env.daemon_exit(pid), None);
    env.signal_daemon(pid, Signal::SIGTERM);
    assert_eq!(
        env.wait_daemon_exit(pid, CEILING),
        Some(0),
        "{}",
        env.daemon_log()
    );
    assert!(
        !env.socket().exists(),
        "the socket is removed on a clean stop"
    );
    // The next daemon starts without complaint.
    env.start_daemon();
}

#[test]
fn api_stop_answers_then_the_daemon_exits_cleanly() {
    let mut env = TestEnv::new();
    let pid = env.start_daemon();
    let mut events = env.stream("/v1/events").unwrap();
    assert_eq!(events.status, 200);
    let r = env.request("POST", "/v1/daemon/stop", None).unwrap();
    assert_eq!((r.status, r.json()), (200, serde_json::json!({})));
    assert_eq!(
        env.wait_daemon_exit(pid, CEILING),
        Some(0),
        "{}",
        env.daemon_log()
    );
    assert!(!env.socket().exists());
    // The event stream ended (possibly after a daemon-stopping event).
    wait_until("the event stream to end", CEILING, || {
        match events.next_value(CEILING) {
            Ok(None) | Err(_) => Some(()),
            Ok(Some(v)) => {
                assert!(v.get("type").is_some(), "events only: {v}");
                None
            }
        }
    });
}

/// T32: hostile protocol input gets clean errors; the daemon keeps serving.
#[test]
fn malformed_and_oversized_requests_over_the_real_socket() {
    let mut env = TestEnv::new();
    env.start_daemon();
    let start = Instant::now();
    let r = env
        .raw(
            b"POST /v1/projects/p/jobs HTTP/1.1\r\nhost: x\r\ncontent-length: 4294967296\r\n\r\n{",
            CEILING,
        )
        .unwrap();
    assert_eq!((r.status, r.error_kind().as_str()), (413, "too-large"));
    assert!(start.elapsed() < Duration::from_secs(5));
    let deep = "[".repeat(100_000);
    for bad in [
        deep.as_str(),
        "{\"verb\":",
        "{\"verb\":\"start\"}",
        "\"\u{0}\"",
    ] {
        let r = env
            .request("POST", "/v1/projects/p/jobs", Some(bad))
            .unwrap();
        assert_eq!(
            (r.status, r.error_kind().as_str()),
            (400, "bad-request"),
            "{bad:.20}"
        );
    }
    let mut s = UnixStream::connect(env.socket()).unwrap();
    s.write_all(b"POST /v1/projects/p/jobs HTTP/1.1\r\nhost: x\r\ncontent-length: 50\r\n\r\n{\"ve")
        .unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut s, &mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 400"), "truncated body: {out}");
    let r = env.request("GET", "/v1/nope", None).unwrap();
    assert_eq!((r.status, r.error_kind().as_str()), (404, "not-found"));
    let r = env.raw(b"\xff\xfe\x00garbage\r\n\r\n", CEILING).unwrap();
    assert!(matches!(r.status, 0 | 400), "{r:?}");
    assert_eq!(
        env.request("GET", "/v1/version", None).unwrap().status,
        200,
        "still serving"
    );
}

/// T27: names outside the grammar never reach the core.
#[test]
fn hostile_names_over_the_real_socket() {
    let mut env = TestEnv::new();
    env.start_daemon();
    let long = "a".repeat(300);
    for name in [
        "-rf",
        "x%3Brm%20-rf%20~",
        "%24(id)",
        "%60id%60",
        "a%20b",
        "a%0Ab",
        "foo.service",
        "%25n",
        long.as_str(),
    ] {
        let r = env
            .request("GET", &format!("/v1/projects/p/units/{name}"), None)
            .unwrap();
        assert_eq!(
            (r.status, r.error_kind().as_str()),
            (400, "bad-request"),
            "unit {name}"
        );
        let r = env
            .request(
                "POST",
                &format!("/v1/projects/{name}/jobs"),
                Some(r#"{"verb":"start","units":[],"block":false,"timeout_ms":null}"#),
            )
            .unwrap();
        assert_eq!(
            (r.status, r.error_kind().as_str()),
            (400, "bad-request"),
            "project {name}"
        );
    }
    for path in ["/v1/projects/%2E%2E/units/x", "/v1/projects/a%2Fb/units/x"] {
        let r = env.request("GET", path, None).unwrap();
        assert_eq!(r.status, 400, "{path}: {r:?}");
    }
    let logs = env.state_dir().join("logs");
    assert!(!logs.join("-rf").exists() && !env.state_dir().join("projects/-rf").exists());
}

/// T31 (light): idle and slowloris connections do not block a status request.
#[test]
fn idle_and_slowloris_clients_do_not_block_status() {
    let mut env = TestEnv::new();
    env.start_daemon();
    let idle: Vec<UnixStream> = (0..50)
        .map(|_| UnixStream::connect(env.socket()).unwrap())
        .collect();
    let mut slow = UnixStream::connect(env.socket()).unwrap();
    slow.write_all(b"GET /v1/vers").unwrap();
    let t = Instant::now();
    let r = env.request("GET", "/v1/units", None).unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        // idle and slow clients hold no request: far below their 10 s timeout
        t.elapsed() < Duration::from_secs(5),
        "status took {:?}",
        t.elapsed()
    );
    // The idle ones are eventually closed by the header timeout.
    let mut first = idle.into_iter().next().unwrap();
    first.set_read_timeout(Some(CEILING)).unwrap();
    let mut b = [0u8; 1];
    assert_eq!(
        std::io::Read::read(&mut first, &mut b).unwrap_or(0),
        0,
        "idle connection closed"
    );
}
