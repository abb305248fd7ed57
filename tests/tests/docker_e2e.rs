//! Container units end to end, through the real `devctl` and `devctld` and
//! the real Docker engine: a busybox container serving HTTP is probed ready
//! before a dependent local service starts, its output is in `devctl logs`,
//! `stop`, `down` and `daemon stop` remove it; after `kill -9` of the
//! daemon the next one adopts the running container (same id, origin
//! `adopted`, its exit still watched) and restarts the project's local
//! process (origin `restarted`); an unreachable engine fails only the
//! container unit (`provider-unavailable`, naming the socket), a missing
//! image fails with its name and a taken host port with `port-in-use`.
//!
//! Every test uses its own project (container names and labels) and host
//! port, and a [`ContainerGuard`] removes the project's containers even
//! when the test fails. The engine must run: these tests fail, never skip,
//! without it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use devctl_test_support::net::free_port;
use devctl_tests::docker::{
    ContainerGuard, TEST_IMAGE, container_running, docker, ensure_test_image, project_containers,
    require_engine, unique_project,
};
use devctl_tests::{CEILING, TestEnv, field, status, wait_until};

/// `GET /index.html` on a local port; the raw answer.
fn http_get(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    (!out.is_empty()).then_some(out)
}

/// A container unit `web` serving `/www/index.html` with busybox httpd on
/// container port 8080, published on `port`, ready when a GET through the
/// published port answers (a TCP probe could pass early: the engine's proxy
/// accepts before the server listens). It declares its host port, which
/// the engine's proxy holds while an adopted container runs.
fn web_unit(port: u16) -> String {
    format!(
        r#"container "web" {{
    image "{TEST_IMAGE}"
    command "sh" "-c" "mkdir -p /www; echo hello-from-web > /www/index.html; trap 'exit 0' TERM; httpd -f -v -p 8080 -h /www & echo serving; wait"
    publish 8080 host={port}
    port {port}
    ready {{ http "http://127.0.0.1:{port}/index.html"; period "200ms" }}
    stop timeout="5s"
}}
"#
    )
}

/// The container unit `web` serves, is ready before its dependent starts,
/// logs, and is removed by `stop`, `down` and a clean daemon stop.
#[test]
fn container_is_ready_before_its_dependent_logs_and_is_removed_by_stop_and_down() {
    ensure_test_image();
    let project = unique_project("serve");
    let _guard = ContainerGuard(project.clone());
    let port = free_port();
    let mut env = TestEnv::new();
    env.write_manifest(&format!(
        r#"project "{project}"
{web}
service "client" {{
    sh "busybox wget -q -O fetched.txt http://127.0.0.1:{port}/index.html; echo $? > fetched.rc; exec sleep 300"
    requires "web"
}}
"#,
        web = web_unit(port)
    ));
    env.start_daemon();

    env.devctl(&["start", "client"]).expect_code(0);
    let web = status(&env, "web");
    assert_eq!(field(&web, "active"), "active", "{web}");
    assert_eq!(web["ready"], true, "{web}");
    assert_eq!(field(&web, "origin"), "started", "{web}");
    // The client ran only once the page was served.
    let rc = wait_until("the client to record its fetch", CEILING, || {
        std::fs::read_to_string(env.project_dir.join("fetched.rc"))
            .ok()
            .filter(|s| s.ends_with('\n'))
    });
    assert_eq!(
        rc.trim(),
        "0",
        "the page was not served when client started"
    );
    let page = std::fs::read_to_string(env.project_dir.join("fetched.txt")).unwrap();
    assert_eq!(page.trim(), "hello-from-web");

    let ids = project_containers(&project, Some("web"));
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(container_running(&ids[0]));
    let logs = env.devctl(&["logs", "web"]).expect_code(0).stdout.clone();
    assert!(
        logs.contains("serving"),
        "container output in the log: {logs}"
    );
    assert!(logs.contains("started container"), "{logs}");

    env.devctl(&["stop", "web"]).expect_code(0);
    assert_eq!(field(&status(&env, "web"), "active"), "inactive");
    // A required unit's stop stops its dependent.
    assert_eq!(field(&status(&env, "client"), "active"), "inactive");
    assert!(
        project_containers(&project, None).is_empty(),
        "stop removes the container"
    );
    assert!(http_get(port).is_none_or(|r| !r.contains("hello-from-web")));

    env.devctl(&["start", "web"]).expect_code(0);
    assert_eq!(project_containers(&project, None).len(), 1);
    env.devctl(&["down"]).expect_code(0);
    assert!(
        project_containers(&project, None).is_empty(),
        "down leaves no container"
    );

    // A clean daemon stop ends the session: its containers go with it.
    env.devctl(&["start", "web"]).expect_code(0);
    assert_eq!(project_containers(&project, None).len(), 1);
    env.devctl(&["daemon", "stop"]).expect_code(0);
    assert!(
        project_containers(&project, None).is_empty(),
        "daemon stop leaves no container"
    );
    env.assert_no_orphans();
}

/// The container `web` of [`web_unit`] next to a local process `side`.
fn web_and_side(project: &str, port: u16) -> String {
    format!(
        r#"project "{project}"
{web}
service "side" {{
    sh "exec sleep 300"
}}
"#,
        web = web_unit(port)
    )
}

/// `kill -9` of the daemon: the next one adopts the running container
/// (same container, origin `adopted`, still serving) and restarts the
/// project's local process (origin `restarted`, a new pid).
#[test]
fn daemon_sigkill_adopts_the_container_and_restarts_the_process() {
    ensure_test_image();
    let project = unique_project("adopt");
    let _guard = ContainerGuard(project.clone());
    let port = free_port();
    let mut env = TestEnv::new();
    env.write_manifest(&web_and_side(&project, port));
    let first = env.start_daemon();
    env.devctl(&["start", "web", "side"]).expect_code(0);
    let ids = project_containers(&project, Some("web"));
    assert_eq!(ids.len(), 1, "{ids:?}");
    let side_pid = status(&env, "side")["main_pid"].as_u64().unwrap();

    env.signal_daemon(first, nix::sys::signal::Signal::SIGKILL);
    assert_eq!(env.wait_daemon_exit(first, CEILING), None, "killed");
    assert!(container_running(&ids[0]), "the container outlives devctld");

    env.start_daemon();
    let web = wait_until("web to be adopted", CEILING, || {
        let s = status(&env, "web");
        (field(&s, "active") == "active" && field(&s, "origin") == "adopted").then_some(s)
    });
    assert_eq!(web["ready"], true, "{web}");
    assert_eq!(
        project_containers(&project, Some("web")),
        ids,
        "the same container, not a new one"
    );
    let side = wait_until("side to run again", CEILING, || {
        let s = status(&env, "side");
        (field(&s, "active") == "active").then_some(s)
    });
    assert_eq!(field(&side, "origin"), "restarted", "{side}");
    assert_ne!(side["main_pid"].as_u64().unwrap(), side_pid, "{side}");
    assert_eq!(env.marked_children().len(), 1, "one instance of side");
    assert!(http_get(port).is_some_and(|r| r.contains("hello-from-web")));
    let logs = env.devctl(&["logs", "web"]).expect_code(0).stdout.clone();
    assert!(logs.contains("adopted running container"), "{logs}");

    // The adopted container's exit is watched: the restart policy brings up
    // a new container, which this daemon started.
    docker(&["kill", "-s", "KILL", &ids[0]]);
    let web = wait_until("web to run again in a new container", CEILING, || {
        let s = status(&env, "web");
        let fresh = project_containers(&project, Some("web"));
        (field(&s, "active") == "active" && fresh.len() == 1 && fresh != ids).then_some(s)
    });
    assert_eq!(field(&web, "origin"), "restarted", "{web}");
    assert_eq!(web["last_exit"]["signal"], 9, "{web}");

    env.devctl(&["down"]).expect_code(0);
    assert!(
        project_containers(&project, None).is_empty(),
        "down leaves no container"
    );
    env.assert_no_orphans();
}

/// An unreachable engine fails the container unit with the socket's name
/// and the fix, permanently; a local process of the same project runs.
#[test]
fn unreachable_engine_fails_only_the_container_unit() {
    require_engine();
    let project = unique_project("noengine");
    let _guard = ContainerGuard(project.clone());
    let port = free_port();
    let mut env = TestEnv::new();
    env.write_manifest(&web_and_side(&project, port));
    let mut daemon = env.daemon_command();
    daemon.env("DOCKER_HOST", "unix:///nonexistent.sock");
    let pid = env.spawn_daemon_cmd(daemon);
    env.wait_daemon_ready(pid);

    let r = env.devctl(&["start", "web"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(
        format!("{}{}", r.stdout, r.stderr).contains("/nonexistent.sock"),
        "{r:?}"
    );
    let s = status(&env, "web");
    assert_eq!(
        (field(&s, "active"), field(&s, "result")),
        ("failed".into(), "provider-unavailable".into()),
        "{s}"
    );
    let msg = field(&s, "message");
    assert!(msg.contains("unix:///nonexistent.sock"), "{msg}");
    assert!(msg.contains("DOCKER_HOST"), "the fix is named: {msg}");
    assert_eq!(s["restarts"], 0, "permanent: {s}");

    env.devctl(&["start", "side"]).expect_code(0);
    assert_eq!(field(&status(&env, "side"), "active"), "active");
    assert!(project_containers(&project, None).is_empty());
    env.devctl(&["down"]).expect_code(0);
    env.assert_no_orphans();
}

/// An image that is not in the engine fails the unit with its name (devctl
/// never pulls), without retries and without leaving a container.
#[test]
fn missing_image_fails_with_its_name() {
    require_engine();
    let project = unique_project("noimage");
    let _guard = ContainerGuard(project.clone());
    let image = format!("devctl-test/absent-{project}:1");
    let mut env = TestEnv::new();
    env.write_manifest(&format!(
        r#"project "{project}"
container "web" {{
    image "{image}"
    command "sleep" "300"
    restart "always"
}}
"#
    ));
    env.start_daemon();
    let r = env.devctl(&["start", "web"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(
        format!("{}{}", r.stdout, r.stderr).contains(&image),
        "{r:?}"
    );
    let s = status(&env, "web");
    assert_eq!(
        (field(&s, "active"), field(&s, "result")),
        ("failed".into(), "exec-failed".into()),
        "{s}"
    );
    assert!(field(&s, "message").contains(&image), "{s}");
    assert_eq!(s["restarts"], 0, "a missing image is permanent: {s}");
    assert!(project_containers(&project, None).is_empty());
}

/// A host port already taken fails a new container at once with
/// `port-in-use`, naming the port and its holder, and creates nothing.
#[test]
fn taken_host_port_fails_with_port_in_use() {
    ensure_test_image();
    let project = unique_project("port");
    let _guard = ContainerGuard(project.clone());
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let mut env = TestEnv::new();
    env.write_manifest(&format!("project \"{project}\"\n{}", web_unit(port)));
    env.start_daemon();
    let r = env.devctl(&["start", "web"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    let s = status(&env, "web");
    assert_eq!(
        (field(&s, "active"), field(&s, "result")),
        ("failed".into(), "port-in-use".into()),
        "{s}"
    );
    let msg = field(&s, "message");
    assert!(msg.contains(&format!("port {port}")), "{msg}");
    assert!(
        msg.contains(&std::process::id().to_string()),
        "the holder: {msg}"
    );
    assert_eq!(s["restarts"], 0, "permanent: {s}");
    assert!(project_containers(&project, None).is_empty());
    drop(held);
}
