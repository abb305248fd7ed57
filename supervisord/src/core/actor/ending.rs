//! How a run ends on request: stopped (`stop_now`, `halt_run`), or
//! replaced by a new one (`restart`), which a provider may let update its
//! instance in place.

use devctl_units::api::Origin;
use devctl_units::state::{ActiveState, SubState, UnitResult};

use super::{Actor, Timers};
use crate::core::protocol::Replace;
use crate::core::provider::{Provider, StopReport};

impl<P: Provider> Actor<P> {
    pub(super) async fn restart(&mut self, trigger: String, how: Replace) {
        if self.running {
            if how == Replace::Update && self.provider.hand_over().await {
                // The next run takes over what this one created.
                self.log.marker("updating in place");
                self.cancel_run_timers();
                self.run_ended();
            } else {
                self.log.marker("restarting");
                self.halt_run().await;
            }
        }
        self.hist.reset();
        self.snap.restarts = 0;
        self.snap.trigger = Some(trigger);
        self.snap.origin = Some(Origin::Started);
        self.spawn_run().await;
    }

    /// Forget the current run's timers, probes and queued re-run.
    pub(super) fn cancel_run_timers(&mut self) {
        self.timers = Timers::default();
        self.watch = None;
        self.rerun_queued = false;
        self.queued_trigger = None;
    }

    /// The current run is over: notes about it are stale from now on.
    fn run_ended(&mut self) {
        self.running = false;
        self.run += 1;
        self.snap.main_pid = None;
    }

    /// Stop the current run (if any) and cancel timers; no state decided.
    pub(super) async fn halt_run(&mut self) -> StopReport {
        self.cancel_run_timers();
        if !self.running {
            return StopReport::Graceful;
        }
        self.set(ActiveState::Deactivating, SubState::Stopping);
        self.report();
        let outcome = self.provider.stop(&self.unit.stop).await;
        self.run_ended();
        match &outcome {
            StopReport::Graceful => self.log.marker("stopped"),
            StopReport::Killed => self.log.marker(format!(
                "killed after timeout ({})",
                humantime::format_duration(self.unit.stop.timeout)
            )),
            StopReport::Unkillable(p) => self
                .log
                .marker(format!("processes survived SIGKILL: {p:?}")),
        }
        outcome
    }

    pub(super) async fn stop_now(
        &mut self,
        result: UnitResult,
        message: Option<String>,
        failed: bool,
    ) {
        if self.running {
            self.log.marker(&match &message {
                Some(m) => format!("stopping: {m}"),
                None => "stopping".into(),
            });
        }
        let outcome = self.halt_run().await;
        self.snap.next_restart_ms = None;
        self.snap.ready = None;
        self.snap.invocation = None;
        if let StopReport::Unkillable(pids) = outcome {
            self.set(ActiveState::Failed, SubState::Failed);
            self.snap.result = Some(UnitResult::Unkillable);
            self.snap.message = Some(format!("processes still around after SIGKILL: {pids:?}"));
            return;
        }
        let active = if failed {
            ActiveState::Failed
        } else {
            ActiveState::Inactive
        };
        let sub = if failed {
            SubState::Failed
        } else {
            SubState::Dead
        };
        self.set(active, sub);
        self.snap.result = Some(result);
        self.snap.message = message;
    }
}
