//! End-to-end tests of enablement, sessions and boot through the real
//! `devctl` and `devctld`: `disable --now` surviving a daemon restart,
//! `up NAMES` running exactly those (and what they require), `enable` vs
//! `start`, overrides across manifest edits, boot projects, crash recovery
//! without duplicates or orphans, and corrupt or full state storage.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use devctl_tests::{CEILING, Run, TestEnv, alive, process_env_has, wait_until};
use serde_json::Value;

/// Per-unit environment variable set in the manifests, used to count each
/// unit's processes.
const UNIT_VAR: &str = "SESSIONS_UNIT";

/// The four services of the issue, `roberta` requiring `db` (with readiness
/// probes on both), `juliana` a shell loop.
fn four(project: &str, paulie_env: &str) -> String {
    format!(
        r#"project "{project}"
service "db" {{
    sh "echo db-up; exec sleep 300"
    env {UNIT_VAR}="db"
    ready {{ exec "true"; period "50ms" }}
}}
service "paulie" {{
    sh "echo paulie-hello $$; exec sleep 300"
    env {UNIT_VAR}="paulie" PAULIE_MODE="{paulie_env}"
}}
service "roberta" {{
    sh "exec sleep 300"
    env {UNIT_VAR}="roberta"
    requires "db"
    ready {{ exec "true"; period "50ms" }}
}}
service "joe" {{
    run "sleep" "300"
    env {UNIT_VAR}="joe"
}}
service "juliana" {{
    sh "while true; do sleep 1; done"
    env {UNIT_VAR}="juliana"
}}
"#
    )
}

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"))
}

/// `status --json` of the project in `dir`: unit name → its object.
fn units_in(env: &TestEnv, dir: &Path, extra: &[&str]) -> BTreeMap<String, Value> {
    let mut args = extra.to_vec();
    args.extend(["status", "--json"]);
    let r = env.devctl_in(dir, &args);
    r.expect_code(0);
    let v = json(&r);
    let all = match v {
        Value::Array(a) => a,
        one => vec![one],
    };
    all.into_iter()
        .map(|u| (u["name"].as_str().unwrap_or_default().to_owned(), u))
        .collect()
}

/// Names of the units that are active in the project in `dir`.
fn active_in(env: &TestEnv, dir: &Path, extra: &[&str]) -> BTreeSet<String> {
    units_in(env, dir, extra)
        .into_iter()
        .filter(|(_, u)| u["kind"] == "service" && u["active"] == "active")
        .map(|(n, _)| n)
        .collect()
}

fn active(env: &TestEnv) -> BTreeSet<String> {
    active_in(env, &env.project_dir, &[])
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Wait until exactly `names` are active in the current project.
fn wait_active(env: &TestEnv, names: &[&str]) {
    let want = set(names);
    let mut last = BTreeSet::new();
    wait_until(&format!("exactly {want:?} active"), CEILING, || {
        last = active(env);
        (last == want).then_some(())
    });
}

/// Stop the daemon cleanly through the CLI and reap it.
fn clean_stop(env: &mut TestEnv, pid: u32) {
    env.devctl(&["daemon", "stop"]).expect_code(0);
    env.wait_daemon_exit(pid, CEILING);
}

/// Processes of each unit (by [`UNIT_VAR`]), probe helpers excluded.
fn per_unit(env: &TestEnv) -> BTreeMap<String, Vec<u32>> {
    let mut out: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for pid in env.marked_children() {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "true" || !alive(pid) {
            continue;
        }
        for unit in ["db", "paulie", "roberta", "joe", "juliana"] {
            if process_env_has(pid, UNIT_VAR, unit) {
                out.entry(unit.to_owned()).or_default().push(pid);
            }
        }
    }
    out
}

#[test]
fn disable_now_persists_across_a_daemon_restart() {
    let mut env = TestEnv::new();
    env.write_manifest(&four("sess1", "a"));
    let pid = env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    wait_active(&env, &["db", "paulie", "roberta", "joe", "juliana"]);
    env.devctl(&["disable", "--now", "paulie"]).expect_code(0);
    env.devctl(&["is-active", "paulie"]).expect_code(3);
    assert_eq!(
        env.devctl(&["is-enabled", "paulie"]).expect_code(3).stdout,
        "disabled\n"
    );
    clean_stop(&mut env, pid);
    env.assert_no_orphans();
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    wait_active(&env, &["db", "roberta", "joe", "juliana"]);
    env.devctl(&["is-active", "paulie"]).expect_code(3);
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

#[test]
fn up_names_runs_exactly_those_and_their_requirements() {
    let mut env = TestEnv::new();
    env.write_manifest(&four("sess2", "a"));
    env.start_daemon();
    env.devctl(&["up", "paulie", "roberta"]).expect_code(0);
    wait_active(&env, &["db", "paulie", "roberta"]);
    env.devctl(&["stop", "paulie"]).expect_code(0);
    wait_active(&env, &["db", "roberta"]);
    env.devctl(&["up", "paulie", "roberta"]).expect_code(0);
    wait_active(&env, &["db", "paulie", "roberta"]);
    env.devctl(&["is-active", "joe"]).expect_code(3);
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

#[test]
fn up_names_stops_a_started_unit_and_keeps_its_enablement() {
    let mut env = TestEnv::new();
    env.write_manifest(&four("sess3", "a"));
    env.start_daemon();
    env.devctl(&["up", "paulie", "roberta"]).expect_code(0);
    env.devctl(&["start", "joe"]).expect_code(0);
    wait_active(&env, &["db", "paulie", "roberta", "joe"]);
    let up = env.devctl(&["up", "paulie", "roberta"]);
    up.expect_code(0);
    assert!(up.stdout.contains("stopped: joe"), "{up:?}");
    wait_active(&env, &["db", "paulie", "roberta"]);
    assert_eq!(
        env.devctl(&["is-enabled", "joe"]).expect_code(0).stdout,
        "enabled\n"
    );
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

#[test]
fn enable_is_not_start_and_overrides_follow_the_manifest() {
    let mut env = TestEnv::new();
    env.write_manifest(&four("sess4", "a"));
    env.start_daemon();
    // enable alone does not start.
    env.devctl(&["disable", "roberta"]).expect_code(0);
    assert_eq!(
        env.devctl(&["is-enabled", "roberta"]).expect_code(3).stdout,
        "disabled\n"
    );
    env.devctl(&["enable", "roberta"]).expect_code(0);
    assert_eq!(
        env.devctl(&["is-active", "roberta"]).expect_code(3).stdout,
        "inactive\n"
    );
    assert_eq!(
        env.devctl(&["is-enabled", "roberta"]).expect_code(0).stdout,
        "enabled\n"
    );
    // enable --now starts it (and what it requires).
    env.devctl(&["enable", "--now", "roberta"]).expect_code(0);
    assert_eq!(
        env.devctl(&["is-active", "roberta"]).expect_code(0).stdout,
        "active\n"
    );
    env.devctl(&["is-active", "db"]).expect_code(0);
    // disable alone does not stop.
    env.devctl(&["disable", "roberta"]).expect_code(0);
    env.devctl(&["is-active", "roberta"]).expect_code(0);
    env.devctl(&["is-enabled", "roberta"]).expect_code(3);
    // Unknown units: 4, as systemctl.
    assert_eq!(
        env.devctl(&["is-active", "nobody"]).expect_code(4).stdout,
        "unknown\n"
    );
    env.devctl(&["is-enabled", "nobody"]).expect_code(4);
    // Mixed: 3 when one is not active.
    env.devctl(&["is-active", "roberta", "joe"]).expect_code(3);

    // A manifest edit keeps the override.
    env.devctl(&["disable", "paulie"]).expect_code(0);
    env.write_manifest(&four("sess4", "b"));
    env.devctl(&["reload"]).expect_code(0);
    let paulie = &units_in(&env, &env.project_dir, &[])["paulie"];
    assert_eq!(paulie["enabled"], "disabled", "{paulie}");
    env.devctl(&["is-enabled", "paulie"]).expect_code(3);
    let cat = env.devctl(&["cat", "paulie"]).expect_code(0).stdout.clone();
    assert!(cat.contains("PAULIE_MODE=b"), "the edit was loaded: {cat}");

    // The same for an override of a manifest default of `enabled #false`.
    let off = |mode: &str| {
        four("sess4", "b").replace(
            "service \"joe\" {\n    run \"sleep\" \"300\"\n",
            &format!("service \"joe\" {{\n    enabled #false\n    run \"sleep\" \"{mode}\"\n"),
        )
    };
    env.write_manifest(&off("300"));
    env.devctl(&["reload"]).expect_code(0);
    env.devctl(&["is-enabled", "joe"]).expect_code(3);
    env.devctl(&["enable", "joe"]).expect_code(0);
    env.write_manifest(&off("301"));
    env.devctl(&["reload"]).expect_code(0);
    assert_eq!(
        env.devctl(&["is-enabled", "joe"]).expect_code(0).stdout,
        "enabled\n"
    );
    let joe = &units_in(&env, &env.project_dir, &[])["joe"];
    assert_eq!(joe["enabled_default"], false, "{joe}");
    env.write_manifest(&four("sess4", "b"));
    env.devctl(&["reload"]).expect_code(0);

    // Removing the unit drops its override; re-adding it gets the default.
    let without: String = four("sess4", "b").replace(
        &format!(
            "service \"paulie\" {{\n    sh \"echo paulie-hello $$; exec sleep 300\"\n    env {UNIT_VAR}=\"paulie\" PAULIE_MODE=\"b\"\n}}\n"
        ),
        "",
    );
    assert!(!without.contains("paulie"), "{without}");
    env.write_manifest(&without);
    env.devctl(&["reload"]).expect_code(0);
    env.devctl(&["is-enabled", "paulie"]).expect_code(4);
    env.write_manifest(&four("sess4", "b"));
    env.devctl(&["reload"]).expect_code(0);
    assert_eq!(
        env.devctl(&["is-enabled", "paulie"]).expect_code(0).stdout,
        "enabled\n"
    );
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

fn two_projects(env: &TestEnv, a: &str, b: &str) -> (PathBuf, PathBuf) {
    let kdl = |p: &str| {
        format!(
            r#"project "{p}"
service "web" {{
    run "sleep" "300"
    env {UNIT_VAR}="{p}-web"
}}
service "worker" {{
    run "sleep" "300"
    env {UNIT_VAR}="{p}-worker"
    enabled #false
}}
"#
        )
    };
    let da = env.home.path().join("a");
    let db = env.home.path().join("b");
    for (d, p) in [(&da, a), (&db, b)] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("devctl.kdl"), kdl(p)).unwrap();
    }
    (da, db)
}

#[test]
fn boot_projects_come_up_when_the_daemon_starts() {
    let mut env = TestEnv::new();
    let (da, db) = two_projects(&env, "sess5a", "sess5b");
    let pid = env.start_daemon();
    // Both projects known to the daemon; both have a `web`.
    env.devctl_in(&db, &["status"]).expect_code(0);
    let r = env.devctl_in(&da, &["enable", "--boot"]);
    r.expect_code(0);
    assert!(r.stdout.contains("sess5a"), "{r:?}");
    env.devctl_in(&da, &["start", "web"]).expect_code(0);
    env.devctl_in(&db, &["start", "web"]).expect_code(0);
    // Side by side: one process per `web`, each with its own project's env.
    let webs: BTreeSet<String> = env
        .marked_children()
        .into_iter()
        .flat_map(|p| {
            ["sess5a-web", "sess5b-web"]
                .into_iter()
                .filter(move |v| process_env_has(p, UNIT_VAR, v))
        })
        .map(str::to_owned)
        .collect();
    assert_eq!(webs, set(&["sess5a-web", "sess5b-web"]));
    assert_eq!(env.marked_children().len(), 2);
    // -p PROJECT and PROJECT/UNIT addressing from anywhere.
    env.devctl_in(&da, &["is-active", "sess5b/web"])
        .expect_code(0);
    env.devctl_in(&da, &["-p", "sess5b", "stop", "web"])
        .expect_code(0);
    env.devctl_in(&db, &["is-active", "web"]).expect_code(3);
    env.devctl_in(&db, &["is-active", "sess5a/web"])
        .expect_code(0);
    let list = env.devctl_in(&da, &["list", "--all"]);
    list.expect_code(0);
    assert!(
        list.stdout.contains("sess5a") && list.stdout.contains("sess5b"),
        "{list:?}"
    );
    let list = env.devctl_in(&da, &["list", "--all", "--json"]);
    list.expect_code(0);
    let listed: BTreeSet<(String, String)> = json(&list)
        .as_array()
        .expect("an array")
        .iter()
        .map(|u| {
            (
                u["project"].as_str().unwrap_or_default().to_owned(),
                u["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for p in ["sess5a", "sess5b"] {
        for u in ["web", "worker"] {
            assert!(
                listed.contains(&(p.to_owned(), u.to_owned())),
                "{p}/{u} in {listed:?}"
            );
        }
    }

    // Clean restart: A's enabled units come up, B's do not.
    clean_stop(&mut env, pid);
    env.assert_no_orphans();
    let pid = env.start_daemon();
    let mut last = BTreeSet::new();
    wait_until("sess5a/web to come up at boot", CEILING, || {
        last = active_in(&env, &da, &[]);
        (last == set(&["web"])).then_some(())
    });
    assert_eq!(
        active_in(&env, &db, &[]),
        BTreeSet::new(),
        "B is not a boot project"
    );
    env.devctl_in(&da, &["is-active", "worker"]).expect_code(3);

    // disable --boot: the next start brings nothing up.
    env.devctl_in(&da, &["disable", "--boot"]).expect_code(0);
    clean_stop(&mut env, pid);
    env.assert_no_orphans();
    env.start_daemon();
    // A boot project would be started by the daemon on its own; let the
    // daemon announce what it knows, then check nothing is coming up.
    let all = units_in(&env, &da, &[]);
    for (name, u) in all.iter().filter(|(_, u)| u["kind"] == "service") {
        assert_eq!(u["active"], "inactive", "{name}: {u}");
    }
    assert!(active_in(&env, &db, &[]).is_empty());
    env.assert_no_orphans();
}

#[test]
fn a_killed_daemon_restarts_the_session_once_without_orphans() {
    let mut env = TestEnv::new();
    let kdl = four("sess6", "a").replace(
        "sh \"while true; do sleep 1; done\"",
        "sh \"sleep 300 & setsid sleep 301 & exec sleep 302\"",
    );
    env.write_manifest(&kdl);
    let first = env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    let five = ["db", "joe", "juliana", "paulie", "roberta"];
    wait_active(&env, &five);
    let expect: BTreeMap<String, usize> = five
        .iter()
        .map(|u| (u.to_string(), if *u == "juliana" { 3 } else { 1 }))
        .collect();
    let counts = |env: &TestEnv| -> BTreeMap<String, usize> {
        per_unit(env)
            .into_iter()
            .map(|(u, p)| (u, p.len()))
            .collect()
    };
    let mut last = BTreeMap::new();
    wait_until("each unit's processes", CEILING, || {
        last = counts(&env);
        (last == expect).then_some(())
    });
    let old: Vec<u32> = per_unit(&env).into_values().flatten().collect();
    wait_until("paulie's first line in the log", CEILING, || {
        let r = env.devctl(&["logs", "paulie"]);
        (r.stdout.matches("paulie-hello").count() >= 1).then_some(())
    });

    env.signal_daemon(first, nix::sys::signal::Signal::SIGKILL);
    assert_eq!(env.wait_daemon_exit(first, CEILING), None);
    env.start_daemon();

    let units = wait_until("the five units active again", CEILING, || {
        let u = units_in(&env, &env.project_dir, &[]);
        let up: BTreeSet<String> = u
            .iter()
            .filter(|(_, v)| v["kind"] == "service" && v["active"] == "active")
            .map(|(n, _)| n.clone())
            .collect();
        (up == set(&five)).then_some(u)
    });
    for unit in five {
        assert_eq!(
            units[unit]["origin"], "restarted",
            "{unit}: {}",
            units[unit]
        );
    }
    wait_until("each unit exactly once", CEILING, || {
        last = counts(&env);
        (last == expect).then_some(())
    });
    let survivors: Vec<u32> = old.iter().copied().filter(|p| alive(*p)).collect();
    assert!(
        survivors.is_empty(),
        "old session's processes: {survivors:?}"
    );
    let now: Vec<u32> = per_unit(&env).into_values().flatten().collect();
    assert!(now.iter().all(|p| !old.contains(p)), "{now:?} vs {old:?}");
    // Every marked process belongs to one of the units.
    let mut stray = env.marked_children();
    stray.retain(|p| !now.contains(p) && alive(*p));
    stray.retain(|p| {
        std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() != "true")
    });
    assert!(stray.is_empty(), "unaccounted processes: {stray:?}");

    // Logs continue: the line from before the crash and the one after.
    wait_until("paulie's lines from both daemons", CEILING, || {
        let r = env.devctl(&["logs", "paulie"]);
        (r.stdout.matches("paulie-hello").count() >= 2).then_some(())
    });
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

fn corrupt_files(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix) && n.contains(".corrupt-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn corrupt_state_files_are_set_aside_and_the_daemon_works() {
    let mut env = TestEnv::new();
    env.write_manifest(&four("sess7", "a"));
    let pid = env.start_daemon();
    env.devctl(&["disable", "juliana"]).expect_code(0);
    clean_stop(&mut env, pid);
    let project_json = env.state_dir().join("projects/sess7/project.json");
    assert!(project_json.exists(), "{}", project_json.display());
    let full = std::fs::read(&project_json).unwrap();
    std::fs::write(&project_json, &full[..full.len() / 2]).unwrap();
    std::fs::write(env.state_dir().join("session.json"), b"\x00garbage{").unwrap();

    env.start_daemon();
    env.devctl(&["up", "paulie"]).expect_code(0);
    wait_active(&env, &["paulie"]);
    let log = env.daemon_log();
    assert!(
        log.contains("unusable") && log.contains("set aside"),
        "{log}"
    );
    assert_eq!(
        corrupt_files(&env.state_dir().join("projects/sess7"), "project.json").len(),
        1
    );
    assert_eq!(corrupt_files(&env.state_dir(), "session.json").len(), 1);
    // The project file is written again, valid.
    let v: Value = serde_json::from_slice(&std::fs::read(&project_json).unwrap()).unwrap();
    assert!(v.is_object());
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

/// Unmounts the tmpfs on drop.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_full_state_filesystem_fails_enable_and_keeps_the_old_file() {
    let mut env = TestEnv::new();
    let state = env.state_dir();
    std::fs::create_dir_all(&state).unwrap();
    let st = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs"])
        .arg(&state)
        .status()
        .expect("run mount");
    assert!(
        st.success(),
        "mount -t tmpfs failed ({st}); this test needs root (CI runs as root)"
    );
    let _mount = Mount(state.clone());
    env.write_manifest(&four("sess7full", "a"));
    env.start_daemon();
    env.devctl(&["disable", "juliana"]).expect_code(0);
    let project_json = state.join("projects/sess7full/project.json");
    env.devctl(&["start", "joe"]).expect_code(0);
    let before = std::fs::read(&project_json).unwrap();

    // Fill the filesystem.
    let filler = state.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![b'x'; 4096];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }
    for args in [&["enable", "juliana"][..], &["disable", "--now", "joe"]] {
        let r = env.devctl(args);
        r.expect_code(1);
        assert!(
            r.stderr.contains("cannot write") && r.stderr.contains("space"),
            "a clear storage error: {r:?}"
        );
        let now = std::fs::read(&project_json).unwrap();
        assert_eq!(now, before, "project.json intact");
        let _: Value = serde_json::from_slice(&now).expect("still parseable");
    }
    env.devctl(&["is-enabled", "juliana"]).expect_code(3);
    env.devctl(&["is-enabled", "joe"]).expect_code(0);
    env.devctl(&["is-active", "joe"]).expect_code(0);

    std::fs::remove_file(&filler).unwrap();
    env.devctl(&["enable", "juliana"]).expect_code(0);
    env.devctl(&["is-enabled", "juliana"]).expect_code(0);
    let _: Value = serde_json::from_slice(&std::fs::read(&project_json).unwrap()).unwrap();
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
    // Stop the daemon before the tmpfs goes away.
    env.kill_everything();
}

/// The pid of the daemon answering on the socket.
fn daemon_pid(env: &TestEnv) -> u32 {
    let r = env.devctl(&["daemon", "status", "--json"]);
    r.expect_code(0);
    json(&r)["pid"].as_u64().expect("pid") as u32
}

#[test]
fn after_two_crashes_exactly_what_ran_runs_again() {
    let mut env = TestEnv::new();
    env.write_manifest(&four("sess6b", "a"));
    let first = env.start_daemon();
    env.devctl(&["up", "paulie", "roberta"]).expect_code(0);
    env.devctl(&["disable", "--now", "paulie"]).expect_code(0);
    env.devctl(&["disable", "joe"]).expect_code(0);
    env.devctl(&["start", "joe"]).expect_code(0);
    wait_active(&env, &["db", "roberta", "joe"]);
    env.signal_daemon(first, nix::sys::signal::Signal::SIGKILL);
    assert_eq!(env.wait_daemon_exit(first, CEILING), None);

    // Any command starts the daemon again (autostart); the session goes on.
    wait_active(&env, &["db", "roberta", "joe"]);
    let second = daemon_pid(&env);
    assert_ne!(second, first);
    let want: BTreeMap<String, usize> = ["db", "joe", "roberta"]
        .iter()
        .map(|u| (u.to_string(), 1))
        .collect();
    let counts = |env: &TestEnv| -> BTreeMap<String, usize> {
        per_unit(env)
            .into_iter()
            .map(|(u, p)| (u, p.len()))
            .collect()
    };
    let mut last = BTreeMap::new();
    wait_until(
        "one process per unit after the first crash",
        CEILING,
        || {
            last = counts(&env);
            (last == want).then_some(())
        },
    );
    let gen2: Vec<u32> = per_unit(&env).into_values().flatten().collect();

    // The restarted daemon is killed as well.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(second as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // Not our child, so not reaped here: wait until its socket is closed
    // (its lock goes with it, once every thread is gone).
    wait_until("the second daemon to die", CEILING, || {
        (env.devctl(&["daemon", "status"]).code == Some(3)).then_some(())
    });
    env.start_daemon();
    wait_active(&env, &["db", "roberta", "joe"]);
    wait_until(
        "one process per unit after the second crash",
        CEILING,
        || {
            last = counts(&env);
            (last == want).then_some(())
        },
    );
    assert!(gen2.iter().all(|p| !alive(*p)), "{gen2:?}");
    // Enablement is what the user left.
    env.devctl(&["is-enabled", "paulie", "joe"]).expect_code(3);
    env.devctl(&["is-enabled", "roberta"]).expect_code(0);
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}
