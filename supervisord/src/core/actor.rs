//! One tokio task per runnable unit: owns the unit's provider (its process
//! tree), its restart history, readiness state, timers and the run's
//! watchers (probes, log follower), and reports every change to the
//! manager as a [`Report`]. Commands arrive in order on its mailbox, so
//! operations on one unit are serialized: two concurrent restarts can
//! never produce two instances. The watchers themselves live in
//! `runwatch.rs`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tracing::{error, info, warn};

use devctl_units::api::{EventKind, ExitInfo, Origin};
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{ProbeCheck, Unit, UnitKind};

use crate::core::env::{EnvContext, build_env, notify_path, probe_env};
use crate::core::notes::{Inbox, Mail, Note, NoteTx};
use crate::core::policy_ready::{ReadyAction, ReadyEvent, ReadyPhase, ReadyState, step};
use crate::core::policy_restart::{Decision, ExitCause, RestartHistory, exit_result, on_exit};
use crate::core::protocol::{ActorMsg, Replace, Report, ReportTx};
use crate::core::provider::{Fact, Ownership, Provider, RunCtx, StartFailure};
use crate::core::reexec::ReexecMsg;
use crate::core::runwatch::{ProbeKind, RunWatch, Seen};
use crate::core::snapshot::Snapshot;
use crate::logs::{LogStore, UnitLog};
use crate::probe::{ListenWatcher, ProbeCtx};
use crate::process::{self, Reaper};

mod ending;
mod reexec;
mod spawn;

pub use spawn::Spawn;

/// Wall-clock milliseconds (for display only; timers use `Instant`).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How the status message of a ready unit whose readiness fails begins.
const NOT_READY: &str = "readiness probe failing: ";

/// Shared, read-only inputs of every actor.
#[derive(Debug, Clone)]
pub struct ActorEnv {
    pub env: Arc<EnvContext>,
    pub reaper: Arc<Reaper>,
    pub notify_dir: std::path::PathBuf,
    /// Parent of per-run cgroups, when delegated.
    pub cgroup: Option<crate::process::CgroupParent>,
    /// Every unit's log.
    pub logs: Arc<LogStore>,
    /// The daemon's one listen watcher (prompt TCP/HTTP readiness).
    pub listen: ListenWatcher,
}

/// Timers of the current run; all `None` when idle. Probe periods are
/// kept by the run's watchers.
#[derive(Debug, Default)]
struct Timers {
    backoff: Option<Instant>,
    start: Option<Instant>,
    run: Option<Instant>,
    idle: Option<Instant>,
}

impl Timers {
    fn next(&self) -> Option<Instant> {
        [self.backoff, self.start, self.run, self.idle]
            .into_iter()
            .flatten()
            .min()
    }
}

/// The actor state.
pub struct Actor<P: Provider> {
    unit: Arc<Unit>,
    provider: P,
    log: UnitLog,
    env: ActorEnv,
    reports: ReportTx,
    /// Where the provider's facts and the watchers' sightings about the
    /// run go: this actor's own mailbox, weakly held.
    notes_tx: mpsc::WeakUnboundedSender<Box<Mail>>,
    /// The current run's probes and log followers.
    watch: Option<RunWatch>,
    /// Why the last probe check failed (for messages).
    probe_failure: Option<String>,
    run: u64,
    running: bool,
    snap: Snapshot,
    hist: RestartHistory,
    ready: ReadyState,
    timers: Timers,
    rerun_queued: bool,
    /// Why the queued re-run happens.
    queued_trigger: Option<String>,
    events: Vec<EventKind>,
}

impl<P: Provider> Actor<P> {
    fn new(
        unit: Arc<Unit>,
        provider: P,
        log: UnitLog,
        env: ActorEnv,
        reports: ReportTx,
        snap: Snapshot,
        notes_tx: mpsc::WeakUnboundedSender<Box<Mail>>,
    ) -> Self {
        let ready = ReadyState::new(unit.ready.as_ref(), unit.alive.as_ref());
        Actor {
            unit,
            provider,
            log,
            env,
            reports,
            notes_tx,
            watch: None,
            probe_failure: None,
            run: 0,
            running: false,
            snap,
            hist: RestartHistory::default(),
            ready,
            timers: Timers::default(),
            rerun_queued: false,
            queued_trigger: None,
            events: Vec::new(),
        }
    }

    fn report(&mut self) {
        let r = Report {
            project: self.unit.project.clone(),
            unit: self.unit.name.clone(),
            snap: self.snap.clone(),
            events: std::mem::take(&mut self.events),
            at: std::time::Instant::now(),
        };
        let _ = self.reports.send(Box::new(r));
    }

    fn set(&mut self, active: ActiveState, sub: SubState) {
        if self.snap.active != active {
            self.snap.since_ms = Some(now_ms());
        }
        self.snap.active = active;
        self.snap.sub = sub;
    }

    /// The mailbox loop. Handlers are boxed: the task then holds only the
    /// actor and its waits while idle (most units, most of the time), not
    /// the largest handler's state. The actor itself is boxed too: an
    /// `async fn` keeps its arguments twice (as passed, and as the locals
    /// that live across awaits), so a by-value actor would be held twice.
    async fn run_loop(mut self: Box<Self>, mut inbox: Inbox) {
        loop {
            let next = self.timers.next();
            tokio::select! {
                mail = inbox.recv() => match mail {
                    None => {
                        self.provider.forget();
                        return;
                    }
                    Some(Mail::Reexec(ReexecMsg::Freeze { reply })) => {
                        let _ = reply.send(Box::pin(self.freeze()).await);
                        return;
                    }
                    Some(Mail::Reexec(ReexecMsg::Resume { seq, resume })) => {
                        Box::pin(self.resume(seq, *resume)).await;
                        self.report();
                    }
                    Some(Mail::Msg(ActorMsg::Exit { stop, reply })) => {
                        if stop && (self.running || self.snap.is_up()) {
                            Box::pin(self.stop_now(UnitResult::Success, None, false)).await;
                            self.report();
                        } else {
                            self.provider.forget();
                        }
                        let _ = reply.send(());
                        return;
                    }
                    Some(Mail::Msg(m)) => Box::pin(self.handle(m)).await,
                    Some(Mail::Note(run, note)) => {
                        if run == self.run && self.running {
                            match note {
                                Note::Fact(fact) => Box::pin(self.on_fact(fact)).await,
                                Note::Seen(seen) => Box::pin(self.on_seen(seen)).await,
                            }
                        }
                    }
                },
                _ = sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => Box::pin(self.on_timer()).await,
            }
        }
    }

    async fn handle(&mut self, msg: ActorMsg) {
        match msg {
            ActorMsg::Start {
                seq,
                origin,
                trigger,
                reset,
            } => {
                if !(self.running || self.snap.sub == SubState::Backoff)
                    || self.snap.sub == SubState::WaitingDeps
                {
                    if reset {
                        self.hist.reset();
                        self.snap.restarts = 0;
                    }
                    self.snap.origin = Some(origin);
                    self.snap.trigger = Some(trigger);
                    self.snap.ack = seq;
                    self.spawn_run().await;
                } else {
                    self.snap.ack = seq;
                }
            }
            ActorMsg::UpToDate {
                seq,
                origin,
                trigger,
                message,
            } => {
                if !self.running {
                    self.timers = Timers::default();
                    self.log.marker(&message);
                    self.set(ActiveState::Active, SubState::Exited);
                    (self.snap.result, self.snap.message) =
                        (Some(UnitResult::Success), Some(message));
                    (self.snap.origin, self.snap.trigger) = (Some(origin), Some(trigger));
                }
                self.snap.ack = seq;
            }
            ActorMsg::WaitDeps { seq, waiting } => {
                if !self.running {
                    self.timers = Timers::default();
                    self.set(ActiveState::Activating, SubState::WaitingDeps);
                    let names: Vec<String> = waiting.iter().map(|u| u.to_string()).collect();
                    self.snap.message = Some(format!("waiting for {}", names.join(", ")));
                    self.snap.result = None;
                }
                self.snap.ack = seq;
            }
            ActorMsg::FailDeps { seq, message } => {
                if !self.running {
                    self.timers = Timers::default();
                    self.log.marker(format!("dependency failed: {message}"));
                    self.set(ActiveState::Failed, SubState::Failed);
                    self.snap.result = Some(UnitResult::Dependency);
                    self.snap.message = Some(message);
                }
                self.snap.ack = seq;
            }
            ActorMsg::Stop {
                seq,
                result,
                message,
                failed,
            } => {
                self.snap.ack = seq;
                if self.running || self.snap.is_up() {
                    self.stop_now(result, message, failed).await;
                }
            }
            ActorMsg::Restart { seq, trigger, how } => {
                self.snap.ack = seq;
                self.restart(trigger, how).await;
            }
            ActorMsg::Trigger { seq, reason } => {
                self.snap.ack = seq;
                self.events.push(EventKind::Triggered {
                    reason: reason.clone(),
                });
                if self.unit.kind == UnitKind::Build && self.running {
                    if !self.rerun_queued {
                        self.rerun_queued = true;
                        self.log.marker(format!("re-run queued ({reason})"));
                    }
                    self.queued_trigger = Some(reason);
                } else {
                    // A trigger means changed inputs: an update.
                    self.restart(reason, Replace::Update).await;
                }
            }
            ActorMsg::Note {
                seq,
                message,
                drop_queued,
            } => {
                self.snap.ack = seq;
                if drop_queued && self.rerun_queued {
                    self.rerun_queued = false;
                    self.queued_trigger = None;
                    self.log.marker("queued re-run dropped");
                }
                self.log.marker(&message);
                self.snap.message = Some(message);
            }
            ActorMsg::Update { seq, unit } => {
                self.snap.ack = seq;
                self.unit = self.provider.view(Arc::new(*unit));
            }
            ActorMsg::Exit { .. } => error!("Exit is handled by the loop"),
        }
        self.report();
    }

    async fn spawn_run(&mut self) {
        let unit = self.unit.clone();
        self.timers = Timers::default();
        self.snap.message = None;
        self.snap.next_restart_ms = None;
        self.snap.notify_status = None;
        // An adopted instance is gone once a new run begins (a restart
        // after it exited): the new one was started by this daemon.
        if self.snap.origin == Some(Origin::Adopted) {
            self.snap.origin = Some(Origin::Restarted);
        }
        // A provider whose ports are held outside the daemon checks them
        // itself when it creates a new instance (an adopted one's are
        // held while it runs).
        let marked = self.provider.ownership() == Ownership::Marked;
        for port in unit.ports.iter().filter(|_| marked) {
            if process::port_in_use(*port) {
                let msg = match process::port_holder(*port) {
                    Some(h) => format!("port {port} in use by pid {} ({})", h.pid, h.cmdline),
                    None => format!("port {port} in use"),
                };
                self.log.marker(&msg);
                return self
                    .decide(ExitCause::Permanent(UnitResult::PortInUse), Some(msg))
                    .await;
            }
        }
        self.run += 1;
        let invocation = process::invocation_id();
        let notify = unit
            .ready
            .as_ref()
            .filter(|p| p.check == ProbeCheck::Notify)
            .map(|_| {
                notify_path(&self.env.notify_dir, &invocation)
                    .to_string_lossy()
                    .into_owned()
            });
        let env = match build_env(&self.env.env, &unit, &invocation, notify.as_deref()) {
            Ok(e) => e,
            Err(e) => {
                let msg = e.to_string();
                self.log.marker(&msg);
                return self
                    .decide(ExitCause::Permanent(UnitResult::ExecFailed), Some(msg))
                    .await;
            }
        };
        self.hist.on_start(Instant::now());
        self.ready = ReadyState::new(unit.ready.as_ref(), unit.alive.as_ref());
        self.probe_failure = None;
        let building = unit.kind == UnitKind::Build;
        self.set(
            ActiveState::Activating,
            if building {
                SubState::Building
            } else {
                SubState::Starting
            },
        );
        self.snap.result = None;
        self.snap.ready = unit.ready.as_ref().map(|_| false);
        self.snap.invocation = Some(invocation.clone());
        self.report();
        // Log followers subscribe before the run's processes can write.
        let mut watch =
            RunWatch::before_spawn(&unit, &self.log, self.run, NoteTx::weak(&self.notes_tx));
        let probe_ctx = ProbeCtx {
            reaper: self.env.reaper.clone(),
            dir: unit.working_dir().to_path_buf(),
            env: probe_env(&unit, &env),
            // Externally held ports never belong to a marked process.
            unit_marker: marked.then(|| invocation.clone()),
        };
        let ctx = RunCtx {
            unit: unit.clone(),
            run: self.run,
            invocation,
            env,
            log: self.log.clone(),
            facts: NoteTx::weak(&self.notes_tx),
        };
        match self.provider.start(ctx).await {
            Ok(pid) => {
                self.running = true;
                self.snap.main_pid = Some(pid);
                self.log.marker(format!("spawned pid {pid}"));
                info!(project = %unit.project, unit = %unit.name, pid, "spawned");
                self.events.push(EventKind::Spawned { pid });
                let now = Instant::now();
                if building {
                    self.timers.run = unit.run_timeout.map(|d| now + d);
                    self.timers.idle = unit.idle_timeout.map(|d| now + d);
                } else if unit.ready.is_some() {
                    self.timers.start = Some(now + crate::probe::start_timeout(unit.start_timeout));
                } else {
                    self.set(ActiveState::Active, SubState::Running);
                }
                watch.start_probes(&unit, probe_ctx, &self.env.listen);
                self.watch = Some(watch);
            }
            Err(StartFailure::Permanent { result, message }) => {
                self.log.marker(&message);
                warn!(project = %unit.project, unit = %unit.name, "{message}");
                self.snap.invocation = None;
                self.decide(ExitCause::Permanent(result), Some(message))
                    .await;
            }
            Err(StartFailure::Transient { result, message }) => {
                self.log.marker(&message);
                self.snap.invocation = None;
                self.decide(ExitCause::Failure(result), Some(message)).await;
            }
        }
    }

    /// Apply the restart policy after a run ended (or failed to start).
    async fn decide(&mut self, cause: ExitCause, message: Option<String>) {
        self.running = false;
        self.timers = Timers::default();
        self.watch = None;
        self.snap.main_pid = None;
        self.snap.ready = self.unit.ready.as_ref().map(|_| false);
        let decision = on_exit(&self.unit.restart, &mut self.hist, cause, Instant::now());
        let limit = self.unit.restart.limit;
        match decision {
            Decision::Restart { delay, attempt } => {
                self.snap.restarts += 1;
                self.set(ActiveState::Activating, SubState::Backoff);
                self.snap.result = match cause {
                    ExitCause::Failure(r) | ExitCause::Permanent(r) => Some(r),
                    _ => Some(UnitResult::Success),
                };
                self.snap.next_restart_ms = Some(now_ms() + delay.as_millis() as u64);
                self.snap.message = Some(format!(
                    "{}restarting in {} (attempt {attempt}/{limit})",
                    message.map(|m| format!("{m}; ")).unwrap_or_default(),
                    humantime::format_duration(delay)
                ));
                self.log.marker(format!(
                    "restarting in {} (attempt {attempt}/{limit})",
                    humantime::format_duration(delay)
                ));
                self.events.push(EventKind::RestartScheduled {
                    attempt,
                    delay_ms: delay.as_millis() as u64,
                });
                self.timers.backoff = Some(Instant::now() + delay);
            }
            Decision::Inactive(r) => {
                self.snap.invocation = None;
                self.set(ActiveState::Inactive, SubState::Dead);
                self.snap.result = Some(r);
                self.snap.message = message;
            }
            Decision::Failed(r) => {
                self.snap.invocation = None;
                self.set(ActiveState::Failed, SubState::Failed);
                self.snap.result = Some(r);
                let msg = if r == UnitResult::StartLimitHit {
                    let m = format!(
                        "start limit hit: {limit} starts within {}",
                        humantime::format_duration(self.unit.restart.within)
                    );
                    self.log.marker(&m);
                    Some(m)
                } else {
                    message
                };
                self.snap.message = msg;
            }
        }
        if self.rerun_queued && self.unit.kind == UnitKind::Build {
            self.rerun_queued = false;
            self.timers.backoff = Some(Instant::now());
        }
    }

    async fn on_fact(&mut self, fact: Fact) {
        match fact {
            Fact::Ready => {
                if matches!(
                    self.unit.ready.as_ref().map(|p| &p.check),
                    Some(ProbeCheck::Notify)
                ) {
                    self.ready_event(ReadyEvent::NotifyReady).await;
                }
            }
            Fact::Status(s) => {
                self.snap.notify_status = Some(s);
                self.report();
            }
            Fact::MainPid(pid) => {
                self.snap.main_pid = Some(pid);
                self.report();
            }
            Fact::Exited(status) => self.on_exit(status).await,
            Fact::Adopted => {
                self.snap.origin = Some(Origin::Adopted);
                self.report();
            }
        }
    }

    async fn on_exit(&mut self, status: Option<process::ExitStatus>) {
        let at_ms = now_ms();
        let (code, signal) = match status {
            Some(process::ExitStatus::Exited(c)) => (Some(c), None),
            Some(process::ExitStatus::Signaled { signal, .. }) => (None, Some(signal)),
            None => (None, None),
        };
        self.snap.last_exit = Some(ExitInfo {
            code,
            signal,
            at_ms,
        });
        self.events.push(EventKind::Exited { code, signal });
        self.watch = None;
        self.log.marker(&match status {
            Some(st) => st.to_string(),
            None => "main process exited".into(),
        });
        // Whatever the main process left behind goes before any restart.
        let _ = self.provider.stop(&self.unit.stop).await;
        self.running = false;
        self.run += 1;
        let clean = status.is_some_and(|s| s.success());
        if self.unit.kind == UnitKind::Build {
            self.timers = Timers::default();
            if clean {
                self.log.marker("build succeeded");
                self.snap.main_pid = None;
                self.set(ActiveState::Active, SubState::Exited);
                self.snap.result = Some(UnitResult::Success);
                self.snap.message = None;
                self.snap.invocation = None;
                if self.rerun_queued {
                    self.rerun_queued = false;
                    self.timers.backoff = Some(Instant::now());
                }
            } else {
                let msg = format!(
                    "build failed ({})",
                    status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "unknown exit".into())
                );
                self.log.marker(&msg);
                self.decide(
                    ExitCause::Failure(status.map(exit_result).unwrap_or(UnitResult::ExitCode)),
                    Some(msg),
                )
                .await;
            }
        } else {
            let cause = match status {
                Some(s) if s.success() => ExitCause::Clean,
                Some(s) => ExitCause::Failure(exit_result(s)),
                None => ExitCause::Failure(UnitResult::ExitCode),
            };
            self.decide(cause, None).await;
        }
        self.report();
    }

    async fn ready_event(&mut self, ev: ReadyEvent) {
        let unit = self.unit.clone();
        let action = match step(&mut self.ready, ev) {
            Ok(a) => a,
            Err(e) => {
                error!(unit = %unit.name, "{e}");
                return;
            }
        };
        match action {
            None => {}
            Some(ReadyAction::BecameReady) => {
                self.timers.start = None;
                if let Some(w) = &self.watch {
                    w.settled();
                }
                self.log.marker("ready");
                self.set(ActiveState::Active, SubState::Ready);
                self.snap.ready = Some(true);
                if self
                    .snap
                    .message
                    .as_deref()
                    .is_some_and(|m| m.starts_with(NOT_READY))
                {
                    self.snap.message = None;
                }
                self.report();
            }
            Some(ReadyAction::BecameNotReady) => {
                let why = self.probe_failure.clone().unwrap_or_default();
                self.log.marker(format!("not ready: {why}"));
                self.set(ActiveState::Active, SubState::NotReady);
                self.snap.ready = Some(false);
                self.snap.message = Some(format!("{NOT_READY}{why}"));
                self.report();
            }
            Some(ReadyAction::Restart(result)) | Some(ReadyAction::FailStart(result)) => {
                // The default deadline is systemd's start timeout: `timeout`.
                let result = match (result, unit.start_timeout) {
                    (UnitResult::ProbeTimeout, None) => UnitResult::Timeout,
                    (r, _) => r,
                };
                let msg = if result == UnitResult::ProbeTimeout {
                    format!(
                        "not ready after {}",
                        humantime::format_duration(unit.start_timeout.unwrap_or_default())
                    )
                } else if result == UnitResult::Timeout {
                    format!(
                        "not ready after {} (the default start timeout; set start-timeout to change it)",
                        humantime::format_duration(crate::probe::default_start_timeout())
                    )
                } else {
                    match &self.probe_failure {
                        Some(why) => format!("liveness probe failed: {why}"),
                        None => "liveness probe failed".to_string(),
                    }
                };
                self.log.marker(format!("{msg}; stopping"));
                self.halt_run().await;
                self.decide(ExitCause::Failure(result), Some(msg)).await;
                self.report();
            }
        }
    }

    async fn on_seen(&mut self, seen: Seen) {
        match seen {
            Seen::Probe(kind, outcome) => {
                let ok = outcome.is_success();
                if let crate::probe::ProbeOutcome::Failure(why) = outcome {
                    self.probe_failure = Some(why);
                } else if !ok {
                    self.probe_failure = Some("timed out".into());
                }
                let ev = match kind {
                    ProbeKind::Ready => ReadyEvent::Readiness(ok),
                    ProbeKind::Alive => ReadyEvent::Liveness(ok),
                };
                self.ready_event(ev).await;
            }
            Seen::LogMatched(line) => {
                if self.ready.phase == ReadyPhase::Starting {
                    self.log.marker(format!("readiness line matched: {line}"));
                    self.ready_event(ReadyEvent::NotifyReady).await;
                }
            }
            Seen::Output => {
                if let Some(d) = self.unit.idle_timeout
                    && self.timers.idle.is_some()
                {
                    self.timers.idle = Some(Instant::now() + d);
                }
            }
        }
    }

    async fn on_timer(&mut self) {
        let now = Instant::now();
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if due(self.timers.backoff) {
            self.timers.backoff = None;
            if let Some(t) = self.queued_trigger.take() {
                self.snap.trigger = Some(t);
            }
            self.log.marker("restarting");
            self.spawn_run().await;
            self.report();
            return;
        }
        if due(self.timers.start) {
            self.timers.start = None;
            self.ready_event(ReadyEvent::StartDeadline).await;
            return;
        }
        if due(self.timers.run) || due(self.timers.idle) {
            let msg = if due(self.timers.run) {
                format!(
                    "build timed out after {}",
                    humantime::format_duration(self.unit.run_timeout.unwrap_or_default())
                )
            } else {
                format!(
                    "build produced no output for {}",
                    humantime::format_duration(self.unit.idle_timeout.unwrap_or_default())
                )
            };
            self.log.marker(&msg);
            self.halt_run().await;
            self.decide(ExitCause::Failure(UnitResult::Timeout), Some(msg))
                .await;
            self.report();
        }
    }
}
