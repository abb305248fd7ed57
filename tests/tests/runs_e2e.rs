//! Run history end to end through the real `devctl` and `devctld`: every
//! start of a unit recorded with its trigger, result, duration and
//! resource use (`devctl history`, `/v1/runs`), the ETA of a build with a
//! few successful runs, `logs --run` after a daemon kill -9 and restart,
//! `logs --grep/--stream`, the peak memory of a tree, and a corrupt
//! database set aside. Waits are conditions with generous ceilings.

use std::time::Duration;

use devctl_tests::{CEILING, TestEnv, wait_until};
use serde_json::Value;

fn env_with(manifest: &str) -> TestEnv {
    let mut env = TestEnv::new();
    env.write_manifest(manifest);
    env.start_daemon();
    env
}

/// `devctl history --json` with extra arguments.
fn history(env: &TestEnv, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["history", "--json"];
    all.extend_from_slice(args);
    let r = env.devctl(&all);
    r.expect_code(0);
    serde_json::from_str::<Vec<Value>>(&r.stdout)
        .unwrap_or_else(|e| panic!("history --json is not a list of runs: {e}\n{}", r.stdout))
}

fn unit(env: &TestEnv, project: &str, name: &str) -> Value {
    let r = env
        .request("GET", &format!("/v1/projects/{project}/units/{name}"), None)
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

const CRASH_LOOP: &str = r#"project "cl"

service "flaky" {
    sh "echo starting; exit 3"
    restart "on-failure" backoff="100ms" max-delay="200ms" limit=4 within="1m"
}
"#;

#[test]
fn a_crash_looping_service_history_shows_each_restart_with_its_exit_and_backoff() {
    let env = env_with(CRASH_LOOP);
    env.devctl(&["start", "--no-block", "flaky"]).expect_code(0);
    // Four starts within a minute allowed: the fourth run's exit hits
    // the limit and no fifth is queued.
    let runs = wait_until("four runs of flaky ended", CEILING, || {
        let runs = history(&env, &["flaky"]);
        (runs.len() == 4 && runs.iter().all(|r| !r["ended_ms"].is_null())).then_some(runs)
    });
    assert_eq!(runs[0]["result"], "start-limit-hit", "{runs:#?}");
    // Newest first; the oldest was the user's verb from the CLI.
    let oldest = runs.last().unwrap();
    assert_eq!(oldest["trigger"]["type"], "verb", "{oldest}");
    assert_eq!(oldest["trigger"]["verb"], "start");
    assert_eq!(oldest["trigger"]["source"], "cli");
    let spawned: Vec<&Value> = runs.iter().filter(|r| !r["spawned_ms"].is_null()).collect();
    assert_eq!(spawned.len(), 4, "{runs:#?}");
    for r in &spawned {
        assert_eq!(r["exit"]["code"], 3, "each run exited 3: {r}");
        assert_eq!(r["kind"], "service");
    }
    for r in &runs[1..] {
        assert_eq!(r["result"], "exit-code", "{r}");
    }
    let restarts: Vec<&Value> = runs
        .iter()
        .filter(|r| r["trigger"]["type"] == "restart")
        .collect();
    assert_eq!(restarts.len(), 3, "{runs:#?}");
    for r in &restarts {
        assert_eq!(r["trigger"]["after"]["code"], 3, "{r}");
        let backoff = r["trigger"]["backoff_ms"].as_u64().unwrap();
        assert!((1..=1000).contains(&backoff), "backoff {backoff} ms: {r}");
    }
    // Every id is distinct and the table names the trigger and the exit.
    let mut ids: Vec<&str> = runs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), runs.len());
    let table = env.devctl(&["history", "flaky"]);
    table.expect_code(0);
    assert!(table.stdout.starts_with("RUN"), "{}", table.stdout);
    assert!(
        table.stdout.contains("restart after exit 3"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("exit-code (exit 3)"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("start (cli)"), "{}", table.stdout);
    // --failed keeps only failures; every run here failed.
    assert_eq!(history(&env, &["--failed", "flaky"]).len(), runs.len());
    // The API pages through the same runs.
    let page = env
        .request("GET", "/v1/runs?project=cl&unit=flaky&limit=3", None)
        .unwrap()
        .json();
    assert_eq!(page["runs"].as_array().unwrap().len(), 3);
    let next = page["next"].as_str().unwrap();
    let rest = env
        .request(
            "GET",
            &format!("/v1/runs?project=cl&limit=3&before={next}"),
            None,
        )
        .unwrap()
        .json();
    assert_eq!(rest["runs"].as_array().unwrap().len(), 1);
    assert_eq!(rest["runs"][0]["id"], runs[3]["id"]);
    assert!(rest["next"].is_null());
}

const BUILD_AND_SERVICE: &str = r#"project "lr"

build "gen" {
    sh "echo generating $RANDOM; echo to-stderr >&2"
}

service "web" {
    sh "echo serving; exec sleep 1000"
}
"#;

#[test]
fn logs_run_prints_only_that_runs_lines_after_a_daemon_kill_and_restart() {
    let mut env = TestEnv::new();
    env.write_manifest(BUILD_AND_SERVICE);
    let daemon = env.start_daemon();
    env.devctl(&["start", "gen", "web"]).expect_code(0);
    env.devctl(&["restart", "gen"]).expect_code(0);
    let runs = wait_until("two finished runs of gen", CEILING, || {
        let r = history(&env, &["gen"]);
        (r.len() == 2 && r.iter().all(|r| r["result"] == "success")).then_some(r)
    });
    let (newer, older) = (
        runs[0]["id"].as_str().unwrap().to_owned(),
        runs[1]["id"].as_str().unwrap().to_owned(),
    );
    // The running service's run is recorded as spawned before the kill.
    wait_until("web's run recorded as running", CEILING, || {
        let r = history(&env, &["web"]);
        (r.len() == 1 && !r[0]["spawned_ms"].is_null()).then_some(())
    });
    env.signal_daemon(daemon, nix::sys::signal::Signal::SIGKILL);
    env.wait_daemon_exit(daemon, CEILING);
    env.start_daemon();

    let older_lines = env.devctl(&["logs", "--run", &older]);
    older_lines.expect_code(0);
    let newer_lines = env.devctl(&["logs", "--run", &newer]);
    newer_lines.expect_code(0);
    for out in [&older_lines.stdout, &newer_lines.stdout] {
        assert_eq!(out.matches("generating").count(), 1, "{out}");
        assert!(!out.contains("serving"), "another unit's lines: {out}");
    }
    assert_ne!(older_lines.stdout, newer_lines.stdout);
    // --stream and --grep filter in the daemon.
    let stderr_only = env.devctl(&["logs", "--run", &older, "--stream", "stderr"]);
    stderr_only.expect_code(0);
    assert!(
        stderr_only.stdout.contains("to-stderr"),
        "{}",
        stderr_only.stdout
    );
    assert!(
        !stderr_only.stdout.contains("generating"),
        "{}",
        stderr_only.stdout
    );
    let grep = env.devctl(&["logs", "gen", "web", "--grep", "^(serving|to-)"]);
    grep.expect_code(0);
    let lines: Vec<&str> = grep.stdout.lines().collect();
    assert!(lines.iter().any(|l| l.ends_with("serving")), "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|l| l.ends_with("serving") || l.ends_with("to-stderr")),
        "{lines:?}"
    );
    // The run the killed daemon left running ended when the new one
    // started (its processes were stopped then), without a result.
    let web = history(&env, &["web"]);
    let killed = web
        .iter()
        .find(|r| r["trigger"]["source"] == "cli")
        .unwrap();
    assert!(!killed["ended_ms"].is_null(), "{killed}");
}

#[test]
fn logs_run_errors_name_the_problem() {
    let env = env_with(BUILD_AND_SERVICE);
    let bad = env.devctl(&["logs", "--run", "nope"]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("not a run id"), "{}", bad.stderr);
    let missing = env.devctl(&["logs", "--run", "0000000000"]);
    missing.expect_code(4);
    assert!(
        missing.stderr.contains("no run 0000000000"),
        "{}",
        missing.stderr
    );
    let regex = env.devctl(&["logs", "--grep", "("]);
    regex.expect_code(2);
    assert!(
        regex.stderr.contains("not a valid regular expression"),
        "{}",
        regex.stderr
    );
    let r = env
        .request("GET", "/v1/runs?project=lr&limit=x", None)
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    let r = env.request("GET", "/v1/runs/not-an-id", None).unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    let r = env
        .request("GET", "/v1/logs?project=lr&stream=both", None)
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
}

#[test]
fn status_of_a_unit_shows_its_run_and_last_runs() {
    let env = env_with(BUILD_AND_SERVICE);
    env.devctl(&["start", "gen", "web"]).expect_code(0);
    let web = wait_until("web's usage sampled", CEILING, || {
        let u = unit(&env, "lr", "web");
        u["usage"]["rss_bytes"]
            .as_u64()
            .filter(|b| *b > 0)
            .map(|_| u)
    });
    let run = web["run"].as_str().unwrap().to_owned();
    assert_eq!(web["recent_runs"][0]["id"], run.as_str());
    let out = env.devctl(&["status", "web"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains(&format!("Run: {run}")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Usage: "), "{}", out.stdout);
    assert!(out.stdout.contains("Recent runs:"), "{}", out.stdout);
    let table = env.devctl(&["status"]);
    assert!(
        table.stdout.lines().next().unwrap().contains("CPU"),
        "{}",
        table.stdout
    );
    let _ = Duration::ZERO;
}

const WATCHED_BUILD: &str = r#"project "wb"

build "gen" {
    sh "cat src/*.txt >/dev/null; sleep 0.2"
    watch "src/**"
}
"#;

#[test]
fn a_watch_triggered_rebuild_names_the_changed_file() {
    let mut env = TestEnv::new();
    std::fs::create_dir_all(env.project_dir.join("src")).unwrap();
    std::fs::write(env.project_dir.join("src/a.txt"), "1").unwrap();
    env.write_manifest(WATCHED_BUILD);
    env.start_daemon();
    env.devctl(&["start", "gen"]).expect_code(0);
    wait_until("the first build recorded", CEILING, || {
        let r = history(&env, &["gen"]);
        (r.len() == 1 && r[0]["result"] == "success").then_some(())
    });
    std::fs::write(env.project_dir.join("src/a.txt"), "2").unwrap();
    let rebuilt = wait_until("a rebuild after the edit", CEILING, || {
        let r = history(&env, &["gen"]);
        (r.len() == 2 && r[0]["result"] == "success").then(|| r[0].clone())
    });
    assert_eq!(rebuilt["trigger"]["type"], "file-change", "{rebuilt}");
    assert_eq!(rebuilt["trigger"]["paths"][0], "src/a.txt", "{rebuilt}");
    let table = env.devctl(&["history", "gen"]);
    assert!(
        table.stdout.contains("file change: src/a.txt"),
        "{}",
        table.stdout
    );
}

const TIMED_BUILD: &str = r#"project "eta"

build "slowgen" {
    sh "if [ -f slow ]; then sleep 60; fi; sleep 0.2"
}
"#;

#[test]
fn a_builds_eta_appears_once_it_has_a_few_successful_runs() {
    let env = env_with(TIMED_BUILD);
    for n in 1..=3 {
        env.devctl(&["restart", "slowgen"]).expect_code(0);
        wait_until("the build to succeed", CEILING, || {
            let r = history(&env, &["slowgen"]);
            (r.len() == n && r[0]["result"] == "success").then_some(())
        });
    }
    std::fs::write(env.project_dir.join("slow"), "").unwrap();
    env.devctl(&["restart", "--no-block", "slowgen"])
        .expect_code(0);
    let out = wait_until("status to show the ETA", CEILING, || {
        let r = env.devctl(&["status", "slowgen"]);
        r.stdout.contains("usually").then_some(r.stdout)
    });
    let run_line = out.lines().find(|l| l.contains("Run:")).unwrap();
    assert!(run_line.contains("running "), "{out}");
    assert!(
        run_line.contains("usually 200ms") || run_line.contains("usually 2"),
        "{out}"
    );
    let u = unit(&env, "eta", "slowgen");
    let usual = u["usual_ms"].as_u64().unwrap();
    assert!((200..5_000).contains(&usual), "usual {usual} ms");
    env.devctl(&["stop", "slowgen"]).expect_code(0);
}

const ALLOCATES: &str = r#"project "mem"

service "hog" {
    sh "exec python3 -c 'import subprocess,sys,time; subprocess.run([sys.executable, \"-c\", \"b = b\\\"x\\\" * (200 * 1024 * 1024); print(len(b))\"]); print(\"child done\", flush=True); time.sleep(1000)'"
}
"#;

#[test]
fn peak_memory_of_a_service_allocating_200_mib_in_a_child_is_within_ten_percent() {
    let env = env_with(ALLOCATES);
    env.devctl(&["start", "hog"]).expect_code(0);
    wait_until("the child to finish", CEILING, || {
        let r = env.devctl(&["logs", "hog"]);
        r.stdout.contains("child done").then_some(())
    });
    env.devctl(&["stop", "hog"]).expect_code(0);
    let run = wait_until("the run to end", CEILING, || {
        let r = history(&env, &["hog"]);
        (r.len() == 1 && !r[0]["ended_ms"].is_null()).then(|| r[0].clone())
    });
    let peak = run["resources"]["peak_rss_bytes"].as_u64().unwrap() as f64;
    // The child's 200 MiB, waited for by the service's main process.
    let expected = 200.0 * 1024.0 * 1024.0;
    let off = (peak - expected).abs() / expected;
    assert!(
        off < 0.10,
        "peak {peak} bytes is {:.1}% off {expected}",
        off * 100.0
    );
    assert!(run["resources"]["cpu_ms"].as_u64().unwrap() > 0, "{run}");
}

#[test]
fn history_retention_keeps_the_newest_runs_of_each_unit() {
    let mut env = TestEnv::new();
    env.write_manifest(TIMED_BUILD);
    let mut cmd = env.daemon_command();
    cmd.env("DEVCTL_HISTORY_RUNS", "3");
    let pid = env.spawn_daemon_cmd(cmd);
    env.wait_daemon_ready(pid);
    let mut ids = Vec::new();
    for n in 1..=5 {
        env.devctl(&["restart", "slowgen"]).expect_code(0);
        let newest = wait_until("the build to succeed", CEILING, || {
            let r = history(&env, &["slowgen"]);
            (r.len() == n.min(3) && r[0]["result"] == "success" && !ids.contains(&r[0]["id"]))
                .then(|| r[0]["id"].clone())
        });
        ids.push(newest);
    }
    let kept: Vec<Value> = history(&env, &["slowgen"])
        .into_iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(kept, ids.iter().rev().take(3).cloned().collect::<Vec<_>>());
}

#[test]
fn a_corrupt_history_is_set_aside_and_a_fresh_one_started() {
    let mut env = TestEnv::new();
    env.write_manifest(TIMED_BUILD);
    std::fs::create_dir_all(env.state_dir()).unwrap();
    std::fs::write(env.state_dir().join("runs.db"), vec![0x5a; 64 * 1024]).unwrap();
    env.start_daemon();
    env.devctl(&["restart", "slowgen"]).expect_code(0);
    wait_until("the run recorded in a fresh history", CEILING, || {
        let r = history(&env, &["slowgen"]);
        (r.len() == 1 && r[0]["result"] == "success").then_some(())
    });
    let aside: Vec<String> = std::fs::read_dir(env.state_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("runs.db.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(env.daemon_log().contains("runs.db"), "{}", env.daemon_log());
}

#[test]
fn a_daemon_without_history_says_so_and_bad_settings_stop_it() {
    let mut env = TestEnv::new();
    env.write_manifest(TIMED_BUILD);
    let mut bad = env.daemon_command();
    bad.env("DEVCTL_HISTORY_RUNS", "0");
    let pid = env.spawn_daemon_cmd(bad);
    assert_eq!(env.wait_daemon_exit(pid, CEILING), Some(69));
    assert!(
        env.daemon_log()
            .contains("DEVCTL_HISTORY_RUNS=0 is not usable"),
        "{}",
        env.daemon_log()
    );
    let mut off = env.daemon_command();
    off.env("DEVCTL_HISTORY", "off");
    let pid = env.spawn_daemon_cmd(off);
    env.wait_daemon_ready(pid);
    env.devctl(&["restart", "slowgen"]).expect_code(0);
    let r = env.devctl(&["history"]);
    r.expect_code(1);
    assert!(r.stderr.contains("keeps no run history"), "{}", r.stderr);
    assert!(!env.state_dir().join("runs.db").exists());
}

const CHATTY: &str = r#"project "rot"

build "chatty" {
    sh "if [ -f flood ]; then head -c 40000000 /dev/zero | tr '\\0' x | fold -w 100; else echo first-run-line; fi"
}
"#;

#[test]
fn logs_run_says_rotated_away_when_the_log_no_longer_holds_the_run() {
    let env = env_with(CHATTY);
    env.devctl(&["restart", "chatty"]).expect_code(0);
    let first = wait_until("the first run recorded", CEILING, || {
        let r = history(&env, &["chatty"]);
        (r.len() == 1 && r[0]["result"] == "success")
            .then(|| r[0]["id"].as_str().unwrap().to_owned())
    });
    let before = env.devctl(&["logs", "--run", &first]);
    before.expect_code(0);
    assert!(
        before.stdout.contains("first-run-line"),
        "{}",
        before.stdout
    );
    // 40 MB of output: more than the four 8 MiB files a unit keeps by
    // default.
    std::fs::write(env.project_dir.join("flood"), "").unwrap();
    env.devctl(&["restart", "chatty"]).expect_code(0);
    wait_until("the flooding run recorded", CEILING, || {
        let r = history(&env, &["chatty"]);
        (r.len() == 2 && r[0]["result"] == "success").then_some(())
    });
    let gone = env.devctl(&["logs", "--run", &first]);
    gone.expect_code(4);
    assert!(gone.stderr.contains("rotated away"), "{}", gone.stderr);
    assert!(
        gone.stderr.contains("chatty keeps 4 × 8 MiB"),
        "{}",
        gone.stderr
    );
}
