//! The core's public face: [`CoreApi`], the one list of operations the
//! daemon's adapters (HTTP routes, D-Bus) call, and [`Supervisor`], the
//! cloneable handle that implements it by sending messages to the manager
//! task and awaiting its replies. API tests implement [`CoreApi`] with a fake.
//!
//! Long operations (`block`, `wait`) never block the manager: the manager
//! parks a oneshot reply channel and answers it when the condition is met
//! or the timeout passes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::{Stream, StreamExt};
use tokio::sync::{broadcast, mpsc, oneshot};

use devctl_units::api::{
    ApiError, EnableRequest, EnableResponse, ErrorKind, Event, JobRequest, JobResponse,
    LoadRequest, LoadResponse, LogRecord, ProjectInfo, UnitStatus, WaitRequest, WaitResponse,
};
use devctl_units::{ProjectName, UnitName};

use devctl_units::api::LogStream;
use devctl_units::api::runs::{
    LiveUsage, LogNotice, RunId, RunLogRange, RunPage, RunQuery, RunRecord,
};

use crate::core::logview;
use crate::core::manager::{self, Command, CoreShared, DETAIL_TAIL};
use crate::runs::{RECENT_RUNS, usual_duration};

pub use crate::core::logview::LogStreamOut;
pub use crate::core::options::{CoreError, CoreInfo, CoreOptions};

/// `GET /v1/logs` parameters, validated.
#[derive(Debug, Clone)]
pub struct LogQuery {
    pub project: ProjectName,
    /// Empty: every unit of the project.
    pub units: Vec<UnitName>,
    /// Last `n` lines of history.
    pub n: Option<usize>,
    /// Only lines at or after this time (Unix milliseconds).
    pub since_ms: Option<u64>,
    /// Keep the stream open and send new lines as they are written.
    pub follow: bool,
    /// Only this run's lines (its unit's, within its time range).
    pub run: Option<RunId>,
    /// Only lines matching this pattern (history and live lines alike).
    pub grep: Option<regex::Regex>,
    /// Only lines of this stream.
    pub stream: Option<LogStream>,
}

/// One item of a live log feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogItem {
    Line(LogRecord),
    /// Lines the reader will not get, said where they were
    /// ([`LogNotice::Missed`]); the feed goes on.
    Notice(LogNotice),
}

/// What a log query yields: a notice about the lines (a run's earliest
/// ones rotated away), history, then (when following) live lines.
pub struct LogFeed {
    pub notice: Option<LogNotice>,
    pub history: Vec<LogRecord>,
    pub live: Option<Pin<Box<dyn Stream<Item = LogItem> + Send>>>,
}

/// Every operation the core offers: the HTTP routes and the D-Bus
/// interface call these and nothing else. Each method is one API route.
pub trait CoreApi: Clone + Send + Sync + 'static {
    /// `GET /v1/projects`: every known project.
    fn projects(&self) -> impl Future<Output = Vec<ProjectInfo>> + Send;
    /// `POST /v1/projects/{project}/load`: replace a project's unit set
    /// (transactional).
    fn load_project(
        &self,
        project: ProjectName,
        req: LoadRequest,
    ) -> impl Future<Output = Result<LoadResponse, ApiError>> + Send;
    /// `DELETE /v1/projects/{project}`: stop a project's units and drop all
    /// its state.
    fn forget_project(
        &self,
        project: ProjectName,
    ) -> impl Future<Output = Result<JobResponse, ApiError>> + Send;
    /// `POST /v1/projects/{project}/jobs`: a start/stop/restart/trigger/up/down job.
    fn job(
        &self,
        project: ProjectName,
        req: JobRequest,
    ) -> impl Future<Output = Result<JobResponse, ApiError>> + Send;
    /// `POST /v1/projects/{project}/enablement`: enable/disable units
    /// (persisted), or flip the project's boot flag.
    fn enablement(
        &self,
        project: ProjectName,
        req: EnableRequest,
    ) -> impl Future<Output = Result<EnableResponse, ApiError>> + Send;
    /// `POST /v1/projects/{project}/wait`: wait until units meet a
    /// condition, or the timeout passes.
    fn wait(
        &self,
        project: ProjectName,
        req: WaitRequest,
    ) -> impl Future<Output = Result<WaitResponse, ApiError>> + Send;
    /// `GET /v1/units`: status of every unit of one project, or of all.
    fn units(
        &self,
        project: Option<ProjectName>,
    ) -> impl Future<Output = Result<Vec<UnitStatus>, ApiError>> + Send;
    /// `GET /v1/projects/{project}/units/{unit}`: detailed status of one
    /// unit, with its last log lines.
    fn unit(
        &self,
        project: ProjectName,
        unit: UnitName,
    ) -> impl Future<Output = Result<UnitStatus, ApiError>> + Send;
    /// `GET /v1/projects/{project}/units/{unit}/file`: the unit file text as loaded.
    fn unit_file(
        &self,
        project: ProjectName,
        unit: UnitName,
    ) -> impl Future<Output = Result<String, ApiError>> + Send;
    /// `GET /v1/events`: every later event (bounded; a slow receiver lags
    /// and loses events).
    fn subscribe_events(&self) -> broadcast::Receiver<Event>;
    /// `GET /v1/logs`: log history of some units (all of the project's when
    /// `units` is empty), merged by time; with `follow`, live lines too.
    fn logs(&self, query: LogQuery) -> impl Future<Output = Result<LogFeed, ApiError>> + Send;
    /// `GET /v1/runs`: run history, newest first, one page.
    fn runs(&self, query: RunQuery) -> impl Future<Output = Result<RunPage, ApiError>> + Send;
    /// `GET /v1/runs/{run}`: one run.
    fn run(&self, id: RunId) -> impl Future<Output = Result<RunRecord, ApiError>> + Send;
    /// The dashboard's usage columns (no route of its own): CPU and memory
    /// of `units`' running process trees, sampled now; a unit that runs
    /// no process of the daemon's own (stopped, or run by an engine)
    /// is left out.
    fn sample_usage(
        &self,
        units: Vec<(ProjectName, UnitName)>,
    ) -> impl Future<Output = Vec<((ProjectName, UnitName), LiveUsage)>> + Send;
}

/// Cloneable handle to the running core.
#[derive(Clone)]
pub struct Supervisor {
    tx: mpsc::Sender<Command>,
    events: broadcast::Sender<Event>,
    info: Arc<CoreInfo>,
    shared: CoreShared,
}

fn gone() -> ApiError {
    ApiError {
        kind: ErrorKind::Internal,
        message: "the supervisor is shutting down".into(),
        help: None,
    }
}

impl Supervisor {
    /// Loads persisted projects, recovers a crashed session or starts a new
    /// one (bringing up boot-enabled projects).
    pub async fn start(opts: CoreOptions) -> Result<Supervisor, CoreError> {
        let (events, _) = broadcast::channel(opts.event_capacity.max(16));
        let (tx, info, shared) = manager::spawn(opts, events.clone()).await?;
        Ok(Supervisor {
            tx,
            events,
            info: Arc::new(info),
            shared,
        })
    }

    /// Session facts.
    pub fn info(&self) -> CoreInfo {
        (*self.info).clone()
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.ok()?;
        rx.await.ok()
    }

    /// [`Self::ask`] for a command answered with a result: a manager that
    /// is gone answers "shutting down".
    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, ApiError>>) -> Command,
    ) -> Result<T, ApiError> {
        self.ask(make).await.unwrap_or_else(|| Err(gone()))
    }

    /// Stop the core without stopping any unit and keep the session file,
    /// as a crash would (tests of crash recovery; never used by the daemon).
    pub async fn abandon(&self) {
        let _ = self.ask(|reply| Command::Abandon { reply }).await;
    }

    /// Re-exec: freeze every unit (processes untouched) and stop the core;
    /// `None` when it was already stopping.
    pub async fn freeze(&self) -> Option<crate::core::reexec::Frozen> {
        self.ask(|reply| Command::Freeze { reply }).await
    }

    /// Clean stop: every unit stopped in reverse dependency order, the
    /// session file removed. Returns when done; later calls return at once.
    pub async fn shutdown(&self) {
        let _ = self.ask(|reply| Command::Shutdown { reply }).await;
    }
}

/// How many of a unit's last runs its detail shows.
const RECENT_SHOWN: usize = 5;

/// What a log query keeps of each line.
struct LineFilter {
    range: Option<RunLogRange>,
    grep: Option<regex::Regex>,
    stream: Option<LogStream>,
}

impl LineFilter {
    fn keeps(&self, r: &LogRecord) -> bool {
        self.range.is_none_or(|range| range.contains(r.time_us))
            && self.stream.is_none_or(|s| s == r.stream)
            && self.grep.as_ref().is_none_or(|g| g.is_match(&r.text))
    }
}

fn history_err(e: crate::runs::RunStoreError) -> ApiError {
    ApiError {
        kind: ErrorKind::Storage,
        message: format!("run history unreadable: {e}"),
        help: Some("the daemon sets a damaged history aside on its next write; retry".into()),
    }
}

impl Supervisor {
    /// The run history, or why there is none.
    fn history(&self) -> Result<Arc<crate::runs::RunStore>, ApiError> {
        self.shared.runs.clone().ok_or_else(|| ApiError {
            kind: ErrorKind::Failed,
            message: "this daemon keeps no run history".into(),
            help: Some(
                "start devctld without DEVCTLD_HISTORY=off (or with a writable state directory)"
                    .into(),
            ),
        })
    }

    /// Sample the running trees (someone is looking) and fill each
    /// status's live usage.
    async fn sample_usage(&self, statuses: &mut [UnitStatus]) {
        if !statuses.iter().any(|s| s.main_pid.is_some()) {
            return;
        }
        let usage = self.shared.usage.clone();
        let sampled = usage.clone();
        let _ = tokio::task::spawn_blocking(move || sampled.sample_live()).await;
        for st in statuses.iter_mut() {
            st.usage = usage.live(&st.project, &st.name);
        }
    }
}

impl CoreApi for Supervisor {
    async fn projects(&self) -> Vec<ProjectInfo> {
        self.ask(|reply| Command::Projects { reply })
            .await
            .unwrap_or_default()
    }

    async fn load_project(
        &self,
        project: ProjectName,
        req: LoadRequest,
    ) -> Result<LoadResponse, ApiError> {
        self.call(|reply| Command::Load {
            project,
            req,
            reply,
        })
        .await
    }

    async fn forget_project(&self, project: ProjectName) -> Result<JobResponse, ApiError> {
        self.call(|reply| Command::Forget { project, reply }).await
    }

    async fn job(&self, project: ProjectName, req: JobRequest) -> Result<JobResponse, ApiError> {
        self.call(|reply| Command::Job {
            project,
            req,
            reply,
        })
        .await
    }

    async fn enablement(
        &self,
        project: ProjectName,
        req: EnableRequest,
    ) -> Result<EnableResponse, ApiError> {
        self.call(|reply| Command::Enable {
            project,
            req,
            reply,
        })
        .await
    }

    async fn wait(&self, project: ProjectName, req: WaitRequest) -> Result<WaitResponse, ApiError> {
        self.call(|reply| Command::Wait {
            project,
            req,
            reply,
        })
        .await
    }

    async fn units(&self, project: Option<ProjectName>) -> Result<Vec<UnitStatus>, ApiError> {
        let mut all = self.call(|reply| Command::Units { project, reply }).await?;
        self.sample_usage(&mut all).await;
        Ok(all)
    }

    async fn unit(&self, project: ProjectName, unit: UnitName) -> Result<UnitStatus, ApiError> {
        let (mut st, sel) = self
            .call(|reply| Command::Unit {
                project,
                unit,
                reply,
            })
            .await?;
        if let Some(sel) = sel {
            // From disk when this daemon has fewer lines (after a restart).
            st.log_tail = logview::recent(&sel, DETAIL_TAIL).await;
        }
        self.sample_usage(std::slice::from_mut(&mut st)).await;
        if let Some(store) = self.shared.runs.clone() {
            let q = RunQuery {
                project: Some(st.project.clone()),
                units: vec![st.name.clone()],
                limit: Some(RECENT_RUNS as u32 * 2),
                ..RunQuery::default()
            };
            if let Ok(Ok(page)) = tokio::task::spawn_blocking(move || store.query(&q)).await {
                st.usual_ms = usual_duration(&page.runs).map(|d| d.as_millis() as u64);
                st.recent_runs = page.runs.into_iter().take(RECENT_SHOWN).collect();
            }
        }
        Ok(st)
    }

    async fn unit_file(&self, project: ProjectName, unit: UnitName) -> Result<String, ApiError> {
        self.call(|reply| Command::UnitFile {
            project,
            unit,
            reply,
        })
        .await
    }

    fn subscribe_events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    async fn logs(&self, q: LogQuery) -> Result<LogFeed, ApiError> {
        let run = match &q.run {
            Some(id) => Some(self.run(id.clone()).await?),
            None => None,
        };
        let (units, since_ms) = match &run {
            Some(r) if r.project != q.project => {
                return Err(manager::api_err(
                    ErrorKind::NotFound,
                    format!("run {} is not of project {}", r.id, q.project),
                ));
            }
            Some(r) => (vec![r.unit.clone()], Some(r.log.from_us / 1000)),
            None => (q.units, q.since_ms),
        };
        let sel = self
            .call(|reply| Command::Logs {
                project: q.project,
                units,
                reply,
            })
            .await?;
        let run_log = run
            .as_ref()
            .and_then(|_| sel.first())
            .map(|s| s.log.clone());
        let filter = LineFilter {
            range: run.as_ref().map(|r| r.log),
            grep: q.grep,
            stream: q.stream,
        };
        // A run's range is cut before counting lines: read it whole.
        let n = if run.is_some() { None } else { q.n };
        let until_us = run.as_ref().and_then(|r| r.log.to_us);
        let follow = q.follow && run.as_ref().is_none_or(|r| !r.is_finished());
        let out = logview::query(sel, n, since_ms, until_us, follow).await;
        let run_has_lines = out
            .history
            .iter()
            .any(|l| filter.range.is_some_and(|range| range.contains(l.time_us)));
        let mut history: Vec<LogRecord> = out
            .history
            .into_iter()
            .filter(|l| filter.keeps(l))
            .collect();
        let mut notice = None;
        if let (Some(r), Some(log)) = (&run, &run_log) {
            notice = logview::rotated_away(r, log);
            // A spawned run logged at least its spawn: no line left means
            // they were removed, also by a daemon that kept no watermark.
            if !run_has_lines && (notice.is_some() || r.spawned_ms.is_some()) {
                return Err(ApiError {
                    kind: ErrorKind::NotFound,
                    message: format!(
                        "the log lines of run {} ({}) were rotated away: {} keeps {}",
                        r.id,
                        r.unit,
                        r.unit,
                        log.retention().describe()
                    ),
                    help: Some(logview::KEEP_MORE.into()),
                });
            }
            if let Some(n) = q.n {
                history = history.split_off(history.len().saturating_sub(n));
            }
        }
        let live = out.live.map(|rx| {
            futures_util::stream::unfold((rx, filter), |(mut rx, filter)| async move {
                loop {
                    match rx.recv().await? {
                        logview::Live::Line(r) if filter.keeps(&r) => {
                            return Some((LogItem::Line(r), (rx, filter)));
                        }
                        logview::Live::Line(_) => {}
                        // Said whatever the filter: the lines it counts may
                        // have matched.
                        logview::Live::Notice(n) => {
                            return Some((LogItem::Notice(n), (rx, filter)));
                        }
                    }
                }
            })
            .boxed()
        });
        Ok(LogFeed {
            notice,
            history,
            live,
        })
    }

    async fn runs(&self, q: RunQuery) -> Result<RunPage, ApiError> {
        let store = self.history()?;
        tokio::task::spawn_blocking(move || store.query(&q))
            .await
            .map_err(|e| manager::api_err(ErrorKind::Internal, e.to_string()))?
            .map_err(history_err)
    }

    async fn run(&self, id: RunId) -> Result<RunRecord, ApiError> {
        let store = self.history()?;
        let wanted = id.clone();
        tokio::task::spawn_blocking(move || store.get(&wanted))
            .await
            .map_err(|e| manager::api_err(ErrorKind::Internal, e.to_string()))?
            .map_err(history_err)?
            .ok_or_else(|| ApiError {
                kind: ErrorKind::NotFound,
                message: format!("no run {id}"),
                help: Some("`devctl history` lists the runs kept".into()),
            })
    }

    async fn sample_usage(
        &self,
        units: Vec<(ProjectName, UnitName)>,
    ) -> Vec<((ProjectName, UnitName), LiveUsage)> {
        let usage = self.shared.usage.clone();
        tokio::task::spawn_blocking(move || usage.sample_units(&units))
            .await
            .unwrap_or_default()
    }
}
