//! The Kubernetes provider's registration: it runs `kubernetes` units. A
//! run is not frozen across a re-exec: the objects live in the cluster,
//! and the next daemon's start finds them unchanged and adopts them (the
//! same path as after a crash).

use devctl_units::UnitKind;

use crate::core::actor::Spawn;
use crate::core::notes::Mailbox;
use crate::core::registry::ProviderKind;
use crate::providers::kubernetes::provider::KubeProvider;

/// Runs `kubernetes` units through the API server of their cluster.
#[derive(Debug, Clone, Copy, Default)]
pub struct Kubernetes;

impl ProviderKind for Kubernetes {
    fn kinds(&self) -> &[UnitKind] {
        &[UnitKind::Kubernetes]
    }

    fn spawn(&self, spawn: Spawn) -> Mailbox {
        spawn.run(KubeProvider::new())
    }

    fn carries_runs(&self) -> bool {
        false
    }
}
