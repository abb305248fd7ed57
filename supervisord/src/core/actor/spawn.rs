//! Starting a unit's actor: [`Spawn`] carries what the actor needs; the
//! provider registered for the unit's kind picks the provider value and
//! calls [`Spawn::run`].

use std::sync::Arc;

use devctl_units::Unit;

use super::{Actor, ActorEnv};
use crate::core::notes::{Mailbox, mailbox};
use crate::core::protocol::ReportTx;
use crate::core::provider::Provider;
use crate::core::snapshot::Snapshot;
use crate::logs::UnitLog;

/// What starting one unit's actor takes. The provider registered for the
/// unit's kind receives it and picks the provider value ([`Spawn::run`]).
pub struct Spawn {
    unit: Arc<Unit>,
    log: UnitLog,
    env: ActorEnv,
    reports: ReportTx,
    initial: Snapshot,
}

impl Spawn {
    /// What starting `unit`'s actor takes: its log, the daemon-wide
    /// inputs, where it reports, and the state it begins in.
    pub fn new(
        unit: Arc<Unit>,
        log: UnitLog,
        env: ActorEnv,
        reports: ReportTx,
        initial: Snapshot,
    ) -> Spawn {
        Spawn {
            unit,
            log,
            env,
            reports,
            initial,
        }
    }

    /// The unit whose actor is being started.
    pub fn unit(&self) -> &Arc<Unit> {
        &self.unit
    }

    /// The daemon-wide inputs (reaper, notify directory, cgroup parent…).
    pub fn env(&self) -> &ActorEnv {
        &self.env
    }

    /// Start the actor task with `provider`; returns its mailbox.
    pub fn run<P: Provider>(self, provider: P) -> Mailbox {
        let unit = provider.view(self.unit);
        let (tx, rx) = mailbox();
        let actor = Actor::new(
            unit,
            provider,
            self.log,
            self.env,
            self.reports,
            self.initial,
            tx.downgrade(),
        );
        tokio::spawn(Box::new(actor).run_loop(rx));
        tx
    }
}
