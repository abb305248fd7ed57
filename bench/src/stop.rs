//! Scenario 5, `stop`: N services that each leave a child in their process
//! group and a `setsid` grandchild outside it (three processes per
//! service); `devctl down` vs `systemctl --user stop bench.target
//! 'bench-s*.service'`. Every marked process is watched through a pidfd:
//! figures are when the last one exited, when the command returned, and
//! how many were still alive 10 s after the command was issued.

use std::time::Duration;

use crate::pair::{self, Pair, Samples};
use crate::procfs::{self, boottime_ns};
use crate::report::{Row, ms};
use crate::side::{self, Prog};

/// Measure for `n` services, `reps` repetitions.
pub fn measure(n: usize, reps: usize) -> Result<Vec<Row>, String> {
    let mut pair = Pair::start(false)?;
    pair.install(&side::services(n, |_| Prog::Tree))?;
    let (mut gone, mut ret, mut left) =
        (Samples::default(), Samples::default(), Samples::default());
    for rep in 0..reps {
        for side in pair.order(rep) {
            side.up()?;
            let marker = side.marker();
            side::wait_for("3 processes per service", Duration::from_secs(120), || {
                procfs::marked_pids(&marker).len() >= 3 * n
            })?;
            let fds = pair::pidfds(&procfs::marked_pids(&marker));
            let t0 = boottime_ns();
            side.down()?;
            let t1 = boottime_ns();
            let (last, remaining) = pair::wait_exits(fds, Duration::from_secs(10));
            gone.push(
                side.label(),
                if remaining == 0 {
                    ms(t0, last.max(t0))
                } else {
                    f64::NAN
                },
            );
            ret.push(side.label(), ms(t0, t1));
            left.push(side.label(), remaining as f64);
            side::kill_marked(&marker);
        }
    }
    let worst = |v: &[f64]| vec![v.iter().copied().fold(0.0, f64::max)];
    Ok(vec![
        Row::of(
            "stop",
            n,
            "stop-all: every process gone",
            "ms",
            &gone.devctl,
            &gone.systemd,
            "≤ 1×",
        ),
        Row::of(
            "stop",
            n,
            "stop-all: stop command returned",
            "ms",
            &ret.devctl,
            &ret.systemd,
            "",
        ),
        Row::of(
            "stop",
            n,
            "leftovers after stop (worst rep)",
            "procs",
            &worst(&left.devctl),
            &worst(&left.systemd),
            "0",
        ),
    ])
}
