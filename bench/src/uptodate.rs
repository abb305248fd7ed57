//! `devctl-bench uptodate`: what the up-to-date check costs `up`. Two
//! projects with the same service `web`; one also has `--builds` builds
//! (each watching its own directory of `--files` files, `web` requiring
//! all of them), each with its own daemon. After a first `up`, the figure
//! is the wall time of `devctl up` after a `down` (spawn to exit,
//! blocking until `web` runs):
//!
//! - **no builds**: the project without builds;
//! - **builds disabled**: the same manifest as the next, its builds
//!   `enabled #false` and `web` not requiring them: what a manifest of that
//!   size costs `up` (the CLI parses and loads every unit) without any
//!   build being checked;
//! - **up to date**: the project with builds whose inputs did not change
//!   (each build's check trusts the file watch or stats its inputs, none
//!   runs);
//! - **forced**: the same with `--force` (every build runs), for scale.
//!
//! Each is the median of `--reps` `down` + `up` cycles. The first three are
//! measured in alternation (one cycle of each in turn, every daemon up),
//! so a change in the machine's load during the run hits them alike.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::devctl_side::locate;
use crate::side;
use crate::stats::flag;

const CEILING: Duration = Duration::from_secs(60);

struct Daemon {
    home: tempfile::TempDir,
    devctl: PathBuf,
    child: Child,
}

impl Daemon {
    fn start(manifest: &str, builds: usize, files: usize) -> Result<Daemon, String> {
        let devctl = locate("DEVCTL_BIN", "devctl")?;
        let devctld = locate("DEVCTLD_BIN", "devctld")?;
        let home = side::scratch("devctl-bench-uptodate-")?;
        let project = home.path().join("project");
        for b in 0..builds {
            let dir = project.join(format!("src/b{b}"));
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            for f in 0..files {
                let path = dir.join(format!("f{f}.txt"));
                std::fs::write(&path, format!("{b} {f}")).map_err(|e| e.to_string())?;
                // Written an hour ago, as a project's sources usually were:
                // a file changed within the last second is hashed again on
                // every check (its stat cannot be trusted yet), which a
                // freshly generated tree would otherwise measure.
                let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
                std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(hour_ago))
                    .map_err(|e| e.to_string())?;
            }
        }
        std::fs::create_dir_all(&project).map_err(|e| e.to_string())?;
        std::fs::write(project.join("devctl.kdl"), manifest).map_err(|e| e.to_string())?;
        let child = side::spawn_devctld(&devctld, home.path(), CEILING)?;
        Ok(Daemon {
            home,
            devctl,
            child,
        })
    }

    fn devctl(&self, args: &[&str]) -> Result<(), String> {
        side::run(
            Command::new(&self.devctl)
                .args(args)
                .current_dir(self.home.path().join("project"))
                .env("DEVCTL_HOME", self.home.path())
                .env("NO_COLOR", "1"),
        )
    }

    fn runs(&self) -> usize {
        std::fs::read_to_string(self.home.path().join("project/runs.txt"))
            .unwrap_or_default()
            .lines()
            .count()
    }

    /// Wall time of `up ARGS` after a `down`.
    fn cycle(&self, args: &[&str]) -> Result<Duration, String> {
        let mut up = vec!["up"];
        up.extend_from_slice(args);
        self.devctl(&["down"])?;
        let t0 = Instant::now();
        self.devctl(&up)?;
        Ok(t0.elapsed())
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.devctl(&["down"]);
        side::terminate(&mut self.child, Duration::from_secs(10));
    }
}

fn manifest(builds: usize) -> String {
    manifest_with(builds, true)
}

/// With `required`, `web` requires every build; without, the builds are
/// disabled and nothing starts them.
fn manifest_with(builds: usize, required: bool) -> String {
    let mut m = String::from("project \"utd\"\n\n");
    let mut requires = String::new();
    let enabled = if required { "" } else { "    enabled #false\n" };
    for b in 0..builds {
        m.push_str(&format!(
            "build \"b{b}\" {{\n    sh \"echo b{b} >>runs.txt\"\n    watch \"src/b{b}/**\"\n{enabled}}}\n\n"
        ));
        if required {
            requires.push_str(&format!("    requires \"b{b}\" until=\"succeeded\"\n"));
        }
    }
    m.push_str(&format!(
        "service \"web\" {{\n    sh \"exec sleep 100000\"\n{requires}}}\n"
    ));
    m
}

/// Run the scenario.
pub fn run(args: &[String]) -> Result<(), String> {
    let builds = flag(args, "--builds", 20)?;
    let files = flag(args, "--files", 50)?;
    let reps = flag(args, "--reps", 9)?;
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "uptodate: devctl up, {builds} builds of {files} input files each vs no builds, {reps} repetitions, {profile} bench build"
    );
    let plain = Daemon::start(&manifest(0), 0, 0)?;
    plain.devctl(&["up"])?;
    let idle = Daemon::start(&manifest_with(builds, false), builds, files)?;
    idle.devctl(&["up"])?;
    let d = Daemon::start(&manifest(builds), builds, files)?;
    d.devctl(&["up"])?;
    let first = d.runs();
    if first != builds {
        return Err(format!("the first up ran {first} builds, not {builds}"));
    }
    let (mut none, mut same_size, mut fresh) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps.max(1) {
        none.push(plain.cycle(&[])?);
        same_size.push(idle.cycle(&[])?);
        fresh.push(d.cycle(&[])?);
    }
    if idle.runs() != 0 {
        return Err(format!("{} disabled builds ran", idle.runs()));
    }
    let (none, same_size, fresh) = (median(none), median(same_size), median(fresh));
    drop(plain);
    drop(idle);
    if d.runs() != first {
        return Err(format!(
            "up-to-date builds ran again: {} runs after the cycles",
            d.runs()
        ));
    }
    let forced = (0..reps.max(1))
        .map(|_| d.cycle(&["--force"]))
        .collect::<Result<Vec<_>, _>>()?;
    let forced = median(forced);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  up, no builds:                      median {:.1} ms",
        ms(none)
    );
    println!(
        "  up, {builds} builds disabled:           median {:.1} ms  ({:.2}x no builds)",
        ms(same_size),
        ms(same_size) / ms(none)
    );
    println!(
        "  up, {builds} up-to-date builds:          median {:.1} ms  ({:.2}x no builds, {:.2}x builds disabled)",
        ms(fresh),
        ms(fresh) / ms(none),
        ms(fresh) / ms(same_size)
    );
    println!(
        "  up --force, {builds} builds run:         median {:.1} ms  ({:.2}x no builds)",
        ms(forced),
        ms(forced) / ms(none)
    );
    Ok(())
}
