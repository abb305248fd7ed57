//! The manager's file-watching state: one [`ProjectWatcher`] per project
//! with watched units, each unit's pending changes, loop guard and run
//! window (which tell a unit's own writes from outside edits). The
//! watchers run in their own tasks; only the manager mutates this state
//! (`manager/watching.rs` turns their messages into triggers).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use tokio::sync::mpsc;

use devctl_units::api::UnitStatus;
use devctl_units::{ProjectName, UnitName, WatchSpec};

use crate::watch::{Changed, LoopGuard, ProjectWatcher, RunWindow, WatchMsg};

/// Pending paths remembered per unit (the count covers the rest).
const MAX_PENDING_LISTED: usize = 20;

/// One unit's watch bookkeeping.
#[derive(Debug, Default)]
pub struct UnitWatch {
    pub(crate) pending: BTreeSet<PathBuf>,
    pub(crate) pending_count: usize,
    pub(crate) guard: LoopGuard,
    pub(crate) window: RunWindow,
    /// Set while auto-trigger is paused after a detected loop.
    pub(crate) paused_message: Option<String>,
}

impl UnitWatch {
    pub(crate) fn record(&mut self, c: &Changed) {
        let before = self.pending.len();
        for p in &c.paths {
            if self.pending.len() < MAX_PENDING_LISTED {
                self.pending.insert(p.clone());
            }
        }
        // Listed paths are deduplicated; unlisted ones are counted as given.
        let new_listed = self.pending.len() - before;
        self.pending_count += new_listed + c.count.saturating_sub(c.paths.len());
    }

    pub(crate) fn take_pending(&mut self) -> usize {
        self.pending.clear();
        std::mem::take(&mut self.pending_count)
    }
}

/// One project's watcher and units.
#[derive(Debug, Default)]
pub(crate) struct ProjectWatch {
    pub(crate) watcher: Option<ProjectWatcher>,
    /// What the watcher was started with, to skip needless restarts.
    pub(crate) config: Vec<(UnitName, PathBuf, WatchSpec)>,
    pub(crate) units: BTreeMap<UnitName, UnitWatch>,
}

/// The manager's watch state.
#[derive(Debug)]
pub struct WatchHub {
    pub(crate) tx: mpsc::UnboundedSender<WatchMsg>,
    pub(crate) rx: Option<mpsc::UnboundedReceiver<WatchMsg>>,
    pub(crate) ignore_dirs: Vec<PathBuf>,
    /// Where watchers keep their barrier directories (`watch/vouch.rs`).
    pub(crate) barriers_in: Option<PathBuf>,
    pub(crate) projects: BTreeMap<ProjectName, ProjectWatch>,
}

impl WatchHub {
    /// A hub ignoring devctl's own directories.
    pub fn new(ignore_dirs: Vec<PathBuf>) -> WatchHub {
        let (tx, rx) = mpsc::unbounded_channel();
        WatchHub {
            tx,
            rx: Some(rx),
            ignore_dirs,
            barriers_in: None,
            projects: BTreeMap::new(),
        }
    }

    /// The receiving end, for the manager loop (once).
    pub fn take_rx(&mut self) -> mpsc::UnboundedReceiver<WatchMsg> {
        self.rx
            .take()
            .unwrap_or_else(|| mpsc::unbounded_channel().1)
    }

    /// Stop watching a project.
    pub fn forget(&mut self, project: &ProjectName) {
        self.projects.remove(project);
    }

    /// Changes recorded but not acted upon.
    pub fn pending(&self, project: &ProjectName, unit: &UnitName) -> u32 {
        self.projects
            .get(project)
            .and_then(|p| p.units.get(unit))
            .map_or(0, |u| u.pending_count.min(u32::MAX as usize) as u32)
    }

    /// Fill in `pending_changes` of a status, and keep a detected loop
    /// in its message while auto-trigger stays paused (a run that was
    /// already going may have replaced the actor's message since).
    pub fn annotate(&self, mut s: UnitStatus) -> UnitStatus {
        s.pending_changes = self.pending(&s.project, &s.name);
        let paused = self
            .projects
            .get(&s.project)
            .and_then(|p| p.units.get(&s.name))
            .and_then(|u| u.paused_message.as_ref());
        if let Some(m) = paused
            && s.message.as_deref() != Some(m.as_str())
        {
            s.message = Some(match s.message.take() {
                Some(own) => format!("{own}; {m}"),
                None => m.clone(),
            });
        }
        s
    }
}
