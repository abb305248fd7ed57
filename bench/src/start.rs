//! Scenario 1, `start`: N idle services, `devctl up` vs `systemctl --user
//! start bench.target` (a target that wants and orders itself after every
//! service, so the command waits for all of them, as `up` does). Figures:
//! when the last process exec'd (its own exec stamp) and when the command
//! returned, both from the moment the command was issued.

use std::time::Duration;

use crate::pair::{self, Pair, Samples};
use crate::procfs::boottime_ns;
use crate::report::{Row, ms};
use crate::side::{self, Prog};

/// Measure for `n` services, `reps` repetitions.
pub fn measure(n: usize, reps: usize) -> Result<Vec<Row>, String> {
    let mut pair = Pair::start(false)?;
    let svcs = side::services(n, |_| Prog::Sleep);
    pair.install(&svcs)?;
    let (mut exec, mut ret) = (Samples::default(), Samples::default());
    for rep in 0..reps {
        for side in pair.order(rep) {
            pair::clear_stamps(side.stamps());
            let t0 = boottime_ns();
            side.up()?;
            let t1 = boottime_ns();
            let last = pair::wait_stamps(side.stamps(), "exec", n, Duration::from_secs(120))?;
            exec.push(side.label(), ms(t0, last));
            ret.push(side.label(), ms(t0, t1));
            pair::settle_down(side)?;
        }
    }
    Ok(vec![
        Row::of(
            "start",
            n,
            "start-all: last process exec'd",
            "ms",
            &exec.devctl,
            &exec.systemd,
            if n == 100 { "≤ 0.5×" } else { "" },
        ),
        Row::of(
            "start",
            n,
            "start-all: start command returned",
            "ms",
            &ret.devctl,
            &ret.systemd,
            "",
        ),
    ])
}
