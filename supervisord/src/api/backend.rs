//! What the API needs from the rest of the daemon: the [`Backend`] trait.
//! The daemon implements it over the core's `Supervisor` handle plus its own
//! daemon-level facts (version, stop); API tests implement it with a fake.

use std::future::Future;
use std::pin::Pin;

use devctl_units::api::{
    ApiError, DaemonInfo, EnableRequest, EnableResponse, Event, JobRequest, JobResponse,
    LoadRequest, LoadResponse, LogRecord, ProjectInfo, UnitStatus, WaitRequest, WaitResponse,
};
use devctl_units::name::{ProjectName, UnitName};
use futures_util::Stream;
use tokio::sync::broadcast;

/// `GET /v1/logs` parameters, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

/// One item of a live log feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogItem {
    Line(LogRecord),
    /// The reader fell this many lines behind; the stream ends.
    Lagged(u64),
}

/// What a log request yields: history, then (when following) live lines.
pub struct LogFeed {
    pub history: Vec<LogRecord>,
    pub live: Option<Pin<Box<dyn Stream<Item = LogItem> + Send>>>,
}

/// The daemon as the API sees it. Every method maps to one route.
pub trait Backend: Clone + Send + Sync + 'static {
    /// `GET /v1/version`.
    fn daemon_info(&self) -> DaemonInfo;
    /// `GET /v1/projects`.
    fn projects(&self) -> impl Future<Output = Vec<ProjectInfo>> + Send;
    /// `POST /v1/projects/{project}/load`.
    fn load_project(
        &self,
        project: ProjectName,
        req: LoadRequest,
    ) -> impl Future<Output = Result<LoadResponse, ApiError>> + Send;
    /// `DELETE /v1/projects/{project}`.
    fn forget_project(
        &self,
        project: ProjectName,
    ) -> impl Future<Output = Result<JobResponse, ApiError>> + Send;
    /// `POST /v1/projects/{project}/jobs`.
    fn job(
        &self,
        project: ProjectName,
        req: JobRequest,
    ) -> impl Future<Output = Result<JobResponse, ApiError>> + Send;
    /// `POST /v1/projects/{project}/enablement`.
    fn enablement(
        &self,
        project: ProjectName,
        req: EnableRequest,
    ) -> impl Future<Output = Result<EnableResponse, ApiError>> + Send;
    /// `POST /v1/projects/{project}/wait`.
    fn wait(
        &self,
        project: ProjectName,
        req: WaitRequest,
    ) -> impl Future<Output = Result<WaitResponse, ApiError>> + Send;
    /// `GET /v1/units`.
    fn units(
        &self,
        project: Option<ProjectName>,
    ) -> impl Future<Output = Result<Vec<UnitStatus>, ApiError>> + Send;
    /// `GET /v1/projects/{project}/units/{unit}`.
    fn unit(
        &self,
        project: ProjectName,
        unit: UnitName,
    ) -> impl Future<Output = Result<UnitStatus, ApiError>> + Send;
    /// `GET /v1/projects/{project}/units/{unit}/file`.
    fn unit_file(
        &self,
        project: ProjectName,
        unit: UnitName,
    ) -> impl Future<Output = Result<String, ApiError>> + Send;
    /// `GET /v1/events`: a fresh subscription.
    fn subscribe_events(&self) -> broadcast::Receiver<Event>;
    /// `GET /v1/logs`.
    fn logs(&self, query: LogQuery) -> impl Future<Output = Result<LogFeed, ApiError>> + Send;
    /// `POST /v1/daemon/reexec`: accept (or refuse) replacing the daemon's
    /// image in place; the exec happens after the answer is sent.
    fn reexec_daemon(&self) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `POST /v1/daemon/stop`: stop every unit and end the session; returns
    /// once the units are stopped (the daemon exits right after).
    fn stop_daemon(&self) -> impl Future<Output = ()> + Send;
}
