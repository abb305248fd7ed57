//! `devctl-bench watch`: file watching under load. A build `gen` watches
//! `src/**` and copies `src/input.txt` to `out.txt`; a service `web`
//! requires it and copies `out.txt` to `served.txt` as the first thing
//! each instance does. Figures:
//!
//! - **edit → served**: from writing `src/input.txt` to the restarted
//!   service having started on the rebuilt output (`served.txt` holds the
//!   new value), median of `--reps` edits. This includes the 200 ms quiet
//!   window the watcher waits for before acting.
//! - **burst CPU**: devctld's CPU time (utime + stime from
//!   `/proc/<pid>/stat`) while `--files` new files arrive under `src/`,
//!   until the resulting run is done, and how many runs the burst caused.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::devctl_side::locate;
use crate::procfs::cpu_time;
use crate::side::{self, wait_for};
use crate::stats::flag;

const MANIFEST: &str = r#"project "wbench"

build "gen" {
    sh "echo run >>runs.txt; cp src/input.txt out.txt"
    watch "src/**"
}

service "web" {
    sh "cp out.txt served.txt; exec sleep 100000"
    requires "gen"
}
"#;

/// Ceiling for every wait.
const CEILING: Duration = Duration::from_secs(60);
/// Longer than the daemon's self-retrigger grace (500 ms): edits further
/// apart than this are never mistaken for the units' own writes.
const BETWEEN_EDITS: Duration = Duration::from_millis(700);

struct Daemon {
    home: tempfile::TempDir,
    devctl: PathBuf,
    child: Child,
}

impl Daemon {
    fn start() -> Result<Daemon, String> {
        let devctl = locate("DEVCTL_BIN", "devctl")?;
        let devctld = locate("DEVCTLD_BIN", "devctld")?;
        let home = side::scratch("devctl-bench-watch-")?;
        let project = home.path().join("project");
        std::fs::create_dir_all(project.join("src")).map_err(|e| e.to_string())?;
        std::fs::write(project.join("devctl.kdl"), MANIFEST).map_err(|e| e.to_string())?;
        std::fs::write(project.join("src/input.txt"), "0").map_err(|e| e.to_string())?;
        let child = side::spawn_devctld(&devctld, home.path(), CEILING)?;
        let d = Daemon {
            home,
            devctl,
            child,
        };
        Ok(d)
    }

    fn project(&self) -> PathBuf {
        self.home.path().join("project")
    }

    fn devctl(&self, args: &[&str]) -> Result<(), String> {
        side::run(
            Command::new(&self.devctl)
                .args(args)
                .current_dir(self.project())
                .env("DEVCTL_HOME", self.home.path())
                .env("NO_COLOR", "1"),
        )
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.project().join(rel)).unwrap_or_default()
    }

    fn runs(&self) -> usize {
        self.read("runs.txt").lines().count()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.devctl(&["down"]);
        side::terminate(&mut self.child, Duration::from_secs(10));
    }
}

fn write(p: &Path, text: &str) -> Result<(), String> {
    std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))
}

/// Run the scenario.
pub fn run(args: &[String]) -> Result<(), String> {
    let reps = flag(args, "--reps", 9)?;
    let files = flag(args, "--files", 5000)?;
    let d = Daemon::start()?;
    d.devctl(&["up"])?;
    wait_for("first serve", CEILING, || d.read("served.txt") == "0")?;

    let mut lat = Vec::new();
    for i in 1..=reps.max(1) {
        std::thread::sleep(BETWEEN_EDITS);
        let v = format!("v{i}");
        let t0 = Instant::now();
        write(&d.project().join("src/input.txt"), &v)?;
        wait_for("edit served", CEILING, || d.read("served.txt") == v)?;
        lat.push(t0.elapsed());
    }
    lat.sort();
    println!(
        "watch: edit -> rebuild -> dependent serving again: median {:.1?}  min {:.1?}  max {:.1?}  ({} edits)",
        lat[lat.len() / 2],
        lat[0],
        lat[lat.len() - 1],
        lat.len()
    );

    std::thread::sleep(BETWEEN_EDITS);
    let pid = d.child.id();
    let runs_before = d.runs();
    let cpu0 = cpu_time(pid).ok_or("cannot read devctld's /proc stat")?;
    let t0 = Instant::now();
    let per_dir = 100;
    for k in 0..files {
        let dir = d.project().join(format!("src/burst{}", k / per_dir));
        if k % per_dir == 0 {
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        }
        write(&dir.join(format!("f{k}.txt")), "x")?;
    }
    let written = t0.elapsed();
    wait_for("the burst's run", CEILING, || d.runs() > runs_before)?;
    let acted = t0.elapsed();
    // Let any stray second batch show up before counting.
    std::thread::sleep(Duration::from_millis(1500));
    let cpu = cpu_time(pid).ok_or("cannot read devctld's /proc stat")? - cpu0;
    let runs = d.runs() - runs_before;
    println!(
        "watch: burst of {files} new files in {} dirs: written in {written:.1?}, run started {acted:.1?} after the first write, {runs} run(s), devctld CPU {cpu:.1?} ({:.1} us/file)",
        files.div_ceil(per_dir),
        cpu.as_secs_f64() * 1e6 / files.max(1) as f64
    );
    if runs != 1 {
        return Err(format!(
            "expected exactly one run for the burst, saw {runs}"
        ));
    }
    Ok(())
}
