//! Restart policy as a pure function of (policy, history, exit, now):
//! no / on-failure / always, exponential backoff from the floor doubling to
//! the cap, the attempt counter reset after `reset_after` of stable uptime,
//! a start limit (`limit` starts within `within` → `start-limit-hit`),
//! errors that cannot heal failing at once, and a user stop never restarting.
//!
//! Time is an argument (`tokio::time::Instant`), so tests need no clock.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use devctl_units::RestartMode;
use devctl_units::RestartPolicy;
use devctl_units::state::UnitResult;

/// Why the unit's process (tree) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCause {
    /// Exited with status 0.
    Clean,
    /// Ended badly with this result (`exit-code`, `signal`, `core-dump`,
    /// `timeout`, `probe-timeout`, `liveness`).
    Failure(UnitResult),
    /// The executable could not be run (ENOENT, EACCES…): never retried.
    Permanent(UnitResult),
    /// The user (or a dependency) asked it to stop.
    Stopped,
}

/// What the unit does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Start again after `delay`; `attempt` counts from 1.
    Restart { delay: Duration, attempt: u32 },
    /// Stay down: inactive with this result.
    Inactive(UnitResult),
    /// Stay down: failed with this result.
    Failed(UnitResult),
}

/// The restart history of one unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestartHistory {
    /// Consecutive failed runs since the last reset.
    pub attempts: u32,
    /// Start times within the start-limit window.
    starts: VecDeque<Instant>,
    last_start: Option<Instant>,
}

impl RestartHistory {
    /// Record a start (initial or restart).
    pub fn on_start(&mut self, now: Instant) {
        self.starts.push_back(now);
        self.last_start = Some(now);
    }

    /// A manual start re-arms everything (`devctl start` after a failure).
    pub fn reset(&mut self) {
        *self = RestartHistory::default();
    }

    /// Starts counted against the limit at `now`.
    pub fn starts_within(&mut self, window: Duration, now: Instant) -> u32 {
        while let Some(&t) = self.starts.front() {
            if now.saturating_duration_since(t) >= window {
                self.starts.pop_front();
            } else {
                break;
            }
        }
        self.starts.len() as u32
    }
}

/// The backoff before restart attempt `attempt` (1-based): `floor * 2^(n-1)`, capped.
pub fn backoff_delay(policy: &RestartPolicy, attempt: u32) -> Duration {
    let shift = attempt.saturating_sub(1).min(31);
    let delay = policy.backoff.saturating_mul(1u32 << shift);
    delay.min(policy.max_delay.max(policy.backoff))
}

/// Decide what follows an exit.
pub fn on_exit(
    policy: &RestartPolicy,
    hist: &mut RestartHistory,
    cause: ExitCause,
    now: Instant,
) -> Decision {
    let failure = match cause {
        ExitCause::Stopped => return Decision::Inactive(UnitResult::Success),
        ExitCause::Permanent(r) => return Decision::Failed(r),
        ExitCause::Clean if policy.mode != RestartMode::Always => {
            return Decision::Inactive(UnitResult::Success);
        }
        ExitCause::Clean => None,
        ExitCause::Failure(r) if policy.mode == RestartMode::No => return Decision::Failed(r),
        ExitCause::Failure(r) => Some(r),
    };
    if let Some(started) = hist.last_start
        && now.saturating_duration_since(started) >= policy.reset_after
    {
        hist.attempts = 0;
    }
    if hist.starts_within(policy.within, now) >= policy.limit {
        return Decision::Failed(UnitResult::StartLimitHit);
    }
    match failure {
        Some(_) => {
            hist.attempts += 1;
            Decision::Restart {
                delay: backoff_delay(policy, hist.attempts),
                attempt: hist.attempts,
            }
        }
        None => {
            // `always` after a clean exit: restart promptly at the floor.
            hist.attempts = 0;
            Decision::Restart {
                delay: policy.backoff,
                attempt: 1,
            }
        }
    }
}

/// Map an exit status to systemd's result vocabulary.
pub fn exit_result(st: crate::process::ExitStatus) -> UnitResult {
    match st {
        crate::process::ExitStatus::Exited(_) => UnitResult::ExitCode,
        crate::process::ExitStatus::Signaled {
            core_dumped: true, ..
        } => UnitResult::CoreDump,
        crate::process::ExitStatus::Signaled { .. } => UnitResult::Signal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_results() {
        use crate::process::ExitStatus::*;
        assert_eq!(exit_result(Exited(1)), UnitResult::ExitCode);
        assert_eq!(
            exit_result(Signaled {
                signal: 9,
                core_dumped: false
            }),
            UnitResult::Signal
        );
        assert_eq!(
            exit_result(Signaled {
                signal: 11,
                core_dumped: true
            }),
            UnitResult::CoreDump
        );
    }
    use devctl_units::UnitKind;

    fn policy(mode: RestartMode) -> RestartPolicy {
        RestartPolicy {
            mode,
            ..RestartPolicy::default_for(UnitKind::Service)
        }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn exit_classification_table() {
        use ExitCause::*;
        use UnitResult::*;
        let t0 = Instant::now();
        let cases: &[(RestartMode, ExitCause, Decision)] = &[
            (RestartMode::No, Clean, Decision::Inactive(Success)),
            (
                RestartMode::No,
                Failure(ExitCode),
                Decision::Failed(ExitCode),
            ),
            (RestartMode::No, Stopped, Decision::Inactive(Success)),
            (RestartMode::OnFailure, Clean, Decision::Inactive(Success)),
            (
                RestartMode::OnFailure,
                Failure(Signal),
                Decision::Restart {
                    delay: S(1),
                    attempt: 1,
                },
            ),
            (
                RestartMode::OnFailure,
                Failure(Liveness),
                Decision::Restart {
                    delay: S(1),
                    attempt: 1,
                },
            ),
            (
                RestartMode::OnFailure,
                Permanent(ExecFailed),
                Decision::Failed(ExecFailed),
            ),
            (
                RestartMode::OnFailure,
                Permanent(PortInUse),
                Decision::Failed(PortInUse),
            ),
            (RestartMode::OnFailure, Stopped, Decision::Inactive(Success)),
            (
                RestartMode::Always,
                Clean,
                Decision::Restart {
                    delay: S(1),
                    attempt: 1,
                },
            ),
            (RestartMode::Always, Stopped, Decision::Inactive(Success)),
            (
                RestartMode::Always,
                Permanent(ExecFailed),
                Decision::Failed(ExecFailed),
            ),
        ];
        for (mode, cause, want) in cases {
            let mut h = RestartHistory::default();
            h.on_start(t0);
            assert_eq!(
                on_exit(&policy(*mode), &mut h, *cause, t0 + S(2)),
                *want,
                "{mode:?} {cause:?}"
            );
        }
    }

    #[test]
    fn backoff_doubles_to_cap() {
        let p = RestartPolicy {
            max_delay: S(10),
            limit: 100,
            ..policy(RestartMode::OnFailure)
        };
        let mut h = RestartHistory::default();
        let mut now = Instant::now();
        let mut delays = Vec::new();
        for _ in 0..6 {
            h.on_start(now);
            now += Duration::from_millis(50);
            match on_exit(&p, &mut h, ExitCause::Failure(UnitResult::ExitCode), now) {
                Decision::Restart { delay, .. } => {
                    delays.push(delay.as_secs());
                    now += delay;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn a_zero_backoff_restarts_at_once_until_the_start_limit() {
        let p = RestartPolicy {
            backoff: Duration::ZERO,
            limit: 3,
            ..policy(RestartMode::Always)
        };
        let mut h = RestartHistory::default();
        let now = Instant::now();
        for _ in 0..2 {
            h.on_start(now);
            match on_exit(&p, &mut h, ExitCause::Failure(UnitResult::ExitCode), now) {
                Decision::Restart { delay, .. } => assert_eq!(delay, Duration::ZERO),
                other => panic!("{other:?}"),
            }
        }
        h.on_start(now);
        assert!(
            !matches!(
                on_exit(&p, &mut h, ExitCause::Failure(UnitResult::ExitCode), now),
                Decision::Restart { .. }
            ),
            "the start limit ends the loop"
        );
    }

    #[test]
    fn start_limit_hits_after_limit_starts_within_window() {
        let p = RestartPolicy {
            limit: 3,
            within: S(60),
            ..policy(RestartMode::OnFailure)
        };
        let mut h = RestartHistory::default();
        let t = Instant::now();
        let mut out = Vec::new();
        for i in 0..3 {
            h.on_start(t + S(i));
            out.push(on_exit(
                &p,
                &mut h,
                ExitCause::Failure(UnitResult::ExitCode),
                t + S(i),
            ));
        }
        assert!(matches!(out[0], Decision::Restart { attempt: 1, .. }));
        assert!(matches!(out[1], Decision::Restart { attempt: 2, .. }));
        assert_eq!(out[2], Decision::Failed(UnitResult::StartLimitHit));
        // Outside the window the same history restarts again.
        let mut h2 = RestartHistory::default();
        for i in 0..3 {
            h2.on_start(t + S(i * 100));
        }
        let d = on_exit(
            &p,
            &mut h2,
            ExitCause::Failure(UnitResult::ExitCode),
            t + S(201),
        );
        assert!(matches!(d, Decision::Restart { .. }), "{d:?}");
    }

    #[test]
    fn stable_uptime_resets_attempts_and_manual_reset_rearms() {
        let p = RestartPolicy {
            reset_after: S(60),
            limit: 100,
            ..policy(RestartMode::OnFailure)
        };
        let mut h = RestartHistory::default();
        let t = Instant::now();
        for i in 0..4 {
            h.on_start(t + S(i));
            on_exit(
                &p,
                &mut h,
                ExitCause::Failure(UnitResult::ExitCode),
                t + S(i),
            );
        }
        assert_eq!(h.attempts, 4);
        h.on_start(t + S(10));
        let d = on_exit(
            &p,
            &mut h,
            ExitCause::Failure(UnitResult::ExitCode),
            t + S(100),
        );
        assert_eq!(
            d,
            Decision::Restart {
                delay: S(1),
                attempt: 1
            }
        );
        h.reset();
        assert_eq!(h, RestartHistory::default());
    }

    #[test]
    fn cap_never_below_floor_and_huge_attempts_do_not_overflow() {
        let p = RestartPolicy {
            backoff: S(5),
            max_delay: S(1),
            ..policy(RestartMode::OnFailure)
        };
        assert_eq!(backoff_delay(&p, 1), S(5));
        assert_eq!(backoff_delay(&p, u32::MAX), S(5));
    }
}
