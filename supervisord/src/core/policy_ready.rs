//! Readiness and liveness as a pure state machine with Kubernetes
//! semantics: `success_threshold` consecutive successes make a unit ready,
//! `failure_threshold` consecutive failures make a ready unit not-ready (no
//! restart); liveness failures restart with result `liveness`; a start
//! deadline passing before the first readiness fails the start with
//! `probe-timeout`. Events that cannot happen in a phase are errors.

use devctl_units::Probe;
use devctl_units::state::UnitResult;

/// Where a started unit stands with respect to readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyPhase {
    /// Started, not yet ready.
    Starting,
    Ready,
    /// Was ready, readiness is failing now.
    NotReady,
}

/// Something the probes or timers observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyEvent {
    Readiness(bool),
    Liveness(bool),
    /// `READY=1` on the unit's notify socket.
    NotifyReady,
    /// The start timeout passed.
    StartDeadline,
}

/// What the unit actor must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyAction {
    BecameReady,
    BecameNotReady,
    /// Kill and restart (counted like a crash) with this result.
    Restart(UnitResult),
    /// Kill and count as a failed start with this result.
    FailStart(UnitResult),
}

/// An event that cannot happen in the current phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("readiness event {event:?} is illegal in phase {phase:?}")]
pub struct IllegalTransition {
    pub phase: ReadyPhase,
    pub event: ReadyEvent,
}

/// Consecutive-result counter with k8s thresholds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Streak {
    pub successes: u32,
    pub failures: u32,
}

impl Streak {
    fn push(&mut self, ok: bool) {
        if ok {
            self.successes += 1;
            self.failures = 0;
        } else {
            self.failures += 1;
            self.successes = 0;
        }
    }
}

/// Readiness state of one run of a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyState {
    pub phase: ReadyPhase,
    ready: Streak,
    live: Streak,
}

impl ReadyState {
    /// A fresh run.
    pub fn new() -> ReadyState {
        ReadyState {
            phase: ReadyPhase::Starting,
            ready: Streak::default(),
            live: Streak::default(),
        }
    }
}

impl Default for ReadyState {
    fn default() -> Self {
        ReadyState::new()
    }
}

/// Apply one event.
pub fn step(
    st: &mut ReadyState,
    ready: Option<&Probe>,
    alive: Option<&Probe>,
    ev: ReadyEvent,
) -> Result<Option<ReadyAction>, IllegalTransition> {
    let illegal = IllegalTransition {
        phase: st.phase,
        event: ev,
    };
    match ev {
        ReadyEvent::StartDeadline => {
            if st.phase != ReadyPhase::Starting {
                return Err(illegal);
            }
            Ok(Some(ReadyAction::FailStart(UnitResult::ProbeTimeout)))
        }
        ReadyEvent::NotifyReady => match st.phase {
            ReadyPhase::Starting => {
                st.phase = ReadyPhase::Ready;
                Ok(Some(ReadyAction::BecameReady))
            }
            // sd_notify READY=1 is one-shot; a repeat changes nothing.
            ReadyPhase::Ready | ReadyPhase::NotReady => Ok(None),
        },
        ReadyEvent::Readiness(ok) => {
            let probe = ready.ok_or(illegal)?;
            st.ready.push(ok);
            match st.phase {
                ReadyPhase::Starting | ReadyPhase::NotReady
                    if st.ready.successes >= probe.success_threshold.max(1) =>
                {
                    st.phase = ReadyPhase::Ready;
                    Ok(Some(ReadyAction::BecameReady))
                }
                ReadyPhase::Ready if st.ready.failures >= probe.failure_threshold.max(1) => {
                    st.phase = ReadyPhase::NotReady;
                    Ok(Some(ReadyAction::BecameNotReady))
                }
                _ => Ok(None),
            }
        }
        ReadyEvent::Liveness(ok) => {
            let probe = alive.ok_or(illegal)?;
            st.live.push(ok);
            if st.live.failures >= probe.failure_threshold.max(1) {
                st.live = Streak::default();
                return Ok(Some(ReadyAction::Restart(UnitResult::Liveness)));
            }
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::ProbeCheck;

    fn probe(success: u32, failure: u32) -> Probe {
        Probe {
            success_threshold: success,
            failure_threshold: failure,
            ..Probe::readiness(ProbeCheck::Tcp {
                host: "127.0.0.1".into(),
                port: 1,
            })
        }
    }

    fn run(
        st: &mut ReadyState,
        r: Option<&Probe>,
        a: Option<&Probe>,
        evs: &[ReadyEvent],
    ) -> Vec<Option<ReadyAction>> {
        evs.iter().map(|e| step(st, r, a, *e).unwrap()).collect()
    }

    #[test]
    fn thresholds_gate_ready_and_not_ready() {
        use ReadyEvent::Readiness as R;
        let p = probe(2, 3);
        let mut st = ReadyState::new();
        let out = run(
            &mut st,
            Some(&p),
            None,
            &[R(true), R(false), R(true), R(true)],
        );
        assert_eq!(out, [None, None, None, Some(ReadyAction::BecameReady)]);
        let out = run(
            &mut st,
            Some(&p),
            None,
            &[R(false), R(false), R(true), R(false), R(false), R(false)],
        );
        assert_eq!(
            out,
            [
                None,
                None,
                None,
                None,
                None,
                Some(ReadyAction::BecameNotReady)
            ]
        );
        assert_eq!(st.phase, ReadyPhase::NotReady);
        let out = run(&mut st, Some(&p), None, &[R(true), R(true)]);
        assert_eq!(out, [None, Some(ReadyAction::BecameReady)]);
    }

    #[test]
    fn strict_alternation_never_flips_after_ready() {
        use ReadyEvent::Readiness as R;
        let p = probe(2, 3);
        let mut st = ReadyState::new();
        run(&mut st, Some(&p), None, &[R(true), R(true)]);
        for i in 0..100 {
            assert_eq!(step(&mut st, Some(&p), None, R(i % 2 == 0)).unwrap(), None);
        }
        assert_eq!(st.phase, ReadyPhase::Ready);
    }

    #[test]
    fn liveness_restarts_and_readiness_never_does() {
        use ReadyEvent::*;
        let r = probe(1, 1);
        let a = probe(1, 2);
        let mut st = ReadyState::new();
        let out = run(
            &mut st,
            Some(&r),
            Some(&a),
            &[
                Readiness(true),
                Readiness(false),
                Liveness(false),
                Liveness(false),
            ],
        );
        assert_eq!(
            out,
            [
                Some(ReadyAction::BecameReady),
                Some(ReadyAction::BecameNotReady),
                None,
                Some(ReadyAction::Restart(UnitResult::Liveness))
            ]
        );
    }

    #[test]
    fn start_deadline_and_notify() {
        let mut st = ReadyState::new();
        assert_eq!(
            step(&mut st, None, None, ReadyEvent::StartDeadline).unwrap(),
            Some(ReadyAction::FailStart(UnitResult::ProbeTimeout))
        );
        let mut st = ReadyState::new();
        assert_eq!(
            step(&mut st, None, None, ReadyEvent::NotifyReady).unwrap(),
            Some(ReadyAction::BecameReady)
        );
        assert_eq!(
            step(&mut st, None, None, ReadyEvent::NotifyReady).unwrap(),
            None
        );
    }

    #[test]
    fn illegal_transitions_are_errors() {
        let p = probe(1, 1);
        let mut st = ReadyState::new();
        step(&mut st, Some(&p), None, ReadyEvent::Readiness(true)).unwrap();
        let cases = [
            (ReadyEvent::StartDeadline, Some(&p), None),
            (ReadyEvent::Liveness(false), Some(&p), None),
        ];
        for (ev, r, a) in cases {
            let err = step(&mut st, r, a, ev).unwrap_err();
            assert_eq!(err.phase, ReadyPhase::Ready);
        }
        let mut fresh = ReadyState::new();
        assert!(step(&mut fresh, None, None, ReadyEvent::Readiness(true)).is_err());
    }
}
