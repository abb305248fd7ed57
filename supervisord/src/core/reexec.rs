//! The core's side of a re-exec (`devctl daemon reexec`): freezing every
//! unit actor into plain data plus the fds to inherit ([`Frozen`]), and, in
//! the new image, resuming the session from that data ([`CoreCarry`]).
//!
//! Freezing stops the manager (later requests get "shutting down") and
//! asks each actor for its state; an actor with a local run pauses the
//! run's log pumps and hands back their pipes, leaving every process
//! untouched. Resuming registers the inherited children with the reaper
//! before it first reaps, restores each unit's snapshot, lets each actor
//! adopt its run (origin `adopted`: pidfd + start-time check, pumps on the
//! inherited pipes, probes and timers restarted), re-queues pending starts
//! and stops, stops whatever recorded invocation was not adopted, and
//! starts containers again (their provider adopts the running container).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tracing::{info, warn};

use devctl_units::api::Origin;
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{ProjectName, UnitKind, UnitName};

use crate::core::manager::Manager;
use crate::core::project::PendingStop;
use crate::core::session::kill_leftovers;
use crate::core::snapshot::{ActorMsg, Snapshot};
use crate::process::{ExitCell, ExitStatus, Reaper};
use crate::state::files::SessionFile;

/// An exit status as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenExit {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub core_dumped: bool,
}

impl FrozenExit {
    pub fn of(st: ExitStatus) -> FrozenExit {
        match st {
            ExitStatus::Exited(code) => FrozenExit {
                code: Some(code),
                signal: None,
                core_dumped: false,
            },
            ExitStatus::Signaled {
                signal,
                core_dumped,
            } => FrozenExit {
                code: None,
                signal: Some(signal),
                core_dumped,
            },
        }
    }

    pub fn status(self) -> ExitStatus {
        match (self.code, self.signal) {
            (Some(code), _) => ExitStatus::Exited(code),
            (None, Some(signal)) => ExitStatus::Signaled {
                signal,
                core_dumped: self.core_dumped,
            },
            (None, None) => ExitStatus::Exited(255),
        }
    }
}

/// One run's processes and pipes, carried across the exec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenRun {
    /// `DEVCTL_INVOCATION_ID` of the tree.
    pub invocation: String,
    pub pid: i32,
    /// From `/proc/<pid>/stat`; checked again before adopting.
    pub start_time: u64,
    pub pgid: i32,
    /// The main process is this daemon's child (a service or build; a
    /// daemon unit's forked pid is not), so the reaper delivers its status.
    pub child: bool,
    pub cgroup: Option<PathBuf>,
    /// The read ends of the run's stdout/stderr pipes (inherited fds).
    pub stdout_fd: Option<i32>,
    pub stderr_fd: Option<i32>,
    /// The run's environment and directory (probes, the stop command).
    pub env: Vec<(String, String)>,
    pub dir: PathBuf,
    /// The unit had become ready (readiness phase past `starting`).
    pub was_ready: bool,
    /// Time left on the run's timers, in milliseconds.
    pub start_left_ms: Option<u64>,
    pub run_left_ms: Option<u64>,
    pub idle_left_ms: Option<u64>,
    /// Reaped by the old image after the actor froze (exec raced an exit).
    pub exited: Option<FrozenExit>,
}

/// A queued stop, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenStop {
    pub result: UnitResult,
    pub message: Option<String>,
    pub failed: bool,
}

/// One runnable unit across the exec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenUnit {
    pub project: ProjectName,
    pub unit: UnitName,
    pub snap: Snapshot,
    /// Time left before a restart in backoff, in milliseconds.
    pub backoff_left_ms: Option<u64>,
    pub pending_start: Option<(Origin, String)>,
    pub pending_stop: Option<FrozenStop>,
    pub run: Option<FrozenRun>,
    /// A build's queued re-run and its reason.
    #[serde(default)]
    pub rerun: Option<String>,
}

/// What the core hands to its next image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreCarry {
    pub session_id: String,
    pub units: Vec<FrozenUnit>,
}

impl CoreCarry {
    /// Pids whose exit status this process will reap (children).
    pub fn child_pids(&self) -> Vec<i32> {
        self.units
            .iter()
            .filter_map(|u| u.run.as_ref())
            .filter(|r| r.child && r.pid > 0)
            .map(|r| r.pid)
            .collect()
    }

    /// Every inherited fd the carry names.
    pub fn fds(&self) -> Vec<i32> {
        self.units
            .iter()
            .filter_map(|u| u.run.as_ref())
            .flat_map(|r| [r.stdout_fd, r.stderr_fd])
            .flatten()
            .collect()
    }
}

/// A local run an actor handed over while freezing.
#[derive(Debug)]
pub struct HeldRun {
    pub run: FrozenRun,
    /// The pipes `run` names by number.
    pub fds: Vec<OwnedFd>,
    /// The main process's exit, when it is our child.
    pub exit: Option<Arc<ExitCell>>,
}

/// An actor's answer to `Freeze`.
#[derive(Debug)]
pub struct ActorFrozen {
    pub snap: Snapshot,
    pub backoff_left_ms: Option<u64>,
    pub run: Option<HeldRun>,
    pub rerun: Option<String>,
}

/// A run for an actor to adopt in the new image.
#[derive(Debug)]
pub struct AdoptRun {
    pub frozen: FrozenRun,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
    /// Registered with the reaper before it first reaped.
    pub exit: Option<Arc<ExitCell>>,
}

/// What an actor resumes from.
#[derive(Debug)]
pub struct Resume {
    pub snap: Snapshot,
    pub backoff_left_ms: Option<u64>,
    pub run: Option<AdoptRun>,
    pub rerun: Option<String>,
}

/// The frozen core: the carry, the fds it names, and the exits to check
/// one last time under the reaper's lock.
#[derive(Debug)]
pub struct Frozen {
    pub carry: CoreCarry,
    pub fds: Vec<OwnedFd>,
    exits: Vec<(usize, Arc<ExitCell>)>,
    reaper: Arc<Reaper>,
}

impl Frozen {
    /// Take the reaper's lock (held until the exec: nothing more is
    /// reaped by this image) and record the exits reaped since freezing.
    pub fn seal(&mut self) -> crate::process::Registration<'static> {
        let guard = self.reaper.registration();
        for (i, cell) in &self.exits {
            if let (Some(st), Some(run)) = (cell.get(), self.carry.units[*i].run.as_mut()) {
                run.exited = Some(FrozenExit::of(st));
            }
        }
        guard
    }
}

/// Take ownership of an inherited fd named by a carry: open, not taken
/// twice, not stdio. `None` otherwise (a corrupt state file).
fn take_fd(fd: Option<i32>, taken: &mut BTreeSet<i32>) -> Option<OwnedFd> {
    let fd = fd?;
    if fd <= 2 || !taken.insert(fd) {
        return None;
    }
    // SAFETY: F_GETFD on any integer only reads the fd table.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return None;
    }
    // SAFETY: the fd is open, was inherited across the exec for exactly
    // this purpose (the previous image leaked it on purpose), and `taken`
    // guarantees only one owner is created for it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl Manager {
    /// Freeze every actor and stop the manager; `reply` gets the result.
    pub(crate) fn freeze(&mut self, reply: oneshot::Sender<Frozen>) {
        self.write_session_now();
        let mut waits = Vec::new();
        for (pn, p) in &mut self.projects {
            for (un, l) in &mut p.units {
                let Some(tx) = l.tx.take() else { continue };
                let (done, rx) = oneshot::channel();
                if tx.send(ActorMsg::Freeze { reply: done }).is_err() {
                    continue;
                }
                let fu = FrozenUnit {
                    project: pn.clone(),
                    unit: un.clone(),
                    snap: l.snap.clone(),
                    backoff_left_ms: None,
                    pending_start: l.pending_start.clone(),
                    pending_stop: l.pending_stop.as_ref().map(|s| FrozenStop {
                        result: s.result,
                        message: s.message.clone(),
                        failed: s.failed,
                    }),
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
            let container = l.unit.kind == UnitKind::Container;
            if let Some(r) = &fu.run {
                adopted.insert(r.invocation.clone());
            }
            plans.push((fu, stdout, stderr, container));
        }
        // Whatever the session recorded but nobody adopts (a stop in
        // progress, a carried unit that is gone) is stopped first.
        let leftovers: Vec<String> = prev
            .invocations()
            .filter(|i| !adopted.contains(*i))
            .map(str::to_owned)
            .collect();
        let killed = kill_leftovers(leftovers).await;
        info!(session = %prev.session_id, adopted = adopted.len(), killed, "continuing the session after a re-exec");
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
        for (fu, stdout, stderr, container) in plans {
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
            if (container && up) || stranded {
                // Containers are adopted by their provider on start; a
                // local unit caught without its run starts again.
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
            l.pending_start = fu.pending_start.clone();
            l.pending_stop = fu.pending_stop.as_ref().map(|s| PendingStop {
                result: s.result,
                message: s.message.clone(),
                failed: s.failed,
            });
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
            self.send(&fu.project, &fu.unit, |seq| ActorMsg::Resume {
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

/// Close fds a carry names that could not be used (the new image fell
/// back to crash recovery).
pub fn close_carried(fds: &[i32]) {
    let mut taken = BTreeSet::new();
    for fd in fds {
        drop(take_fd(Some(*fd), &mut taken));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn snapshots_and_exits_round_trip() {
        let s = Snapshot {
            active: ActiveState::Active,
            sub: SubState::Ready,
            main_pid: Some(7),
            restarts: 2,
            origin: Some(Origin::Started),
            invocation: Some("abc".into()),
            ack: 9,
            ..Snapshot::default()
        };
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("ack"), "ack is per process: {json}");
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(Snapshot { ack: 9, ..back }, s);
        for st in [
            ExitStatus::Exited(3),
            ExitStatus::Signaled {
                signal: 9,
                core_dumped: false,
            },
        ] {
            assert_eq!(FrozenExit::of(st).status(), st);
        }
    }

    #[test]
    fn bad_fds_in_a_carry_are_refused() {
        let mut taken = BTreeSet::new();
        assert!(take_fd(None, &mut taken).is_none());
        assert!(
            take_fd(Some(1), &mut taken).is_none(),
            "stdio is never taken"
        );
        assert!(take_fd(Some(987_654), &mut taken).is_none(), "closed fd");
        let (r, _w) = nix::unistd::pipe().unwrap();
        let n = r.as_raw_fd();
        std::mem::forget(r);
        let owned = take_fd(Some(n), &mut taken).expect("open fd");
        assert!(take_fd(Some(n), &mut taken).is_none(), "never owned twice");
        drop(owned);
    }
}
