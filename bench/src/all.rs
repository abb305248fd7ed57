//! `all`: every scenario for every N, then `bench/RESULTS.md`: the machine
//! (CPU, cores, memory, kernel, versions, load average before and after),
//! the Markdown table, and the method. Anything after the line
//! `<!-- analysis -->` in an existing RESULTS.md is kept, so hand-written
//! analysis survives a re-run. A scenario that fails is reported in the
//! file and the run goes on.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use crate::report::{self, Row};
use crate::{
    compile, devctl_side, idle, logs, notify, procfs, ready, restart, roundtrip, start, stop,
};

type Measure = fn(usize, usize) -> Result<Vec<Row>, String>;

const ANALYSIS: &str = "<!-- analysis -->";

fn first_line(cmd: &mut Command) -> String {
    cmd.output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "?".into())
}

fn machine(load_before: &str, load_after: &str) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|x| x.1.trim().to_owned())
        })
        .unwrap_or_else(|| "?".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| procfs::status_field(&m, "MemTotal"))
        .map_or("?".into(), |k| format!("{} GiB", k / 1024 / 1024));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let devctl = devctl_side::locate("DEVCTL_BIN", "devctl")
        .map(|p| first_line(Command::new(p).arg("--version")))
        .unwrap_or_else(|e| e);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let mut s = String::new();
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(
        s,
        "| date | {} |",
        first_line(Command::new("date").arg("-u").arg("+%Y-%m-%d %H:%M UTC"))
    );
    let _ = writeln!(
        s,
        "| CPU | {cpu}, {cores} cores |\n| memory | {mem} |\n| kernel | {} |",
        kernel.trim()
    );
    let _ = writeln!(
        s,
        "| devctl | {devctl} ({profile} build) |\n| systemd | {} |",
        first_line(Command::new("systemd").arg("--version"))
    );
    let _ = writeln!(
        s,
        "| rustc | {} |",
        first_line(Command::new("rustc").arg("-V"))
    );
    let _ = writeln!(
        s,
        "| load average (1/5/15 min) | before: {load_before}; after: {load_after} |"
    );
    s
}

const METHOD: &str = "\
Method. Both supervisors run side by side in the same run: a `devctld` in a throwaway
`DEVCTL_HOME`, and a private `systemd --user` (fresh `XDG_RUNTIME_DIR`, units in its
`XDG_CONFIG_HOME`). Each figure is the median over the repetitions (at most 3 at N=1000), the
two sides taken in alternating order. Services are this binary's `helper` modes on both sides (same argv,
same environment); devctl gets a generated `devctl.kdl`, systemd generated units
(`Type=exec`, or `Type=notify` for the readiness scenario) and a `bench.target` that
`Wants=` and is `After=` every service. Ground truth comes from the kernel, not from
either tool: processes are found by a marker in `/proc/<pid>/environ`, exec times are
`CLOCK_BOOTTIME` read by the service's first instruction (finer than the 10 ms ticks of
`/proc/<pid>/stat`), exits are pidfd notifications, CPU and RSS come from
`/proc/<pid>/{stat,status}`, wake-ups are the context switches of the manager's threads.
Commands are timed from the moment they are issued, CLI start-up included.";

/// Repetitions at `n` services: at most 3 from N=1000 on, where one
/// repetition of a scenario takes tens of seconds.
pub fn reps_for(n: usize, reps: usize) -> usize {
    if n >= 1000 { reps.min(3) } else { reps }
}

/// Run every scenario and write RESULTS.md.
pub fn run(args: &[String]) -> Result<(), String> {
    let ns = report::list_flag(args, "--n", &[10, 100, 1000])?;
    let reps = crate::stats::flag(args, "--reps", 5)?;
    let secs = crate::stats::flag(args, "--idle-secs", 30)?;
    idle::SECS.store(secs as u64, std::sync::atomic::Ordering::Relaxed);
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("RESULTS.md"));
    let load_before = procfs::loadavg();
    let scenarios: [(&str, Measure); 7] = [
        ("start", start::measure),
        ("ready", ready::measure),
        ("notify", notify::measure),
        ("roundtrip", roundtrip::measure),
        ("restart", restart::measure),
        ("stop", stop::measure),
        ("idle", idle::measure),
    ];
    let (mut rows, mut failures) = (Vec::new(), Vec::new());
    let mut keep = |name: &str, n: usize, r: Result<Vec<Row>, String>| match r {
        Ok(v) => {
            v.iter().for_each(Row::print);
            rows.extend(v);
        }
        Err(e) => {
            eprintln!("  {name} N={n}: FAILED: {e}");
            failures.push(format!(
                "- `{name}` N={n} failed: {}",
                e.lines().next().unwrap_or("")
            ));
        }
    };
    for (name, f) in scenarios {
        println!("{name}:");
        for &n in &ns {
            keep(name, n, f(n, reps_for(n, reps)));
        }
    }
    println!("logs:");
    keep("logs", 1, logs::measure(1, reps));
    println!("compile:");
    keep("compile", 2000, compile::figures(2000, reps));
    let load_after = procfs::loadavg();
    let previous = std::fs::read_to_string(&out).unwrap_or_default();
    let analysis = previous
        .find(ANALYSIS)
        .map_or(format!("{ANALYSIS}\n"), |i| previous[i..].to_owned());
    let mut md = String::from("# devctl vs systemd --user: benchmark results\n\n");
    let _ = writeln!(
        md,
        "Generated by `devctl-bench all --n {} --reps {reps} --idle-secs {secs}`.\n",
        ns.iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    md.push_str(&machine(&load_before, &load_after));
    md.push('\n');
    md.push_str(&report::markdown(&rows));
    for f in &failures {
        let _ = writeln!(md, "\n{f}");
    }
    let _ = write!(md, "\n{METHOD}\n\n{analysis}");
    std::fs::write(&out, md).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}
