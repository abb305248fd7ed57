//! Per-unit log buffers used by the core: a bounded in-memory ring of the
//! latest lines (for `status` tails, `logs -n` and merging), a live
//! broadcast for `logs -f`, and an append-only file under
//! `<state>/logs/<project>/<unit>.log`. Output lines are capped in length
//! and read through [`pump`], which also hands each line to the unit actor
//! (log-regex readiness, build idle timeouts).
//!
//! This is the core's adapter over the log layer; rotation and on-disk
//! history reading belong to `crate::logs`.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{broadcast, mpsc};

use devctl_units::api::{LogRecord, LogStream};
use devctl_units::{ProjectName, UnitName};

/// Lines kept in memory per unit.
pub const RING_LINES: usize = 2000;
/// Longer lines are cut here (bytes) and marked with `…`.
pub const MAX_LINE: usize = 16 * 1024;

/// Microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

struct Inner {
    project: ProjectName,
    unit: UnitName,
    ring: Mutex<VecDeque<LogRecord>>,
    file: Mutex<Option<File>>,
    live: broadcast::Sender<LogRecord>,
}

/// One unit's log. Cheap to clone.
#[derive(Clone)]
pub struct UnitLog(Arc<Inner>);

impl std::fmt::Debug for UnitLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UnitLog({}/{})", self.0.project, self.0.unit)
    }
}

impl UnitLog {
    /// Open (append) the unit's log file under `logs_root`; a file that
    /// cannot be opened leaves the log memory-only.
    pub fn open(logs_root: &Path, project: &ProjectName, unit: &UnitName) -> UnitLog {
        let dir = logs_root.join(project.as_str());
        let file = std::fs::create_dir_all(&dir).and_then(|()| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(format!("{unit}.log")))
        });
        let file = match file {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::warn!(%project, %unit, "log file unavailable, keeping logs in memory only: {e}");
                None
            }
        };
        let (live, _) = broadcast::channel(1024);
        UnitLog(Arc::new(Inner {
            project: project.clone(),
            unit: unit.clone(),
            ring: Mutex::new(VecDeque::new()),
            file: Mutex::new(file),
            live,
        }))
    }

    /// Append one line.
    pub fn write(&self, stream: LogStream, text: &str) {
        let mut text = text.to_string();
        if text.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        let rec = LogRecord {
            time_us: now_us(),
            project: self.0.project.clone(),
            unit: self.0.unit.clone(),
            stream,
            text,
        };
        if let Some(f) = self
            .0
            .file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            let tag = match stream {
                LogStream::Stdout => "out",
                LogStream::Stderr => "err",
                LogStream::Marker => "---",
            };
            let _ = writeln!(f, "{} {tag} {}", rec.time_us, rec.text);
        }
        {
            let mut ring = self.0.ring.lock().unwrap_or_else(|p| p.into_inner());
            if ring.len() >= RING_LINES {
                ring.pop_front();
            }
            ring.push_back(rec.clone());
        }
        let _ = self.0.live.send(rec);
    }

    /// A lifecycle marker (`spawned pid 42`, `exited code 1`, …).
    pub fn marker(&self, text: &str) {
        self.write(LogStream::Marker, text);
    }

    /// Lines at or after `since_us`, the last `n` of them.
    pub fn read(&self, since_us: Option<u64>, n: Option<usize>) -> Vec<LogRecord> {
        let ring = self.0.ring.lock().unwrap_or_else(|p| p.into_inner());
        let sel: Vec<LogRecord> = ring
            .iter()
            .filter(|r| since_us.is_none_or(|s| r.time_us >= s))
            .cloned()
            .collect();
        let skip = n.map_or(0, |n| sel.len().saturating_sub(n));
        sel.into_iter().skip(skip).collect()
    }

    /// The last `n` lines.
    pub fn tail(&self, n: usize) -> Vec<LogRecord> {
        self.read(None, Some(n))
    }

    /// Every later line.
    pub fn subscribe(&self) -> broadcast::Receiver<LogRecord> {
        self.0.live.subscribe()
    }
}

/// Read lines from a child's pipe into its log until EOF; each line is also
/// offered to `tap` (dropped if the actor is gone).
pub async fn pump(
    reader: impl AsyncRead + Unpin,
    stream: LogStream,
    log: UnitLog,
    tap: mpsc::UnboundedSender<String>,
) {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                let line = String::from_utf8_lossy(&buf);
                log.write(stream, &line);
                let _ = tap.send(line.into_owned());
            }
        }
    }
}

/// Merge several units' lines by time.
pub fn merge(mut parts: Vec<Vec<LogRecord>>, n: Option<usize>) -> Vec<LogRecord> {
    let mut all: Vec<LogRecord> = parts.drain(..).flatten().collect();
    all.sort_by_key(|r| r.time_us);
    let skip = n.map_or(0, |n| all.len().saturating_sub(n));
    all.into_iter().skip(skip).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ring_tail_cap_and_live() {
        let tmp = tempfile::tempdir().unwrap();
        let log = UnitLog::open(
            tmp.path(),
            &ProjectName::new("p").unwrap(),
            &UnitName::new("u").unwrap(),
        );
        let mut rx = log.subscribe();
        log.marker("spawned pid 1");
        log.write(LogStream::Stdout, &"x".repeat(MAX_LINE + 10));
        assert_eq!(rx.recv().await.unwrap().text, "spawned pid 1");
        let tail = log.tail(1);
        assert!(tail[0].text.ends_with('…') && tail[0].text.len() <= MAX_LINE + 3);
        for i in 0..RING_LINES + 5 {
            log.write(LogStream::Stderr, &i.to_string());
        }
        assert_eq!(log.read(None, None).len(), RING_LINES);
        let file = std::fs::read_to_string(tmp.path().join("p/u.log")).unwrap();
        assert!(file.contains("--- spawned pid 1"));
    }

    #[tokio::test]
    async fn pump_splits_lines_and_taps() {
        let tmp = tempfile::tempdir().unwrap();
        let log = UnitLog::open(
            tmp.path(),
            &ProjectName::new("p").unwrap(),
            &UnitName::new("u").unwrap(),
        );
        let (tx, mut rx) = mpsc::unbounded_channel();
        pump(&b"a\r\nb\nc"[..], LogStream::Stdout, log.clone(), tx).await;
        let got: Vec<_> = log.tail(10).into_iter().map(|r| r.text).collect();
        assert_eq!(got, ["a", "b", "c"]);
        assert_eq!(rx.recv().await.unwrap(), "a");
        let merged = merge(vec![log.tail(1), log.tail(2)], Some(2));
        assert_eq!(merged.len(), 2);
    }
}
