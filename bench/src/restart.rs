//! Scenario 4, `restart`: N services with `restart always` and no delay;
//! SIGKILL service `s0` and time until its replacement exec'd (the new
//! process's own exec stamp), from the moment of the kill.

use std::time::Duration;

use crate::pair::{self, Pair, Samples};
use crate::procfs::{self, boottime_ns};
use crate::report::{Row, ms};
use crate::side::{self, Prog};

/// The pid of `svc`'s newest live process, from its exec stamps.
fn current_pid(stamps: &std::path::Path, svc: &str) -> Option<u32> {
    pair::stamps(stamps, "exec")
        .into_iter()
        .filter_map(|(stem, t)| {
            Some((
                stem.strip_prefix(svc)?
                    .strip_prefix('.')?
                    .parse::<u32>()
                    .ok()?,
                t,
            ))
        })
        .filter(|(pid, _)| procfs::alive(*pid))
        .max_by_key(|x| x.1)
        .map(|x| x.0)
}

/// Measure for `n` services, `reps` repetitions.
pub fn measure(n: usize, reps: usize) -> Result<Vec<Row>, String> {
    let mut pair = Pair::start(false)?;
    let mut svcs = side::services(n, |_| Prog::Sleep);
    svcs.iter_mut().for_each(|s| s.restart_always = true);
    pair.install(&svcs)?;
    for side in pair.order(0) {
        side.up()?;
        pair::wait_stamps(side.stamps(), "exec", n, Duration::from_secs(120))?;
    }
    let mut lat = Samples::default();
    for rep in 0..reps {
        for side in pair.order(rep) {
            let old = current_pid(side.stamps(), "s0")
                .ok_or_else(|| format!("{}: s0 is not running", side.label()))?;
            let t0 = boottime_ns();
            // SAFETY: plain kill(2) of a live service process.
            unsafe { libc::kill(old as i32, libc::SIGKILL) };
            let mut new = None;
            side::wait_for("the restarted s0", Duration::from_secs(30), || {
                new = pair::stamps(side.stamps(), "exec")
                    .into_iter()
                    .find(|(stem, t)| {
                        stem.starts_with("s0.") && *stem != format!("s0.{old}") && *t > t0
                    });
                new.is_some()
            })?;
            if let Some((_, t)) = new {
                lat.push(side.label(), ms(t0, t));
            }
        }
    }
    Ok(vec![Row::of(
        "restart",
        n,
        "SIGKILL → new process exec'd",
        "ms",
        &lat.devctl,
        &lat.systemd,
        "≤ 1×",
    )])
}
