//! Helpers of the Docker provider tests: the engine connection, container
//! units and run contexts over the crate's own types, and waits on facts
//! and log lines. The engine checks, the busybox test image and container
//! clean-up are `devctl_test_support::docker`'s.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use devctl_supervisord::core::notes::{self, NoteRx};
use devctl_supervisord::core::provider::{Fact, RunCtx};
use devctl_supervisord::logs::{LogLimits, LogStore, Stream, UnitLog};
use devctl_supervisord::providers::docker::Engine;
use devctl_units::{ContainerSpec, ProjectName, Unit, UnitKind, UnitName};

pub use devctl_test_support::docker::{
    ContainerGuard as Cleanup, TEST_IMAGE as IMAGE, docker, ensure_test_image as ensure_image,
};

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

/// Containers (any state) labelled with this project.
pub fn project_containers(project: &str) -> Vec<String> {
    devctl_test_support::docker::project_containers(project, None)
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
