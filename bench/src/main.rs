//! `devctl-bench`: the benchmark harness. Each scenario lives in its own
//! module (`src/<scenario>.rs`) exposing `run(args) -> Result<(), String>`
//! and prints its figures; `main` only dispatches.
//!
//! ```text
//! devctl-bench compile [--units N] [--reps N]
//! devctl-bench all [--n 10,100,1000] [--reps K] [--idle-secs S] [--out FILE]
//! devctl-bench start|ready|notify|roundtrip|restart|stop|idle|logs [--n LIST] [--reps K]
//! devctl-bench watch [--reps K] [--files N]
//! devctl-bench ui [--n N] [--secs S]
//! devctl-bench uptodate [--builds N] [--files F] [--reps K]
//! devctl-bench k8s [--reps K] [--mb M] [--pods P] [--lines L]
//! devctl-bench dashboard [--n N] [--secs S] [--reps K]
//! ```
//!
//! The side-by-side scenarios (devctl against a private `systemd --user`)
//! are described in `bench/README.md`.

mod all;
mod compile;
mod dashboard;
mod devctl_side;
mod helper;
mod history;
mod history_cost;
mod idle;
mod k8s;
mod logs;
mod notify;
mod pair;
mod procfs;
mod ready;
mod report;
mod restart;
mod roundtrip;
mod side;
mod start;
mod stats;
mod stop;
mod systemd_side;
mod ui;
mod uptodate;
mod watch;

const USAGE: &str = "usage: devctl-bench <scenario> [options]\n\nscenarios:\n  compile [--units N] [--reps N]   compile_str + emit_devctl on a generated manifest\n  all [--n 10,100,1000] [--reps K] [--idle-secs S] [--out FILE]   every scenario, writes bench/RESULTS.md\n  start|ready|notify|roundtrip|restart|stop|idle|logs [--n LIST] [--reps K] [--secs S]   one scenario, devctl vs systemd --user\n  watch [--reps K] [--files N]   file write -> dependent service serving again; devctld CPU during a file burst\n  history [--n N] [--reps K]   run records: callers' cost of recording 2N runs, time until committed\n  history-cost [--n N] [--reps K]   the daemon with run history on vs off: start-all of N services, log throughput\n  ui [--n N] [--secs S]   devctl ui in tmux: its CPU idle and while N units start, its memory\n  uptodate [--builds N] [--files F] [--reps K]   devctl up with N up-to-date builds vs no builds and vs the same builds disabled\n  k8s [--reps K] [--mb M] [--pods P] [--lines L]   port-forward, pod logs and apply → ready vs kubectl on a real control plane (kwok)\n  dashboard [--n N] [--secs S] [--reps K]   the web dashboard in headless Chromium: first render, state change to page, daemon CPU/RSS with 5 pages";

fn main() {
    let mut args = std::env::args().skip(1);
    let scenario = args.next();
    let rest: Vec<String> = args.collect();
    let result = match scenario.as_deref() {
        Some("compile") => compile::run(&rest),
        Some("all") => all::run(&rest),
        Some("helper") => helper::run(&rest),
        Some("history") => history::run(&rest),
        Some("history-cost") => history_cost::run(&rest),
        Some("start") => pair::standalone(&rest, &[10, 100, 1000], 5, start::measure),
        Some("ready") => pair::standalone(&rest, &[10, 100, 1000], 5, ready::measure),
        Some("notify") => pair::standalone(&rest, &[10, 100, 1000], 5, notify::measure),
        Some("roundtrip") => pair::standalone(&rest, &[10, 100, 1000], 5, roundtrip::measure),
        Some("restart") => pair::standalone(&rest, &[10, 100, 1000], 5, restart::measure),
        Some("stop") => pair::standalone(&rest, &[10, 100, 1000], 5, stop::measure),
        Some("idle") => stats::flag(&rest, "--secs", 30).and_then(|s| {
            idle::SECS.store(s as u64, std::sync::atomic::Ordering::Relaxed);
            pair::standalone(&rest, &[10, 100, 1000], 1, idle::measure)
        }),
        Some("logs") => pair::standalone(&rest, &[1], 5, logs::measure),
        Some("watch") => watch::run(&rest),
        Some("ui") => ui::run(&rest),
        Some("uptodate") => uptodate::run(&rest),
        Some("k8s") => k8s::run(&rest),
        Some("dashboard") => dashboard::run(&rest),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    if let Err(msg) = result {
        eprintln!("{msg}");
        std::process::exit(2);
    }
}
