//! A unit's log files as they stood at one instant: each file opened and
//! its length noted under the writer's lock, together with how many lines
//! had been appended by then. Reading it sees exactly the lines written
//! before that instant, whatever rotation renames or retention removes
//! meanwhile (open files outlive both), and nothing written after — so a
//! follower subscribed at the same instant continues it with no line
//! missed and none twice.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::time::SystemTime;

use super::read::{open_if_present, read_sources};
use super::record::LogLine;

/// One file of a snapshot: missing, open with its length then, or why it
/// could not be opened (said only if a read needs it).
type SnapFile = io::Result<Option<(File, u64)>>;

/// The files of one unit's log at one instant; see the module doc.
#[derive(Debug)]
pub struct LogSnapshot {
    position: u64,
    /// Oldest first.
    files: Vec<SnapFile>,
    max_record: usize,
}

impl LogSnapshot {
    /// Open `paths` (oldest first) now. Called with the writer's lock held,
    /// `position` being the lines appended so far.
    pub(super) fn open(paths: &[PathBuf], position: u64, max_record: usize) -> LogSnapshot {
        let files = paths
            .iter()
            .map(|p| {
                let Some(file) = open_if_present(p)? else {
                    return Ok(None);
                };
                let len = file.metadata()?.len();
                Ok(Some((file, len)))
            })
            .collect();
        LogSnapshot {
            position,
            files,
            max_record,
        }
    }

    /// Lines appended to the log (since the daemon started) before the
    /// snapshot: a follower subscribed with it delivers the line at this
    /// position first.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The last `n` lines stamped within `since..=until` among those on
    /// disk at the snapshot.
    pub async fn read(
        self,
        since: Option<SystemTime>,
        until: Option<SystemTime>,
        n: usize,
    ) -> io::Result<Vec<LogLine>> {
        let max = self.max_record;
        tokio::task::spawn_blocking(move || {
            let sources = self
                .files
                .into_iter()
                .map(|f| f.map(|f| f.map(|(file, len)| file.take(len))));
            read_sources(sources, since, until, n, max)
        })
        .await
        .map_err(io::Error::other)?
    }
}
