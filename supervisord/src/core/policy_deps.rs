//! Dependency gating as pure functions: whether a dependency's state meets
//! an ordering condition (`started` / `ready` / `succeeded`), whether a
//! waiting unit may start, must wait, or can never start (a required unit
//! failed or is not going to run), and what a running dependent must do
//! when a required unit fails or stops (systemd `BindsTo`-like).
//!
//! `wants` never blocks or fails a dependent once the wanted unit cannot
//! get there. A `requires … until=succeeded` dependency (a build) that
//! fails *after* the dependent runs leaves the dependent up: a failed
//! rebuild keeps the old server (Tilt's build → serve).

use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{DepCondition, DepKind, Dependency, UnitName};

/// What the gate needs to know about a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepView {
    pub active: ActiveState,
    pub sub: SubState,
    pub result: Option<UnitResult>,
    /// A start or stop was asked of it and has not been acknowledged yet,
    /// or it is queued to start once its own dependencies allow.
    pub pending: bool,
}

/// Whether a dependency meets a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sat {
    Yes,
    NotYet,
    /// It will not get there without a new request; the text says why.
    Never(&'static str),
}

/// Check one condition.
pub fn satisfied(cond: DepCondition, v: DepView) -> Sat {
    if v.pending {
        return Sat::NotYet;
    }
    match v.active {
        ActiveState::Failed => return Sat::Never("failed"),
        ActiveState::Inactive => return Sat::Never("is not running"),
        _ => {}
    }
    if v.sub == SubState::Exited {
        // A one-shot that finished: success satisfies every condition.
        return if v.result == Some(UnitResult::Success) {
            Sat::Yes
        } else {
            Sat::Never("failed")
        };
    }
    let yes = match cond {
        DepCondition::Started => {
            matches!(
                v.sub,
                SubState::Starting
                    | SubState::Building
                    | SubState::Running
                    | SubState::Ready
                    | SubState::NotReady
            )
        }
        DepCondition::Ready => v.active == ActiveState::Active && v.sub != SubState::NotReady,
        DepCondition::Succeeded => false,
    };
    if yes { Sat::Yes } else { Sat::NotYet }
}

/// The verdict for a unit waiting on its dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Open,
    Wait(Vec<UnitName>),
    /// Fail with result `dependency` and this message.
    Fail(String),
}

/// Decide whether a unit with `deps` may start now.
pub fn gate(deps: &[Dependency], view: impl Fn(&UnitName) -> Option<DepView>) -> Gate {
    let mut waiting = Vec::new();
    for d in deps {
        let sat = match view(&d.unit) {
            Some(v) => satisfied(d.until, v),
            None => Sat::Never("is not loaded"),
        };
        match (sat, d.kind) {
            (Sat::Yes, _) | (Sat::Never(_), DepKind::Wants) => {}
            (Sat::NotYet, _) => waiting.push(d.unit.clone()),
            (Sat::Never(why), DepKind::Requires) => {
                return Gate::Fail(format!("required unit {} {why}", d.unit));
            }
        }
    }
    if waiting.is_empty() {
        Gate::Open
    } else {
        Gate::Wait(waiting)
    }
}

/// What a running (or starting) dependent must do after a dependency changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Propagation {
    /// Stop; end `failed` when `failed`, else `inactive`; result `dependency`.
    Stop { failed: bool, message: String },
}

/// React to a settled change of a dependency of a running dependent.
pub fn on_dep_change(dep: &Dependency, now: DepView) -> Option<Propagation> {
    if dep.kind != DepKind::Requires || now.pending {
        return None;
    }
    match now.active {
        ActiveState::Failed if dep.until == DepCondition::Succeeded => None,
        ActiveState::Failed => Some(Propagation::Stop {
            failed: true,
            message: format!("required unit {} failed", dep.unit),
        }),
        ActiveState::Inactive => Some(Propagation::Stop {
            failed: false,
            message: format!("required unit {} stopped", dep.unit),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActiveState as A;
    use SubState as S;

    fn v(active: ActiveState, sub: SubState, result: Option<UnitResult>) -> DepView {
        DepView {
            active,
            sub,
            result,
            pending: false,
        }
    }

    fn dep(name: &str, kind: DepKind, until: DepCondition) -> Dependency {
        Dependency {
            unit: UnitName::new(name).unwrap(),
            kind,
            until,
        }
    }

    #[test]
    fn condition_table() {
        use DepCondition::*;
        let ok = Some(UnitResult::Success);
        let cases: &[(DepCondition, DepView, Sat)] = &[
            (Started, v(A::Activating, S::Starting, None), Sat::Yes),
            (Started, v(A::Activating, S::WaitingDeps, None), Sat::NotYet),
            (Started, v(A::Activating, S::Backoff, None), Sat::NotYet),
            (Ready, v(A::Activating, S::Starting, None), Sat::NotYet),
            (Ready, v(A::Active, S::Running, None), Sat::Yes),
            (Ready, v(A::Active, S::Ready, None), Sat::Yes),
            (Ready, v(A::Active, S::NotReady, None), Sat::NotYet),
            (Succeeded, v(A::Active, S::Running, None), Sat::NotYet),
            (Succeeded, v(A::Activating, S::Building, None), Sat::NotYet),
            (Succeeded, v(A::Active, S::Exited, ok), Sat::Yes),
            (Ready, v(A::Active, S::Exited, ok), Sat::Yes),
            (
                Succeeded,
                v(A::Failed, S::Failed, Some(UnitResult::ExitCode)),
                Sat::Never("failed"),
            ),
            (
                Started,
                v(A::Inactive, S::Dead, None),
                Sat::Never("is not running"),
            ),
            (Ready, v(A::Deactivating, S::Stopping, None), Sat::NotYet),
            (
                Ready,
                DepView {
                    pending: true,
                    ..v(A::Inactive, S::Dead, None)
                },
                Sat::NotYet,
            ),
        ];
        for (cond, view, want) in cases {
            assert_eq!(satisfied(*cond, *view), *want, "{cond:?} {view:?}");
        }
    }

    #[test]
    fn gate_requires_and_wants() {
        let deps = [
            dep("db", DepKind::Requires, DepCondition::Ready),
            dep("redis", DepKind::Wants, DepCondition::Ready),
        ];
        let look = |db: DepView, redis: Option<DepView>| {
            move |n: &UnitName| if n.as_str() == "db" { Some(db) } else { redis }
        };
        let ready = v(A::Active, S::Ready, None);
        let failed = v(A::Failed, S::Failed, Some(UnitResult::ExitCode));
        let starting = v(A::Activating, S::Starting, None);
        assert_eq!(gate(&deps, look(ready, Some(ready))), Gate::Open);
        assert_eq!(
            gate(&deps, look(ready, Some(failed))),
            Gate::Open,
            "wants failing does not block"
        );
        assert_eq!(
            gate(&deps, look(ready, None)),
            Gate::Open,
            "unknown wanted unit is ignored"
        );
        assert_eq!(
            gate(&deps, look(starting, Some(starting))),
            Gate::Wait(vec![deps[0].unit.clone(), deps[1].unit.clone()])
        );
        assert_eq!(
            gate(&deps, look(failed, Some(ready))),
            Gate::Fail("required unit db failed".into())
        );
        let none = |_: &UnitName| None;
        assert_eq!(
            gate(&deps[..1], none),
            Gate::Fail("required unit db is not loaded".into())
        );
    }

    #[test]
    fn propagation_table() {
        let req = dep("db", DepKind::Requires, DepCondition::Ready);
        let build = dep("codegen", DepKind::Requires, DepCondition::Succeeded);
        let wants = dep("redis", DepKind::Wants, DepCondition::Ready);
        let failed = v(A::Failed, S::Failed, Some(UnitResult::ExitCode));
        let stopped = v(A::Inactive, S::Dead, Some(UnitResult::Success));
        let backoff = v(A::Activating, S::Backoff, Some(UnitResult::ExitCode));
        assert_eq!(
            on_dep_change(&req, failed),
            Some(Propagation::Stop {
                failed: true,
                message: "required unit db failed".into()
            })
        );
        assert_eq!(
            on_dep_change(&req, stopped),
            Some(Propagation::Stop {
                failed: false,
                message: "required unit db stopped".into()
            })
        );
        assert_eq!(
            on_dep_change(&req, backoff),
            None,
            "a restarting dependency keeps dependents"
        );
        assert_eq!(
            on_dep_change(&build, failed),
            None,
            "failed rebuild keeps the old server"
        );
        assert!(on_dep_change(&build, stopped).is_some());
        assert_eq!(on_dep_change(&wants, failed), None);
        assert_eq!(
            on_dep_change(
                &req,
                DepView {
                    pending: true,
                    ..stopped
                }
            ),
            None
        );
    }
}
