//! Per-unit log files under one root: `<root>/<project>/<unit>.log`, rotated
//! into `.1`, `.2`, … by each unit's [`LogRetention`] (size, count, age;
//! the decisions are `retention.rs`, the file work is here); a bounded
//! in-memory tail (the last records' bytes, see `tail.rs`); a bounded
//! broadcast to live followers. Lines arrive as formatted batches
//! (`batch.rs`) that are written to disk and copied into the tail as they
//! are; `LogLine`s are built only for followers. Each batch is written to
//! the file (no user-space buffer) before it is broadcast, both under one
//! lock, so a line a follower could have received is already readable from
//! disk, and a snapshot taken with a subscription (`snapshot.rs`) splits
//! the log exactly between the files and the follower. Write errors (disk
//! full, directory gone) drop lines and count the bytes; nothing blocks or
//! grows.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::broadcast;
use tracing::{debug, warn};

use devctl_units::LogSpec;

use super::batch::Batch;
use super::files;
use super::read::read_lines;
use super::record::{LogLine, Stream};
use super::retention::LogRetention;
use super::snapshot::LogSnapshot;
use super::tail::Tail;

/// Disk and memory bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// What a unit keeps on disk unless it says otherwise (the daemon's
    /// default, `DEVCTL_LOGS_*`).
    pub retention: LogRetention,
    /// Lines kept in memory for `tail`.
    pub tail_lines: usize,
    /// Bytes of text kept in memory for `tail`.
    pub tail_bytes: usize,
    /// Longer lines are split, the first part marked.
    pub max_line_bytes: usize,
    /// Lines a follower may fall behind before it is told it missed some.
    pub follow_buffer: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            retention: LogRetention::default(),
            tail_lines: 1000,
            tail_bytes: 1 << 20,
            max_line_bytes: 64 << 10,
            follow_buffer: 256,
        }
    }
}

/// Appended to the first part of a line longer than `max_line_bytes`; the
/// rest follows in the next record(s).
pub const LINE_SPLIT_MARKER: &str = " [line truncated]";

/// Don't retry opening an unwritable file more often than this.
const REOPEN_AFTER: Duration = Duration::from_secs(1);

/// All units' logs.
#[derive(Debug)]
pub struct LogStore {
    root: PathBuf,
    limits: LogLimits,
    units: Mutex<HashMap<(String, String), UnitLog>>,
}

impl LogStore {
    /// Use `root` (created if missing) for every unit's log.
    pub fn open(root: PathBuf, limits: LogLimits) -> io::Result<LogStore> {
        fs::create_dir_all(&root)?;
        Ok(LogStore {
            root,
            limits,
            units: Mutex::new(HashMap::new()),
        })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The log of one unit; every call for the same unit shares one writer.
    /// A unit seen for the first time keeps the daemon's default retention.
    pub fn unit(&self, project: &str, unit: &str) -> UnitLog {
        self.unit_inner(project, unit, None)
    }

    /// The log of a loaded unit, keeping what its `logs { }` says (over
    /// the daemon's default). The retention is applied at once: files
    /// past the count or older than the age left by an earlier setting or
    /// an earlier daemon go now (a load is a daemon start or a reload).
    pub fn unit_with(&self, project: &str, unit: &str, spec: &LogSpec) -> UnitLog {
        self.unit_inner(project, unit, Some(self.limits.retention.with(spec)))
    }

    /// What a unit keeps unless it says otherwise.
    pub fn default_retention(&self) -> LogRetention {
        self.limits.retention
    }

    fn unit_inner(&self, project: &str, unit: &str, retention: Option<LogRetention>) -> UnitLog {
        let key = (project.to_string(), unit.to_string());
        let mut units = self.units.lock().unwrap_or_else(|p| p.into_inner());
        let mut fresh = false;
        let log = units
            .entry(key)
            .or_insert_with(|| {
                fresh = true;
                let path = self
                    .root
                    .join(safe_component(project))
                    .join(format!("{}.log", safe_component(unit)));
                UnitLog::new(
                    path,
                    self.limits,
                    retention.unwrap_or(self.limits.retention),
                )
            })
            .clone();
        drop(units);
        match retention {
            Some(_) if fresh => log.enforce(SystemTime::now()),
            Some(r) => log.set_retention(r, SystemTime::now()),
            None => {}
        }
        log
    }
}

/// Names are validated upstream; this only guarantees one path component.
fn safe_component(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c == '/' || c == '\0' { '_' } else { c })
        .collect();
    if s.is_empty() || s == "." || s == ".." {
        format!("_{s}")
    } else {
        s
    }
}

/// What a follower receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowEvent {
    Line(LogLine),
    /// The follower was too slow; this many lines were skipped.
    Missed(u64),
}

/// A live follower of one unit's log.
#[derive(Debug)]
pub struct LogFollower {
    rx: broadcast::Receiver<LogLine>,
    position: u64,
}

impl LogFollower {
    /// The next line, or how many were missed; `None` when the log is gone.
    pub async fn next(&mut self) -> Option<FollowEvent> {
        match self.rx.recv().await {
            Ok(line) => {
                self.position += 1;
                Some(FollowEvent::Line(line))
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                self.position += n;
                Some(FollowEvent::Missed(n))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// The position in the log (lines appended since the daemon started)
    /// of the next line this follower delivers: every line before it was
    /// delivered or counted as missed.
    pub fn position(&self) -> u64 {
        self.position
    }
}

#[derive(Debug)]
struct Writer {
    file: Option<File>,
    size: u64,
    /// The time of the current file's first line (for age rotation);
    /// `None` while it is empty or that time is unknown.
    oldest: Option<SystemTime>,
    retention: LogRetention,
    /// The newest line ever removed (the `.pruned` file), once read.
    pruned: Option<Option<SystemTime>>,
    last_open_failure: Option<Instant>,
    tail: Tail,
    /// Lines appended since the daemon started (the position of the next).
    written: u64,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    limits: LogLimits,
    writer: Mutex<Writer>,
    /// Created by the first follower: a channel preallocates all its slots,
    /// and most units are never followed.
    tx: std::sync::OnceLock<broadcast::Sender<LogLine>>,
    dropped_bytes: AtomicU64,
    warned: AtomicBool,
}

/// Cloneable handle to one unit's log.
#[derive(Debug, Clone)]
pub struct UnitLog {
    inner: Arc<Inner>,
}

impl UnitLog {
    fn new(path: PathBuf, limits: LogLimits, retention: LogRetention) -> UnitLog {
        let writer = Writer {
            file: None,
            size: 0,
            oldest: None,
            retention,
            pruned: None,
            last_open_failure: None,
            tail: Tail::new(limits.tail_lines, limits.tail_bytes),
            written: 0,
        };
        UnitLog {
            inner: Arc::new(Inner {
                path,
                limits,
                writer: Mutex::new(writer),
                tx: std::sync::OnceLock::new(),
                dropped_bytes: AtomicU64::new(0),
                warned: AtomicBool::new(false),
            }),
        }
    }

    /// The current log file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The limits in force.
    pub fn limits(&self) -> LogLimits {
        self.inner.limits
    }

    /// What this unit keeps on disk.
    pub fn retention(&self) -> LogRetention {
        self.lock().retention
    }

    /// Keep `r` from now on; files it no longer keeps go at once.
    pub fn set_retention(&self, r: LogRetention, now: SystemTime) {
        let mut w = self.lock();
        if w.retention != r {
            w.retention = r;
            self.prune(&mut w, now);
        }
    }

    /// Remove what the retention no longer keeps (files past the count,
    /// files past the age), as of `now`.
    pub fn enforce(&self, now: SystemTime) {
        let mut w = self.lock();
        self.prune(&mut w, now);
    }

    /// The time of the newest line ever removed by rotation or age, if
    /// any was: lines at or before it are gone.
    pub fn rotated_away(&self) -> Option<SystemTime> {
        let mut w = self.lock();
        *w.pruned
            .get_or_insert_with(|| files::read_watermark(&self.inner.path))
    }

    /// Bytes that could not be written to disk (disk full, no permission).
    pub fn dropped_bytes(&self) -> u64 {
        self.inner.dropped_bytes.load(Ordering::Relaxed)
    }

    /// Write a lifecycle marker (`spawned pid 12`, `exited 1`, …).
    pub fn marker(&self, text: impl Into<String>) {
        self.append(&Batch::one(SystemTime::now(), Stream::Marker, &text.into()));
    }

    /// Write one line of `stream` that did not come through a pump (engine
    /// messages, build output already split into lines).
    pub fn write(&self, stream: Stream, text: impl AsRef<str>) {
        self.append(&Batch::one(SystemTime::now(), stream, text.as_ref()));
    }

    /// The last `n` lines: from memory when it holds that many, else from
    /// disk (which also has the lines of earlier daemon runs); memory again
    /// if the files cannot be read.
    pub async fn recent(&self, n: usize) -> Vec<LogLine> {
        let tail = self.tail(n);
        if tail.len() >= n {
            return tail;
        }
        match self.read(None, n).await {
            Ok(lines) if lines.len() >= tail.len() => lines,
            Ok(_) => tail,
            Err(e) => {
                debug!(path = %self.inner.path.display(), error = %e, "log history unreadable; memory tail only");
                tail
            }
        }
    }

    /// Follow new lines. Subscribe before the process starts to miss none.
    pub fn subscribe(&self) -> LogFollower {
        let w = self.lock();
        self.follower(&w)
    }

    /// Follow new lines, and the files holding every earlier line: the
    /// follower starts exactly where the snapshot ends.
    pub fn subscribe_with_snapshot(&self) -> (LogFollower, LogSnapshot) {
        let mut w = self.lock();
        let snapshot = self.snapshot_locked(&mut w);
        (self.follower(&w), snapshot)
    }

    /// The files as they are now, to read without rotation or later lines
    /// getting in the way. With a maximum age, files past it are removed
    /// first (a read is one of the moments age is applied).
    pub fn snapshot(&self) -> LogSnapshot {
        let mut w = self.lock();
        self.snapshot_locked(&mut w)
    }

    /// A follower whose first line is the next one appended; `w` held so
    /// that its position is exact.
    fn follower(&self, w: &Writer) -> LogFollower {
        let tx = self
            .inner
            .tx
            .get_or_init(|| broadcast::channel(self.inner.limits.follow_buffer.max(1)).0);
        LogFollower {
            rx: tx.subscribe(),
            position: w.written,
        }
    }

    fn snapshot_locked(&self, w: &mut Writer) -> LogSnapshot {
        if w.retention.max_age.is_some() {
            self.prune(w, SystemTime::now());
        }
        LogSnapshot::open(&self.files_with(w.retention), w.written, self.max_record())
    }

    /// The last `n` lines from memory.
    pub fn tail(&self, n: usize) -> Vec<LogLine> {
        self.lock().tail.last(n)
    }

    /// The last `n` lines from memory among those before `position` (a
    /// snapshot's): what a snapshot's files hold, for when they cannot be
    /// read. Lines the tail has let go of since are not there.
    pub fn tail_before(&self, position: u64, n: usize) -> Vec<LogLine> {
        let w = self.lock();
        let newer = w.written.saturating_sub(position) as usize;
        let mut lines = w.tail.last(n.saturating_add(newer));
        lines.truncate(lines.len().saturating_sub(newer));
        lines
    }

    /// The last `n` lines at or after `since`, from disk (rotated files
    /// included).
    pub async fn read(&self, since: Option<SystemTime>, n: usize) -> io::Result<Vec<LogLine>> {
        self.read_between(since, None, n).await
    }

    /// The last `n` lines stamped within `since..=until`, from disk. With
    /// a maximum age, files past it are removed first (a read is one of
    /// the moments age is applied).
    pub async fn read_between(
        &self,
        since: Option<SystemTime>,
        until: Option<SystemTime>,
        n: usize,
    ) -> io::Result<Vec<LogLine>> {
        let log = self.clone();
        let max = self.max_record();
        tokio::task::spawn_blocking(move || {
            if log.retention().max_age.is_some() {
                log.enforce(SystemTime::now());
            }
            read_lines(&log.files_oldest_first(), since, until, n, max)
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Rotated files then the current one, oldest first.
    pub fn files_oldest_first(&self) -> Vec<PathBuf> {
        self.files_with(self.retention())
    }

    fn files_with(&self, r: LogRetention) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = (1..=r.rotated_files())
            .rev()
            .map(|k| self.rotated(k))
            .collect();
        v.push(self.inner.path.clone());
        v
    }

    /// The longest record on disk: a split line's part plus its head.
    fn max_record(&self) -> usize {
        self.inner.limits.max_line_bytes * 2 + 128
    }

    fn rotated(&self, k: u32) -> PathBuf {
        let mut s = self.inner.path.clone().into_os_string();
        s.push(format!(".{k}"));
        PathBuf::from(s)
    }

    fn lock(&self) -> MutexGuard<'_, Writer> {
        self.inner.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Append a batch: its bytes to disk in one write (two around a
    /// rotation), into the tail, and as lines to followers if any.
    pub(crate) fn append(&self, batch: &Batch) {
        if batch.is_empty() {
            return;
        }
        let mut w = self.lock();
        self.ensure_open(&mut w);
        let bytes = batch.bytes();
        let now = batch.time();
        let r = w.retention;
        // Would the file, holding `pending` more bytes, rotate before a
        // record of `len` bytes?
        let due = |w: &Writer, pending: usize, len: usize| {
            r.rotation(w.size + pending as u64, w.oldest, len as u64, now)
                .is_some()
        };
        let mut written = 0;
        // Most batches fit a file that is young enough and go out in one
        // write; the others are cut at the records where it must rotate.
        if w.file.is_some() && due(&w, 0, bytes.len()) {
            let mut start = 0;
            for &end in batch.ends() {
                // Rotate at a record boundary so no file outgrows the limit
                // (a single record longer than the limit gets a file of its
                // own).
                if w.file.is_some() && due(&w, start - written, end - start) {
                    self.write_disk(&mut w, &bytes[written..start], now);
                    written = start;
                    self.rotate_now(&mut w, now);
                }
                start = end;
            }
        }
        self.write_disk(&mut w, &bytes[written..], now);
        w.tail.push(batch);
        w.written += batch.len() as u64;
        if let Some(tx) = self.inner.tx.get().filter(|tx| tx.receiver_count() > 0) {
            for i in 0..batch.len() {
                let _ = tx.send(batch.line(i));
            }
        }
    }

    fn rotate_now(&self, w: &mut Writer, now: SystemTime) {
        w.file = None;
        if let Err(e) = self.rotate(w) {
            self.report(&e, "cannot rotate log");
        }
        if w.retention.max_age.is_some() {
            self.prune(w, now);
        }
        self.ensure_open(w);
    }

    fn ensure_open(&self, w: &mut Writer) {
        if w.file.is_some()
            || w.last_open_failure
                .is_some_and(|t| t.elapsed() < REOPEN_AFTER)
        {
            return;
        }
        match self.open_file() {
            Ok((file, size)) => {
                w.file = Some(file);
                w.size = size;
                w.oldest = (size > 0)
                    .then(|| files::first_record_time(&self.inner.path, self.max_record()))
                    .flatten();
                w.last_open_failure = None;
            }
            Err(e) => {
                w.last_open_failure = Some(Instant::now());
                self.report(&e, "cannot open log file");
            }
        }
    }

    fn write_disk(&self, w: &mut Writer, bytes: &[u8], now: SystemTime) {
        if bytes.is_empty() {
            return;
        }
        let Some(file) = w.file.as_mut() else {
            self.inner
                .dropped_bytes
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            return;
        };
        match file.write_all(bytes) {
            Ok(()) => {
                w.size += bytes.len() as u64;
                w.oldest.get_or_insert(now);
            }
            Err(e) => {
                // Part of the batch may have landed; count it all as dropped.
                self.inner
                    .dropped_bytes
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                self.report(&e, "cannot write log");
                if e.raw_os_error() != Some(libc::ENOSPC) {
                    w.file = None;
                    w.last_open_failure = Some(Instant::now());
                }
            }
        }
    }

    fn open_file(&self) -> io::Result<(File, u64)> {
        if let Some(dir) = self.inner.path.parent() {
            fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.inner.path)?;
        let size = file.metadata()?.len();
        Ok((file, size))
    }

    fn rotate(&self, w: &mut Writer) -> io::Result<()> {
        w.size = 0;
        w.oldest = None;
        let keep = w.retention.rotated_files();
        if keep == 0 {
            return self.remove(w, &self.inner.path.clone());
        }
        // The oldest file is removed first so that no rename replaces an
        // existing file: ext4 (auto_da_alloc) starts writing back the
        // renamed file's data in the renaming thread when it does, work
        // its flusher otherwise does in the background.
        self.remove(w, &self.rotated(keep))?;
        for k in (1..keep).rev() {
            match fs::rename(self.rotated(k), self.rotated(k + 1)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        fs::rename(&self.inner.path, self.rotated(1))
    }

    /// Remove the files the retention no longer keeps as of `now`: past
    /// the count (probing past it until a file is missing: rotation keeps
    /// the numbers contiguous) and, with an age, every file from the first
    /// one whose newest line is that old.
    fn prune(&self, w: &mut Writer, now: SystemTime) {
        let r = w.retention;
        let aged = r.max_age.is_some();
        // Newest line of each file, newest file first; without an age only
        // the files past the count matter, so only those are looked at.
        let mut newest: Vec<Option<SystemTime>> = Vec::new();
        // Bounded in case something else fills the directory with numbers.
        for k in 0..=LogSpec::MAX_FILES * 10 {
            let path = if k == 0 {
                self.inner.path.clone()
            } else {
                self.rotated(k)
            };
            let t = if aged || k >= r.files {
                files::modified(&path)
            } else {
                None
            };
            if t.is_none() && k >= r.files {
                break;
            }
            newest.push(t);
        }
        let Some(first) = r.first_expired(&newest, now) else {
            return;
        };
        for k in (first..newest.len()).rev() {
            let result = if k == 0 {
                w.file = None;
                w.size = 0;
                w.oldest = None;
                self.remove(w, &self.inner.path.clone())
            } else {
                self.remove(w, &self.rotated(k as u32))
            };
            if let Err(e) = result {
                self.report(&e, "cannot remove an expired log file");
            }
        }
    }

    /// Remove one log file, first raising the watermark to its last line.
    fn remove(&self, w: &mut Writer, path: &Path) -> io::Result<()> {
        let last =
            files::last_record_time(path, self.max_record()).or_else(|| files::modified(path));
        match fs::remove_file(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        let known = *w
            .pruned
            .get_or_insert_with(|| files::read_watermark(&self.inner.path));
        if let Some(t) = last.filter(|t| known.is_none_or(|k| *t > k)) {
            w.pruned = Some(Some(t));
            if let Err(e) = files::write_watermark(&self.inner.path, t) {
                self.report(&e, "cannot record which log lines were removed");
            }
        }
        Ok(())
    }

    /// A disk problem is the environment's, reported once per unit.
    fn report(&self, e: &io::Error, what: &str) {
        if !self.inner.warned.swap(true, Ordering::Relaxed) {
            warn!(path = %self.inner.path.display(), error = %e, "{what}; dropping log lines until it works again");
        } else {
            debug!(path = %self.inner.path.display(), error = %e, "{what}");
        }
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
