//! What a job or `wait` waits for on each unit ([`Goal`]), when a unit's
//! state decides it ([`eval`]), and the supersede table: which goals a
//! later job heading the other way makes unreachable ([`Goal::conflicts`]),
//! as systemd cancels a job replaced by a conflicting one. Goals the new
//! job also reaches are merged and answered when reached.

use devctl_units::api::WaitFor;
use devctl_units::state::{ActiveState, SubState, UnitResult};

use crate::core::snapshot::Snapshot;

/// What a unit must reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// Ready / running, or a build finished successfully.
    Up,
    /// Inactive or failed.
    Down,
    Cond(WaitFor),
}

/// `Some(ok)` once the goal is decided for this snapshot, `None` while pending.
pub fn eval(goal: Goal, s: &Snapshot) -> Option<bool> {
    let exited_ok = s.sub == SubState::Exited && s.result == Some(UnitResult::Success);
    match goal {
        Goal::Up | Goal::Cond(WaitFor::Ready) => match s.active {
            ActiveState::Active if s.sub != SubState::NotReady || exited_ok => Some(true),
            ActiveState::Failed | ActiveState::Inactive => Some(false),
            _ => None,
        },
        Goal::Down | Goal::Cond(WaitFor::Inactive) => {
            matches!(s.active, ActiveState::Inactive | ActiveState::Failed).then_some(true)
        }
        Goal::Cond(WaitFor::Active) => match s.active {
            ActiveState::Active => Some(true),
            ActiveState::Failed => Some(false),
            _ => None,
        },
        Goal::Cond(WaitFor::Succeeded) => match s.active {
            _ if exited_ok => Some(true),
            ActiveState::Failed => Some(false),
            _ => None,
        },
        Goal::Cond(WaitFor::Failed) => (s.active == ActiveState::Failed).then_some(true),
    }
}

/// The direction of a newly accepted job on a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toward {
    /// start, restart, trigger, up.
    Up,
    /// stop, down.
    Down,
}

impl Goal {
    /// A later job heading `toward` makes this goal unreachable for the
    /// job (or wait) that set it: that one is superseded. Goals it can
    /// still meet are merged and answered when reached.
    pub fn conflicts(self, toward: Toward) -> bool {
        match toward {
            Toward::Up => self == Goal::Down,
            Toward::Down => matches!(
                self,
                Goal::Up | Goal::Cond(WaitFor::Ready | WaitFor::Active | WaitFor::Succeeded)
            ),
        }
    }
}

/// The message of an answer superseded by a later `verb` job.
pub fn superseded(verb: &str) -> String {
    format!("superseded by a later {verb}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::api::RuntimeState;

    fn s(active: ActiveState, sub: SubState, result: Option<UnitResult>) -> Snapshot {
        Snapshot {
            state: RuntimeState {
                active,
                sub,
                result,
                ..RuntimeState::default()
            },
            ack: 0,
        }
    }

    #[test]
    fn goal_table() {
        use ActiveState as A;
        use SubState as S;
        let ok = Some(UnitResult::Success);
        let bad = Some(UnitResult::ExitCode);
        let cases: &[(Goal, Snapshot, Option<bool>)] = &[
            (Goal::Up, s(A::Active, S::Ready, None), Some(true)),
            (Goal::Up, s(A::Active, S::Running, None), Some(true)),
            (Goal::Up, s(A::Active, S::Exited, ok), Some(true)),
            (Goal::Up, s(A::Active, S::NotReady, None), None),
            (Goal::Up, s(A::Activating, S::Backoff, bad), None),
            (Goal::Up, s(A::Activating, S::WaitingDeps, None), None),
            (Goal::Up, s(A::Failed, S::Failed, bad), Some(false)),
            (Goal::Up, s(A::Inactive, S::Dead, ok), Some(false)),
            (Goal::Down, s(A::Deactivating, S::Stopping, None), None),
            (Goal::Down, s(A::Failed, S::Failed, bad), Some(true)),
            (Goal::Down, s(A::Inactive, S::Dead, ok), Some(true)),
            (
                Goal::Cond(WaitFor::Active),
                s(A::Inactive, S::Dead, None),
                None,
            ),
            (
                Goal::Cond(WaitFor::Active),
                s(A::Active, S::NotReady, None),
                Some(true),
            ),
            (
                Goal::Cond(WaitFor::Succeeded),
                s(A::Active, S::Exited, ok),
                Some(true),
            ),
            (
                Goal::Cond(WaitFor::Succeeded),
                s(A::Activating, S::Building, None),
                None,
            ),
            (
                Goal::Cond(WaitFor::Succeeded),
                s(A::Failed, S::Failed, bad),
                Some(false),
            ),
            (
                Goal::Cond(WaitFor::Failed),
                s(A::Failed, S::Failed, bad),
                Some(true),
            ),
            (
                Goal::Cond(WaitFor::Failed),
                s(A::Active, S::Running, None),
                None,
            ),
        ];
        for (g, snap, want) in cases {
            assert_eq!(
                eval(*g, snap),
                *want,
                "{g:?} {:?}/{:?}",
                snap.active,
                snap.sub
            );
        }
    }

    /// The supersede table: every goal against both directions.
    #[test]
    fn supersede_table() {
        use Toward::{Down, Up};
        let cases: &[(Goal, Toward, bool)] = &[
            (Goal::Up, Up, false),
            (Goal::Up, Down, true),
            (Goal::Down, Up, true),
            (Goal::Down, Down, false),
            (Goal::Cond(WaitFor::Ready), Up, false),
            (Goal::Cond(WaitFor::Ready), Down, true),
            (Goal::Cond(WaitFor::Active), Up, false),
            (Goal::Cond(WaitFor::Active), Down, true),
            (Goal::Cond(WaitFor::Succeeded), Up, false),
            (Goal::Cond(WaitFor::Succeeded), Down, true),
            (Goal::Cond(WaitFor::Inactive), Up, false),
            (Goal::Cond(WaitFor::Inactive), Down, false),
            (Goal::Cond(WaitFor::Failed), Up, false),
            (Goal::Cond(WaitFor::Failed), Down, false),
        ];
        for (g, t, want) in cases {
            assert_eq!(g.conflicts(*t), *want, "{g:?} against {t:?}");
        }
        assert_eq!(superseded("stop"), "superseded by a later stop");
    }
}
