//! The core's public face: [`Supervisor`], a cloneable handle that sends
//! messages to the manager task and awaits its replies. The API server,
//! D-Bus adapter and tests only ever talk to the core through this type.
//!
//! Long operations (`block`, `wait`) never block the manager: the manager
//! parks a oneshot reply channel and answers it when the condition is met
//! or the timeout passes.

use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot};

use devctl_units::api::{
    ApiError, EnableRequest, EnableResponse, ErrorKind, Event, JobRequest, JobResponse,
    LoadRequest, LoadResponse, ProjectInfo, UnitStatus, WaitRequest, WaitResponse,
};
use devctl_units::{ProjectName, UnitName};

use crate::core::logview;
use crate::core::manager::{self, Command, DETAIL_TAIL};

pub use crate::core::logview::LogStreamOut;
pub use crate::core::options::{CoreError, CoreInfo, CoreOptions};

/// Cloneable handle to the running core.
#[derive(Clone)]
pub struct Supervisor {
    tx: mpsc::Sender<Command>,
    events: broadcast::Sender<Event>,
    info: Arc<CoreInfo>,
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
        let (tx, info) = manager::spawn(opts, events.clone()).await?;
        Ok(Supervisor {
            tx,
            events,
            info: Arc::new(info),
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

    /// Replace a project's unit set (transactional).
    pub async fn load_project(
        &self,
        project: ProjectName,
        req: LoadRequest,
    ) -> Result<LoadResponse, ApiError> {
        self.ask(|reply| Command::Load {
            project,
            req,
            reply,
        })
        .await
        .unwrap_or_else(|| Err(gone()))
    }

    /// Stop a project's units and drop all its state.
    pub async fn forget_project(&self, project: ProjectName) -> Result<JobResponse, ApiError> {
        self.ask(|reply| Command::Forget { project, reply })
            .await
            .unwrap_or_else(|| Err(gone()))
    }

    /// Every known project.
    pub async fn projects(&self) -> Vec<ProjectInfo> {
        self.ask(|reply| Command::Projects { reply })
            .await
            .unwrap_or_default()
    }

    /// Run a start/stop/restart/trigger/up/down job.
    pub async fn job(
        &self,
        project: ProjectName,
        req: JobRequest,
    ) -> Result<JobResponse, ApiError> {
        self.ask(|reply| Command::Job {
            project,
            req,
            reply,
        })
        .await
        .unwrap_or_else(|| Err(gone()))
    }

    /// Enable/disable units (persisted), or flip the project's boot flag.
    pub async fn enablement(
        &self,
        project: ProjectName,
        req: EnableRequest,
    ) -> Result<EnableResponse, ApiError> {
        self.ask(|reply| Command::Enable {
            project,
            req,
            reply,
        })
        .await
        .unwrap_or_else(|| Err(gone()))
    }

    /// Wait until units meet a condition, or the timeout passes.
    pub async fn wait(
        &self,
        project: ProjectName,
        req: WaitRequest,
    ) -> Result<WaitResponse, ApiError> {
        self.ask(|reply| Command::Wait {
            project,
            req,
            reply,
        })
        .await
        .unwrap_or_else(|| Err(gone()))
    }

    /// Status of every unit of one project, or of all projects.
    pub async fn units(&self, project: Option<ProjectName>) -> Result<Vec<UnitStatus>, ApiError> {
        self.ask(|reply| Command::Units { project, reply })
            .await
            .unwrap_or_else(|| Err(gone()))
    }

    /// Detailed status of one unit, with its last log lines.
    pub async fn unit(&self, project: ProjectName, unit: UnitName) -> Result<UnitStatus, ApiError> {
        let (mut st, sel) = self
            .ask(|reply| Command::Unit {
                project,
                unit,
                reply,
            })
            .await
            .unwrap_or_else(|| Err(gone()))?;
        if let Some(sel) = sel {
            // From disk when this daemon has fewer lines (after a restart).
            st.log_tail = logview::recent(&sel, DETAIL_TAIL).await;
        }
        Ok(st)
    }

    /// The unit file text as loaded.
    pub async fn unit_file(
        &self,
        project: ProjectName,
        unit: UnitName,
    ) -> Result<String, ApiError> {
        self.ask(|reply| Command::UnitFile {
            project,
            unit,
            reply,
        })
        .await
        .unwrap_or_else(|| Err(gone()))
    }

    /// Every later event (bounded; a slow receiver lags and loses events).
    pub fn subscribe_events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Log history of some units (all of the project's when `units` is
    /// empty), merged by time; with `follow`, a live receiver too.
    pub async fn logs(
        &self,
        project: ProjectName,
        units: Vec<UnitName>,
        n: Option<usize>,
        since_ms: Option<u64>,
        follow: bool,
    ) -> Result<LogStreamOut, ApiError> {
        let sel = self
            .ask(|reply| Command::Logs {
                project,
                units,
                reply,
            })
            .await
            .unwrap_or_else(|| Err(gone()))?;
        Ok(logview::query(sel, n, since_ms, follow).await)
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
