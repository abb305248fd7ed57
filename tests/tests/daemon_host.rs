//! devctld and its host: systemd readiness notification (`NOTIFY_SOCKET`),
//! and the permission checks that need a second user (T30; those run only
//! when the tests run as root, which can act as another uid).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::process::Command;

use devctl_tests::{CEILING, TestEnv, run_with_ceiling};
use nix::sys::signal::Signal;

/// An unprivileged uid for the second-user tests.
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn recv_until(sock: &UnixDatagram, needle: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = sock
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no {needle} from devctld ({e}); got {seen:?}"));
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        let done = msg.lines().any(|l| l == needle);
        seen.push(msg);
        if done {
            return seen;
        }
    }
}

#[test]
fn under_systemd_ready_status_and_stopping_are_notified() {
    let mut env = TestEnv::new();
    let path = env.home.path().join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(CEILING)).unwrap();
    let mut cmd = env.daemon_command();
    cmd.env("NOTIFY_SOCKET", &path);
    let pid = env.spawn_daemon_cmd(cmd);
    let ready = recv_until(&sock, "READY=1");
    // READY=1 means served: the very next request must succeed.
    let v = env.request("GET", "/v1/version", None).unwrap().json();
    assert_eq!(v["hosting"], "systemd");
    assert!(ready.iter().any(|m| m.contains("STATUS=")), "{ready:?}");
    env.signal_daemon(pid, Signal::SIGTERM);
    recv_until(&sock, "STOPPING=1");
    assert_eq!(env.wait_daemon_exit(pid, CEILING), Some(0));
}

#[test]
fn runtime_dir_owned_by_another_user_is_refused() {
    if !is_root() {
        eprintln!("skipped: needs root to create a directory owned by another user");
        return;
    }
    let mut env = TestEnv::new();
    std::fs::create_dir_all(env.runtime_dir()).unwrap();
    std::os::unix::fs::chown(env.runtime_dir(), Some(NOBODY), Some(NOBODY)).unwrap();
    let pid = env.spawn_daemon();
    assert_eq!(env.wait_daemon_exit(pid, CEILING), Some(69));
    assert!(
        env.daemon_log().contains(&format!("owned by uid {NOBODY}")),
        "{}",
        env.daemon_log()
    );
    assert!(!env.socket().exists());
}

#[test]
fn another_uid_reaching_the_socket_is_refused_by_peer_credentials() {
    if !is_root() {
        eprintln!("skipped: needs root to connect as another user");
        return;
    }
    let mut env = TestEnv::new();
    env.start_daemon();
    // Simulate a leaked path (as a hard link or a passed fd would): open
    // the modes up so only the SO_PEERCRED check stands in the way.
    for (p, m) in [
        (env.home.path().to_path_buf(), 0o711),
        (env.runtime_dir(), 0o711),
        (env.socket(), 0o666),
    ] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }
    let mut cmd = Command::new("setpriv");
    cmd.args([
        &format!("--reuid={NOBODY}"),
        &format!("--regid={NOBODY}"),
        "--clear-groups",
        "curl",
        "-sS",
    ])
    .args(["--max-time", "20", "--unix-socket"])
    .arg(env.socket())
    .args(["-w", "\n%{http_code}", "http://devctld/v1/version"]);
    let r = run_with_ceiling(cmd, CEILING);
    assert_eq!(r.code, Some(0), "{r:?}");
    let (body, code) = r.stdout.rsplit_once('\n').unwrap();
    assert_eq!(code, "403", "{r:?}");
    let err: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(err["error"]["kind"], "forbidden");
    assert!(
        env.daemon_log().contains("another user refused"),
        "the refusal is logged"
    );
    // The owner is still served.
    assert_eq!(env.request("GET", "/v1/version", None).unwrap().status, 200);
}

/// Socket activation: devctld serves the socket it is passed (hosting
/// `socket-activated`) and leaves the socket file to its owner on stop.
#[test]
fn socket_activated_daemon_serves_the_passed_socket() {
    let mut env = TestEnv::new();
    std::fs::create_dir_all(env.runtime_dir()).unwrap();
    std::fs::set_permissions(env.runtime_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let log = std::fs::File::create(env.daemon_log_path()).unwrap();
    let mut cmd = Command::new("systemd-socket-activate");
    cmd.arg("-l")
        .arg(env.socket())
        .arg(format!(
            "--setenv=DEVCTL_HOME={}",
            env.home.path().display()
        ))
        .arg(format!("--setenv=DEVCTL_TEST_RUN={}", env.marker))
        .arg(format!(
            "--setenv=PATH={}",
            std::env::var("PATH").unwrap_or_default()
        ))
        .arg(devctl_tests::devctld_bin())
        .env_remove("NOTIFY_SOCKET")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log);
    let pid = env.spawn_daemon_cmd(cmd);
    devctl_tests::wait_until("the activation socket", CEILING, || {
        if let Some(code) = env.daemon_exit(pid) {
            panic!(
                "systemd-socket-activate exited with {code:?}: {}",
                env.daemon_log()
            );
        }
        env.socket().exists().then_some(())
    });
    env.wait_daemon_ready(pid);
    let v = env.request("GET", "/v1/version", None).unwrap().json();
    assert_eq!(v["hosting"], "socket-activated", "{v}");
    assert_eq!(
        v["pid"], pid,
        "systemd-socket-activate execs the daemon in place"
    );
    assert_eq!(
        env.request("POST", "/v1/daemon/stop", None).unwrap().status,
        200
    );
    assert_eq!(
        env.wait_daemon_exit(pid, CEILING),
        Some(0),
        "{}",
        env.daemon_log()
    );
    assert!(
        env.socket().exists(),
        "the passed socket belongs to systemd, not to devctld"
    );
}

/// A malformed socket-activation environment is a startup error (69).
#[test]
fn malformed_socket_activation_environment_is_refused() {
    let mut env = TestEnv::new();
    let mut cmd = env.daemon_command();
    // `exec` keeps the shell's pid, so LISTEN_PID names the daemon.
    cmd.env_clear()
        .env("DEVCTL_HOME", env.home.path())
        .env(devctl_tests::MARKER_ENV, &env.marker)
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(r#"LISTEN_PID=$$ LISTEN_FDS=not-a-number exec "$0""#)
        .arg(devctl_tests::devctld_bin());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    let log = std::fs::File::create(env.daemon_log_path()).unwrap();
    sh.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log);
    let pid = env.spawn_daemon_cmd(sh);
    assert_eq!(
        env.wait_daemon_exit(pid, CEILING),
        Some(69),
        "{}",
        env.daemon_log()
    );
    assert!(
        env.daemon_log().contains("socket passed by systemd"),
        "{}",
        env.daemon_log()
    );
    assert!(!env.socket().exists());
}

/// The NDJSON streams over the real socket: a unit's state changes and
/// its output arrive while it starts.
#[test]
fn events_and_followed_logs_stream_a_starting_unit() {
    let mut env = TestEnv::new();
    env.write_manifest("project \"streams\"\nservice \"web\" {\n    sh \"echo hello-from-web; exec sleep 300\"\n}\n");
    env.start_daemon();
    env.devctl(&["start", "web", "--no-block"]);
    env.devctl(&["stop", "web"]).expect_code(0);
    let mut events = env.stream("/v1/events?project=streams&unit=web").unwrap();
    assert_eq!(events.status, 200);
    env.devctl(&["start", "web"]).expect_code(0);
    let mut logs = env
        .stream("/v1/logs?project=streams&unit=web&follow=true")
        .unwrap();
    assert_eq!(logs.status, 200);
    let active = devctl_tests::wait_until("a state-changed event to active", CEILING, || {
        let v = events.next_value(CEILING).unwrap().expect("stream open");
        assert_eq!(v["unit"], "web", "filtered to the unit: {v}");
        (v["type"] == "state-changed" && v["active"] == "active").then_some(v)
    });
    assert!(active["seq"].as_u64().is_some(), "{active}");
    devctl_tests::wait_until("the unit's output in the log stream", CEILING, || {
        let v = logs.next_value(CEILING).unwrap().expect("stream open");
        (v["text"].as_str() == Some("hello-from-web")).then_some(())
    });
    env.devctl(&["stop", "web"]).expect_code(0);
    env.assert_no_orphans();
}
