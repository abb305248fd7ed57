//! Per-unit log files under one root: `<root>/<project>/<unit>.log`, rotated
//! by size into `.1`, `.2`, …; a bounded in-memory tail; a bounded broadcast
//! to live followers. Write errors (disk full, directory gone) drop lines
//! and count the bytes; nothing blocks or grows.

use std::collections::{HashMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::broadcast;
use tracing::{debug, warn};

use super::read::read_lines;
use super::record::{LogLine, Stream, format_record};

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
    tail: VecDeque<LogLine>,
    tail_bytes: usize,
    buf: Vec<u8>,
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
            tail: VecDeque::new(),
            tail_bytes: 0,
            buf: Vec::new(),
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
        self.append(vec![LogLine::now(Stream::Marker, text.into())]);
    }

    /// Write one line of `stream` that did not come through a pump (engine
    /// messages, build output already split into lines).
    pub fn write(&self, stream: Stream, text: impl Into<Arc<str>>) {
        self.append(vec![LogLine::now(stream, text)]);
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
        let w = self.lock();
        w.tail
            .iter()
            .skip(w.tail.len().saturating_sub(n))
            .cloned()
            .collect()
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

    /// Append lines: one write to disk, into the tail, to followers.
    pub(crate) fn append(&self, lines: Vec<LogLine>) {
        if lines.is_empty() {
            return;
        }
        let mut w = self.lock();
        let mut buf = std::mem::take(&mut w.buf);
        buf.clear();
        self.ensure_open(&mut w);
        let max = self.inner.limits.max_file_bytes;
        for line in &lines {
            let before = buf.len();
            format_record(line, &mut buf);
            // Rotate at a record boundary so no file outgrows the limit
            // (a single record longer than the limit gets a file of its own).
            if w.file.is_some() && w.size + buf.len() as u64 > max && w.size + before as u64 > 0 {
                self.write_disk(&mut w, &buf[..before]);
                buf.drain(..before);
                self.rotate_now(&mut w);
            }
        }
        self.write_disk(&mut w, &buf);
        if buf.capacity() > 256 << 10 {
            buf = Vec::new();
        }
        w.buf = buf;
        let limits = self.inner.limits;
        let follow = self.inner.tx.get().filter(|tx| tx.receiver_count() > 0);
        for line in lines {
            if let Some(tx) = follow {
                let _ = tx.send(line.clone());
            }
            w.tail_bytes += line.text.len();
            w.tail.push_back(line);
            while w.tail.len() > limits.tail_lines
                || (w.tail_bytes > limits.tail_bytes && w.tail.len() > 1)
            {
                if let Some(old) = w.tail.pop_front() {
                    w.tail_bytes -= old.text.len();
                }
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
