//! Docker helpers for end-to-end tests of container units: the engine must
//! answer (CI installs and starts it in `.ci/setup-machine`; an absent
//! engine fails the tests loudly, it never skips them), the test image
//! `devctl-test/busybox:1` (a static busybox on `scratch`) is built once
//! per test process, and a [`ContainerGuard`] removes every container of a
//! project by label when it drops, even when the test failed.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// The test image: `FROM scratch`, a static `/bin/busybox` and its applets.
pub const TEST_IMAGE: &str = "devctl-test/busybox:1";

/// Run `docker ARGS`; stdout, or a panic naming the command and its stderr.
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

/// Panic loudly unless the engine answers.
pub fn require_engine() {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    let ok = out.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the Docker engine must run for the container tests (CI starts it in \
         .ci/setup-machine): {}",
        match &out {
            Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
            Err(e) => e.to_string(),
        }
    );
}

/// Check the engine and build [`TEST_IMAGE`] once per process (the tag is
/// idempotent, so parallel test processes may build it concurrently).
pub fn ensure_test_image() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        require_engine();
        let busybox = Path::new("/usr/bin/busybox");
        assert!(
            busybox.exists(),
            "/usr/bin/busybox is missing: install busybox-static (.ci/setup-machine does)"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::copy(busybox, dir.path().join("busybox")).expect("copy busybox");
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\nCOPY busybox /bin/busybox\n\
             RUN [\"/bin/busybox\",\"--install\",\"-s\",\"/bin\"]\n",
        )
        .expect("write Dockerfile");
        docker(&[
            "build",
            "-q",
            "-t",
            TEST_IMAGE,
            dir.path().to_str().expect("UTF-8 tempdir"),
        ]);
    });
}

/// A project name unique to this test process and `tag`.
pub fn unique_project(tag: &str) -> String {
    format!("e2e{}-{tag}", std::process::id())
}

/// Full ids of the containers (any state) labelled with `project`,
/// optionally only those of `unit`.
pub fn project_containers(project: &str, unit: Option<&str>) -> Vec<String> {
    let mut args = vec![
        "ps".to_string(),
        "-aq".into(),
        "--no-trunc".into(),
        "--filter".into(),
        format!("label=devctl.project={project}"),
    ];
    if let Some(u) = unit {
        args.push("--filter".into());
        args.push(format!("label=devctl.unit={u}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    docker(&args)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Whether the container `id` is running.
pub fn container_running(id: &str) -> bool {
    Command::new("docker")
        .args(["inspect", "-f", "{{.State.Running}}", id])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "true")
}

/// Remove every container labelled with `project` (errors ignored).
pub fn remove_project_containers(project: &str) {
    let Ok(out) = Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=devctl.project={project}"),
        ])
        .output()
    else {
        return;
    };
    for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        let _ = Command::new("docker").args(["rm", "-f", id]).output();
    }
}

/// Removes every container of its project when dropped (also on panic).
pub struct ContainerGuard(pub String);

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        remove_project_containers(&self.0);
    }
}
