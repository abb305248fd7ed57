//! A unit's observable runtime state as its actor reports it and the
//! manager mirrors it ([`Snapshot`]): the API's [`RuntimeState`] with the
//! sequence number of the last command the actor finished (`ack`).

use serde::{Deserialize, Serialize};

use devctl_units::api::RuntimeState;
use devctl_units::state::ActiveState;

/// A unit's runtime state as its actor last reported it, with the sequence
/// number of the last command the actor had finished then. Serialized (all
/// but `ack`) into the re-exec state file, with the keys of
/// [`RuntimeState`]; read through `Deref` (`snap.active`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(flatten)]
    pub state: RuntimeState,
    /// Last command sequence number fully handled (per process: not carried
    /// across a re-exec).
    #[serde(skip)]
    pub ack: u64,
}

impl std::ops::Deref for Snapshot {
    type Target = RuntimeState;
    fn deref(&self) -> &RuntimeState {
        &self.state
    }
}

impl std::ops::DerefMut for Snapshot {
    fn deref_mut(&mut self) -> &mut RuntimeState {
        &mut self.state
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
