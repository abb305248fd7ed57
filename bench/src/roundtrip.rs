//! Scenario 3, `roundtrip`: with N services running, the wall time of one
//! status query as a user types it: `devctl is-active s0` against
//! `systemctl --user is-active bench-s0.service` (process start, connect,
//! query, print, exit). Ten calls per side per repetition. A second row
//! addresses the project by name (`devctl -p bench is-active s0` from a
//! directory without a manifest), against the same systemd calls.

use std::time::Instant;

use crate::pair::{Pair, Samples};
use crate::report::Row;
use crate::side::{self, Prog};

const CALLS: usize = 10;

/// Measure for `n` services, `reps` repetitions.
pub fn measure(n: usize, reps: usize) -> Result<Vec<Row>, String> {
    let mut pair = Pair::start(false)?;
    pair.install(&side::services(n, |_| Prog::Sleep))?;
    for side in pair.order(0) {
        side.up()?;
    }
    let mut rt = Samples::default();
    let mut by_name = Vec::new();
    for rep in 0..reps {
        for side in pair.order(rep) {
            for _ in 0..CALLS {
                let mut cmd = side.is_active("s0");
                let start = Instant::now();
                side::run(&mut cmd)?;
                rt.push(side.label(), start.elapsed().as_secs_f64() * 1e3);
            }
        }
        for _ in 0..CALLS {
            let mut cmd = pair.devctl.cmd_by_name(&["is-active", "s0"]);
            let start = Instant::now();
            side::run(&mut cmd)?;
            by_name.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(vec![
        Row::of(
            "roundtrip",
            n,
            "is-active round trip",
            "ms",
            &rt.devctl,
            &rt.systemd,
            "≤ 0.5×",
        ),
        Row::of(
            "roundtrip",
            n,
            "is-active -p PROJECT round trip",
            "ms",
            &by_name,
            &rt.systemd,
            "≤ 0.5×",
        ),
    ])
}
