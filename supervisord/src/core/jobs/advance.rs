//! The advance step of the job engine, as a pure transition: from each
//! unit's queued job and its dependencies' states, what to tell which
//! actor now ([`Step`]), and what telling it does to the unit's job
//! ([`Job::took`]). A queued start is sent once `policy_deps::gate` opens
//! (until then the actor shows `waiting-deps`, once; a requirement that can
//! never be met fails it); a queued stop is sent once no dependent is
//! still queued for a stop or being stopped, so stops run in reverse
//! dependency order. The manager sends the steps and repeats the pass
//! while it makes progress.

use devctl_units::api::Origin;
use devctl_units::{Dependency, UnitName};

use crate::core::jobs::job::{Job, PendingStop, Queued};
use crate::core::policy_deps::{DepView, Gate, gate};

/// What one unit's actor is told by an advance pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Dependencies are met: start.
    Start { origin: Origin, trigger: String },
    /// Dependents are down: stop.
    Stop(PendingStop),
    /// Show `waiting-deps` on these requirements.
    Wait(Vec<UnitName>),
    /// A requirement can never be met: fail with `dependency`.
    Fail(String),
}

impl Step {
    /// The unit's job moved on (a start or stop sent, a failure
    /// decided): the pass made progress.
    pub fn progresses(&self) -> bool {
        !matches!(self, Step::Wait(_))
    }
}

/// One advance pass over a project's units (`(name, deps, job)`), with
/// each unit's view for the gate and whether a unit has a dependent
/// queued for a stop or being stopped.
pub fn pass<'a>(
    units: impl Iterator<Item = (&'a UnitName, &'a [Dependency], &'a Job)>,
    view: impl Fn(&UnitName) -> Option<DepView>,
    stop_blocked: impl Fn(&UnitName) -> bool,
) -> Vec<(UnitName, Step)> {
    let mut steps = Vec::new();
    for (name, deps, job) in units {
        match &job.queued {
            Some(Queued::Start {
                origin,
                trigger,
                shown_waiting,
            }) => match gate(deps, &view) {
                Gate::Open => steps.push((
                    name.clone(),
                    Step::Start {
                        origin: *origin,
                        trigger: trigger.clone(),
                    },
                )),
                Gate::Wait(w) if !shown_waiting => steps.push((name.clone(), Step::Wait(w))),
                Gate::Wait(_) => {}
                Gate::Fail(m) => steps.push((name.clone(), Step::Fail(m))),
            },
            Some(Queued::Stop(stop)) if !stop_blocked(name) => {
                steps.push((name.clone(), Step::Stop(stop.clone())))
            }
            Some(Queued::Stop(_)) | None => {}
        }
    }
    steps
}

impl Job {
    /// `step` was decided for this unit: a sent start or stop and a
    /// failure leave the queue (a stop is in flight once its number is
    /// known, see [`Job::stop_sent`]); `waiting-deps` is shown once.
    pub fn took(&mut self, step: &Step) {
        match step {
            Step::Start { .. } | Step::Stop(_) | Step::Fail(_) => self.queued = None,
            Step::Wait(_) => {
                if let Some(Queued::Start { shown_waiting, .. }) = &mut self.queued {
                    *shown_waiting = true;
                }
            }
        }
    }

    /// The stop was sent as the last command issued.
    pub fn stop_sent(&mut self) {
        self.stopping = Some(self.issued);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::state::{ActiveState, SubState, UnitResult};
    use devctl_units::{DepCondition, DepKind};
    use std::collections::BTreeMap;

    fn n(s: &str) -> UnitName {
        UnitName::new(s).unwrap()
    }

    fn view(active: ActiveState, sub: SubState, result: Option<UnitResult>) -> DepView {
        DepView {
            active,
            sub,
            result,
            pending: false,
        }
    }

    fn start(shown_waiting: bool) -> Job {
        Job {
            queued: Some(Queued::Start {
                origin: Origin::Started,
                trigger: "manual".into(),
                shown_waiting,
            }),
            ..Job::default()
        }
    }

    fn stop() -> PendingStop {
        PendingStop {
            result: UnitResult::Success,
            message: None,
            failed: false,
        }
    }

    /// `api` requires `db` until ready; `db`'s view and `api`'s job vary.
    fn api_step(db: Option<DepView>, job: Job, blocked: bool) -> Option<Step> {
        let deps = [Dependency {
            unit: n("db"),
            kind: DepKind::Requires,
            until: DepCondition::Ready,
        }];
        let api = n("api");
        let units = [(&api, &deps[..], &job)];
        let views: BTreeMap<UnitName, DepView> = db.into_iter().map(|v| (n("db"), v)).collect();
        let steps = pass(units.into_iter(), |u| views.get(u).copied(), |_| blocked);
        assert!(steps.len() <= 1, "{steps:?}");
        steps.into_iter().next().map(|(_, s)| s)
    }

    #[test]
    fn every_advance_rule() {
        let ready = view(ActiveState::Active, SubState::Ready, None);
        let starting = view(ActiveState::Activating, SubState::Starting, None);
        let failed = view(
            ActiveState::Failed,
            SubState::Failed,
            Some(UnitResult::ExitCode),
        );
        let started = Step::Start {
            origin: Origin::Started,
            trigger: "manual".into(),
        };
        // (what, db's state, api's job, a dependent still stopping, step)
        type Case = (&'static str, Option<DepView>, Job, bool, Option<Step>);
        let cases: Vec<Case> = vec![
            (
                "requirement ready: start",
                Some(ready),
                start(false),
                false,
                Some(started),
            ),
            (
                "requirement starting: show waiting",
                Some(starting),
                start(false),
                false,
                Some(Step::Wait(vec![n("db")])),
            ),
            (
                "waiting already shown: nothing",
                Some(starting),
                start(true),
                false,
                None,
            ),
            (
                "requirement failed: fail",
                Some(failed),
                start(false),
                false,
                Some(Step::Fail("required unit db failed".into())),
            ),
            (
                "requirement not loaded: fail",
                None,
                start(true),
                false,
                Some(Step::Fail("required unit db is not loaded".into())),
            ),
            (
                "stop, dependents down: stop",
                Some(ready),
                Job {
                    queued: Some(Queued::Stop(stop())),
                    ..Job::default()
                },
                false,
                Some(Step::Stop(stop())),
            ),
            (
                "stop, a dependent still stopping: nothing",
                Some(ready),
                Job {
                    queued: Some(Queued::Stop(stop())),
                    ..Job::default()
                },
                true,
                None,
            ),
            (
                "nothing queued: nothing",
                Some(ready),
                Job::default(),
                false,
                None,
            ),
        ];
        for (what, db, job, blocked, want) in cases {
            let got = api_step(db, job, blocked);
            if let (Some(Step::Fail(g)), Some(Step::Fail(w))) = (&got, &want) {
                assert!(g.starts_with(w.as_str()), "{what}: {g}");
                continue;
            }
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn what_each_step_does_to_the_job() {
        let mut j = start(false);
        j.took(&Step::Wait(vec![n("db")]));
        assert_eq!(j, start(true), "waiting is shown once");
        assert!(!Step::Wait(vec![]).progresses());
        for step in [
            Step::Start {
                origin: Origin::Started,
                trigger: "t".into(),
            },
            Step::Fail("x".into()),
            Step::Stop(stop()),
        ] {
            let mut j = start(true);
            j.took(&step);
            assert_eq!(j.queued, None, "{step:?}");
            assert!(step.progresses());
        }
        let mut j = Job {
            issued: 7,
            ..Job::default()
        };
        j.stop_sent();
        assert_eq!(j.stopping, Some(7));
    }
}
