//! What a dependency's settled state change does to one dependent, as a
//! pure decision: a required unit that failed or stopped queues a stop
//! of its running dependent (result `dependency`, see
//! `policy_deps::on_dep_change`); a build that succeeded again restarts a
//! running dependent that waits for its success; a build that failed
//! leaves such a dependent serving the previous version, with a note. A
//! dependent with a job queued or a stop in flight, or not up, is left to
//! that job.

use devctl_units::state::{ActiveState, UnitResult};
use devctl_units::{DepCondition, Dependency};

use crate::core::jobs::job::{Job, PendingStop};
use crate::core::policy_deps::{DepView, Propagation, on_dep_change};
use crate::core::snapshot::Snapshot;

/// What happens to a dependent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    /// Queue this stop (the dependent no longer should run).
    Stop(PendingStop),
    /// Restart it: its build succeeded again.
    Restart,
    /// Tell it its build failed; it keeps running.
    Note,
}

/// The reaction of a dependent (its `dep` on the changed unit, its own
/// state and job) to the changed unit's `view`; `rebuilt` when the change
/// was a build succeeding again.
pub fn reaction(
    dep: &Dependency,
    view: DepView,
    rebuilt: bool,
    snap: &Snapshot,
    job: &Job,
) -> Option<Reaction> {
    if !job.idle() || !snap.is_up() {
        return None;
    }
    if rebuilt && dep.until == DepCondition::Succeeded && snap.active == ActiveState::Active {
        return Some(Reaction::Restart);
    }
    match on_dep_change(dep, view) {
        Some(Propagation::Stop { failed, message }) => Some(Reaction::Stop(PendingStop {
            result: UnitResult::Dependency,
            message: Some(message),
            failed,
        })),
        None if view.active == ActiveState::Failed && dep.until == DepCondition::Succeeded => {
            Some(Reaction::Note)
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::jobs::job::Queued;
    use devctl_units::api::RuntimeState;
    use devctl_units::state::SubState;
    use devctl_units::{DepKind, UnitName};

    fn dep(kind: DepKind, until: DepCondition) -> Dependency {
        Dependency {
            unit: UnitName::new("b").unwrap(),
            kind,
            until,
        }
    }

    fn view(active: ActiveState, sub: SubState) -> DepView {
        DepView {
            active,
            sub,
            result: None,
            pending: false,
        }
    }

    fn snap(active: ActiveState) -> Snapshot {
        Snapshot {
            state: RuntimeState {
                active,
                ..RuntimeState::default()
            },
            ack: 0,
        }
    }

    #[test]
    fn every_reaction() {
        use ActiveState as A;
        use DepCondition as C;
        use DepKind as K;
        let failed = view(A::Failed, SubState::Failed);
        let stopped = view(A::Inactive, SubState::Dead);
        let built = view(A::Active, SubState::Exited);
        let idle = Job::default();
        let queued = Job {
            queued: Some(Queued::Stop(PendingStop {
                result: UnitResult::Success,
                message: None,
                failed: false,
            })),
            ..Job::default()
        };
        let stop = |failed, message: &str| {
            Some(Reaction::Stop(PendingStop {
                result: UnitResult::Dependency,
                message: Some(message.into()),
                failed,
            }))
        };
        // (what, dep, view, rebuilt, dependent's state, its job, reaction)
        type Case<'a> = (
            &'a str,
            Dependency,
            DepView,
            bool,
            Snapshot,
            &'a Job,
            Option<Reaction>,
        );
        let cases: Vec<Case> = vec![
            (
                "a required unit failed: stop, failed",
                dep(K::Requires, C::Ready),
                failed,
                false,
                snap(A::Active),
                &idle,
                stop(true, "required unit b failed"),
            ),
            (
                "a required unit stopped: stop",
                dep(K::Requires, C::Ready),
                stopped,
                false,
                snap(A::Active),
                &idle,
                stop(false, "required unit b stopped"),
            ),
            (
                "a wanted unit failed: nothing",
                dep(K::Wants, C::Ready),
                failed,
                false,
                snap(A::Active),
                &idle,
                None,
            ),
            (
                "its build succeeded again: restart",
                dep(K::Requires, C::Succeeded),
                built,
                true,
                snap(A::Active),
                &idle,
                Some(Reaction::Restart),
            ),
            (
                "its build failed: a note, still running",
                dep(K::Requires, C::Succeeded),
                failed,
                false,
                snap(A::Active),
                &idle,
                Some(Reaction::Note),
            ),
            (
                "a job queued on the dependent: left to it",
                dep(K::Requires, C::Ready),
                failed,
                false,
                snap(A::Active),
                &queued,
                None,
            ),
            (
                "the dependent is down: nothing",
                dep(K::Requires, C::Ready),
                failed,
                false,
                snap(A::Inactive),
                &idle,
                None,
            ),
        ];
        for (what, d, v, rebuilt, s, job, want) in cases {
            let got = reaction(&d, v, rebuilt, &s, job);
            match (&got, &want) {
                (Some(Reaction::Stop(g)), Some(Reaction::Stop(w))) => {
                    assert_eq!((g.result, g.failed), (w.result, w.failed), "{what}");
                    let (g, w) = (g.message.as_deref(), w.message.as_deref());
                    assert!(g.unwrap().starts_with(w.unwrap()), "{what}: {g:?}");
                }
                _ => assert_eq!(got, want, "{what}"),
            }
        }
    }
}
