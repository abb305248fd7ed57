//! The local-process provider's registration: it runs services, daemons
//! and builds, each actor with its own [`LocalProvider`]; a run lives on
//! across a re-exec (its pipes and pids are carried, then adopted).
//! What a crashed daemon left (process trees carrying a recorded
//! invocation marker) is stopped by the session's recovery.

use devctl_units::UnitKind;

use crate::core::actor::Spawn;
use crate::core::notes::Mailbox;
use crate::core::registry::ProviderKind;
use crate::providers::local::provider::LocalProvider;

/// Runs units as local process trees.
#[derive(Debug, Clone, Copy, Default)]
pub struct Local;

impl ProviderKind for Local {
    fn kinds(&self) -> &[UnitKind] {
        &[UnitKind::Service, UnitKind::Daemon, UnitKind::Build]
    }

    fn spawn(&self, spawn: Spawn) -> Mailbox {
        let env = spawn.env();
        let provider = LocalProvider::new(env.reaper.clone(), env.notify_dir.clone())
            .with_cgroup(env.cgroup.clone());
        spawn.run(provider)
    }
}
