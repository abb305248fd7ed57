//! The manager task: owns every project (definitions, enablement, desired
//! state, the actors' mailboxes and mirrored snapshots, each unit's job),
//! routes commands from [`crate::core::handle::Supervisor`], turns actor
//! reports into events, gates dependencies, answers parked waiters and
//! persists state. Nothing else mutates any of it. Its child modules hold
//! the rest of the loop: `verbs.rs` the job verbs, `waiting.rs` the parked
//! answers, `session.rs` startup, recovery and shutdown, `reexec.rs`
//! freezing and resuming, `watching.rs` file-change triggers, `triggers.rs`
//! schedules and commits, `uptodate.rs` the up-to-date builds; the pure
//! rules they apply live in `core/jobs/`.

mod errors;
mod pool;
mod reexec;
mod runs;
pub(crate) mod session;
mod triggers;
pub(crate) mod uptodate;
mod verbs;
mod waiting;
mod watching;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::info;

use devctl_units::api::{
    ApiError, EnableRequest, EnableResponse, ErrorKind, Event, EventKind, JobRequest, JobResponse,
    LoadRequest, LoadResponse, ProjectInfo, UnitStatus, WaitRequest, WaitResponse,
};
use devctl_units::state::ActiveState;
use devctl_units::{ProjectName, Unit, UnitName};

use crate::core::actor::{ActorEnv, Spawn};
use crate::core::jobs::engine::Reported;
use crate::core::jobs::job::Job;
use crate::core::jobs::waiters::Waiters;
use crate::core::logview::Selected;
use crate::core::manager::waiting::WaiterReply;
use crate::core::notes::Mail;
use crate::core::options::{CoreError, CoreInfo, CoreOptions};
use crate::core::project::{Loaded, Project, parse_unit, text_hash};
use crate::core::protocol::{ActorMsg, Replace, Report, ReportRx, ReportTx};
use crate::core::registry::Providers;
use crate::core::runbook::RunBook;
use crate::core::snapshot::Snapshot;
use crate::core::watching::WatchHub;
use crate::state::files::{ProjectFile, SessionFile};
use crate::state::store::StateStore;

/// Lines of log in the detail view.
pub const DETAIL_TAIL: usize = 20;

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

/// An answer to send once the turn's state is on disk.
pub(crate) type Deferred = Box<dyn FnOnce() + Send + Sync>;

/// Reports handled in one turn before the session is written and the
/// turn's answers go out (bounds the delay of a turn under a flood).
const TURN_REPORTS: usize = 512;

/// A request from a [`crate::core::handle::Supervisor`].
pub enum Command {
    Load {
        project: ProjectName,
        req: LoadRequest,
        reply: Reply<LoadResponse>,
    },
    Forget {
        project: ProjectName,
        reply: Reply<JobResponse>,
    },
    Projects {
        reply: oneshot::Sender<Vec<ProjectInfo>>,
    },
    Job {
        project: ProjectName,
        req: JobRequest,
        reply: Reply<JobResponse>,
    },
    Enable {
        project: ProjectName,
        req: EnableRequest,
        reply: Reply<EnableResponse>,
    },
    Wait {
        project: ProjectName,
        req: WaitRequest,
        reply: Reply<WaitResponse>,
    },
    Units {
        project: Option<ProjectName>,
        reply: Reply<Vec<UnitStatus>>,
    },
    /// A unit's status (without its log tail) and its log.
    Unit {
        project: ProjectName,
        unit: UnitName,
        reply: Reply<(UnitStatus, Option<Selected>)>,
    },
    UnitFile {
        project: ProjectName,
        unit: UnitName,
        reply: Reply<String>,
    },
    /// The logs of some units (all of the project's when empty).
    Logs {
        project: ProjectName,
        units: Vec<UnitName>,
        reply: Reply<Vec<Selected>>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    /// Leave every process running and stop the manager (crash simulation).
    Abandon {
        reply: oneshot::Sender<()>,
    },
    /// Re-exec: freeze every actor, hand their state over, stop the manager.
    Freeze {
        reply: oneshot::Sender<crate::core::reexec::Frozen>,
    },
}

/// The manager's state.
pub struct Manager {
    pub(crate) store: StateStore,
    pub(crate) env: ActorEnv,
    /// The registered providers (the one of a unit's kind runs it).
    pub(crate) providers: Arc<Providers>,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) event_seq: u64,
    pub(crate) projects: BTreeMap<ProjectName, Project>,
    pub(crate) reports_tx: ReportTx,
    pub(crate) timeouts_tx: mpsc::UnboundedSender<u64>,
    pub(crate) seq: u64,
    pub(crate) waiters: Waiters<WaiterReply>,
    pub(crate) session: SessionFile,
    pub(crate) written_session: Option<SessionFile>,
    /// Something the session file records changed since the last flush.
    pub(crate) session_dirty: bool,
    /// Answers held back until the turn's session write (see [`Manager::run`]).
    pub(crate) outbox: Vec<Deferred>,
    pub(crate) shutdown_replies: Vec<oneshot::Sender<()>>,
    pub(crate) done: bool,
    pub(crate) watch: WatchHub,
    pub(crate) triggers: triggers::TriggerHub,
    /// Run history: causes noted, runs opened and closed from reports.
    pub(crate) runs: RunBook,
}

pub use errors::{api_err, storage_err};
pub use runs::CoreShared;

/// Start the manager task: load state, recover or begin the session.
pub async fn spawn(
    opts: CoreOptions,
    events: broadcast::Sender<Event>,
) -> Result<(mpsc::Sender<Command>, CoreInfo, CoreShared), CoreError> {
    let (tx, rx) = mpsc::channel(256);
    let (reports_tx, reports_rx) = mpsc::unbounded_channel();
    let (timeouts_tx, timeouts_rx) = mpsc::unbounded_channel();
    let (mut mgr, info) = Manager::boot(opts, events, reports_tx, timeouts_tx).await?;
    let shared = mgr.shared();
    tokio::spawn(async move { mgr.run(rx, reports_rx, timeouts_rx).await });
    Ok((tx, info, shared))
}

impl Manager {
    pub(crate) fn new(
        store: StateStore,
        env: ActorEnv,
        providers: Arc<Providers>,
        events: broadcast::Sender<Event>,
        reports_tx: ReportTx,
        timeouts_tx: mpsc::UnboundedSender<u64>,
        session: SessionFile,
    ) -> Manager {
        let mut watch = WatchHub::new(vec![
            store.paths().state.clone(),
            store.paths().runtime.clone(),
        ]);
        watch.barriers_in = Some(store.paths().runtime.clone());
        Manager {
            store,
            env,
            providers,
            events,
            event_seq: 0,
            projects: BTreeMap::new(),
            reports_tx,
            timeouts_tx,
            seq: 0,
            waiters: Waiters::default(),
            session,
            written_session: None,
            session_dirty: false,
            outbox: Vec::new(),
            shutdown_replies: Vec::new(),
            done: false,
            watch,
            triggers: Default::default(),
            runs: RunBook::new(None, Arc::default()),
        }
    }

    /// The loop: commands, reports, waiter timeouts and watch messages,
    /// one turn at a time, until shut down, frozen or abandoned.
    pub(crate) async fn run(
        &mut self,
        mut rx: mpsc::Receiver<Command>,
        mut reports: ReportRx,
        mut timeouts: mpsc::UnboundedReceiver<u64>,
    ) {
        let mut watch_rx = self.watch.take_rx();
        let mut checks = self.triggers.inputs.take_rx();
        while !self.done {
            let due = self.schedule_deadline();
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(c) => self.command(c),
                    None => {
                        self.abandon(None);
                    }
                },
                Some(r) = reports.recv() => self.on_report(*r),
                Some(id) = timeouts.recv() => self.on_timeout(id),
                Some(m) = watch_rx.recv() => self.on_watch(m),
                Some(c) = checks.recv() => self.on_inputs_checked(c),
                _ = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if due.is_some() => self.on_schedules_due(),
            }
            // Group commit: the reports already queued join this turn, then
            // one session write covers them all, and only then do the
            // turn's answers go out (a caller told "started" can rely on
            // the run being in the file a restarted daemon reads).
            let mut n = 0;
            while n < TURN_REPORTS && !self.done {
                let Ok(r) = reports.try_recv() else { break };
                self.on_report(*r);
                n += 1;
            }
            self.end_turn();
        }
        self.end_turn();
    }

    /// Write the session if it changed, then send the held-back answers.
    pub(crate) fn end_turn(&mut self) {
        self.flush_session(false);
        for answer in std::mem::take(&mut self.outbox) {
            answer();
        }
    }

    /// Send `answer` once this turn's state is persisted.
    pub(crate) fn after_flush(&mut self, answer: impl FnOnce() + Send + Sync + 'static) {
        self.outbox.push(Box::new(answer));
    }

    fn command(&mut self, c: Command) {
        match c {
            Command::Load {
                project,
                req,
                reply,
            } => {
                let _ = reply.send(self.load(project, req));
            }
            Command::Forget { project, reply } => self.forget(project, reply),
            Command::Projects { reply } => {
                let _ = reply.send(self.project_infos());
            }
            Command::Job {
                project,
                req,
                reply,
            } => self.job(project, req, reply),
            Command::Enable {
                project,
                req,
                reply,
            } => self.enablement(project, req, reply),
            Command::Wait {
                project,
                req,
                reply,
            } => self.wait(project, req, reply),
            Command::Units { project, reply } => {
                let _ = reply.send(self.list(project));
            }
            Command::Unit {
                project,
                unit,
                reply,
            } => {
                let r = self.project(&project).and_then(|p| {
                    let log = p.units.get(&unit).map(|l| l.log.clone()).or_else(|| {
                        p.broken
                            .contains_key(&unit)
                            .then(|| self.env.logs.unit(project.as_str(), unit.as_str()))
                    });
                    p.status(&unit, DETAIL_TAIL)
                        .map(|s| self.with_run(self.annotate(s)))
                        .or_else(|| p.broken_status(&unit))
                        .ok_or_else(|| {
                            api_err(ErrorKind::NotFound, format!("no unit {project}/{unit}"))
                        })
                        .map(|st| {
                            let sel = log.map(|log| Selected {
                                project: project.clone(),
                                unit: unit.clone(),
                                log,
                            });
                            (st, sel)
                        })
                });
                let _ = reply.send(r);
            }
            Command::UnitFile {
                project,
                unit,
                reply,
            } => {
                let r = self.project(&project).and_then(|p| {
                    let l = p.units.get(&unit).ok_or_else(|| {
                        api_err(ErrorKind::NotFound, format!("no unit {project}/{unit}"))
                    })?;
                    self.store
                        .unit_file(&project, &l.file_name)
                        .map_err(|e| storage_err(&e))
                });
                let _ = reply.send(r);
            }
            Command::Logs {
                project,
                units,
                reply,
            } => {
                let _ = reply.send(self.logs(&project, units));
            }
            Command::Shutdown { reply } => self.shutdown(reply),
            Command::Abandon { reply } => self.abandon(Some(reply)),
            Command::Freeze { reply } => self.freeze(reply),
        }
    }

    pub(crate) fn project(&self, name: &ProjectName) -> Result<&Project, ApiError> {
        self.projects
            .get(name)
            .ok_or_else(|| api_err(ErrorKind::NotFound, format!("no project {name}")))
    }

    fn project_infos(&self) -> Vec<ProjectInfo> {
        self.projects
            .values()
            .map(|p| ProjectInfo {
                name: p.file.name.clone(),
                manifest: p.file.manifest.clone(),
                root: p.file.root.clone(),
                boot: p.file.boot,
                units: p.units.len(),
                active: p
                    .units
                    .values()
                    .filter(|l| l.snap.active.is_active())
                    .count(),
                failed: p
                    .units
                    .values()
                    .filter(|l| l.snap.active == ActiveState::Failed)
                    .count(),
            })
            .collect()
    }

    fn list(&self, project: Option<ProjectName>) -> Result<Vec<UnitStatus>, ApiError> {
        let projects: Vec<&Project> = match &project {
            Some(name) => vec![self.project(name)?],
            None => self.projects.values().collect(),
        };
        Ok(projects
            .into_iter()
            .flat_map(|p| {
                let loaded = p.units.keys().filter_map(|n| p.status(n, 0));
                let loaded: Vec<UnitStatus> =
                    loaded.map(|s| self.with_run(self.annotate(s))).collect();
                loaded
                    .into_iter()
                    .chain(p.broken.keys().filter_map(|n| p.broken_status(n)))
            })
            .collect())
    }

    fn logs(&self, project: &ProjectName, units: Vec<UnitName>) -> Result<Vec<Selected>, ApiError> {
        let p = self.project(project)?;
        let select = |(name, l): (&UnitName, &Loaded)| Selected {
            project: project.clone(),
            unit: name.clone(),
            log: l.log.clone(),
        };
        if units.is_empty() {
            return Ok(p.units.iter().map(select).collect());
        }
        units
            .iter()
            .map(|u| {
                p.units
                    .get_key_value(u)
                    .map(select)
                    .ok_or_else(|| api_err(ErrorKind::NotFound, format!("no unit {project}/{u}")))
            })
            .collect()
    }

    /// Create the record (and actor, for runnable kinds) of a new unit.
    pub(crate) fn make_loaded(
        &self,
        unit: Unit,
        file_name: String,
        text: &str,
        origin_snap: Snapshot,
    ) -> Loaded {
        let unit = Arc::new(unit);
        let log = self
            .env
            .logs
            .unit_with(unit.project.as_str(), unit.name.as_str(), &unit.logs);
        let tx = unit.kind.is_runnable().then(|| {
            self.providers.spawn(Spawn::new(
                unit.clone(),
                log.clone(),
                self.env.clone(),
                self.reports_tx.clone(),
                origin_snap.clone(),
            ))
        });
        Loaded {
            unit,
            file_name,
            text_hash: text_hash(text),
            log,
            tx,
            snap: origin_snap,
            job: Job::default(),
        }
    }

    /// Send a command to a unit's actor, recording its sequence number.
    pub(crate) fn send<M: Into<Mail>>(
        &mut self,
        project: &ProjectName,
        unit: &UnitName,
        make: impl FnOnce(u64) -> M,
    ) {
        self.release_held(project, unit);
        self.seq += 1;
        let seq = self.seq;
        if let Some(l) = self
            .projects
            .get_mut(project)
            .and_then(|p| p.units.get_mut(unit))
            && let Some(tx) = &l.tx
        {
            l.job.issued = seq;
            let _ = tx.send(make(seq));
        }
    }

    fn on_report(&mut self, r: Report) {
        let watched = self
            .watch
            .projects
            .get(&r.project)
            .is_some_and(|p| p.units.contains_key(&r.unit));
        let Some(mut e) = self.engine(&r.project) else {
            return;
        };
        let Some(done) = e.on_report(&r.unit, r.snap, watched) else {
            return;
        };
        let Reported {
            old,
            state_changed,
            held_back,
            mut fx,
        } = done;
        self.observe_run(&r.project, &r.unit, &old, r.at);
        let new = &self.projects[&r.project].units[&r.unit].snap;
        if state_changed {
            let kind = EventKind::StateChanged {
                active: new.active,
                sub: new.sub,
                result: new.result,
                message: new.message.clone(),
            };
            self.emit(Some(&r.project), Some(&r.unit), kind);
        }
        for e in r.events {
            self.emit(Some(&r.project), Some(&r.unit), e);
        }
        let new = self.projects[&r.project].units[&r.unit].snap.clone();
        self.watch_observe(&r.project, &r.unit, &old, &new, r.at);
        self.inputs_observe(&r.project, &r.unit, &old, &new);
        if let Some((units, reason)) = held_back {
            info!(project = %r.project, ?units, "{reason}");
        }
        // Only the reporting unit's answers, and those of units whose
        // queued job was just sent, can have been decided by this report.
        let moved = std::mem::take(&mut fx.moved);
        self.note_released(&r.project, &r.unit, &moved);
        self.apply(&r.project, fx);
        self.check_waiters_for(&r.project, &r.unit);
        for u in &moved {
            self.check_waiters_for(&r.project, u);
        }
        if !self.shutdown_replies.is_empty() {
            self.maybe_finish_shutdown();
        }
    }

    /// Replace a project's unit set (see `LoadRequest`).
    fn load(&mut self, project: ProjectName, req: LoadRequest) -> Result<LoadResponse, ApiError> {
        let mut parsed: BTreeMap<UnitName, (Unit, String, String)> = BTreeMap::new();
        let mut errors = Vec::new();
        for (file, text) in &req.units {
            match parse_unit(self.projects.get(&project), file, text) {
                Ok(mut u) => {
                    u.project = project.clone();
                    if parsed.contains_key(&u.name) {
                        errors.push(format!("{file}: duplicate unit {}", u.name));
                    } else {
                        parsed.insert(u.name.clone(), (u, file.clone(), text.clone()));
                    }
                }
                Err(e) => errors.push(format!("{file}: {e}")),
            }
        }
        if !errors.is_empty() {
            return Err(ApiError {
                kind: ErrorKind::InvalidUnits,
                message: errors.join("\n"),
                help: Some("run `devctl check` to see every problem with its source".into()),
            });
        }
        let old_file = self.projects.get(&project).map(|p| p.file.clone());
        let mut pf = old_file.clone().unwrap_or_else(|| {
            ProjectFile::new(project.clone(), req.manifest.clone(), req.root.clone())
        });
        pf.manifest = req.manifest.clone();
        pf.root = req.root.clone();
        pf.overrides.retain(|n, _| parsed.contains_key(n));
        // `up` loads the manifest every time; an unchanged project is not
        // written again (a unit file is fsynced each).
        let same_files = self.projects.get(&project).is_some_and(|p| {
            p.units.len() == req.units.len()
                && p.units.values().all(|l| {
                    req.units
                        .get(&l.file_name)
                        .is_some_and(|t| text_hash(t) == l.text_hash)
                })
        });
        let project_changed = old_file.as_ref() != Some(&pf);
        // What to put back if the project file cannot be written.
        let old_files = (!same_files && project_changed && self.projects.contains_key(&project))
            .then(|| self.store.read_units(&project));
        if !same_files {
            self.store
                .save_units(&project, &req.units)
                .map_err(|e| storage_err(&e))?;
        }
        if project_changed && let Err(e) = self.store.save_project(&pf) {
            if let Some(files) = &old_files {
                let _ = self.store.save_units(&project, files);
            }
            return Err(storage_err(&e));
        }
        let mut resp = LoadResponse::default();
        if !self.projects.contains_key(&project) {
            self.projects.insert(
                project.clone(),
                Project {
                    file: pf.clone(),
                    units: BTreeMap::new(),
                    should_run: BTreeSet::new(),
                    broken: BTreeMap::new(),
                },
            );
        }
        // The new files replace whatever failed to load.
        if let Some(p) = self.projects.get_mut(&project) {
            p.broken.clear();
        }
        let current: Vec<UnitName> = self.projects[&project].units.keys().cloned().collect();
        for name in current.iter().filter(|n| !parsed.contains_key(*n)) {
            let p = self.projects.get_mut(&project).expect("inserted above");
            let l = p.units.remove(name).expect("listed above");
            p.should_run.remove(name);
            resp.removed.push(name.clone());
            self.runs.forget_unit(&project, name);
            if l.snap.is_up() {
                resp.stopped.push(name.clone());
            }
            if let Some(tx) = l.tx {
                let (reply, _) = oneshot::channel();
                let _ = tx.send(ActorMsg::Exit { stop: true, reply });
            }
        }
        for (name, (unit, file, text)) in parsed {
            let existing = self.projects[&project]
                .units
                .get(&name)
                .map(|l| (l.unit.clone(), l.snap.is_up()));
            match existing {
                None => {
                    resp.added.push(name.clone());
                    let l = self.make_loaded(unit, file, &text, Snapshot::default());
                    self.projects
                        .get_mut(&project)
                        .expect("exists")
                        .units
                        .insert(name, l);
                }
                Some((old, up)) => {
                    // Log retention is the log store's business: a change
                    // of it alone applies now and restarts nothing.
                    let same = Unit {
                        enabled: old.enabled,
                        logs: old.logs,
                        ..unit.clone()
                    } == *old;
                    let logs_changed = unit.logs != old.logs;
                    let (pn, un) = (project.as_str(), name.as_str());
                    self.env.logs.unit_with(pn, un, &unit.logs);
                    let p = self.projects.get_mut(&project).expect("exists");
                    let l = p.units.get_mut(&name).expect("exists");
                    l.text_hash = text_hash(&text);
                    l.file_name = file;
                    if same {
                        // Keep the definition the actor shares unless the
                        // enablement differs (a reload must not double it).
                        if unit != *l.unit {
                            l.unit = Arc::new(unit);
                        }
                        match logs_changed {
                            true => resp.changed.push(name.clone()),
                            false => resp.unchanged += 1,
                        }
                        continue;
                    }
                    let kind_changed = old.kind != unit.kind;
                    l.unit = Arc::new(unit.clone());
                    resp.changed.push(name.clone());
                    if kind_changed {
                        // A different kind needs a different actor.
                        if let Some(tx) = l.tx.take() {
                            let (reply, _) = oneshot::channel();
                            let _ = tx.send(ActorMsg::Exit { stop: true, reply });
                        }
                        let fresh = self.make_loaded(
                            unit,
                            l_file(&self.projects[&project], &name),
                            &text,
                            Snapshot::default(),
                        );
                        self.projects
                            .get_mut(&project)
                            .expect("exists")
                            .units
                            .insert(name.clone(), fresh);
                        if up {
                            resp.stopped.push(name);
                        }
                        continue;
                    }
                    self.send(&project, &name, |seq| ActorMsg::Update {
                        seq,
                        unit: Box::new(unit),
                    });
                    if up {
                        resp.restarted.push(name.clone());
                        self.note_definition_changed(&project, &name);
                        self.send(&project, &name, |seq| ActorMsg::Restart {
                            seq,
                            trigger: "definition changed".into(),
                            how: Replace::Update,
                        });
                    }
                }
            }
        }
        self.projects.get_mut(&project).expect("exists").file = pf;
        info!(%project, added = resp.added.len(), removed = resp.removed.len(), changed = resp.changed.len(), "project loaded");
        let kind = EventKind::ProjectLoaded {
            added: resp.added.len(),
            removed: resp.removed.len(),
            changed: resp.changed.len(),
        };
        self.emit(Some(&project), None, kind);
        self.rewatch(&project);
        self.advance(&project);
        self.check_waiters();
        self.session_changed();
        Ok(resp)
    }

    fn forget(&mut self, project: ProjectName, reply: Reply<JobResponse>) {
        let Some(p) = self.projects.remove(&project) else {
            let _ = reply.send(Err(api_err(
                ErrorKind::NotFound,
                format!("no project {project}"),
            )));
            return;
        };
        if let Err(e) = self.store.remove_project(&project) {
            tracing::warn!(%project, "cannot remove project state: {e}");
        }
        let mut exits = Vec::new();
        let mut stopped = Vec::new();
        for (name, l) in p.units {
            self.runs.forget_unit(&project, &name);
            if l.snap.is_up() {
                stopped.push(name);
            }
            if let Some(tx) = l.tx {
                let (done, rx) = oneshot::channel();
                let _ = tx.send(ActorMsg::Exit {
                    stop: true,
                    reply: done,
                });
                exits.push(rx);
            }
        }
        // The project is gone: this drops its watchers and schedules.
        self.rewatch(&project);
        self.emit(Some(&project), None, EventKind::ProjectForgotten);
        self.check_waiters();
        self.session_changed();
        tokio::spawn(async move {
            for rx in exits {
                let _ = rx.await;
            }
            let _ = reply.send(Ok(JobResponse {
                outcomes: Vec::new(),
                stopped,
                timed_out: false,
            }));
        });
    }

    /// Tell every actor to end (stopping its unit first when `stop`) and
    /// drop its mailbox; one receiver per actor, answered once it is gone.
    pub(crate) fn exit_actors(&mut self, stop: bool) -> Vec<oneshot::Receiver<()>> {
        let mut exits = Vec::new();
        for p in self.projects.values_mut() {
            for l in p.units.values_mut() {
                if let Some(tx) = l.tx.take() {
                    let (done, rx) = oneshot::channel();
                    let _ = tx.send(ActorMsg::Exit { stop, reply: done });
                    exits.push(rx);
                }
            }
        }
        exits
    }

    pub(crate) fn abandon(&mut self, reply: Option<oneshot::Sender<()>>) {
        let exits = self.exit_actors(false);
        self.done = true;
        tokio::spawn(async move {
            for rx in exits {
                let _ = rx.await;
            }
            if let Some(r) = reply {
                let _ = r.send(());
            }
        });
    }
}

fn l_file(p: &Project, n: &UnitName) -> String {
    p.units
        .get(n)
        .map(|l| l.file_name.clone())
        .unwrap_or_default()
}
