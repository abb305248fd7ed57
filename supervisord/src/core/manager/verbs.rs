//! The job verbs on the manager: start / stop / restart / trigger / up /
//! down, enablement and `wait`; plus the reconciliation step that sends
//! queued starts once dependencies allow and queued stops once dependents
//! are down (reverse order), and the propagation of a required unit's
//! failure or stop to its dependents.

use std::collections::BTreeSet;

use tokio::sync::oneshot;

use devctl_units::api::{
    ApiError, EnableRequest, EnableResponse, ErrorKind, EventKind, JobRequest, JobResponse,
    JobVerb, Origin, WaitRequest, WaitResponse,
};
use devctl_units::state::{EnableState, SubState, UnitResult};
use devctl_units::{Dependency, ProjectName, UnitKind, UnitName};

use crate::core::graph::{dependents_of, expand_groups, requiring, resolve, start_closure};
use crate::core::jobs::advance::{self, Step};
use crate::core::jobs::goal::{Goal, Toward};
use crate::core::jobs::job::{PendingStop, Queued};
use crate::core::jobs::propagate::{self, Reaction};
use crate::core::manager::waiting::WaiterReply;
use crate::core::manager::{Manager, api_err, storage_err};
use crate::core::protocol::ActorMsg;
use crate::core::snapshot::Snapshot;

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

impl Manager {
    fn resolve_in(
        &self,
        project: &ProjectName,
        patterns: &[String],
    ) -> Result<Vec<UnitName>, ApiError> {
        let p = self.project(project)?;
        resolve(patterns, &p.defs()).map_err(|m| api_err(ErrorKind::NotFound, m))
    }

    /// Queue starts for `names` and what they need (merged into each
    /// unit's job, see `jobs/job.rs`); parked stops of those units are
    /// superseded.
    pub(crate) fn mark_start(
        &mut self,
        project: &ProjectName,
        roots: &[UnitName],
        origin: Origin,
        trigger: &str,
    ) -> BTreeSet<UnitName> {
        let Some(p) = self.projects.get_mut(project) else {
            return BTreeSet::new();
        };
        let defs = p.defs();
        let roots = expand_groups(roots, &defs);
        let closure = start_closure(&roots, &defs);
        for n in &closure {
            let Some(l) = p.units.get_mut(n) else {
                continue;
            };
            p.should_run.insert(n.clone());
            l.job.start(&l.snap, origin, trigger);
        }
        for n in &closure {
            self.supersede(project, n, Toward::Up, "start");
        }
        self.session_changed();
        roots
    }

    /// Queue stops; `why(name)` gives (result, message) for each. Parked
    /// starts (and waits for ready/active/succeeded) of those units are
    /// superseded.
    pub(crate) fn mark_stop(
        &mut self,
        project: &ProjectName,
        names: &BTreeSet<UnitName>,
        why: impl Fn(&UnitName) -> (UnitResult, Option<String>),
    ) {
        let Some(p) = self.projects.get_mut(project) else {
            return;
        };
        for n in names {
            p.should_run.remove(n);
            let Some(l) = p.units.get_mut(n) else {
                continue;
            };
            let (result, message) = why(n);
            let stop = PendingStop {
                result,
                message,
                failed: false,
            };
            l.job.stop(&l.snap, stop);
        }
        for n in names {
            self.supersede(project, n, Toward::Down, "stop");
        }
        self.session_changed();
    }

    /// Send queued starts and stops whose conditions are met (the pure
    /// pass of `jobs/advance.rs`, repeated while it makes progress);
    /// returns the units whose queued job was sent or failed.
    pub(crate) fn advance(&mut self, project: &ProjectName) -> Vec<UnitName> {
        let mut changed = Vec::new();
        loop {
            let Some(p) = self.projects.get(project) else {
                return changed;
            };
            // The definitions, built once per pass and only when a stop is
            // queued (not once per queued stop: O(N²) in a stop-all).
            let defs = p
                .units
                .values()
                .any(|l| l.job.stop_queued())
                .then(|| p.defs());
            let stopping = |d: &UnitName| {
                p.units
                    .get(d)
                    .is_some_and(|dl| dl.job.stop_queued() || dl.job.stopping.is_some())
            };
            let mut steps = advance::pass(
                p.units.iter().map(|(n, l)| (n, &l.unit.deps[..], &l.job)),
                |d| p.units.get(d).map(|x| x.dep_view()),
                |n| {
                    defs.as_ref()
                        .is_some_and(|defs| dependents_of(n, defs).any(stopping))
                },
            );
            if steps.is_empty() {
                return changed;
            }
            let progressed = steps.iter().any(|(_, s)| s.progresses());
            let p = self.projects.get_mut(project).expect("checked above");
            let mut failed = false;
            for (n, step) in &steps {
                p.units.get_mut(n).expect("listed").job.took(step);
                if matches!(step, Step::Fail(_)) {
                    p.should_run.remove(n);
                    failed = true;
                }
            }
            if failed {
                self.session_changed();
            }
            // Starts and stops go out first, then failures, then the
            // waiting notices.
            steps.sort_by_key(|(_, s)| match s {
                Step::Start { .. } | Step::Stop(_) => 0,
                Step::Fail(_) => 1,
                Step::Wait(_) => 2,
            });
            for (n, step) in steps {
                if step.progresses() {
                    changed.push(n.clone());
                }
                match step {
                    Step::Start { origin, trigger } => {
                        self.send(project, &n, |seq| ActorMsg::Start {
                            seq,
                            origin,
                            trigger,
                            reset: true,
                        });
                    }
                    Step::Stop(s) => {
                        self.send(project, &n, |seq| ActorMsg::Stop {
                            seq,
                            result: s.result,
                            message: s.message,
                            failed: s.failed,
                        });
                        if let Some(l) = self
                            .projects
                            .get_mut(project)
                            .and_then(|p| p.units.get_mut(&n))
                        {
                            l.job.stop_sent();
                        }
                    }
                    Step::Fail(message) => {
                        self.send(project, &n, |seq| ActorMsg::FailDeps { seq, message });
                    }
                    Step::Wait(waiting) => {
                        self.send(project, &n, |seq| ActorMsg::WaitDeps { seq, waiting });
                    }
                }
            }
            if !progressed {
                return changed;
            }
        }
    }

    /// React to a unit's settled state change on behalf of its dependents
    /// (each one's reaction is `jobs/propagate.rs`'s).
    pub(crate) fn propagate(&mut self, project: &ProjectName, unit: &UnitName, old: &Snapshot) {
        let Some(p) = self.projects.get_mut(project) else {
            return;
        };
        let Some(x) = p.units.get(unit) else { return };
        if !x.settled() {
            return;
        }
        let view = x.dep_view();
        let x_kind = x.unit.kind;
        let x_why = x.snap.trigger.clone();
        let rebuilt = x_kind == UnitKind::Build
            && old.sub == SubState::Building
            && x.snap.sub == SubState::Exited
            && x.snap.result == Some(UnitResult::Success);
        let mut restarts = Vec::new();
        let mut notes = Vec::new();
        // The dependents, found without building the definitions map
        // (this runs on every settled state change).
        let dependents: Vec<(UnitName, Dependency)> = p
            .units
            .iter()
            .filter_map(|(n, l)| {
                let dep = l.unit.deps.iter().find(|d| &d.unit == unit)?;
                Some((n.clone(), dep.clone()))
            })
            .collect();
        let mut stopped = false;
        for (dn, dep) in &dependents {
            let dl = p.units.get_mut(dn).expect("listed above");
            match propagate::reaction(dep, view, rebuilt, &dl.snap, &dl.job) {
                Some(Reaction::Stop(stop)) => {
                    p.should_run.remove(dn);
                    stopped = true;
                    dl.job.queued = Some(Queued::Stop(stop));
                }
                Some(Reaction::Restart) => restarts.push(dn.clone()),
                Some(Reaction::Note) => notes.push(dn.clone()),
                None => {}
            }
        }
        if stopped {
            self.session_changed();
        }
        let why = x_why.map(|t| format!(" ({t})")).unwrap_or_default();
        for d in restarts {
            self.send(project, &d, |seq| ActorMsg::Restart {
                seq,
                trigger: format!("build {unit} succeeded{why}"),
            });
        }
        for d in notes {
            self.send(project, &d, |seq| ActorMsg::Note {
                seq,
                message: format!("build {unit} failed, still serving the previous version"),
                drop_queued: false,
            });
        }
    }

    /// `POST /jobs`.
    pub(crate) fn job(&mut self, project: ProjectName, req: JobRequest, reply: Reply<JobResponse>) {
        if let Err(e) = self.project(&project) {
            let _ = reply.send(Err(e));
            return;
        }
        let names = match (req.verb, req.units.is_empty()) {
            (JobVerb::Up | JobVerb::Down, true) => Ok(Vec::new()),
            _ => self.resolve_in(&project, &req.units),
        };
        let names = match names {
            Ok(n) => n,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        if req.verb != JobVerb::Up && req.verb != JobVerb::Down && names.is_empty() {
            let _ = reply.send(Err(api_err(ErrorKind::BadRequest, "no units named")));
            return;
        }
        let (items, stopped) = self.plan(&project, req.verb, &names);
        self.advance(&project);
        self.session_changed();
        // Answer the parked jobs this one superseded.
        self.check_waiters();
        if req.block {
            self.park(
                project,
                items,
                stopped,
                req.timeout_ms,
                WaiterReply::Job(reply),
            );
        } else {
            let resp = self.snapshot_outcomes(&project, &items, stopped);
            self.after_flush(move || {
                let _ = reply.send(Ok(resp));
            });
        }
    }

    /// Queue a verb's work; returns what to wait for and the extra stops.
    pub(crate) fn plan(
        &mut self,
        project: &ProjectName,
        verb: JobVerb,
        names: &[UnitName],
    ) -> (Vec<(UnitName, Goal)>, Vec<UnitName>) {
        let Some(p) = self.projects.get(project) else {
            return (Vec::new(), Vec::new());
        };
        let defs = p.defs();
        let runnable = |n: &UnitName| defs.get(n).is_some_and(|u| u.kind.is_runnable());
        match verb {
            JobVerb::Start => {
                let roots = self.mark_start(project, names, Origin::Started, "manual");
                (
                    roots.into_iter().map(|n| (n, Goal::Up)).collect(),
                    Vec::new(),
                )
            }
            JobVerb::Stop => {
                let roots = expand_groups(names, &defs);
                let deps = requiring(&roots, &defs);
                let all: BTreeSet<UnitName> = roots.union(&deps).cloned().collect();
                let up_deps: Vec<UnitName> = deps
                    .iter()
                    .filter(|d| p.units.get(*d).is_some_and(|l| l.snap.is_up()))
                    .cloned()
                    .collect();
                let roots2 = roots.clone();
                self.mark_stop(project, &all, |n| {
                    if roots2.contains(n) {
                        (UnitResult::Success, None)
                    } else {
                        let by = roots2
                            .iter()
                            .map(|r| r.to_string())
                            .collect::<Vec<_>>()
                            .join(", ");
                        (
                            UnitResult::Dependency,
                            Some(format!("stopped because required unit {by} stopped")),
                        )
                    }
                });
                (all.into_iter().map(|n| (n, Goal::Down)).collect(), up_deps)
            }
            JobVerb::Restart | JobVerb::Trigger => {
                let roots = expand_groups(names, &defs);
                let mut items = Vec::new();
                for n in &roots {
                    let l = &self.projects[project].units[n];
                    let up = l.snap.is_up() && l.job.idle();
                    let word = if verb == JobVerb::Restart {
                        "restart"
                    } else {
                        "trigger"
                    };
                    self.supersede(project, n, Toward::Up, word);
                    if up {
                        if verb == JobVerb::Restart {
                            self.send(project, n, |seq| ActorMsg::Restart {
                                seq,
                                trigger: "manual restart".into(),
                            });
                        } else {
                            let reason = self.manual_trigger(project, n);
                            self.send(project, n, |seq| ActorMsg::Trigger { seq, reason });
                        }
                    } else {
                        let why = if verb == JobVerb::Trigger {
                            self.manual_trigger(project, n)
                        } else {
                            "manual".into()
                        };
                        self.mark_start(project, std::slice::from_ref(n), Origin::Started, &why);
                    }
                    items.push((n.clone(), Goal::Up));
                }
                (items, Vec::new())
            }
            JobVerb::Up => {
                let roots: Vec<UnitName> = if names.is_empty() {
                    defs.keys()
                        .filter(|n| runnable(n) && p.enabled(n))
                        .cloned()
                        .collect()
                } else {
                    names.to_vec()
                };
                let closure = start_closure(&expand_groups(&roots, &defs), &defs);
                let others: BTreeSet<UnitName> = if names.is_empty() {
                    BTreeSet::new()
                } else {
                    p.units
                        .iter()
                        .filter(|(n, l)| {
                            !closure.contains(*n) && (l.snap.is_up() || l.job.start_queued())
                        })
                        .map(|(n, _)| n.clone())
                        .collect()
                };
                let started = self.mark_start(project, &roots, Origin::Started, "up");
                self.mark_stop(project, &others, |_| (UnitResult::Success, None));
                let mut items: Vec<(UnitName, Goal)> =
                    started.into_iter().map(|n| (n, Goal::Up)).collect();
                items.extend(others.iter().map(|n| (n.clone(), Goal::Down)));
                (items, others.into_iter().collect())
            }
            JobVerb::Down => {
                let all: BTreeSet<UnitName> =
                    defs.keys().filter(|n| runnable(n)).cloned().collect();
                let items = all.iter().map(|n| (n.clone(), Goal::Down)).collect();
                self.mark_stop(project, &all, |_| (UnitResult::Success, None));
                (items, Vec::new())
            }
        }
    }

    pub(crate) fn snapshot_outcomes(
        &self,
        project: &ProjectName,
        items: &[(UnitName, Goal)],
        stopped: Vec<UnitName>,
    ) -> JobResponse {
        let p = self.projects.get(project);
        let outcomes = items
            .iter()
            .filter_map(|(n, _)| p.and_then(|p| p.units.get(n)).map(|l| (n, l)))
            .map(|(n, l)| devctl_units::api::UnitOutcome {
                unit: n.clone(),
                ok: true,
                active: l.snap.active,
                sub: l.snap.sub,
                result: l.snap.result,
                message: l.snap.message.clone(),
            })
            .collect();
        JobResponse {
            outcomes,
            stopped,
            timed_out: false,
        }
    }

    /// `POST /enablement`.
    pub(crate) fn enablement(
        &mut self,
        project: ProjectName,
        req: EnableRequest,
        reply: Reply<EnableResponse>,
    ) {
        let names = if req.units.is_empty() && req.boot {
            // The boot flag alone: no unit to resolve, but the project must exist.
            self.project(&project).map(|_| Vec::new())
        } else {
            self.resolve_in(&project, &req.units)
        };
        let names = match names {
            Ok(n) => n,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let p = self.projects.get_mut(&project).expect("resolved above");
        let before = p.file.clone();
        let defs = p.defs();
        let targets: Vec<UnitName> = expand_groups(&names, &defs).into_iter().collect();
        let mut changed = Vec::new();
        if req.boot && req.units.is_empty() {
            p.file.boot = req.enable;
        } else {
            for n in &targets {
                let was = p.enabled(n);
                p.file.overrides.insert(n.clone(), req.enable);
                if was != req.enable {
                    let st = if req.enable {
                        EnableState::Enabled
                    } else {
                        EnableState::Disabled
                    };
                    changed.push((n.clone(), st));
                }
            }
        }
        if let Err(e) = self.store.save_project(&p.file) {
            p.file = before;
            let _ = reply.send(Err(storage_err(&e)));
            return;
        }
        let boot = p.file.boot;
        for (n, st) in &changed {
            self.emit(
                Some(&project),
                Some(n),
                EventKind::EnablementChanged { enabled: *st },
            );
        }
        let resp = EnableResponse {
            changed,
            job: None,
            boot,
        };
        if !req.now || targets.is_empty() {
            let _ = reply.send(Ok(resp));
            return;
        }
        let verb = if req.enable {
            JobVerb::Start
        } else {
            JobVerb::Stop
        };
        let (items, stopped) = self.plan(&project, verb, &targets);
        self.advance(&project);
        self.session_changed();
        self.check_waiters();
        if req.block {
            self.park(
                project,
                items,
                stopped,
                req.timeout_ms,
                WaiterReply::Enable(reply, resp),
            );
        } else {
            let job = self.snapshot_outcomes(&project, &items, stopped);
            self.after_flush(move || {
                let _ = reply.send(Ok(EnableResponse {
                    job: Some(job),
                    ..resp
                }));
            });
        }
    }

    /// `POST /wait`.
    pub(crate) fn wait(
        &mut self,
        project: ProjectName,
        req: WaitRequest,
        reply: Reply<WaitResponse>,
    ) {
        match self.resolve_in(&project, &req.units) {
            Ok(names) => {
                let items = names
                    .into_iter()
                    .map(|n| (n, Goal::Cond(req.condition)))
                    .collect();
                self.park(
                    project,
                    items,
                    Vec::new(),
                    req.timeout_ms,
                    WaiterReply::Wait(reply),
                );
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }
}
