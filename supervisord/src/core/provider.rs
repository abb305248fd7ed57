//! The provider boundary: a [`Provider`] value runs one unit's runs
//! (start, stop, adopt after a re-exec) and says what "this unit's process
//! or port" means; `registry.rs` holds what a provider registers for its
//! kinds (how its actor is made, what a daemon start recovers). Providers
//! write the
//! unit's output to its log and only *report facts* (notify message, main
//! pid, exited, adopted); the unit actor turns them into state transitions
//! and events (it follows the log itself for log readiness and build idle
//! timeouts). The providers themselves live in `crate::providers`, one
//! folder each; the core names none of them. [`Unavailable`] stands in for
//! a provider this build lacks.

use std::future::Future;
use std::sync::Arc;

use devctl_units::state::UnitResult;
use devctl_units::{StopSpec, Unit};

use crate::core::reexec::{AdoptRun, HeldRun};
use crate::logs::UnitLog;

pub use crate::core::notes::Fact;

/// Everything a provider needs to start one run.
#[derive(Debug, Clone)]
pub struct RunCtx {
    pub unit: Arc<Unit>,
    /// The run's generation; every fact is tagged with it.
    pub run: u64,
    /// `DEVCTL_INVOCATION_ID` of the run's process tree.
    pub invocation: String,
    /// Shared by the run's spawns, its probes and its stop command.
    pub env: crate::core::env::RunEnv,
    pub log: UnitLog,
    pub facts: crate::core::notes::NoteTx<Fact>,
}

/// Why a run could not be started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartFailure {
    /// Retrying cannot help (`exec-failed`, `port-in-use`…).
    Permanent { result: UnitResult, message: String },
    /// Counted like a crash (a daemon's start command exited non-zero).
    Transient { result: UnitResult, message: String },
}

/// How a stop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReport {
    Graceful,
    /// SIGKILL was needed.
    Killed,
    /// These pids survived SIGKILL.
    Unkillable(Vec<i32>),
}

/// Who holds a run's processes and ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// The run's processes carry its invocation marker: a listener counts
    /// as the unit's only when a marked process holds it, and the unit's
    /// ports are checked free before a new run starts.
    Marked,
    /// Something outside the daemon (an engine's proxy) holds the ports
    /// while the run lives; the provider checks them itself when it
    /// creates a new instance.
    External,
}

/// Runs units of some kinds. One provider value per unit actor.
pub trait Provider: Send + 'static {
    /// Who holds this provider's processes and ports.
    fn ownership(&self) -> Ownership {
        Ownership::Marked
    }
    /// The unit as its actor should see it (a provider may supply what a
    /// definition leaves implicit, e.g. readiness from the instance).
    fn view(&self, unit: Arc<Unit>) -> Arc<Unit> {
        unit
    }
    /// Start a run; resolves once the main process is known (its pid).
    fn start(&mut self, ctx: RunCtx) -> impl Future<Output = Result<u32, StartFailure>> + Send;
    /// Stop the current run's whole tree (no-op when nothing runs).
    fn stop(&mut self, spec: &StopSpec) -> impl Future<Output = StopReport> + Send;
    /// Drop the current run without stopping it (daemon crash simulation,
    /// or after the main process exited and the tree was cleaned).
    fn forget(&mut self);
    /// Let go of the current run for the next `start`, which follows at
    /// once because the unit's definition or inputs changed, keeping what
    /// that start updates in place (server-side apply rolls a Deployment
    /// instead of replacing it). `false`, the default, keeps nothing: the
    /// caller then stops the run.
    fn hand_over(&mut self) -> impl Future<Output = bool> + Send {
        std::future::ready(false)
    }
    /// Re-exec: hand the current run over (processes untouched, output
    /// pipes detached from their pumps). `None` when this provider cannot
    /// carry a run across an exec (its instance is found again on start).
    fn freeze(&mut self) -> impl Future<Output = Option<HeldRun>> + Send {
        async { None }
    }
    /// In a re-executed daemon: take over a run the previous image froze;
    /// resolves with its main pid. Facts then flow as for a started run.
    fn adopt(
        &mut self,
        _ctx: RunCtx,
        run: AdoptRun,
    ) -> impl Future<Output = Result<u32, StartFailure>> + Send {
        async move {
            Err(StartFailure::Transient {
                result: UnitResult::ExecFailed,
                message: format!(
                    "cannot adopt pid {} after a re-exec: this provider starts its units anew",
                    run.frozen.pid
                ),
            })
        }
    }
}

/// The provider of a kind this build cannot run: every start fails at
/// once, permanently, with `provider-unavailable` and `message`.
#[derive(Debug, Clone)]
pub struct Unavailable {
    message: String,
    ownership: Ownership,
}

impl Unavailable {
    /// A provider whose starts fail with `message`.
    pub fn new(message: impl Into<String>) -> Unavailable {
        Unavailable {
            message: message.into(),
            ownership: Ownership::Marked,
        }
    }

    /// Claim the ownership the missing provider would have had (whether
    /// the unit's ports are checked before its start fails).
    pub fn owned(mut self, ownership: Ownership) -> Unavailable {
        self.ownership = ownership;
        self
    }
}

impl Provider for Unavailable {
    fn ownership(&self) -> Ownership {
        self.ownership
    }

    async fn start(&mut self, _ctx: RunCtx) -> Result<u32, StartFailure> {
        Err(StartFailure::Permanent {
            result: UnitResult::ProviderUnavailable,
            message: self.message.clone(),
        })
    }

    async fn stop(&mut self, _spec: &StopSpec) -> StopReport {
        StopReport::Graceful
    }

    fn forget(&mut self) {}
}
