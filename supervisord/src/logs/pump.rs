//! Draining a child's pipe into its unit log. The pump never stops reading
//! (a child must never block on a full pipe because of us), splits lines,
//! caps long ones, timestamps each, and hands them to the log in batches of
//! at most one read buffer.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::io::{AsyncRead, AsyncReadExt};
use tracing::warn;

use super::record::{LogLine, Stream};
use super::store::{LINE_SPLIT_MARKER, UnitLog};

/// Read buffer of a quiet pipe; most services print little, and every run
/// has two pumps, so this is per-unit memory.
const READ_BUF_MIN: usize = 1 << 10;
/// Read buffer once a read filled the small one (a chatty child).
const READ_BUF_MAX: usize = 64 << 10;

/// A read buffer that starts small and grows once to the large size the
/// first time a read fills it.
struct ReadBuf(Vec<u8>);

impl ReadBuf {
    fn new() -> ReadBuf {
        ReadBuf(vec![0u8; READ_BUF_MIN])
    }

    /// After a read of `n` bytes: a full small buffer means more is waiting.
    fn read_done(&mut self, n: usize) {
        if n == self.0.len() && self.0.len() < READ_BUF_MAX {
            self.0.resize(READ_BUF_MAX, 0);
        }
    }
}

/// What one pump moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PumpStats {
    pub bytes: u64,
    pub lines: u64,
    /// Lines split because they exceeded `max_line_bytes`.
    pub split_lines: u64,
}

/// Splits a byte stream into capped lines.
struct LineSplitter {
    partial: Vec<u8>,
    max: usize,
    stream: Stream,
    stats: PumpStats,
}

fn text_of(bytes: &[u8]) -> Arc<str> {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into()
}

impl LineSplitter {
    fn new(stream: Stream, max: usize) -> LineSplitter {
        LineSplitter {
            partial: Vec::new(),
            max: max.max(1),
            stream,
            stats: PumpStats::default(),
        }
    }

    fn emit(&mut self, out: &mut Vec<LogLine>, time: SystemTime, text: Arc<str>) {
        self.stats.lines += 1;
        out.push(LogLine {
            time,
            stream: self.stream,
            text,
        });
    }

    fn feed(&mut self, mut data: &[u8], time: SystemTime, out: &mut Vec<LogLine>) {
        self.stats.bytes += data.len() as u64;
        while !data.is_empty() {
            let newline = data.iter().position(|b| *b == b'\n');
            let piece_len = newline.unwrap_or(data.len());
            let room = self.max - self.partial.len();
            if piece_len > room {
                // Over-long: emit what fits, marked; the rest continues.
                let (head, rest) = data.split_at(room);
                self.partial.extend_from_slice(head);
                let mut text = String::from_utf8_lossy(&self.partial).into_owned();
                text.push_str(LINE_SPLIT_MARKER);
                self.partial.clear();
                self.stats.split_lines += 1;
                self.emit(out, time, text.into());
                data = rest;
                continue;
            }
            match newline {
                Some(i) => {
                    let text = if self.partial.is_empty() {
                        text_of(&data[..i])
                    } else {
                        self.partial.extend_from_slice(&data[..i]);
                        let t = text_of(&self.partial);
                        self.partial.clear();
                        t
                    };
                    self.emit(out, time, text);
                    data = &data[i + 1..];
                }
                None => {
                    self.partial.extend_from_slice(data);
                    data = &[];
                }
            }
        }
    }

    fn finish(&mut self, time: SystemTime, out: &mut Vec<LogLine>) {
        if !self.partial.is_empty() {
            let text = text_of(&self.partial);
            self.partial.clear();
            self.emit(out, time, text);
        }
    }
}

/// Read `reader` to its end into `log` as `stream` lines. A read error
/// ends the pump (after logging what was read) and is reported.
pub async fn pump<R: AsyncRead + Unpin>(mut reader: R, stream: Stream, log: UnitLog) -> PumpStats {
    let mut splitter = LineSplitter::new(stream, log.limits().max_line_bytes);
    let mut rb = ReadBuf::new();
    loop {
        let n = match reader.read(&mut rb.0).await {
            Ok(n) => n,
            Err(e) => {
                warn!(path = %log.path().display(), error = %e, "reading the child's output failed");
                0
            }
        };
        let now = SystemTime::now();
        let mut lines = Vec::new();
        if n == 0 {
            splitter.finish(now, &mut lines);
            log.append(lines);
            return splitter.stats;
        }
        splitter.feed(&rb.0[..n], now, &mut lines);
        log.append(lines);
        rb.read_done(n);
    }
}

/// Like [`pump`], but hands the pipe back when `pause` fires (a re-exec:
/// the new image resumes reading it). A partial last line is logged as a
/// line first; nothing read is lost. If `pause`'s sender is dropped the
/// pump simply runs to the end. `None` when the pipe reached its end.
pub async fn pump_pausable<R: AsyncRead + Unpin>(
    mut reader: R,
    stream: Stream,
    log: UnitLog,
    pause: tokio::sync::oneshot::Receiver<()>,
) -> Option<R> {
    let mut splitter = LineSplitter::new(stream, log.limits().max_line_bytes);
    let mut rb = ReadBuf::new();
    let mut pause = Some(pause);
    loop {
        let read = async {
            match pause.as_mut() {
                Some(p) => tokio::select! {
                    biased;
                    r = p => Err(r.is_ok()),
                    n = reader.read(&mut rb.0) => Ok(n),
                },
                None => Ok(reader.read(&mut rb.0).await),
            }
        };
        let n = match read.await {
            Err(true) => {
                let mut lines = Vec::new();
                splitter.finish(SystemTime::now(), &mut lines);
                log.append(lines);
                return Some(reader);
            }
            Err(false) => {
                pause = None;
                continue;
            }
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                warn!(path = %log.path().display(), error = %e, "reading the child's output failed");
                0
            }
        };
        let now = SystemTime::now();
        let mut lines = Vec::new();
        if n == 0 {
            splitter.finish(now, &mut lines);
            log.append(lines);
            return None;
        }
        splitter.feed(&rb.0[..n], now, &mut lines);
        log.append(lines);
        rb.read_done(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_buffer_grows_once_when_a_read_fills_it() {
        let mut rb = ReadBuf::new();
        assert_eq!(rb.0.len(), READ_BUF_MIN);
        rb.read_done(100);
        assert_eq!(rb.0.len(), READ_BUF_MIN, "a short read keeps it small");
        rb.read_done(READ_BUF_MIN);
        assert_eq!(rb.0.len(), READ_BUF_MAX);
        rb.read_done(READ_BUF_MAX);
        assert_eq!(rb.0.len(), READ_BUF_MAX, "never beyond the large size");
    }

    fn split(chunks: &[&[u8]], max: usize) -> (Vec<String>, PumpStats) {
        let mut s = LineSplitter::new(Stream::Stdout, max);
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, SystemTime::UNIX_EPOCH, &mut out);
        }
        s.finish(SystemTime::UNIX_EPOCH, &mut out);
        (out.iter().map(|l| l.text.to_string()).collect(), s.stats)
    }

    #[test]
    fn splits_lines_across_chunks() {
        let (lines, stats) = split(&[b"a\nb", b"c\r\n", b"\n", b"tail"], 100);
        assert_eq!(lines, vec!["a", "bc", "", "tail"]);
        assert_eq!(
            stats,
            PumpStats {
                bytes: 11,
                lines: 4,
                split_lines: 0
            }
        );
    }

    #[test]
    fn caps_long_lines_with_a_marker() {
        let (lines, stats) = split(&[b"0123456789abc\nxy"], 5);
        let m = LINE_SPLIT_MARKER;
        assert_eq!(
            lines,
            vec![
                format!("01234{m}"),
                format!("56789{m}"),
                "abc".into(),
                "xy".into()
            ]
        );
        assert_eq!(stats.split_lines, 2);
        // Exactly max bytes then a newline is not split.
        assert_eq!(split(&[b"01234", b"\n"], 5).0, vec!["01234"]);
        assert_eq!(
            split(&[b"01234", b"5\n"], 5).0,
            vec![format!("01234{m}"), "5".into()]
        );
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let (lines, _) = split(&[b"ok\xff\xfe\n"], 100);
        assert_eq!(lines, vec!["ok\u{fffd}\u{fffd}"]);
    }

    #[tokio::test]
    async fn pausable_pump_hands_the_pipe_back_and_runs_without_a_pauser() {
        use tokio::io::AsyncWriteExt;
        let tmp = tempfile::tempdir().unwrap();
        let store =
            crate::logs::LogStore::open(tmp.path().to_path_buf(), Default::default()).unwrap();
        let log = store.unit("p", "u");
        let (mut w, r) = tokio::io::duplex(64);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(pump_pausable(r, Stream::Stdout, log.clone(), rx));
        w.write_all(b"one\npart").await.unwrap();
        for _ in 0..1000 {
            if log.tail(10).len() == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        tx.send(()).unwrap();
        let r = task.await.unwrap().expect("paused: the pipe comes back");
        let texts: Vec<String> = log.tail(10).iter().map(|l| l.text.to_string()).collect();
        assert_eq!(texts, vec!["one", "part"]);
        // Resumed without a pauser (its sender dropped): runs to the end.
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        drop(tx);
        let task = tokio::spawn(pump_pausable(r, Stream::Stdout, log.clone(), rx));
        w.write_all(b"two\n").await.unwrap();
        drop(w);
        assert!(task.await.unwrap().is_none());
        assert_eq!(log.tail(10).last().unwrap().text.as_ref(), "two");
    }
}
