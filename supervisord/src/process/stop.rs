//! The three-step whole-tree stop: the configured signal (and SIGCONT) to
//! the process group, to every process carrying the invocation marker and
//! to the invocation's cgroup; wait until all are gone (reaper wakeups plus
//! short `/proc` rescans); then SIGKILL the same set until it is empty or
//! the kill wait runs out. Pids from a scan are re-checked against their
//! start time right before each signal; the main pid goes through its pidfd.
//! A tree we spawned whose leader was reaped is often known to be empty
//! without any scan ([`provably_empty`]); otherwise scans are shared
//! process tables ([`procfs::table_after`]): each pass asks for a table
//! that started after its own last signal and last table, so concurrent
//! stops of many units share one `/proc` pass per wake-up.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use devctl_units::Signal;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::cgroup::InvocationCgroup;
use super::pidfd::{PidFd, raw_kill, raw_killpg, signal_checked};
use super::procfs;
use super::reaper::{ExitCell, Reaper};

/// Names one process tree: the main process, its group and its marker.
#[derive(Debug, Clone)]
pub struct TreeRef {
    /// The main (leader) pid.
    pub pid: i32,
    pub start_time: u64,
    pub pidfd: Option<Arc<PidFd>>,
    /// Its process group (the leader's pid for a spawned unit).
    pub pgid: i32,
    /// The `DEVCTL_INVOCATION_ID` value.
    pub marker: String,
    pub cgroup: Option<Arc<InvocationCgroup>>,
    /// The leader's exit, when it is our child.
    pub exit: Option<Arc<ExitCell>>,
}

impl TreeRef {
    /// Re-attach to a tree recorded earlier (e.g. by a previous daemon run).
    /// `None` when `pid` is no longer the process that started at
    /// `start_time`: the tree may still hold marked processes, so a
    /// marker-only reference is returned by [`TreeRef::marker_only`].
    pub fn adopt(pid: i32, start_time: u64, marker: &str) -> Option<TreeRef> {
        let pidfd = PidFd::open(pid).ok().map(Arc::new);
        // Check identity after opening the pidfd: if it matches now, the fd
        // names the right process for good.
        let st = procfs::stat(pid)?;
        (st.start_time == start_time && !st.is_zombie()).then(|| TreeRef {
            pid,
            start_time,
            pidfd,
            pgid: st.pgid,
            marker: marker.to_string(),
            cgroup: None,
            exit: None,
        })
    }

    /// A tree known only by its marker (leader gone).
    pub fn marker_only(marker: &str) -> TreeRef {
        TreeRef {
            pid: 0,
            start_time: 0,
            pidfd: None,
            pgid: 0,
            marker: marker.to_string(),
            cgroup: None,
            exit: None,
        }
    }

    fn leader_alive(&self) -> bool {
        if self.pid <= 0 || self.exit.as_ref().is_some_and(|e| e.get().is_some()) {
            return false;
        }
        procfs::is_same_live_process(self.pid, self.start_time)
    }
}

/// How a stop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopOutcome {
    /// Everything exited after the configured signal.
    Graceful,
    /// SIGKILL was needed and worked.
    Killed,
    /// These pids survived the final SIGKILL (e.g. stuck in `D` state).
    Unkillable(Vec<i32>),
}

/// The live processes of a tree in `table`, pid → start time.
fn survivors(t: &TreeRef, table: &procfs::Table) -> BTreeMap<i32, u64> {
    let mut set: BTreeMap<i32, u64> = table
        .marked(&t.marker)
        .map(|p| (p.pid, p.start_time))
        .collect();
    if t.leader_alive() {
        set.insert(t.pid, t.start_time);
    }
    if t.pgid > 1 {
        let members: Vec<(i32, u64)> = table.group(t.pgid).map(|p| (p.pid, p.start_time)).collect();
        // The group id is ours unless a different process now leads a
        // group with that id (our leader gone and the id recycled).
        let recycled = members
            .iter()
            .any(|&(pid, st)| pid == t.pgid && (pid != t.pid || st != t.start_time));
        if !recycled {
            set.extend(members);
        }
    }
    if let Some(cg) = &t.cgroup {
        for pid in cg.procs() {
            if let Some(st) = procfs::stat(pid).filter(|s| !s.is_zombie()) {
                set.insert(pid, st.start_time);
            }
        }
    }
    set
}

/// True when a tree we spawned is empty, known without a `/proc` pass: its
/// leader was reaped, its cgroup (if any) is empty, and no child of ours
/// can hold its processes. The daemon is a child subreaper, so every
/// process of a tree it spawned descends from it: with the leader gone,
/// whatever is left hangs below one of our children that was spawned with
/// this marker, or is an orphan re-parented to us (see
/// [`Reaper::tree_roots_among`]). Anything else goes through the table.
/// One look is enough, unlike a table's: a child that dies stays in our
/// children as a zombie until we reap it, and its own children were
/// re-parented to us before that, so a process of the tree is always seen
/// either below a child we list or as one.
fn provably_empty(t: &TreeRef) -> bool {
    t.exit.as_ref().is_some_and(|e| e.get().is_some())
        && !t.cgroup.as_ref().is_some_and(|cg| cg.populated())
        && procfs::own_children()
            .is_some_and(|kids| Reaper::tree_roots_among(&kids, &t.marker).is_empty())
}

/// Signal every member of `set` (and the group) with `sig`.
fn signal_all(t: &TreeRef, set: &BTreeMap<i32, u64>, sig: i32) {
    // Only signal the group while a member we know of is in it: then the
    // group id cannot have been recycled.
    if t.pgid > 1
        && set
            .keys()
            .any(|pid| procfs::stat(*pid).is_some_and(|s| s.pgid == t.pgid))
        && let Err(e) = raw_killpg(t.pgid, sig)
    {
        warn!(pgid = t.pgid, sig, error = %e, "cannot signal process group");
    }
    for (&pid, &start_time) in set {
        let via_fd = if pid == t.pid {
            t.pidfd.as_deref()
        } else {
            None
        };
        if let Err(e) = signal_checked(pid, start_time, via_fd, sig) {
            warn!(pid, sig, error = %e, "cannot signal process");
        }
    }
    if sig == libc::SIGKILL
        && let Some(cg) = &t.cgroup
        && let Err(e) = cg.kill()
    {
        warn!(cgroup = %cg.path().display(), error = %e, "cgroup.kill failed");
    }
}

fn is_empty(t: &TreeRef, set: &BTreeMap<i32, u64>) -> bool {
    set.is_empty() && !t.cgroup.as_ref().is_some_and(|cg| cg.populated())
}

/// Wait until the tree is empty or `deadline`; `Ok(())` when empty, else
/// the survivors. Every pass looks at a process table newer than the last
/// (shared with concurrent stops); a reap wakes it early.
/// Processes that appear meanwhile (forked while the signal was in flight)
/// get `sig` too; with `every_pass`, everyone gets it on every pass.
/// Emptiness must be seen by two scans a moment apart: a process in the
/// middle of `exec` briefly shows an empty environment.
async fn wait_empty(
    t: &TreeRef,
    deadline: Instant,
    sig: i32,
    every_pass: bool,
    signalled: &mut BTreeMap<i32, u64>,
) -> Result<(), BTreeMap<i32, u64>> {
    let mut interval = Duration::from_millis(2);
    let mut empty_once = false;
    let entry = std::time::Instant::now();
    // Emptiness only counts in tables that started after this moment (our
    // entry, then our last signal)...
    let mut fresh_since = entry;
    // ...while any recent table will do to find whom to signal first.
    let mut after = entry.checked_sub(REUSE_WINDOW).unwrap_or(entry);
    loop {
        if provably_empty(t) {
            return Ok(());
        }
        let wake = Reaper::reaped_notification();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let table = procfs::table_after(after);
        after = after.max(table.started);
        let set = survivors(t, &table);
        if is_empty(t, &set) {
            if table.started <= fresh_since {
                after = fresh_since;
                continue;
            }
            if empty_once {
                return Ok(());
            }
            empty_once = true;
            after = table.started + CONFIRM_EMPTY;
            tokio::time::sleep(CONFIRM_EMPTY).await;
            continue;
        }
        empty_once = false;
        let fresh: BTreeMap<i32, u64> = if every_pass {
            set.clone()
        } else {
            set.iter()
                .filter(|(pid, st)| signalled.get(pid) != Some(st))
                .map(|(p, s)| (*p, *s))
                .collect()
        };
        if !fresh.is_empty() {
            signal_all(t, &fresh, sig);
            if sig != libc::SIGKILL && sig != libc::SIGCONT {
                signal_all(t, &fresh, libc::SIGCONT);
            }
            signalled.extend(fresh);
            fresh_since = std::time::Instant::now();
            after = after.max(fresh_since);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(set);
        }
        tokio::select! {
            _ = wake => {}
            _ = tokio::time::sleep(interval.min(deadline - now)) => {}
        }
        interval = (interval * 2).min(Duration::from_millis(50));
    }
}

/// How old a process table may be for the first pass of a stop (which
/// only finds whom to signal; later passes need newer ones). Lets a stop of
/// many units start from one shared `/proc` pass.
const REUSE_WINDOW: Duration = Duration::from_millis(100);

/// Pause between the two scans that confirm a tree is empty.
const CONFIRM_EMPTY: Duration = Duration::from_millis(1);

/// Stop a whole tree: `signal` + SIGCONT, wait up to `timeout`, then
/// SIGKILL repeatedly for up to `kill_wait`.
pub async fn stop_tree(
    target: &TreeRef,
    signal: Signal,
    timeout: Duration,
    kill_wait: Duration,
) -> StopOutcome {
    let start = Instant::now();
    debug!(marker = %target.marker, pid = target.pid, %signal, "stopping tree");
    let mut signalled = BTreeMap::new();
    if wait_empty(
        target,
        start + timeout,
        signal.number(),
        false,
        &mut signalled,
    )
    .await
    .is_ok()
    {
        // An already empty tree stopped gracefully, whatever the signal.
        return if signal == Signal::SIGKILL && !signalled.is_empty() {
            StopOutcome::Killed
        } else {
            StopOutcome::Graceful
        };
    }
    let kill_start = Instant::now();
    match wait_empty(
        target,
        kill_start + kill_wait,
        libc::SIGKILL,
        true,
        &mut signalled,
    )
    .await
    {
        Ok(()) => StopOutcome::Killed,
        Err(left) => {
            let pids: Vec<i32> = left.into_keys().collect();
            warn!(marker = %target.marker, ?pids, "processes survived SIGKILL");
            StopOutcome::Unkillable(pids)
        }
    }
}

/// Kill whatever still carries `marker`, without a grace period (e.g.
/// leftovers of an exec probe). Returns how many were signalled.
pub fn kill_marked(marker: &str) -> usize {
    procfs::find_marked(marker)
        .into_iter()
        .filter(|p| {
            procfs::start_time(p.pid) == Some(p.start_time)
                && raw_kill(p.pid, libc::SIGKILL).unwrap_or(false)
        })
        .count()
}
