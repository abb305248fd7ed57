//! devctld as a systemd user service, against a real `systemd --user`:
//! `daemon install --now` (Type=notify readiness through the socket unit),
//! per-unit cgroups under the delegated subtree, `daemon reexec` keeps
//! devctld's MainPID and the unit's pid and cgroup, stop empties the cgroup,
//! `kill -9` and a watchdog timeout both get devctld restarted with the
//! session continuing (the unit runs again, once), `systemctl --user
//! restart devctld` ends the session (boot projects only come back),
//! `daemon uninstall` leaves nothing behind; and the D-Bus interface starts
//! a unit and emits its state-change signals.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use devctl_tests::systemd::SystemdUser;
use devctl_tests::{CEILING, devctl_bin, devctld_bin, wait_until};

const MANIFEST: &str = r#"
service "sleeper" {
    run "sleep" "1000"
}
"#;

fn project(sd: &SystemdUser, name: &str) -> PathBuf {
    let dir = sd.home.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("devctl.kdl"), MANIFEST).unwrap();
    dir
}

fn devctl(sd: &SystemdUser, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = sd
        .command(devctl_bin())
        .env("DEVCTLD", devctld_bin())
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run devctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(sd: &SystemdUser, dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = devctl(sd, dir, args);
    assert_eq!(code, 0, "devctl {args:?} failed: {out}{err}");
    out
}

fn find_unit<'a>(v: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    match v {
        serde_json::Value::Object(m) if m.get("name").and_then(|n| n.as_str()) == Some(name) => {
            Some(v)
        }
        serde_json::Value::Object(m) => m.values().find_map(|x| find_unit(x, name)),
        serde_json::Value::Array(a) => a.iter().find_map(|x| find_unit(x, name)),
        _ => None,
    }
}

/// The unit's (active, main pid) from `devctl status --json`.
fn unit_state(sd: &SystemdUser, dir: &Path) -> Option<(String, Option<u32>)> {
    let (code, out, _) = devctl(sd, dir, &["status", "--json", "sleeper"]);
    if code != 0 && code != 3 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&out).ok()?;
    let u = find_unit(&v, "sleeper")?;
    Some((
        u["active"].as_str()?.to_string(),
        u["main_pid"].as_u64().map(|p| p as u32),
    ))
}

fn running_pid(sd: &SystemdUser, dir: &Path) -> u32 {
    wait_until("the unit to run", CEILING, || match unit_state(sd, dir) {
        Some((a, Some(pid))) if a == "active" => Some(pid),
        _ => None,
    })
}

/// `sleep 1000` processes of this test (by marker): the "once" oracle.
fn sleepers(sd: &SystemdUser) -> Vec<u32> {
    devctl_tests::marked_pids(&sd.marker)
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c.starts_with("sleep\0"))
                && devctl_tests::alive(*p)
        })
        .collect()
}

fn cgroup_of(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("0::").map(str::to_string))
        .unwrap_or_default()
}

fn main_pid(sd: &SystemdUser) -> u32 {
    sd.property("devctld.service", "MainPID")
        .parse()
        .unwrap_or(0)
}

fn wait_restarted(sd: &SystemdUser, old: u32) -> u32 {
    wait_until("systemd to restart devctld", CEILING, || {
        let pid = main_pid(sd);
        (pid != 0 && pid != old && sd.property("devctld.service", "ActiveState") == "active")
            .then_some(pid)
    })
}

fn install(sd: &SystemdUser, dir: &Path) {
    ok(sd, dir, &["daemon", "install", "--now", "--watchdog", "2s"]);
    assert_eq!(sd.property("devctld.service", "ActiveState"), "active");
    assert_eq!(sd.property("devctld.service", "Type"), "notify");
    assert_eq!(sd.property("devctld.service", "Delegate"), "yes");
    assert_eq!(sd.property("devctld.socket", "ActiveState"), "active");
}

#[test]
fn systemd_user_service_lifecycle() {
    let sd = SystemdUser::start();
    let dir = project(&sd, "alpha");
    let other = project(&sd, "beta");
    install(&sd, &dir);
    let status = ok(&sd, &dir, &["daemon", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(v["hosting"], "socket-activated", "{status}");
    assert_eq!(v["pid"].as_u64(), Some(main_pid(&sd) as u64));
    assert_eq!(v["systemd"][0]["active"], "active", "{status}");

    // A unit started through the CLI runs in its own cgroup.
    ok(&sd, &dir, &["start", "sleeper"]);
    let pid = running_pid(&sd, &dir);
    let cg = cgroup_of(pid);
    assert!(
        cg.contains("/devctld.service/units/devctl-"),
        "unit cgroup {cg:?}"
    );
    assert!(cgroup_of(main_pid(&sd)).ends_with("/devctld.service/devctld"));
    let cg_dir = PathBuf::from("/sys/fs/cgroup/unified").join(cg.trim_start_matches('/'));
    assert!(cg_dir.join("cgroup.procs").exists());

    // daemon reexec: systemd sees the same MainPID stay active; the unit
    // keeps its pid and its cgroup, adopted by the new image.
    let daemon = main_pid(&sd);
    ok(&sd, &dir, &["daemon", "reexec"]);
    assert_eq!(main_pid(&sd), daemon);
    assert_eq!(sd.property("devctld.service", "ActiveState"), "active");
    assert_eq!(sd.property("devctld.service", "NRestarts"), "0");
    assert_eq!(running_pid(&sd, &dir), pid);
    assert_eq!(cgroup_of(pid), cg);
    let (_, out, _) = devctl(&sd, &dir, &["status", "--json", "sleeper"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        find_unit(&v, "sleeper").unwrap()["origin"],
        "adopted",
        "{out}"
    );
    let status = ok(&sd, &dir, &["daemon", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(v["pid"].as_u64(), Some(daemon as u64), "{status}");
    assert_eq!(v["hosting"], "socket-activated", "{status}");
    assert_eq!(v["recovered"], false, "{status}");
    // Still answering its watchdog well after the exec.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(main_pid(&sd), daemon);
    assert_eq!(sd.property("devctld.service", "NRestarts"), "0");

    // Stop leaves the cgroup empty (and removed).
    ok(&sd, &dir, &["stop", "sleeper"]);
    let procs = std::fs::read_to_string(cg_dir.join("cgroup.procs")).unwrap_or_default();
    assert!(procs.trim().is_empty(), "cgroup still holds {procs}");
    assert!(sleepers(&sd).is_empty());

    // kill -9: systemd restarts devctld; the session continues, once.
    ok(&sd, &dir, &["start", "sleeper"]);
    let before = running_pid(&sd, &dir);
    let daemon = main_pid(&sd);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let daemon = wait_restarted(&sd, daemon);
    let again = wait_until("the unit to run again", CEILING, || {
        let p = running_pid(&sd, &dir);
        (p != before).then_some(p)
    });
    wait_until("exactly one sleeper", CEILING, || {
        (sleepers(&sd) == vec![again]).then_some(())
    });
    let status = ok(&sd, &dir, &["daemon", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(v["recovered"], true, "{status}");

    // Watchdog: a frozen devctld misses its pings; systemd restarts it.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon as i32),
        nix::sys::signal::Signal::SIGSTOP,
    )
    .unwrap();
    let daemon = wait_restarted(&sd, daemon);
    assert_eq!(sd.property("devctld.service", "NRestarts"), "2");
    let third = running_pid(&sd, &dir);
    wait_until("exactly one sleeper after the watchdog", CEILING, || {
        (sleepers(&sd) == vec![third]).then_some(())
    });

    // A clean restart ends the session: only boot projects come back.
    ok(&sd, &dir, &["enable", "--boot"]);
    ok(&sd, &other, &["start", "sleeper"]);
    running_pid(&sd, &other);
    let out = sd.systemctl(&["restart", "devctld.service"]);
    assert!(out.status.success(), "{out:?}");
    wait_restarted(&sd, daemon);
    running_pid(&sd, &dir);
    wait_until("beta to stay down", CEILING, || {
        unit_state(&sd, &other).filter(|(a, _)| a == "inactive")
    });
    assert_eq!(sleepers(&sd).len(), 1);
    let status = ok(&sd, &dir, &["daemon", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(v["recovered"], false, "{status}");

    // Uninstall leaves nothing behind.
    ok(&sd, &dir, &["daemon", "uninstall"]);
    assert!(!sd.unit_dir().join("devctld.service").exists());
    assert!(!sd.unit_dir().join("devctld.socket").exists());
    assert_eq!(sd.property("devctld.service", "LoadState"), "not-found");
    assert_eq!(sd.property("devctld.service", "UnitFileState"), "");
    wait_until("no process left", CEILING, || {
        devctl_tests::marked_pids(&sd.marker)
            .into_iter()
            .all(|p| {
                !devctl_tests::alive(p)
                    || !std::fs::read_to_string(format!("/proc/{p}/cmdline"))
                        .is_ok_and(|c| c.contains("devctld") || c.starts_with("sleep\0"))
            })
            .then_some(())
    });
    // Idempotent, and the status says it is gone.
    ok(&sd, &dir, &["daemon", "uninstall"]);
}

#[test]
fn systemd_dbus_interface_starts_and_signals() {
    let sd = SystemdUser::start();
    let dir = project(&sd, "gamma");
    install(&sd, &dir);
    // Load the project through the CLI (the D-Bus verbs address loaded projects).
    ok(&sd, &dir, &["stop", "sleeper"]);
    wait_until("devctld to own its bus name", CEILING, || {
        let out = sd
            .command("busctl")
            .args(["--user", "status", "org.devctl.Devctld"])
            .output()
            .ok()?;
        out.status.success().then_some(())
    });
    let mut monitor = sd
        .command("busctl")
        .args(["--user", "monitor", "org.devctl.Devctld"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500)); // let the monitor subscribe
    let call = sd
        .command("busctl")
        .args([
            "--user",
            "call",
            "org.devctl.Devctld",
            "/org/devctl/Devctld",
            "org.devctl.Devctld1",
            "StartUnits",
            "sas",
            "gamma",
            "1",
            "sleeper",
        ])
        .output()
        .unwrap();
    assert!(call.status.success(), "{call:?}");
    let reply = String::from_utf8_lossy(&call.stdout);
    assert!(reply.contains("\"sleeper\" true \"active\""), "{reply}");
    let list = sd
        .command("busctl")
        .args([
            "--user",
            "call",
            "org.devctl.Devctld",
            "/org/devctl/Devctld",
            "org.devctl.Devctld1",
            "ListUnits",
            "s",
            "gamma",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("\"active\" \"running\""));
    // The start through D-Bus is in the run history, said to come from it.
    let history = sd
        .command("busctl")
        .args([
            "--user",
            "call",
            "org.devctl.Devctld",
            "/org/devctl/Devctld",
            "org.devctl.Devctld1",
            "History",
            "sastbu",
            "gamma",
            "1",
            "sleeper",
            "0",
            "false",
            "5",
        ])
        .output()
        .unwrap();
    assert!(history.status.success(), "{history:?}");
    let runs = String::from_utf8_lossy(&history.stdout);
    assert!(runs.contains("\"sleeper\" \"start (d-bus)\""), "{runs}");
    let bad = sd
        .command("busctl")
        .args([
            "--user",
            "call",
            "org.devctl.Devctld",
            "/org/devctl/Devctld",
            "org.devctl.Devctld1",
            "StartUnits",
            "sas",
            "gamma",
            "1",
            "nope",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("nope"),
        "{bad:?}"
    );
    std::thread::sleep(Duration::from_millis(500));
    let _ = monitor.kill();
    let out = monitor.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Member=UnitStateChanged"), "{text}");
    assert!(text.contains("Member=RunStateChanged"), "{text}");
    assert!(
        text.contains("STRING \"activating\";") && text.contains("STRING \"active\";"),
        "{text}"
    );
    ok(&sd, &dir, &["daemon", "uninstall"]);
    let _ = Command::new("true").status();
}

#[test]
fn systemd_export_install_runs_the_project_target() {
    let sd = SystemdUser::start();
    let dir = project(&sd, "delta");
    let out = ok(&sd, &dir, &["export", "--install"]);
    assert!(out.contains("systemctl --user start delta.target"), "{out}");
    let units = sd.unit_dir();
    assert!(units.join("delta.target").is_file());
    assert!(units.join("delta-sleeper.service").is_file());
    assert_eq!(sd.property("delta-sleeper.service", "LoadState"), "loaded");
    let started = sd.systemctl(&["start", "delta.target"]);
    assert!(started.status.success(), "{started:?}");
    let pid = wait_until("delta-sleeper.service to run", CEILING, || {
        let pid: u32 = sd
            .property("delta-sleeper.service", "MainPID")
            .parse()
            .ok()?;
        (sd.property("delta-sleeper.service", "ActiveState") == "active" && pid != 0).then_some(pid)
    });
    assert!(
        std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| c.contains("sleep\x001000")),
        "the unit runs the manifest's command"
    );
    // Again: idempotent, the running unit untouched.
    ok(&sd, &dir, &["export", "--install"]);
    assert_eq!(
        sd.property("delta-sleeper.service", "MainPID"),
        pid.to_string()
    );

    // A unit gone from the manifest loses its file; a foreign file is never overwritten.
    let stopped = sd.systemctl(&["stop", "delta.target", "delta-sleeper.service"]);
    assert!(stopped.status.success(), "{stopped:?}");
    std::fs::write(
        dir.join("devctl.kdl"),
        "service \"napper\" {\n    run \"sleep\" \"1000\"\n}\n",
    )
    .unwrap();
    let out = ok(&sd, &dir, &["export", "--install"]);
    assert!(out.contains("removed"), "{out}");
    assert!(!units.join("delta-sleeper.service").exists());
    assert!(units.join("delta-napper.service").is_file());
    std::fs::write(
        units.join("delta-napper.service"),
        "[Service]\nExecStart=/bin/true\n",
    )
    .unwrap();
    let (code, _, err) = devctl(&sd, &dir, &["export", "--install"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("was not generated by devctl"), "{err}");
    assert_eq!(
        std::fs::read_to_string(units.join("delta-napper.service")).unwrap(),
        "[Service]\nExecStart=/bin/true\n"
    );
    for f in ["delta.target", "delta-napper.service"] {
        let _ = std::fs::remove_file(units.join(f));
    }
    let reload = sd.systemctl(&["daemon-reload"]);
    assert!(reload.status.success());
}
