//! A throwaway `systemd --user` for end-to-end tests: an exclusive flock on
//! [`LOCK_PATH`] for the instance's whole life (only one such manager may
//! run on the machine at a time), `/run/systemd/system` created if missing
//! (and removed only if created here), a fresh 0700 `XDG_RUNTIME_DIR`, a
//! throwaway `HOME` and `DEVCTL_HOME`. `Drop` stops the manager, kills
//! whatever is left in the cgroups it created and removes them.

use std::collections::BTreeSet;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

use crate::{MARKER_ENV, wait_until};

/// Every test or benchmark that starts a `systemd --user` holds this lock.
pub const LOCK_PATH: &str = "/tmp/devctl-systemd-user.lock";
const RUN_SYSTEMD: &str = "/run/systemd/system";
const UNIFIED: &str = "/sys/fs/cgroup/unified";

/// A running `systemd --user` and its private directories.
pub struct SystemdUser {
    child: Child,
    pub runtime: tempfile::TempDir,
    pub home: tempfile::TempDir,
    /// Marker inherited by every process the manager starts.
    pub marker: String,
    created_run_dir: bool,
    baseline: BTreeSet<PathBuf>,
    _lock: Flock<File>,
}

fn cgroup_dirs(root: &Path, out: &mut BTreeSet<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(root) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.insert(e.path());
                cgroup_dirs(&e.path(), out);
            }
        }
    }
}

impl SystemdUser {
    /// Start the manager and wait until it answers on its bus.
    pub fn start() -> SystemdUser {
        Self::start_with_path(&std::env::var("PATH").unwrap_or_default())
    }

    /// [`SystemdUser::start`] with the manager's (and so every unit's)
    /// `PATH` set to `path`, as a login's user manager has it.
    pub fn start_with_path(path: &str) -> SystemdUser {
        let lock_file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK_PATH)
            .expect("open the systemd --user lock");
        let lock = Flock::lock(lock_file, FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .expect("flock the systemd --user lock");
        let created_run_dir = !Path::new(RUN_SYSTEMD).exists();
        if created_run_dir {
            std::fs::create_dir_all(RUN_SYSTEMD).expect("create /run/systemd/system");
        }
        let mut baseline = BTreeSet::new();
        cgroup_dirs(Path::new(UNIFIED), &mut baseline);
        let runtime = tempfile::tempdir().expect("runtime dir");
        std::fs::set_permissions(runtime.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod 0700");
        let home = tempfile::tempdir().expect("home dir");
        let marker = format!("systemd-{}-{}", std::process::id(), rand_suffix());
        let mut cmd = Command::new("systemd");
        cmd.arg("--user")
            .env_clear()
            .env("PATH", path)
            .env(MARKER_ENV, &marker)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in Self::env_of(runtime.path(), home.path()) {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn systemd --user");
        let sd = SystemdUser {
            child,
            runtime,
            home,
            marker,
            created_run_dir,
            baseline,
            _lock: lock,
        };
        wait_until("systemd --user to answer", Duration::from_secs(30), || {
            let out = sd.systemctl(&["is-system-running"]);
            let state = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (matches!(state.as_str(), "running" | "degraded")
                && sd.runtime.path().join("bus").exists())
            .then_some(())
        });
        sd
    }

    fn env_of(runtime: &Path, home: &Path) -> Vec<(String, String)> {
        let s = |p: PathBuf| p.to_string_lossy().into_owned();
        vec![
            ("XDG_RUNTIME_DIR".into(), s(runtime.to_path_buf())),
            ("HOME".into(), s(home.to_path_buf())),
            ("XDG_CONFIG_HOME".into(), s(home.join(".config"))),
            ("DEVCTL_HOME".into(), s(home.join("devctl"))),
            (
                "DBUS_SESSION_BUS_ADDRESS".into(),
                format!("unix:path={}", runtime.join("bus").display()),
            ),
        ]
    }

    /// The environment a client of this manager (devctl, systemctl) needs.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = Self::env_of(self.runtime.path(), self.home.path());
        env.push((MARKER_ENV.into(), self.marker.clone()));
        env
    }

    /// A command with [`SystemdUser::env`] applied.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.envs(self.env());
        cmd
    }

    /// `systemctl --user ARGS`.
    pub fn systemctl(&self, args: &[&str]) -> Output {
        self.command("systemctl")
            .arg("--user")
            .args(args)
            .output()
            .expect("run systemctl")
    }

    /// One property of a unit (`systemctl --user show -P`).
    pub fn property(&self, unit: &str, prop: &str) -> String {
        let out = self.systemctl(&["show", "-P", prop, unit]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The user unit directory of this manager.
    pub fn unit_dir(&self) -> PathBuf {
        self.home.path().join(".config/systemd/user")
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl Drop for SystemdUser {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let begun = Instant::now();
        while begun.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut now = BTreeSet::new();
        cgroup_dirs(Path::new(UNIFIED), &mut now);
        let ours: Vec<&PathBuf> = now.difference(&self.baseline).collect();
        for dir in &ours {
            let _ = std::fs::write(dir.join("cgroup.kill"), b"1");
        }
        for pid in crate::marked_pids(&self.marker) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        // Deepest first.
        for dir in ours.iter().rev() {
            let _ = wait_rmdir(dir);
        }
        if self.created_run_dir {
            let _ = std::fs::remove_dir(RUN_SYSTEMD);
        }
    }
}

fn wait_rmdir(dir: &Path) -> std::io::Result<()> {
    let begun = Instant::now();
    loop {
        match std::fs::remove_dir(dir) {
            Err(e)
                if e.raw_os_error() == Some(libc::EBUSY)
                    && begun.elapsed() < Duration::from_secs(5) =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}
