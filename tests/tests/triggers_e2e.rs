//! Runs that start on their own, and runs that need not start, end to end
//! through the real `devctl` and `devctld`: `every` schedules running on
//! time and never overlapping a slow run, `status` showing the next run,
//! a disabled schedule not firing, `devctl trigger` running one now, a
//! fire missed while the daemon was down skipped (the next one runs); a
//! commit in the project's repository triggering exactly one run of an
//! `on-commit` build (a `git status` none, a worktree too); up-to-date
//! builds not re-run by `up` (across `down` and a daemon stop) until an
//! input changes or `--force`; the manifest errors of these settings.
//!
//! Waits are conditions with generous ceilings. Where a test must show
//! that *no* run happened, it holds a short documented quiet period
//! (longer than the schedule or debounce it rules out) and re-counts.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use devctl_tests::{CEILING, TestEnv, wait_until};
use serde_json::Value;

/// Longer than every debounce and schedule interval these tests rule out.
const QUIET: Duration = Duration::from_millis(2500);

fn env_with(manifest: &str) -> TestEnv {
    let mut env = TestEnv::new();
    env.write_manifest(manifest);
    env.start_daemon();
    env
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap_or_default()
}

fn lines(env: &TestEnv, rel: &str) -> usize {
    read(&env.project_dir, rel).lines().count()
}

fn unit(env: &TestEnv, project: &str, name: &str) -> Value {
    let r = env
        .request("GET", &format!("/v1/projects/{project}/units/{name}"), None)
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn wait_lines(env: &TestEnv, rel: &str, n: usize) {
    wait_until(&format!("{n} lines in {rel}"), CEILING, || {
        (lines(env, rel) >= n).then_some(())
    });
}

/// Seconds since the epoch, as the `date +%s.%N` lines of a run log.
fn stamps(text: &str, tag: &str) -> Vec<f64> {
    text.lines()
        .filter_map(|l| l.strip_prefix(tag))
        .map(|t| t.trim().parse().unwrap())
        .collect()
}

const SCHEDULED: &str = r#"project "sched"

build "tick" {
    sh "echo \"start $(date +%s.%N)\" >>ticks.txt"
    every "2s"
}

build "slow" {
    sh "echo \"start $(date +%s.%N)\" >>slow.txt; sleep 3; echo \"end $(date +%s.%N)\" >>slow.txt"
    every "2s"
}
"#;

#[test]
fn an_every_2s_build_runs_on_time_three_times_and_never_overlaps_a_slow_run() {
    let env = env_with(SCHEDULED);
    env.devctl(&["up", "--no-block"]).expect_code(0);
    // The run `up` starts, then three scheduled runs.
    wait_lines(&env, "ticks.txt", 4);
    let ticks = stamps(&read(&env.project_dir, "ticks.txt"), "start ");
    let scheduled = &ticks[1..4];
    for w in scheduled.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            (1.0..5.0).contains(&gap),
            "scheduled runs of an every \"2s\" build {gap:.3}s apart: {ticks:?}"
        );
    }
    let status = unit(&env, "sched", "tick");
    assert!(
        status["trigger"]
            .as_str()
            .is_some_and(|t| t == "schedule: every \"2s\""),
        "{status}"
    );
    let next = status["next_run_ms"].as_u64().expect("a next run");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        next + 500 >= now && next <= now + 2500,
        "next {next}, now {now}"
    );

    // The slow build takes 3 s on a 2 s schedule: its runs follow one
    // another (a fire during a run queues one run after it), never overlap.
    wait_until("three slow runs ended", CEILING, || {
        (stamps(&read(&env.project_dir, "slow.txt"), "end ").len() >= 3).then_some(())
    });
    let text = read(&env.project_dir, "slow.txt");
    let kinds: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
    for pair in kinds.chunks(2) {
        assert!(
            pair == ["start", "end"] || pair == ["start"],
            "overlapping runs:\n{text}"
        );
    }
    let starts = stamps(&text, "start ");
    let ends = stamps(&text, "end ");
    for (i, end) in ends.iter().enumerate() {
        if let Some(next) = starts.get(i + 1) {
            assert!(
                next >= end,
                "run {} began before run {i} ended:\n{text}",
                i + 1
            );
        }
    }
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

#[test]
fn status_shows_the_next_run_a_disabled_schedule_does_not_fire_and_trigger_runs_now() {
    let env = env_with(
        r#"project "cal"

build "tick" {
    sh "echo run >>ticks.txt"
    every "1s"
}
"#,
    );
    env.devctl(&["up"]).expect_code(0);
    wait_lines(&env, "ticks.txt", 2);
    let out = env
        .devctl(&["status", "tick"])
        .expect_code(0)
        .stdout
        .clone();
    assert!(out.contains("Next run: "), "{out}");
    let show = env
        .devctl(&["show", "-P", "NextRun", "tick"])
        .expect_code(0)
        .stdout
        .clone();
    assert!(
        show.trim().starts_with("20") && show.trim().ends_with('Z'),
        "{show}"
    );

    env.devctl(&["disable", "tick"]).expect_code(0);
    let json: Value = serde_json::from_str(
        &env.devctl(&["status", "--json", "tick"])
            .expect_code(0)
            .stdout,
    )
    .unwrap();
    assert!(json[0].get("next_run_ms").is_none(), "{json}");
    // Let a run already going finish, then nothing more may run.
    wait_until("tick settled", CEILING, || {
        (unit(&env, "cal", "tick")["sub"] == "exited").then_some(())
    });
    let before = lines(&env, "ticks.txt");
    std::thread::sleep(QUIET);
    assert_eq!(
        lines(&env, "ticks.txt"),
        before,
        "a disabled schedule fired"
    );

    env.devctl(&["trigger", "tick"]).expect_code(0);
    wait_lines(&env, "ticks.txt", before + 1);
    assert_eq!(unit(&env, "cal", "tick")["trigger"], "manual trigger");
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Runs stamp their start. The build watches an input that never
/// changes, so `up` answers it "up to date" once it succeeded: every
/// run after the first is a schedule's.
const MISSED: &str = r#"project "miss"

build "tick" {
    sh "echo \"run $(date +%s.%N)\" >>ticks.txt"
    watch "in.txt"
    every "3s"
}
"#;

#[test]
fn a_fire_missed_while_the_daemon_was_down_is_skipped_and_the_next_one_runs() {
    let mut env = TestEnv::new();
    std::fs::write(env.project_dir.join("in.txt"), "v1").unwrap();
    env.write_manifest(MISSED);
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    let missed = unit(&env, "miss", "tick")["next_run_ms"]
        .as_u64()
        .expect("a next run");
    env.devctl(&["daemon", "stop"]).expect_code(0);
    // One run, or two on a machine slower than the schedule.
    let ran_before = lines(&env, "ticks.txt");
    // The daemon stays down until the fire is well past due.
    wait_until("the fire's time passed", CEILING, || {
        (now_ms() > missed + 500).then_some(())
    });
    let back_ms = now_ms();
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);

    // Status shows the next run: ahead, never the missed one.
    let next = unit(&env, "miss", "tick")["next_run_ms"]
        .as_u64()
        .expect("a next run after the restart");
    assert!(next > missed, "next {next}, missed {missed}");
    assert!(
        next + 100 >= now_ms() && next <= now_ms() + 3500,
        "next {next}, now {}",
        now_ms()
    );
    let out = env
        .devctl(&["status", "tick"])
        .expect_code(0)
        .stdout
        .clone();
    assert!(out.contains("Next run: "), "{out}");

    // The next fire runs; the first run since the restart began at the
    // time status showed, not when the daemon came back.
    wait_lines(&env, "ticks.txt", ran_before + 1);
    let starts = stamps(&read(&env.project_dir, "ticks.txt"), "run ");
    let first_after = starts[ran_before] * 1000.0;
    assert!(
        first_after + 50.0 >= next as f64,
        "a run at {first_after:.0} before the next fire {next}: {starts:?}"
    );

    // The run records since the restart: `up`'s up-to-date answer, then
    // the schedule's run; none for the missed fire.
    let since: Vec<Value> = wait_until("the scheduled run recorded", CEILING, || {
        let r = env.devctl(&["history", "--json", "tick"]);
        r.expect_code(0);
        let runs: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
        // Oldest first.
        let since: Vec<Value> = runs
            .into_iter()
            .rev()
            .filter(|r| r["queued_ms"].as_u64().is_some_and(|q| q >= back_ms))
            .collect();
        let ended = since.get(1).is_some_and(|r| !r["result"].is_null());
        ended.then_some(since)
    });
    let triggers: Vec<&str> = since
        .iter()
        .map(|r| r["trigger"]["type"].as_str().unwrap_or("?"))
        .collect();
    // (Later fires may have run by now: schedule runs too.)
    assert_eq!(triggers[..2], ["up-to-date", "schedule"], "{since:?}");
    assert!(triggers[2..].iter().all(|t| *t == "schedule"), "{since:?}");
    assert_eq!(since[1]["result"], "success", "{since:?}");
    assert!(
        since[1]["spawned_ms"]
            .as_u64()
            .is_some_and(|s| s + 50 >= next),
        "{since:?}"
    );
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

const ON_COMMIT: &str = r#"project "oc"

build "test" {
    sh "echo run >>../runs.txt"
    on-commit
}
"#;

fn repo_with_manifest(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("devctl.kdl"), ON_COMMIT).unwrap();
    std::fs::write(dir.join("a.txt"), "one").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "first"]);
}

#[test]
fn a_commit_triggers_exactly_one_run_and_git_status_none() {
    let mut env = TestEnv::new();
    let root = env.project_dir.clone();
    repo_with_manifest(&root);
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    let runs = || read(root.parent().unwrap(), "runs.txt").lines().count();
    assert_eq!(runs(), 1);

    // Index churn: status refreshes the index, add stages a change.
    std::fs::write(root.join("a.txt"), "two").unwrap();
    git(&root, &["status"]);
    git(&root, &["add", "a.txt"]);
    git(&root, &["status", "--porcelain"]);
    std::thread::sleep(QUIET);
    assert_eq!(runs(), 1, "index churn triggered a run");

    git(&root, &["commit", "-q", "-m", "second"]);
    let head = git(&root, &["rev-parse", "HEAD"]);
    wait_until("the commit's run", CEILING, || (runs() == 2).then_some(()));
    // The run writes its line before the daemon may have taken in the
    // actor's report of it: wait for the status to name the commit.
    let want = format!("commit {}", &head[..12]);
    wait_until("the run's trigger in the status", CEILING, || {
        (unit(&env, "oc", "test")["trigger"] == want.as_str()).then_some(())
    });
    std::thread::sleep(QUIET);
    assert_eq!(runs(), 2, "one commit, more than one run");

    // A checkout of another commit moves HEAD too: one more run.
    git(&root, &["checkout", "-q", "HEAD~1"]);
    wait_until("the checkout's run", CEILING, || {
        (runs() == 3).then_some(())
    });
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

#[test]
fn a_commit_in_a_worktree_triggers_its_build() {
    let mut env = TestEnv::new();
    let main = env.home.path().join("main");
    std::fs::create_dir_all(&main).unwrap();
    repo_with_manifest(&main);
    // The project is a linked worktree of that repository.
    std::fs::remove_dir_all(&env.project_dir).unwrap();
    let wt = env.project_dir.clone();
    git(
        &main,
        &["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()],
    );
    assert!(wt.join(".git").is_file());
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    let runs = || read(wt.parent().unwrap(), "runs.txt").lines().count();
    assert_eq!(runs(), 1);
    // A commit on the main checkout moves another branch: not this HEAD.
    git(&main, &["commit", "-q", "--allow-empty", "-m", "elsewhere"]);
    std::thread::sleep(QUIET);
    assert_eq!(runs(), 1, "a commit on another branch triggered a run");
    git(&wt, &["commit", "-q", "--allow-empty", "-m", "here"]);
    wait_until("the worktree commit's run", CEILING, || {
        (runs() == 2).then_some(())
    });
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

const IDEMPOTENT: &str = r#"project "idem"

build "gen" {
    sh "echo run >>runs.txt; cp src/in.txt out.txt"
    watch "src/**"
}

service "web" {
    sh "exec sleep 1000"
    requires "gen" until="succeeded"
}
"#;

#[test]
fn up_runs_an_unchanged_build_once_and_again_after_an_input_changes() {
    let mut env = TestEnv::new();
    let root = env.project_dir.clone();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/in.txt"), "v1").unwrap();
    env.write_manifest(IDEMPOTENT);
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    env.devctl(&["up"]).expect_code(0);
    assert_eq!(lines(&env, "runs.txt"), 1);

    // Down and up again: the build's inputs are unchanged, its last result
    // stands and its dependent starts on it.
    env.devctl(&["down"]).expect_code(0);
    env.devctl(&["up"]).expect_code(0);
    assert_eq!(lines(&env, "runs.txt"), 1, "an up-to-date build ran again");
    // The history tells the run from the skip: newest first, the `up`
    // after `down` was answered "up to date" without running.
    let runs: Vec<Value> = wait_until("the skip in the history", CEILING, || {
        let r = env.devctl(&["history", "--json", "gen"]);
        r.expect_code(0);
        let runs: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
        (runs.len() >= 2).then_some(runs)
    });
    let triggers: Vec<&str> = runs
        .iter()
        .map(|r| r["trigger"]["type"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(triggers, ["up-to-date", "verb"], "{runs:?}");
    assert_eq!(runs[0]["result"], "success", "{runs:?}");
    assert!(runs[0]["spawned_ms"].is_null(), "{runs:?}");
    let gen_unit = unit(&env, "idem", "gen");
    assert_eq!(gen_unit["sub"], "exited", "{gen_unit}");
    assert_eq!(gen_unit["result"], "success", "{gen_unit}");
    assert!(
        gen_unit["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("up to date since ")),
        "{gen_unit}"
    );
    assert_eq!(unit(&env, "idem", "web")["active"], "active");
    let status = env.devctl(&["status", "gen"]).expect_code(0).stdout.clone();
    assert!(status.contains("up to date since"), "{status}");

    // An input changes while the project is down: the next up runs it.
    env.devctl(&["down"]).expect_code(0);
    std::fs::write(root.join("src/in.txt"), "v2").unwrap();
    env.devctl(&["up"]).expect_code(0);
    assert_eq!(lines(&env, "runs.txt"), 2);
    assert_eq!(read(&root, "out.txt"), "v2");

    // The fingerprint survives the daemon.
    env.devctl(&["daemon", "stop"]).expect_code(0);
    env.devctl(&["up"]).expect_code(0);
    assert_eq!(
        lines(&env, "runs.txt"),
        2,
        "ran again after a daemon restart"
    );
    assert_eq!(unit(&env, "idem", "web")["active"], "active");

    // --force and trigger run it anyway.
    env.devctl(&["down"]).expect_code(0);
    env.devctl(&["up", "--force"]).expect_code(0);
    assert_eq!(lines(&env, "runs.txt"), 3);
    env.devctl(&["trigger", "gen"]).expect_code(0);
    wait_lines(&env, "runs.txt", 4);
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

/// An `up` trusts the daemon's file watch that nothing changed since its
/// last look at the inputs (it then stats nothing): an input written just
/// before `up`, with no pause for the watch to catch up, must still make
/// the build run, every time, and an unchanged `up` must not.
#[test]
fn an_input_written_right_before_up_is_always_seen() {
    let mut env = TestEnv::new();
    let root = env.project_dir.clone();
    std::fs::create_dir_all(root.join("src/deep")).unwrap();
    std::fs::write(root.join("src/in.txt"), "v0").unwrap();
    env.write_manifest(IDEMPOTENT);
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    let mut runs = 1;
    for i in 1..=12 {
        env.devctl(&["down"]).expect_code(0);
        env.devctl(&["up"]).expect_code(0);
        assert_eq!(lines(&env, "runs.txt"), runs, "unchanged, yet run ({i})");
        env.devctl(&["down"]).expect_code(0);
        // Alternate between the file itself and a new file deeper down.
        if i % 2 == 0 {
            std::fs::write(root.join("src/in.txt"), format!("v{i}")).unwrap();
        } else {
            std::fs::write(root.join(format!("src/deep/n{i}.txt")), "x").unwrap();
        }
        env.devctl(&["up"]).expect_code(0);
        runs += 1;
        assert_eq!(lines(&env, "runs.txt"), runs, "change {i} not seen");
        if i % 2 == 0 {
            assert_eq!(read(&root, "out.txt"), format!("v{i}"));
        }
    }
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

#[test]
fn a_failed_build_and_a_build_without_inputs_always_run() {
    let mut env = TestEnv::new();
    let root = env.project_dir.clone();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/in.txt"), "FAIL").unwrap();
    env.write_manifest(
        r#"project "fr"

build "check" {
    sh "echo run >>check.txt; ! grep -q FAIL src/in.txt"
    watch "src/**"
}

build "plain" {
    sh "echo run >>plain.txt"
}

build "always" {
    sh "echo run >>always.txt"
    watch "src/**"
    always-run
}
"#,
    );
    env.start_daemon();
    env.devctl(&["up"]).expect_code(1);
    env.devctl(&["down"]).expect_code(0);
    env.devctl(&["up"]).expect_code(1);
    assert_eq!(
        lines(&env, "check.txt"),
        2,
        "a failed build counts as not done"
    );
    assert_eq!(
        lines(&env, "plain.txt"),
        2,
        "a build without inputs always runs"
    );
    assert_eq!(lines(&env, "always.txt"), 2, "always-run always runs");
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

fn check_fails(manifest: &str, wants: &[&str]) {
    let env = TestEnv::new();
    env.write_manifest(manifest);
    let r = env.devctl(&["check"]);
    r.expect_code(65);
    for w in wants {
        assert!(r.stderr.contains(w), "wanted {w:?} in:\n{}", r.stderr);
    }
}

#[test]
fn bad_schedules_and_on_commit_outside_a_repository_are_manifest_errors() {
    check_fails(
        "project \"e\"\nbuild \"b\" {\n    run \"true\"\n    schedule \"*/15 * * *\"\n}\n",
        &[
            "is not a cron pattern",
            "devctl.kdl:4:14",
            "minute hour day-of-month month day-of-week",
        ],
    );
    check_fails(
        "project \"e\"\nbuild \"b\" {\n    run \"true\"\n    every \"often\"\n}\n",
        &["is not a duration", "devctl.kdl:4:11"],
    );
    check_fails(
        "project \"e\"\nbuild \"b\" {\n    run \"true\"\n    on-commit\n}\n",
        &["not in a git repository", "git init", "devctl.kdl:4:5"],
    );
}
