//! One watcher per project: a notify debouncer (inotify on Linux) feeding
//! a tokio task that maps changed paths to units and coalesces them over a
//! quiet window (a `git checkout` of thousands of files yields one batch
//! per unit), then sends [`WatchMsg::Changed`] to the core. New
//! directories get watches as they appear (and their files count as
//! changed); symlinked files are also watched through the link so their
//! targets' writes are seen. Dropping the [`ProjectWatcher`] stops it.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tracing::{debug, warn};

use devctl_units::{ProjectName, UnitName, WatchSpec};

use crate::watch::error::WatchError;
use crate::watch::filter::{ProjectIgnore, UnitFilter};
use crate::watch::tree::{walk, watch_roots};

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
        let debouncer = new_debouncer(
            Duration::from_millis(50),
            Some(Duration::from_millis(25)),
            move |r: DebounceEventResult| {
                let _ = tx.send(r);
            },
        )
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
            debouncer,
            dirs: HashSet::new(),
            roots: Vec::new(),
            links: HashSet::new(),
            out,
            degraded: false,
            batch: BTreeMap::new(),
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
                && let Err(e) = task.debouncer.watch(parent, RecursiveMode::NonRecursive)
            {
                task.fail(WatchError::from_notify(e));
            }
        }
        let dirs = task.dirs.len();
        debug!(project = %cfg.project, dirs, "watching");
        let handle = tokio::spawn(task.run(rx));
        Ok(ProjectWatcher { task: handle, dirs })
    }

    /// Directories watched at start.
    pub fn watched_dirs(&self) -> usize {
        self.dirs
    }
}

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
    debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    dirs: HashSet<PathBuf>,
    /// The covering directories; only directories below them are watched.
    roots: Vec<PathBuf>,
    links: HashSet<PathBuf>,
    out: mpsc::UnboundedSender<WatchMsg>,
    degraded: bool,
    batch: BTreeMap<usize, Pending>,
    first: Option<Instant>,
    last: Option<Instant>,
    quiet: Duration,
    max_wait: Duration,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<DebounceEventResult>) {
        loop {
            let deadline = match (self.first, self.last) {
                (Some(f), Some(l)) => Some((l + self.quiet).min(f + self.max_wait)),
                _ => None,
            };
            tokio::select! {
                r = rx.recv() => match r {
                    None => return,
                    Some(Ok(events)) => {
                        for e in events {
                            self.absorb(&e.event, e.time);
                        }
                    }
                    Some(Err(errors)) => {
                        for e in errors {
                            self.fail(WatchError::from_notify(e));
                        }
                    }
                },
                _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => self.flush(),
            }
        }
    }

    fn fail(&mut self, e: WatchError) {
        if e.is_limit() {
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
        let w = walk(dir, &self.root, &self.ignore, report);
        for d in w.dirs {
            if self.degraded || self.dirs.contains(&d) {
                continue;
            }
            match self.debouncer.watch(&d, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.dirs.insert(d);
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
    }

    fn watch_link(&mut self, link: PathBuf) {
        if self.degraded {
            return;
        }
        match self.debouncer.watch(&link, RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.links.insert(link);
            }
            Err(e) => self.fail(WatchError::from_notify(e)),
        }
    }

    fn absorb(&mut self, ev: &notify::Event, at: std::time::Instant) {
        if matches!(ev.kind, EventKind::Access(_)) {
            return;
        }
        let structural = matches!(
            ev.kind,
            EventKind::Create(_)
                | EventKind::Modify(notify::event::ModifyKind::Name(_))
                | EventKind::Any
        );
        for p in &ev.paths {
            // A watched directory that went away: everything below changed.
            let gone_dir = self.dirs.contains(p);
            if structural || matches!(ev.kind, EventKind::Remove(_)) {
                self.restructure(p);
            }
            self.note_entry(p, at, gone_dir && !p.exists());
        }
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
                if self.dirs.iter().any(|d| d.starts_with(p)) {
                    self.dirs.retain(|d| !d.starts_with(p));
                    let _ = self.debouncer.unwatch(p);
                }
                if self.links.remove(p) {
                    let _ = self.debouncer.unwatch(p);
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
        let mut hit = false;
        for (i, (u, f)) in self.units.iter().enumerate() {
            let Ok(urel) = p.strip_prefix(&u.root) else {
                continue;
            };
            if !(f.matches(urel) || gone_dir && f.matches_dir(urel)) {
                continue;
            }
            hit = true;
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
        if hit {
            let now = Instant::now();
            self.first.get_or_insert(now);
            self.last = Some(now);
        }
        if self.links.contains(p) {
            // An atomic save through the link replaced the target inode.
            let _ = self.debouncer.watch(p, RecursiveMode::NonRecursive);
        }
    }

    fn flush(&mut self) {
        self.first = None;
        self.last = None;
        for (i, b) in std::mem::take(&mut self.batch) {
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
