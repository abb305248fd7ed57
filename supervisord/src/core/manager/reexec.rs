//! The manager's side of a re-exec: freezing every actor into a
//! [`Frozen`] carry (the manager stops), and, in the new image, resuming
//! the session from the carry: each unit's snapshot and queued job
//! restored, each carried run adopted by its actor, and the units whose
//! provider does not carry runs started again. Whatever the session
//! recorded but nobody adopts is named to the providers' boot recovery,
//! which stops it first.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use tokio::sync::oneshot;
use tracing::{info, warn};

use devctl_units::api::Origin;
use devctl_units::state::{ActiveState, SubState};
use devctl_units::{ProjectName, UnitName};

use crate::core::jobs::job::{PendingStop, Queued};
use crate::core::manager::Manager;
use crate::core::reexec::{
    AdoptRun, CoreCarry, Frozen, FrozenStop, FrozenUnit, ReexecMsg, Resume, take_fd,
};
use crate::core::snapshot::Snapshot;
use crate::process::ExitCell;
use crate::state::files::SessionFile;

impl Manager {
    /// Freeze every actor and stop the manager; `reply` gets the result.
    pub(crate) fn freeze(&mut self, reply: oneshot::Sender<Frozen>) {
        // Messages waiting for their input check go out first (checked
        // here), so each actor has every command it was given before it
        // freezes.
        self.release_all_held();
        self.write_session_now();
        let mut waits = Vec::new();
        for (pn, p) in &mut self.projects {
            for (un, l) in &mut p.units {
                let Some(tx) = l.tx.take() else { continue };
                let (done, rx) = oneshot::channel();
                if tx.send(ReexecMsg::Freeze { reply: done }).is_err() {
                    continue;
                }
                let fu = FrozenUnit {
                    project: pn.clone(),
                    unit: un.clone(),
                    snap: l.snap.clone(),
                    backoff_left_ms: None,
                    pending_start: match &l.job.queued {
                        Some(Queued::Start {
                            origin, trigger, ..
                        }) => Some((*origin, trigger.clone())),
                        _ => None,
                    },
                    pending_stop: match &l.job.queued {
                        Some(Queued::Stop(s)) => Some(FrozenStop {
                            result: s.result,
                            message: s.message.clone(),
                            failed: s.failed,
                        }),
                        _ => None,
                    },
                    run: None,
                    rerun: None,
                };
                waits.push((fu, rx));
            }
        }
        self.done = true;
        info!(units = waits.len(), "freezing every unit for a re-exec");
        let mut frozen = Frozen {
            carry: CoreCarry {
                session_id: self.session.session_id.clone(),
                units: Vec::new(),
            },
            fds: Vec::new(),
            exits: Vec::new(),
            reaper: self.env.reaper.clone(),
        };
        tokio::spawn(async move {
            for (mut fu, rx) in waits {
                if let Ok(af) = rx.await {
                    fu.snap = af.snap;
                    fu.backoff_left_ms = af.backoff_left_ms;
                    fu.rerun = af.rerun;
                    if let Some(h) = af.run {
                        frozen.fds.extend(h.fds);
                        if let Some(cell) = h.exit {
                            frozen.exits.push((frozen.carry.units.len(), cell));
                        }
                        fu.run = Some(h.run);
                    }
                }
                frozen.carry.units.push(fu);
            }
            let _ = reply.send(frozen);
        });
    }

    /// The invocations `prev` recorded that no actor adopts from `carry`
    /// (a stop in progress, a carried unit no longer loaded).
    pub(crate) fn unadopted(&self, prev: &SessionFile, carry: &CoreCarry) -> Vec<String> {
        let adopted: BTreeSet<&str> = carry
            .units
            .iter()
            .filter(|fu| {
                self.projects
                    .get(&fu.project)
                    .is_some_and(|p| p.units.contains_key(&fu.unit))
            })
            .filter_map(|fu| fu.run.as_ref().map(|r| r.invocation.as_str()))
            .collect();
        prev.invocations()
            .filter(|i| !adopted.contains(*i))
            .map(str::to_owned)
            .collect()
    }

    /// Continue the session `prev` from a previous image's carry.
    pub(crate) async fn resume_reexec(
        &mut self,
        prev: SessionFile,
        carry: CoreCarry,
        cells: HashMap<i32, Arc<ExitCell>>,
    ) {
        let mut taken = BTreeSet::new();
        let mut adopted: BTreeSet<String> = BTreeSet::new();
        let mut plans = Vec::new();
        for fu in carry.units {
            let stdout = fu
                .run
                .as_ref()
                .and_then(|r| take_fd(r.stdout_fd, &mut taken));
            let stderr = fu
                .run
                .as_ref()
                .and_then(|r| take_fd(r.stderr_fd, &mut taken));
            let Some(l) = self
                .projects
                .get(&fu.project)
                .and_then(|p| p.units.get(&fu.unit))
            else {
                warn!(project = %fu.project, unit = %fu.unit, "carried unit is no longer loaded; its processes are stopped");
                continue;
            };
            let restarted = !self.providers.carries_runs(l.unit.kind);
            if let Some(r) = &fu.run {
                adopted.insert(r.invocation.clone());
            }
            plans.push((fu, stdout, stderr, restarted));
        }
        // Whatever the session recorded but nobody adopts (a stop in
        // progress, a carried unit that is gone) was stopped by the
        // providers' boot recovery ([`Manager::unadopted`]).
        info!(session = %prev.session_id, adopted = adopted.len(), "continuing the session after a re-exec");
        let wanted: BTreeMap<ProjectName, BTreeSet<UnitName>> = prev
            .units
            .iter()
            .map(|(p, us)| (p.clone(), us.keys().cloned().collect()))
            .collect();
        for (p, names) in &wanted {
            if let Some(proj) = self.projects.get_mut(p) {
                proj.should_run.extend(
                    names
                        .iter()
                        .filter(|n| proj.units.contains_key(*n))
                        .cloned(),
                );
            }
        }
        let mut restart: Vec<(ProjectName, UnitName)> = Vec::new();
        for (fu, stdout, stderr, restarted) in plans {
            let up = fu.snap.active != ActiveState::Failed
                && matches!(
                    fu.snap.active,
                    ActiveState::Active | ActiveState::Activating | ActiveState::Deactivating
                );
            let run = fu.run.clone().map(|frozen| AdoptRun {
                exit: cells.get(&frozen.pid).filter(|_| frozen.child).cloned(),
                frozen,
                stdout,
                stderr,
            });
            let in_backoff = fu.snap.sub == SubState::Backoff;
            // A finished one-shot (a build that succeeded) has no run by
            // nature: it stays finished, like systemd's across daemon-reexec.
            let finished = fu.snap.sub == SubState::Exited && fu.rerun.is_none();
            let stranded =
                up && run.is_none() && !in_backoff && !finished && fu.pending_start.is_none();
            if (restarted && up) || stranded {
                // Such a provider adopts its instance on start; a unit
                // caught without its run starts again.
                restart.push((fu.project.clone(), fu.unit.clone()));
                continue;
            }
            let mut snap = fu.snap.clone();
            if run.is_some() {
                // Shown at once; the actor confirms (or reports the exit).
                snap.origin = Some(Origin::Adopted);
            }
            let l = self
                .projects
                .get_mut(&fu.project)
                .and_then(|p| p.units.get_mut(&fu.unit))
                .expect("planned above");
            // A carry has at most one of the two (it froze one job).
            l.job.queued = match (&fu.pending_start, &fu.pending_stop) {
                (Some((origin, trigger)), _) => Some(Queued::Start {
                    origin: *origin,
                    trigger: trigger.clone(),
                    shown_waiting: false,
                }),
                (None, Some(s)) => Some(Queued::Stop(PendingStop {
                    result: s.result,
                    message: s.message.clone(),
                    failed: s.failed,
                })),
                (None, None) => None,
            };
            l.snap = Snapshot {
                ack: l.snap.ack,
                ..snap.clone()
            };
            let resume = Resume {
                snap,
                backoff_left_ms: fu.backoff_left_ms,
                run,
                rerun: fu.rerun.clone(),
            };
            self.send(&fu.project, &fu.unit, |seq| ReexecMsg::Resume {
                seq,
                resume: Box::new(resume),
            });
        }
        for (p, u) in restart {
            self.mark_start(
                &p,
                std::slice::from_ref(&u),
                Origin::Restarted,
                "daemon re-executed",
            );
        }
        for p in self.projects.keys().cloned().collect::<Vec<_>>() {
            self.advance(&p);
        }
    }
}
