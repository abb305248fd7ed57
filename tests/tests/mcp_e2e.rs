//! `devctl mcp` driven by a real MCP client: the Python `mcp` package
//! (installed by `.ci/setup-machine` in a venv under ~/.cache/devctl/mcp)
//! starts `devctl mcp` over stdio against a real daemon, lists the tools
//! and calls them. The effects are checked through the command line: what
//! a tool started runs, what it stopped is inactive. Tool errors carry the
//! CLI's wording, word for word.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use devctl_tests::{TestEnv, devctl_bin};
use serde_json::{Value, json};

/// The venv's Python, which has the `mcp` package.
fn mcp_python() -> PathBuf {
    let p = std::env::var_os("DEVCTL_MCP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/devctl/mcp/bin/python")
        });
    assert!(
        p.exists(),
        "{} is missing: run .ci/setup-machine (it installs the Python mcp package there)",
        p.display()
    );
    p
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Run the client with `plan`; its JSON report.
fn run_client(env: &TestEnv, plan: &Value) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/mcp_client.py");
    let mut cmd = Command::new(mcp_python());
    env.apply_env(&mut cmd)
        .arg(&script)
        .arg(devctl_bin())
        .arg(&env.project_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run the MCP client");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(plan.to_string().as_bytes())
        .unwrap();
    let begun = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            begun.elapsed() < Duration::from_secs(180),
            "the MCP client is still running after 180 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "MCP client failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "client output ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn tool<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no tool {name} in {}", report["tools"]))
}

#[test]
fn mcp_client_lists_and_drives_units_through_the_daemon() {
    let mut env = TestEnv::new();
    let port = free_port();
    env.write_manifest(&format!(
        r#"project "agentic"
service "web" {{
    run "python3" "-m" "http.server" "{port}" "--bind" "127.0.0.1"
    ready {{ http "http://127.0.0.1:{port}/"; period "100ms" }}
}}
service "ticker" {{
    sh "i=0; while true; do i=$((i+1)); echo \"tick $i\"; sleep 0.2; done"
    ready {{ log "tick 3" }}
}}
"#
    ));
    env.start_daemon();
    let plan = json!([
        {"tool": "check"},
        {"tool": "start", "args": {"units": ["web", "ticker"]}},
        {"tool": "status"},
        {"tool": "list_projects"},
        {"tool": "logs", "args": {"units": ["ticker"], "grep": "^tick [0-9]+$", "lines": 2}},
        {"tool": "logs", "args": {"units": ["ticker"], "grep": "no-such-line"}},
        {"tool": "stop", "args": {"units": ["ticker"]}},
        {"tool": "disable", "args": {"units": ["ticker"]}},
        {"tool": "start", "args": {"units": ["nope"]}},
        {"tool": "logs", "args": {"since": "whenever"}},
        {"tool": "start", "args": {}},
    ]);
    let report = run_client(&env, &plan);
    assert_eq!(report["server"], "devctl");

    // The catalogue: described tools, destructive ones annotated.
    for name in [
        "list_projects",
        "status",
        "start",
        "stop",
        "restart",
        "trigger",
        "enable",
        "disable",
        "up",
        "down",
        "logs",
        "check",
    ] {
        let t = tool(&report, name);
        assert!(
            t["description"]
                .as_str()
                .is_some_and(|d| d.contains("Returns")),
            "{t}"
        );
        assert_eq!(t["input_schema"]["type"], "object", "{t}");
    }
    assert_eq!(
        tool(&report, "stop")["annotations"]["destructive_hint"],
        true
    );
    assert_eq!(
        tool(&report, "down")["annotations"]["destructive_hint"],
        true
    );
    assert_eq!(
        tool(&report, "status")["annotations"]["read_only_hint"],
        true
    );
    assert_eq!(
        tool(&report, "start")["annotations"]["destructive_hint"],
        false
    );
    assert_eq!(
        tool(&report, "start")["input_schema"]["required"],
        json!(["units"])
    );

    let r = report["results"].as_array().unwrap();
    let ok = |i: usize| {
        assert_eq!(r[i]["is_error"], false, "call {i}: {}", r[i]);
        r[i]["text"].as_str().unwrap().to_owned()
    };
    let check: Value = serde_json::from_str(&ok(0)).unwrap();
    assert_eq!(check["ok"], true);
    assert_eq!(check["project"], "agentic");
    ok(1);
    let status = ok(2);
    assert!(
        status.contains("\"web\"") && status.contains("\"active\""),
        "{status}"
    );
    assert!(ok(3).contains("agentic"));
    let ticks = ok(4);
    assert_eq!(ticks.lines().count(), 2, "{ticks}");
    assert!(
        ticks
            .lines()
            .all(|l| l.contains("ticker") && l.contains("tick ")),
        "{ticks}"
    );
    assert_eq!(ok(5), "(no log lines)");
    ok(6);
    ok(7);

    // A tool error is worded as the CLI words it.
    assert_eq!(r[8]["is_error"], true, "{}", r[8]);
    let cli = env.devctl(&["start", "nope"]);
    assert_ne!(cli.code, Some(0));
    assert_eq!(
        r[8]["text"].as_str().unwrap(),
        cli.stderr.trim_end(),
        "{}",
        r[8]
    );
    assert_eq!(r[9]["is_error"], true);
    assert!(r[9]["text"].as_str().unwrap().contains("since"), "{}", r[9]);
    assert_eq!(r[10]["is_error"], true);
    assert!(
        r[10]["text"]
            .as_str()
            .unwrap()
            .contains("give at least one unit"),
        "{}",
        r[10]
    );

    // The effects, seen through the command line.
    env.devctl(&["is-active", "web"]).expect_code(0);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    env.devctl(&["is-active", "ticker"]).expect_code(3);
    env.devctl(&["is-enabled", "ticker"]).expect_code(3);

    env.devctl(&["down"]).expect_code(0);
    env.devctl(&["daemon", "stop"]).expect_code(0);
    no_orphans(&env);
}

/// No process this test caused outlives its unit. A process that is
/// exiting as the daemon stops (already reaped by nobody yet) is given a
/// moment to go; one that keeps running fails the test.
fn no_orphans(env: &TestEnv) {
    let ceiling = std::time::Duration::from_secs(10);
    let begun = std::time::Instant::now();
    while !env.marked_children().is_empty() && begun.elapsed() < ceiling {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    env.assert_no_orphans();
}
