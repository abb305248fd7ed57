//! The job verbs on the manager: start / stop / restart / trigger / up /
//! down, enablement and `wait`. Each resolves names, runs the job engine
//! over the project (`jobs/engine.rs`: queueing, advancing, propagation)
//! and applies the effects it returns.

use std::collections::BTreeSet;

use tokio::sync::oneshot;

use devctl_units::api::runs::{RunTrigger, VerbSource};
use devctl_units::api::{
    ApiError, EnableRequest, EnableResponse, ErrorKind, EventKind, JobRequest, JobResponse,
    JobVerb, Origin, WaitRequest, WaitResponse,
};
use devctl_units::state::EnableState;
use devctl_units::{ProjectName, UnitName};

use crate::core::graph::{expand_groups, resolve};
use crate::core::jobs::engine::{Effects, Engine, Plan, ToActor};
use crate::core::jobs::goal::Goal;
use crate::core::manager::waiting::WaiterReply;
use crate::core::manager::watching::manual_trigger;
use crate::core::manager::{Manager, api_err, storage_err};
use crate::core::project::Loaded;

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

    /// The job engine over `project` (none when it is not loaded).
    pub(crate) fn engine<'a>(
        &'a mut self,
        project: &'a ProjectName,
    ) -> Option<Engine<'a, Loaded, WaiterReply>> {
        let p = self.projects.get_mut(project)?;
        Some(Engine {
            project,
            overrides: &p.file.overrides,
            units: &mut p.units,
            should_run: &mut p.should_run,
            seq: &mut self.seq,
            waiters: &mut self.waiters,
        })
    }

    /// Apply a job engine transition's effects: send its messages to the
    /// actors of `project`'s units and mark the session dirty.
    pub(crate) fn apply(&mut self, project: &ProjectName, fx: Effects) {
        if fx.session_dirty {
            self.session_changed();
        }
        for ToActor { unit, msg } in fx.to_actors {
            self.deliver(project, &unit, msg);
        }
    }

    /// Queue starts for `names` and what they need (see
    /// [`Engine::start`]); returns the roots with groups expanded.
    pub(crate) fn mark_start(
        &mut self,
        project: &ProjectName,
        roots: &[UnitName],
        origin: Origin,
        trigger: &str,
    ) -> BTreeSet<UnitName> {
        let mut fx = Effects::default();
        let Some(mut e) = self.engine(project) else {
            return BTreeSet::new();
        };
        let roots = e.start(&mut fx, roots, origin, trigger);
        self.apply(project, fx);
        roots
    }

    /// Send queued starts and stops whose conditions are met (the
    /// engine's advance, see `jobs/engine.rs`); returns the units whose
    /// queued job was sent or failed.
    pub(crate) fn advance(&mut self, project: &ProjectName) -> Vec<UnitName> {
        let Some(mut e) = self.engine(project) else {
            return Vec::new();
        };
        let mut fx = e.advance();
        let moved = std::mem::take(&mut fx.moved);
        self.apply(project, fx);
        moved
    }

    /// Note why each unit of `project` whose start was queued or sent
    /// since command number `since` will run (`why` of its name).
    pub(crate) fn note_starts(
        &mut self,
        project: &ProjectName,
        since: u64,
        why: impl Fn(&UnitName) -> RunTrigger,
    ) {
        let Some(p) = self.projects.get(project) else {
            return;
        };
        let started: Vec<UnitName> = p
            .units
            .iter()
            .filter(|(_, l)| l.job.start_queued() || l.job.issued > since)
            .map(|(n, _)| n.clone())
            .collect();
        for n in started {
            self.runs.note_cause(project, &n, why(&n));
        }
    }

    /// The causes a verb gives the runs it starts: the named units run
    /// because of the verb, the rest as dependencies of the first named.
    fn note_verb(
        &mut self,
        project: &ProjectName,
        req: &JobRequest,
        names: &[UnitName],
        since: u64,
    ) {
        let source = req.source.unwrap_or(VerbSource::Api);
        match req.verb {
            JobVerb::Stop | JobVerb::Down => {
                for n in names {
                    self.runs.drop_cause(project, n);
                }
            }
            verb => {
                let named: BTreeSet<&UnitName> = names.iter().collect();
                let first = names.first().cloned();
                self.note_starts(project, since, |n| match &first {
                    Some(of) if !named.contains(n) && verb != JobVerb::Up => {
                        RunTrigger::Dependency { of: of.clone() }
                    }
                    _ => RunTrigger::Verb { verb, source },
                });
            }
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
        // A forced job, a restart or a trigger runs builds even when up to date.
        let force = req.force || matches!(req.verb, JobVerb::Restart | JobVerb::Trigger);
        self.triggers.inputs.force_all = force;
        let since = self.seq;
        let Plan { items, stopped } = self.submit(&project, req.verb, &names);
        self.triggers.inputs.force_all = false;
        if force {
            self.force_queued(&project);
        }
        self.note_verb(&project, &req, &names, since);
        // Answer the parked jobs this one superseded.
        self.check_waiters();
        if req.block {
            self.park(
                project,
                items,
                stopped,
                req.timeout_ms,
                req.failed_only,
                WaiterReply::Job(reply),
            );
        } else {
            let resp = self.snapshot_outcomes(&project, &items, stopped);
            self.after_flush(move || {
                let _ = reply.send(Ok(resp));
            });
        }
    }

    /// Accept `verb` on `names` (see [`Engine::submit`]) and apply its
    /// effects; the caller checks the parked answers afterwards.
    pub(crate) fn submit(
        &mut self,
        project: &ProjectName,
        verb: JobVerb,
        names: &[UnitName],
    ) -> Plan {
        let (fx, plan) = self.plan_with(project, |e, manual| {
            let (plan, fx) = e.submit(verb, names, manual);
            (fx, plan)
        });
        self.apply(project, fx);
        plan
    }

    /// Queue a verb's work without advancing (see [`Engine::plan`]).
    pub(crate) fn plan(
        &mut self,
        project: &ProjectName,
        verb: JobVerb,
        names: &[UnitName],
    ) -> Plan {
        let (fx, plan) = self.plan_with(project, |e, manual| {
            let mut fx = Effects::default();
            let plan = e.plan(&mut fx, verb, names, manual);
            (fx, plan)
        });
        self.apply(project, fx);
        plan
    }

    /// Run `f` on the engine over `project`, with a manual trigger's
    /// reason from the file watches.
    fn plan_with(
        &mut self,
        project: &ProjectName,
        f: impl FnOnce(
            &mut Engine<'_, Loaded, WaiterReply>,
            &mut dyn FnMut(&UnitName) -> String,
        ) -> (Effects, Plan),
    ) -> (Effects, Plan) {
        let Some(p) = self.projects.get_mut(project) else {
            return (Effects::default(), Plan::default());
        };
        let watch = &mut self.watch;
        let mut manual = |n: &UnitName| manual_trigger(watch, project, n);
        let mut e = Engine {
            project,
            overrides: &p.file.overrides,
            units: &mut p.units,
            should_run: &mut p.should_run,
            seq: &mut self.seq,
            waiters: &mut self.waiters,
        };
        f(&mut e, &mut manual)
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
        let Plan { items, stopped } = self.submit(&project, verb, &targets);
        self.check_waiters();
        if req.block {
            self.park(
                project,
                items,
                stopped,
                req.timeout_ms,
                false,
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
                    false,
                    WaiterReply::Wait(reply),
                );
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }
}
