//! What a project's file watch can vouch for: that nothing under its
//! watched directories changed between two moments, so an up-to-date
//! check may reuse its last walk of a build's inputs instead of stat'ing
//! every file again (`core/manager/uptodate.rs`).
//!
//! Every event notify's thread hands over (reads aside) moves an epoch,
//! and so does every change to the set of watched directories. A check
//! that walks notes the epoch before it walks; a later check whose epoch
//! is the same knows the walk still holds. "The same" is read after a
//! barrier: the check creates a file in a private directory watched by
//! the same inotify instance and waits until notify's thread reports it.
//! inotify queues one instance's events in order, so every change made
//! before the barrier has moved the epoch by then, however late notify's
//! thread was to read it.
//!
//! The watch vouches for nothing when it cannot see everything: inotify
//! limits reached, an overflowed queue, an error from notify, a watched
//! root on a file system whose changes inotify may not report (network
//! and FUSE mounts, where another machine can write), or a barrier that
//! did not come back in time. Then checks walk as before.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::statfs::{
    BTRFS_SUPER_MAGIC, EXT4_SUPER_MAGIC, FsType, OVERLAYFS_SUPER_MAGIC, TMPFS_MAGIC,
    XFS_SUPER_MAGIC,
};
use notify::EventKind;
use notify::event::{AccessKind, AccessMode};
use tracing::warn;

/// How long a check waits for its barrier before walking after all.
pub const BARRIER_WAIT: Duration = Duration::from_millis(250);

/// Local file systems, whose every change goes through this kernel and
/// so reaches inotify (ext2/3/4 share one magic number).
const LOCAL_FS: &[FsType] = &[
    EXT4_SUPER_MAGIC,
    XFS_SUPER_MAGIC,
    BTRFS_SUPER_MAGIC,
    TMPFS_MAGIC,
    OVERLAYFS_SUPER_MAGIC,
    FsType(0xF2F5_2010), // f2fs
    FsType(0x2FC1_2FC1), // zfs
    FsType(0xCA45_1A4E), // bcachefs
];

#[derive(Debug, Default)]
struct Shared {
    /// Barriers created so far (the last one's number).
    made: u64,
    /// The highest barrier notify's thread has reported.
    seen: u64,
    /// Directories and file links with a watch, mirrored from the watcher.
    dirs: HashSet<PathBuf>,
    links: HashSet<PathBuf>,
}

/// A watcher's barrier directory, removed with the watcher.
#[derive(Debug)]
struct BarrierDir(PathBuf);

impl BarrierDir {
    fn make(under: &Path) -> Option<BarrierDir> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = under.join(format!("watch-barrier-{}-{n}", std::process::id()));
        std::fs::create_dir_all(under).ok()?;
        // A leftover of an earlier daemon with the same pid goes first.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).ok()?;
        Some(BarrierDir(dir))
    }
}

impl Drop for BarrierDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One watcher's vouching state, shared by notify's thread (events), the
/// watcher task (its watch set) and the checks.
#[derive(Debug)]
pub struct Vouch {
    /// The barriers' directory; none: this watch vouches for nothing.
    barriers: Option<BarrierDir>,
    epoch: AtomicU64,
    blind: AtomicBool,
    shared: Mutex<Shared>,
    reported: Condvar,
}

/// What a walk relied on being watched.
#[derive(Debug, Default)]
pub struct Coverage {
    pub dirs: Vec<PathBuf>,
    pub links: Vec<PathBuf>,
    /// Files named outside any walk (`Cargo.toml`, env files): their
    /// directories must be watched.
    pub files: Vec<PathBuf>,
}

impl Vouch {
    /// A vouch whose barriers live in a fresh directory under `dir`;
    /// with `None`, or when that directory cannot be made, it never vouches.
    pub fn new(dir: Option<&Path>) -> Vouch {
        let barriers = dir.and_then(BarrierDir::make);
        let blind = barriers.is_none();
        Vouch {
            barriers,
            epoch: AtomicU64::new(0),
            blind: AtomicBool::new(blind),
            shared: Mutex::new(Shared::default()),
            reported: Condvar::new(),
        }
    }

    /// The directory to watch for barriers (with the project's own).
    pub fn barrier_dir(&self) -> Option<&Path> {
        self.barriers.as_ref().map(|d| d.0.as_path())
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// From now on, vouch for nothing.
    pub fn go_blind(&self) {
        self.blind.store(true, Ordering::SeqCst);
        self.reported.notify_all();
    }

    /// Vouch for nothing unless every root is on a local file system.
    pub fn require_local(&self, roots: &[PathBuf]) {
        let local = |r: &PathBuf| {
            nix::sys::statfs::statfs(r.as_path())
                .is_ok_and(|s| LOCAL_FS.contains(&s.filesystem_type()))
        };
        if !roots.iter().all(local) {
            self.go_blind();
        }
    }

    /// Something in the watched set may have changed.
    pub fn moved(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// An event from notify's thread; `true` when it was a barrier's (and
    /// is for nobody else).
    pub fn observe(&self, r: &notify::Result<notify::Event>) -> bool {
        let ev = match r {
            Ok(ev) => ev,
            Err(_) => {
                self.go_blind();
                return false;
            }
        };
        if let Some(dir) = self.barrier_dir()
            && !ev.paths.is_empty()
            && ev.paths.iter().all(|p| p.parent() == Some(dir))
        {
            if let EventKind::Create(_) = ev.kind {
                let n = ev.paths.iter().filter_map(|p| barrier_number(p)).max();
                if let Some(n) = n {
                    let mut s = self.lock();
                    s.seen = s.seen.max(n);
                    drop(s);
                    self.reported.notify_all();
                }
            }
            return true;
        }
        if ev.need_rescan() {
            self.go_blind();
        }
        let read = matches!(
            ev.kind,
            EventKind::Access(
                AccessKind::Read | AccessKind::Open(_) | AccessKind::Close(AccessMode::Read)
            )
        );
        if !read {
            self.moved();
        }
        false
    }

    /// Keep the mirror of the watched set (and move the epoch: a walk
    /// that relied on the old set may have missed what the new one sees).
    pub fn watched_dir(&self, dir: &Path) {
        self.lock().dirs.insert(dir.to_path_buf());
        self.moved();
    }

    pub fn watched_link(&self, link: &Path) {
        self.lock().links.insert(link.to_path_buf());
        self.moved();
    }

    /// Directories and links at or below `p` lost their watch.
    pub fn unwatched(&self, p: &Path) {
        let mut s = self.lock();
        s.dirs.retain(|d| !d.starts_with(p));
        s.links.remove(p);
        drop(s);
        self.moved();
    }

    /// The epoch now, before a walk; `None` when nothing is vouched for.
    pub fn epoch(&self) -> Option<u64> {
        let e = self.epoch.load(Ordering::SeqCst);
        (!self.blind.load(Ordering::SeqCst)).then_some(e)
    }

    /// Whether a walk that saw `c` relied only on watched places.
    pub fn covers(&self, c: &Coverage) -> bool {
        let s = self.lock();
        c.dirs.iter().all(|d| s.dirs.contains(d))
            && c.links.iter().all(|l| s.links.contains(l))
            && c.files
                .iter()
                .all(|f| f.parent().is_some_and(|d| s.dirs.contains(d)))
    }

    /// The barrier count now: a check taken at this moment needs a barrier
    /// made after it.
    pub fn ticket(&self) -> u64 {
        self.lock().made
    }

    /// The epoch once every change made before `ticket` was taken has
    /// reached notify's thread (one barrier serves every check waiting
    /// on the same ticket); `None` when that cannot be known in `wait`.
    pub fn settled(&self, ticket: u64, wait: Duration) -> Option<u64> {
        let dir = self.barrier_dir()?;
        self.epoch()?;
        let deadline = Instant::now() + wait;
        let mut s = self.lock();
        let mut mine = None;
        if s.made <= ticket {
            s.made += 1;
            let n = s.made;
            let path = dir.join(n.to_string());
            if std::fs::File::create(&path).is_err() {
                drop(s);
                self.go_blind();
                return None;
            }
            mine = Some(path);
        }
        while s.seen <= ticket && !self.blind.load(Ordering::SeqCst) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            s = self
                .reported
                .wait_timeout(s, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let passed = s.seen > ticket;
        drop(s);
        if let Some(path) = mine {
            let _ = std::fs::remove_file(path);
        }
        if !passed && !self.blind.load(Ordering::SeqCst) {
            // notify's thread is stuck or gone: checks would each wait
            // this long for nothing. Walk from now on.
            warn!(
                dir = %dir.display(),
                "the file watch did not report its barrier in time; build inputs are stat'ed from now on"
            );
            self.go_blind();
        }
        if passed { self.epoch() } else { None }
    }
}

fn barrier_number(p: &Path) -> Option<u64> {
    p.file_name()?.to_str()?.parse().ok()
}
