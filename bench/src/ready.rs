//! Scenario 2, `ready`: N services that listen on TCP 200 ms after they
//! start. devctl checks them with a `tcp` readiness probe; the systemd
//! units are `Type=notify` and the program sends `READY=1` right after
//! `listen()` (the datagram `systemd-notify --ready` sends, without the
//! extra fork). Figures: from the last `listen()` (stamped by the service)
//! to the start command's return (`devctl up` and `systemctl --user start`
//! both wait for readiness), and the whole start.

use crate::pair::{self, Pair};
use crate::report::Row;
use crate::side::{self, Prog, Side};

/// How long each service waits before it listens.
pub const LISTEN_AFTER_MS: u64 = 200;

/// Measure for `n` services, `reps` repetitions.
pub fn measure(n: usize, reps: usize) -> Result<Vec<Row>, String> {
    let mut pair = Pair::start(false)?;
    let on = |base: u16| {
        side::services(n, move |i| Prog::Listen {
            port: base + i as u16,
            delay_ms: LISTEN_AFTER_MS,
        })
    };
    pair.devctl.install(&on(21000))?;
    pair.systemd.install(&on(24000))?;
    let (delay, total) = pair::up_until_stamped(&mut pair, reps, "listen", n)?;
    Ok(vec![
        Row::of(
            "ready",
            n,
            "ready reported − last listen()",
            "ms",
            &delay.devctl,
            &delay.systemd,
            "devctl ≤ 2 ms",
        ),
        Row::of(
            "ready",
            n,
            "start-all until all ready",
            "ms",
            &total.devctl,
            &total.systemd,
            "",
        ),
    ])
}
