//! `devctl import` end to end: realistic Procfile, process-compose.yaml and
//! compose.yaml files (written here, in the style of those tools' own
//! documented examples) are imported, the result passes `devctl check`
//! and keeps where each unit came from, what cannot be expressed is a
//! warning naming its line, and `devctl up` then runs the same services:
//! real processes for the Procfile and process-compose, real containers
//! in the Docker engine for compose (these fail, never skip, without it).
//! Error paths: a missing file, an unknown format, invalid YAML, a file
//! with nothing to import, and an existing manifest without `--force`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use devctl_tests::docker::{ContainerGuard, TEST_IMAGE, ensure_test_image};
use devctl_tests::{CEILING, TestEnv, field, status, wait_until};

/// A TCP port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The body of `GET /` once the server answers 200.
fn http_ok(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    // python's http.server answers HTTP/1.0, busybox httpd HTTP/1.1.
    (out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200")).then_some(out)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn manifest(env: &TestEnv) -> String {
    std::fs::read_to_string(env.project_dir.join("devctl.kdl")).unwrap()
}

/// The environment of a unit's main process.
fn environ_of(env: &TestEnv, unit: &str) -> String {
    let pid = status(env, unit)["main_pid"].as_u64().expect("a main pid");
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', "\n"))
        .unwrap_or_default()
}

fn finish(env: &TestEnv) {
    env.devctl(&["down"]).expect_code(0);
    env.devctl(&["daemon", "stop"]).expect_code(0);
    no_orphans(env);
}

#[test]
fn procfile_import_runs_the_same_processes() {
    let mut env = TestEnv::new();
    let base = free_port();
    write(
        &env.project_dir,
        "Procfile",
        "# The app, as foreman runs it.\n\
         web: exec python3 -m http.server $PORT --bind 127.0.0.1\n\
         worker: while true; do echo \"worker: tick on $PORT\"; sleep 1; done\n\
         this line is not a process\n",
    );
    let base_arg = base.to_string();
    let r = env.devctl(&["import", "Procfile", "--base-port", &base_arg]);
    r.expect_code(0);
    assert!(r.stdout.contains("wrote"), "{r:?}");
    assert!(
        r.stderr.contains("warning: Procfile:4:")
            && r.stderr.contains("not a `name: command` line"),
        "{}",
        r.stderr
    );
    let text = manifest(&env);
    assert!(
        text.contains("// from Procfile line 2\nservice \"web\""),
        "{text}"
    );
    assert!(
        text.contains("// from Procfile line 3\nservice \"worker\""),
        "{text}"
    );
    assert!(text.contains("not imported: line 4:"), "{text}");
    env.devctl(&["check"]).expect_code(0);

    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    env.devctl(&["is-active", "web", "worker"]).expect_code(0);
    wait_until("web to serve on PORT", CEILING, || http_ok(base));
    // foreman's PORT: base for the first process type, +100 for the next.
    assert!(environ_of(&env, "web").contains(&format!("PORT={base}\n")));
    let next = format!("PORT={}\n", base + 100);
    assert!(environ_of(&env, "worker").contains(&next));
    let logs = wait_until("the worker's output", CEILING, || {
        let r = env.devctl(&["logs", "worker"]);
        r.stdout.contains("worker: tick on").then_some(r.stdout)
    });
    assert!(logs.contains(&format!("tick on {}", base + 100)), "{logs}");
    finish(&env);
}

#[test]
fn process_compose_import_runs_the_same_processes() {
    let mut env = TestEnv::new();
    let port = free_port();
    let yaml = format!(
        r#"version: "0.5"
log_level: debug
environment:
  - "GREETING=hello"
processes:
  migrate:
    command: "mkdir -p data && echo migrated > data/migrated"
  api:
    command: "exec python3 -m http.server $API_PORT --bind 127.0.0.1"
    environment:
      - "API_PORT={port}"
    depends_on:
      migrate:
        condition: process_completed_successfully
    readiness_probe:
      http_get:
        host: 127.0.0.1
        port: {port}
        path: "/"
      period_seconds: 1
      failure_threshold: 5
    availability:
      restart: on_failure
      backoff_seconds: 2
  worker:
    command: "while true; do echo \"$GREETING from the worker\"; sleep 1; done"
    ready_log_line: "from the worker"
    depends_on:
      api:
        condition: process_healthy
    shutdown:
      signal: 15
      timeout_seconds: 5
  docs:
    command: "sleep 1000"
    disabled: true
    is_tty: true
"#
    );
    write(&env.project_dir, "process-compose.yaml", &yaml);
    let r = env.devctl(&["import", "process-compose.yaml", "--json"]);
    r.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["format"], "process-compose", "{v}");
    let kinds: Vec<(String, String)> = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (field(u, "name"), field(u, "kind")))
        .collect();
    assert!(
        kinds.contains(&("migrate".into(), "build".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("api".into(), "service".into())),
        "{kinds:?}"
    );
    let warned: Vec<(u64, String)> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["line"].as_u64().unwrap(), field(w, "message")))
        .collect();
    assert!(
        warned
            .iter()
            .any(|(l, m)| *l == 2 && m.contains("log_level")),
        "{warned:?}"
    );
    assert!(
        warned.iter().any(|(l, m)| *l == 37 && m.contains("is_tty")),
        "{warned:?}"
    );
    let text = manifest(&env);
    assert!(
        text.contains("requires \"migrate\" until=\"succeeded\""),
        "{text}"
    );
    assert!(text.contains("ready { log \"from the worker\" }"), "{text}");
    assert!(
        text.contains("restart \"on-failure\" backoff=\"2s\""),
        "{text}"
    );
    env.devctl(&["check"]).expect_code(0);

    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    env.devctl(&["is-active", "api", "worker"]).expect_code(0);
    assert_eq!(
        std::fs::read_to_string(env.project_dir.join("data/migrated")).unwrap(),
        "migrated\n"
    );
    wait_until("the api to serve", CEILING, || http_ok(port));
    assert!(environ_of(&env, "worker").contains("GREETING=hello\n"));
    let docs = env.devctl(&["is-active", "docs"]);
    assert_eq!(docs.code, Some(3), "docs is disabled: {docs:?}");
    finish(&env);
}

/// A compose file in the style of the compose documentation's samples,
/// using what devctl cannot express too.
fn compose_file(project: &str, port: u16) -> String {
    format!(
        r#"name: {project}
services:
  web:
    image: {TEST_IMAGE}
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-compose > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports:
      - "{port}:8080"
    environment:
      APP_ENV: development
      DEBUG: "1"
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/"]
      interval: 1s
      timeout: 2s
      retries: 5
    restart: unless-stopped
    deploy:
      replicas: 2
  worker:
    image: {TEST_IMAGE}
    command: sh -c 'while true; do echo worker-says-hi; sleep 1; done'
    depends_on:
      web:
        condition: service_healthy
    stop_grace_period: 3s
    stop_signal: SIGTERM
  debug:
    image: {TEST_IMAGE}
    command: ["sleep", "1000"]
    profiles: ["tools"]
"#
    )
}

#[test]
fn compose_import_keeps_origins_and_warns_with_lines() {
    let env = TestEnv::new();
    write(
        &env.project_dir,
        "compose.yaml",
        &compose_file("shopfront", 18123),
    );
    let r = env.devctl(&["import", "compose.yaml"]);
    r.expect_code(0);
    assert!(
        r.stderr
            .contains("compose.yaml:17: web: `deploy` is not imported"),
        "{}",
        r.stderr
    );
    let text = manifest(&env);
    for want in [
        "project \"shopfront\"",
        "// from services.web (line 3)\n",
        "container \"web\" {",
        "publish 8080 host=18123",
        "port 18123",
        "env APP_ENV=\"development\"",
        "ready { exec \"docker\" \"exec\" \"devctl-shopfront-web\" \"wget\"",
        "period \"1s\"; timeout \"2s\"; failure-threshold 5",
        "restart \"always\"",
        "requires \"web\" until=\"ready\"",
        "command \"sh\" \"-c\" \"while true; do echo worker-says-hi; sleep 1; done\"",
        "stop signal=\"SIGTERM\" timeout=\"3s\"",
        "restart \"no\"",
        "group \"tools\" {",
        "enabled #false",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    env.devctl(&["check"]).expect_code(0);
}

#[test]
fn compose_import_runs_the_same_containers() {
    ensure_test_image();
    let project = devctl_tests::docker::unique_project("import");
    let _guard = ContainerGuard(project.clone());
    let mut env = TestEnv::new();
    let port = free_port();
    write(
        &env.project_dir,
        "docker-compose.yml",
        &compose_file(&project, port),
    );
    env.devctl(&["import", "docker-compose.yml"]).expect_code(0);
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    env.devctl(&["is-active", "web", "worker"]).expect_code(0);
    let body = wait_until("the web container to serve", CEILING, || http_ok(port));
    assert!(body.contains("hello-from-compose"), "{body}");
    wait_until("the worker's output", CEILING, || {
        env.devctl(&["logs", "worker"])
            .stdout
            .contains("worker-says-hi")
            .then_some(())
    });
    let debug = env.devctl(&["is-active", "debug"]);
    assert_eq!(
        debug.code,
        Some(3),
        "a profile's service stays off: {debug:?}"
    );
    env.devctl(&["start", "tools"]).expect_code(0);
    env.devctl(&["is-active", "debug"]).expect_code(0);
    finish(&env);
}

#[test]
fn import_refuses_to_overwrite_without_force() {
    let env = TestEnv::new();
    write(&env.project_dir, "Procfile", "web: sleep 1000\n");
    let original = "service \"mine\" {\n    run \"true\"\n}\n";
    write(&env.project_dir, "devctl.kdl", original);
    let r = env.devctl(&["import", "Procfile"]);
    r.expect_code(1);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(manifest(&env), original);
    env.devctl(&["import", "Procfile", "--force"])
        .expect_code(0);
    assert!(manifest(&env).contains("service \"web\""));
    // -o elsewhere, and - for stdout (which writes no file).
    env.devctl(&["import", "Procfile", "-o", "other.kdl"])
        .expect_code(0);
    assert!(env.project_dir.join("other.kdl").is_file());
    let r = env.devctl(&["import", "Procfile", "-o", "-"]);
    r.expect_code(0);
    assert!(
        r.stdout.starts_with("// Imported by `devctl import`"),
        "{}",
        r.stdout
    );
}

#[test]
fn import_errors_say_what_and_how_to_fix() {
    let env = TestEnv::new();
    let missing = env.devctl(&["import", "Procfile"]);
    missing.expect_code(4);
    assert!(missing.stderr.contains("cannot read"), "{}", missing.stderr);

    write(&env.project_dir, "notes.txt", "hello\n");
    let unknown = env.devctl(&["import", "notes.txt"]);
    unknown.expect_code(2);
    assert!(unknown.stderr.contains("--format"), "{}", unknown.stderr);

    write(
        &env.project_dir,
        "compose.yaml",
        "services:\n  web:\n    image: [unclosed\n",
    );
    let bad = env.devctl(&["import", "compose.yaml"]);
    bad.expect_code(65);
    assert!(bad.stderr.contains("not valid YAML"), "{}", bad.stderr);
    assert!(bad.stderr.contains("compose.yaml"), "{}", bad.stderr);
    let json = env.devctl(&["import", "compose.yaml", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-manifest", "{v}");

    write(&env.project_dir, "Procfile", "# nothing here\n\n");
    let empty = env.devctl(&["import", "Procfile"]);
    empty.expect_code(1);
    assert!(
        empty.stderr.contains("defines no process types"),
        "{}",
        empty.stderr
    );
    assert!(!env.project_dir.join("devctl.kdl").exists());
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
