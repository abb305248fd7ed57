//! End-to-end through the real binaries: sd_notify readiness with its
//! `STATUS=` shown by `devctl status`, HTTP readiness from a manifest, log
//! history that survives a SIGKILLed daemon (`devctl logs` and the status
//! tail show the lines the first daemon wrote), and `devctl logs -f`
//! keeping every line of a burst far larger than the daemon's follow
//! buffer, then following on. Every test ends with the orphan oracle.

use std::io::BufRead;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;

use devctl_tests::{CEILING, TestEnv, devctl_bin, wait_until};

/// A TCP port nobody listens on right now, below the ephemeral range (so
/// another test's `bind(0)` cannot be handed it before the service binds).
fn free_port() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = nanos ^ std::process::id();
    (0..12_000u32)
        .map(|i| 20_000 + ((seed.wrapping_add(i)) % 12_000) as u16)
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port between 20000 and 32000")
}

#[test]
fn notify_ready_and_status_show_in_devctl_status() {
    let mut env = TestEnv::new();
    env.write_manifest(
        r#"project "rn"
service "svc" {
    sh "python3 -c 'import os,socket; s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); s.sendto(b\"STATUS=serving 3 clients\\nREADY=1\", os.environ[\"NOTIFY_SOCKET\"])'; exec sleep 300"
    ready { notify; }
    start-timeout "20s"
}
"#,
    );
    env.start_daemon();
    env.devctl(&["start", "svc"]).expect_code(0);
    let detail = env.devctl(&["status", "svc"]).expect_code(0).stdout.clone();
    assert!(detail.contains("Status: serving 3 clients"), "{detail}");
    assert!(detail.contains("ready"), "{detail}");
    env.devctl(&["stop", "svc"]).expect_code(0);
    env.assert_no_orphans();
}

#[test]
fn http_readiness_from_the_manifest() {
    let port = free_port();
    let mut env = TestEnv::new();
    env.write_manifest(&format!(
        r#"project "rh"
service "web" {{
    sh "sleep 0.5; exec python3 -m http.server {port} --bind 127.0.0.1 -d /"
    ready {{ http "http://127.0.0.1:{port}/" status=200; period "10s"; }}
}}
"#
    ));
    env.start_daemon();
    env.devctl(&["start", "web"]).expect_code(0);
    assert_eq!(
        env.devctl(&["is-active", "web"]).expect_code(0).stdout,
        "active\n"
    );
    let show = env.devctl(&["show", "web", "-P", "SubState"]);
    assert_eq!(
        show.expect_code(0).stdout,
        "ready\n",
        "start returns once ready"
    );
    env.devctl(&["stop", "web"]).expect_code(0);
    env.assert_no_orphans();
}

#[test]
fn log_history_survives_a_sigkilled_daemon() {
    let mut env = TestEnv::new();
    env.write_manifest(
        r#"project "rl"
service "web" {
    sh "echo line from the first daemon; exec sleep 300"
}
"#,
    );
    let first = env.start_daemon();
    env.devctl(&["start", "web"]).expect_code(0);
    wait_until("the line is logged", CEILING, || {
        let r = env.devctl(&["logs", "web"]);
        r.stdout
            .contains("line from the first daemon")
            .then_some(())
    });
    env.signal_daemon(first, nix::sys::signal::Signal::SIGKILL);
    assert_eq!(env.wait_daemon_exit(first, CEILING), None);
    env.start_daemon();
    wait_until("web running again", CEILING, || {
        let r = env.devctl(&["is-active", "web"]);
        (r.stdout == "active\n").then_some(())
    });
    let logs = wait_until("both runs' lines", CEILING, || {
        let r = env.devctl(&["logs", "web"]);
        (r.stdout.matches("line from the first daemon").count() == 2).then(|| r.stdout.clone())
    });
    assert!(logs.contains("spawned pid"), "{logs}");
    let detail = env.devctl(&["status", "web"]).expect_code(0).stdout.clone();
    assert_eq!(
        detail.matches("line from the first daemon").count(),
        2,
        "the status tail reads the earlier daemon's lines: {detail}"
    );
    env.devctl(&["stop", "web"]).expect_code(0);
    env.assert_no_orphans();
}

/// How many numbered lines the burst prints: far more than a follower's
/// ring (256 lines) and than the daemon queues towards one reader (1024).
const BURST: u32 = 20_000;

#[test]
fn logs_follow_gets_every_line_of_a_burst_once_in_order_and_goes_on() {
    let mut env = TestEnv::new();
    let go = env.project_dir.join("go");
    let script = env.project_dir.join("burst.py");
    std::fs::write(
        &script,
        format!(
            "import os, sys, time
print('waiting', flush=True)
while not os.path.exists({go:?}): time.sleep(0.02)
w = sys.stdout.write
for i in range({BURST}): w('n %d\\n' % i)
sys.stdout.flush()
time.sleep(300)
"
        ),
    )
    .unwrap();
    env.write_manifest(&format!(
        "project \"rf\"\nservice \"burst\" {{\n    run \"python3\" {script:?}\n}}\n"
    ));
    env.start_daemon();
    env.devctl(&["start", "burst"]).expect_code(0);
    let mut cmd = Command::new(devctl_bin());
    env.apply_env(&mut cmd)
        .current_dir(&env.project_dir)
        .args(["logs", "-f", "burst"]);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read on a thread so that a stream that stops cannot hang the test.
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let next = || {
        lines
            .recv_timeout(CEILING)
            .expect("logs -f prints the next line")
    };
    let text = |line: &str| line.split_once(" burst | ").map(|(_, t)| t.to_owned());
    // History or live, "waiting" means the follow is set up: the burst
    // starts only then, so that all of it is live.
    while text(&next()).as_deref() != Some("waiting") {}
    std::fs::write(&go, "").unwrap();
    let mut want = 0;
    while want < BURST {
        let line = next();
        let Some(t) = text(&line) else {
            panic!("not a line of burst: {line}")
        };
        assert_eq!(
            t,
            format!("n {want}"),
            "line {want} of the burst, once and in order"
        );
        want += 1;
    }
    assert_eq!(child.try_wait().unwrap(), None, "still following");
    env.devctl(&["stop", "burst"]).expect_code(0);
    let after = next();
    assert!(
        after.contains(" burst | -- "),
        "the stop's markers follow: {after}"
    );
    assert_eq!(child.try_wait().unwrap(), None, "still following");
    let _ = child.kill();
    let _ = child.wait();
    env.assert_no_orphans();
}
