//! The actor protocol: the manager's commands to a unit actor
//! ([`ActorMsg`], each with a sequence number) and the actor's reports
//! ([`Report`]) carrying a full [`Snapshot`] of its observable state. The
//! re-exec messages are apart (`reexec.rs`): these base messages know
//! nothing of it.

use tokio::sync::{mpsc, oneshot};

use devctl_units::api::{EventKind, Origin};
use devctl_units::state::UnitResult;
use devctl_units::{ProjectName, Unit, UnitName};

use crate::core::snapshot::Snapshot;

/// A command to a unit actor.
#[derive(Debug)]
pub enum ActorMsg {
    /// Dependencies are met: run now. `reset` re-arms the restart limit.
    Start {
        seq: u64,
        origin: Origin,
        trigger: String,
        reset: bool,
    },
    /// A build whose inputs did not change since its last success: end
    /// `active (exited)`, successful, without running (instead of `Start`).
    UpToDate {
        seq: u64,
        origin: Origin,
        trigger: String,
        message: String,
    },
    /// Show `activating (waiting-deps)` while the manager waits on these.
    WaitDeps { seq: u64, waiting: Vec<UnitName> },
    /// A required dependency can never be met: fail with `dependency`.
    FailDeps { seq: u64, message: String },
    /// Stop; end `failed` when `failed`, with `result`/`message`.
    Stop {
        seq: u64,
        result: UnitResult,
        message: Option<String>,
        failed: bool,
    },
    /// Stop (if running) and start again, re-arming the restart limit.
    Restart {
        seq: u64,
        trigger: String,
        how: Replace,
    },
    /// Builds: run again (queued once if running). Others: restart.
    Trigger { seq: u64, reason: String },
    /// Say something about the unit in its status message and log
    /// (a failed rebuild, a detected self-retrigger loop); with
    /// `drop_queued`, also forget a queued re-run.
    Note {
        seq: u64,
        message: String,
        drop_queued: bool,
    },
    /// A new definition for later runs.
    Update { seq: u64, unit: Box<Unit> },
    /// Leave: stop first when `stop`, else abandon the processes (crash
    /// simulation); reply when done.
    Exit {
        stop: bool,
        reply: oneshot::Sender<()>,
    },
}

/// How a restart replaces a running unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Stop the run, then start a new one (`devctl restart`).
    Fresh,
    /// For a changed definition or changed inputs: the provider may keep
    /// what the run created and update it in place (see
    /// `Provider::hand_over`); otherwise as `Fresh`.
    Update,
}

/// Where actors send their reports (boxed: the channel keeps the blocks a
/// burst of reports needed, 32 slots each).
pub type ReportTx = mpsc::UnboundedSender<Box<Report>>;

/// The manager's end of [`ReportTx`].
pub type ReportRx = mpsc::UnboundedReceiver<Box<Report>>;

/// An actor's report to the manager.
#[derive(Debug, Clone)]
pub struct Report {
    pub project: ProjectName,
    pub unit: UnitName,
    pub snap: Snapshot,
    /// Events besides the state change itself (spawned, exited…).
    pub events: Vec<EventKind>,
    /// When the actor made the report: a run's start is reported before
    /// its processes exist, so this precedes anything they do, however
    /// late the manager gets to it.
    pub at: std::time::Instant,
}
