//! `systemd --user` under test: a private instance (fresh
//! `XDG_RUNTIME_DIR` and `XDG_CONFIG_HOME`, units in
//! `$XDG_CONFIG_HOME/systemd/user`) driven with `systemctl --user`. Only one
//! instance may run on the machine at a time, so the instance holds an
//! exclusive flock on `/tmp/devctl-systemd-user.lock` for its whole life.
//! `/run/systemd/system` (which makes systemd believe it runs under systemd)
//! is created if missing and removed again only if this created it. For the
//! log scenario a `systemd-journald` is started the same way when none runs
//! (rate limiting off through a drop-in in `/run`, removed afterwards),
//! since journald, not the manager, is what captures a unit's output.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::side::{self, Side, Svc};

const LOCK: &str = "/tmp/devctl-systemd-user.lock";
const RUN_SYSTEM: &str = "/run/systemd/system";
const JOURNAL_STDOUT: &str = "/run/systemd/journal/stdout";
/// A journald drop-in turning rate limiting off (the per-unit
/// `LogRateLimitIntervalSec=` needs cgroup attributes this host lacks).
const JOURNAL_DROPIN_DIR: &str = "/run/systemd/journald.conf.d";
const JOURNAL_DROPIN: &str = "/run/systemd/journald.conf.d/devctl-bench.conf";

/// A private `systemd --user`, plus the journald it may have started.
pub struct Systemd {
    base: tempfile::TempDir,
    stamp_dir: tempfile::TempDir,
    run: String,
    manager: Option<Child>,
    journald: Option<Child>,
    made_run_system: bool,
    made_journal_dirs: bool,
    _lock: File,
}

fn lock() -> Result<File, String> {
    let f = File::options()
        .create(true)
        .append(true)
        .open(LOCK)
        .map_err(|e| format!("{LOCK}: {e}"))?;
    // SAFETY: flock(2) on an fd we own.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        eprintln!("  (waiting for {LOCK}: another systemd --user instance runs)");
        // SAFETY: as above, blocking.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(format!("flock {LOCK}: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(f)
}

impl Systemd {
    /// Start a private instance (and journald when `journal`), wait until it answers.
    pub fn start(journal: bool) -> Result<Systemd, String> {
        let lock = lock()?;
        let made_run_system = !Path::new(RUN_SYSTEM).exists();
        if made_run_system {
            std::fs::create_dir_all(RUN_SYSTEM).map_err(|e| format!("{RUN_SYSTEM}: {e}"))?;
        }
        let base = side::scratch("devctl-bench-systemd-")?;
        let stamp_dir = side::stamp_dir()?;
        for d in ["run", "config/systemd/user"] {
            std::fs::create_dir_all(base.path().join(d)).map_err(|e| e.to_string())?;
        }
        std::fs::set_permissions(
            base.path().join("run"),
            std::fs::Permissions::from_mode(0o700),
        )
        .map_err(|e| e.to_string())?;
        let mut me = Systemd {
            base,
            stamp_dir,
            run: side::random_id(),
            manager: None,
            journald: None,
            made_run_system,
            made_journal_dirs: false,
            _lock: lock,
        };
        if journal && std::os::unix::net::UnixStream::connect(JOURNAL_STDOUT).is_err() {
            me.made_journal_dirs = !Path::new("/run/systemd/journal").exists()
                && !Path::new("/run/log/journal").exists();
            std::fs::create_dir_all(JOURNAL_DROPIN_DIR)
                .map_err(|e| format!("{JOURNAL_DROPIN_DIR}: {e}"))?;
            std::fs::write(JOURNAL_DROPIN, "[Journal]\nRateLimitIntervalSec=0\n")
                .map_err(|e| format!("{JOURNAL_DROPIN}: {e}"))?;
            let child = Command::new("/lib/systemd/systemd-journald")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn();
            me.journald = Some(child.map_err(|e| format!("spawn systemd-journald: {e}"))?);
            side::wait_for("journald's stdout socket", Duration::from_secs(10), || {
                std::os::unix::net::UnixStream::connect(JOURNAL_STDOUT).is_ok()
            })?;
        }
        let log = File::create(me.base.path().join("systemd.stderr")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("systemd");
        me.env(&mut cmd)
            .arg("--user")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0);
        me.manager = Some(
            cmd.spawn()
                .map_err(|e| format!("spawn systemd --user: {e}"))?,
        );
        side::wait_for("systemd --user to answer", Duration::from_secs(30), || {
            let out = me
                .systemctl(&["is-system-running"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .output();
            out.is_ok_and(|o| {
                matches!(
                    String::from_utf8_lossy(&o.stdout).trim(),
                    "running" | "degraded"
                )
            })
        })?;
        Ok(me)
    }

    fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("XDG_RUNTIME_DIR", self.base.path().join("run"))
            .env("XDG_CONFIG_HOME", self.base.path().join("config"))
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("SYSTEMD_PAGER")
    }

    /// `systemctl --user ARGS`.
    pub fn systemctl(&self, args: &[&str]) -> Command {
        let mut c = Command::new("systemctl");
        self.env(&mut c)
            .arg("--user")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    }

    fn unit_dir(&self) -> PathBuf {
        self.base.path().join("config/systemd/user")
    }
}

impl Side for Systemd {
    fn label(&self) -> &'static str {
        "systemd"
    }
    fn marker(&self) -> String {
        format!("BENCH_RUN={}", self.run)
    }
    fn stamps(&self) -> &Path {
        self.stamp_dir.path()
    }
    fn install(&mut self, svcs: &[Svc]) -> Result<(), String> {
        let dir = self.unit_dir();
        for e in std::fs::read_dir(&dir)
            .map_err(|e| e.to_string())?
            .flatten()
        {
            let _ = std::fs::remove_file(e.path());
        }
        let exe = side::bench_exe()?;
        for svc in svcs {
            std::fs::write(
                dir.join(format!("bench-{}.service", svc.name)),
                side::unit_file(&exe, &self.run, self.stamp_dir.path(), svc),
            )
            .map_err(|e| e.to_string())?;
        }
        std::fs::write(dir.join("bench.target"), side::target_file(svcs))
            .map_err(|e| e.to_string())?;
        side::run(&mut self.systemctl(&["daemon-reload"]))
    }
    fn up(&self) -> Result<(), String> {
        side::run(&mut self.systemctl(&["start", "bench.target"]))
    }
    fn down(&self) -> Result<(), String> {
        side::run(&mut self.systemctl(&["stop", "bench.target", "bench-s*.service"]))
    }
    fn is_active(&self, name: &str) -> Command {
        self.systemctl(&["is-active", &format!("bench-{name}.service")])
    }
    fn managers(&self) -> Vec<u32> {
        self.manager
            .iter()
            .chain(self.journald.iter())
            .map(Child::id)
            .collect()
    }
    fn captured_lines(&self, _svc: &str, pid: u32) -> Result<u64, String> {
        let out = Command::new("journalctl")
            .args(["--no-pager", "-o", "cat", "-n", "5", &format!("_PID={pid}")])
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("journalctl: {e}"))?;
        Ok(side::max_flood_seq(&String::from_utf8_lossy(&out.stdout)))
    }
}

impl Drop for Systemd {
    fn drop(&mut self) {
        if let Some(m) = &mut self.manager {
            side::terminate(m, Duration::from_secs(30));
        }
        side::kill_marked(&self.marker());
        if let Some(j) = &mut self.journald {
            side::terminate(j, Duration::from_secs(10));
            let _ = std::fs::remove_file(JOURNAL_DROPIN);
            let _ = std::fs::remove_dir(JOURNAL_DROPIN_DIR);
        }
        if self.made_journal_dirs {
            let _ = std::fs::remove_dir_all("/run/systemd/journal");
            let _ = std::fs::remove_dir_all("/run/log/journal");
            let _ = std::fs::remove_dir("/run/log");
        }
        if self.made_run_system {
            let _ = std::fs::remove_dir(RUN_SYSTEM);
        }
    }
}
