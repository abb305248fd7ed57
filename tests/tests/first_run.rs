//! What a new user meets first, from clean copies of `examples/`: every
//! example comes up with `devctl up` on its first try (no `data/` left from
//! an earlier run), and the webapp exported with `devctl export --install`
//! runs under a real `systemd --user` whose `PATH` lacks the directory
//! devctl was built in, so its readiness gates must call devctl by
//! absolute path.
//!
//! These tests use the examples' fixed ports, so they share the one-at-a-
//! time test group of the systemd tests (`.config/nextest.toml`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use devctl_tests::docker::{ContainerGuard, TEST_IMAGE, ensure_test_image, unique_project};
use devctl_tests::systemd::SystemdUser;
use devctl_tests::{CEILING, TestEnv, devctl_bin, devctld_bin, wait_until};

/// The examples' fixed ports allow one of these tests at a time in this
/// process too (`cargo test` runs a binary's tests on parallel threads).
static PORTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    PORTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The `PATH` of a login's user manager: no `~/.cargo/bin`, no build tree.
const LOGIN_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Copy an example as a fresh checkout has it: without the `data/`,
/// `public/` and `dist/` an earlier run in the source tree may have left.
fn clean_copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "data" || name == "public" || name == "dist" || name == "gen" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            clean_copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A TCP port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET /` on a local port: the body, once the server answers 200.
fn http_body(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    // python's http.server answers HTTP/1.0, busybox httpd HTTP/1.1.
    (out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200"))
        .then(|| out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()))
        .flatten()
}

/// Every unit the example enables is active after `devctl up`.
fn assert_enabled_units_active(env: &TestEnv, dir: &Path, units: &[&str]) {
    for unit in units {
        let r = env.devctl_in(dir, &["is-active", unit]);
        assert_eq!(
            r.code,
            Some(0),
            "{unit} is not active after `devctl up` in {}: {r:?}\n{}",
            dir.display(),
            env.devctl_in(dir, &["status"]).stdout
        );
    }
}

#[test]
fn webapp_example_comes_up_from_a_clean_copy() {
    let _ports = one_at_a_time();
    let mut env = TestEnv::new();
    env.start_daemon();
    let dir = env.home.path().join("webapp");
    clean_copy(&examples().join("webapp"), &dir);
    assert!(!dir.join("data").exists());

    env.devctl_in(&dir, &["up"]).expect_code(0);
    assert_enabled_units_active(&env, &dir, &["db", "api", "worker"]);
    let r = env.devctl_in(&dir, &["status", "--json", "codegen"]);
    assert!(
        r.stdout.contains("\"succeeded\"") || r.stdout.contains("success"),
        "{r:?}"
    );
    let pid: u32 = std::fs::read_to_string(dir.join("data/db.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        devctl_tests::alive(pid),
        "the pid file names the running server"
    );
    let body = wait_until("the API to serve the generated page", CEILING, || {
        http_body(8080)
    });
    assert!(body.contains("<h1>Pizzeria</h1>"), "{body}");

    env.devctl_in(&dir, &["down"]).expect_code(0);
    env.devctl_in(&dir, &["daemon", "stop"]).expect_code(0);
    no_orphans(&env);
}

#[test]
fn monorepo_example_comes_up_from_a_clean_copy() {
    let _ports = one_at_a_time();
    let mut env = TestEnv::new();
    env.start_daemon();
    let dir = env.home.path().join("monorepo");
    clean_copy(&examples().join("monorepo"), &dir);

    env.devctl_in(&dir, &["up"]).expect_code(0);
    assert_enabled_units_active(&env, &dir, &["users", "gateway", "web"]);
    let docs = env.devctl_in(&dir, &["is-active", "docs"]);
    assert_eq!(docs.code, Some(3), "docs is disabled by default: {docs:?}");
    wait_until("the web dev server to answer", CEILING, || http_body(3000));

    env.devctl_in(&dir, &["down"]).expect_code(0);
    env.devctl_in(&dir, &["daemon", "stop"]).expect_code(0);
    no_orphans(&env);
}

/// The containers example names `busybox:latest`, which devctl never
/// pulls; the copy runs the suite's locally built busybox image instead,
/// under a project name and host ports of its own (the engine is shared,
/// and container names derive from the project).
#[test]
fn containers_example_comes_up_from_a_clean_copy() {
    let _ports = one_at_a_time();
    ensure_test_image();
    let project = unique_project("shop");
    let _guard = ContainerGuard(project.clone());
    let mut env = TestEnv::new();
    env.start_daemon();
    let dir = env.home.path().join("containers");
    clean_copy(&examples().join("containers"), &dir);
    let kdl = std::fs::read_to_string(dir.join("devctl.kdl")).unwrap();
    assert!(kdl.contains("\"busybox:latest\""));
    assert!(kdl.contains("project \"shop\""));
    // Its host ports too: other projects on a shared engine may hold them.
    let (cache, web) = (free_port(), free_port());
    let kdl = kdl
        .replace("\"busybox:latest\"", &format!("\"{TEST_IMAGE}\""))
        .replace("project \"shop\"", &format!("project \"{project}\""))
        .replace("16379", &cache.to_string())
        .replace("18080", &web.to_string());
    std::fs::write(dir.join("devctl.kdl"), kdl).unwrap();

    env.devctl_in(&dir, &["up"]).expect_code(0);
    assert_enabled_units_active(&env, &dir, &["cache", "static", "app"]);
    let body = wait_until("the static container to serve", CEILING, || http_body(web));
    assert!(body.contains("<"), "{body}");

    env.devctl_in(&dir, &["down"]).expect_code(0);
    env.devctl_in(&dir, &["daemon", "stop"]).expect_code(0);
    no_orphans(&env);
}

#[test]
fn exported_webapp_runs_under_systemd_user_without_devctl_on_path() {
    let _ports = one_at_a_time();
    for d in LOGIN_PATH.split(':') {
        assert!(
            !Path::new(d).join("devctl").exists(),
            "{d}/devctl exists: this test needs a PATH without devctl"
        );
    }
    let devctl = devctl_bin().canonicalize().unwrap();
    let sd = SystemdUser::start_with_path(LOGIN_PATH);
    let dir = sd.home.path().join("webapp");
    clean_copy(&examples().join("webapp"), &dir);

    let out = sd
        .command(&devctl)
        .env("PATH", LOGIN_PATH)
        .env("DEVCTLD", devctld_bin())
        .current_dir(&dir)
        .args(["export", "--install"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "export --install: {out:?}");
    let api = std::fs::read_to_string(sd.unit_dir().join("pizzeria-api.service")).unwrap();
    let gate = format!("ExecStartPost={} probe http", devctl.display());
    assert!(api.contains(&gate), "no absolute gate {gate:?} in:\n{api}");
    assert!(!api.contains("env devctl"), "{api}");

    let started = sd.systemctl(&["start", "pizzeria.target"]);
    assert!(started.status.success(), "{started:?}");
    for unit in ["pizzeria-db.service", "pizzeria-api.service"] {
        wait_until(&format!("{unit} to be active"), CEILING * 2, || {
            let state = sd.property(unit, "ActiveState");
            assert_ne!(
                state,
                "failed",
                "{unit} failed (ExecStartPost status {})",
                sd.property(unit, "ExecStartPost")
            );
            (state == "active").then_some(())
        });
    }
    assert_eq!(sd.property("pizzeria-codegen.service", "Result"), "success");
    let body = wait_until("the API to serve the generated page", CEILING, || {
        http_body(8080)
    });
    assert!(body.contains("<h1>Pizzeria</h1>"), "{body}");

    let stopped = sd.systemctl(&["stop", "pizzeria.target"]);
    assert!(stopped.status.success(), "{stopped:?}");
    wait_until("the api and db to stop", CEILING, || {
        (sd.property("pizzeria-api.service", "ActiveState") == "inactive"
            && sd.property("pizzeria-db.service", "ActiveState") == "inactive")
            .then_some(())
    });
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
