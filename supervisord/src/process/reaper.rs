//! The one place that reaps. The daemon is a child subreaper; a task per
//! runtime listens to SIGCHLD and runs `waitpid(-1, WNOHANG)` until nothing
//! is left. Exit statuses of registered pids go to their waiters; anything
//! else (grandchildren re-parented to us) is reaped and counted.
//!
//! Registration is race-free: a spawn holds a [`SpawnPermit`] from before
//! the fork until its pid is registered, and the reap loop does not run
//! while any permit is out (a reap asked for meanwhile is run by the last
//! permit), so no exit can be reaped before its waiter exists (and std's
//! own wait on a child whose exec failed never races with us). The lock
//! itself is never held across a fork: the fork waits for the child's
//! exec, and checks that read the registry (a unit's children, every
//! probe period) must not wait for that.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, OnceLock};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;
use tracing::{debug, error};

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// It called `exit(code)`.
    Exited(i32),
    /// A signal killed it.
    Signaled { signal: i32, core_dumped: bool },
}

impl ExitStatus {
    /// Exit code 0.
    pub fn success(self) -> bool {
        self == ExitStatus::Exited(0)
    }

    /// The exit code, when it exited.
    pub fn code(self) -> Option<i32> {
        match self {
            ExitStatus::Exited(code) => Some(code),
            ExitStatus::Signaled { .. } => None,
        }
    }

    /// Decode a raw `waitpid` status; `None` for stop/continue reports.
    pub fn from_raw(status: i32) -> Option<ExitStatus> {
        if libc::WIFEXITED(status) {
            Some(ExitStatus::Exited(libc::WEXITSTATUS(status)))
        } else if libc::WIFSIGNALED(status) {
            Some(ExitStatus::Signaled {
                signal: libc::WTERMSIG(status),
                core_dumped: libc::WCOREDUMP(status),
            })
        } else {
            None
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Exited(code) => write!(f, "exited {code}"),
            ExitStatus::Signaled {
                signal,
                core_dumped,
            } => {
                let name = devctl_units::Signal::ALL
                    .iter()
                    .find(|s| s.number() == *signal)
                    .map_or_else(|| format!("signal {signal}"), |s| s.name().to_string());
                write!(
                    f,
                    "killed by {name}{}",
                    if *core_dumped { " (core dumped)" } else { "" }
                )
            }
        }
    }
}

/// Where one registered pid's exit status lands. Cancel-safe to wait on.
#[derive(Debug, Default)]
pub struct ExitCell {
    status: OnceLock<ExitStatus>,
    notify: Notify,
}

impl ExitCell {
    /// The status, once reaped.
    pub fn get(&self) -> Option<ExitStatus> {
        self.status.get().copied()
    }

    /// Wait until the process has been reaped. Cancel-safe.
    pub async fn wait(&self) -> ExitStatus {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(status) = self.get() {
                return status;
            }
            notified.await;
        }
    }

    fn set(&self, status: ExitStatus) {
        if self.status.set(status).is_err() {
            error!(?status, "exit status delivered twice");
        }
        self.notify.notify_waiters();
    }
}

#[derive(Default)]
struct Registry {
    waiters: HashMap<i32, Arc<ExitCell>>,
    /// The invocation marker each registered child was spawned with
    /// (absent when not known, e.g. children inherited across a re-exec).
    markers: HashMap<i32, Arc<str>>,
    /// The same, by marker: a readiness check asks for its unit's children
    /// every period, and a scan of every child's marker cost as much as the
    /// rest of the check with a thousand units.
    by_marker: HashMap<Arc<str>, Vec<i32>>,
    /// Spawns between their fork and their registration: nothing is
    /// reaped meanwhile.
    in_flight: usize,
    /// A reap was asked for while spawns were in flight; the last one
    /// runs it.
    deferred: bool,
    /// What the reaped children of each marker used (`wait4`'s rusage:
    /// the child and every descendant it waited for), until taken.
    usage: HashMap<Arc<str>, ReapedUsage>,
}

/// Resource use of the reaped processes of one invocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReapedUsage {
    /// The largest resident set any of them (or a descendant they waited
    /// for) reached.
    pub max_rss_bytes: u64,
    /// Their CPU time, user and system, descendants they waited for included.
    pub cpu_ms: u64,
}

impl Registry {
    fn register(&mut self, pid: i32) -> Arc<ExitCell> {
        let cell = Arc::new(ExitCell::default());
        if self.waiters.insert(pid, cell.clone()).is_some() {
            error!(pid, "pid registered twice");
        }
        cell
    }

    /// Register `pid`, spawned with the invocation `marker`.
    fn register_marked(&mut self, pid: i32, marker: &str) -> Arc<ExitCell> {
        self.mark(pid, marker);
        self.register(pid)
    }

    fn mark(&mut self, pid: i32, marker: &str) {
        self.unmark(pid);
        let marker: Arc<str> = match self.by_marker.get_key_value(marker) {
            Some((m, _)) => m.clone(),
            None => marker.into(),
        };
        self.by_marker.entry(marker.clone()).or_default().push(pid);
        self.markers.insert(pid, marker);
    }

    fn unmark(&mut self, pid: i32) {
        let Some(marker) = self.markers.remove(&pid) else {
            return;
        };
        if let Some(pids) = self.by_marker.get_mut(&marker) {
            pids.retain(|p| *p != pid);
            if pids.is_empty() {
                self.by_marker.remove(&marker);
            }
        }
    }
}

struct Shared {
    registry: Mutex<Registry>,
    /// Signalled when the last spawn in flight is registered.
    spawns_done: Condvar,
    orphans: AtomicU64,
    reaped_total: AtomicU64,
    reaped: Notify,
}

/// Reaping is process-wide (`waitpid(-1)`), so its state is too: every
/// runtime's listener task shares one registry.
static SHARED: LazyLock<Shared> = LazyLock::new(|| Shared {
    registry: Mutex::new(Registry::default()),
    spawns_done: Condvar::new(),
    orphans: AtomicU64::new(0),
    reaped_total: AtomicU64::new(0),
    reaped: Notify::new(),
});

/// Handle to the process-wide reaper.
#[derive(Debug)]
pub struct Reaper {
    _private: (),
}

/// The registry lock, taken with no spawn in flight: nothing is reaped or
/// spawned until it is dropped (a re-exec holds it until the exec).
pub struct Registration<'a> {
    guard: MutexGuard<'a, Registry>,
}

impl Registration<'_> {
    /// Register `pid` (a child this process has and nobody reaped).
    pub fn register(&mut self, pid: i32) -> Arc<ExitCell> {
        self.guard.register(pid)
    }
}

/// One spawn in flight, from before its fork until its pid is registered
/// (or the spawn failed and the permit is dropped): nothing is reaped
/// meanwhile, so the child's pidfd and start time can be taken first.
pub struct SpawnPermit {
    done: bool,
}

impl SpawnPermit {
    /// Register `pid`, spawned under this permit with the invocation
    /// `marker`, ending the permit.
    pub fn register_marked(mut self, pid: i32, marker: &str) -> Arc<ExitCell> {
        let mut reg = lock();
        let cell = reg.register_marked(pid, marker);
        self.finish(reg);
        cell
    }

    fn finish(&mut self, mut reg: MutexGuard<'static, Registry>) {
        self.done = true;
        reg.in_flight -= 1;
        let reap = reg.in_flight == 0 && std::mem::take(&mut reg.deferred);
        let idle = reg.in_flight == 0;
        drop(reg);
        if idle {
            SHARED.spawns_done.notify_all();
        }
        if reap {
            reap_all();
        }
    }
}

impl Drop for SpawnPermit {
    fn drop(&mut self) {
        if !self.done {
            self.finish(lock());
        }
    }
}

fn lock() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock leaves the map consistent (every
    // operation is a single insert/remove), so poisoning is ignored.
    SHARED.registry.lock().unwrap_or_else(|p| p.into_inner())
}

impl Reaper {
    /// Become a child subreaper and start reaping on SIGCHLD. Must be
    /// called inside a tokio runtime; each runtime that spawns needs one.
    pub fn install() -> io::Result<Arc<Reaper>> {
        nix::sys::prctl::set_child_subreaper(true).map_err(io::Error::from)?;
        // No periodic sweep: an idle daemon must not wake up. No SIGCHLD
        // is lost: tokio's signal stream yields at least once after every
        // delivery since the previous `recv` (deliveries coalesce), and
        // `reap_all` drains every exited child each time, so a child that
        // exits while it runs is reaped on the next, already pending, turn.
        // Children that exited before the handler existed are reaped by the
        // `reap_all` below, which runs after it is installed.
        let mut sigchld = signal(SignalKind::child())?;
        tokio::spawn(async move {
            loop {
                reap_all();
                if sigchld.recv().await.is_none() {
                    return;
                }
            }
        });
        reap_all();
        Ok(Arc::new(Reaper { _private: () }))
    }

    /// Register children this process inherited across an `execve` (a
    /// re-exec keeps the pid, so its children stay its children). Call
    /// before [`Reaper::install`], whose first sweep would otherwise take a
    /// child that exited meanwhile for an orphan and lose its status.
    pub fn preregister(pids: &[i32]) -> Vec<Arc<ExitCell>> {
        let mut reg = Registration { guard: lock() };
        pids.iter().map(|pid| reg.register(*pid)).collect()
    }

    /// Take the registry lock once no spawn is in flight.
    pub fn registration(&self) -> Registration<'static> {
        let mut guard = lock();
        while guard.in_flight > 0 {
            guard = SHARED
                .spawns_done
                .wait(guard)
                .unwrap_or_else(|p| p.into_inner());
        }
        Registration { guard }
    }

    /// Hold off reaping for a spawn about to fork.
    pub fn begin_spawn(&self) -> SpawnPermit {
        lock().in_flight += 1;
        SpawnPermit { done: false }
    }

    /// Processes reaped that nobody registered (adopted orphans).
    pub fn orphans_reaped(&self) -> u64 {
        SHARED.orphans.load(Ordering::Relaxed)
    }

    /// Every process reaped so far.
    pub fn reaped_total(&self) -> u64 {
        SHARED.reaped_total.load(Ordering::Relaxed)
    }

    /// Resolves after the next reap. Create it before checking a
    /// condition, then await it, to never miss a wakeup.
    pub fn reaped_notification() -> tokio::sync::futures::Notified<'static> {
        SHARED.reaped.notified()
    }

    /// Reap now (also done on every SIGCHLD).
    /// Of `pids` (children of this process), those that may hold
    /// processes of the tree marked `marker`: children we did not spawn
    /// (orphans re-parented to us, whatever their marker), spawned ones of
    /// unknown marker, and spawned ones with this marker.
    pub fn tree_roots_among(pids: &[i32], marker: &str) -> Vec<i32> {
        let reg = lock();
        pids.iter()
            .copied()
            .filter(|pid| {
                !reg.waiters.contains_key(pid)
                    || reg.markers.get(pid).is_none_or(|m| &**m == marker)
            })
            .collect()
    }

    /// Our children spawned with `marker` and not reaped yet: while not
    /// reaped, a child's pid cannot name another process.
    pub fn children_marked(marker: &str) -> Vec<i32> {
        lock().by_marker.get(marker).cloned().unwrap_or_default()
    }

    /// The marker `pid` was spawned with, while it is our unreaped child:
    /// what the process's own environment may no longer show (programs that
    /// set their process title overwrite it).
    pub fn marker_of(pid: i32) -> Option<Arc<str>> {
        lock().markers.get(&pid).cloned()
    }

    pub fn reap_now(&self) {
        reap_all();
    }

    /// What the reaped children spawned with `marker` used, forgetting it
    /// (a run's end asks once).
    pub fn take_usage(marker: &str) -> Option<ReapedUsage> {
        lock().usage.remove(marker)
    }
}

fn timeval_ms(t: libc::timeval) -> u64 {
    (t.tv_sec.max(0) as u64) * 1000 + (t.tv_usec.max(0) as u64) / 1000
}

/// Collect every exited child; dispatch to registered waiters.
fn reap_all() {
    let mut registry = lock();
    if registry.in_flight > 0 {
        registry.deferred = true;
        return;
    }
    let mut any = false;
    loop {
        let mut raw = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 with valid out-pointers to locals; no memory is shared.
        let pid = unsafe { libc::wait4(-1, &mut raw, libc::WNOHANG, &mut usage) };
        if pid == 0 {
            break;
        }
        if pid < 0 {
            match io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => break,
                other => {
                    error!(errno = ?other, "waitpid failed");
                    break;
                }
            }
        }
        let Some(status) = ExitStatus::from_raw(raw) else {
            continue;
        };
        any = true;
        SHARED.reaped_total.fetch_add(1, Ordering::Relaxed);
        if let Some(marker) = registry.markers.get(&pid).cloned() {
            let used = registry.usage.entry(marker).or_default();
            used.max_rss_bytes = used.max_rss_bytes.max(usage.ru_maxrss.max(0) as u64 * 1024);
            used.cpu_ms += timeval_ms(usage.ru_utime) + timeval_ms(usage.ru_stime);
        }
        registry.unmark(pid);
        match registry.waiters.remove(&pid) {
            Some(cell) => {
                debug!(pid, %status, "reaped child");
                cell.set(status);
            }
            None => {
                debug!(pid, %status, "reaped adopted orphan");
                SHARED.orphans.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    drop(registry);
    if any {
        SHARED.reaped.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn tree_roots_are_orphans_unknown_children_and_this_trees_spawns() {
        // Pids far above any real one, registered only in this test.
        let (mine, other, unknown, orphan) =
            (i32::MAX - 1, i32::MAX - 2, i32::MAX - 3, i32::MAX - 4);
        {
            let mut reg = Registration { guard: lock() };
            reg.guard.register_marked(mine, "m1");
            reg.guard.register_marked(other, "m2");
            reg.register(unknown);
        }
        let pids = [mine, other, unknown, orphan];
        assert_eq!(
            Reaper::tree_roots_among(&pids, "m1"),
            vec![mine, unknown, orphan]
        );
        assert_eq!(
            Reaper::tree_roots_among(&pids, "m2"),
            vec![other, unknown, orphan]
        );
        let mut reg = lock();
        for pid in pids {
            reg.waiters.remove(&pid);
            reg.unmark(pid);
        }
    }

    #[test]
    fn children_are_found_by_marker_until_reaped() {
        // Pids far above any real one, registered only in this test.
        let (a, b, c) = (i32::MAX - 11, i32::MAX - 12, i32::MAX - 13);
        let (m1, m2) = ("children-by-marker-1", "children-by-marker-2");
        {
            let mut reg = lock();
            reg.register_marked(a, m1);
            reg.register_marked(b, m2);
            reg.register_marked(c, m1);
        }
        assert_eq!(Reaper::children_marked(m1), vec![a, c]);
        assert_eq!(Reaper::children_marked(m2), vec![b]);
        let mut reg = lock();
        reg.unmark(a);
        assert_eq!(reg.by_marker.get(m1), Some(&vec![c]));
        // A pid registered again (re-marked) moves to its new marker.
        reg.mark(c, m2);
        assert_eq!(reg.by_marker.get(m1), None, "an emptied marker is dropped");
        assert_eq!(reg.by_marker.get(m2), Some(&vec![b, c]));
        for pid in [a, b, c] {
            reg.waiters.remove(&pid);
            reg.unmark(pid);
        }
        assert!(!reg.by_marker.contains_key(m2));
        drop(reg);
        assert!(Reaper::children_marked(m1).is_empty());
    }

    /// A reap asked for while a spawn is in flight leaves the new child
    /// alone (a zombie) and runs once the child is registered, so its
    /// status reaches its waiter; registration() waits for the permit.
    #[test]
    fn a_reap_during_a_spawn_waits_for_its_registration() {
        let reaper = Reaper { _private: () };
        let permit = reaper.begin_spawn();
        // Reaped by the reaper below, not by std.
        #[allow(clippy::zombie_processes)]
        let pid = std::process::Command::new("true").spawn().unwrap().id() as i32;
        let stat = || std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let end = std::time::Instant::now() + Duration::from_secs(10);
        while !stat().contains(") Z ") && std::time::Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
        reap_all();
        assert!(
            stat().contains(") Z "),
            "reaped during the spawn: {}",
            stat()
        );
        assert!(lock().deferred);
        let waiting = std::thread::spawn(move || {
            let began = std::time::Instant::now();
            drop(Reaper { _private: () }.registration());
            began.elapsed()
        });
        std::thread::sleep(Duration::from_millis(100));
        let cell = permit.register_marked(pid, "reap-during-spawn");
        assert_eq!(cell.get(), Some(ExitStatus::Exited(0)));
        assert!(!lock().deferred);
        assert!(waiting.join().unwrap() >= Duration::from_millis(90));
        // A permit dropped without a child (a failed spawn) ends too.
        drop(reaper.begin_spawn());
        assert_eq!(lock().in_flight, 0);
        let mut reg = lock();
        reg.waiters.remove(&pid);
        reg.unmark(pid);
    }

    #[test]
    fn decodes_raw_statuses() {
        assert_eq!(ExitStatus::from_raw(0), Some(ExitStatus::Exited(0)));
        assert_eq!(ExitStatus::from_raw(3 << 8), Some(ExitStatus::Exited(3)));
        assert_eq!(
            ExitStatus::from_raw(9),
            Some(ExitStatus::Signaled {
                signal: 9,
                core_dumped: false
            })
        );
        assert_eq!(
            ExitStatus::from_raw(11 | 0x80),
            Some(ExitStatus::Signaled {
                signal: 11,
                core_dumped: true
            })
        );
        // A stop report (WIFSTOPPED: low byte 0x7f).
        assert_eq!(ExitStatus::from_raw((19 << 8) | 0x7f), None);
        assert!(ExitStatus::Exited(0).success());
        assert!(!ExitStatus::Exited(1).success());
        assert_eq!(ExitStatus::Exited(2).code(), Some(2));
        assert_eq!(
            ExitStatus::Signaled {
                signal: 15,
                core_dumped: false
            }
            .code(),
            None
        );
        assert_eq!(ExitStatus::Exited(1).to_string(), "exited 1");
        assert_eq!(
            ExitStatus::Signaled {
                signal: 9,
                core_dumped: false
            }
            .to_string(),
            "killed by SIGKILL"
        );
        assert_eq!(
            ExitStatus::Signaled {
                signal: 11,
                core_dumped: true
            }
            .to_string(),
            "killed by signal 11 (core dumped)"
        );
    }

    #[tokio::test]
    async fn exit_cell_wait_is_cancel_safe() {
        let cell = Arc::new(ExitCell::default());
        // A wait that is cancelled must not lose the later status.
        let timed_out = tokio::time::timeout(Duration::from_millis(10), cell.wait()).await;
        assert!(timed_out.is_err());
        let waiter = tokio::spawn({
            let cell = cell.clone();
            async move { cell.wait().await }
        });
        cell.set(ExitStatus::Exited(4));
        assert_eq!(waiter.await.unwrap(), ExitStatus::Exited(4));
        assert_eq!(cell.wait().await, ExitStatus::Exited(4));
    }
}
