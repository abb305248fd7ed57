//! The page's live parts against the real daemon: the CPU and memory
//! columns (a service holding a known amount of memory), reload (a unit
//! added to devctl.kdl appears; a broken devctl.kdl shows the CLI's report
//! and changes nothing), and the log view falling behind a burst further
//! than the daemon reads back at once (told exactly how many lines are
//! missing and where, then following on without another hole).

use std::path::Path;
use std::time::{Duration, Instant};

use devctl_tests::{CEILING, TestEnv, wait_until};
use serde_json::json;

use super::browser::Browser;
use super::{dashboard, row, start_daemon};

/// Log in with a fresh link and wait until `unit`'s row reads `state`.
fn open_at(env: &TestEnv, b: &mut Browser, unit: &str, state: &str) {
    let url = dashboard(env)["login_url"].as_str().unwrap().to_owned();
    assert_eq!(b.goto(&url), json!(200));
    b.wait_text("#live", "live");
    b.wait_text(&format!("{} td.c-state", row(unit)), state);
}

/// `110.3M` → MiB.
fn mebibytes(cell: &str) -> Option<f64> {
    cell.strip_suffix('M')?.parse().ok()
}

const HOG: &str = r#"project "dash"

service "hog" {
    run "python3" "-c" "import time; b = b'x' * (100 << 20); time.sleep(1000)"
}

service "idle" {
    run "sleep" "1006"
}

container "cache" {
    image "busybox:latest"
    enabled #false
}
"#;

#[test]
fn a_service_holding_100_mib_shows_it_in_its_row_and_a_hidden_page_stops_the_sampling() {
    let mut env = TestEnv::new();
    env.write_manifest(HOG);
    let mut cmd = env.daemon_command();
    cmd.env("DEVCTL_DASHBOARD_PORT", "0")
        .env("DEVCTL_LOG", "info,devctl_supervisord::dashboard=debug");
    let pid = env.spawn_daemon_cmd(cmd);
    env.wait_daemon_ready(pid);
    env.devctl(&["up"]).expect_code(0);
    assert!(
        !env.daemon_log().contains("usage sampling on"),
        "nothing is sampled before a page looks"
    );
    let mut b = Browser::launch();
    open_at(&env, &mut b, "hog", "active running");

    // The memory figure of the whole tree, from the page, within seconds.
    let mem = format!("{} td.c-mem", row("hog"));
    let shown = Instant::now();
    let mib = wait_until("hog's memory to reach 100 MiB in its row", CEILING, || {
        mebibytes(&b.text(&mem)).filter(|m| *m >= 90.0)
    });
    assert!(
        shown.elapsed() < Duration::from_secs(10),
        "shown after {:?}",
        shown.elapsed()
    );
    assert!(
        (90.0..=130.0).contains(&mib),
        "hog holds 100 MiB; the row says {mib} MiB"
    );
    b.wait_text(&format!("{} td.c-cpu", row("hog")), "%");
    let title =
        b.step(json!({"cmd": "eval", "js": format!("document.querySelector('{mem}').title")}));
    assert!(
        title.as_str().unwrap_or("").contains("1 process"),
        "the tooltip says what was measured: {title}"
    );
    // A container's figures are the engine's: an explicit dash, and why.
    let cache = format!("{} td.c-mem", row("cache"));
    assert_eq!(b.text(&cache), "—");
    let why = b.eval(&format!("document.querySelector('{cache}').title"));
    assert!(why.as_str().unwrap_or("").contains("Docker"), "{why}");
    assert!(env.daemon_log().contains("usage sampling on"));
    b.shot("usage");

    // The page is hidden (another tab, a minimised window): the daemon
    // stops sampling and keeps no timer; shown again, it samples again.
    let on = |env: &TestEnv| env.daemon_log().matches("usage sampling on").count();
    let turned_on = on(&env);
    b.eval(
        "Object.defineProperty(document, 'hidden', { configurable: true, get: () => true }); \
         document.dispatchEvent(new Event('visibilitychange'))",
    );
    wait_until("the daemon to stop sampling", CEILING, || {
        env.daemon_log()
            .contains("usage sampling off")
            .then_some(())
    });
    b.eval("delete document.hidden; document.dispatchEvent(new Event('visibilitychange'))");
    wait_until("the daemon to sample again", CEILING, || {
        (on(&env) > turned_on).then_some(())
    });
    let errors = b.page_errors();
    assert!(errors.is_empty(), "the page reported errors: {errors:?}");
}

const RELOAD: &str = r#"project "dash"

service "web" {
    run "sleep" "1008"
}
"#;

/// The unit names the daemon has, and whether each is running.
fn units(env: &TestEnv) -> Vec<(String, String)> {
    let r = env.request("GET", "/v1/units?project=dash", None).unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    let mut v: Vec<(String, String)> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().to_owned(),
                u["active"].to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn reload_reads_devctl_kdl_again_and_a_broken_one_shows_the_clis_report_and_changes_nothing() {
    let mut env = TestEnv::new();
    env.write_manifest(RELOAD);
    start_daemon(&mut env);
    env.devctl(&["up"]).expect_code(0);
    let mut b = Browser::launch();
    open_at(&env, &mut b, "web", "active running");

    // A unit added to the manifest appears once the page reloads it.
    env.write_manifest(&format!(
        "{RELOAD}\nservice \"extra\" {{\n    run \"sleep\" \"1009\"\n}}\n"
    ));
    b.click(".card[data-project=dash] button[data-act=reload]");
    let done = b.wait_text("#jobs .job.ok", "dash: added: extra");
    assert!(done.contains("reload dash"), "{done}");
    b.wait_text(&format!("{} td.c-state", row("extra")), "inactive");
    let before = units(&env);
    assert!(before.iter().any(|(n, _)| n == "extra"), "{before:?}");

    // A broken manifest, reloaded from the keyboard (R on a row): the
    // page shows what `devctl reload` prints, and nothing changes.
    env.write_manifest(&format!(
        "{RELOAD}\nservice \"extra\" {{\n    rnu \"sleep\" \"1009\"\n}}\nservice \"more\" {{\n    run \"true\"\n}}\n"
    ));
    b.step(json!({"cmd": "focus", "selector": row("web")}));
    b.step(json!({"cmd": "press", "key": "Shift+R"}));
    let report = b.wait_text("#jobs .job.failed pre.report", "rnu");
    assert_eq!(units(&env), before, "a refused reload changes nothing");
    assert_eq!(b.count(&row("more")), 0, "no half-applied reload");
    b.shot("reload-error");
    let cli = env.devctl(&["reload"]);
    cli.expect_code(65);
    assert_eq!(
        report.trim_end(),
        cli.stderr.trim_end(),
        "the page words it as the CLI does"
    );
    assert!(report.contains("help:"), "how to fix it: {report}");
    assert!(report.contains("devctl.kdl:"), "where: {report}");
    assert_eq!(units(&env), before);

    // Fixed again: the reload goes through.
    env.write_manifest(RELOAD);
    b.click(".card[data-project=dash] button[data-act=reload]");
    b.wait_text("#jobs .job.ok", "dash: removed: extra");
    wait_until("extra's row to go", CEILING, || {
        (b.count(&row("extra")) == 0).then_some(())
    });
    // The refused reload's 422 is the one failed request Chromium reports.
    let errors: Vec<String> = b
        .page_errors()
        .into_iter()
        .filter(|e| !e.contains("status of 422"))
        .collect();
    assert!(errors.is_empty(), "the page reported errors: {errors:?}");
}

/// How many lines the burst prints: far beyond what the page keeps (5000),
/// what the daemon queues towards one reader (1024 lines, fed from the
/// unit's ring of 256), what the sockets and Chromium buffer in between,
/// and what the daemon reads back from the log files at once for a reader
/// that fell behind (50 000): some lines cannot be sent.
const BURST: u32 = 200_000;

/// The burst's lines carry 40 bytes of padding, 400 once `wide` exists.
fn burst_manifest(wide: &Path) -> String {
    format!(
        r##"project "dash"

service "burst" {{
    run "python3" "-c" #"import os, sys, time; n = 400 if os.path.exists({wide:?}) else 40; w = sys.stdout.write; [w('burst %06d %s\n' % (i, 'x' * n)) for i in range(1, {BURST} + 1)]; sys.stdout.flush(); time.sleep(1000)"#
    enabled #false
}}

service "idle" {{
    run "sleep" "1010"
}}
"##
    )
}

/// How long the page's script is kept busy while the burst goes by: less
/// than the 10 s the daemon waits for a reader that takes nothing, so the
/// stream stays open and the daemon's own catch-up is what is seen.
const STALL: Duration = Duration::from_secs(9);

/// A stall long enough for the daemon to drop the page's stream: its wait
/// starts once the sockets and Chromium hold all they take, which the
/// burst's wide lines (the 50 000 read back are some 20 MiB) make sure of.
const CUT_STALL: Duration = Duration::from_secs(20);

/// Keep the page's script busy for `d` (a slow page): it reads nothing.
fn stall(b: &mut Browser, d: Duration) -> Instant {
    b.eval(&format!(
        "setTimeout(() => {{ const end = performance.now() + {}; while (performance.now() < end) {{}} }}, 0)",
        d.as_millis()
    ));
    Instant::now()
}

/// The log view's rows: a line's text, or `GAP ` and a mark's text.
fn shown(b: &mut Browser) -> Vec<String> {
    serde_json::from_value(b.eval(
        "[...document.querySelectorAll('#log-lines > div')].map(d => d.classList.contains('gap') ? 'GAP ' + d.textContent : d.dataset.text)",
    ))
    .unwrap()
}

/// The burst's number of a row.
fn number(t: &str) -> Option<u32> {
    t.strip_prefix("burst ")?.get(..6)?.parse().ok()
}

/// The numbers after the last mark, checked to run without a hole up to
/// the burst's last line.
fn after_last_mark(rows: &[String]) -> (usize, Vec<u32>) {
    let gap = rows
        .iter()
        .rposition(|t| t.starts_with("GAP "))
        .expect("the place is marked");
    let after: Vec<u32> = rows[gap + 1..].iter().filter_map(|t| number(t)).collect();
    assert!(!after.is_empty(), "lines follow the mark");
    for w in after.windows(2) {
        assert_eq!(
            w[1],
            w[0] + 1,
            "a hole after the mark: {} then {}",
            w[0],
            w[1]
        );
    }
    assert_eq!(after.last(), Some(&BURST));
    (gap, after)
}

#[test]
fn a_page_that_falls_behind_a_burst_says_how_many_lines_it_missed_and_continues_without_a_hole() {
    let mut env = TestEnv::new();
    let wide = env.project_dir.join("wide");
    env.write_manifest(&burst_manifest(&wide));
    start_daemon(&mut env);
    env.devctl(&["up"]).expect_code(0);
    let mut b = Browser::launch();
    open_at(&env, &mut b, "idle", "active running");
    b.click(&row("burst"));
    b.click("#detail-actions button[data-act=logs]");
    b.wait_text("#logs-title", "dash/burst");

    // The page reads nothing while the unit prints its burst: the daemon's
    // queue towards it fills, the unit's log leaves it far behind, and the
    // daemon reads back all it can.
    let stalled = stall(&mut b, STALL);
    env.devctl(&["start", "burst"]).expect_code(0);
    let last = format!("burst {BURST:06}");
    let burst_done = |env: &TestEnv| {
        wait_until("the burst to reach the log", CEILING, || {
            let r = env.devctl(&["logs", "burst", "-n", "1"]);
            r.stdout.contains(&last).then_some(())
        });
    };
    burst_done(&env);
    assert!(
        stalled.elapsed() < STALL,
        "the burst took {:?}, longer than the page's stall: the test proves nothing",
        stalled.elapsed()
    );

    // Told, and the place marked, with a plausible count (the last of
    // them: a burst may leave the reader behind more than once).
    b.wait_text("#log-notice", "behind");
    b.wait_text("#log-lines", &last);
    b.shot("logs-behind");
    let rows = shown(&mut b);
    let (gap, after) = after_last_mark(&rows);
    let message = rows[gap]
        .strip_prefix("GAP -- ")
        .and_then(|m| m.strip_suffix(" --"))
        .unwrap_or_else(|| panic!("{}", rows[gap]));
    let missed: u64 = message
        .split(" lines of burst missing here: ")
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in the mark: {message}"));
    assert!(
        missed > 0 && missed < u64::from(BURST),
        "missed {missed} of {BURST}: {message}"
    );
    let notice = b.text("#log-notice");
    assert!(notice.contains(message), "{notice}");
    // Lines still shown above the mark (when the view kept them) end
    // exactly the count before the ones below begin.
    if let Some(before) = rows[..gap].iter().filter_map(|t| number(t)).next_back() {
        assert_eq!(
            u64::from(before) + missed + 1,
            u64::from(after[0]),
            "the count is the hole"
        );
    }

    // A page that reads nothing for longer is dropped by the daemon: the
    // view resumes after the last line it showed and marks the place.
    let stalled = stall(&mut b, CUT_STALL);
    std::fs::write(&wide, "").unwrap();
    env.devctl(&["restart", "burst"]).expect_code(0);
    burst_done(&env);
    assert!(stalled.elapsed() < CUT_STALL, "{:?}", stalled.elapsed());
    b.wait_text("#log-notice", "was cut");
    let rows = wait_until("the view to resume up to the last line", CEILING, || {
        let rows = shown(&mut b);
        let mark = rows.iter().rposition(|t| t.starts_with("GAP "))?;
        let at_end = rows.last().and_then(|t| number(t)) == Some(BURST);
        (rows[mark].contains("the stream was cut here") && at_end).then_some(rows)
    });
    after_last_mark(&rows);
    b.shot("logs-cut");

    // The stream goes on: stopping the unit shows its lifecycle markers.
    env.devctl(&["stop", "burst"]).expect_code(0);
    wait_until("the stop's markers in the view", CEILING, || {
        let last = b.eval("document.querySelector('#log-lines').lastElementChild.className");
        (last.as_str() == Some("line marker")).then_some(())
    });
    // Chromium reports the stream the daemon cut; nothing else may fail.
    let errors: Vec<String> = b
        .page_errors()
        .into_iter()
        .filter(|e| !e.contains("ERR_INCOMPLETE_CHUNKED_ENCODING"))
        .collect();
    assert!(errors.is_empty(), "the page reported errors: {errors:?}");
}
