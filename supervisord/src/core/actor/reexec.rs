//! A unit actor across a re-exec: [`Actor::freeze`] hands the unit's state
//! and its run (processes untouched) to the manager of the old image;
//! [`Actor::resume`] takes them over in the new one — the snapshot as it
//! was, the run adopted by the provider (origin `adopted`), readiness kept,
//! probes and log followers restarted, timers re-armed with the time they
//! had left (a backoff restarts on schedule; the restart history behind
//! the start limit begins afresh; a build's queued re-run stays queued).

use std::time::Duration;

use tokio::time::Instant;
use tracing::{info, warn};

use devctl_units::api::Origin;
use devctl_units::state::{SubState, UnitResult};

use super::{Actor, Timers};
use crate::core::notes::NoteTx;
use crate::core::policy_ready::{ReadyPhase, ReadyState};
use crate::core::policy_restart::ExitCause;
use crate::core::provider::{Provider, RunCtx};
use crate::core::reexec::{ActorFrozen, Resume};
use crate::core::runwatch::RunWatch;
use crate::core::snapshot::Snapshot;
use crate::probe::ProbeCtx;

fn left(t: Option<Instant>, now: Instant) -> Option<u64> {
    t.map(|t| t.saturating_duration_since(now).as_millis() as u64)
}

impl<P: Provider> Actor<P> {
    /// Stop watching, hand the run over, leave the processes alone.
    pub(super) async fn freeze(&mut self) -> ActorFrozen {
        self.watch = None;
        let now = Instant::now();
        let run = if self.running {
            self.provider.freeze().await.map(|mut h| {
                h.run.invocation = self.snap.invocation.clone().unwrap_or_default();
                h.run.was_ready = self.ready.phase != ReadyPhase::Starting;
                h.run.start_left_ms = left(self.timers.start, now);
                h.run.run_left_ms = left(self.timers.run, now);
                h.run.idle_left_ms = left(self.timers.idle, now);
                h
            })
        } else {
            None
        };
        ActorFrozen {
            snap: self.snap.clone(),
            backoff_left_ms: left(self.timers.backoff, now),
            run,
            rerun: self
                .rerun_queued
                .then(|| self.queued_trigger.clone().unwrap_or_default()),
        }
    }

    /// Take over the state a previous image froze.
    pub(super) async fn resume(&mut self, seq: u64, r: Resume) {
        self.snap = Snapshot { ack: seq, ..r.snap };
        self.timers = Timers::default();
        let now = Instant::now();
        if self.snap.sub == SubState::Backoff {
            let delay = Duration::from_millis(r.backoff_left_ms.unwrap_or(0));
            self.timers.backoff = Some(now + delay);
        }
        if let Some(reason) = r.rerun {
            self.rerun_queued = true;
            self.queued_trigger = Some(reason);
        }
        let Some(run) = r.run else { return };
        let unit = self.unit.clone();
        self.run += 1;
        self.ready = ReadyState::new(unit.ready.as_ref(), unit.alive.as_ref());
        self.probe_failure = None;
        let frozen = run.frozen.clone();
        let mut watch =
            RunWatch::before_spawn(&unit, &self.log, self.run, NoteTx::weak(&self.notes_tx));
        let probe_ctx = ProbeCtx {
            reaper: self.env.reaper.clone(),
            dir: unit.working_dir().to_path_buf(),
            env: frozen.env.as_slice().into(),
            unit_marker: Some(frozen.invocation.clone()),
        };
        let ctx = RunCtx {
            unit: unit.clone(),
            run: self.run,
            invocation: frozen.invocation.clone(),
            env: frozen.env.clone().into(),
            log: self.log.clone(),
            facts: NoteTx::weak(&self.notes_tx),
        };
        match self.provider.adopt(ctx, run).await {
            Ok(pid) => {
                self.running = true;
                self.snap.main_pid = Some(pid);
                self.snap.origin = Some(Origin::Adopted);
                self.snap.invocation = Some(frozen.invocation.clone());
                self.log
                    .marker(format!("adopted pid {pid} after the daemon re-executed"));
                info!(project = %unit.project, unit = %unit.name, pid, "adopted after re-exec");
                if frozen.was_ready {
                    self.ready.phase = if self.snap.sub == SubState::NotReady {
                        ReadyPhase::NotReady
                    } else {
                        ReadyPhase::Ready
                    };
                    watch.settled();
                }
                let ms = |v: Option<u64>| v.map(|ms| now + Duration::from_millis(ms));
                self.timers.start = ms(frozen.start_left_ms);
                self.timers.run = ms(frozen.run_left_ms);
                self.timers.idle = ms(frozen.idle_left_ms);
                watch.start_probes(&unit, probe_ctx, &self.env.listen);
                self.watch = Some(watch);
            }
            Err(e) => {
                let message = match e {
                    crate::core::provider::StartFailure::Permanent { message, .. }
                    | crate::core::provider::StartFailure::Transient { message, .. } => message,
                };
                warn!(project = %unit.project, unit = %unit.name, "{message}");
                self.log.marker(&message);
                self.snap.invocation = None;
                self.decide(ExitCause::Failure(UnitResult::ExitCode), Some(message))
                    .await;
            }
        }
    }
}
