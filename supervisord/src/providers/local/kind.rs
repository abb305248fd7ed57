//! The local-process provider's registration: it runs services, daemons
//! and builds, each actor with its own [`LocalProvider`]; a run lives on
//! across a re-exec (its pipes and pids are carried, then adopted).
//! What a previous daemon left (process trees carrying an invocation
//! marker nobody continues) is stopped by its boot recovery.

use devctl_units::UnitKind;
use tracing::info;

use crate::core::actor::Spawn;
use crate::core::notes::Mailbox;
use crate::core::registry::{Boot, BoxFuture, ProviderKind};
use crate::providers::local::provider::LocalProvider;
use crate::providers::local::recover;

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

    /// Stop the process trees of the invocations a previous daemon left
    /// that nobody continues, before any unit starts.
    fn recover<'a>(&'a self, boot: &'a Boot) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if boot.leftovers.is_empty() {
                return;
            }
            let stopped = recover::stop_leftovers(&boot.leftovers).await;
            info!(
                recorded = boot.leftovers.len(),
                stopped, "processes a previous daemon left stopped"
            );
        })
    }
}
