//! The container provider against the real Docker engine: create/start,
//! logs into the unit log and as facts, TCP service reachable through a
//! published port, exit codes, stop (graceful and escalated to SIGKILL),
//! removal, adoption after a simulated daemon crash, stale-container
//! replacement, foreign containers left alone, and crash-recovery cleanup.

mod docker_util;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::time::Duration;

use devctl_supervisord::core::provider::{Fact, Provider, StopReport};
use devctl_supervisord::logs::Stream;
use devctl_supervisord::process::ExitStatus;
use devctl_supervisord::providers::docker::{ContainerProvider, recover};
use devctl_test_support::net::free_port;
use devctl_units::Publish;

use docker_util::*;

fn http_get(port: u16) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    (!out.is_empty()).then_some(out)
}

/// A unit serving `/www/index.html` over HTTP on container port 8080.
fn web_unit(project: &str, name: &str, port: u16) -> devctl_units::Unit {
    let mut u = unit(
        project,
        name,
        &[
            "sh",
            "-c",
            "mkdir -p /www; echo hello-from-web > /www/index.html; trap 'exit 0' TERM; \
             httpd -f -p 8080 -h /www & echo serving; wait",
        ],
    );
    u.container.as_mut().unwrap().publish = vec![Publish {
        container_port: 8080,
        host_port: Some(port),
        host_ip: None,
        protocol: "tcp".into(),
    }];
    u
}

#[tokio::test]
async fn serves_tcp_logs_stops_and_removes() {
    ensure_image();
    let project = project("serve");
    let _g = Cleanup(project.clone());
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let (ctx, log, _facts) = ctx(web_unit(&project, "web", port), tmp.path(), 1);
    let mut p = ContainerProvider::new(tmp.path());
    let pid = p.start(ctx).await.expect("container starts");
    assert!(pid > 0);
    wait_line(&log, 20, "serving").await;
    until(20, "the page through the published port", async || {
        http_get(port).is_some_and(|r| r.contains("hello-from-web"))
    })
    .await;
    assert!(
        log.tail(50)
            .iter()
            .any(|r| r.stream == Stream::Marker && r.text.starts_with("started container"))
    );
    let labels = docker(&[
        "inspect",
        "-f",
        "{{index .Config.Labels \"devctl.unit\"}} {{.HostConfig.RestartPolicy.Name}}",
        &format!("devctl-{project}-web"),
    ]);
    assert_eq!(labels.trim(), "web no");
    let stop = devctl_units::StopSpec::default();
    assert_eq!(p.stop(&stop).await, StopReport::Graceful);
    assert!(project_containers(&project).is_empty(), "container removed");
    assert!(http_get(port).is_none_or(|r| !r.contains("hello-from-web")));
    // Stopping again is a no-op.
    assert_eq!(p.stop(&stop).await, StopReport::Graceful);
}

#[tokio::test]
async fn exit_code_and_stderr_are_reported() {
    ensure_image();
    let project = project("exit");
    let _g = Cleanup(project.clone());
    let tmp = tempfile::tempdir().unwrap();
    let u = unit(&project, "job", &["sh", "-c", "echo oops >&2; exit 3"]);
    let (ctx, log, mut facts) = ctx(u, tmp.path(), 7);
    let mut p = ContainerProvider::new(tmp.path());
    p.start(ctx).await.expect("starts");
    let f = fact(&mut facts, 20, |f| matches!(f, Fact::Exited(_))).await;
    assert_eq!(f, Fact::Exited(Some(ExitStatus::Exited(3))));
    // The core stops (cleans up) after an exit: the container goes away.
    assert_eq!(
        p.stop(&devctl_units::StopSpec::default()).await,
        StopReport::Graceful
    );
    assert!(
        log.tail(20)
            .iter()
            .any(|r| r.stream == Stream::Stderr && &*r.text == "oops")
    );
    assert!(project_containers(&project).is_empty());
}

#[tokio::test]
async fn stop_escalates_to_sigkill_after_the_timeout() {
    ensure_image();
    let project = project("kill");
    let _g = Cleanup(project.clone());
    let tmp = tempfile::tempdir().unwrap();
    // PID 1 without a TERM handler ignores SIGTERM.
    let u = unit(
        &project,
        "stubborn",
        &["sh", "-c", "echo up; while :; do sleep 1; done"],
    );
    let (ctx, log, _facts) = ctx(u, tmp.path(), 1);
    let mut p = ContainerProvider::new(tmp.path());
    p.start(ctx).await.expect("starts");
    wait_line(&log, 20, "up").await;
    let spec = devctl_units::StopSpec {
        timeout: Duration::from_millis(500),
        ..Default::default()
    };
    assert_eq!(p.stop(&spec).await, StopReport::Killed);
    assert!(project_containers(&project).is_empty());
}

#[tokio::test]
async fn adopts_a_running_container_after_a_crash_and_replaces_a_stale_one() {
    ensure_image();
    let project = project("adopt");
    let _g = Cleanup(project.clone());
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let (c1, l1, mut f1) = ctx(web_unit(&project, "web", port), tmp.path(), 1);
    let mut first = ContainerProvider::new(tmp.path());
    let pid1 = first.start(c1).await.expect("starts");
    wait_line(&l1, 20, "serving").await;
    assert!(
        f1.try_recv().is_none(),
        "a fresh container is not reported adopted"
    );
    let id1 = project_containers(&project);
    // The daemon "crashes": the provider forgets, the container keeps running.
    first.forget();
    let mut second = ContainerProvider::new(tmp.path());
    let (c2, log2, mut f2) = ctx(web_unit(&project, "web", port), tmp.path(), 2);
    let pid2 = second.start(c2).await.expect("adopts");
    assert_eq!(pid1, pid2, "same main process");
    assert_eq!(project_containers(&project), id1, "same container");
    assert!(
        log2.tail(20)
            .iter()
            .any(|r| r.text.starts_with("adopted running container"))
    );
    until(20, "the adopted server answers", async || {
        http_get(port).is_some_and(|r| r.contains("hello-from-web"))
    })
    .await;
    // The actor learns it was adopted (origin `adopted`), first of all facts.
    let (_, first_fact) = f2.try_recv().expect("a fact is queued when start returns");
    assert_eq!(first_fact, Fact::Adopted);
    // Its exit is still watched.
    docker(&["kill", "-s", "KILL", &id1[0]]);
    let f = fact(&mut f2, 20, |f| matches!(f, Fact::Exited(_))).await;
    assert_eq!(
        f,
        Fact::Exited(Some(ExitStatus::Signaled {
            signal: 9,
            core_dumped: false
        }))
    );
    second.stop(&devctl_units::StopSpec::default()).await;

    // A running container with other settings is not adopted: replaced.
    let (c3, _l3, _f3) = ctx(web_unit(&project, "web", port), tmp.path(), 3);
    let mut third = ContainerProvider::new(tmp.path());
    third.start(c3).await.expect("starts");
    let old = project_containers(&project);
    third.forget();
    let mut changed = web_unit(&project, "web", port);
    changed.env.push(("CHANGED".into(), "1".into()));
    let (c4, log4, _f4) = ctx(changed, tmp.path(), 4);
    let mut fourth = ContainerProvider::new(tmp.path());
    fourth.start(c4).await.expect("recreated");
    assert_ne!(project_containers(&project), old);
    assert!(
        log4.tail(20)
            .iter()
            .any(|r| r.text.starts_with("removing stale container"))
    );
    fourth.stop(&devctl_units::StopSpec::default()).await;
    assert!(project_containers(&project).is_empty());
}

#[tokio::test]
async fn foreign_containers_are_never_touched() {
    ensure_image();
    let project = project("foreign");
    let _g = Cleanup(project.clone());
    let tmp = tempfile::tempdir().unwrap();
    // Same name, but created by someone else (no devctl instance label).
    let name = format!("devctl-{project}-web");
    docker(&[
        "create",
        "--name",
        &name,
        "--label",
        &format!("devctl.project={project}"),
        IMAGE,
        "sleep",
        "1000",
    ]);
    let (c, _l, _f) = ctx(unit(&project, "web", &["sleep", "1000"]), tmp.path(), 1);
    let mut p = ContainerProvider::new(tmp.path());
    match p.start(c).await {
        Err(devctl_supervisord::core::provider::StartFailure::Permanent { message, .. }) => {
            assert!(message.contains(&name), "{message}");
            assert!(message.contains("docker rm -f"), "{message}");
        }
        other => panic!("expected a name clash, got {other:?}"),
    }
    assert_eq!(project_containers(&project).len(), 1, "left alone");

    // Another daemon instance's container is not ours to clean either.
    let other = tempfile::tempdir().unwrap();
    let engine = engine().await;
    let gone = recover::remove_all(
        &engine,
        &devctl_supervisord::providers::docker::labels::instance_id(other.path()),
    )
    .await
    .unwrap();
    assert_eq!(gone, 0);
    assert_eq!(project_containers(&project).len(), 1);
}

#[tokio::test]
async fn recovery_keeps_wanted_running_containers_and_removes_the_rest() {
    ensure_image();
    let project = project("recover");
    let _g = Cleanup(project.clone());
    let tmp = tempfile::tempdir().unwrap();
    let mut ps = Vec::new();
    for (i, name) in ["keep", "drop", "done"].iter().enumerate() {
        let cmd: &[&str] = if *name == "done" {
            &["true"]
        } else {
            &["sleep", "1000"]
        };
        let (c, _l, mut f) = ctx(unit(&project, name, cmd), tmp.path(), i as u64);
        let mut p = ContainerProvider::new(tmp.path());
        p.start(c).await.expect("starts");
        if *name == "done" {
            fact(&mut f, 20, |f| matches!(f, Fact::Exited(_))).await;
        }
        p.forget();
        ps.push(p);
    }
    let engine = engine().await;
    let instance = ps[0].instance().to_string();
    let mut keep = BTreeSet::new();
    keep.insert((project.clone(), "keep".to_string()));
    // "done" is wanted but not running: removed (its unit starts afresh).
    keep.insert((project.clone(), "done".to_string()));
    let r = recover::clean_strays(&engine, &instance, &keep)
        .await
        .unwrap();
    assert_eq!(r.kept, [(project.clone(), "keep".to_string())]);
    assert_eq!(
        r.removed,
        [
            (project.clone(), "done".to_string()),
            (project.clone(), "drop".to_string())
        ]
    );
    assert_eq!(project_containers(&project).len(), 1);
    // The boot hook of a crashed session keeps what is wanted...
    let host = devctl_supervisord::providers::docker::engine::host_from_env();
    let r = recover::on_boot(&host, tmp.path(), Some(&keep))
        .await
        .unwrap();
    assert_eq!(r.kept, [(project.clone(), "keep".to_string())]);
    // ...a new session wants nothing.
    let r = recover::on_boot(&host, tmp.path(), None).await.unwrap();
    assert_eq!(r.removed, [(project.clone(), "keep".to_string())]);
    assert!(project_containers(&project).is_empty());
    assert_eq!(recover::remove_all(&engine, &instance).await.unwrap(), 0);
    // An unreachable engine only skips recovery.
    assert!(
        recover::on_boot("unix:///nonexistent.sock", tmp.path(), None)
            .await
            .is_none()
    );
}
