//! Wire types of devctld's HTTP/1.1 + JSON API on its Unix socket.
//!
//! One protocol module shared by the daemon and the CLI. Every request and
//! response body is one JSON value (at most [`MAX_BODY_BYTES`]); streams
//! (`/v1/events`, `/v1/logs?follow=true`) are NDJSON, one value per line.
//! Errors are `{"error": {"kind": …, "message": …, "help": …}}` with an
//! HTTP status that matches the kind.
//!
//! | method | path | body → answer |
//! |---|---|---|
//! | GET | `/v1/version` | → [`DaemonInfo`] |
//! | GET | `/v1/projects` | → `Vec<`[`ProjectInfo`]`>` |
//! | POST | `/v1/projects/{project}/load` | [`LoadRequest`] → [`LoadResponse`] |
//! | DELETE | `/v1/projects/{project}` | → [`JobResponse`] (forget: stop its units, drop its state) |
//! | POST | `/v1/projects/{project}/jobs` | [`JobRequest`] → [`JobResponse`] |
//! | POST | `/v1/projects/{project}/enablement` | [`EnableRequest`] → [`EnableResponse`] |
//! | POST | `/v1/projects/{project}/wait` | [`WaitRequest`] → [`WaitResponse`] |
//! | GET | `/v1/units?project=P` | → `Vec<`[`UnitStatus`]`>` (all projects without `project`) |
//! | GET | `/v1/projects/{project}/units/{unit}` | → [`UnitStatus`] with `log_tail` |
//! | GET | `/v1/projects/{project}/units/{unit}/file` | → the unit file, `text/plain` |
//! | GET | `/v1/events?project=P&unit=U` | → NDJSON of [`Event`] |
//! | GET | `/v1/logs?project=P&unit=U&unit=V&n=N&since=UNIX_MS&follow=BOOL` | → NDJSON of [`LogRecord`] |
//! | POST | `/v1/daemon/stop` | → `{}` (clean stop: every unit stopped, session over) |
//! | POST | `/v1/dashboard` | `{}` → [`DashboardInfo`] (turns the web dashboard on; a fresh one-time login URL) |

pub mod runs;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::{Dependency, UnitKind};
use crate::name::{ProjectName, UnitName};
use crate::state::{ActiveState, EnableState, LoadState, SubState, UnitResult};

/// The API version in every path (`/v1/...`).
pub const API_VERSION: u32 = 1;
/// Request header naming the API version a client speaks. A daemon that
/// speaks another one refuses the request (400) and answers with its own
/// version in the same header and its pid in [`DAEMON_PID_HEADER`], so a
/// client learns of a mismatch without a separate version request.
pub const API_VERSION_HEADER: &str = "devctl-api";
/// Response header with the daemon's pid, sent with a version refusal.
pub const DAEMON_PID_HEADER: &str = "devctl-pid";
/// Largest request or response body either side accepts.
pub const MAX_BODY_BYTES: usize = 16 << 20;

/// How the running daemon is hosted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hosting {
    /// Started by hand or by the CLI in the background.
    Standalone,
    /// A systemd user service (`NOTIFY_SOCKET` was set).
    Systemd,
    /// A systemd user service started through its socket (`LISTEN_FDS`).
    SocketActivated,
}

/// `GET /v1/version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonInfo {
    pub version: String,
    pub api: u32,
    pub pid: u32,
    pub started_at_ms: u64,
    pub hosting: Hosting,
    /// Changes at each clean start; the same across a crash and restart.
    pub session_id: String,
    /// True when this process continued a session after a crash.
    pub recovered: bool,
}

/// `POST /v1/dashboard`: where the web dashboard listens, and a login URL
/// carrying a one-time token (it sets the session cookie, then is spent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardInfo {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    /// `http://127.0.0.1:PORT/login?token=…`: usable once, for a few minutes.
    pub login_url: String,
    pub port: u16,
    /// The file holding the session token (mode 0600, in the runtime directory).
    pub token_file: PathBuf,
    /// True when this request turned the dashboard on.
    pub started: bool,
}

/// One project the daemon knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectInfo {
    pub name: ProjectName,
    pub manifest: PathBuf,
    pub root: PathBuf,
    /// Comes up whenever the daemon starts (`devctl enable --boot`).
    pub boot: bool,
    pub units: usize,
    pub active: usize,
    pub failed: usize,
}

/// `POST /v1/projects/{project}/load`: replace the project's unit set.
/// Transactional: every file is parsed first; any error changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadRequest {
    pub manifest: PathBuf,
    pub root: PathBuf,
    /// Unit file name → unit file text, as `devctl compile` emits them.
    pub units: BTreeMap<String, String>,
}

/// What a load changed. Running units whose definition changed are
/// restarted; removed running units are stopped; unchanged ones untouched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadResponse {
    pub added: Vec<UnitName>,
    pub removed: Vec<UnitName>,
    pub changed: Vec<UnitName>,
    pub unchanged: usize,
    pub restarted: Vec<UnitName>,
    pub stopped: Vec<UnitName>,
}

/// The verb of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobVerb {
    Start,
    Stop,
    Restart,
    /// Re-run a build / restart a service now, as a file change would.
    Trigger,
    /// Empty `units`: every enabled unit. Otherwise exactly these (and what
    /// they require) run, and the project's other units are stopped.
    Up,
    /// Stop every unit of the project.
    Down,
}

/// `POST /v1/projects/{project}/jobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRequest {
    pub verb: JobVerb,
    /// Unit names or globs (`api-*`); resolved by the daemon. A pattern
    /// that matches nothing is a `not-found` error and nothing happens.
    pub units: Vec<String>,
    /// Wait until every unit is ready / stopped / finished (or failed).
    pub block: bool,
    /// Give up waiting after this long (the job itself continues).
    #[serde(default, deserialize_with = "opt_millis::deserialize")]
    pub timeout_ms: Option<u64>,
    /// Answer with the outcomes of the units that did not reach the
    /// requested state only: all a client that reports failures needs (a
    /// thousand-unit `up` otherwise answers with a thousand outcomes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed_only: bool,
    /// Run the builds this job starts even when they are up to date.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    /// Where the verb came from (recorded in each run it causes); absent:
    /// the API itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<runs::VerbSource>,
}

/// How one unit ended up after a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitOutcome {
    pub unit: UnitName,
    /// The job reached its goal for this unit.
    pub ok: bool,
    pub active: ActiveState,
    pub sub: SubState,
    /// Absent rather than `null` when there is none: a job's answer
    /// lists every unit it touched, and most have neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<UnitResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Answer to a job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobResponse {
    pub outcomes: Vec<UnitOutcome>,
    /// Units the job stopped besides the named ones (`up A B`).
    pub stopped: Vec<UnitName>,
    /// True when `timeout_ms` passed before every unit reached its goal.
    pub timed_out: bool,
}

/// `POST /v1/projects/{project}/enablement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnableRequest {
    /// Names or globs; empty with `boot` set means the project itself.
    pub units: Vec<String>,
    pub enable: bool,
    /// Also start (enable) or stop (disable) now.
    pub now: bool,
    /// Change the project's boot flag instead of units' enablement.
    pub boot: bool,
    pub block: bool,
    #[serde(default, deserialize_with = "opt_millis::deserialize")]
    pub timeout_ms: Option<u64>,
}

/// What enablement changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnableResponse {
    /// Units whose persisted enablement changed, with the new state.
    pub changed: Vec<(UnitName, EnableState)>,
    /// The start/stop job run for `now`.
    pub job: Option<JobResponse>,
    /// The project's boot flag after the request.
    pub boot: bool,
}

/// The condition `devctl wait` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitFor {
    Ready,
    Active,
    Inactive,
    Succeeded,
    Failed,
}

/// `POST /v1/projects/{project}/wait`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitRequest {
    pub units: Vec<String>,
    #[serde(rename = "for")]
    pub condition: WaitFor,
    #[serde(default, deserialize_with = "opt_millis::deserialize")]
    pub timeout_ms: Option<u64>,
}

/// A request's `timeout_ms` read as JSON Schema reads `integer`: `1500`
/// and `1500.0` (a number without fraction) alike; a negative or
/// fractional number is refused; `null` or absent is no timeout.
mod opt_millis {
    use std::fmt;

    use serde::de::{self, Deserializer, Unexpected, Visitor};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        d.deserialize_option(OptMillis)
    }

    struct OptMillis;

    impl<'de> Visitor<'de> for OptMillis {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number of milliseconds or null")
        }
        fn visit_none<E>(self) -> Result<Option<u64>, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Option<u64>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<u64>, D::Error> {
            d.deserialize_any(Millis).map(Some)
        }
    }

    struct Millis;

    impl Visitor<'_> for Millis {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number of milliseconds")
        }
        fn visit_u64<E>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            // 2^64 as f64 is the first value past u64::MAX.
            if v.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&v) {
                Ok(v as u64)
            } else {
                Err(E::invalid_value(Unexpected::Float(v), &self))
            }
        }
    }
}

/// Answer to a wait: `ok` when every unit met the condition; a unit that
/// can no longer meet it (failed while waiting for ready) ends the wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitResponse {
    pub ok: bool,
    pub timed_out: bool,
    pub outcomes: Vec<UnitOutcome>,
}

/// How the current process of a unit came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Started in this daemon's life.
    Started,
    /// Found running after a daemon restart and taken over.
    Adopted,
    /// Was running when the daemon died; started again by the new daemon.
    Restarted,
}

/// The last exit of a unit's main process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitInfo {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub at_ms: u64,
}

/// A unit's runtime state: what its supervisor observes of the unit's
/// current or last run. The daemon keeps one per unit and `status` shows it
/// beside the unit's configuration ([`UnitStatus`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeState {
    pub active: ActiveState,
    pub sub: SubState,
    pub result: Option<UnitResult>,
    /// Human explanation of the state (`exec-failed: …`, `port 8080 in use by pid 42 (nc)`).
    pub message: Option<String>,
    pub main_pid: Option<u32>,
    /// When the unit entered its current active state.
    pub since_ms: Option<u64>,
    /// Readiness, when the unit has a readiness probe.
    pub ready: Option<bool>,
    /// Restarts since the last manual start.
    pub restarts: u32,
    pub next_restart_ms: Option<u64>,
    pub last_exit: Option<ExitInfo>,
    pub origin: Option<Origin>,
    /// Why the current/last run happened (`manual`, `file change: src/a.rs`, …).
    pub trigger: Option<String>,
    /// `STATUS=` from sd_notify.
    pub notify_status: Option<String>,
    /// The invocation id of the current process tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<String>,
}

impl Default for RuntimeState {
    fn default() -> Self {
        RuntimeState {
            active: ActiveState::Inactive,
            sub: SubState::Dead,
            result: None,
            message: None,
            main_pid: None,
            since_ms: None,
            ready: None,
            restarts: 0,
            next_restart_ms: None,
            last_exit: None,
            origin: None,
            trigger: None,
            notify_status: None,
            invocation: None,
        }
    }
}

/// Everything `status`, `show` and `list` print about one unit: its
/// configuration and, flattened into the same JSON object, its
/// [`RuntimeState`] (read through `Deref`: `status.active`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitStatus {
    pub project: ProjectName,
    pub name: UnitName,
    pub kind: UnitKind,
    pub description: Option<String>,
    pub load: LoadState,
    pub enabled: EnableState,
    /// The manifest's default, before `enable`/`disable` overrides.
    pub enabled_default: bool,
    #[serde(flatten)]
    pub state: RuntimeState,
    pub restart_limit: u32,
    /// Manual trigger mode: changed files not yet acted upon.
    pub pending_changes: u32,
    /// When the unit's schedule runs it next (milliseconds since the
    /// epoch): scheduled units that are enabled and meant to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run_ms: Option<u64>,
    pub ports: Vec<u16>,
    pub links: Vec<String>,
    pub deps: Vec<Dependency>,
    /// Last log lines (detail view only; empty in lists).
    pub log_tail: Vec<LogRecord>,
    /// The current run's id (queued, running or waiting to restart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<runs::RunId>,
    /// How long the unit's runs usually take (median of its recent
    /// successful ones; detail view only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usual_ms: Option<u64>,
    /// The unit's last few runs, newest first (detail view only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_runs: Vec<runs::RunRecord>,
    /// Live CPU and memory of the running process tree, sampled for this
    /// answer; absent when nothing runs or the engine reports nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<runs::LiveUsage>,
}

impl std::ops::Deref for UnitStatus {
    type Target = RuntimeState;
    fn deref(&self) -> &RuntimeState {
        &self.state
    }
}

impl std::ops::DerefMut for UnitStatus {
    fn deref_mut(&mut self) -> &mut RuntimeState {
        &mut self.state
    }
}

/// Which stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogStream {
    Stdout,
    Stderr,
    /// Lifecycle marker written by devctl (spawned, exited, ready …).
    Marker,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Microseconds since the Unix epoch.
    pub time_us: u64,
    pub project: ProjectName,
    pub unit: UnitName,
    pub stream: LogStream,
    pub text: String,
}

/// What happened, in one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum EventKind {
    /// Any change of active/sub state or result.
    StateChanged {
        active: ActiveState,
        sub: SubState,
        result: Option<UnitResult>,
        message: Option<String>,
    },
    Spawned {
        pid: u32,
    },
    Exited {
        code: Option<i32>,
        signal: Option<i32>,
    },
    RestartScheduled {
        attempt: u32,
        delay_ms: u64,
    },
    Triggered {
        reason: String,
    },
    EnablementChanged {
        enabled: EnableState,
    },
    ProjectLoaded {
        added: usize,
        removed: usize,
        changed: usize,
    },
    ProjectForgotten,
    DaemonStopping,
}

/// One event of `/v1/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Strictly increasing within one daemon process.
    pub seq: u64,
    pub time_ms: u64,
    pub project: Option<ProjectName>,
    pub unit: Option<UnitName>,
    /// The unit's run the event is about, when history is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<runs::RunId>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Error kinds; the CLI maps them to exit codes (product.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Malformed request (HTTP 400; CLI exit 2).
    BadRequest,
    /// The path exists but not with this method (405, with `Allow`; exit 2).
    MethodNotAllowed,
    /// No such unit or project (404; exit 4).
    NotFound,
    /// Unit files that do not parse (422; exit 65).
    InvalidUnits,
    /// The operation failed (409; exit 1).
    Failed,
    /// Waiting timed out (408; exit 124).
    Timeout,
    /// The request is larger than the daemon accepts (413; exit 2).
    TooLarge,
    /// Peer uid differs from the daemon's (403; exit 69).
    Forbidden,
    /// State could not be persisted, e.g. the disk is full (507; exit 1).
    Storage,
    /// The daemon has too many open connections; retry (503; exit 69).
    Busy,
    /// A devctl bug (500; exit 1).
    Internal,
}

impl ErrorKind {
    /// The HTTP status the daemon answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::NotFound => 404,
            ErrorKind::InvalidUnits => 422,
            ErrorKind::Failed => 409,
            ErrorKind::Timeout => 408,
            ErrorKind::TooLarge => 413,
            ErrorKind::Forbidden => 403,
            ErrorKind::Storage => 507,
            ErrorKind::Busy => 503,
            ErrorKind::Internal => 500,
        }
    }
}

/// The body of every error answer: `{"error": ApiError}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// Wrapper matching the JSON shape `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ApiError,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_json_shape() {
        let e = Event {
            seq: 3,
            time_ms: 10,
            project: Some(ProjectName::new("p").unwrap()),
            unit: Some(UnitName::new("web").unwrap()),
            run: None,
            kind: EventKind::Spawned { pid: 42 },
        };
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "spawned");
        assert_eq!(v["pid"], 42);
        assert_eq!(serde_json::from_value::<Event>(v).unwrap(), e);
    }

    #[test]
    fn error_body_shape() {
        let b = ErrorBody {
            error: ApiError {
                kind: ErrorKind::NotFound,
                message: "no unit x".into(),
                help: None,
            },
        };
        let s = serde_json::to_string(&b).unwrap();
        assert_eq!(s, r#"{"error":{"kind":"not-found","message":"no unit x"}}"#);
    }

    #[test]
    fn an_outcome_without_result_or_message_leaves_them_out_and_reads_back() {
        let ok = UnitOutcome {
            unit: UnitName::new("web").unwrap(),
            ok: true,
            active: ActiveState::Active,
            sub: SubState::Ready,
            result: None,
            message: None,
        };
        let s = serde_json::to_string(&ok).unwrap();
        assert_eq!(
            s,
            r#"{"unit":"web","ok":true,"active":"active","sub":"ready"}"#
        );
        assert_eq!(serde_json::from_str::<UnitOutcome>(&s).unwrap(), ok);
        let older = r#"{"unit":"web","ok":true,"active":"active","sub":"ready","result":null,"message":null}"#;
        assert_eq!(serde_json::from_str::<UnitOutcome>(older).unwrap(), ok);
        let failed = UnitOutcome {
            ok: false,
            result: Some(UnitResult::ExitCode),
            message: Some("exited 1".into()),
            ..ok
        };
        let s = serde_json::to_string(&failed).unwrap();
        assert_eq!(serde_json::from_str::<UnitOutcome>(&s).unwrap(), failed);
    }

    /// JSON Schema's `integer` includes `1500.0`: a timeout written so is
    /// accepted; negative, fractional and non-numbers are refused.
    #[test]
    fn timeouts_are_whole_milliseconds_however_written() {
        let timeout = |t: &str| {
            serde_json::from_str::<WaitRequest>(&format!(r#"{{"units":[],"for":"ready"{t}}}"#))
                .map(|r| r.timeout_ms)
                .map_err(|e| e.to_string())
        };
        assert_eq!(timeout(""), Ok(None));
        assert_eq!(timeout(r#","timeout_ms":null"#), Ok(None));
        assert_eq!(timeout(r#","timeout_ms":1500"#), Ok(Some(1500)));
        assert_eq!(timeout(r#","timeout_ms":1500.0"#), Ok(Some(1500)));
        assert_eq!(
            timeout(r#","timeout_ms":18446744073709551615"#),
            Ok(Some(u64::MAX))
        );
        for bad in ["-1", "1.5", "-4240.0", "1e30", "\"5\"", "true"] {
            let e = timeout(&format!(r#","timeout_ms":{bad}"#)).unwrap_err();
            assert!(e.contains("whole number of milliseconds"), "{bad}: {e}");
        }
        let job: JobRequest =
            serde_json::from_str(r#"{"verb":"start","units":[],"block":true,"timeout_ms":20.0}"#)
                .unwrap();
        assert_eq!(job.timeout_ms, Some(20));
        let enable: EnableRequest = serde_json::from_str(
            r#"{"units":[],"enable":true,"now":false,"boot":false,"block":false}"#,
        )
        .unwrap();
        assert_eq!(enable.timeout_ms, None);
    }

    #[test]
    fn wait_request_uses_for() {
        let r: WaitRequest =
            serde_json::from_str(r#"{"units":["a"],"for":"ready","timeout_ms":null}"#).unwrap();
        assert_eq!(r.condition, WaitFor::Ready);
    }
}
