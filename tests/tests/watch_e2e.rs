//! File watching end to end through the real `devctl` and `devctld`, with
//! real files and processes: edit → rebuild → restart of the dependent
//! service (the old instance serving until the build succeeds), a failed
//! rebuild keeping the old service, an editor's atomic save, ignore globs
//! and `.gitignore`, a 5 000-file burst giving one run, manual trigger
//! mode with `devctl trigger`, a self-retriggering build detected, and a
//! watched project left alone waking nothing in the daemon.
//!
//! Waits are conditions with generous ceilings. Where a test must show
//! that *no* extra run happened, it either waits for a later, expected run
//! whose recorded reason lists only the expected files, or holds a short
//! documented quiet period (several debounce windows) and re-counts.

use std::path::Path;
use std::time::Duration;

use devctl_tests::{CEILING, LineStream, TestEnv, wait_until};
use serde_json::Value;

/// Several 200 ms quiet windows: long enough for a stray batch to show.
const QUIET: Duration = Duration::from_millis(1500);
/// How long after a run settles a change still counts as the run's own
/// (devctl_supervisord::watch::guard::SETTLE_GRACE).
const SETTLE_GRACE: Duration = Duration::from_millis(500);

fn env_with(manifest: &str, files: &[(&str, &str)]) -> TestEnv {
    let mut env = TestEnv::new();
    env.write_manifest(manifest);
    for (rel, text) in files {
        write(&env.project_dir, rel, text);
    }
    env.start_daemon();
    env
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap_or_default()
}

fn unit(env: &TestEnv, project: &str, name: &str) -> Value {
    let r = env
        .request("GET", &format!("/v1/projects/{project}/units/{name}"), None)
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn runs(env: &TestEnv) -> usize {
    read(&env.project_dir, "runs.txt").lines().count()
}

fn log(env: &TestEnv, project: &str, unit: &str) -> String {
    let p = env.state_dir().join(format!("logs/{project}/{unit}.log"));
    std::fs::read_to_string(p).unwrap_or_default()
}

/// Read events until one satisfies `pred`.
fn wait_event(s: &mut LineStream, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + CEILING;
    while std::time::Instant::now() < deadline {
        match s.next_value(Duration::from_secs(1)) {
            Ok(Some(v)) if pred(&v) => return v,
            Ok(Some(_)) => {}
            Ok(None) => panic!("event stream ended waiting for {what}"),
            Err(_) => {}
        }
    }
    panic!("no event {what} within {CEILING:?}");
}

fn wait_field(
    env: &TestEnv,
    project: &str,
    name: &str,
    what: &str,
    f: impl Fn(&Value) -> bool,
) -> Value {
    wait_until(what, CEILING, || {
        Some(unit(env, project, name)).filter(|u| f(u))
    })
}

const BUILD_SERVE: &str = r#"project "bs"

build "gen" {
    sh "echo run >>runs.txt; sleep 1; if grep -q FAIL src/input.txt; then echo broken >&2; exit 1; fi; cp src/input.txt out.txt"
    watch "src/**"
}

service "web" {
    sh "cp out.txt served.txt; exec sleep 1000"
    requires "gen"
}
"#;

#[test]
fn edit_rebuilds_then_restarts_the_dependent_service() {
    let env = env_with(BUILD_SERVE, &[("src/input.txt", "v1")]);
    let root = env.project_dir.clone();
    env.devctl(&["up"]).expect_code(0);
    // `up` returns once web runs; its first command copies the output.
    wait_until("v1 served", CEILING, || {
        (read(&root, "served.txt") == "v1").then_some(())
    });
    let old_pid = unit(&env, "bs", "web")["main_pid"].as_u64().unwrap();
    let mut events = env.stream("/v1/events?project=bs").unwrap();

    write(&root, "src/input.txt", "v2");
    // While the build re-runs, the old instance keeps serving.
    let building = wait_field(&env, "bs", "gen", "gen re-running", |u| {
        u["sub"] == "building"
    });
    assert_eq!(building["trigger"], "file change: src/input.txt");
    let web = unit(&env, "bs", "web");
    assert_eq!(
        web["main_pid"].as_u64(),
        Some(old_pid),
        "restarted before the build succeeded"
    );
    assert_eq!(web["active"], "active");

    let web = wait_field(&env, "bs", "web", "web restarted", |u| {
        u["main_pid"].as_u64().is_some_and(|p| p != old_pid) && u["active"] == "active"
    });
    wait_until("v2 served", CEILING, || {
        (read(&root, "served.txt") == "v2").then_some(())
    });
    assert_eq!(
        web["trigger"],
        "build gen succeeded (file change: src/input.txt)"
    );
    assert_eq!(
        web["restarts"], 0,
        "a watch-triggered restart is not a crash"
    );
    let ev = wait_event(&mut events, "gen triggered", |v| {
        v["unit"] == "gen" && v["type"] == "triggered"
    });
    assert_eq!(ev["reason"], "file change: src/input.txt");
    // `devctl trigger` forces a re-run in auto mode too.
    let before = runs(&env);
    env.devctl(&["trigger", "gen"]).expect_code(0);
    wait_until("forced run", CEILING, || {
        (runs(&env) > before).then_some(())
    });
    wait_field(&env, "bs", "gen", "manual trigger recorded", |u| {
        u["trigger"] == "manual trigger"
    });
}

#[test]
fn a_failed_rebuild_keeps_the_old_service_serving() {
    let env = env_with(BUILD_SERVE, &[("src/input.txt", "v1")]);
    let root = env.project_dir.clone();
    env.devctl(&["up"]).expect_code(0);
    let old_pid = unit(&env, "bs", "web")["main_pid"].as_u64().unwrap();
    let mut events = env.stream("/v1/events?project=bs").unwrap();

    write(&root, "src/input.txt", "FAIL");
    wait_field(&env, "bs", "gen", "gen failed", |u| u["active"] == "failed");
    let msg = "build gen failed, still serving the previous version";
    let web = wait_field(&env, "bs", "web", "web says so", |u| u["message"] == msg);
    assert_eq!(web["active"], "active");
    assert_eq!(web["main_pid"].as_u64(), Some(old_pid));
    assert!(nix::sys::signal::kill(nix::unistd::Pid::from_raw(old_pid as i32), None).is_ok());
    assert_eq!(read(&root, "served.txt"), "v1");
    assert!(
        log(&env, "bs", "web").contains(msg),
        "{}",
        log(&env, "bs", "web")
    );
    wait_event(&mut events, "web's message event", |v| {
        v["unit"] == "web" && v["type"] == "state-changed" && v["message"] == msg
    });

    // Fixing the input re-runs the failed build, then restarts the service.
    write(&root, "src/input.txt", "v3");
    wait_field(&env, "bs", "web", "web restarted on v3", |u| {
        u["main_pid"].as_u64().is_some_and(|p| p != old_pid) && u["message"].is_null()
    });
    wait_until("v3 served", CEILING, || {
        (read(&root, "served.txt") == "v3").then_some(())
    });
}

#[test]
fn an_atomic_save_restarts_a_watching_service_without_counting_a_crash() {
    let env = env_with(
        r#"project "as"

service "web" {
    sh "exec sleep 1000"
    watch "conf/*.toml"
    restart "on-failure" limit=2 within="1m"
}
"#,
        &[("conf/app.toml", "a = 1")],
    );
    let root = env.project_dir.clone();
    env.devctl(&["up"]).expect_code(0);
    let mut pid = unit(&env, "as", "web")["main_pid"].as_u64().unwrap();
    // More saves than the start limit allows crashes. Each waits past the
    // self-retrigger grace first, as a person would: a change a few
    // milliseconds after a (re)start looks like the service's own write.
    for i in 0..4 {
        std::thread::sleep(SETTLE_GRACE + Duration::from_millis(100));
        write(&root, "conf/.app.toml.swp", &format!("a = {i}"));
        std::fs::rename(root.join("conf/.app.toml.swp"), root.join("conf/app.toml")).unwrap();
        let u = wait_field(&env, "as", "web", "restart after atomic save", |u| {
            u["main_pid"].as_u64().is_some_and(|p| p != pid) && u["active"] == "active"
        });
        assert_eq!(u["trigger"], "file change: conf/app.toml");
        assert_eq!(u["restarts"], 0);
        pid = u["main_pid"].as_u64().unwrap();
    }
    assert_ne!(unit(&env, "as", "web")["result"], "start-limit-hit");
}

#[test]
fn ignore_globs_gitignore_and_default_dirs_are_ignored() {
    let env = env_with(
        r#"project "ig"

build "gen" {
    sh "echo run >>runs.txt"
    watch "src/**" ignore="**/*.tmp"
}
"#,
        &[("src/main.txt", "x"), (".gitignore", "*.log\nsrc/cache/\n")],
    );
    let root = env.project_dir.clone();
    env.devctl(&["up"]).expect_code(0);
    assert_eq!(runs(&env), 1);
    write(&root, "src/a.tmp", "x");
    write(&root, "src/b.log", "x");
    write(&root, "src/cache/c.txt", "x");
    write(&root, "src/node_modules/d.js", "x");
    write(&root, "src/target/e.txt", "x");
    // The sentinel, written last: its run must list it alone.
    write(&root, "src/real.txt", "x");
    let u = wait_field(&env, "ig", "gen", "sentinel run", |u| {
        u["trigger"] == "file change: src/real.txt" && u["sub"] == "exited"
    });
    assert_eq!(u["result"], "success");
    assert_eq!(runs(&env), 2, "an ignored path caused a run");
}

#[test]
fn a_burst_of_5000_files_runs_the_build_once() {
    let env = env_with(
        r#"project "burst"

build "gen" {
    sh "echo run >>runs.txt"
    watch "src/**"
}
"#,
        &[("src/main.txt", "x")],
    );
    let root = env.project_dir.clone();
    env.devctl(&["up"]).expect_code(0);
    assert_eq!(runs(&env), 1);
    for d in 0..50 {
        for i in 0..100 {
            write(&root, &format!("src/pkg{d}/f{i}.txt"), "x");
        }
    }
    let u = wait_field(&env, "burst", "gen", "the burst's run", |u| {
        u["trigger"]
            .as_str()
            .is_some_and(|t| t.starts_with("file change:"))
            && u["sub"] == "exited"
    });
    let t = u["trigger"].as_str().unwrap();
    assert!(t.contains("more)"), "{t}");
    // Quiet period: no second run follows.
    std::thread::sleep(QUIET);
    assert_eq!(runs(&env), 2, "{}", log(&env, "burst", "gen"));
}

#[test]
fn manual_mode_records_changes_until_devctl_trigger() {
    let env = env_with(
        r#"project "man"

build "gen" {
    sh "echo run >>runs.txt"
    watch "src/**"
    trigger "manual"
}
"#,
        &[("src/main.txt", "x")],
    );
    let root = env.project_dir.clone();
    env.devctl(&["up"]).expect_code(0);
    assert_eq!(runs(&env), 1);
    write(&root, "src/a.txt", "x");
    write(&root, "src/b.txt", "x");
    write(&root, "src/c.txt", "x");
    wait_field(&env, "man", "gen", "3 pending changes", |u| {
        u["pending_changes"] == 3
    });
    assert_eq!(runs(&env), 1, "manual mode ran on a change");
    let shown = env.devctl(&["status", "gen"]).expect_code(0).stdout.clone();
    assert!(shown.contains("changes pending: 3 files"), "{shown}");
    assert!(log(&env, "man", "gen").contains("changes pending: 3 files"));
    env.devctl(&["trigger", "gen"]).expect_code(0);
    let u = wait_field(&env, "man", "gen", "manual run", |u| {
        u["trigger"] == "manual trigger (3 pending changes)" && u["sub"] == "exited"
    });
    assert_eq!(u["pending_changes"], 0);
    assert_eq!(runs(&env), 2);
}

#[test]
fn a_build_that_rewrites_its_own_inputs_is_stopped_and_reported() {
    let env = env_with(
        r#"project "loop"

build "gen" {
    sh "echo run >>runs.txt; date +%s%N >src/stamp.txt"
    watch "src/**"
}
"#,
        &[("src/main.txt", "x")],
    );
    let mut events = env.stream("/v1/events?project=loop").unwrap();
    env.devctl(&["up"]).expect_code(0);
    let u = wait_field(&env, "loop", "gen", "loop reported", |u| {
        u["message"]
            .as_str()
            .is_some_and(|m| m.contains("re-triggers itself"))
    });
    assert!(
        u["message"]
            .as_str()
            .unwrap()
            .contains("devctl trigger gen")
    );
    wait_event(&mut events, "loop event", |v| {
        v["unit"] == "gen"
            && v["message"]
                .as_str()
                .is_some_and(|m| m.contains("re-triggers itself"))
    });
    assert!(log(&env, "loop", "gen").contains("re-triggers itself"));
    // Quiet period once the current run is over: the loop is broken, no
    // further runs (a re-run queued before the detection is dropped).
    wait_field(&env, "loop", "gen", "gen settled", |u| {
        u["sub"] != "building"
    });
    let n = runs(&env);
    assert!(n <= 4, "{n} runs before the loop was caught");
    std::thread::sleep(QUIET);
    assert_eq!(runs(&env), n);
    assert!(
        unit(&env, "loop", "gen")["pending_changes"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // A manual trigger resumes it.
    env.devctl(&["trigger", "gen"]).expect_code(0);
    wait_until("manual run", CEILING, || (runs(&env) > n).then_some(()));
}

#[test]
fn a_fixed_build_starts_the_service_its_first_failure_held_back() {
    let env = env_with(BUILD_SERVE, &[("src/input.txt", "FAIL")]);
    let root = env.project_dir.clone();
    let up = env.devctl(&["up"]);
    assert_ne!(up.code, Some(0), "{up:?}");
    let web = wait_field(&env, "bs", "web", "web held back", |u| {
        u["active"] == "failed"
    });
    assert_eq!(web["result"], "dependency");
    write(&root, "src/input.txt", "v1");
    let web = wait_field(&env, "bs", "web", "web started", |u| {
        u["active"] == "active"
    });
    assert_eq!(
        web["trigger"],
        "build gen succeeded (file change: src/input.txt)"
    );
    wait_until("v1 served", CEILING, || {
        (read(&root, "served.txt") == "v1").then_some(())
    });
}

/// Context switches so far of each of `pid`'s threads, by thread id.
fn switches(pid: u32) -> std::collections::BTreeMap<String, (String, u64)> {
    let mut out = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let dir = t.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
        let n = status
            .lines()
            .filter(|l| l.contains("ctxt_switches"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
        let tid = t.file_name().to_string_lossy().into_owned();
        out.insert(tid, (comm.trim().to_string(), n));
    }
    out
}

/// The threads that switched between two snapshots, and how often.
fn woke(
    a: &std::collections::BTreeMap<String, (String, u64)>,
    b: &std::collections::BTreeMap<String, (String, u64)>,
) -> Vec<(String, u64)> {
    b.iter()
        .filter_map(|(tid, (comm, n))| {
            let d = n - a.get(tid).map_or(0, |x| x.1);
            (d > 0).then(|| (comm.clone(), d))
        })
        .collect()
}

/// An idle daemon does no work, watches included: with a build and a
/// service watching files, up and nothing changing, the daemon's threads
/// stay asleep. (The file-event debouncer it used to run woke every
/// 25 ms: some 80 switches in the 2 s measured here.)
#[test]
fn a_watched_project_left_alone_wakes_nothing_in_the_daemon() {
    let mut env = TestEnv::new();
    env.write_manifest(
        r#"project "still"

build "gen" {
    sh "echo run >>runs.txt"
    watch "src/**"
}

service "web" {
    sh "exec sleep 1000"
    watch "src/**"
    requires "gen" until="succeeded"
}
"#,
    );
    write(&env.project_dir, "src/a.txt", "a");
    write(&env.project_dir, "src/deep/b.txt", "b");
    let pid = env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    // What `up` set going (run records, log writes) ends first: wait for a
    // 300 ms window in which no thread switched.
    let settle = std::time::Instant::now() + CEILING;
    loop {
        let a = switches(pid);
        std::thread::sleep(Duration::from_millis(300));
        let w = woke(&a, &switches(pid));
        if w.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < settle,
            "the daemon never went quiet after `up`: {w:?}"
        );
    }
    let a = switches(pid);
    std::thread::sleep(Duration::from_secs(2));
    let w = woke(&a, &switches(pid));
    let total: u64 = w.iter().map(|(_, n)| n).sum();
    assert!(total <= 2, "an idle daemon woke up: {w:?}");
    assert_eq!(runs(&env), 1);
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}
