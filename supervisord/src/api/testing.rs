//! Test support: a fake core and daemon ([`CoreApi`], [`DaemonControl`])
//! that records calls, a server on a temp socket, and an async front to
//! the shared raw HTTP/1.1 client (`devctl_test_support::http`).

use devctl_units::api::runs::{LiveUsage, RunId, RunPage, RunQuery, RunRecord};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use devctl_units::api::{
    ApiError, DaemonInfo, EnableRequest, EnableResponse, ErrorKind, Event, Hosting, JobRequest,
    JobResponse, LoadRequest, LoadResponse, LogRecord, LogStream, ProjectInfo, UnitOutcome,
    UnitStatus, WaitRequest, WaitResponse,
};
use devctl_units::name::{ProjectName, UnitName};
use devctl_units::state::{ActiveState, SubState};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, oneshot};

use devctl_test_support::http::{self, HttpReply};

use super::control::DaemonControl;
use super::error::api_error;
use super::server::{ServerLimits, serve};
use crate::core::handle::{CoreApi, LogFeed, LogItem, LogQuery};

/// A core and daemon that answer from memory and record what they were asked.
#[derive(Clone)]
pub struct Fake {
    pub calls: Arc<Mutex<Vec<String>>>,
    pub events: broadcast::Sender<Event>,
    pub log_lines: broadcast::Sender<LogRecord>,
    /// What `projects` answers.
    pub projects: Arc<Mutex<Vec<ProjectInfo>>>,
}

impl Fake {
    pub fn new() -> Fake {
        Fake {
            calls: Arc::default(),
            events: broadcast::channel(16).0,
            log_lines: broadcast::channel(16).0,
            projects: Arc::default(),
        }
    }
    fn record(&self, s: String) {
        self.calls.lock().unwrap().push(s);
    }
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

fn missing(what: &str) -> ApiError {
    api_error(ErrorKind::NotFound, format!("no {what}"), None)
}

pub fn record(text: &str) -> LogRecord {
    LogRecord {
        time_us: 1,
        project: ProjectName::new("p").unwrap(),
        unit: UnitName::new("web").unwrap(),
        stream: LogStream::Stdout,
        text: text.into(),
    }
}

impl DaemonControl for Fake {
    fn daemon_info(&self) -> DaemonInfo {
        DaemonInfo {
            version: "0.0.0-test".into(),
            api: 1,
            pid: 1,
            started_at_ms: 0,
            hosting: Hosting::Standalone,
            session_id: "s".into(),
            recovered: false,
        }
    }
    async fn reexec_daemon(&self) -> Result<(), ApiError> {
        self.record("reexec".into());
        Ok(())
    }
    async fn stop_daemon(&self) {
        self.record("stop".into());
    }
    async fn dashboard(&self) -> Result<devctl_units::api::DashboardInfo, ApiError> {
        self.record("dashboard".into());
        Ok(devctl_units::api::DashboardInfo {
            url: "http://127.0.0.1:1/".into(),
            login_url: "http://127.0.0.1:1/login?token=t".into(),
            port: 1,
            token_file: PathBuf::from("/nonexistent/dashboard.token"),
            started: true,
        })
    }
}

impl CoreApi for Fake {
    async fn sample_usage(
        &self,
        units: Vec<(ProjectName, UnitName)>,
    ) -> Vec<((ProjectName, UnitName), LiveUsage)> {
        let names: Vec<String> = units.iter().map(|(p, u)| format!("{p}/{u}")).collect();
        self.record(format!("usage {}", names.join(" ")));
        // Every unit runs 1 MiB at 5 % in one process, but "stopped" ones.
        units
            .into_iter()
            .filter(|(_, u)| !u.as_str().starts_with("stopped"))
            .map(|k| {
                let usage = LiveUsage {
                    rss_bytes: 1 << 20,
                    cpu_percent: Some(5),
                    procs: 1,
                };
                (k, usage)
            })
            .collect()
    }
    async fn projects(&self) -> Vec<ProjectInfo> {
        self.record("projects".into());
        self.projects.lock().unwrap().clone()
    }
    async fn load_project(
        &self,
        p: ProjectName,
        req: LoadRequest,
    ) -> Result<LoadResponse, ApiError> {
        self.record(format!("load {p} {}", req.units.len()));
        // A project named "refused" is refused, as a bad unit file would be.
        if p.as_str() == "refused" {
            return Err(api_error(
                ErrorKind::InvalidUnits,
                "refused.service: the core refuses this project",
                Some("fix the unit file"),
            ));
        }
        Ok(LoadResponse {
            unchanged: req.units.len(),
            ..LoadResponse::default()
        })
    }
    async fn forget_project(&self, p: ProjectName) -> Result<JobResponse, ApiError> {
        self.record(format!("forget {p}"));
        if p.as_str() == "missing" {
            Err(missing("project"))
        } else {
            Ok(JobResponse::default())
        }
    }
    async fn job(&self, p: ProjectName, req: JobRequest) -> Result<JobResponse, ApiError> {
        self.record(format!("job {p} {:?} {:?}", req.verb, req.units));
        // Each named unit's outcome: ok unless its name starts with "bad".
        let outcomes = req
            .units
            .iter()
            .filter_map(|u| UnitName::new(u).ok())
            .map(|unit| UnitOutcome {
                ok: !unit.as_str().starts_with("bad"),
                unit,
                active: ActiveState::Active,
                sub: SubState::Running,
                result: None,
                message: None,
            })
            .collect();
        Ok(JobResponse {
            outcomes,
            ..JobResponse::default()
        })
    }
    async fn enablement(
        &self,
        p: ProjectName,
        req: EnableRequest,
    ) -> Result<EnableResponse, ApiError> {
        self.record(format!("enable {p} {}", req.enable));
        Ok(EnableResponse::default())
    }
    async fn wait(&self, p: ProjectName, req: WaitRequest) -> Result<WaitResponse, ApiError> {
        self.record(format!("wait {p} {:?}", req.condition));
        Ok(WaitResponse {
            ok: true,
            timed_out: false,
            outcomes: vec![],
        })
    }
    async fn units(&self, p: Option<ProjectName>) -> Result<Vec<UnitStatus>, ApiError> {
        self.record(format!("units {p:?}"));
        Ok(vec![])
    }
    async fn unit(&self, p: ProjectName, u: UnitName) -> Result<UnitStatus, ApiError> {
        self.record(format!("unit {p} {u}"));
        Err(missing("unit"))
    }
    async fn unit_file(&self, p: ProjectName, u: UnitName) -> Result<String, ApiError> {
        self.record(format!("file {p} {u}"));
        Ok("[Unit]\nDescription=x\n".into())
    }
    fn subscribe_events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }
    async fn logs(&self, q: LogQuery) -> Result<LogFeed, ApiError> {
        self.record(format!(
            "logs {} {:?} {:?} {:?} {}",
            q.project, q.units, q.n, q.since_ms, q.follow
        ));
        let live = q.follow.then(|| {
            let rx = self.log_lines.subscribe();
            futures_util::stream::unfold(rx, |mut rx| async move {
                match rx.recv().await {
                    Ok(r) => Some((LogItem::Line(r), rx)),
                    Err(broadcast::error::RecvError::Lagged(n)) => Some((
                        LogItem::Notice(devctl_units::api::runs::LogNotice::Missed {
                            unit: UnitName::new("web").unwrap(),
                            lines: n,
                            message: format!("{n} lines of web missing here"),
                        }),
                        rx,
                    )),
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            })
            .boxed()
        });
        let history = match q.n {
            Some(n) if n > 1 => (0..n)
                .map(|i| record(&format!("line {i} {}", "x".repeat(100))))
                .collect(),
            _ => vec![record("old")],
        };
        Ok(LogFeed {
            notice: None,
            history,
            live,
        })
    }
    async fn runs(&self, q: RunQuery) -> Result<RunPage, ApiError> {
        self.record(format!(
            "runs {:?} {:?} {:?} {} {:?} {:?}",
            q.project.map(|p| p.to_string()),
            q.units.iter().map(|u| u.to_string()).collect::<Vec<_>>(),
            q.since_ms,
            q.failed,
            q.limit,
            q.before.map(|b| b.to_string())
        ));
        Ok(RunPage {
            runs: Vec::new(),
            next: None,
        })
    }
    async fn run(&self, id: RunId) -> Result<RunRecord, ApiError> {
        self.record(format!("run {id}"));
        Err(missing("run"))
    }
}

/// A server over a [`Fake`] on a temp socket; stops when dropped.
pub struct TestServer {
    pub fake: Fake,
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<Result<(), super::server::ServeError>>>,
}

impl TestServer {
    pub async fn start(limits: ServerLimits) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("s.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let fake = Fake::new();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(serve(
            listener,
            fake.clone(),
            fake.clone(),
            limits,
            async move {
                let _ = rx.await;
            },
        ));
        TestServer {
            fake,
            socket,
            _dir: dir,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Stop and wait for the server to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
    }

    /// Send raw bytes, read until the server closes (or `within` passes).
    pub async fn raw(&self, bytes: &[u8], within: Duration) -> Reply {
        let mut s = UnixStream::connect(&self.socket).await.unwrap();
        // The server may answer and close before reading (busy, 413).
        let _ = s.write_all(bytes).await;
        read_reply(&mut s, within).await
    }

    /// One request with `Connection: close`.
    pub async fn request(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let req = http::request_bytes(method, path, body);
        self.raw(req.as_bytes(), Duration::from_secs(10)).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// A parsed answer (chunked bodies decoded), whose error kind is typed.
#[derive(Debug)]
pub struct Reply(pub HttpReply);

impl std::ops::Deref for Reply {
    type Target = HttpReply;
    fn deref(&self) -> &HttpReply {
        &self.0
    }
}

impl Reply {
    pub fn error_kind(&self) -> ErrorKind {
        serde_json::from_str::<devctl_units::api::ErrorBody>(&self.body)
            .unwrap_or_else(|e| panic!("not an error body ({e}): {}", self.body))
            .error
            .kind
    }
}

pub async fn read_reply(s: &mut UnixStream, within: Duration) -> Reply {
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(within, s.read_to_end(&mut buf)).await;
    Reply(http::parse_reply(&buf))
}
