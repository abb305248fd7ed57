//! One watcher per project: notify's watcher (inotify on Linux) feeding
//! a tokio task that maps changed paths to units and coalesces them over a
//! quiet window (a `git checkout` of thousands of files yields one batch
//! per unit), then sends [`WatchMsg::Changed`] to the core. New
//! directories get watches as they appear (and their files count as
//! changed); symlinked files are also watched through the link so their
//! targets' writes are seen. Dropping the [`ProjectWatcher`] stops it.
//!
//! Nothing ticks: notify's thread blocks on inotify, and the task arms its
//! timer only while a batch is pending, so a watch with no changes wakes
//! nobody (a debouncer thread polling every 25 ms used to). A rename
//! arrives as its two halves, each path handled on its own; a file that
//! appears and is gone again within one batch (an editor's temporary file
//! renamed over the original) leaves the batch, so only what stays is
//! reported.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tracing::{debug, warn};

use devctl_units::{ProjectName, UnitName, WatchSpec};

use crate::watch::error::WatchError;
use crate::watch::filter::{ProjectIgnore, UnitFilter};
use crate::watch::tree::{walk, watch_roots};
use crate::watch::vouch::Vouch;

/// Paths listed in one [`Changed`] (the count covers the rest).
pub const MAX_LISTED: usize = 20;
/// Distinct paths counted per batch before the count saturates.
const MAX_COUNTED: usize = 100_000;

/// One unit to watch for.
#[derive(Debug, Clone)]
pub struct WatchedUnit {
    pub name: UnitName,
    /// The unit's root; its globs are relative to it.
    pub root: PathBuf,
    pub spec: WatchSpec,
}

/// A project's watch configuration.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub project: ProjectName,
    pub root: PathBuf,
    pub units: Vec<WatchedUnit>,
    /// Absolute directories never watched (devctl's own state dir).
    pub ignore_dirs: Vec<PathBuf>,
    /// A batch is sent after this long without a new relevant event.
    pub quiet: Duration,
    /// ... or at the latest this long after its first event (endless storms).
    pub max_wait: Duration,
    /// Where the watcher may keep its barrier directory (see
    /// [`Vouch`]); none: it vouches for nothing.
    pub barriers_in: Option<PathBuf>,
}

impl WatchConfig {
    /// Defaults: 200 ms quiet window, 10 s ceiling.
    pub fn new(project: ProjectName, root: PathBuf, units: Vec<WatchedUnit>) -> WatchConfig {
        WatchConfig {
            project,
            root,
            units,
            ignore_dirs: Vec::new(),
            quiet: Duration::from_millis(200),
            max_wait: Duration::from_secs(10),
            barriers_in: None,
        }
    }
}

/// Files of one unit changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub project: ProjectName,
    pub unit: UnitName,
    /// Up to [`MAX_LISTED`] changed paths, relative to the unit's root, sorted.
    pub paths: Vec<PathBuf>,
    /// How many distinct paths changed.
    pub count: usize,
    /// When the earliest event of the batch happened.
    pub first_event: std::time::Instant,
    /// When the latest event of the batch happened.
    pub last_event: std::time::Instant,
}

impl Changed {
    /// `src/a.rs, src/b.rs (+3 more)`.
    pub fn describe(&self) -> String {
        let shown: Vec<String> = self
            .paths
            .iter()
            .take(3)
            .map(|p| p.display().to_string())
            .collect();
        let more = self.count.saturating_sub(shown.len());
        if more > 0 {
            format!("{} (+{more} more)", shown.join(", "))
        } else {
            shown.join(", ")
        }
    }
}

/// What the watcher tells the core.
#[derive(Debug)]
pub enum WatchMsg {
    Changed(Changed),
    /// Watching is incomplete (inotify limits): changes may go unseen.
    Degraded {
        project: ProjectName,
        error: WatchError,
    },
    /// The project repository's HEAD moved to a new commit.
    Commit {
        project: ProjectName,
        commit: String,
    },
}

/// A running project watcher; dropping it stops watching.
#[derive(Debug)]
pub struct ProjectWatcher {
    task: JoinHandle<()>,
    dirs: usize,
    vouch: Arc<Vouch>,
}

impl Drop for ProjectWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ProjectWatcher {
    /// Compile the filters, add the watches and start the task (needs a
    /// tokio runtime). Inotify limits hit while adding watches are sent as
    /// [`WatchMsg::Degraded`]; the watcher keeps what it has.
    pub fn start(
        cfg: WatchConfig,
        out: mpsc::UnboundedSender<WatchMsg>,
    ) -> Result<ProjectWatcher, WatchError> {
        let units = cfg
            .units
            .iter()
            .map(|u| Ok((u.clone(), UnitFilter::new(u.name.as_ref(), &u.spec)?)))
            .collect::<Result<Vec<_>, WatchError>>()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let vouch = Arc::new(Vouch::new(cfg.barriers_in.as_deref()));
        let seen_by = Arc::clone(&vouch);
        let watcher = notify::recommended_watcher(move |r: notify::Result<notify::Event>| {
            // First, so that an event has moved the epoch before any
            // barrier behind it is reported.
            if seen_by.observe(&r) {
                return;
            }
            // Opening or reading a file changes nothing: dropped here, an
            // editor or build reading its inputs does not wake the task.
            if r.as_ref()
                .is_ok_and(|e| matches!(e.kind, EventKind::Access(_)))
            {
                return;
            }
            let _ = tx.send(r.map(|e| (e, std::time::Instant::now())));
        })
        .map_err(WatchError::from_notify)?;
        let ignore = ProjectIgnore::load(&cfg.root, &cfg.ignore_dirs);
        let mut prefixes = Vec::new();
        for (u, f) in &units {
            let rel = u.root.strip_prefix(&cfg.root).unwrap_or(Path::new(""));
            prefixes.extend(f.prefixes().iter().map(|p| rel.join(p)));
        }
        let mut task = Task {
            project: cfg.project.clone(),
            root: cfg.root.clone(),
            units,
            ignore,
            watcher,
            dirs: HashSet::new(),
            roots: Vec::new(),
            links: HashSet::new(),
            out,
            degraded: false,
            batch: BTreeMap::new(),
            noted: HashMap::new(),
            created: HashSet::new(),
            vouch: Arc::clone(&vouch),
            first: None,
            last: None,
            quiet: cfg.quiet,
            max_wait: cfg.max_wait,
        };
        task.roots = watch_roots(&cfg.root, &prefixes);
        for r in task.roots.clone() {
            task.add_tree(&r, false);
            // The parent too (without recursing), so that a root deleted
            // and recreated is seen and watched again.
            if r != cfg.root
                && let Some(parent) = r.parent()
                && !task.degraded
                && let Err(e) = task.watcher.watch(parent, RecursiveMode::NonRecursive)
            {
                task.fail(WatchError::from_notify(e));
            }
        }
        vouch.require_local(&task.roots);
        if let Some(dir) = vouch.barrier_dir()
            && task
                .watcher
                .watch(dir, RecursiveMode::NonRecursive)
                .is_err()
        {
            vouch.go_blind();
        }
        let dirs = task.dirs.len();
        debug!(project = %cfg.project, dirs, "watching");
        let handle = tokio::spawn(task.run(rx));
        Ok(ProjectWatcher {
            task: handle,
            dirs,
            vouch,
        })
    }

    /// What this watch can vouch for (up-to-date checks ask).
    pub fn vouch(&self) -> &Arc<Vouch> {
        &self.vouch
    }

    /// Directories watched at start.
    pub fn watched_dirs(&self) -> usize {
        self.dirs
    }
}

/// One event from notify's thread, stamped on arrival.
type RawEvent = notify::Result<(notify::Event, std::time::Instant)>;

#[derive(Default)]
struct Pending {
    listed: BTreeSet<PathBuf>,
    seen: HashSet<PathBuf>,
    first: Option<std::time::Instant>,
    last: Option<std::time::Instant>,
}

struct Task {
    project: ProjectName,
    root: PathBuf,
    units: Vec<(WatchedUnit, UnitFilter)>,
    ignore: ProjectIgnore,
    watcher: RecommendedWatcher,
    dirs: HashSet<PathBuf>,
    /// The covering directories; only directories below them are watched.
    roots: Vec<PathBuf>,
    links: HashSet<PathBuf>,
    out: mpsc::UnboundedSender<WatchMsg>,
    degraded: bool,
    batch: BTreeMap<usize, Pending>,
    /// Paths noted in the pending batch and the units they concern: a
    /// write is many `modify` events (one per `write(2)`), and after the
    /// first, each only moves the batch's last-event time.
    noted: HashMap<PathBuf, Vec<usize>>,
    /// Paths noted in the pending batch that it saw created.
    created: HashSet<PathBuf>,
    first: Option<Instant>,
    last: Option<Instant>,
    quiet: Duration,
    max_wait: Duration,
    /// Kept in step with `dirs` and `links`.
    vouch: Arc<Vouch>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<RawEvent>) {
        loop {
            let deadline = match (self.first, self.last) {
                (Some(f), Some(l)) => Some((l + self.quiet).min(f + self.max_wait)),
                _ => None,
            };
            tokio::select! {
                r = rx.recv() => match r {
                    None => return,
                    Some(Ok((event, at))) => self.absorb(&event, at),
                    Some(Err(e)) => self.fail(WatchError::from_notify(e)),
                },
                _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => self.flush(),
            }
        }
    }

    fn fail(&mut self, e: WatchError) {
        if e.is_limit() {
            // Directories go unwatched from now on: no more shortcuts.
            self.vouch.go_blind();
            if !self.degraded {
                self.degraded = true;
                warn!(project = %self.project, "{e}");
                let _ = self.out.send(WatchMsg::Degraded {
                    project: self.project.clone(),
                    error: e,
                });
            }
        } else {
            warn!(project = %self.project, "{e}");
        }
    }

    /// Watch `dir` and every non-ignored directory below it; with
    /// `report`, files already inside count as changed.
    fn add_tree(&mut self, dir: &Path, report: bool) {
        loop {
            let w = walk(dir, &self.root, &self.ignore, report);
            let mut added = false;
            for d in w.dirs {
                if self.degraded || self.dirs.contains(&d) {
                    continue;
                }
                match self.watcher.watch(&d, RecursiveMode::NonRecursive) {
                    Ok(()) => {
                        self.vouch.watched_dir(&d);
                        self.dirs.insert(d);
                        added = true;
                    }
                    Err(e) => self.fail(WatchError::from_notify(e)),
                }
            }
            for l in w.links {
                self.watch_link(l);
            }
            let now = std::time::Instant::now();
            for f in w.files {
                self.note(&f, now);
            }
            // A new directory is usually still being filled: what appeared
            // between the walk and its watch raised no event, so walk it
            // again now that it is watched (a file seen twice counts once).
            if !report || !added {
                break;
            }
        }
    }

    fn watch_link(&mut self, link: PathBuf) {
        if self.degraded {
            return;
        }
        match self.watcher.watch(&link, RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.vouch.watched_link(&link);
                self.links.insert(link);
            }
            Err(e) => self.fail(WatchError::from_notify(e)),
        }
    }

    fn absorb(&mut self, ev: &notify::Event, at: std::time::Instant) {
        use notify::event::{ModifyKind, RenameMode};
        match ev.kind {
            // inotify reports a rename's halves, then the pair: the halves
            // said it all.
            EventKind::Access(_) | EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => return,
            _ => {}
        }
        let structural = matches!(
            ev.kind,
            EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(_)) | EventKind::Any
        );
        let created = matches!(ev.kind, EventKind::Create(_));
        let gone = matches!(
            ev.kind,
            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From))
        );
        for p in &ev.paths {
            if !structural && !gone && self.again(p, at) {
                continue;
            }
            // A file that appeared in this batch and is gone again (an
            // editor's temporary file renamed over the original) changed
            // nothing that stays: it leaves the batch.
            if gone && self.created.remove(p) {
                self.restructure(p);
                self.unnote(p);
                continue;
            }
            let new_to_batch = created && !self.noted.contains_key(p);
            // A watched directory that went away: everything below changed.
            let gone_dir = self.dirs.contains(p);
            if structural || gone {
                self.restructure(p);
            }
            self.note_entry(p, at, gone_dir && !p.exists());
            if new_to_batch && self.noted.contains_key(p) && self.created.len() < MAX_COUNTED {
                self.created.insert(p.to_path_buf());
            }
        }
    }

    /// Take `p` out of the pending batch.
    fn unnote(&mut self, p: &Path) {
        let Some(units) = self.noted.remove(p) else {
            return;
        };
        for i in units {
            let (u, _) = &self.units[i];
            let (Some(b), Ok(urel)) = (self.batch.get_mut(&i), p.strip_prefix(&u.root)) else {
                continue;
            };
            b.seen.remove(urel);
            b.listed.remove(urel);
        }
    }

    /// A content change of a path already noted in the pending batch:
    /// only the last-event times of its units move. `false` when it is
    /// new to the batch (or a link, whose watch may need renewing).
    fn again(&mut self, p: &Path, at: std::time::Instant) -> bool {
        let Some(units) = self.noted.get(p) else {
            return false;
        };
        if self.links.contains(p) {
            return false;
        }
        for i in units {
            if let Some(b) = self.batch.get_mut(i) {
                b.last = Some(b.last.map_or(at, |l| l.max(at)));
            }
        }
        self.last = Some(Instant::now());
        true
    }

    /// Keep the watch set in step with created, moved and removed entries.
    fn restructure(&mut self, p: &Path) {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => {
                if !self.dirs.contains(p) && self.roots.iter().any(|r| p.starts_with(r)) {
                    self.add_tree(p, true);
                }
            }
            Ok(m) if m.file_type().is_symlink() => {
                if std::fs::metadata(p).is_ok_and(|t| t.is_file()) {
                    self.watch_link(p.to_path_buf());
                }
            }
            Ok(_) => {}
            Err(_) => {
                // Gone: forget it and anything below, so a directory
                // recreated under the same name is watched again.
                self.vouch.unwatched(p);
                if self.dirs.iter().any(|d| d.starts_with(p)) {
                    self.dirs.retain(|d| !d.starts_with(p));
                    let _ = self.watcher.unwatch(p);
                }
                if self.links.remove(p) {
                    let _ = self.watcher.unwatch(p);
                }
            }
        }
    }

    /// Count a changed path for every unit it concerns.
    fn note(&mut self, p: &Path, at: std::time::Instant) {
        self.note_entry(p, at, false);
    }

    /// Count a changed path; `gone_dir` when it was a watched directory
    /// that no longer exists (it then concerns every unit whose globs
    /// reach inside it).
    fn note_entry(&mut self, p: &Path, at: std::time::Instant, gone_dir: bool) {
        let Ok(rel) = p.strip_prefix(&self.root) else {
            return;
        };
        if rel.as_os_str().is_empty()
            || self.ignore.is_ignored(rel, false)
            || (std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
                && self.ignore.is_ignored(rel, true))
        {
            return;
        }
        let mut hits = Vec::new();
        for (i, (u, f)) in self.units.iter().enumerate() {
            let Ok(urel) = p.strip_prefix(&u.root) else {
                continue;
            };
            if !(f.matches(urel) || gone_dir && f.matches_dir(urel)) {
                continue;
            }
            hits.push(i);
            let b = self.batch.entry(i).or_default();
            b.first = Some(b.first.map_or(at, |f| f.min(at)));
            b.last = Some(b.last.map_or(at, |l| l.max(at)));
            if b.seen.len() < MAX_COUNTED {
                b.seen.insert(urel.to_path_buf());
            }
            if b.listed.len() < MAX_LISTED {
                b.listed.insert(urel.to_path_buf());
            }
        }
        if !hits.is_empty() {
            let now = Instant::now();
            self.first.get_or_insert(now);
            self.last = Some(now);
            if self.noted.len() < MAX_COUNTED {
                self.noted.insert(p.to_path_buf(), hits);
            }
        }
        if self.links.contains(p) {
            // An atomic save through the link replaced the target inode.
            let _ = self.watcher.watch(p, RecursiveMode::NonRecursive);
        }
    }

    fn flush(&mut self) {
        self.first = None;
        self.last = None;
        self.noted.clear();
        self.created.clear();
        for (i, b) in std::mem::take(&mut self.batch) {
            if b.seen.is_empty() {
                // Only files that came and went.
                continue;
            }
            let u = &self.units[i].0;
            let msg = Changed {
                project: self.project.clone(),
                unit: u.name.clone(),
                paths: b.listed.into_iter().collect(),
                count: b.seen.len(),
                first_event: b.first.unwrap_or_else(std::time::Instant::now),
                last_event: b.last.unwrap_or_else(std::time::Instant::now),
            };
            if self.out.send(WatchMsg::Changed(msg)).is_err() {
                return;
            }
        }
    }
}
