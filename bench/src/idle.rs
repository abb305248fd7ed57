//! Scenario 6, `idle`: N idle services running; after a settling pause,
//! both managers are watched over the same window (default 30 s, `--secs`):
//! resident set at the end, CPU time used and wake-ups (context switches of
//! every thread) during it. One window per N; `--reps` is not used.

use std::time::Duration;

use crate::pair::{self, Pair};
use crate::procfs;
use crate::report::Row;
use crate::side::{self, Prog, Side};

/// The idle window (seconds), set by `--secs` for a standalone run.
pub static SECS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(30);

struct Probe {
    cpu: Duration,
    wake: u64,
}

fn probe(side: &dyn Side) -> Probe {
    let pids = side.managers();
    Probe {
        cpu: pids.iter().filter_map(|p| procfs::cpu_time(*p)).sum(),
        wake: pids.iter().map(|p| procfs::wakeups(*p)).sum(),
    }
}

/// Measure for `n` services.
pub fn measure(n: usize, _reps: usize) -> Result<Vec<Row>, String> {
    let secs = SECS.load(std::sync::atomic::Ordering::Relaxed);
    let mut pair = Pair::start(false)?;
    pair.install(&side::services(n, |_| Prog::Sleep))?;
    for side in pair.order(0) {
        side.up()?;
        pair::wait_stamps(side.stamps(), "exec", n, Duration::from_secs(120))?;
    }
    std::thread::sleep(Duration::from_secs(3));
    let before = [probe(&pair.devctl), probe(&pair.systemd)];
    std::thread::sleep(Duration::from_secs(secs));
    let after = [probe(&pair.devctl), probe(&pair.systemd)];
    let rss = |s: &dyn Side| {
        s.managers()
            .first()
            .and_then(|p| procfs::rss_kib(*p))
            .map_or(f64::NAN, |k| k as f64 / 1024.0)
    };
    let cpu = |i: usize| (after[i].cpu.saturating_sub(before[i].cpu)).as_secs_f64() * 1e3;
    let wake = |i: usize| after[i].wake.saturating_sub(before[i].wake) as f64;
    let rss_target = match n {
        100 => "≤ 1×",
        1000 => "devctl ≤ 25 MiB",
        _ => "",
    };
    Ok(vec![
        Row::of(
            "idle",
            n,
            "manager RSS",
            "MiB",
            &[rss(&pair.devctl)],
            &[rss(&pair.systemd)],
            rss_target,
        ),
        Row::of(
            "idle",
            n,
            &format!("manager CPU over {secs} s idle"),
            "ms",
            &[cpu(0)],
            &[cpu(1)],
            "≈ 0",
        ),
        Row::of(
            "idle",
            n,
            &format!("manager wake-ups over {secs} s idle"),
            "count",
            &[wake(0)],
            &[wake(1)],
            "≈ 0",
        ),
    ])
}
