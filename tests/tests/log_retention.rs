//! Log retention end to end through the real `devctl` and `devctld`: a
//! unit's `logs { }` bounds what stays on disk, `logs --run` of a run whose
//! lines were removed says "rotated away" (all of them: an error; some: a
//! notice, and a structured one with `--json`, before what remains), the
//! daemon's `DEVCTL_LOGS_*` default applies to units that say nothing, age
//! is applied when the log is read (no timer), and bad settings are refused
//! with their span and help. Waits are conditions with generous ceilings.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use devctl_tests::{CEILING, Run, TestEnv, wait_until};
use serde_json::Value;

/// Each start writes `$(cat burst)` lines of about 100 bytes between a
/// `begin` and an `end-of-burst` line, then idles.
fn chatty(logs: &str) -> String {
    format!(
        r#"project "ret"

service "chatty" {{
    sh "n=$(cat burst); echo begin-of-burst; i=0; while [ $i -lt $n ]; do echo line-$i-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; i=$((i+1)); done; echo end-of-burst; exec sleep 600"
    {logs}
}}
"#
    )
}

/// The unit's log files on disk (not the watermark), with their sizes.
fn log_files(env: &TestEnv, unit: &str) -> Vec<(String, u64)> {
    let dir = env.state_dir().join("logs").join("ret");
    let mut files: Vec<(String, u64)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let rest = name.strip_prefix(&format!("{unit}.log"))?;
            (rest.is_empty() || rest[1..].parse::<u32>().is_ok())
                .then(|| (name, e.metadata().unwrap().len()))
        })
        .collect();
    files.sort();
    files
}

/// Restart the unit (or start it the first time) and wait until the new
/// run's burst is logged; its run id.
fn burst(env: &TestEnv, unit: &str, lines: u32, runs_before: usize) -> String {
    std::fs::write(env.project_dir.join("burst"), lines.to_string()).unwrap();
    env.devctl(&["restart", unit]).expect_code(0);
    let id = wait_until("the new run recorded", CEILING, || {
        let r = history(env, unit);
        (r.len() == runs_before + 1).then(|| r[0]["id"].as_str().unwrap().to_owned())
    });
    wait_until("the burst logged", CEILING, || {
        let r = env.devctl(&["logs", "--run", &id]);
        (r.code == Some(0) && r.stdout.contains("end-of-burst")).then_some(())
    });
    id
}

fn history(env: &TestEnv, unit: &str) -> Vec<Value> {
    let r = env.devctl(&["history", "--json", unit]);
    r.expect_code(0);
    serde_json::from_str(&r.stdout).unwrap()
}

fn assert_rotated_away(r: &Run, keeps: &str) {
    r.expect_code(4);
    assert!(
        r.stderr.contains("were rotated away") && r.stderr.contains(keeps),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("logs {"),
        "the help names the setting: {}",
        r.stderr
    );
}

#[test]
fn a_chatty_unit_keeps_at_most_its_limit_and_old_runs_say_rotated_away() {
    let mut env = TestEnv::new();
    env.write_manifest(&chatty(r#"logs { max-size "64KiB"; files 2; }"#));
    env.start_daemon();
    let bound = 2 * 64 * 1024;
    // ~60 KB: the first run fits.
    let first = burst(&env, "chatty", 600, 0);
    let whole = env.devctl(&["logs", "--run", &first]);
    whole.expect_code(0);
    assert!(whole.stdout.contains("begin-of-burst"), "{}", whole.stdout);
    assert!(!whole.stdout.contains("rotated away"), "{}", whole.stdout);
    let mut ids = vec![first.clone()];
    for n in 1..4 {
        ids.push(burst(&env, "chatty", 600, n));
        let files = log_files(&env, "chatty");
        let total: u64 = files.iter().map(|(_, len)| len).sum();
        assert!(files.len() <= 2, "{files:?}");
        assert!(total <= bound, "{total} bytes on disk: {files:?}");
        assert!(files.iter().all(|(_, len)| *len <= 64 * 1024), "{files:?}");
    }
    // Four runs of ~60 KB in 128 KiB: the first is gone entirely.
    assert_rotated_away(
        &env.devctl(&["logs", "--run", &first]),
        "chatty keeps 2 × 64 KiB",
    );
    let latest = env.devctl(&["logs", "--run", ids.last().unwrap()]);
    latest.expect_code(0);
    assert!(
        latest.stdout.contains("begin-of-burst"),
        "{}",
        latest.stdout
    );
    assert!(latest.stdout.contains("end-of-burst"), "{}", latest.stdout);

    // ~200 KB in one run: its beginning is gone, its end is printed after
    // a notice saying so.
    let big = burst(&env, "chatty", 2000, 4);
    let partial = env.devctl(&["logs", "--run", &big]);
    partial.expect_code(0);
    let first_line = partial.stdout.lines().next().unwrap_or_default();
    assert!(
        first_line.starts_with(&format!("-- lines of run {big} up to "))
            && first_line.ends_with(
                "were rotated away (chatty keeps 2 × 64 KiB; see logs { } in devctl.kdl(5)) --"
            ),
        "{}",
        partial.stdout
    );
    assert!(
        partial.stdout.contains("end-of-burst"),
        "{}",
        partial.stdout
    );
    assert!(
        !partial.stdout.contains("begin-of-burst"),
        "{}",
        partial.stdout
    );
    assert!(!partial.stdout.contains("line-0-"), "{}", partial.stdout);
    let json = env.devctl(&["logs", "--json", "--run", &big]);
    json.expect_code(0);
    let lines: Vec<Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let notice = &lines[0]["notice"];
    assert_eq!(notice["type"], "rotated-away", "{}", json.stdout);
    assert_eq!(notice["run"], big.as_str());
    assert_eq!(notice["unit"], "chatty");
    assert_eq!(notice["retention"]["files"], 2);
    assert_eq!(notice["retention"]["max_file_bytes"], 64 * 1024);
    let through = notice["through_us"].as_u64().unwrap();
    // A batch split by a rotation shares one time on both sides.
    assert!(
        lines[1..]
            .iter()
            .all(|l| l["time_us"].as_u64().unwrap() >= through)
    );
    assert_eq!(lines.last().unwrap()["text"], "end-of-burst");
    // The daemon answers the same over the API.
    let api = env
        .request("GET", &format!("/v1/logs?project=ret&run={big}"), None)
        .unwrap();
    assert_eq!(api.status, 200);
    assert!(api.body.contains("\"rotated-away\""), "{}", api.body);
    env.devctl(&["stop", "chatty"]).expect_code(0);
    env.assert_no_orphans();
}

#[test]
fn the_daemon_default_applies_when_the_unit_says_nothing() {
    let mut env = TestEnv::new();
    env.write_manifest(&chatty(""));
    let mut bad = env.daemon_command();
    bad.env("DEVCTL_LOGS_FILES", "0");
    let pid = env.spawn_daemon_cmd(bad);
    assert_eq!(env.wait_daemon_exit(pid, CEILING), Some(69));
    assert!(
        env.daemon_log()
            .contains("DEVCTL_LOGS_FILES=0 is not usable"),
        "{}",
        env.daemon_log()
    );
    let mut cmd = env.daemon_command();
    cmd.env("DEVCTL_LOGS_MAX_SIZE", "32KiB")
        .env("DEVCTL_LOGS_FILES", "3");
    let pid = env.spawn_daemon_cmd(cmd);
    env.wait_daemon_ready(pid);
    let first = burst(&env, "chatty", 1500, 0);
    let files = log_files(&env, "chatty");
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(files.iter().all(|(_, len)| *len <= 32 * 1024), "{files:?}");
    let r = env.devctl(&["logs", "--run", &first]);
    r.expect_code(0);
    assert!(
        r.stdout
            .lines()
            .next()
            .unwrap_or_default()
            .contains("(chatty keeps 3 × 32 KiB;"),
        "{}",
        r.stdout
    );
    // A unit's own setting wins over the default for what it names: a
    // reload applies it to the files at once, without a restart.
    let before = history(&env, "chatty").len();
    env.write_manifest(&chatty("logs { files 1; }"));
    env.devctl(&["reload"]).expect_code(0);
    let files = log_files(&env, "chatty");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].1 <= 32 * 1024, "{files:?}");
    assert_eq!(history(&env, "chatty").len(), before, "nothing restarted");
    env.devctl(&["stop", "chatty"]).expect_code(0);
    env.assert_no_orphans();
}

#[test]
fn age_is_applied_when_the_log_is_read_not_on_a_timer() {
    let mut env = TestEnv::new();
    env.write_manifest(
        r#"project "ret"

build "once" {
    sh "echo aged-line"
    logs { max-age "1s"; }
}
"#,
    );
    env.start_daemon();
    env.devctl(&["start", "once"]).expect_code(0);
    let id = wait_until("the run recorded", CEILING, || {
        let r = history(&env, "once");
        (r.len() == 1 && r[0]["result"] == "success")
            .then(|| r[0]["id"].as_str().unwrap().to_owned())
    });
    let path: PathBuf = env.state_dir().join("logs/ret/once.log");
    // Wait, without reading the log, until its newest line is past the age.
    wait_until("the log file to be older than its max-age", CEILING, || {
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let age = SystemTime::now()
            .duration_since(modified)
            .unwrap_or_default();
        (age > Duration::from_millis(1500)).then_some(())
    });
    assert!(path.exists(), "no timer removed it while nobody looked");
    assert_rotated_away(
        &env.devctl(&["logs", "--run", &id]),
        "once keeps 4 × 8 MiB, at most 1s old",
    );
    assert!(!path.exists(), "the read removed it");
    env.assert_no_orphans();
}

#[test]
fn a_bad_logs_setting_is_refused_by_check_and_up() {
    let mut env = TestEnv::new();
    env.write_manifest(&chatty(r#"logs { max-size "lots"; files 0; keep 3; }"#));
    env.start_daemon();
    for verb in ["check", "up"] {
        let r = env.devctl(&[verb]);
        r.expect_code(65);
        for want in [
            "3 errors; nothing was compiled",
            "max-size `lots` is not a size",
            "write a size such as \"512KiB\", \"16MiB\" or \"1GiB\"",
            "files 0 keeps no log at all",
            "`files 1` keeps only it",
            "unknown setting `keep` in `logs`",
            "`logs` spells this `files`",
            "devctl.kdl:5:",
        ] {
            assert!(
                r.stderr.contains(want),
                "{verb}: no {want:?} in\n{}",
                r.stderr
            );
        }
    }
    let listed = env.request("GET", "/v1/projects", None).unwrap();
    assert!(
        !listed.body.contains("\"ret\""),
        "nothing was loaded: {}",
        listed.body
    );
    env.assert_no_orphans();
}
