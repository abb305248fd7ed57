//! Shared helpers of the Docker tests: the engine must answer (CI installs
//! and starts it; an absent engine fails the tests loudly), the busybox
//! test image is built once per test process, and every container a test
//! creates is removed by label when its guard drops, even on failure.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use devctl_supervisord::core::notes::{self, NoteRx};
use devctl_supervisord::core::provider::{Fact, RunCtx};
use devctl_supervisord::logs::{LogLimits, LogStore, Stream, UnitLog};
use devctl_supervisord::providers::docker::Engine;
use devctl_units::{ContainerSpec, ProjectName, Unit, UnitKind, UnitName};

/// The test image: a static busybox on `scratch`.
pub const IMAGE: &str = "devctl-test/busybox:1";

/// Run `docker ARGS`, returning stdout; panics with stderr on failure.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI runs (.ci/setup-machine installs docker.io)");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Build the test image once per process (idempotent tag).
pub fn ensure_image() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let busybox = Path::new("/usr/bin/busybox");
        assert!(
            busybox.exists(),
            "/usr/bin/busybox is missing: install busybox-static (.ci/setup-machine does)"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(busybox, dir.path().join("busybox")).unwrap();
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"--install\",\"-s\",\"/bin\"]\n",
        )
        .unwrap();
        docker(&["build", "-q", "-t", IMAGE, dir.path().to_str().unwrap()]);
    });
}

/// Connect to the engine or fail loudly.
pub async fn engine() -> Engine {
    match Engine::connect_default().await {
        Ok(e) => e,
        Err(e) => panic!(
            "the Docker engine must run for these tests (CI starts it in .ci/setup-machine): {}",
            e.user_message()
        ),
    }
}

/// Removes every container of a project when dropped.
pub struct Cleanup(pub String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        remove_project(&self.0);
    }
}

/// Remove every container labelled with this project.
pub fn remove_project(project: &str) {
    let ids = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=devctl.project={project}"),
    ]);
    for id in ids.split_whitespace() {
        let _ = Command::new("docker").args(["rm", "-f", id]).output();
    }
}

/// Containers (any state) labelled with this project.
pub fn project_containers(project: &str) -> Vec<String> {
    docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=devctl.project={project}"),
    ])
    .split_whitespace()
    .map(str::to_string)
    .collect()
}

/// A unique project name per test.
pub fn project(tag: &str) -> String {
    format!("dt{}-{tag}", std::process::id())
}

/// A container unit running `cmd` in the test image.
pub fn unit(project: &str, name: &str, cmd: &[&str]) -> Unit {
    let mut u = Unit::new(
        ProjectName::new(project).unwrap(),
        UnitName::new(name).unwrap(),
        UnitKind::Container,
        "/".into(),
    );
    u.container = Some(Box::new(ContainerSpec {
        image: IMAGE.into(),
        build: None,
        command: Some(cmd.iter().map(|s| s.to_string()).collect()),
        entrypoint: None,
        publish: vec![],
        volumes: vec![],
        workdir: None,
        user: None,
        network: None,
        healthcheck: false,
    }));
    u.stop.timeout = std::time::Duration::from_secs(2);
    u
}

/// A run context for `unit`, its log and the facts receiver.
pub fn ctx(unit: Unit, logs: &Path, run: u64) -> (RunCtx, UnitLog, NoteRx<Fact>) {
    let store = LogStore::open(logs.to_path_buf(), LogLimits::default()).unwrap();
    let log = store.unit(unit.project.as_str(), unit.name.as_str());
    let (tx, rx) = notes::channel();
    let ctx = RunCtx {
        unit: Arc::new(unit),
        run,
        invocation: format!("inv{run}"),
        env: Vec::new().into(),
        log: log.clone(),
        facts: tx,
    };
    (ctx, log, rx)
}

/// Poll `f` every 50 ms until it holds, failing after `secs`.
pub async fn until(secs: u64, what: &str, mut f: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !f().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Wait for the next fact matching `pred`, failing after `secs`.
pub async fn fact(
    rx: &mut NoteRx<Fact>,
    secs: u64,
    mut pred: impl FnMut(&devctl_supervisord::core::provider::Fact) -> bool,
) -> devctl_supervisord::core::provider::Fact {
    let deadline = std::time::Duration::from_secs(secs);
    tokio::time::timeout(deadline, async {
        loop {
            let (_, f) = rx.recv().await.expect("facts channel open");
            if pred(&f) {
                return f;
            }
        }
    })
    .await
    .expect("expected fact did not arrive in time")
}

/// Whether the log holds a line of `stream` with exactly `text`.
pub fn has_line(log: &UnitLog, stream: Stream, text: &str) -> bool {
    log.tail(500)
        .iter()
        .any(|l| l.stream == stream && &*l.text == text)
}

/// The texts of the log's last lines.
pub fn texts(log: &UnitLog) -> Vec<String> {
    log.tail(500).iter().map(|l| l.text.to_string()).collect()
}

/// Wait until the log holds a stdout line `text`.
pub async fn wait_line(log: &UnitLog, secs: u64, text: &str) {
    until(secs, text, async || has_line(log, Stream::Stdout, text)).await;
}
