//! Scenario `notify`: N services that send `READY=1` on their
//! `NOTIFY_SOCKET` 200 ms after they start, listening on nothing. devctl's
//! units have `ready { notify }`, systemd's are `Type=notify`: both
//! supervisors learn readiness from the same datagram. Figures: from the
//! last `READY=1` (stamped by the service right before it sends) to the
//! start command's return (`devctl up` and `systemctl --user start` both
//! wait for readiness), and the whole start.

use crate::pair::{self, Pair};
use crate::report::Row;
use crate::side::{self, Prog, Side};

/// How long each service waits before it says `READY=1`.
pub const READY_AFTER_MS: u64 = 200;

/// Measure for `n` services, `reps` repetitions.
pub fn measure(n: usize, reps: usize) -> Result<Vec<Row>, String> {
    let mut pair = Pair::start(false)?;
    let svcs = side::services(n, |_| Prog::Notify {
        delay_ms: READY_AFTER_MS,
    });
    pair.devctl.install(&svcs)?;
    pair.systemd.install(&svcs)?;
    let (delay, total) = pair::up_until_stamped(&mut pair, reps, "notify", n)?;
    Ok(vec![
        Row::of(
            "notify",
            n,
            "ready reported − last READY=1",
            "ms",
            &delay.devctl,
            &delay.systemd,
            "devctl ≤ 2 ms",
        ),
        Row::of(
            "notify",
            n,
            "start-all until all ready",
            "ms",
            &total.devctl,
            &total.systemd,
            "",
        ),
    ])
}
