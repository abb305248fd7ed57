//! The registered providers as the core sees them: a [`ProviderKind`] is
//! one provider's registration (the unit kinds it runs, how its actor is
//! made, whether a run survives a re-exec, what a daemon start recovers);
//! [`Providers`] finds the one for a unit's kind. The registrations
//! themselves are listed in `crate::providers::registry`.

use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use devctl_units::UnitKind;

use crate::core::actor::Spawn;
use crate::core::notes::Mailbox;
use crate::core::provider::Unavailable;

/// A future a registered provider returns (the registry holds providers
/// as trait objects).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a daemon start knows when providers recover what a previous
/// daemon left behind (before any unit starts).
#[derive(Debug, Clone)]
pub struct Boot {
    /// The runnable kinds of every loaded unit.
    pub kinds: BTreeSet<UnitKind>,
    /// `(project, unit)` pairs a crashed session wanted running; `None`
    /// when a new session begins (nothing of this daemon's is wanted).
    pub wanted: Option<BTreeSet<(String, String)>>,
    /// The daemon instance's notify directory (it names the instance).
    pub notify_dir: PathBuf,
    /// Invocations a previous daemon recorded that nobody here continues
    /// (a crashed session's runs; after a re-exec, those no actor adopts):
    /// each provider stops what it finds of them.
    pub leftovers: Vec<String>,
}

/// One registered provider: the unit kinds it runs and everything else a
/// kind brings (see `crate::providers::registry`).
pub trait ProviderKind: Send + Sync + 'static {
    /// The unit kinds it runs.
    fn kinds(&self) -> &[UnitKind];
    /// Start one unit's actor with a fresh provider value
    /// (`spawn.run(provider)`).
    fn spawn(&self, spawn: Spawn) -> Mailbox;
    /// Whether a run lives on across a re-exec inside the actor (frozen,
    /// then adopted by [`Provider::adopt`]); when not, a unit that was up
    /// is started again and its provider finds the running instance.
    fn carries_runs(&self) -> bool {
        true
    }
    /// Daemon start: settle what a previous daemon left behind.
    fn recover<'a>(&'a self, _boot: &'a Boot) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// Every registered provider, by the unit kinds they run.
pub struct Providers {
    registered: Vec<Box<dyn ProviderKind>>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<&[UnitKind]> = self.registered.iter().map(|p| p.kinds()).collect();
        f.debug_struct("Providers").field("kinds", &kinds).finish()
    }
}

impl Providers {
    /// The registry of `registered` (the first one naming a kind runs it).
    pub fn new(registered: Vec<Box<dyn ProviderKind>>) -> Providers {
        Providers { registered }
    }

    fn of(&self, kind: UnitKind) -> Option<&dyn ProviderKind> {
        self.registered
            .iter()
            .find(|p| p.kinds().contains(&kind))
            .map(|p| &**p)
    }

    /// Start a unit's actor with the provider of its kind (one that fails
    /// every start, saying so, when none is registered).
    pub fn spawn(&self, spawn: Spawn) -> Mailbox {
        let kind = spawn.unit().kind;
        match self.of(kind) {
            Some(p) => p.spawn(spawn),
            None => spawn.run(Unavailable::new(format!(
                "devctld has no provider for {} units in this build",
                kind.as_str()
            ))),
        }
    }

    /// See [`ProviderKind::carries_runs`].
    pub fn carries_runs(&self, kind: UnitKind) -> bool {
        self.of(kind).is_none_or(|p| p.carries_runs())
    }

    /// Let every provider recover what a previous daemon left behind.
    pub async fn recover(&self, boot: &Boot) {
        for p in &self.registered {
            p.recover(boot).await;
        }
    }
}
