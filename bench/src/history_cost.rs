//! Scenario `history-cost`: what keeping run history costs the daemon end
//! to end. The same daemon with history on (the default) and off
//! (`DEVCTL_HISTORY=off`), alternating which goes first: start-all of N
//! idle services (when `devctl up` returned and when the last process
//! exec'd, from the moment it was issued), and one service flooding stdout
//! with 100-byte lines for a few seconds (lines captured per second, and
//! the daemon's CPU per GB stored).

use std::time::Duration;

use crate::devctl_side::Devctl;
use crate::helper::LINE_BYTES;
use crate::logs::FLOOD_SECS;
use crate::pair;
use crate::procfs::{self, boottime_ns};
use crate::report::ms;
use crate::side::{self, Prog, Side, Svc};
use crate::stats::flag;

/// One mode's samples.
#[derive(Default)]
struct Figures {
    up_returned_ms: Vec<f64>,
    last_exec_ms: Vec<f64>,
    flood_mb_s: Vec<f64>,
    cpu_s_per_gb: Vec<f64>,
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn start_all(d: &mut Devctl, n: usize, f: &mut Figures) -> Result<(), String> {
    d.install(&side::services(n, |_| Prog::Sleep))?;
    pair::clear_stamps(d.stamps());
    let t0 = boottime_ns();
    d.up()?;
    let t1 = boottime_ns();
    let last = pair::wait_stamps(d.stamps(), "exec", n, Duration::from_secs(180))?;
    f.up_returned_ms.push(ms(t0, t1));
    f.last_exec_ms.push(ms(t0, last));
    pair::settle_down(d)
}

fn flood(d: &mut Devctl, f: &mut Figures) -> Result<(), String> {
    d.install(&[Svc {
        name: "s0".into(),
        prog: Prog::Flood { secs: FLOOD_SECS },
        restart_always: false,
    }])?;
    pair::clear_stamps(d.stamps());
    let cpu = |d: &Devctl| -> Duration {
        d.managers()
            .iter()
            .filter_map(|p| procfs::cpu_time(*p))
            .sum()
    };
    let c0 = cpu(d);
    d.up()?;
    let written = pair::wait_stamps(d.stamps(), "flood", 1, Duration::from_secs(FLOOD_SECS * 6))?;
    let mut stored = 0;
    let mut last_change = std::time::Instant::now();
    side::wait_for("the log to catch up", Duration::from_secs(120), || {
        let now = d.captured_lines("s0", 0).unwrap_or(0);
        if now != stored {
            stored = now;
            last_change = std::time::Instant::now();
        }
        stored >= written || last_change.elapsed() > Duration::from_secs(3)
    })?;
    let c1 = cpu(d);
    let bytes = (stored * LINE_BYTES as u64) as f64;
    f.flood_mb_s.push(bytes / FLOOD_SECS as f64 / 1e6);
    f.cpu_s_per_gb.push((c1 - c0).as_secs_f64() / (bytes / 1e9));
    pair::settle_down(d)
}

/// Run the scenario.
pub fn run(args: &[String]) -> Result<(), String> {
    let n = flag(args, "--n", 1000)?;
    let reps = flag(args, "--reps", 3)?.max(1);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "history-cost: start-all of {n} services and a {FLOOD_SECS} s log flood, history on vs off, {reps} repetitions, {profile} build"
    );
    let (mut on, mut off) = (Figures::default(), Figures::default());
    for rep in 0..reps {
        let order: [bool; 2] = if rep % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for history in order {
            let env: &[(&str, &str)] = if history {
                &[]
            } else {
                &[("DEVCTL_HISTORY", "off")]
            };
            let figures = if history { &mut on } else { &mut off };
            let mut d = Devctl::start_with(env)?;
            start_all(&mut d, n, figures)?;
            flood(&mut d, figures)?;
        }
    }
    println!("| figure | history off | history on | on/off |");
    println!("|---|---:|---:|---:|");
    let rows = [
        (
            format!("start-all N={n}: `up` returned (ms)"),
            &off.up_returned_ms,
            &on.up_returned_ms,
        ),
        (
            format!("start-all N={n}: last process exec'd (ms)"),
            &off.last_exec_ms,
            &on.last_exec_ms,
        ),
        (
            "100-byte lines captured (MB/s)".to_string(),
            &off.flood_mb_s,
            &on.flood_mb_s,
        ),
        (
            "daemon CPU per GB of log stored (CPU-s/GB)".to_string(),
            &off.cpu_s_per_gb,
            &on.cpu_s_per_gb,
        ),
    ];
    for (name, a, b) in rows {
        let (a, b) = (median(a), median(b));
        println!("| {name} | {a:.1} | {b:.1} | {:.2}× |", b / a);
    }
    Ok(())
}
