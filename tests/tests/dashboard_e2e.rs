//! End-to-end tests of the web dashboard against the real daemon and real
//! processes. The gate is tested with raw HTTP over TCP (no token, a
//! foreign Host, a foreign Origin, a spent login link, routes the
//! dashboard does not serve). The page is tested in a real headless
//! Chromium (Debian's `chromium`, driven by `playwright-core` through
//! `tests/dashboard/driver.mjs`, one step at a time: `browser.rs`), and
//! every effect is checked outside the page: processes in /proc, `devctl
//! is-enabled`, a daemon restart. `live.rs` holds the live figures, reload
//! and the log view falling behind. Screenshots land in `target/dashboard/`.
//! Chromium, Node and the npm modules are installed by `.ci/setup-machine`;
//! without them these tests fail.

#[path = "dashboard_e2e/browser.rs"]
mod browser;
#[path = "dashboard_e2e/live.rs"]
mod live;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use browser::Browser;

use devctl_test_support::http::{HttpReply, parse_reply};
use devctl_tests::{CEILING, TestEnv, alive, marked_pids, wait_until};
use serde_json::{Value, json};

const MANIFEST: &str = r#"project "dash"

service "db" {
    sh "echo db-ready-line; exec sleep 1000"
}

service "web" {
    sh "echo web-listening-line; echo web-warning-line >&2; sleep 1001 & sleep 1002 & exec sleep 1003"
    requires "db"
}

service "worker" {
    run "sleep" "1005"
}

service "broken" {
    run "/nonexistent/devctl-dashboard-test-program"
    enabled #false
}
"#;

/// A world with the daemon (dashboard on a free port) and the project up.
fn env_up() -> TestEnv {
    let mut env = TestEnv::new();
    env.write_manifest(MANIFEST);
    start_daemon(&mut env);
    env.devctl(&["up"]).expect_code(0);
    env
}

fn start_daemon(env: &mut TestEnv) -> u32 {
    let mut cmd = env.daemon_command();
    cmd.env("DEVCTL_DASHBOARD_PORT", "0");
    let pid = env.spawn_daemon_cmd(cmd);
    env.wait_daemon_ready(pid);
    pid
}

/// `devctl dashboard --no-open --json`.
fn dashboard(env: &TestEnv) -> Value {
    let run = env.devctl(&["dashboard", "--no-open", "--json"]);
    run.expect_code(0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// One HTTP request to the dashboard, `Connection: close`.
fn http(port: u16, head: &str, body: &str) -> HttpReply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the dashboard");
    s.set_read_timeout(Some(CEILING)).unwrap();
    let req = format!(
        "{head}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read the answer");
    parse_reply(&buf)
}

fn header<'a>(reply: &'a HttpReply, name: &str) -> Option<&'a str> {
    reply.head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Processes of this test whose command line contains `needle`.
fn pids_running(env: &TestEnv, needle: &str) -> Vec<u32> {
    marked_pids(&env.marker)
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(needle)
                })
                .unwrap_or(false)
        })
        .filter(|pid| alive(*pid))
        .collect()
}

#[test]
fn the_gate_refuses_requests_without_the_token_from_foreign_hosts_and_foreign_origins() {
    let env = env_up();
    let info = dashboard(&env);
    let port = info["port"].as_u64().unwrap() as u16;
    let token_file = PathBuf::from(info["token_file"].as_str().unwrap());
    let mode = std::fs::metadata(&token_file).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600,
        "the token file is private"
    );
    assert!(token_file.starts_with(env.runtime_dir()));
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_owned();
    let host = format!("host: 127.0.0.1:{port}");
    let origin = format!("origin: http://127.0.0.1:{port}");
    let web_pids = pids_running(&env, "sleep 1003");
    assert_eq!(web_pids.len(), 1, "web runs");

    // No token: the page, the API and the event stream are refused.
    for path in ["/", "/v1/units", "/events", "/assets/app.js"] {
        let r = http(port, &format!("GET {path} HTTP/1.1\r\n{host}"), "");
        assert_eq!(r.status, 401, "GET {path} without a token: {r:?}");
    }
    // A wrong token is no token.
    let r = http(
        port,
        &format!(
            "GET /v1/units HTTP/1.1\r\n{host}\r\nx-devctl-token: {}",
            "0".repeat(64)
        ),
        "",
    );
    assert_eq!(r.status, 401, "{r:?}");

    // With the token, from a loopback Host: served, and never with CORS headers.
    let ok = http(
        port,
        &format!(
            "GET /v1/units HTTP/1.1\r\n{host}\r\nx-devctl-token: {token}\r\norigin: http://evil.example"
        ),
        "",
    );
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(
        ok.json()
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["name"] == "web")
    );
    assert!(
        !ok.head.to_ascii_lowercase().contains("access-control-"),
        "no CORS header: {}",
        ok.head
    );
    let r = http(
        port,
        &format!("GET / HTTP/1.1\r\nhost: localhost:{port}\r\ncookie: devctl_dashboard={token}"),
        "",
    );
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<title>devctl dashboard</title>"));
    assert!(
        header(&r, "content-security-policy").is_some_and(|v| v.contains("frame-ancestors 'none'"))
    );

    // A foreign Host (DNS rebinding), even with the token: refused.
    for h in [
        "evil.example",
        &format!("evil.example:{port}"),
        &format!("127.0.0.1:{}", port.wrapping_add(1)),
    ] {
        let r = http(
            port,
            &format!("GET /v1/units HTTP/1.1\r\nhost: {h}\r\nx-devctl-token: {token}"),
            "",
        );
        assert_eq!(r.status, 403, "Host {h}: {r:?}");
        assert!(r.body.contains("Host"), "{}", r.body);
    }

    // A state change from a foreign Origin, or with no Origin, or with the
    // cookie but not the header: refused, and nothing happens.
    let stop = r#"{"verb":"stop","units":["web"],"block":true}"#;
    let post =
        format!("POST /v1/projects/dash/jobs HTTP/1.1\r\n{host}\r\ncontent-type: application/json");
    for extra in [
        format!("\r\nx-devctl-token: {token}\r\norigin: http://evil.example"),
        format!("\r\nx-devctl-token: {token}\r\norigin: null"),
        format!("\r\nx-devctl-token: {token}"),
        format!("\r\ncookie: devctl_dashboard={token}\r\n{origin}"),
        format!("\r\n{origin}"),
    ] {
        let r = http(port, &format!("{post}{extra}"), stop);
        assert!(matches!(r.status, 401 | 403), "{extra:?}: {r:?}");
    }
    assert!(alive(web_pids[0]), "a refused stop stops nothing");
    let r = env.devctl(&["is-active", "web"]);
    r.expect_code(0);

    // The daemon's own routes stay on its socket.
    for (m, path) in [
        ("POST", "/v1/daemon/stop"),
        ("POST", "/v1/dashboard"),
        ("POST", "/v1/projects/dash/load"),
        ("DELETE", "/v1/projects/dash"),
    ] {
        let r = http(
            port,
            &format!(
                "{m} {path} HTTP/1.1\r\n{host}\r\nx-devctl-token: {token}\r\n{origin}\r\ncontent-type: application/json"
            ),
            "{}",
        );
        assert_eq!(r.status, 404, "{m} {path}: {r:?}");
    }
    env.devctl(&["daemon", "status"]).expect_code(0);

    // The login link works once, sets an HttpOnly SameSite=Strict cookie and goes to the page.
    let login = info["login_url"].as_str().unwrap();
    let path = login
        .strip_prefix(&format!("http://127.0.0.1:{port}"))
        .unwrap();
    let r = http(port, &format!("GET {path} HTTP/1.1\r\n{host}"), "");
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(header(&r, "location"), Some("/"));
    let cookie = header(&r, "set-cookie").expect("a cookie");
    assert!(
        cookie.starts_with(&format!("devctl_dashboard={token};")),
        "{cookie}"
    );
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let again = http(port, &format!("GET {path} HTTP/1.1\r\n{host}"), "");
    assert_eq!(again.status, 403, "a spent login link: {again:?}");
    assert!(again.body.contains("devctl dashboard"), "{}", again.body);

    // With everything right, the page's request does stop the unit.
    let r = http(
        port,
        &format!("{post}\r\nx-devctl-token: {token}\r\n{origin}"),
        stop,
    );
    assert_eq!(r.status, 200, "{r:?}");
    wait_until("web to stop", CEILING, || {
        (!alive(web_pids[0])).then_some(())
    });
}

#[test]
fn a_bad_dashboard_port_is_refused_at_daemon_start() {
    let mut env = TestEnv::new();
    let mut cmd = env.daemon_command();
    cmd.env("DEVCTL_DASHBOARD_PORT", "seventy");
    let pid = env.spawn_daemon_cmd(cmd);
    let code = env.wait_daemon_exit(pid, CEILING);
    assert_eq!(code, Some(69));
    let log = env.daemon_log();
    assert!(
        log.contains("DEVCTL_DASHBOARD_PORT=seventy is not a port number"),
        "{log}"
    );
}

#[test]
fn a_taken_port_is_a_clear_error_from_devctl_dashboard() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut env = TestEnv::new();
    let mut cmd = env.daemon_command();
    cmd.env("DEVCTL_DASHBOARD_PORT", port.to_string());
    let pid = env.spawn_daemon_cmd(cmd);
    env.wait_daemon_ready(pid);
    assert!(
        env.daemon_log().contains("the dashboard is off"),
        "{}",
        env.daemon_log()
    );
    let run = env.devctl(&["dashboard", "--no-open"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(&format!(
            "cannot listen on 127.0.0.1:{port} for the dashboard"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("DEVCTL_DASHBOARD_PORT"),
        "the help names the setting: {}",
        run.stderr
    );
}

// ------------------------------------------------------------ the browser

fn row(unit: &str) -> String {
    format!("#unit-rows tr[data-project=dash][data-unit={unit}]")
}

/// Log in with a fresh link and wait for the table.
fn open_page(env: &TestEnv, b: &mut Browser) {
    let url = dashboard(env)["login_url"].as_str().unwrap().to_owned();
    assert_eq!(b.goto(&url), json!(200));
    b.wait_text("#live", "live");
    b.wait_text(&format!("{} td.c-state", row("web")), "active running");
}

#[test]
fn the_page_lists_units_shows_logs_and_stop_ends_the_process_tree() {
    let env = env_up();
    let mut b = Browser::launch();
    open_page(&env, &mut b);
    assert_eq!(
        b.text(&format!("{} td.c-state", row("db"))),
        "active running"
    );
    assert_eq!(b.text(&format!("{} td.c-state", row("broken"))), "inactive");
    assert_eq!(
        b.text(&format!("{} td.c-enabled", row("broken"))),
        "disabled"
    );
    let pid = b.text(&format!("{} td.c-pid", row("web")));
    let status = devctl_tests::status(&env, "web");
    assert_eq!(
        pid,
        status["main_pid"].to_string(),
        "the PID column is the main pid"
    );
    let summary = b.text(".card[data-project=dash] .counts");
    assert!(summary.starts_with("5 units: 4/5 active"), "{summary}");
    b.shot("units");

    // The detail: status content, dependencies both ways, the compiled unit file.
    b.click(&row("db"));
    b.wait_text("#detail-file", "ExecStart=");
    let deps = b.wait_text("#detail-deps", "Required by: web");
    assert!(deps.contains("Requires: -"), "{deps}");
    let detail = b.text("#detail-status");
    assert!(detail.contains("active running"), "{detail}");
    // What run history provides: the run, its live use, the last runs
    // with their triggers.
    let db = devctl_tests::status(&env, "db");
    let run = db["run"].as_str().expect("a current run");
    assert!(detail.contains(&format!("Run\n{run}")), "{detail}");
    assert!(detail.contains("CPU / memory"), "{detail}");
    assert!(detail.contains("in 1 process"), "{detail}");
    assert!(
        detail.contains(&format!("{run} up (cli) → running")),
        "{detail}"
    );
    b.shot("detail");

    // Logs: a line the service printed, stderr told apart, lifecycle markers.
    b.click(&format!("{} button[data-act=logs]", "#detail-actions"));
    b.wait_text("#log-lines", "db-ready-line");
    b.click(&row("web"));
    b.wait_text("#detail-file", "sleep 1003");
    b.click("#detail-actions button[data-act=logs]");
    b.wait_text("#log-lines", "web-listening-line");
    b.wait_text("#log-lines .line.stderr", "web-warning-line");
    assert!(
        b.count("#log-lines .line.marker") >= 1,
        "the spawn marker is shown"
    );

    // Search filters (and highlights).
    b.step(json!({"cmd": "fill", "selector": "#log-search", "value": "warn.ng"}));
    b.wait_text("#log-lines .line:not([hidden]) mark", "warning");
    assert_eq!(
        b.count("#log-lines .line:not([hidden])"),
        1,
        "only the matching line is shown"
    );
    b.step(json!({"cmd": "fill", "selector": "#log-search", "value": "("}));
    b.wait_text("#log-search-error", "not a regular expression");
    b.step(json!({"cmd": "fill", "selector": "#log-search", "value": ""}));
    b.click("#log-first-error");
    assert!(
        b.count("#log-lines .line.flash") == 1,
        "jump to the first error"
    );
    b.shot("logs");

    // Several units, merged by time.
    b.click(&format!("{} td.c-pick input", row("db")));
    b.click(&format!("{} td.c-pick input", row("web")));
    b.click("#logs-selected");
    b.wait_text("#logs-title", "dash/db, web");
    b.wait_text("#log-lines", "db-ready-line");
    let merged = b.wait_text("#log-lines", "web-listening-line");
    let times: Vec<&str> = merged
        .lines()
        .filter(|l| l.len() == 12 && l.as_bytes()[2] == b':')
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "merged by time:\n{merged}");
    b.click("#log-follow");
    b.step(json!({"cmd": "eval", "js": "window.scrollTo(0, 0)"}));
    // The README's picture (docs/dashboard.png is a copy of it).
    b.shot("dashboard");

    // The dependency graph.
    b.click(".card[data-project=dash] button:text('graph')");
    b.wait_text("#graph", "web");
    assert_eq!(
        b.count("#graph svg g.node"),
        5,
        "one node per unit (the project target too)"
    );
    assert!(b.count("#graph svg path.edge.requires") >= 1);
    b.shot("graph");

    // Stop: the whole tree ends, as /proc says.
    let tree: Vec<u32> = ["sleep 1001", "sleep 1002", "sleep 1003"]
        .iter()
        .flat_map(|n| pids_running(&env, n))
        .collect();
    assert_eq!(tree.len(), 3, "web's tree before the stop");
    b.click(&format!("{} button[data-act=stop]", row("web")));
    wait_until("web's whole process tree to end", CEILING, || {
        tree.iter().all(|p| !alive(*p)).then_some(())
    });
    b.wait_text(&format!("{} td.c-state", row("web")), "inactive");
    b.wait_text("#jobs .job.ok", "stop dash/web");
    assert!(
        pids_running(&env, "sleep 1000").len() == 1,
        "db keeps running"
    );

    // Start from the page, with progress until it is done.
    b.click(&format!("{} button[data-act=start]", row("web")));
    b.wait_text(&format!("{} td.c-state", row("web")), "active running");
    assert!(!b.text(&format!("{} td.c-pid", row("web"))).contains('-'));
    let errors = b.page_errors();
    assert!(errors.is_empty(), "the page reported errors: {errors:?}");
}

#[test]
fn a_failing_units_error_reads_as_the_cli_words_it() {
    let env = env_up();
    let mut b = Browser::launch();
    open_page(&env, &mut b);
    b.click(&format!("{} button[data-act=start]", row("broken")));
    let toast = b.wait_text("#jobs .job.failed", "did not reach the requested state");
    b.wait_text(&format!("{} td.c-state", row("broken")), "failed");
    assert_eq!(
        b.text(&format!("{} td.c-result", row("broken"))),
        "exec-failed"
    );
    b.shot("failed");
    let cli = env.devctl(&["start", "broken"]);
    cli.expect_code(1);
    for line in cli.stderr.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            toast.contains(line),
            "the page words it as the CLI does:\nCLI: {line}\npage:\n{toast}"
        );
    }
    // The unit's detail shows the message too.
    b.click(&row("broken"));
    b.wait_text("#detail-status", "exec-failed");
}

/// `devctl is-enabled UNIT` says `disabled` (and fails, as systemctl's does).
fn assert_disabled(env: &TestEnv, unit: &str) {
    let r = env.devctl(&["is-enabled", unit]);
    assert_eq!(r.stdout.trim(), "disabled", "{r:?}");
    assert_ne!(r.code, Some(0), "{r:?}");
}

#[test]
fn disabling_in_the_page_shows_in_is_enabled_and_survives_a_daemon_restart() {
    let mut env = env_up();
    let mut b = Browser::launch();
    open_page(&env, &mut b);
    env.devctl(&["is-enabled", "worker"]).expect_code(0);
    let worker = pids_running(&env, "sleep 1005");
    assert_eq!(worker.len(), 1);
    b.click(&format!("{} td.c-enabled button", row("worker")));
    b.wait_text(&format!("{} td.c-enabled", row("worker")), "disabled");
    assert_disabled(&env, "worker");
    assert!(alive(worker[0]), "disable without --now leaves it running");

    // disable --now from the detail stops it as well.
    b.click(&row("db"));
    b.click("#detail-actions button[data-act=toggle-now]");
    b.wait_text(&format!("{} td.c-enabled", row("db")), "disabled");
    b.wait_text(&format!("{} td.c-state", row("db")), "inactive");
    assert_disabled(&env, "db");

    // A daemon restart keeps it; a new page shows it.
    let token_file = PathBuf::from(dashboard(&env)["token_file"].as_str().unwrap());
    assert!(token_file.exists());
    env.devctl(&["daemon", "stop"]).expect_code(0);
    assert!(
        !token_file.exists(),
        "a stopped daemon leaves no token behind"
    );
    start_daemon(&mut env);
    assert_disabled(&env, "worker");
    let url = dashboard(&env)["login_url"].as_str().unwrap().to_owned();
    b.goto(&url);
    b.wait_text(&format!("{} td.c-enabled", row("worker")), "disabled");
    // And enabling it again from the page.
    b.click(&format!("{} td.c-enabled button", row("worker")));
    b.wait_text(&format!("{} td.c-enabled", row("worker")), "enabled");
    env.devctl(&["is-enabled", "worker"]).expect_code(0);
}

#[test]
fn the_page_is_usable_by_keyboard_narrow_and_dark() {
    let env = env_up();
    let mut b = Browser::launch();
    open_page(&env, &mut b);
    b.step(json!({"cmd": "focus", "selector": &row("db")}));
    b.step(json!({"cmd": "press", "key": "ArrowDown"}));
    b.step(json!({"cmd": "press", "key": "Enter"}));
    let title = b.wait_text("#detail-title", "dash/");
    assert_ne!(title, "dash/db", "arrow down moved to the next unit");
    b.step(json!({"cmd": "press", "key": "Escape"}));
    b.step(json!({"cmd": "focus", "selector": &row("worker")}));
    b.step(json!({"cmd": "press", "key": "x"}));
    b.wait_text(&format!("{} td.c-state", row("worker")), "inactive");
    b.step(json!({"cmd": "press", "key": "s"}));
    b.wait_text(&format!("{} td.c-state", row("worker")), "active running");
    b.step(json!({"cmd": "press", "key": "l"}));
    b.wait_text("#logs-title", "dash/worker");
    b.step(json!({"cmd": "scheme", "dark": true}));
    let bg =
        b.step(json!({"cmd": "eval", "js": "getComputedStyle(document.body).backgroundColor"}));
    assert_eq!(
        bg,
        json!("rgb(15, 19, 22)"),
        "dark mode follows prefers-color-scheme"
    );
    b.shot("units-dark");
    b.step(json!({"cmd": "viewport", "width": 420, "height": 800}));
    let overflow = b.step(
        json!({"cmd": "eval", "js": "document.documentElement.scrollWidth <= window.innerWidth"}),
    );
    assert_eq!(
        overflow,
        json!(true),
        "nothing spills sideways on a narrow window"
    );
    b.shot("narrow");
}

/// The dashboard's port is open to every local user, so it keeps the API
/// socket's limits: a connection that sends no request head is dropped
/// after the header-read timeout (10 s), and beyond 64 open connections
/// the next one is told the daemon is busy; pages are served again once
/// they close.
#[test]
fn idle_connections_are_dropped_and_a_flood_is_told_busy() {
    let env = env_up();
    let info = dashboard(&env);
    let port = info["port"].as_u64().unwrap() as u16;

    let idle = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)
        .expect("the idle connection is closed, not left open");
    let waited = idle.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(25),
        "closed after {waited:?}"
    );

    let held: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let r = http(
        port,
        &format!("GET / HTTP/1.1\r\nhost: 127.0.0.1:{port}"),
        "",
    );
    assert_eq!(r.status, 503, "{r:?}");
    assert!(r.body.contains("busy"), "{r:?}");
    drop(held);
    wait_until("the dashboard to answer again", CEILING, || {
        let r = http(
            port,
            &format!("GET / HTTP/1.1\r\nhost: 127.0.0.1:{port}"),
            "",
        );
        (r.status == 401).then_some(())
    });
}
