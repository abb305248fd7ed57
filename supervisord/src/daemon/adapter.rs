//! The API's [`Backend`] over the core's [`Supervisor`] handle, plus the
//! daemon-level facts the core does not own: the version answer and the
//! clean-stop request shared with the signal handlers.

use devctl_units::api::{
    API_VERSION, ApiError, DaemonInfo, EnableRequest, EnableResponse, ErrorKind, Event, Hosting,
    JobRequest, JobResponse, LoadRequest, LoadResponse, ProjectInfo, UnitStatus, WaitRequest,
    WaitResponse,
};
use devctl_units::name::{ProjectName, UnitName};
use futures_util::StreamExt;
use tokio::sync::{broadcast, watch};

use crate::api::{Backend, LogFeed, LogItem, LogQuery};
use crate::core::handle::Supervisor;

/// Where the daemon is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running,
    /// `POST /v1/daemon/reexec` was accepted: serving stops, units keep running.
    Reexecuting,
    /// A clean stop was requested (signal or API).
    Stopping,
    /// Every unit is stopped; the server may close.
    Stopped,
}

/// The daemon as the API sees it.
#[derive(Clone)]
pub struct DaemonBackend {
    pub sup: Supervisor,
    pub hosting: Hosting,
    pub phase: watch::Sender<Phase>,
    /// The listener can be handed to a new image.
    pub can_reexec: bool,
}

/// Ask for a clean stop (idempotent).
pub fn request_stop(phase: &watch::Sender<Phase>) {
    phase.send_if_modified(|p| {
        let changed = *p == Phase::Running;
        if changed {
            *p = Phase::Stopping;
        }
        changed
    });
}

impl Backend for DaemonBackend {
    fn daemon_info(&self) -> DaemonInfo {
        let info = self.sup.info();
        DaemonInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            api: API_VERSION,
            pid: std::process::id(),
            started_at_ms: info.started_at_ms,
            hosting: self.hosting,
            session_id: info.session_id,
            recovered: info.recovered,
        }
    }
    async fn projects(&self) -> Vec<ProjectInfo> {
        self.sup.projects().await
    }
    async fn load_project(
        &self,
        project: ProjectName,
        req: LoadRequest,
    ) -> Result<LoadResponse, ApiError> {
        self.sup.load_project(project, req).await
    }
    async fn forget_project(&self, project: ProjectName) -> Result<JobResponse, ApiError> {
        self.sup.forget_project(project).await
    }
    async fn job(&self, project: ProjectName, req: JobRequest) -> Result<JobResponse, ApiError> {
        self.sup.job(project, req).await
    }
    async fn enablement(
        &self,
        project: ProjectName,
        req: EnableRequest,
    ) -> Result<EnableResponse, ApiError> {
        self.sup.enablement(project, req).await
    }
    async fn wait(&self, project: ProjectName, req: WaitRequest) -> Result<WaitResponse, ApiError> {
        self.sup.wait(project, req).await
    }
    async fn units(&self, project: Option<ProjectName>) -> Result<Vec<UnitStatus>, ApiError> {
        self.sup.units(project).await
    }
    async fn unit(&self, project: ProjectName, unit: UnitName) -> Result<UnitStatus, ApiError> {
        self.sup.unit(project, unit).await
    }
    async fn unit_file(&self, project: ProjectName, unit: UnitName) -> Result<String, ApiError> {
        self.sup.unit_file(project, unit).await
    }
    fn subscribe_events(&self) -> broadcast::Receiver<Event> {
        self.sup.subscribe_events()
    }
    async fn logs(&self, q: LogQuery) -> Result<LogFeed, ApiError> {
        let out = self
            .sup
            .logs(q.project, q.units, q.n, q.since_ms, q.follow)
            .await?;
        let live = out.live.map(|rx| {
            futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|r| (LogItem::Line(r), rx))
            })
            .boxed()
        });
        Ok(LogFeed {
            history: out.history,
            live,
        })
    }
    async fn reexec_daemon(&self) -> Result<(), ApiError> {
        let failed = |message: String, help: &str| ApiError {
            kind: ErrorKind::Failed,
            message,
            help: Some(help.into()),
        };
        if !self.can_reexec {
            return Err(failed(
                "the API listener cannot be kept across an exec".into(),
                "see devctld's log; `devctl daemon stop` then start it again instead",
            ));
        }
        super::reexec::check_exe().map_err(|m| {
            failed(
                m,
                "reinstall devctld at the path it was started from, then retry",
            )
        })?;
        let accepted = self.phase.send_if_modified(|p| {
            let ok = *p == Phase::Running;
            if ok {
                *p = Phase::Reexecuting;
            }
            ok
        });
        if !accepted {
            return Err(failed(
                "devctld is already stopping or re-executing".into(),
                "wait until it is back (`devctl daemon status`), then retry",
            ));
        }
        Ok(())
    }
    async fn stop_daemon(&self) {
        request_stop(&self.phase);
        let mut rx = self.phase.subscribe();
        // An error means the daemon is gone, which is what was asked.
        let _ = rx.wait_for(|p| *p == Phase::Stopped).await;
    }
}
