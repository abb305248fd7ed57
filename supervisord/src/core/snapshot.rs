//! A unit's observable runtime state as its actor reports it and the
//! manager mirrors it ([`Snapshot`]), with the sequence number of the last
//! command the actor finished (`ack`).

use serde::{Deserialize, Serialize};

use devctl_units::api::{ExitInfo, Origin};
use devctl_units::state::{ActiveState, SubState, UnitResult};

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
