//! Draining a child's pipe into its unit log. The pump never stops reading
//! (a child must never block on a full pipe because of us), splits lines,
//! caps long ones, and formats the lines of each read as one batch of
//! records sharing that read's timestamp, handed to the log in one call.

use std::time::SystemTime;

use tokio::io::{AsyncRead, AsyncReadExt};
use tracing::warn;

use super::batch::Batch;
use super::record::Stream;
use super::store::{LINE_SPLIT_MARKER, UnitLog};

/// Read buffer of a quiet pipe; most services print little, and every run
/// has two pumps, so this is per-unit memory.
const READ_BUF_MIN: usize = 1 << 10;
/// Read buffer once a read filled the small one (a chatty child).
const READ_BUF_MAX: usize = 256 << 10;
/// After this many reads in a row that fit the small buffer, the large
/// buffers are released (a child that was chatty at start-up only).
const QUIET_READS: u32 = 16;

/// The pump's buffers: the read buffer, which starts small, grows to the
/// large size when a read fills it and shrinks back once the pipe is
/// quiet, and the batch the lines of a read are formatted into.
struct Buffers {
    read: Vec<u8>,
    batch: Batch,
    quiet: u32,
}

impl Buffers {
    fn new() -> Buffers {
        Buffers {
            read: vec![0u8; READ_BUF_MIN],
            batch: Batch::new(),
            quiet: 0,
        }
    }

    /// After a read of `n` bytes (its batch handed on): a full small
    /// buffer means more is waiting; many small reads mean the burst is over.
    fn read_done(&mut self, n: usize, splitter: &mut LineSplitter) {
        if n == self.read.len() && self.read.len() < READ_BUF_MAX {
            self.read.resize(READ_BUF_MAX, 0);
        }
        if n >= READ_BUF_MIN {
            self.quiet = 0;
            return;
        }
        self.quiet = self.quiet.saturating_add(1);
        if self.quiet == QUIET_READS {
            self.read = vec![0u8; READ_BUF_MIN];
            self.batch.shrink(4 * READ_BUF_MIN);
            splitter.shrink(READ_BUF_MIN);
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

/// Splits a byte stream into capped lines, formatted into a [`Batch`].
struct LineSplitter {
    partial: Vec<u8>,
    max: usize,
    stats: PumpStats,
    /// A partial line was logged as a line by a drain: the newline that
    /// ends it, if it comes next, is not another (empty) line.
    flushed: bool,
}

/// A line's bytes without the `\r` of a CRLF ending.
fn strip_cr(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

impl LineSplitter {
    fn new(max: usize) -> LineSplitter {
        LineSplitter {
            partial: Vec::new(),
            max: max.max(1),
            stats: PumpStats::default(),
            flushed: false,
        }
    }

    /// Drop a large buffer kept for a long partial line if none is pending.
    fn shrink(&mut self, keep: usize) {
        if self.partial.is_empty() && self.partial.capacity() > keep {
            self.partial = Vec::new();
        }
    }

    fn feed(&mut self, mut data: &[u8], out: &mut Batch) {
        self.stats.bytes += data.len() as u64;
        if std::mem::take(&mut self.flushed) {
            data = data
                .strip_prefix(b"\r\n")
                .or_else(|| data.strip_prefix(b"\n"))
                .unwrap_or(data);
        }
        // The valid UTF-8 prefix of `data` (normally all of it), checked
        // once per read rather than once per line; it shrinks as `data` does.
        let mut valid = match std::str::from_utf8(data) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or(""),
        };
        if self.partial.is_empty() {
            // The common case, whole lines of valid text, in one pass; the
            // loop below takes what is left (a partial last line, an
            // over-long line, invalid bytes).
            let (taken, lines) = out.push_lines(valid, self.max);
            self.stats.lines += lines;
            data = &data[taken..];
            valid = &valid[taken..];
        }
        while !data.is_empty() {
            let room = self.max - self.partial.len();
            // Only the first `room + 1` bytes can hold a newline that ends
            // a line short enough.
            let window = &data[..data.len().min(room + 1)];
            let newline = memchr::memchr(b'\n', window);
            match newline {
                Some(i) if i <= room => {
                    if self.partial.is_empty() {
                        let line = strip_cr(&data[..i]);
                        match valid.get(..line.len()) {
                            Some(text) => out.push_str(text, ""),
                            None => out.push(line, ""),
                        }
                    } else {
                        self.partial.extend_from_slice(&data[..i]);
                        out.push(strip_cr(&self.partial), "");
                        self.partial.clear();
                    }
                    self.stats.lines += 1;
                    data = &data[i + 1..];
                    valid = valid.get(i + 1..).unwrap_or("");
                }
                _ if data.len() > room => {
                    // Over-long: emit what fits, marked; the rest continues.
                    let (head, rest) = data.split_at(room);
                    if self.partial.is_empty() {
                        out.push(head, LINE_SPLIT_MARKER);
                    } else {
                        self.partial.extend_from_slice(head);
                        out.push(&self.partial, LINE_SPLIT_MARKER);
                        self.partial.clear();
                    }
                    self.stats.lines += 1;
                    self.stats.split_lines += 1;
                    data = rest;
                    valid = valid.get(room..).unwrap_or("");
                }
                _ => {
                    self.partial.extend_from_slice(data);
                    data = &[];
                }
            }
        }
    }

    /// Log a pending partial line now (a drain), its newline still to come.
    fn flush(&mut self, out: &mut Batch) {
        self.flushed = !self.partial.is_empty();
        self.finish(out);
    }

    fn finish(&mut self, out: &mut Batch) {
        if !self.partial.is_empty() {
            out.push(strip_cr(&self.partial), "");
            self.partial.clear();
            self.stats.lines += 1;
        }
    }
}

/// Read `reader` to its end into `log` as `stream` lines. A read error
/// ends the pump (after logging what was read) and is reported.
pub async fn pump<R: AsyncRead + Unpin>(mut reader: R, stream: Stream, log: UnitLog) -> PumpStats {
    let mut splitter = LineSplitter::new(log.limits().max_line_bytes);
    let mut bufs = Buffers::new();
    loop {
        let n = match reader.read(&mut bufs.read).await {
            Ok(n) => n,
            Err(e) => {
                warn!(path = %log.path().display(), error = %e, "reading the child's output failed");
                0
            }
        };
        bufs.batch.start(SystemTime::now(), stream);
        if n == 0 {
            splitter.finish(&mut bufs.batch);
            log.append(&bufs.batch);
            return splitter.stats;
        }
        splitter.feed(&bufs.read[..n], &mut bufs.batch);
        log.append(&bufs.batch);
        bufs.read_done(n, &mut splitter);
    }
}

/// A pipe that can be waited on until it has data, without a buffer: an
/// idle run's pumps then hold no read buffer at all.
pub trait WaitReadable: AsyncRead + Unpin {
    fn wait_readable(&self) -> impl Future<Output = std::io::Result<()>> + Send;

    /// Make the pipe hold `bytes` (`F_SETPIPE_SZ`); false when refused.
    fn grow(&self, bytes: usize) -> bool;

    /// Read what the pipe holds now without waiting (`WouldBlock` when
    /// it is empty, `Ok(0)` at its end).
    fn read_now(&self, buf: &mut [u8]) -> std::io::Result<usize>;
}

impl WaitReadable for tokio::net::unix::pipe::Receiver {
    async fn wait_readable(&self) -> std::io::Result<()> {
        self.readable().await
    }

    fn grow(&self, bytes: usize) -> bool {
        use std::os::fd::AsRawFd;
        let size = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        // SAFETY: fcntl on our own open pipe fd with an integer argument.
        unsafe { libc::fcntl(self.as_raw_fd(), libc::F_SETPIPE_SZ, size) >= size }
    }

    fn read_now(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::fd::AsRawFd;
        // Straight to read(2): tokio's `try_read` answers `WouldBlock`
        // without reading while its reactor has not yet seen the pipe turn
        // readable, and a drain must take what the pipe holds right now.
        // SAFETY: a read into our own buffer from our own open (non-blocking) fd.
        let n = unsafe { libc::read(self.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

/// Asks a running pump to log everything its pipe holds now: what the
/// child wrote before an event (its exit, the end of a stop) then precedes
/// the event's marker in the log. Cloneable; dropping every handle is fine.
#[derive(Debug, Clone)]
pub struct Drainer {
    requests: tokio::sync::mpsc::UnboundedSender<tokio::sync::oneshot::Sender<()>>,
    /// Closes when the pump has ended. A request sent while the pump lets
    /// go of its end of the channel can stay queued (and unanswered) for
    /// as long as a `Drainer` lives, so the end is told apart from it.
    ended: tokio::sync::watch::Receiver<()>,
}

/// The pump's end of a [`Drainer`].
#[derive(Debug)]
pub struct DrainRequests {
    requests: tokio::sync::mpsc::UnboundedReceiver<tokio::sync::oneshot::Sender<()>>,
    /// Dropped with the pump, after everything it read is logged.
    _alive: tokio::sync::watch::Sender<()>,
}

/// A connected [`Drainer`] and [`DrainRequests`].
pub fn drain_channel() -> (Drainer, DrainRequests) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (alive, ended) = tokio::sync::watch::channel(());
    (
        Drainer {
            requests: tx,
            ended,
        },
        DrainRequests {
            requests: rx,
            _alive: alive,
        },
    )
}

impl Drainer {
    /// Resolves once the pump logged every byte its pipe held when it saw
    /// the request (at once if the pump has ended: it logged all first).
    pub async fn drain(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.requests.send(tx).is_err() {
            return;
        }
        let mut ended = self.ended.clone();
        tokio::select! {
            biased;
            _ = rx => {}
            // Never sent to: it resolves (with an error) once the pump is gone.
            _ = ended.changed() => {}
        }
    }
}

/// Why a pump's wait ended early.
enum Interrupt {
    /// Paused (`true`), or the pauser dropped (`false`).
    Pause(bool),
    /// A drain request, to answer once the pipe is empty.
    Drain(tokio::sync::oneshot::Sender<()>),
}

/// The pipe of a child that floods it is grown to this (the unprivileged
/// maximum by default)...
const FLOOD_PIPE_BYTES: usize = 1 << 20;
/// ...and read at most this often: output then gathers in the pipe and is
/// moved in a few large reads per wake-up instead of one read per write.
/// At 1 GB/s the child fills the grown pipe in about a millisecond, so it
/// never waits for us; a line reaches the log at most this much later.
const GATHER: std::time::Duration = std::time::Duration::from_millis(1);

/// Like [`pump`], but hands the pipe back when `pause` fires (a re-exec:
/// the new image resumes reading it). A partial last line is logged as a
/// line first; nothing read is lost. If `pause`'s sender is dropped the
/// pump simply runs to the end. `None` when the pipe reached its end.
/// While the pipe is quiet it waits for data holding no read buffer.
/// A request on `drains` is answered once what the pipe held is logged
/// (a partial last line as a line).
pub async fn pump_pausable<R: WaitReadable>(
    mut reader: R,
    stream: Stream,
    log: UnitLog,
    pause: tokio::sync::oneshot::Receiver<()>,
    mut drains: DrainRequests,
) -> Option<R> {
    let mut splitter = LineSplitter::new(log.limits().max_line_bytes);
    let mut bufs = Buffers::new();
    let mut pause = Some(pause);
    // Whether the pipe was grown for a flood; tried once.
    let mut grown: Option<bool> = None;
    let mut drained = false;
    loop {
        let flooding = bufs.read.len() == READ_BUF_MAX;
        if flooding && grown.is_none() {
            grown = Some(reader.grow(FLOOD_PIPE_BYTES));
        }
        let gather = flooding && drained && grown == Some(true);
        let read = async {
            if gather {
                match pause.as_mut() {
                    Some(p) => tokio::select! {
                        biased;
                        r = p => return Err(Interrupt::Pause(r.is_ok())),
                        Some(tx) = drains.requests.recv() => return Err(Interrupt::Drain(tx)),
                        _ = tokio::time::sleep(GATHER) => {}
                    },
                    None => tokio::select! {
                        biased;
                        Some(tx) = drains.requests.recv() => return Err(Interrupt::Drain(tx)),
                        _ = tokio::time::sleep(GATHER) => {}
                    },
                }
            }
            if bufs.read.len() < READ_BUF_MAX {
                // Quiet: wait for data first, then read into a small buffer.
                bufs.read = Vec::new();
                let ready = match pause.as_mut() {
                    Some(p) => tokio::select! {
                        biased;
                        r = p => return Err(Interrupt::Pause(r.is_ok())),
                        Some(tx) = drains.requests.recv() => return Err(Interrupt::Drain(tx)),
                        r = reader.wait_readable() => r,
                    },
                    None => tokio::select! {
                        biased;
                        Some(tx) = drains.requests.recv() => return Err(Interrupt::Drain(tx)),
                        r = reader.wait_readable() => r,
                    },
                };
                if let Err(e) = ready {
                    return Ok(Err(e));
                }
                bufs.read = vec![0u8; READ_BUF_MIN];
            }
            match pause.as_mut() {
                Some(p) => tokio::select! {
                    biased;
                    r = p => Err(Interrupt::Pause(r.is_ok())),
                    n = reader.read(&mut bufs.read) => Ok(n),
                },
                None => Ok(reader.read(&mut bufs.read).await),
            }
        };
        let n = match read.await {
            Err(Interrupt::Pause(true)) => {
                bufs.batch.start(SystemTime::now(), stream);
                splitter.finish(&mut bufs.batch);
                log.append(&bufs.batch);
                return Some(reader);
            }
            Err(Interrupt::Pause(false)) => {
                pause = None;
                continue;
            }
            Err(Interrupt::Drain(answer)) => {
                let ended = drain_now(&reader, &mut bufs, &mut splitter, stream, &log);
                let _ = answer.send(());
                if ended {
                    return None;
                }
                continue;
            }
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                warn!(path = %log.path().display(), error = %e, "reading the child's output failed");
                0
            }
        };
        bufs.batch.start(SystemTime::now(), stream);
        if n == 0 {
            splitter.finish(&mut bufs.batch);
            log.append(&bufs.batch);
            return None;
        }
        drained = n < bufs.read.len();
        splitter.feed(&bufs.read[..n], &mut bufs.batch);
        log.append(&bufs.batch);
        bufs.read_done(n, &mut splitter);
    }
}

/// Log everything the pipe holds now, a partial last line as a line;
/// true when the pipe reached its end (or failed).
fn drain_now<R: WaitReadable>(
    reader: &R,
    bufs: &mut Buffers,
    splitter: &mut LineSplitter,
    stream: Stream,
    log: &UnitLog,
) -> bool {
    if bufs.read.len() < READ_BUF_MIN {
        bufs.read = vec![0u8; READ_BUF_MIN];
    }
    let ended = loop {
        bufs.batch.start(SystemTime::now(), stream);
        match reader.read_now(&mut bufs.read) {
            Ok(0) => break true,
            Ok(n) => {
                splitter.feed(&bufs.read[..n], &mut bufs.batch);
                log.append(&bufs.batch);
                bufs.read_done(n, splitter);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break false,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                warn!(path = %log.path().display(), error = %e, "reading the child's output failed");
                break true;
            }
        }
    };
    bufs.batch.start(SystemTime::now(), stream);
    if ended {
        splitter.finish(&mut bufs.batch);
    } else {
        splitter.flush(&mut bufs.batch);
    }
    if !bufs.batch.is_empty() {
        log.append(&bufs.batch);
    }
    ended
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_buffer_grows_when_filled_and_shrinks_when_quiet() {
        let mut bufs = Buffers::new();
        let mut splitter = LineSplitter::new(1 << 20);
        assert_eq!(bufs.read.len(), READ_BUF_MIN);
        bufs.read_done(100, &mut splitter);
        assert_eq!(bufs.read.len(), READ_BUF_MIN, "a short read keeps it small");
        bufs.read_done(READ_BUF_MIN, &mut splitter);
        assert_eq!(bufs.read.len(), READ_BUF_MAX);
        bufs.read_done(READ_BUF_MAX, &mut splitter);
        assert_eq!(bufs.read.len(), READ_BUF_MAX, "never beyond the large size");
        // A burst: a long partial line and a large batch.
        bufs.batch.start(SystemTime::UNIX_EPOCH, Stream::Stdout);
        splitter.feed(&vec![b'x'; 100_000], &mut bufs.batch);
        splitter.feed(b"\n", &mut bufs.batch);
        splitter.feed(&vec![b'y'; 10_000], &mut bufs.batch);
        for _ in 1..QUIET_READS {
            bufs.read_done(10, &mut splitter);
        }
        assert_eq!(bufs.read.len(), READ_BUF_MAX, "a few quiet reads keep it");
        bufs.read_done(READ_BUF_MIN, &mut splitter);
        for _ in 1..QUIET_READS {
            bufs.read_done(10, &mut splitter);
        }
        assert_eq!(
            bufs.read.len(),
            READ_BUF_MAX,
            "a large read restarts the count"
        );
        bufs.read_done(10, &mut splitter);
        assert_eq!(bufs.read.len(), READ_BUF_MIN);
        assert!(bufs.batch.bytes().is_empty());
        assert_eq!(splitter.partial.len(), 10_000, "a pending line is kept");
        splitter.feed(b"\n", &mut bufs.batch);
        splitter.shrink(READ_BUF_MIN);
        assert_eq!(splitter.partial.capacity(), 0);
    }

    fn split(chunks: &[&[u8]], max: usize) -> (Vec<String>, PumpStats) {
        let mut s = LineSplitter::new(max);
        let mut b = Batch::new();
        b.start(SystemTime::UNIX_EPOCH, Stream::Stdout);
        for c in chunks {
            s.feed(c, &mut b);
        }
        s.finish(&mut b);
        (
            (0..b.len()).map(|i| b.text(i).to_string()).collect(),
            s.stats,
        )
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

    /// The rule the splitter keeps, a byte at a time: a newline ends a
    /// line (its `\r` dropped); a line reaching `max + 1` bytes without
    /// one gives its first `max` bytes as a marked record; invalid UTF-8
    /// is replaced record by record; what is left at the end is a line.
    fn model(input: &[u8], max: usize) -> Vec<String> {
        let (mut out, mut cur) = (Vec::new(), Vec::<u8>::new());
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        for &b in input {
            if b == b'\n' {
                out.push(text(strip_cr(&cur)));
                cur.clear();
                continue;
            }
            cur.push(b);
            if cur.len() > max {
                out.push(text(&cur[..max]) + LINE_SPLIT_MARKER);
                cur.drain(..max);
            }
        }
        if !cur.is_empty() {
            out.push(text(strip_cr(&cur)));
        }
        out
    }

    proptest::proptest! {
        /// However the bytes arrive (any chunks), the records are the
        /// model's: the whole-lines fast path and the byte-exact slow path
        /// agree at every boundary.
        #[test]
        fn records_do_not_depend_on_how_reads_cut_the_stream(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    &b"a"[..], b"bc", b"\n", b"\r", b"\r\n", "é".as_bytes(),
                    &"é".as_bytes()[..1], b"\xff", b"0123456789",
                ]),
                0..60,
            ),
            cuts in proptest::collection::vec(1usize..40, 1..20),
            max in 1usize..24,
        ) {
            let input: Vec<u8> = parts.concat();
            let mut chunks = Vec::new();
            let (mut at, mut i) = (0, 0);
            while at < input.len() {
                let n = cuts[i % cuts.len()].min(input.len() - at);
                chunks.push(&input[at..at + n]);
                at += n;
                i += 1;
            }
            let (got, stats) = split(&chunks, max);
            proptest::prop_assert_eq!(&got, &model(&input, max));
            proptest::prop_assert_eq!(stats.lines, got.len() as u64);
            proptest::prop_assert_eq!(stats.bytes, input.len() as u64);
        }
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let (lines, _) = split(&[b"ok\xff\xfe\n"], 100);
        assert_eq!(lines, vec!["ok\u{fffd}\u{fffd}"]);
    }

    /// A unit's log in a store of its own, removed when the guard drops.
    fn scratch_log() -> (tempfile::TempDir, crate::logs::LogStore, UnitLog) {
        let tmp = tempfile::tempdir().unwrap();
        let store =
            crate::logs::LogStore::open(tmp.path().to_path_buf(), Default::default()).unwrap();
        let log = store.unit("p", "u");
        (tmp, store, log)
    }

    /// A flood: the pipe is grown, reads gather, and every line arrives in
    /// order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flooded_pipe_is_grown_and_loses_no_line() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let (_tmp, _store, log) = scratch_log();
        let (w, r) = tokio::net::unix::pipe::pipe().unwrap();
        let raw = w.into_blocking_fd().unwrap();
        let (_tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(pump_pausable(
            r,
            Stream::Stdout,
            log.clone(),
            rx,
            drain_channel().1,
        ));
        const LINES: usize = 50_000;
        let writer = std::thread::spawn(move || {
            let size = unsafe { libc::fcntl(raw.as_raw_fd(), libc::F_GETPIPE_SZ) };
            let mut f = std::fs::File::from(raw);
            let mut chunk = Vec::new();
            for i in 0..LINES {
                chunk.extend_from_slice(format!("{i:0>99}\n").as_bytes());
                if chunk.len() >= 4000 {
                    f.write_all(&chunk).unwrap();
                    chunk.clear();
                }
            }
            f.write_all(&chunk).unwrap();
            let grown = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETPIPE_SZ) };
            (size, grown)
        });
        let (before, after) = writer.join().unwrap();
        assert!(task.await.unwrap().is_none(), "the pipe reached its end");
        assert!(after > before, "the pipe was grown: {before} -> {after}");
        assert_eq!(after as usize, FLOOD_PIPE_BYTES);
        let lines = log.read(None, usize::MAX).await.unwrap();
        assert_eq!(lines.len(), LINES);
        for (i, l) in lines.iter().enumerate() {
            assert_eq!(l.text.parse::<usize>().unwrap(), i);
        }
    }

    /// Whatever the pipe holds when a drain is asked for is in the log
    /// when the drain answers, a partial line as a line, however soon
    /// after the write it is asked.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_drain_logs_what_the_pipe_holds_before_it_answers() {
        use std::io::Write;
        let (_tmp, _store, log) = scratch_log();
        let (w, r) = tokio::net::unix::pipe::pipe().unwrap();
        let mut w = std::fs::File::from(w.into_blocking_fd().unwrap());
        let (_tx, rx) = tokio::sync::oneshot::channel();
        let (drainer, drains) = drain_channel();
        let task = tokio::spawn(pump_pausable(r, Stream::Stdout, log.clone(), rx, drains));
        for i in 0..200 {
            write!(w, "line {i}\nhalf {i}").unwrap();
            drainer.drain().await;
            let tail: Vec<String> = log.tail(2).iter().map(|l| l.text.to_string()).collect();
            assert_eq!(tail, vec![format!("line {i}"), format!("half {i}")]);
            w.write_all(b"\n").unwrap();
        }
        drop(w);
        assert!(task.await.unwrap().is_none());
        drainer.drain().await; // the pump has ended: answered at once
        assert_eq!(log.tail(1000).len(), 400);
    }

    /// A drain asked for while the pump is ending (the child just exited
    /// and its pipe reached its end) is answered: a request that lands in
    /// the channel as the pump lets go of it must not wait forever.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_drain_racing_the_pumps_end_is_answered() {
        let (_tmp, _store, log) = scratch_log();
        for round in 0..3000 {
            let (w, r) = tokio::net::unix::pipe::pipe().unwrap();
            let (_tx, rx) = tokio::sync::oneshot::channel();
            let (drainer, drains) = drain_channel();
            let task = tokio::spawn(pump_pausable(r, Stream::Stdout, log.clone(), rx, drains));
            drop(w);
            tokio::time::timeout(std::time::Duration::from_secs(5), drainer.drain())
                .await
                .unwrap_or_else(|_| panic!("round {round}: the drain was never answered"));
            assert!(task.await.unwrap().is_none());
        }
    }

    #[tokio::test]
    async fn pausable_pump_hands_the_pipe_back_and_runs_without_a_pauser() {
        use tokio::io::AsyncWriteExt;
        let (_tmp, _store, log) = scratch_log();
        let (mut w, r) = tokio::net::unix::pipe::pipe().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(pump_pausable(
            r,
            Stream::Stdout,
            log.clone(),
            rx,
            drain_channel().1,
        ));
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
        let task = tokio::spawn(pump_pausable(
            r,
            Stream::Stdout,
            log.clone(),
            rx,
            drain_channel().1,
        ));
        w.write_all(b"two\n").await.unwrap();
        drop(w);
        assert!(task.await.unwrap().is_none());
        assert_eq!(log.tail(10).last().unwrap().text.as_ref(), "two");
    }
}
