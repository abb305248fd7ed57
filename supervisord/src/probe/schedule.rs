//! When to run the next check. The probe's period is the longest interval,
//! not the shortest: right after start a readiness probe is retried quickly
//! (doubling from a few milliseconds up to the period), and a TCP/HTTP probe
//! is also woken the moment its port starts listening. The caller awaits
//! the check before asking for the next turn, so checks never overlap.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use devctl_units::Probe;

use super::listen::ListenWatcher;

/// How long a unit with a readiness check may take to become ready when
/// its manifest sets no `start-timeout` (systemd's `TimeoutStartSec=`
/// default): past it the start fails with result `timeout`, so no start
/// waits forever on a unit that will never be ready.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(90);

/// The daemon-wide default in force, in milliseconds (systemd's
/// `DefaultTimeoutStartSec=`; devctld reads `DEVCTL_DEFAULT_START_TIMEOUT`).
static DEFAULT_MS: AtomicU64 = AtomicU64::new(DEFAULT_START_TIMEOUT.as_millis() as u64);

/// Set the daemon-wide default start timeout (zero is refused by the caller).
pub fn set_default_start_timeout(d: Duration) {
    DEFAULT_MS.store(d.as_millis().max(1) as u64, Ordering::Relaxed);
}

/// The daemon-wide default start timeout.
pub fn default_start_timeout() -> Duration {
    Duration::from_millis(DEFAULT_MS.load(Ordering::Relaxed))
}

/// The start timeout that applies to a unit: its own, else the default.
pub fn start_timeout(own: Option<Duration>) -> Duration {
    own.unwrap_or_else(default_start_timeout)
}

/// First retry delay after the initial check.
pub const FAST_START: Duration = Duration::from_millis(5);

/// Delay before check number `attempt` (0-based): `initial_delay` first,
/// then `FAST_START` doubling, capped at the probe's period. Pure.
pub fn next_delay(probe: &Probe, attempt: u32) -> Duration {
    if attempt == 0 {
        return probe.initial_delay;
    }
    let factor = 1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX);
    FAST_START
        .saturating_mul(factor)
        .min(probe.period.max(FAST_START))
}

/// Drives [`next_delay`] for one probe.
#[derive(Debug, Clone)]
pub struct ReadinessSchedule {
    probe: Probe,
    attempt: u32,
    port: Option<u16>,
    port_seen: bool,
}

impl ReadinessSchedule {
    /// A schedule for `probe`; TCP/HTTP probes also watch their port.
    pub fn new(probe: &Probe) -> ReadinessSchedule {
        ReadinessSchedule {
            probe: probe.clone(),
            attempt: 0,
            port: super::listen::listen_port(&probe.check),
            port_seen: false,
        }
    }

    /// The next delay, advancing the schedule.
    pub fn next_delay(&mut self) -> Duration {
        let d = next_delay(&self.probe, self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        d
    }

    /// Start over (after a restart).
    pub fn reset(&mut self) {
        self.attempt = 0;
        self.port_seen = false;
    }

    /// Wait for the next turn: the next delay, cut short when the probe's
    /// port starts listening (once; afterwards only the delay counts).
    /// Gives the inodes of the LISTEN sockets seen when the listen cut the
    /// wait short, and nothing otherwise.
    pub async fn wait(&mut self, watcher: &ListenWatcher) -> Vec<u64> {
        let delay = self.next_delay();
        match self.port {
            Some(port) if !self.port_seen => {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => Vec::new(),
                    seen = watcher.wait_listening(port) => {
                        self.port_seen = true;
                        seen
                    }
                }
            }
            _ => {
                tokio::time::sleep(delay).await;
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::ProbeCheck;

    #[test]
    fn delays_grow_to_the_period() {
        let probe = Probe {
            initial_delay: Duration::from_millis(300),
            ..Probe::readiness(ProbeCheck::Notify)
        };
        let got: Vec<u64> = (0..12)
            .map(|a| next_delay(&probe, a).as_millis() as u64)
            .collect();
        assert_eq!(
            got,
            vec![300, 5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]
        );
        assert_eq!(next_delay(&probe, u32::MAX), Duration::from_secs(1));
        let mut s = ReadinessSchedule::new(&probe);
        assert_eq!(s.next_delay(), Duration::from_millis(300));
        assert_eq!(s.next_delay(), Duration::from_millis(5));
        s.reset();
        assert_eq!(s.next_delay(), Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn wait_sleeps_the_delay_without_a_port() {
        let probe = Probe {
            initial_delay: Duration::from_secs(2),
            ..Probe::readiness(ProbeCheck::Notify)
        };
        let mut s = ReadinessSchedule::new(&probe);
        let watcher = ListenWatcher::new();
        let start = tokio::time::Instant::now();
        s.wait(&watcher).await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }
}
