//! End-to-end harness: drives the real `devctl` and `devctld` binaries in a
//! throwaway `DEVCTL_HOME`. Every process the test causes carries a unique
//! marker (`DEVCTL_TEST_RUN=<id>` in its environment, inherited from the
//! daemon), so the orphan oracle can find leftovers by scanning
//! `/proc/*/environ`, and `Drop` can kill them all.
//!
//! Waiting is by condition with a generous ceiling ([`wait_until`]), never by
//! fixed sleeps used as assertions.

pub mod k8s;
pub mod k8s_stream;
pub mod systemd;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use devctl_test_support::{http, procs};

pub use devctl_test_support::docker;
pub use devctl_test_support::http::{HttpReply, LineStream, dechunk};
pub use devctl_test_support::procs::{alive, process_env_has};

/// Environment variable carrying the per-test marker.
pub const MARKER_ENV: &str = "DEVCTL_TEST_RUN";
/// Default ceiling for waits: generous, so slow CI machines do not flake.
pub const CEILING: Duration = Duration::from_secs(30);

/// Every process but this one carrying `DEVCTL_TEST_RUN=marker`.
pub fn marked_pids(marker: &str) -> Vec<u32> {
    procs::marked_pids(MARKER_ENV, marker)
}

/// Poll `cond` until it returns `Some`, panicking with `what` after `ceiling`.
pub fn wait_until<T>(what: &str, ceiling: Duration, mut cond: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(v) = cond() {
            return v;
        }
        if start.elapsed() > ceiling {
            panic!("timed out after {ceiling:?} waiting for {what}");
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

fn bin(env: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    // target/<profile>/deps/<test-exe> → target/<profile>/<name>
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(|d| {
            if d.ends_with("deps") {
                d.parent()
            } else {
                Some(d)
            }
        })
        .expect("profile dir");
    let p = profile_dir.join(name);
    assert!(
        p.exists(),
        "{} not found; build the binaries first (cargo build -p devctl-supervisord -p devctl-ctl) or set {env}",
        p.display()
    );
    p
}

/// The `devctl` binary under test.
pub fn devctl_bin() -> PathBuf {
    bin("DEVCTL_BIN", "devctl")
}

/// The `devctld` binary under test.
pub fn devctld_bin() -> PathBuf {
    bin("DEVCTLD_BIN", "devctld")
}

/// A fresh random hex id.
pub(crate) fn random_id() -> String {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("/dev/urandom");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// What a `devctl` invocation did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panic with the full output unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// One isolated devctl world: home, project directory, daemon, marker.
pub struct TestEnv {
    pub home: tempfile::TempDir,
    /// Where `devctl.kdl` lives and `devctl` runs.
    pub project_dir: PathBuf,
    pub marker: String,
    daemons: Vec<Child>,
}

impl Default for TestEnv {
    fn default() -> Self {
        TestEnv::new()
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let home = tempfile::Builder::new()
            .prefix("devctl-e2e-")
            .tempdir()
            .expect("tempdir");
        let project_dir = home.path().join("project");
        std::fs::create_dir_all(&project_dir).expect("project dir");
        TestEnv {
            home,
            project_dir,
            marker: random_id(),
            daemons: Vec::new(),
        }
    }

    pub fn runtime_dir(&self) -> PathBuf {
        self.home.path().join("run")
    }
    pub fn state_dir(&self) -> PathBuf {
        self.home.path().join("state")
    }
    pub fn socket(&self) -> PathBuf {
        self.runtime_dir().join("devctld.sock")
    }
    /// The daemon's stderr (written by daemons this harness starts).
    pub fn daemon_log_path(&self) -> PathBuf {
        self.home.path().join("devctld.stderr")
    }
    pub fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.daemon_log_path()).unwrap_or_default()
    }

    /// Apply the test environment to a command: the home, the marker, and
    /// none of the caller's systemd variables.
    pub fn apply_env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("DEVCTL_HOME", self.home.path())
            .env(MARKER_ENV, &self.marker)
            .env("NO_COLOR", "1")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("LISTEN_FDS")
            .env_remove("LISTEN_PID")
            .env_remove("LISTEN_FDNAMES")
            .env_remove("WATCHDOG_USEC")
            .env_remove("DEVCTL_LOG")
    }

    /// A `devctld` command with the test environment, stderr to the log.
    pub fn daemon_command(&self) -> Command {
        let mut cmd = Command::new(devctld_bin());
        self.apply_env(&mut cmd);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.daemon_log_path())
            .expect("daemon log");
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log);
        last_resort_cleanup(&mut cmd);
        cmd
    }

    /// Spawn a `devctld` and keep it (killed on drop); does not wait.
    pub fn spawn_daemon(&mut self) -> u32 {
        let cmd = self.daemon_command();
        self.spawn_daemon_cmd(cmd)
    }

    /// Spawn a prepared [`TestEnv::daemon_command`] (with extra settings).
    pub fn spawn_daemon_cmd(&mut self, mut cmd: Command) -> u32 {
        let child = cmd.spawn().expect("spawn devctld");
        let pid = child.id();
        self.daemons.push(child);
        pid
    }

    /// Wait until a spawned daemon answers `GET /v1/version`.
    pub fn wait_daemon_ready(&mut self, pid: u32) {
        wait_until("devctld to answer on its socket", CEILING, || {
            if let Some(code) = self.daemon_exit(pid) {
                panic!(
                    "devctld exited with {code:?} during startup:\n{}",
                    self.daemon_log()
                );
            }
            self.request("GET", "/v1/version", None)
                .ok()
                .filter(|r| r.status == 200)
                .map(|_| ())
        });
    }

    /// Start a daemon and wait until it answers `GET /v1/version`.
    pub fn start_daemon(&mut self) -> u32 {
        let pid = self.spawn_daemon();
        self.wait_daemon_ready(pid);
        pid
    }

    /// Exit status of a daemon this harness spawned, once it has exited.
    pub fn daemon_exit(&mut self, pid: u32) -> Option<Option<i32>> {
        let child = self.daemons.iter_mut().find(|c| c.id() == pid)?;
        child.try_wait().ok().flatten().map(|s| s.code())
    }

    /// Wait (with a ceiling) for a spawned daemon to exit; its exit code.
    pub fn wait_daemon_exit(&mut self, pid: u32, ceiling: Duration) -> Option<i32> {
        wait_until("devctld to exit", ceiling, || self.daemon_exit(pid))
    }

    /// Send `sig` to a daemon this harness spawned.
    pub fn signal_daemon(&self, pid: u32, sig: nix::sys::signal::Signal) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig);
    }

    /// Write the project's `devctl.kdl`.
    pub fn write_manifest(&self, kdl: &str) -> PathBuf {
        let p = self.project_dir.join("devctl.kdl");
        std::fs::write(&p, kdl).expect("write devctl.kdl");
        p
    }

    /// Run `devctl ARGS` in the project directory (ceiling: [`CEILING`] × 4).
    pub fn devctl(&self, args: &[&str]) -> Run {
        self.devctl_in(&self.project_dir, args)
    }

    /// Run `devctl ARGS` in `dir`.
    pub fn devctl_in(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = Command::new(devctl_bin());
        self.apply_env(&mut cmd).args(args).current_dir(dir);
        run_with_ceiling(cmd, CEILING * 4)
    }

    /// One HTTP request over the daemon socket (`Connection: close`).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> std::io::Result<HttpReply> {
        http::request(&self.socket(), method, path, body)
    }

    /// Raw bytes to the socket; the answer read until the server closes.
    pub fn raw(&self, bytes: &[u8], read_timeout: Duration) -> std::io::Result<HttpReply> {
        http::raw(&self.socket(), bytes, read_timeout)
    }

    /// Open an NDJSON stream (`/v1/events`, `/v1/logs?follow=true`).
    pub fn stream(&self, path: &str) -> std::io::Result<LineStream> {
        LineStream::open(&self.socket(), path)
    }

    /// Marked processes other than daemons (the processes devctl caused).
    /// A daemon whose binary was rebuilt while it ran (shared target dir)
    /// shows its exe as `<path> (deleted)`; it is still a daemon.
    pub fn marked_children(&self) -> Vec<u32> {
        let daemon = devctld_bin().canonicalize().ok();
        let is_daemon = |pid: &u32| {
            let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
                return false;
            };
            let exe = exe.to_string_lossy();
            let exe = exe.strip_suffix(" (deleted)").unwrap_or(&exe);
            daemon.as_deref() == Some(Path::new(exe))
        };
        marked_pids(&self.marker)
            .into_iter()
            .filter(|pid| !is_daemon(pid))
            .collect()
    }

    /// The orphan oracle: no process carries this test's marker except
    /// running daemons.
    pub fn assert_no_orphans(&self) {
        let left = self.marked_children();
        assert!(
            left.is_empty(),
            "processes outlived their unit: {}",
            procs::describe(&left)
        );
    }

    /// Kill every marked process and every daemon, and reap our children.
    pub fn kill_everything(&mut self) {
        for c in &mut self.daemons {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.daemons.clear();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let pids = marked_pids(&self.marker);
            if pids.is_empty() || Instant::now() > deadline {
                break;
            }
            for pid in pids {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        self.kill_everything();
    }
}

/// If the test process dies without running `Drop` (aborted, killed), the
/// daemon gets SIGTERM and stops its units cleanly. (The signal fires when
/// the spawning thread exits, which is after the test's own cleanup.)
pub fn last_resort_cleanup(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Run a command to completion, capturing output; panic after `ceiling`.
pub fn run_with_ceiling(mut cmd: Command, ceiling: Duration) -> Run {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if start.elapsed() > ceiling {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still running after {ceiling:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    Run {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// `devctl status --json UNIT`: the status object of that one unit.
pub fn status(env: &TestEnv, unit: &str) -> serde_json::Value {
    let r = env.devctl(&["status", "--json", unit]);
    let v: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("status --json ({e}): {r:?}"));
    let all = match v {
        serde_json::Value::Array(a) => a,
        one => vec![one],
    };
    all.into_iter()
        .find(|u| u["name"] == unit)
        .unwrap_or_else(|| panic!("{unit} not in status: {}", r.stdout))
}

/// A string field of a JSON object (`"null"` when absent or not a string).
pub fn field(v: &serde_json::Value, k: &str) -> String {
    v[k].as_str().unwrap_or("null").to_owned()
}
