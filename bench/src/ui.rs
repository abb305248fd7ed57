//! `devctl-bench ui`: what `devctl ui` costs. A devctld in a throwaway
//! home loads N services (`--n`, default 1000; each `sleep`), and `devctl
//! ui` runs in a private tmux server's 160×48 pane (a real terminal that
//! parses every byte the UI writes). Figures, all of the `devctl ui`
//! process alone (utime + stime and context switches from `/proc`):
//!
//! - **idle, nothing running**: CPU and wake-ups over `--secs` (default 10).
//! - **N units start**: from `devctl up` to the UI's progress line reading
//!   `N/N active`: CPU used, wall time, and how long after `up` returned
//!   the UI showed it.
//! - **idle, N running**: the same window with every unit up (visible
//!   uptimes change every second, so the UI redraws once a second).
//! - **memory**: resident set at the end and its peak (`VmHWM`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::devctl_side::locate;
use crate::procfs::{self, cpu_time, rss_kib, wakeups};
use crate::side::{self, wait_for};
use crate::stats::flag;

const CEILING: Duration = Duration::from_secs(300);

struct World {
    home: tempfile::TempDir,
    devctl: PathBuf,
    daemon: Child,
}

impl World {
    fn start(n: usize) -> Result<World, String> {
        let devctl = locate("DEVCTL_BIN", "devctl")?;
        let devctld = locate("DEVCTLD_BIN", "devctld")?;
        let home = side::scratch("devctl-bench-ui-")?;
        let project = home.path().join("project");
        std::fs::create_dir_all(&project).map_err(|e| e.to_string())?;
        let mut kdl = String::from("project \"uibench\"\n");
        for i in 0..n {
            kdl.push_str(&format!(
                "service \"s{i}\" {{\n    run \"sleep\" \"100000\"\n}}\n"
            ));
        }
        std::fs::write(project.join("devctl.kdl"), kdl).map_err(|e| e.to_string())?;
        let daemon = side::spawn_devctld(&devctld, home.path(), CEILING)?;
        let w = World {
            home,
            devctl,
            daemon,
        };
        w.devctl(&["reload"])?;
        Ok(w)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.devctl);
        c.args(args)
            .current_dir(self.home.path().join("project"))
            .env("DEVCTL_HOME", self.home.path());
        c
    }

    fn devctl(&self, args: &[&str]) -> Result<(), String> {
        side::run(&mut self.cmd(args))
    }

    fn tmux(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(self.home.path().join("tmux.sock"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("tmux (install it: .ci/setup-machine): {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "tmux {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Start `devctl ui` in a 160×48 tmux pane; its pid.
    fn start_ui(&self) -> Result<u32, String> {
        let devctl = self.devctl.to_string_lossy().into_owned();
        let dir = self.home.path().join("project");
        let home = self.home.path().to_string_lossy().into_owned();
        self.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "ui",
            "-x",
            "160",
            "-y",
            "48",
            "-c",
            &dir.to_string_lossy(),
            "-e",
            &format!("DEVCTL_HOME={home}"),
            &devctl,
            "ui",
        ])?;
        let pid = self.tmux(&["display-message", "-p", "-t", "ui", "#{pane_pid}"])?;
        pid.trim()
            .parse()
            .map_err(|e| format!("pane pid {pid:?}: {e}"))
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "ui"])
            .unwrap_or_default()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        let _ = self.devctl(&["down"]);
        side::terminate(&mut self.daemon, Duration::from_secs(30));
    }
}

struct Sample {
    cpu: Duration,
    wake: u64,
}

fn sample(pid: u32) -> Result<Sample, String> {
    Ok(Sample {
        cpu: cpu_time(pid).ok_or("devctl ui is gone")?,
        wake: wakeups(pid),
    })
}

fn idle(pid: u32, secs: u64, label: &str) -> Result<(), String> {
    std::thread::sleep(Duration::from_secs(2));
    let a = sample(pid)?;
    std::thread::sleep(Duration::from_secs(secs));
    let b = sample(pid)?;
    let cpu = b.cpu.saturating_sub(a.cpu);
    println!(
        "ui: idle, {label}: CPU {:.0} ms over {secs} s ({:.2} % of a core), {} wake-ups",
        cpu.as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 100.0 / secs as f64,
        b.wake.saturating_sub(a.wake)
    );
    Ok(())
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    procfs::status_field(
        &std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        "VmHWM",
    )
}

/// Run the scenario.
pub fn run(args: &[String]) -> Result<(), String> {
    let n = flag(args, "--n", 1000)?;
    let secs = flag(args, "--secs", 10)? as u64;
    println!(
        "ui: {n} services; load average before: {} (a shared machine: figures are noisy)",
        procfs::loadavg()
    );
    let w = World::start(n)?;
    let pid = w.start_ui()?;
    // The table also lists the project's target unit.
    let total = n + 1;
    let loaded = format!("0/{total} active");
    wait_for("the UI's first screen", CEILING, || {
        w.screen().contains(&loaded)
    })?;
    idle(pid, secs, "no unit running")?;

    let all = format!("{total}/{total} active");
    let before = sample(pid)?;
    let t0 = Instant::now();
    w.devctl(&["up"])?;
    let up_done = t0.elapsed();
    wait_for("the UI to show every unit active", CEILING, || {
        w.screen().contains(&all)
    })?;
    let shown = t0.elapsed();
    let after = sample(pid)?;
    let cpu = after.cpu.saturating_sub(before.cpu);
    println!(
        "ui: {n} units start: `devctl up` returned after {up_done:.2?}, the UI showed {all} after {shown:.2?}; UI CPU {:.0} ms ({:.0} % of a core over that time), {} wake-ups",
        cpu.as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 100.0 / shown.as_secs_f64(),
        after.wake.saturating_sub(before.wake)
    );
    idle(pid, secs, &format!("{n} running"))?;
    println!(
        "ui: memory: RSS {:.1} MiB, peak {:.1} MiB",
        rss_kib(pid).unwrap_or(0) as f64 / 1024.0,
        peak_rss_kib(pid).unwrap_or(0) as f64 / 1024.0
    );
    println!("ui: load average after: {}", procfs::loadavg());
    Ok(())
}
