//! Container starts that depend on images and on the engine itself: an
//! image build gating the container (output in the unit's log), a failing
//! build, HEALTHCHECK readiness and an image without one, a missing image,
//! and an engine that is absent, refusing, silent or not on a Unix socket.

mod docker_util;

use devctl_supervisord::core::provider::{Fact, Provider, StartFailure};
use devctl_supervisord::providers::docker::error::Unreachable;
use devctl_supervisord::providers::docker::{ContainerProvider, DockerError, Engine};
use devctl_units::ImageBuild;
use devctl_units::state::UnitResult;

use docker_util::*;

fn context(dockerfile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    dir
}

fn permanent(r: Result<u32, StartFailure>) -> (UnitResult, String) {
    match r {
        Err(StartFailure::Permanent { result, message }) => (result, message),
        other => panic!("expected a permanent start failure, got {other:?}"),
    }
}

#[tokio::test]
async fn build_gates_the_container_and_logs_its_output() {
    ensure_image();
    let project = project("build");
    let _g = Cleanup(project.clone());
    let tmp = tempfile::tempdir().unwrap();
    let ctxdir = context(&format!(
        "FROM {IMAGE}\nRUN echo build-step-ran\nCMD [\"sh\",\"-c\",\"echo from-built-image; sleep 1000\"]\n"
    ));
    let tag = format!("devctl-test/{project}:built");
    let mut u = unit(&project, "app", &[]);
    let c = u.container.as_mut().unwrap();
    c.command = None;
    c.image = tag.clone();
    c.build = Some(ImageBuild {
        context: ctxdir.path().to_path_buf(),
        dockerfile: "Dockerfile".into(),
    });
    let (ctx, log, _facts) = docker_util::ctx(u, tmp.path(), 1);
    let mut p = ContainerProvider::new(tmp.path());
    p.start(ctx).await.expect("builds and starts");
    wait_line(&log, 20, "from-built-image").await;
    let texts = texts(&log);
    let built = texts
        .iter()
        .position(|t| t.starts_with("built image"))
        .expect("build marker");
    let started = texts
        .iter()
        .position(|t| t.starts_with("started container"))
        .expect("start marker");
    assert!(built < started, "the build gates the container: {texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("build-step-ran")),
        "{texts:?}"
    );
    p.stop(&devctl_units::StopSpec {
        timeout: std::time::Duration::from_millis(200),
        ..Default::default()
    })
    .await;
    let _ = std::process::Command::new("docker")
        .args(["rmi", "-f", &tag])
        .output();
}

#[tokio::test]
async fn a_failing_build_fails_the_start_with_its_output_logged() {
    ensure_image();
    let project = project("badbuild");
    let _g = Cleanup(project.clone());
    let tmp = tempfile::tempdir().unwrap();
    let ctxdir = context(&format!("FROM {IMAGE}\nRUN echo about-to-fail && exit 7\n"));
    let mut u = unit(&project, "app", &["true"]);
    let c = u.container.as_mut().unwrap();
    c.image = format!("devctl-test/{project}:never");
    c.build = Some(ImageBuild {
        context: ctxdir.path().to_path_buf(),
        dockerfile: "Dockerfile".into(),
    });
    let (ctx, log, _f) = docker_util::ctx(u, tmp.path(), 1);
    let mut p = ContainerProvider::new(tmp.path());
    let (result, message) = permanent(p.start(ctx).await);
    assert_eq!(result, UnitResult::ExecFailed);
    assert!(message.contains("building image"), "{message}");
    assert!(
        log.tail(100)
            .iter()
            .any(|r| r.text.contains("about-to-fail"))
    );
    assert!(project_containers(&project).is_empty());

    // A context that is not there names the path.
    let mut u = unit(&project, "app2", &["true"]);
    u.container.as_mut().unwrap().build = Some(ImageBuild {
        context: "/nonexistent/ctx".into(),
        dockerfile: "Dockerfile".into(),
    });
    let (ctx2, _l, _f) = docker_util::ctx(u, tmp.path(), 2);
    let (_, message) = permanent(p.start(ctx2).await);
    assert!(message.contains("/nonexistent/ctx"), "{message}");
}

#[tokio::test]
async fn healthcheck_readiness_and_an_image_without_one() {
    ensure_image();
    let project = project("health");
    let _g = Cleanup(project.clone());
    let tmp = tempfile::tempdir().unwrap();
    let healthy = format!("devctl-test/{project}:healthy");
    let ctxdir = context(&format!(
        "FROM {IMAGE}\nHEALTHCHECK --interval=1s --timeout=1s CMD test -f /ok\n"
    ));
    docker(&[
        "build",
        "-q",
        "-t",
        &healthy,
        ctxdir.path().to_str().unwrap(),
    ]);
    let mut u = unit(
        &project,
        "svc",
        &["sh", "-c", "sleep 1; touch /ok; while :; do sleep 1; done"],
    );
    let c = u.container.as_mut().unwrap();
    c.image = healthy.clone();
    c.healthcheck = true;
    let (ctx, log, mut facts) = docker_util::ctx(u, tmp.path(), 1);
    let mut p = ContainerProvider::new(tmp.path());
    p.start(ctx).await.expect("starts");
    fact(&mut facts, 30, |f| *f == Fact::Ready).await;
    assert!(log.tail(50).iter().any(|r| &*r.text == "health: healthy"));
    p.stop(&devctl_units::StopSpec {
        timeout: std::time::Duration::from_millis(200),
        ..Default::default()
    })
    .await;

    let mut u = unit(&project, "nohealth", &["sleep", "1000"]);
    u.container.as_mut().unwrap().healthcheck = true;
    let (ctx2, _l, _f) = docker_util::ctx(u, tmp.path(), 2);
    let (result, message) = permanent(p.start(ctx2).await);
    assert_eq!(result, UnitResult::ExecFailed);
    assert!(
        message.contains("HEALTHCHECK") && message.contains(IMAGE),
        "{message}"
    );
    assert!(project_containers(&project).is_empty());
    let _ = std::process::Command::new("docker")
        .args(["rmi", "-f", &healthy])
        .output();
}

#[tokio::test]
async fn a_missing_image_is_named_and_never_pulled() {
    let project = project("noimage");
    let _g = Cleanup(project.clone());
    let tmp = tempfile::tempdir().unwrap();
    let mut u = unit(&project, "app", &["true"]);
    u.container.as_mut().unwrap().image = "devctl-test/absent:0".into();
    let (ctx, _l, _f) = docker_util::ctx(u, tmp.path(), 1);
    let mut p = ContainerProvider::new(tmp.path());
    let (result, message) = permanent(p.start(ctx).await);
    assert_eq!(result, UnitResult::ExecFailed);
    assert!(message.contains("devctl-test/absent:0"), "{message}");
    assert!(message.contains("never pulls"), "{message}");
    assert!(project_containers(&project).is_empty());
}

#[tokio::test]
async fn an_unreachable_engine_names_the_socket_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let (ctx, _l, _f) = ctx(unit("p", "c", &["true"]), tmp.path(), 1);
    let mut p = ContainerProvider::new(tmp.path()).with_host("unix:///nonexistent.sock");
    let (result, message) = permanent(p.start(ctx).await);
    assert_eq!(result, UnitResult::ProviderUnavailable);
    assert!(message.contains("unix:///nonexistent.sock"), "{message}");
    assert!(message.contains("DOCKER_HOST"), "{message}");

    // A socket file nobody listens on: refused.
    let dead = tmp.path().join("dead.sock");
    drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
    let host = format!("unix://{}", dead.display());
    match Engine::connect(&host).await.unwrap_err() {
        DockerError::Unreachable {
            reason, host: h, ..
        } => {
            assert_eq!(reason, Unreachable::Refused);
            assert_eq!(h, host);
        }
        e => panic!("{e:?}"),
    }

    // A listener that never answers: the ping times out.
    let silent = tmp.path().join("silent.sock");
    let _l = std::os::unix::net::UnixListener::bind(&silent).unwrap();
    match Engine::connect(&format!("unix://{}", silent.display()))
        .await
        .unwrap_err()
    {
        DockerError::Unreachable { reason, .. } => assert_eq!(reason, Unreachable::Timeout),
        e => panic!("{e:?}"),
    }

    // Only Unix sockets are supported.
    match Engine::connect("tcp://127.0.0.1:2375").await.unwrap_err() {
        e @ DockerError::UnsupportedHost { .. } => {
            assert!(e.user_message().contains("unix://"), "{}", e.user_message())
        }
        e => panic!("{e:?}"),
    }
}
