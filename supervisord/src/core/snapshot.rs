//! The messages between the manager and unit actors: commands to an actor
//! ([`ActorMsg`], each with a sequence number), and the actor's reports
//! ([`Report`]) carrying a full [`Snapshot`] of its observable state plus
//! the sequence number of the last command it finished (`ack`).

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::core::notes::{Mail, MailReceiver, MailSender};

use devctl_units::api::{EventKind, ExitInfo, Origin};
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{ProjectName, Unit, UnitName};

/// Everything observable about one unit's runtime state. Serialized (all
/// but `ack`) into the re-exec state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub active: ActiveState,
    pub sub: SubState,
    pub result: Option<UnitResult>,
    pub message: Option<String>,
    pub main_pid: Option<u32>,
    pub since_ms: Option<u64>,
    pub ready: Option<bool>,
    pub restarts: u32,
    pub next_restart_ms: Option<u64>,
    pub last_exit: Option<ExitInfo>,
    pub origin: Option<Origin>,
    pub trigger: Option<String>,
    pub notify_status: Option<String>,
    /// The invocation id of the current process tree.
    pub invocation: Option<String>,
    /// Last command sequence number fully handled (per process: not carried
    /// across a re-exec).
    #[serde(skip)]
    pub ack: u64,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
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
            ack: 0,
        }
    }
}

impl Snapshot {
    /// Running, starting, stopping or in backoff: something is (or will be) running.
    pub fn is_up(&self) -> bool {
        matches!(
            self.active,
            ActiveState::Active | ActiveState::Activating | ActiveState::Deactivating
        )
    }
}

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
    Restart { seq: u64, trigger: String },
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
    /// Re-exec: hand the unit's state (and its run's pipes) over and leave
    /// without touching any process.
    Freeze {
        reply: oneshot::Sender<crate::core::reexec::ActorFrozen>,
    },
    /// In a re-executed daemon: take the carried state over (and adopt the
    /// carried run, if any).
    Resume {
        seq: u64,
        resume: Box<crate::core::reexec::Resume>,
    },
    /// Leave: stop first when `stop`, else abandon the processes (crash
    /// simulation); reply when done.
    Exit {
        stop: bool,
        reply: oneshot::Sender<()>,
    },
}

/// The sending side of an actor's mailbox (the manager's). Mail travels
/// boxed: a tokio channel preallocates a block of 32 slots, which for
/// unboxed messages cost every idle unit about 1 KB.
#[derive(Debug, Clone)]
pub struct Mailbox(MailSender);

/// The receiving side of an actor's mailbox: the manager's messages and
/// the notes about the actor's runs (see `notes.rs`).
#[derive(Debug)]
pub struct Inbox(MailReceiver);

/// The actor is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// A new mailbox.
pub fn mailbox() -> (Mailbox, Inbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Mailbox(tx), Inbox(rx))
}

impl Mailbox {
    /// Send `msg` to the actor.
    pub fn send(&self, msg: ActorMsg) -> Result<(), Gone> {
        self.0.send(Box::new(Mail::Msg(msg))).map_err(|_| Gone)
    }

    /// A sender of notes that does not keep the mailbox open.
    pub fn downgrade(&self) -> mpsc::WeakUnboundedSender<Box<Mail>> {
        self.0.downgrade()
    }
}

impl Inbox {
    /// The next mail; `None` once the manager let go of the mailbox.
    pub async fn recv(&mut self) -> Option<Mail> {
        self.0.recv().await.map(|m| *m)
    }
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
