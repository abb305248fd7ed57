//! Readiness and liveness as a pure state machine with the usual probe
//! semantics: the thresholds are counted by `probe::ProbeTracker`
//! (`success_threshold` consecutive successes pass, `failure_threshold`
//! consecutive failures fail); this machine decides what a crossing means
//! for the unit: a passing readiness probe makes it ready, a failing one
//! makes a ready unit not-ready (no restart); a failing liveness probe
//! restarts with result `liveness`; a start deadline passing before the
//! first readiness fails the start with `probe-timeout`. Events that cannot
//! happen in a phase are errors.

use devctl_units::Probe;
use devctl_units::state::UnitResult;

use crate::probe::{ProbeTracker, ProbeTransition};

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

/// Readiness state of one run of a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyState {
    pub phase: ReadyPhase,
    ready: Option<ProbeTracker>,
    live: Option<ProbeTracker>,
}

impl ReadyState {
    /// A fresh run of a unit with these probes.
    pub fn new(ready: Option<&Probe>, alive: Option<&Probe>) -> ReadyState {
        ReadyState {
            phase: ReadyPhase::Starting,
            ready: ready.map(ProbeTracker::new),
            live: alive.map(ProbeTracker::new),
        }
    }
}

/// Apply one event.
pub fn step(st: &mut ReadyState, ev: ReadyEvent) -> Result<Option<ReadyAction>, IllegalTransition> {
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
            let tracker = st.ready.as_mut().ok_or(illegal)?;
            match (tracker.record(ok), st.phase) {
                (
                    Some(ProbeTransition::BecamePassing),
                    ReadyPhase::Starting | ReadyPhase::NotReady,
                ) => {
                    st.phase = ReadyPhase::Ready;
                    Ok(Some(ReadyAction::BecameReady))
                }
                (Some(ProbeTransition::BecameFailing), ReadyPhase::Ready) => {
                    st.phase = ReadyPhase::NotReady;
                    Ok(Some(ReadyAction::BecameNotReady))
                }
                _ => Ok(None),
            }
        }
        ReadyEvent::Liveness(ok) => {
            let tracker = st.live.as_mut().ok_or(illegal)?;
            if tracker.record(ok) == Some(ProbeTransition::BecameFailing) {
                tracker.reset();
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

    fn run(st: &mut ReadyState, evs: &[ReadyEvent]) -> Vec<Option<ReadyAction>> {
        evs.iter().map(|e| step(st, *e).unwrap()).collect()
    }

    #[test]
    fn thresholds_gate_ready_and_not_ready() {
        use ReadyEvent::Readiness as R;
        let p = probe(2, 3);
        let mut st = ReadyState::new(Some(&p), None);
        let out = run(&mut st, &[R(true), R(false), R(true), R(true)]);
        assert_eq!(out, [None, None, None, Some(ReadyAction::BecameReady)]);
        let out = run(
            &mut st,
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
        let out = run(&mut st, &[R(true), R(true)]);
        assert_eq!(out, [None, Some(ReadyAction::BecameReady)]);
    }

    #[test]
    fn strict_alternation_never_flips_after_ready() {
        use ReadyEvent::Readiness as R;
        let p = probe(2, 3);
        let mut st = ReadyState::new(Some(&p), None);
        run(&mut st, &[R(true), R(true)]);
        for i in 0..100 {
            assert_eq!(step(&mut st, R(i % 2 == 0)).unwrap(), None);
        }
        assert_eq!(st.phase, ReadyPhase::Ready);
    }

    #[test]
    fn liveness_restarts_and_readiness_never_does() {
        use ReadyEvent::*;
        let r = probe(1, 1);
        let a = probe(1, 2);
        let mut st = ReadyState::new(Some(&r), Some(&a));
        let out = run(
            &mut st,
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
        let mut st = ReadyState::new(None, None);
        assert_eq!(
            step(&mut st, ReadyEvent::StartDeadline).unwrap(),
            Some(ReadyAction::FailStart(UnitResult::ProbeTimeout))
        );
        let mut st = ReadyState::new(None, None);
        assert_eq!(
            step(&mut st, ReadyEvent::NotifyReady).unwrap(),
            Some(ReadyAction::BecameReady)
        );
        assert_eq!(step(&mut st, ReadyEvent::NotifyReady).unwrap(), None);
    }

    #[test]
    fn illegal_transitions_are_errors() {
        let p = probe(1, 1);
        let mut st = ReadyState::new(Some(&p), None);
        step(&mut st, ReadyEvent::Readiness(true)).unwrap();
        for ev in [ReadyEvent::StartDeadline, ReadyEvent::Liveness(false)] {
            let err = step(&mut st, ev).unwrap_err();
            assert_eq!(err.phase, ReadyPhase::Ready);
        }
        let mut fresh = ReadyState::new(None, None);
        assert!(step(&mut fresh, ReadyEvent::Readiness(true)).is_err());
    }
}
