//! The `org.devctl.Devctld1` interface at `/org/devctl/Devctld`: methods
//! that translate to the core's jobs, enablement and status queries, and
//! the run history (`History`), and the `UnitStateChanged` and
//! `RunStateChanged` (the same, with the run id) signals. Only translation lives here: names are
//! parsed, requests built, answers flattened into D-Bus tuples, and the
//! core's `ApiError`s mapped to D-Bus errors.

use devctl_units::api::runs::{RunQuery, RunRecord, RunResources, VerbSource};
use devctl_units::api::{
    ApiError, EnableRequest, ErrorKind, JobRequest, JobResponse, JobVerb, UnitStatus,
};
use devctl_units::{ProjectName, UnitName};
use zbus::object_server::SignalEmitter;

use crate::core::handle::{CoreApi, Supervisor};

/// The well-known bus name devctld owns on the session bus.
pub const BUS_NAME: &str = "org.devctl.Devctld";
/// The object path of the one object.
pub const OBJECT_PATH: &str = "/org/devctl/Devctld";
/// The interface name.
pub const INTERFACE: &str = "org.devctl.Devctld1";

/// One unit as `ListUnits` returns it:
/// (project, unit, kind, load, enablement, active, sub, result, main pid).
pub type UnitRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    u32,
);

/// One run as `History` returns it: (run id, unit, trigger, queued ms,
/// spawned ms, ended ms, duration ms, result, exit code, signal, peak
/// memory bytes, CPU ms); 0 / empty / -1 (exit code) where there is none.
pub type RunRow = (
    String,
    String,
    String,
    u64,
    u64,
    u64,
    u64,
    String,
    i32,
    i32,
    u64,
    u64,
);

/// Flatten a run into a `History` row.
pub fn run_row(r: &RunRecord) -> RunRow {
    let (peak, cpu) = match r.resources {
        RunResources::Measured {
            peak_rss_bytes,
            cpu_ms,
        } => (peak_rss_bytes, cpu_ms),
        RunResources::NotReported => (0, 0),
    };
    (
        r.id.to_string(),
        r.unit.to_string(),
        r.trigger.to_string(),
        r.queued_ms,
        r.spawned_ms.unwrap_or(0),
        r.ended_ms.unwrap_or(0),
        r.duration_ms().unwrap_or(0),
        r.result.map(|x| x.to_string()).unwrap_or_default(),
        r.exit.and_then(|e| e.code).unwrap_or(-1),
        r.exit.and_then(|e| e.signal).unwrap_or(0),
        peak,
        cpu,
    )
}

/// One unit's outcome of a job: (unit, ok, active, sub, result).
pub type OutcomeRow = (String, bool, String, String, String);

/// Errors returned to D-Bus callers, named after the core's error kinds.
#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.devctl.Devctld1.Error")]
pub enum DbusCallError {
    /// A malformed request (bad name, bad argument).
    BadRequest(String),
    /// No such unit or project.
    NotFound(String),
    /// The operation failed.
    Failed(String),
    /// The daemon cannot serve the request now.
    Unavailable(String),
}

impl From<ApiError> for DbusCallError {
    fn from(e: ApiError) -> DbusCallError {
        let msg = match &e.help {
            Some(h) => format!("{} ({h})", e.message),
            None => e.message.clone(),
        };
        match e.kind {
            ErrorKind::BadRequest => DbusCallError::BadRequest(msg),
            ErrorKind::NotFound => DbusCallError::NotFound(msg),
            ErrorKind::Internal => DbusCallError::Unavailable(msg),
            _ => DbusCallError::Failed(msg),
        }
    }
}

fn project(name: &str) -> Result<ProjectName, DbusCallError> {
    ProjectName::new(name).map_err(|e| DbusCallError::BadRequest(format!("project {name:?}: {e}")))
}

/// Flatten a unit status into a `ListUnits` row.
pub fn unit_row(s: &UnitStatus) -> UnitRow {
    (
        s.project.to_string(),
        s.name.to_string(),
        s.kind.as_str().to_string(),
        s.load.to_string(),
        s.enabled.to_string(),
        s.active.to_string(),
        s.sub.to_string(),
        s.result.map(|r| r.to_string()).unwrap_or_default(),
        s.main_pid.unwrap_or(0),
    )
}

/// Flatten a job's answer; a unit that did not reach its goal fails the call.
pub fn outcome_rows(r: &JobResponse) -> Result<Vec<OutcomeRow>, DbusCallError> {
    if let Some(bad) = r.outcomes.iter().find(|o| !o.ok) {
        return Err(DbusCallError::Failed(format!(
            "{}: {} ({}){}",
            bad.unit,
            bad.active,
            bad.sub,
            bad.message
                .as_ref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        )));
    }
    Ok(r.outcomes
        .iter()
        .map(|o| {
            (
                o.unit.to_string(),
                o.ok,
                o.active.to_string(),
                o.sub.to_string(),
                o.result.map(|r| r.to_string()).unwrap_or_default(),
            )
        })
        .collect())
}

/// The served object.
pub struct Devctld {
    pub sup: Supervisor,
}

impl Devctld {
    async fn job(
        &self,
        project_name: &str,
        verb: JobVerb,
        units: Vec<String>,
        block: bool,
    ) -> Result<Vec<OutcomeRow>, DbusCallError> {
        let r = self
            .sup
            .job(
                project(project_name)?,
                JobRequest {
                    verb,
                    units,
                    block,
                    timeout_ms: None,
                    failed_only: false,
                    force: false,
                    source: Some(VerbSource::Dbus),
                },
            )
            .await?;
        outcome_rows(&r)
    }

    async fn enablement(
        &self,
        project_name: &str,
        units: Vec<String>,
        enable: bool,
        now: bool,
    ) -> Result<Vec<(String, String)>, DbusCallError> {
        let r = self
            .sup
            .enablement(
                project(project_name)?,
                EnableRequest {
                    units,
                    enable,
                    now,
                    boot: false,
                    block: now,
                    timeout_ms: None,
                },
            )
            .await?;
        if let Some(job) = &r.job {
            outcome_rows(job)?;
        }
        Ok(r.changed
            .iter()
            .map(|(u, e)| (u.to_string(), e.to_string()))
            .collect())
    }
}

#[zbus::interface(name = "org.devctl.Devctld1")]
impl Devctld {
    /// Every unit of `project`, or of every project when it is empty.
    async fn list_units(&self, project_name: &str) -> Result<Vec<UnitRow>, DbusCallError> {
        let p = if project_name.is_empty() {
            None
        } else {
            Some(project(project_name)?)
        };
        Ok(self.sup.units(p).await?.iter().map(unit_row).collect())
    }

    /// Known project names.
    async fn list_projects(&self) -> Vec<String> {
        self.sup
            .projects()
            .await
            .into_iter()
            .map(|p| p.name.to_string())
            .collect()
    }

    /// Start units (names or globs) and what they require; returns when
    /// they are ready, or fails naming the first that failed.
    async fn start_units(
        &self,
        project_name: &str,
        units: Vec<String>,
    ) -> Result<Vec<OutcomeRow>, DbusCallError> {
        self.job(project_name, JobVerb::Start, units, true).await
    }

    /// Stop units; returns when they are stopped.
    async fn stop_units(
        &self,
        project_name: &str,
        units: Vec<String>,
    ) -> Result<Vec<OutcomeRow>, DbusCallError> {
        self.job(project_name, JobVerb::Stop, units, true).await
    }

    /// Restart units; returns when they are ready again.
    async fn restart_units(
        &self,
        project_name: &str,
        units: Vec<String>,
    ) -> Result<Vec<OutcomeRow>, DbusCallError> {
        self.job(project_name, JobVerb::Restart, units, true).await
    }

    /// Enable units persistently (and start them with `now`); returns the
    /// units whose enablement changed.
    async fn enable_units(
        &self,
        project_name: &str,
        units: Vec<String>,
        now: bool,
    ) -> Result<Vec<(String, String)>, DbusCallError> {
        self.enablement(project_name, units, true, now).await
    }

    /// Disable units persistently (and stop them with `now`).
    async fn disable_units(
        &self,
        project_name: &str,
        units: Vec<String>,
        now: bool,
    ) -> Result<Vec<(String, String)>, DbusCallError> {
        self.enablement(project_name, units, false, now).await
    }

    /// Runs of `project` (every project when empty), newest first: of
    /// `units` (every unit when empty), queued at or after `since_ms` (0:
    /// any time), failed ones only with `failed`, at most `limit` (0: 50).
    async fn history(
        &self,
        project_name: &str,
        units: Vec<String>,
        since_ms: u64,
        failed: bool,
        limit: u32,
    ) -> Result<Vec<RunRow>, DbusCallError> {
        let project = if project_name.is_empty() {
            None
        } else {
            Some(project(project_name)?)
        };
        let units = units
            .iter()
            .map(|u| {
                UnitName::new(u).map_err(|e| DbusCallError::BadRequest(format!("unit {u:?}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let q = RunQuery {
            project,
            units,
            since_ms: (since_ms > 0).then_some(since_ms),
            failed,
            limit: (limit > 0).then_some(limit),
            before: None,
        };
        Ok(self.sup.runs(q).await?.runs.iter().map(run_row).collect())
    }

    /// One signal per change of a unit's run: project, unit, run id (empty
    /// when the unit has no current run), active state, sub-state, result.
    #[zbus(signal)]
    pub async fn run_state_changed(
        emitter: &SignalEmitter<'_>,
        project: &str,
        unit: &str,
        run: &str,
        active: &str,
        sub: &str,
        result: &str,
    ) -> zbus::Result<()>;

    /// One signal per unit state change: project, unit, active state,
    /// sub-state, result (empty when none).
    #[zbus(signal)]
    pub async fn unit_state_changed(
        emitter: &SignalEmitter<'_>,
        project: &str,
        unit: &str,
        active: &str,
        sub: &str,
        result: &str,
    ) -> zbus::Result<()>;

    /// The devctld version.
    #[zbus(property)]
    async fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").to_owned()
    }

    /// The session id (changes at each clean start).
    #[zbus(property)]
    async fn session_id(&self) -> String {
        self.sup.info().session_id
    }
}
