//! devctld keeps its published contract (`supervisord/openapi.yaml`):
//! schemathesis generates requests for every operation, valid and invalid,
//! and checks each answer against the document (status codes, headers,
//! bodies, `405` with `Allow` for undeclared methods, invalid requests
//! refused). It speaks TCP, so a bridge in this test relays each of its
//! connections to the daemon's Unix socket.
//!
//! schemathesis is installed by `.ci/setup-machine` (a virtualenv under
//! `~/.cache/devctl/schemathesis`, or `$DEVCTL_SCHEMATHESIS`); without it
//! these tests fail, they never skip.
//!
//! Stopping and re-executing the daemon have their own test, where the
//! bridge starts a new daemon after each accepted stop. `GET /v1/events`
//! and `/v1/logs` with `follow` never end on their own and schemathesis
//! reads answers to their end, so events are left out and logs run with
//! follow off (`tests/schemathesis.toml`); the API server tests cover both
//! streams.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use devctl_tests::{CEILING, TestEnv, run_with_ceiling};

/// The OpenAPI document of the daemon.
fn openapi() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../supervisord/openapi.yaml")
}

/// schemathesis's settings for this API (expected statuses per operation).
fn config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemathesis.toml")
}

/// The schemathesis program: `$DEVCTL_SCHEMATHESIS`, else the virtualenv
/// `.ci/setup-machine` makes. Missing is a failure, never a skip.
fn schemathesis() -> PathBuf {
    if let Some(p) = std::env::var_os("DEVCTL_SCHEMATHESIS") {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME is set");
    let p = cache.join("devctl/schemathesis/bin/schemathesis");
    assert!(
        p.is_file(),
        "{} is missing: run .ci/setup-machine (it installs schemathesis), or set DEVCTL_SCHEMATHESIS",
        p.display()
    );
    p
}

/// What the bridge does after an answered stop: start a new daemon.
type Revive = Box<dyn FnMut() + Send>;

/// Relay TCP connections on a local port to `socket`, one at a time (the
/// client sends `Connection: close`, so one connection is one request).
/// After an answered `POST /v1/daemon/stop`, `revive` starts a new daemon
/// before the next connection is relayed.
fn bridge(socket: PathBuf, mut revive: Option<Revive>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the bridge");
    let port = listener.local_addr().expect("bridge address").port();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let Ok(unix) = UnixStream::connect(&socket) else {
                // Dropping the connection unanswered: schemathesis reports it.
                continue;
            };
            let (request, status) = relay(tcp, unix);
            let stopped = request.starts_with("POST /v1/daemon/stop") && status == "200";
            if let (true, Some(revive)) = (stopped, revive.as_mut()) {
                revive();
            }
        }
    });
    port
}

/// Copy both ways until both sides are done; the request line and the
/// answer's status code.
fn relay(tcp: TcpStream, unix: UnixStream) -> (String, String) {
    let (mut from_client, mut to_client) = (tcp.try_clone().expect("clone"), tcp);
    let (mut from_daemon, mut to_daemon) = (unix.try_clone().expect("clone"), unix);
    let upstream = std::thread::spawn(move || {
        let first = copy_noting_first_line(&mut from_client, &mut to_daemon);
        let _ = to_daemon.shutdown(Shutdown::Write);
        first
    });
    let status_line = copy_noting_first_line(&mut from_daemon, &mut to_client);
    let _ = to_client.shutdown(Shutdown::Both);
    let request = upstream.join().unwrap_or_default();
    let status = status_line.split(' ').nth(1).unwrap_or_default().to_owned();
    (request, status)
}

/// `io::copy` that also returns the first line that went through.
fn copy_noting_first_line(from: &mut impl Read, to: &mut impl Write) -> String {
    let mut first = Vec::new();
    let mut buf = [0u8; 16 << 10];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if first.len() < 256 && !first.contains(&b'\n') {
            first.extend_from_slice(&buf[..n.min(256)]);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let first = String::from_utf8_lossy(&first).into_owned();
    first.lines().next().unwrap_or_default().to_owned()
}

/// Run schemathesis in `dir` against the bridge on `port`, over the
/// operations named (`only`) or all but those; panics with its report
/// unless it found nothing.
fn run_schemathesis(dir: &Path, port: u16, operations: &[&str], only: bool) {
    let mut cmd = Command::new(schemathesis());
    cmd.current_dir(dir)
        .arg("--config-file")
        .arg(config())
        .arg("run")
        .arg(openapi())
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .args(["--checks", "all"])
        .args(["--header", "Connection: close"])
        .args(["--workers", "1"])
        .args(["--max-examples", "30"])
        .args(["--seed", "1"])
        .args(["--generation-database", "none"])
        .args(["--request-timeout", "20"])
        .arg("--no-color");
    let flag = if only {
        "--include-operation-id"
    } else {
        "--exclude-operation-id"
    };
    for op in operations {
        cmd.args([flag, op]);
    }
    // A few hundred requests: about 30 s on a quiet machine.
    let run = run_with_ceiling(cmd, CEILING * 6);
    // The report, for the test's captured output.
    println!("{}", run.stdout);
    assert_eq!(
        run.code,
        Some(0),
        "schemathesis found contract violations:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn every_operation_keeps_the_published_contract() {
    let mut env = TestEnv::new();
    env.start_daemon();
    let port = bridge(env.socket(), None);
    run_schemathesis(
        env.home.path(),
        port,
        &["stopDaemon", "reexecDaemon", "events"],
        false,
    );
    env.assert_no_orphans();
}

#[test]
fn stopping_and_reexecuting_the_daemon_keep_the_published_contract() {
    let env = Arc::new(Mutex::new(TestEnv::new()));
    let (socket, dir, first) = {
        let mut e = env.lock().unwrap();
        let pid = e.start_daemon();
        (e.socket(), e.home.path().to_path_buf(), pid)
    };
    let for_bridge = env.clone();
    let revived = Arc::new(AtomicUsize::new(0));
    let counter = revived.clone();
    let mut current = first;
    let revive: Revive = Box::new(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        let mut e = for_bridge.lock().unwrap();
        // The stopped daemon removes its socket and then releases its lock
        // as it exits; a new one can start only once it is gone.
        e.wait_daemon_exit(current, CEILING);
        current = e.start_daemon();
    });
    let port = bridge(socket, Some(revive));
    run_schemathesis(&dir, port, &["stopDaemon", "reexecDaemon"], true);
    assert!(
        revived.load(Ordering::Relaxed) > 0,
        "no stop request was answered: the stop operation was not exercised"
    );
    let mut e = env.lock().unwrap();
    let v = e.request("GET", "/v1/version", None).unwrap();
    assert_eq!(v.status, 200, "the last daemon serves: {v:?}");
    e.assert_no_orphans();
    e.kill_everything();
}

/// Setting the boot flag of a project the daemon does not know is `404
/// not-found`, and the daemon serves on (this request used to panic the
/// core, after which every answer was "shutting down").
#[test]
fn the_boot_flag_of_an_unknown_project_is_not_found() {
    let mut env = TestEnv::new();
    env.start_daemon();
    let r = env
        .request(
            "POST",
            "/v1/projects/nobody/enablement",
            Some(r#"{"units":[],"enable":true,"now":false,"boot":true,"block":false}"#),
        )
        .unwrap();
    assert_eq!(
        (r.status, r.error_kind()),
        (404, "not-found".into()),
        "{r:?}"
    );
    let r = env.request("GET", "/v1/projects", None).unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "[]"), "{r:?}");
}
