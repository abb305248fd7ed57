//! The daemon-level facts and requests the core does not own, as the API's
//! [`DaemonControl`]: the version answer, re-exec acceptance, and the
//! clean-stop request shared with the signal handlers. The core's own
//! operations reach the API straight from its handle.

use devctl_units::api::{API_VERSION, ApiError, DaemonInfo, DashboardInfo, ErrorKind, Hosting};
use tokio::sync::watch;

use crate::api::DaemonControl;
use crate::core::handle::{CoreInfo, Supervisor};
use crate::dashboard::Dashboard;

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

/// The daemon's own part of the API.
#[derive(Clone)]
pub struct Control {
    /// The core's session facts (fixed for the life of the process).
    pub core: CoreInfo,
    pub hosting: Hosting,
    pub phase: watch::Sender<Phase>,
    /// The listener can be handed to a new image.
    pub can_reexec: bool,
    /// The web dashboard, off until asked for.
    pub dashboard: Dashboard<Supervisor>,
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

impl DaemonControl for Control {
    fn daemon_info(&self) -> DaemonInfo {
        DaemonInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            api: API_VERSION,
            pid: std::process::id(),
            started_at_ms: self.core.started_at_ms,
            hosting: self.hosting,
            session_id: self.core.session_id.clone(),
            recovered: self.core.recovered,
        }
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
    async fn dashboard(&self) -> Result<DashboardInfo, ApiError> {
        if *self.phase.borrow() != Phase::Running {
            return Err(ApiError {
                kind: ErrorKind::Failed,
                message: "devctld is stopping or re-executing".into(),
                help: Some("wait until it is back (`devctl daemon status`), then retry".into()),
            });
        }
        Ok(self.dashboard.open(self.clone()).await?)
    }
}
