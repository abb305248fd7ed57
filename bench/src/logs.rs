//! Scenario 7, `logs`: one service writes 100-byte lines to stdout flat out
//! for 5 s. devctl captures them into its timestamped per-unit log; on the
//! systemd side the unit's stdout goes to journald (started for the run if
//! none is listening; rate limiting off for the unit). Figures: lines
//! stored (the highest sequence number found in the log or journal) per
//! second of flooding, lines lost, and the CPU the capturing side used
//! (devctld; `systemd --user` + `systemd-journald`) per GB stored.

use std::time::Duration;

use crate::helper::LINE_BYTES;
use crate::pair::{self, Pair, Samples};
use crate::procfs;
use crate::report::Row;
use crate::side::{self, Prog, Side, Svc};

/// Seconds of flooding.
pub const FLOOD_SECS: u64 = 5;

fn cpu(side: &dyn Side) -> Duration {
    side.managers()
        .iter()
        .filter_map(|p| procfs::cpu_time(*p))
        .sum()
}

/// Measure once per repetition (N is not used: one service floods).
pub fn measure(_n: usize, reps: usize) -> Result<Vec<Row>, String> {
    let mut pair = Pair::start(true)?;
    pair.install(&[Svc {
        name: "s0".into(),
        prog: Prog::Flood { secs: FLOOD_SECS },
        restart_always: false,
    }])?;
    let (mut rate, mut per_gb, mut lost) =
        (Samples::default(), Samples::default(), Samples::default());
    for rep in 0..reps {
        for side in pair.order(rep) {
            pair::clear_stamps(side.stamps());
            let c0 = cpu(side);
            side.up()?;
            let written = pair::wait_stamps(
                side.stamps(),
                "flood",
                1,
                Duration::from_secs(FLOOD_SECS * 6),
            )?;
            let pid = pair::stamps(side.stamps(), "exec")
                .first()
                .and_then(|(stem, _)| stem.strip_prefix("s0.")?.parse().ok())
                .unwrap_or(0);
            let mut stored = 0;
            let mut last_change = std::time::Instant::now();
            side::wait_for("the log to catch up", Duration::from_secs(120), || {
                let now = side.captured_lines("s0", pid).unwrap_or(0);
                if now != stored {
                    stored = now;
                    last_change = std::time::Instant::now();
                }
                stored >= written || last_change.elapsed() > Duration::from_secs(3)
            })?;
            let c1 = cpu(side);
            let bytes = (stored * LINE_BYTES as u64) as f64;
            rate.push(side.label(), bytes / FLOOD_SECS as f64 / 1e6);
            per_gb.push(side.label(), (c1 - c0).as_secs_f64() / (bytes / 1e9));
            lost.push(side.label(), written.saturating_sub(stored) as f64);
            pair::settle_down(side)?;
        }
    }
    Ok(vec![
        Row::of(
            "logs",
            1,
            "100-byte lines captured",
            "MB/s",
            &rate.devctl,
            &rate.systemd,
            "≥ 1×",
        ),
        Row::of(
            "logs",
            1,
            "capturing CPU per GB stored",
            "CPU-s/GB",
            &per_gb.devctl,
            &per_gb.systemd,
            "devctl ≤ 1.5",
        ),
        Row::of(
            "logs",
            1,
            "lines lost",
            "lines",
            &lost.devctl,
            &lost.systemd,
            "0",
        ),
    ])
}
