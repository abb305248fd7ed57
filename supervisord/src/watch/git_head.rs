//! Following a project repository's `HEAD`: inotify on the git directory
//! (`HEAD`, `packed-refs`), the common directory of a worktree, and the
//! branch refs below `refs/heads`. On any change there `HEAD`'s commit is
//! read again (`runs::git`, no `git` binary); a [`WatchMsg::Commit`] goes
//! out only when the commit id differs from the last one seen, so a
//! `git status` rewriting the index, or a checkout of the same commit, is
//! silent, and a commit, checkout, merge, pull or rebase is one message.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tracing::debug;

use devctl_units::ProjectName;

use crate::runs::git;
use crate::watch::{WatchError, WatchMsg};

/// A running `HEAD` watcher; dropping it stops watching.
pub struct HeadWatcher {
    _watcher: RecommendedWatcher,
    git_dir: PathBuf,
}

impl std::fmt::Debug for HeadWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadWatcher")
            .field("git_dir", &self.git_dir)
            .finish()
    }
}

impl HeadWatcher {
    /// Watch the repository holding `root`. `Ok(None)` when there is
    /// none (the caller says so to the units that wanted one).
    pub fn start(
        project: ProjectName,
        root: &Path,
        out: mpsc::UnboundedSender<WatchMsg>,
    ) -> Result<Option<HeadWatcher>, WatchError> {
        let Some(git_dir) = git::find_git_dir(root) else {
            return Ok(None);
        };
        let common = git::common_dir(&git_dir);
        let last = Mutex::new(git::head_commit(root));
        let root_owned = root.to_path_buf();
        let mut watcher = notify::recommended_watcher(move |r: notify::Result<notify::Event>| {
            // Our own reads of HEAD show up as access events: never act on them.
            let Ok(ev) = r else { return };
            if matches!(ev.kind, EventKind::Access(_)) {
                return;
            }
            let now = git::head_commit(&root_owned);
            let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
            if now.is_some() && *last != now {
                last.clone_from(&now);
                if let Some(commit) = now {
                    debug!(%project, %commit, "HEAD moved");
                    let _ = out.send(WatchMsg::Commit {
                        project: project.clone(),
                        commit,
                    });
                }
            }
        })
        .map_err(WatchError::from_notify)?;
        watcher
            .watch(&git_dir, RecursiveMode::NonRecursive)
            .map_err(WatchError::from_notify)?;
        if common != git_dir {
            watcher
                .watch(&common, RecursiveMode::NonRecursive)
                .map_err(WatchError::from_notify)?;
        }
        let heads = common.join("refs").join("heads");
        if heads.is_dir() {
            watcher
                .watch(&heads, RecursiveMode::Recursive)
                .map_err(WatchError::from_notify)?;
        }
        Ok(Some(HeadWatcher {
            _watcher: watcher,
            git_dir,
        }))
    }
}
