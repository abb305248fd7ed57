//! The Docker provider's registration: it runs `container` units, finds
//! its running containers again after a re-exec (they are started anew
//! and adopted, never frozen), and at daemon start keeps the containers
//! a crashed session wants and removes this instance's others.

use devctl_units::UnitKind;
use tracing::info;

use crate::core::actor::Spawn;
use crate::core::notes::Mailbox;
use crate::core::registry::{Boot, BoxFuture, ProviderKind};
use crate::providers::docker::provider::ContainerProvider;
use crate::providers::docker::{engine, recover};

/// Runs `container` units through the Docker Engine API.
#[derive(Debug, Clone, Copy, Default)]
pub struct Docker;

impl ProviderKind for Docker {
    fn kinds(&self) -> &[UnitKind] {
        &[UnitKind::Container]
    }

    fn spawn(&self, spawn: Spawn) -> Mailbox {
        let provider = ContainerProvider::new(&spawn.env().notify_dir);
        spawn.run(provider)
    }

    fn carries_runs(&self) -> bool {
        false
    }

    /// Containers outlive the daemon: before any unit starts, keep the
    /// running ones a crashed session wants (their providers adopt them)
    /// and remove this instance's others (all of them in a new session).
    /// Skipped when no loaded unit is a container.
    fn recover<'a>(&'a self, boot: &'a Boot) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if !boot.kinds.contains(&UnitKind::Container) {
                return;
            }
            let host = engine::host_from_env();
            if let Some(r) = recover::on_boot(&host, &boot.notify_dir, boot.wanted.as_ref()).await {
                info!(
                    kept = r.kept.len(),
                    removed = r.removed.len(),
                    "containers recovered"
                );
            }
        })
    }
}
