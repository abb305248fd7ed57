//! Probe thresholds as a pure, clock-free state machine (Kubernetes
//! semantics): `success_threshold` consecutive successes make a probe pass,
//! `failure_threshold` consecutive failures (timeouts included) make it
//! fail; anything in between changes nothing.

use devctl_units::Probe;

use super::check::ProbeOutcome;

/// Where a probe stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeState {
    /// Not enough results yet.
    Unknown,
    Passing,
    Failing,
}

/// A change worth acting on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeTransition {
    BecamePassing,
    BecameFailing,
}

/// Counts consecutive results against the thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTracker {
    success_threshold: u32,
    failure_threshold: u32,
    successes: u32,
    failures: u32,
    state: ProbeState,
}

impl ProbeTracker {
    /// A tracker in `Unknown` with the probe's thresholds (0 counts as 1).
    pub fn new(probe: &Probe) -> ProbeTracker {
        ProbeTracker {
            success_threshold: probe.success_threshold.max(1),
            failure_threshold: probe.failure_threshold.max(1),
            successes: 0,
            failures: 0,
            state: ProbeState::Unknown,
        }
    }

    /// The current state.
    pub fn state(&self) -> ProbeState {
        self.state
    }

    /// Record one result; returns the transition it caused, if any.
    pub fn observe(&mut self, outcome: &ProbeOutcome) -> Option<ProbeTransition> {
        self.record(outcome.is_success())
    }

    /// Record one result given as pass/fail.
    pub fn record(&mut self, ok: bool) -> Option<ProbeTransition> {
        if ok {
            self.failures = 0;
            self.successes = self.successes.saturating_add(1);
            if self.state != ProbeState::Passing && self.successes >= self.success_threshold {
                self.state = ProbeState::Passing;
                return Some(ProbeTransition::BecamePassing);
            }
        } else {
            self.successes = 0;
            self.failures = self.failures.saturating_add(1);
            if self.state != ProbeState::Failing && self.failures >= self.failure_threshold {
                self.state = ProbeState::Failing;
                return Some(ProbeTransition::BecameFailing);
            }
        }
        None
    }

    /// Forget everything (e.g. after a restart).
    pub fn reset(&mut self) {
        self.successes = 0;
        self.failures = 0;
        self.state = ProbeState::Unknown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::ProbeCheck;

    fn tracker(success: u32, failure: u32) -> ProbeTracker {
        let probe = Probe {
            success_threshold: success,
            failure_threshold: failure,
            ..Probe::readiness(ProbeCheck::Notify)
        };
        ProbeTracker::new(&probe)
    }

    /// `S` success, `F` failure, `T` timeout → expected transition per step
    /// (`+` became passing, `-` became failing, `.` none).
    fn run(t: &mut ProbeTracker, inputs: &str) -> String {
        inputs
            .chars()
            .map(|c| {
                let outcome = match c {
                    'S' => ProbeOutcome::Success,
                    'F' => ProbeOutcome::Failure("no".into()),
                    _ => ProbeOutcome::Timeout,
                };
                match t.observe(&outcome) {
                    Some(ProbeTransition::BecamePassing) => '+',
                    Some(ProbeTransition::BecameFailing) => '-',
                    None => '.',
                }
            })
            .collect()
    }

    #[test]
    fn thresholds_table() {
        let cases = [
            // (success, failure, inputs, expected)
            (1, 3, "S", "+"),
            (1, 3, "FFS", "..+"),
            (1, 3, "SFFF", "+..-"),
            (1, 3, "SFFSFFF", "+.....-"),
            (2, 3, "SFSFSFSF", "........"), // strict alternation never flips
            (2, 3, "SSFSFSFF", ".+......"), // T13: flapping after ready
            (2, 3, "SSFFTSS", ".+..-.+"),   // timeouts count as failures
            (1, 1, "FSFS", "-+-+"),
            (0, 0, "SF", "+-"), // zero thresholds act as 1
            (3, 2, "SSFSSSFF", ".....+.-"),
        ];
        for (success, failure, inputs, expected) in cases {
            let mut t = tracker(success, failure);
            assert_eq!(
                run(&mut t, inputs),
                expected,
                "success={success} failure={failure} inputs={inputs}"
            );
        }
    }

    #[test]
    fn state_and_reset() {
        let mut t = tracker(1, 2);
        assert_eq!(t.state(), ProbeState::Unknown);
        run(&mut t, "S");
        assert_eq!(t.state(), ProbeState::Passing);
        run(&mut t, "FF");
        assert_eq!(t.state(), ProbeState::Failing);
        t.reset();
        assert_eq!(t.state(), ProbeState::Unknown);
        assert_eq!(run(&mut t, "F"), ".");
    }
}
