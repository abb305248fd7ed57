//! `devctl-bench dashboard`: what the web dashboard costs and how fast it
//! follows. A devctld in a throwaway home (dashboard on a free port) loads
//! N services (`--n`, default 1000; each `sleep`); headless Chromium
//! (`tests/dashboard/driver.mjs`, playwright-core) opens the page.
//! Figures:
//!
//! - **first full render**: from opening the login link to the table
//!   holding every unit (N + the project target), in a fresh browser and
//!   in a warm one (a second page).
//! - **state change → page**: a unit's start, from the daemon's
//!   `since_ms` (when the unit became active) to the page's state cell
//!   reading it (a MutationObserver's `Date.now()`); median of `--reps`.
//! - **daemon CPU and memory** (utime + stime and RSS of devctld from
//!   `/proc`): 5 pages open and idle, nothing running and N running; and
//!   N units starting with 5 pages open, against the same start with no page.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::devctl_side::locate;
use crate::procfs::{self, cpu_time, rss_kib};
use crate::side::{self, wait_for};
use crate::stats::flag;

const CEILING: Duration = Duration::from_secs(300);
const PAGES: usize = 5;

struct World {
    home: tempfile::TempDir,
    devctl: PathBuf,
    daemon: Child,
}

impl World {
    fn start(n: usize) -> Result<World, String> {
        let devctl = locate("DEVCTL_BIN", "devctl")?;
        let devctld = locate("DEVCTLD_BIN", "devctld")?;
        let home = side::scratch("devctl-bench-dashboard-")?;
        let project = home.path().join("project");
        std::fs::create_dir_all(&project).map_err(|e| e.to_string())?;
        let mut kdl = String::from("project \"dashbench\"\n");
        for i in 0..n {
            kdl.push_str(&format!(
                "service \"s{i}\" {{\n    run \"sleep\" \"100000\"\n}}\n"
            ));
        }
        std::fs::write(project.join("devctl.kdl"), kdl).map_err(|e| e.to_string())?;
        let log =
            std::fs::File::create(home.path().join("devctld.stderr")).map_err(|e| e.to_string())?;
        let mut daemon = Command::new(devctld)
            .env("DEVCTL_HOME", home.path())
            .env("DEVCTL_DASHBOARD_PORT", "0")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("LISTEN_FDS")
            .env_remove("DEVCTL_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn devctld: {e}"))?;
        let sock = home.path().join("run/devctld.sock");
        if let Err(e) = wait_for("devctld's socket", CEILING, || {
            std::os::unix::net::UnixStream::connect(&sock).is_ok()
        }) {
            let _ = daemon.kill();
            let _ = daemon.wait();
            return Err(e);
        }
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

    /// A fresh one-time login link.
    fn login_url(&self) -> Result<String, String> {
        let out = self
            .cmd(&["dashboard", "--no-open", "--json"])
            .stderr(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("devctl dashboard --json: {e}"))?;
        v["login_url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("devctl dashboard --json: {v}"))
    }

    fn daemon_pid(&self) -> u32 {
        self.daemon.id()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.devctl(&["down"]);
        side::terminate(&mut self.daemon, Duration::from_secs(30));
    }
}

/// Headless Chromium behind the tests' driver, one step at a time.
struct Browser {
    child: Child,
    stdin: ChildStdin,
    answers: mpsc::Receiver<String>,
}

impl Browser {
    fn launch() -> Result<Browser, String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/dashboard");
        if !dir.join("node_modules/playwright-core").is_dir() {
            return Err(format!(
                "{}/node_modules is missing: run .ci/setup-machine",
                dir.display()
            ));
        }
        let mut child = Command::new("node")
            .arg(dir.join("driver.mjs"))
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("node (install it: .ci/setup-machine): {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Browser {
            child,
            stdin,
            answers,
        })
    }

    fn step(&mut self, cmd: Value) -> Result<Value, String> {
        writeln!(self.stdin, "{cmd}").map_err(|e| e.to_string())?;
        let line = self
            .answers
            .recv_timeout(CEILING)
            .map_err(|e| format!("the browser driver did not answer {cmd}: {e}"))?;
        let v: Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
        if v["ok"] == true {
            Ok(v["value"].clone())
        } else {
            Err(format!("{cmd}: {}", v["error"]))
        }
    }

    fn wait_text(&mut self, selector: &str, text: &str) -> Result<(), String> {
        self.step(json!({"cmd": "wait", "selector": selector, "text": text, "timeout": CEILING.as_millis() as u64}))
            .map(drop)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({"cmd": "quit"}));
        let _ = wait_for("the browser to quit", Duration::from_secs(10), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        });
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cpu(pid: u32) -> Result<Duration, String> {
    cpu_time(pid).ok_or_else(|| "devctld is gone".to_owned())
}

fn mib(kib: Option<u64>) -> f64 {
    kib.unwrap_or(0) as f64 / 1024.0
}

/// Daemon CPU over `secs` of doing nothing.
fn idle(pid: u32, secs: u64, label: &str) -> Result<(), String> {
    std::thread::sleep(Duration::from_secs(2));
    let a = cpu(pid)?;
    std::thread::sleep(Duration::from_secs(secs));
    let used = cpu(pid)?.saturating_sub(a);
    println!(
        "dashboard: daemon idle, {label}: CPU {:.0} ms over {secs} s ({:.3} % of a core), RSS {:.1} MiB",
        used.as_secs_f64() * 1e3,
        used.as_secs_f64() * 100.0 / secs as f64,
        mib(rss_kib(pid))
    );
    Ok(())
}

/// `devctl up` until `shown` holds; daemon CPU and wall time.
fn up(
    w: &World,
    shown: impl FnOnce() -> Result<(), String>,
) -> Result<(Duration, Duration), String> {
    let pid = w.daemon_pid();
    let before = cpu(pid)?;
    let t0 = Instant::now();
    w.devctl(&["up"])?;
    shown()?;
    Ok((cpu(pid)?.saturating_sub(before), t0.elapsed()))
}

/// Run the scenario.
pub fn run(args: &[String]) -> Result<(), String> {
    let n = flag(args, "--n", 1000)?;
    let secs = flag(args, "--secs", 10)? as u64;
    let reps = flag(args, "--reps", 5)?;
    println!(
        "dashboard: {n} services, {PAGES} pages; load average before: {} (a shared machine: figures are noisy)",
        procfs::loadavg()
    );
    let w = World::start(n)?;
    let pid = w.daemon_pid();
    let total = n + 1;

    // The same start with no page open, for comparison.
    let (base_cpu, base_wall) = up(&w, || Ok(()))?;
    w.devctl(&["down"])?;

    let mut b = Browser::launch()?;
    let rows = json!({"cmd": "wait", "selector": format!("#unit-rows tr:nth-child({total})"), "timeout": CEILING.as_millis() as u64});
    for i in 0..PAGES {
        if i > 0 {
            b.step(json!({"cmd": "page"}))?;
        }
        let url = w.login_url()?;
        let t0 = Instant::now();
        b.step(json!({"cmd": "goto", "url": url}))?;
        b.step(rows.clone())?;
        let took = t0.elapsed();
        // The first page pays for the browser's own start; the second is the steady figure.
        if i < 2 {
            println!(
                "dashboard: first full render of {total} units, {} browser: {:.0} ms (login link opened → every row in the table)",
                if i == 0 { "fresh" } else { "warm" },
                took.as_secs_f64() * 1e3
            );
        }
    }
    idle(pid, secs, &format!("{PAGES} pages open, nothing running"))?;

    let all = format!("{total}/{total} active");
    let (cpu_pages, wall_pages) = up(&w, || {
        b.wait_text(".card[data-project=dashbench] .counts", &all)
    })?;
    println!(
        "dashboard: {n} units start: daemon CPU {:.0} ms with {PAGES} pages open (the last page showed {all} after {:.2?}) vs {:.0} ms with none (`up` {:.2?}); ratio {:.2}",
        cpu_pages.as_secs_f64() * 1e3,
        wall_pages,
        base_cpu.as_secs_f64() * 1e3,
        base_wall,
        cpu_pages.as_secs_f64() / base_cpu.as_secs_f64().max(1e-9)
    );
    idle(pid, secs, &format!("{PAGES} pages open, {n} running"))?;

    // State change → page: the unit's since_ms against the page's clock when its cell changed.
    let unit = format!("s{}", n / 2);
    let cell = format!("#unit-rows tr[data-unit={unit}] td.c-state");
    let mut lags = Vec::new();
    for _ in 0..reps {
        w.devctl(&["stop", &unit])?;
        b.wait_text(&cell, "inactive")?;
        b.step(json!({"cmd": "eval", "js": format!(
            "(() => {{ window.__seen = null; const c = document.querySelector({cell:?}); \
              new MutationObserver((_, o) => {{ if (c.textContent.startsWith('active')) {{ window.__seen = Date.now(); o.disconnect(); }} }}) \
              .observe(c, {{ childList: true, characterData: true, subtree: true }}); }})()"
        )}))?;
        w.devctl(&["start", &unit])?;
        b.wait_text(&cell, "active")?;
        let v = b.step(json!({"cmd": "eval", "js": format!(
            "fetch('/v1/projects/dashbench/units/{unit}', {{ headers: {{ 'X-Devctl-Token': document.querySelector('meta[name=devctl-token]').content }} }}) \
             .then(r => r.json()).then(u => [window.__seen, u.since_ms])"
        )}))?;
        let seen = v[0].as_f64().ok_or(format!("no change seen: {v}"))?;
        let since = v[1].as_f64().ok_or(format!("no since_ms: {v}"))?;
        lags.push(seen - since);
    }
    lags.sort_by(f64::total_cmp);
    println!(
        "dashboard: state change → page shows it ({reps} starts of {unit}, {PAGES} pages open): median {:.0} ms, min {:.0} ms, max {:.0} ms",
        lags[lags.len() / 2],
        lags[0],
        lags[lags.len() - 1]
    );
    let peak = procfs::status_field(
        &std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default(),
        "VmHWM",
    );
    println!(
        "dashboard: daemon memory: RSS {:.1} MiB, peak {:.1} MiB",
        mib(rss_kib(pid)),
        mib(peak)
    );
    println!("dashboard: load average after: {}", procfs::loadavg());
    Ok(())
}
