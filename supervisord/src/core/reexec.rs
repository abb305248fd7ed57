//! What the core carries across a re-exec (`devctl daemon reexec`): every
//! unit actor frozen into plain data plus the fds to inherit ([`Frozen`]),
//! and, in the new image, the data the session resumes from
//! ([`CoreCarry`]). The manager's side (freezing, resuming) is in
//! `manager/reexec.rs`.
//!
//! Freezing stops the manager (later requests get "shutting down") and
//! asks each actor for its state; an actor with a local run pauses the
//! run's log pumps and hands back their pipes, leaving every process
//! untouched. Resuming registers the inherited children with the reaper
//! before it first reaps, restores each unit's snapshot, lets each actor
//! adopt its run (origin `adopted`: pidfd + start-time check, pumps on the
//! inherited pipes, probes and timers restarted), re-queues pending starts
//! and stops, stops whatever recorded invocation was not adopted, and
//! starts again the units whose provider does not carry runs across an
//! exec (it finds its running instance on start).

use std::collections::BTreeSet;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use devctl_units::api::Origin;
use devctl_units::state::UnitResult;
use devctl_units::{ProjectName, UnitName};

use crate::core::snapshot::Snapshot;
use crate::process::{ExitCell, ExitStatus, Reaper};

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

/// One run carried across the exec: what the daemon itself must know
/// (the main pid the reaper may owe a status for, the pipes to inherit,
/// the run's environment, readiness and timers), and what the run's
/// provider carries for itself, opaque here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrozenRun {
    /// `DEVCTL_INVOCATION_ID` of the tree.
    pub invocation: String,
    pub pid: i32,
    /// The main process is this daemon's child, so the reaper delivers
    /// its status.
    pub child: bool,
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
    /// The provider's own part, which only it reads (its keys sit beside
    /// the ones above in the file, and it refuses ones it does not know).
    #[serde(flatten)]
    pub provider: serde_json::Map<String, serde_json::Value>,
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

/// The manager's re-exec commands to an actor, apart from the base
/// protocol (`protocol.rs` knows nothing of re-exec).
#[derive(Debug)]
pub enum ReexecMsg {
    /// Hand the unit's state (and its run's pipes) over and leave without
    /// touching any process.
    Freeze { reply: oneshot::Sender<ActorFrozen> },
    /// In a re-executed daemon: take the carried state over (and adopt the
    /// carried run, if any).
    Resume { seq: u64, resume: Box<Resume> },
}

/// The frozen core: the carry, the fds it names, and the exits to check
/// one last time under the reaper's lock.
#[derive(Debug)]
pub struct Frozen {
    pub carry: CoreCarry,
    pub fds: Vec<OwnedFd>,
    pub(crate) exits: Vec<(usize, Arc<ExitCell>)>,
    pub(crate) reaper: Arc<Reaper>,
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
pub(crate) fn take_fd(fd: Option<i32>, taken: &mut BTreeSet<i32>) -> Option<OwnedFd> {
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
    use devctl_units::api::RuntimeState;
    use devctl_units::state::{ActiveState, SubState};
    use std::os::fd::AsRawFd;

    #[test]
    fn snapshots_and_exits_round_trip() {
        let s = Snapshot {
            state: RuntimeState {
                active: ActiveState::Active,
                sub: SubState::Ready,
                main_pid: Some(7),
                restarts: 2,
                origin: Some(Origin::Started),
                invocation: Some("abc".into()),
                ..RuntimeState::default()
            },
            ack: 9,
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
