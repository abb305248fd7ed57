//! Per-unit log files under one root: `<root>/<project>/<unit>.log`, rotated
//! by size into `.1`, `.2`, …; a bounded in-memory tail (the last records'
//! bytes, see `tail.rs`); a bounded broadcast to live followers. Lines
//! arrive as formatted batches (`batch.rs`) that are written to disk and
//! copied into the tail as they are; `LogLine`s are built only for
//! followers. Write errors (disk full, directory gone) drop lines and count
//! the bytes; nothing blocks or grows.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::broadcast;
use tracing::{debug, warn};

use super::batch::Batch;
use super::read::read_lines;
use super::record::{LogLine, Stream};
use super::tail::Tail;

/// Size and memory bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// Rotate when the current file would grow past this.
    pub max_file_bytes: u64,
    /// Rotated files kept (`.1` … `.keep_files`).
    pub keep_files: u32,
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
            max_file_bytes: 8 << 20,
            keep_files: 3,
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
    pub fn unit(&self, project: &str, unit: &str) -> UnitLog {
        let key = (project.to_string(), unit.to_string());
        let mut units = self.units.lock().unwrap_or_else(|p| p.into_inner());
        units
            .entry(key)
            .or_insert_with(|| {
                let path = self
                    .root
                    .join(safe_component(project))
                    .join(format!("{}.log", safe_component(unit)));
                UnitLog::new(path, self.limits)
            })
            .clone()
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
}

impl LogFollower {
    /// The next line, or how many were missed; `None` when the log is gone.
    pub async fn next(&mut self) -> Option<FollowEvent> {
        match self.rx.recv().await {
            Ok(line) => Some(FollowEvent::Line(line)),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(FollowEvent::Missed(n)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

#[derive(Debug)]
struct Writer {
    file: Option<File>,
    size: u64,
    last_open_failure: Option<Instant>,
    tail: Tail,
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
    fn new(path: PathBuf, limits: LogLimits) -> UnitLog {
        let writer = Writer {
            file: None,
            size: 0,
            last_open_failure: None,
            tail: Tail::new(limits.tail_lines, limits.tail_bytes),
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
        let tx = self
            .inner
            .tx
            .get_or_init(|| broadcast::channel(self.inner.limits.follow_buffer.max(1)).0);
        LogFollower { rx: tx.subscribe() }
    }

    /// The last `n` lines from memory.
    pub fn tail(&self, n: usize) -> Vec<LogLine> {
        self.lock().tail.last(n)
    }

    /// The last `n` lines at or after `since`, from disk (rotated files
    /// included).
    pub async fn read(&self, since: Option<SystemTime>, n: usize) -> io::Result<Vec<LogLine>> {
        let paths = self.files_oldest_first();
        let max = self.inner.limits.max_line_bytes * 2 + 128;
        tokio::task::spawn_blocking(move || read_lines(&paths, since, n, max))
            .await
            .map_err(io::Error::other)?
    }

    /// Rotated files then the current one, oldest first.
    pub fn files_oldest_first(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = (1..=self.inner.limits.keep_files)
            .rev()
            .map(|k| self.rotated(k))
            .collect();
        v.push(self.inner.path.clone());
        v
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
        let max = self.inner.limits.max_file_bytes;
        let mut written = 0;
        if w.file.is_some() && w.size + bytes.len() as u64 > max {
            let mut start = 0;
            for &end in batch.ends() {
                // Rotate at a record boundary so no file outgrows the limit
                // (a single record longer than the limit gets a file of its
                // own).
                if w.file.is_some()
                    && w.size + (end - written) as u64 > max
                    && w.size + (start - written) as u64 > 0
                {
                    self.write_disk(&mut w, &bytes[written..start]);
                    written = start;
                    self.rotate_now(&mut w);
                }
                start = end;
            }
        }
        self.write_disk(&mut w, &bytes[written..]);
        w.tail.push(batch);
        if let Some(tx) = self.inner.tx.get().filter(|tx| tx.receiver_count() > 0) {
            for i in 0..batch.len() {
                let _ = tx.send(batch.line(i));
            }
        }
    }

    fn rotate_now(&self, w: &mut Writer) {
        w.file = None;
        if let Err(e) = self.rotate() {
            self.report(&e, "cannot rotate log");
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
                w.last_open_failure = None;
            }
            Err(e) => {
                w.last_open_failure = Some(Instant::now());
                self.report(&e, "cannot open log file");
            }
        }
    }

    fn write_disk(&self, w: &mut Writer, bytes: &[u8]) {
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
            Ok(()) => w.size += bytes.len() as u64,
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

    fn rotate(&self) -> io::Result<()> {
        let keep = self.inner.limits.keep_files;
        if keep == 0 {
            return fs::remove_file(&self.inner.path);
        }
        // The oldest file is removed first so that no rename replaces an
        // existing file: ext4 (auto_da_alloc) starts writing back the
        // renamed file's data in the renaming thread when it does, work
        // its flusher otherwise does in the background.
        match fs::remove_file(self.rotated(keep)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        for k in (1..keep).rev() {
            match fs::rename(self.rotated(k), self.rotated(k + 1)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        fs::rename(&self.inner.path, self.rotated(1))
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
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn batch(secs: u64, texts: &[&str]) -> Batch {
        let mut b = Batch::new();
        b.start(UNIX_EPOCH + Duration::new(secs, 1_500), Stream::Stdout);
        for t in texts {
            b.push_str(t, "");
        }
        b
    }

    #[tokio::test]
    async fn followers_get_every_line_the_tail_and_disk_have() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path().into(), LogLimits::default()).unwrap();
        let log = store.unit("p", "u");
        log.write(Stream::Stdout, "unfollowed");
        let mut f = log.subscribe();
        log.append(&batch(1, &["a", "", "c"]));
        log.marker("exited 0");
        log.write(Stream::Stderr, "bad \u{fffd}");
        let mut got = Vec::new();
        while got.len() < 5 {
            match f.next().await {
                Some(FollowEvent::Line(l)) => got.push(l),
                other => panic!("{other:?}"),
            }
        }
        let tail = log.tail(10);
        assert_eq!(tail[1..], got[..], "same lines, same times");
        assert_eq!(tail[0].text.as_ref(), "unfollowed");
        let texts: Vec<&str> = got.iter().map(|l| l.text.as_ref()).collect();
        assert_eq!(texts, ["a", "", "c", "exited 0", "bad \u{fffd}"]);
        assert_eq!(got[0].time, UNIX_EPOCH + Duration::new(1, 1_000));
        assert_eq!(log.read(None, 10).await.unwrap(), tail);
    }

    #[test]
    fn rotation_splits_batches_at_record_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let limits = LogLimits {
            max_file_bytes: 100,
            keep_files: 50,
            ..LogLimits::default()
        };
        let store = LogStore::open(dir.path().into(), limits).unwrap();
        let log = store.unit("p", "r");
        let mut want = Vec::new();
        for i in 0..12u64 {
            let texts: Vec<String> = (0..(i % 4)).map(|j| format!("{i}-{j}")).collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let b = batch(i, &refs);
            want.extend_from_slice(b.bytes());
            log.append(&b);
        }
        // One record longer than the limit gets a file of its own.
        let long = batch(99, &[&"x".repeat(150)]);
        want.extend_from_slice(long.bytes());
        log.append(&long);
        let mut all = Vec::new();
        for path in log.files_oldest_first() {
            let Ok(bytes) = fs::read(&path) else { continue };
            assert!(bytes.ends_with(b"\n"), "{}", path.display());
            let records = bytes.iter().filter(|b| **b == b'\n').count();
            assert!(bytes.len() <= 100 || records == 1, "{}", path.display());
            all.extend(bytes);
        }
        assert_eq!(all, want, "every record, in order, none cut");
        assert!(log.rotated(2).exists());
        assert_eq!(log.dropped_bytes(), 0);
    }
}
