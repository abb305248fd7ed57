//! `devctl daemon reexec` through the real binaries: devctld keeps its
//! pid, every unit keeps its processes and is adopted (origin `adopted`),
//! output written after the exec reaches the log (the pipes were carried),
//! an exit after the exec is seen with its status (the reaper knew the
//! child before its first sweep), and stop still takes the whole tree. A
//! corrupt state file makes the new image continue as after a crash.

use std::process::Command;

use devctl_tests::{CEILING, TestEnv, status, wait_until};
use serde_json::Value;

const MANIFEST: &str = r#"project "rx"
service "talker" {
    sh "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.05; done"
    ready { log "line 3" }
}
service "quiet" {
    sh "sleep 1000 & wait"
}
service "quitter" {
    sh "while [ ! -e go ]; do sleep 0.05; done; exit 7"
    restart "no"
}
daemon "forker" {
    start "sh" "-c" "sleep 1000 >/dev/null 2>&1 & echo $! >forker.pid"
    pid-file "forker.pid"
}
build "slowbuild" {
    sh "echo building; while [ ! -e built ]; do sleep 0.05; done; echo build done"
}
"#;

fn daemon_info(env: &TestEnv) -> Value {
    let r = env.devctl(&["daemon", "status", "--json"]);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("daemon status ({e}): {r:?}"))
}

/// The highest `line N` of talker's log.
fn last_line(env: &TestEnv) -> u64 {
    let r = env.devctl(&["logs", "talker", "-n", "20"]);
    r.stdout
        .lines()
        .filter_map(|l| {
            l.rsplit_once("line ")
                .and_then(|(_, n)| n.trim().parse().ok())
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn reexec_keeps_the_pid_and_adopts_every_unit() {
    let mut env = TestEnv::new();
    env.write_manifest(MANIFEST);
    let daemon = env.start_daemon();
    env.devctl(&["up", "--no-block"]).expect_code(0);
    let pids: Vec<(String, u64)> = ["talker", "quiet", "quitter", "forker", "slowbuild"]
        .iter()
        .map(|u| {
            let pid = wait_until("the unit to run", CEILING, || {
                status(&env, u)["main_pid"].as_u64()
            });
            (u.to_string(), pid)
        })
        .collect();
    wait_until("talker to be ready", CEILING, || {
        (status(&env, "talker")["ready"] == true).then_some(())
    });
    let before = daemon_info(&env);
    // A re-run queued while the build runs stays queued across the exec.
    env.devctl(&["trigger", "--no-block", "slowbuild"])
        .expect_code(0);
    wait_until("the re-run to be queued", CEILING, || {
        let log = env.devctl(&["logs", "slowbuild"]).stdout;
        log.contains("re-run queued").then_some(())
    });

    env.devctl(&["daemon", "reexec"]).expect_code(0);

    // Same process, a new image, the same session, not a crash recovery.
    assert!(env.daemon_exit(daemon).is_none(), "devctld exited");
    assert!(std::path::Path::new(&format!("/proc/{daemon}")).exists());
    let after = daemon_info(&env);
    assert_eq!(after["pid"].as_u64(), Some(daemon as u64), "{after}");
    assert_ne!(after["started_at_ms"], before["started_at_ms"], "{after}");
    assert_eq!(after["session_id"], before["session_id"], "{after}");
    assert_eq!(after["recovered"], false, "{after}");
    assert!(
        !env.runtime_dir().join("devctld.reexec.json").exists(),
        "the state file is consumed"
    );
    for (unit, pid) in &pids {
        let s = status(&env, unit);
        assert_eq!(
            s["main_pid"].as_u64(),
            Some(*pid),
            "{unit} kept its pid: {s}"
        );
        assert_eq!(s["origin"], "adopted", "{s}");
        let active = if unit == "slowbuild" {
            "activating"
        } else {
            "active"
        };
        assert_eq!(s["active"], active, "{s}");
    }
    assert_eq!(status(&env, "talker")["ready"], true);

    // Output written after the exec reaches the log: the pipes came along.
    let seen = last_line(&env);
    wait_until("talker's later lines in its log", CEILING, || {
        (last_line(&env) > seen + 10).then_some(())
    });
    let log = env.devctl(&["logs", "talker", "-n", "200"]).stdout;
    assert!(log.contains("adopted pid"), "{log}");

    // An exit after the exec is seen, with its status.
    std::fs::write(env.project_dir.join("go"), b"").unwrap();
    let s = wait_until("quitter to be seen exiting", CEILING, || {
        let s = status(&env, "quitter");
        (s["active"] != "active").then_some(s)
    });
    assert_eq!(s["last_exit"]["code"].as_u64(), Some(7), "{s}");
    // A build caught mid-run finishes in the new image, its output logged.
    std::fs::write(env.project_dir.join("built"), b"").unwrap();
    wait_until("the adopted build to succeed", CEILING, || {
        let s = status(&env, "slowbuild");
        (s["active"] == "active" && s["sub"] == "exited").then_some(())
    });
    let log = wait_until("the queued re-run to run and succeed", CEILING, || {
        let log = env.devctl(&["logs", "slowbuild", "-n", "100"]).stdout;
        (log.matches("build done").count() == 2).then_some(log)
    });
    assert_eq!(log.matches("building").count(), 2, "{log}");

    // A second re-exec in a row, then stop takes every tree.
    env.devctl(&["daemon", "reexec"]).expect_code(0);
    assert_eq!(status(&env, "quiet")["main_pid"].as_u64(), Some(pids[1].1));
    assert_eq!(status(&env, "forker")["main_pid"].as_u64(), Some(pids[3].1));
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
    env.devctl(&["daemon", "stop"]).expect_code(0);
    env.wait_daemon_exit(daemon, CEILING);
    assert!(
        !env.socket().exists(),
        "a clean stop after re-execs removes the socket"
    );
}

#[test]
fn reexec_with_an_unusable_state_file_continues_as_after_a_crash() {
    let mut env = TestEnv::new();
    env.write_manifest(MANIFEST);
    let first = env.start_daemon();
    env.devctl(&["start", "quiet"]).expect_code(0);
    let old = wait_until("quiet to run", CEILING, || {
        status(&env, "quiet")["main_pid"].as_u64()
    });
    // The daemon dies (no clean stop); its successor is started the way
    // a re-exec starts it, but with a corrupt state file and fds that are
    // not open.
    env.signal_daemon(first, nix::sys::signal::Signal::SIGKILL);
    env.wait_daemon_exit(first, CEILING);
    let state = env.runtime_dir().join("devctld.reexec.json");
    std::fs::write(&state, b"{\"version\": 1, \"truncat").unwrap();
    let mut cmd: Command = env.daemon_command();
    cmd.args(["--reexec-state"])
        .arg(&state)
        .args(["--reexec-fds", "900,901"]);
    let second = env.spawn_daemon_cmd(cmd);
    env.wait_daemon_ready(second);
    assert!(!state.exists(), "the corrupt state file is removed");
    let info = daemon_info(&env);
    assert_eq!(info["recovered"], true, "{info}");
    let s = wait_until("quiet to run again", CEILING, || {
        let s = status(&env, "quiet");
        (s["active"] == "active" && s["main_pid"].as_u64() != Some(old)).then_some(s)
    });
    assert_eq!(s["origin"], "restarted", "{s}");
    assert!(
        !devctl_tests::alive(old as u32),
        "the old tree was stopped, not duplicated"
    );
    assert!(env.daemon_log().contains("re-exec state unusable"));
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

/// An upgrade: the binary at devctld's path is replaced, then a re-exec
/// runs the new file in the same process.
#[test]
fn reexec_runs_the_replaced_binary() {
    let mut env = TestEnv::new();
    env.write_manifest(MANIFEST);
    let bin = env.home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let exe = bin.join("devctld");
    std::fs::copy(devctl_tests::devctld_bin(), &exe).unwrap();
    let mut cmd = {
        let mut c = Command::new(&exe);
        env.apply_env(&mut c);
        c.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    };
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let daemon = env.spawn_daemon_cmd(cmd);
    env.wait_daemon_ready(daemon);
    env.devctl(&["start", "quiet"]).expect_code(0);
    let pid = status(&env, "quiet")["main_pid"].as_u64().unwrap();
    let old_inode = std::fs::metadata(format!("/proc/{daemon}/exe")).unwrap();
    // Replace the file the way a package manager does: new inode, renamed over.
    let staged = bin.join("devctld.new");
    std::fs::copy(devctl_tests::devctld_bin(), &staged).unwrap();
    std::fs::rename(&staged, &exe).unwrap();
    let link = std::fs::read_link(format!("/proc/{daemon}/exe")).unwrap();
    assert!(link.to_string_lossy().ends_with("(deleted)"), "{link:?}");
    env.devctl(&["daemon", "reexec"]).expect_code(0);
    let link = std::fs::read_link(format!("/proc/{daemon}/exe")).unwrap();
    assert_eq!(link, exe, "the new file runs");
    use std::os::unix::fs::MetadataExt;
    let now = std::fs::metadata(format!("/proc/{daemon}/exe")).unwrap();
    assert_ne!(now.ino(), old_inode.ino());
    assert_eq!(status(&env, "quiet")["main_pid"].as_u64(), Some(pid));
    // A binary that cannot be executed: refused up front, nothing changes.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = daemon_info(&env);
    let r = env.devctl(&["daemon", "reexec"]);
    r.expect_code(1);
    assert!(r.stderr.contains("cannot execute"), "{r:?}");
    assert_eq!(daemon_info(&env)["started_at_ms"], before["started_at_ms"]);
    assert_eq!(status(&env, "quiet")["origin"], "adopted");
    env.devctl(&["daemon", "stop"]).expect_code(0);
    env.wait_daemon_exit(daemon, CEILING);
    env.assert_no_orphans();
}

/// sd_notify keeps working (the socket is bound again at the same path)
/// and a unit in backoff restarts after the re-exec on its own.
#[test]
fn reexec_keeps_notify_sockets_and_backoff_timers() {
    let send = |msg: &str| {
        format!(
            "python3 -c 'import os,socket; s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); s.sendto(b\\\"{msg}\\\", os.environ[\\\"NOTIFY_SOCKET\\\"])'"
        )
    };
    let mut env = TestEnv::new();
    env.write_manifest(&format!(
        r#"project "rn"
service "notifier" {{
    sh "{}; while [ ! -e say ]; do sleep 0.05; done; {}; exec sleep 300"
    ready {{ notify; }}
    start-timeout "20s"
}}
service "crasher" {{
    sh "exit 1"
    restart "on-failure" backoff="1s" limit=100 within="10m"
}}
"#,
        send("STATUS=before\\\\nREADY=1"),
        send("STATUS=after the re-exec")
    ));
    let daemon = env.start_daemon();
    env.devctl(&["start", "notifier"]).expect_code(0);
    env.devctl(&["start", "--no-block", "crasher"])
        .expect_code(0);
    wait_until("crasher in backoff", CEILING, || {
        (status(&env, "crasher")["sub"] == "backoff").then_some(())
    });
    let restarts = status(&env, "crasher")["restarts"].as_u64().unwrap();
    env.devctl(&["daemon", "reexec"]).expect_code(0);
    assert!(env.daemon_exit(daemon).is_none());
    let n = status(&env, "notifier");
    assert_eq!(
        (n["origin"].as_str(), n["ready"].as_bool()),
        (Some("adopted"), Some(true)),
        "{n}"
    );
    std::fs::write(env.project_dir.join("say"), b"").unwrap();
    wait_until("the status sent after the re-exec", CEILING, || {
        let detail = env.devctl(&["status", "notifier"]).stdout;
        detail.contains("after the re-exec").then_some(())
    });
    wait_until("crasher to keep restarting", CEILING, || {
        let r = status(&env, "crasher")["restarts"].as_u64().unwrap_or(0);
        (r > restarts).then_some(())
    });
    env.devctl(&["stop", "notifier", "crasher"]).expect_code(0);
    env.assert_no_orphans();
}
