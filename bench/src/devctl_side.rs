//! devctl under test: a `devctld` in a throwaway `DEVCTL_HOME` (as the e2e
//! harness does), a generated `devctl.kdl` in `<home>/project`, and the
//! `devctl` CLI run there. Binaries come from `DEVCTL_BIN`/`DEVCTLD_BIN`,
//! else from next to this executable.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::side::{self, Side, Svc};

/// `env` if set, else `name` next to this executable.
pub fn locate(env: &str, name: &str) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(env) {
        return Ok(PathBuf::from(p));
    }
    let exe = side::bench_exe()?;
    let p = exe
        .parent()
        .map(|d| d.join(name))
        .ok_or("no executable directory")?;
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "{} not found: build it (cargo build --release -p devctl-ctl -p devctl-supervisord) or set {env}",
            p.display()
        ))
    }
}

/// A running devctld with its home and project.
pub struct Devctl {
    home: tempfile::TempDir,
    stamp_dir: tempfile::TempDir,
    run: String,
    devctl: PathBuf,
    daemon: Child,
}

impl Devctl {
    /// Start a daemon in a fresh home and wait until it answers.
    pub fn start() -> Result<Devctl, String> {
        Devctl::start_with(&[])
    }

    /// [`Devctl::start`] with extra environment for the daemon.
    pub fn start_with(env: &[(&str, &str)]) -> Result<Devctl, String> {
        let devctl = locate("DEVCTL_BIN", "devctl")?;
        let devctld = locate("DEVCTLD_BIN", "devctld")?;
        let home = side::scratch("devctl-bench-")?;
        let stamp_dir = side::stamp_dir()?;
        std::fs::create_dir_all(home.path().join("project")).map_err(|e| e.to_string())?;
        let log =
            std::fs::File::create(home.path().join("devctld.stderr")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(devctld);
        cmd.env("DEVCTL_HOME", home.path())
            .env_remove("NOTIFY_SOCKET")
            .env_remove("LISTEN_FDS")
            .env_remove("DEVCTL_LOG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let daemon = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn devctld: {e}"))?;
        let sock = home.path().join("run/devctld.sock");
        let mut me = Devctl {
            home,
            stamp_dir,
            run: side::random_id(),
            devctl,
            daemon,
        };
        let res = side::wait_for("devctld's socket", Duration::from_secs(30), || {
            std::os::unix::net::UnixStream::connect(&sock).is_ok()
        });
        if let Err(e) = res {
            return Err(format!("{e}: {}", me.daemon_log()));
        }
        if let Ok(Some(st)) = me.daemon.try_wait() {
            return Err(format!("devctld exited ({st}): {}", me.daemon_log()));
        }
        Ok(me)
    }

    fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("devctld.stderr")).unwrap_or_default()
    }

    /// The project directory the CLI runs in (its `devctl.kdl` is the
    /// scenario's to write).
    pub fn project(&self) -> PathBuf {
        self.home.path().join("project")
    }

    /// `devctl ARGS` in the project directory.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.devctl);
        c.args(args)
            .current_dir(self.project())
            .env("DEVCTL_HOME", self.home.path())
            .env("NO_COLOR", "1");
        c.stdout(Stdio::null()).stderr(Stdio::piped());
        c
    }

    /// `devctl -p bench ARGS` from a directory with no manifest.
    pub fn cmd_by_name(&self, args: &[&str]) -> Command {
        let mut c = self.cmd(&["-p", "bench"]);
        c.args(args).current_dir(self.home.path());
        c
    }

    fn log_file(&self, svc: &str, suffix: &str) -> PathBuf {
        self.home
            .path()
            .join(format!("state/logs/bench/{svc}.log{suffix}"))
    }
}

impl Side for Devctl {
    fn label(&self) -> &'static str {
        "devctl"
    }
    fn marker(&self) -> String {
        format!("BENCH_RUN={}", self.run)
    }
    fn stamps(&self) -> &Path {
        self.stamp_dir.path()
    }
    fn install(&mut self, svcs: &[Svc]) -> Result<(), String> {
        let text = side::manifest(&side::bench_exe()?, &self.run, self.stamp_dir.path(), svcs);
        std::fs::write(self.project().join("devctl.kdl"), text).map_err(|e| e.to_string())?;
        side::run(&mut self.cmd(&["reload"]))
    }
    fn up(&self) -> Result<(), String> {
        side::run(&mut self.cmd(&["up"]))
    }
    fn down(&self) -> Result<(), String> {
        side::run(&mut self.cmd(&["down"]))
    }
    fn is_active(&self, name: &str) -> Command {
        self.cmd(&["is-active", name])
    }
    fn managers(&self) -> Vec<u32> {
        vec![self.daemon.id()]
    }
    fn captured_lines(&self, svc: &str, _pid: u32) -> Result<u64, String> {
        for suffix in ["", ".1"] {
            let text = std::fs::read(self.log_file(svc, suffix))
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let n = side::max_flood_seq(&text);
            if n > 0 {
                return Ok(n);
            }
        }
        Ok(0)
    }
}

impl Drop for Devctl {
    fn drop(&mut self) {
        side::terminate(&mut self.daemon, Duration::from_secs(20));
        side::kill_marked(&self.marker());
    }
}
