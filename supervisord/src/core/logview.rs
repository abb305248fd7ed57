//! Log queries for the API over [`crate::logs`]: the history of one or
//! several units read back from disk (so lines written before a daemon
//! restart are there too), merged by time and converted to the API's
//! records; with `follow`, every later line through one bounded channel.
//! Each unit's history is read from a snapshot of its files taken with the
//! subscription, so the follower starts exactly where the history ends.
//! A follower that falls behind the unit's broadcast ring (a burst) is
//! caught up from the files the same way: a fresh subscription and
//! snapshot, the lines between the last one sent and the snapshot read
//! back from it, then the fresh follower. Only lines that cannot be read
//! back (more than [`MAX_HISTORY`] at once, rotated away, never written)
//! are missing, and a `missed` notice says how many, exactly, where they
//! were; the stream goes on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tracing::{debug, warn};

use devctl_units::api::runs::{LogNotice, RunRecord};
use devctl_units::api::{LogRecord, LogStream};
use devctl_units::{ProjectName, UnitName};

use crate::logs::{FollowEvent, LogFollower, LogLine, LogSnapshot, Stream, UnitLog};

/// What to do when a run's lines were rotated away.
pub const KEEP_MORE: &str = "keep more log for the unit with `logs { max-size \"64MiB\"; files 8 }` (devctl.kdl(5)), or raise the daemon's default, DEVCTL_LOGS_MAX_SIZE / DEVCTL_LOGS_FILES (devctld(8))";

/// The notice for a run whose earliest lines the unit's log retention
/// removed: some line at or after the run's start is gone.
pub fn rotated_away(run: &RunRecord, log: &UnitLog) -> Option<LogNotice> {
    let through = log.rotated_away()?;
    let through_us = micros(through);
    if through_us < run.log.from_us {
        return None;
    }
    let retention = log.retention();
    let message = format!(
        "lines of run {} up to {} were rotated away ({} keeps {}; see logs {{ }} in devctl.kdl(5))",
        run.id,
        humantime::format_rfc3339_micros(through),
        run.unit,
        retention.describe()
    );
    Some(LogNotice::RotatedAway {
        run: run.id.clone(),
        unit: run.unit.clone(),
        through_us,
        retention: retention.info(),
        message,
    })
}

/// A log query's answer: the history merged by time, and for `follow` a
/// receiver of every later line of the selected units.
#[derive(Debug)]
pub struct LogStreamOut {
    pub history: Vec<LogRecord>,
    pub live: Option<mpsc::Receiver<Live>>,
}

/// One item of a follower's channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Live {
    Line(LogRecord),
    /// Lines of one unit this follower will not get ([`LogNotice::Missed`]),
    /// at the place they would have been; the unit's later lines follow.
    Notice(LogNotice),
}

/// Most lines one history query returns (also when no count is given), and
/// most lines read back at once for a follower that fell behind.
pub const MAX_HISTORY: usize = 50_000;
/// Records buffered towards one follower.
pub const FOLLOW_BUFFER: usize = 1024;

/// One unit chosen by a query.
#[derive(Debug, Clone)]
pub struct Selected {
    pub project: ProjectName,
    pub unit: UnitName,
    pub log: UnitLog,
}

/// Microseconds since the Unix epoch (0 before it).
pub fn micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// The API's form of one line.
pub fn record(project: &ProjectName, unit: &UnitName, line: &LogLine) -> LogRecord {
    LogRecord {
        time_us: micros(line.time),
        project: project.clone(),
        unit: unit.clone(),
        stream: match line.stream {
            Stream::Stdout => LogStream::Stdout,
            Stream::Stderr => LogStream::Stderr,
            Stream::Marker => LogStream::Marker,
        },
        text: line.text.to_string(),
    }
}

/// Merge per-unit histories by time (stable: one unit's order is kept);
/// the last `n` records.
pub fn merge(parts: Vec<Vec<LogRecord>>, n: usize) -> Vec<LogRecord> {
    let mut all: Vec<LogRecord> = parts.into_iter().flatten().collect();
    all.sort_by_key(|r| r.time_us);
    let skip = all.len().saturating_sub(n);
    all.split_off(skip)
}

/// The last `n` lines of one unit, from disk when memory has fewer
/// (a restarted daemon), as records.
pub async fn recent(sel: &Selected, n: usize) -> Vec<LogRecord> {
    sel.log
        .recent(n)
        .await
        .iter()
        .map(|l| record(&sel.project, &sel.unit, l))
        .collect()
}

/// The newest instant a follower was sent and the lines it was sent at
/// that instant: a catch-up read from disk skips older lines and these
/// ones. Lines share an instant in a burst (one batch, one time), so the
/// time alone cannot tell them apart; their stream and text, counted, do.
#[derive(Debug, Default, Clone)]
struct Cutoff {
    time: Option<SystemTime>,
    at_time: HashMap<(Stream, Arc<str>), usize>,
    /// The sum of `at_time`'s counts.
    count: usize,
}

impl Cutoff {
    fn of(lines: &[LogLine]) -> Cutoff {
        let mut c = Cutoff::default();
        for l in lines {
            c.push(l);
        }
        c
    }

    /// Note that `line`, the next one in the log's order, was sent. A
    /// line stamped before the newest time (the clock stepped back) leaves
    /// the cutoff as it is: reads from that time on cannot return it.
    fn push(&mut self, line: &LogLine) {
        match self.time {
            Some(t) if line.time < t => return,
            Some(t) if line.time == t => {}
            _ => {
                self.time = Some(line.time);
                self.at_time.clear();
                self.count = 0;
            }
        }
        *self
            .at_time
            .entry((line.stream, line.text.clone()))
            .or_default() += 1;
        self.count += 1;
    }

    /// True when `line` was already sent; each line sent at the newest
    /// time answers true once.
    fn seen(&mut self, line: &LogLine) -> bool {
        match self.time {
            Some(t) if line.time < t => true,
            Some(t) if line.time == t => {
                match self.at_time.get_mut(&(line.stream, line.text.clone())) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        self.count -= 1;
                        true
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }
}

/// One unit's history from its snapshot; the memory tail as of the same
/// instant when the files cannot be read.
async fn history(
    sel: &Selected,
    snap: LogSnapshot,
    since: Option<SystemTime>,
    until: Option<SystemTime>,
    n: usize,
) -> Vec<LogLine> {
    let at = snap.position();
    match snap.read(since, until, n).await {
        Ok(lines) => lines,
        Err(e) => {
            warn!(project = %sel.project, unit = %sel.unit, error = %e, "log files unreadable; answering from memory");
            sel.log
                .tail_before(at, n)
                .into_iter()
                .filter(|l| since.is_none_or(|s| l.time >= s) && until.is_none_or(|u| l.time <= u))
                .collect()
        }
    }
}

/// Forward one unit's later lines until the client goes away. Whatever the
/// client's pace, memory stays bounded: the unit's ring drops what this
/// task has not taken, and the task then reads those lines back from the
/// unit's files (see [`catch_up`]) rather than ending the stream with a
/// hole in it. `sent` is what the history sent of this unit.
async fn forward(
    sel: Selected,
    mut follower: LogFollower,
    mut sent: Cutoff,
    tx: mpsc::Sender<Live>,
) {
    loop {
        let from = follower.position();
        let Some(event) = follower.next().await else {
            return;
        };
        let line = match event {
            FollowEvent::Line(line) => line,
            FollowEvent::Missed(_) => {
                // Subscribe first: every line from here on reaches the new
                // follower, every earlier one is in the snapshot's files.
                let (fresh, snap) = sel.log.subscribe_with_snapshot();
                follower = fresh;
                let window = snap.position().saturating_sub(from);
                let back = catch_up(&sel, snap, &sent, window).await;
                let lost = window - back.len() as u64;
                if lost > 0 {
                    let notice = missed(&sel.unit, lost, window);
                    if tx.send(Live::Notice(notice)).await.is_err() {
                        return;
                    }
                }
                for line in back {
                    sent.push(&line);
                    let r = record(&sel.project, &sel.unit, &line);
                    if tx.send(Live::Line(r)).await.is_err() {
                        return;
                    }
                }
                continue;
            }
        };
        sent.push(&line);
        if tx
            .send(Live::Line(record(&sel.project, &sel.unit, &line)))
            .await
            .is_err()
        {
            return;
        }
    }
}

/// The last of the `window` lines before `snap` that were not sent (at
/// most [`MAX_HISTORY`]), in order. When the files hold them all, they
/// are exactly the snapshot's last `window` lines; the time cutoff keeps
/// lines already sent out when they do not (lines rotated away or never
/// written), so that what comes back is never more than the window.
async fn catch_up(sel: &Selected, snap: LogSnapshot, sent: &Cutoff, window: u64) -> Vec<LogLine> {
    let want = window.min(MAX_HISTORY as u64) as usize;
    if want == 0 {
        return Vec::new();
    }
    // Room for the lines sent at the cutoff's instant, which are skipped.
    let n = want + sent.count;
    let unsent = |lines: Vec<LogLine>| {
        let mut skip = sent.clone();
        let mut back: Vec<LogLine> = lines.into_iter().filter(|l| !skip.seen(l)).collect();
        back.drain(..back.len().saturating_sub(want));
        back
    };
    let at = snap.position();
    let mut back = match snap.read(sent.time, None, n).await {
        Ok(lines) => unsent(lines),
        Err(e) => {
            // The notice tells the reader what this costs it.
            debug!(project = %sel.project, unit = %sel.unit, error = %e, "log files unreadable; catching up from memory");
            Vec::new()
        }
    };
    if back.len() < want {
        // The memory tail holds the newest lines however they fared on
        // disk (removed, never written, unreadable).
        let from_memory = unsent(sel.log.tail_before(at, n));
        if from_memory.len() > back.len() {
            back = from_memory;
        }
    }
    back
}

/// The notice for `lines` of `unit` that a follower `window` lines behind
/// could not be sent.
fn missed(unit: &UnitName, lines: u64, window: u64) -> LogNotice {
    let why = if window > MAX_HISTORY as u64 {
        format!(
            "this reader fell {window} lines behind, more than the {MAX_HISTORY} the daemon reads back from the log files at once"
        )
    } else {
        "they could not be read back from the log files (rotated away, not written or unreadable)"
            .to_string()
    };
    let s = if lines == 1 { "" } else { "s" };
    LogNotice::Missed {
        unit: unit.clone(),
        lines,
        message: format!("{lines} line{s} of {unit} missing here: {why}"),
    }
}

/// Answer a log query over `sel`: the last `n` lines from `since_ms` (to
/// `until_us`, for a run's range).
pub async fn query(
    sel: Vec<Selected>,
    n: Option<usize>,
    since_ms: Option<u64>,
    until_us: Option<u64>,
    follow: bool,
) -> LogStreamOut {
    let n = n.unwrap_or(MAX_HISTORY).min(MAX_HISTORY);
    let since = since_ms.map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
    let until = until_us.map(|us| UNIX_EPOCH + Duration::from_micros(us));
    let mut followers: Vec<Option<LogFollower>> = Vec::with_capacity(sel.len());
    let mut parts = Vec::with_capacity(sel.len());
    let mut cutoffs = Vec::with_capacity(sel.len());
    for s in &sel {
        let (follower, snap) = if follow {
            let (f, snap) = s.log.subscribe_with_snapshot();
            (Some(f), snap)
        } else {
            (None, s.log.snapshot())
        };
        followers.push(follower);
        let lines = history(s, snap, since, until, n).await;
        cutoffs.push(Cutoff::of(&lines));
        parts.push(
            lines
                .iter()
                .map(|l| record(&s.project, &s.unit, l))
                .collect(),
        );
    }
    let history = merge(parts, n);
    let live = follow.then(|| {
        let (tx, rx) = mpsc::channel(FOLLOW_BUFFER);
        for ((s, f), c) in sel.into_iter().zip(followers.iter_mut()).zip(cutoffs) {
            if let Some(f) = f.take() {
                tokio::spawn(forward(s, f, c, tx.clone()));
            }
        }
        rx
    });
    LogStreamOut { history, live }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{LogLimits, LogStore};

    fn sel(store: &LogStore, unit: &str) -> Selected {
        Selected {
            project: ProjectName::new("p").unwrap(),
            unit: UnitName::new(unit).unwrap(),
            log: store.unit("p", unit),
        }
    }

    #[tokio::test]
    async fn history_survives_a_new_store_and_merges_by_time() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = LogStore::open(dir.path().into(), LogLimits::default()).unwrap();
            let (a, b) = (sel(&store, "a"), sel(&store, "b"));
            a.log.write(Stream::Stdout, "a1");
            b.log.write(Stream::Stderr, "b1");
            a.log.marker("exited 0");
        }
        // A new store on the same root: a restarted daemon.
        let store = LogStore::open(dir.path().into(), LogLimits::default()).unwrap();
        let (a, b) = (sel(&store, "a"), sel(&store, "b"));
        let out = query(vec![a.clone(), b.clone()], None, None, None, false).await;
        let texts: Vec<&str> = out.history.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["a1", "b1", "exited 0"]);
        assert_eq!(out.history[1].stream, LogStream::Stderr);
        assert_eq!(out.history[1].unit.as_str(), "b");
        assert!(out.live.is_none());
        let last = query(vec![a.clone(), b], Some(1), None, None, false).await;
        assert_eq!(last.history.len(), 1);
        assert_eq!(last.history[0].text, "exited 0");
        let tail = recent(&a, 20).await;
        assert_eq!(
            tail.len(),
            2,
            "the detail tail reads the earlier run's lines"
        );
        let future = micros(SystemTime::now()) / 1000 + 60_000;
        let none = query(vec![a], None, Some(future), None, false).await;
        assert!(none.history.is_empty());
    }

    #[tokio::test]
    async fn follow_sends_each_line_once_and_unreadable_files_fall_back_to_memory() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path().into(), LogLimits::default()).unwrap();
        let a = sel(&store, "a");
        a.log.write(Stream::Stdout, "before");
        let mut out = query(vec![a.clone()], None, None, None, true).await;
        assert_eq!(out.history.len(), 1);
        a.log.write(Stream::Stdout, "after");
        let live = out.live.as_mut().unwrap();
        match live.recv().await.unwrap() {
            Live::Line(r) => assert_eq!(r.text, "after"),
            other => panic!("{other:?}"),
        }

        // The log path is a directory: nothing on disk, memory answers.
        let broken = sel(&store, "broken");
        std::fs::create_dir_all(broken.log.path()).unwrap();
        broken.log.write(Stream::Stderr, "kept in memory");
        let out = query(vec![broken.clone()], None, None, None, false).await;
        assert_eq!(out.history.len(), 1);
        assert_eq!(out.history[0].text, "kept in memory");
        assert_eq!(recent(&broken, 5).await.len(), 1);
    }

    fn small_ring(follow_buffer: usize, tail_lines: usize) -> LogLimits {
        LogLimits {
            follow_buffer,
            tail_lines,
            ..LogLimits::default()
        }
    }

    /// Lines in the log's output format through a pump: each read of it is
    /// one batch, its lines sharing one time, as a child's burst is.
    async fn burst(log: &UnitLog, texts: impl Iterator<Item = String>) {
        let text: String = texts.map(|t| t + "\n").collect();
        crate::logs::pump(text.as_bytes(), Stream::Stdout, log.clone()).await;
    }

    /// The next `n` items of a follower's channel.
    async fn take(live: &mut mpsc::Receiver<Live>, n: usize) -> Vec<Live> {
        let mut got = Vec::with_capacity(n);
        while got.len() < n {
            let item = tokio::time::timeout(Duration::from_secs(30), live.recv()).await;
            got.push(
                item.expect("the stream goes on")
                    .expect("the channel is open"),
            );
        }
        got
    }

    fn texts(items: &[Live]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Live::Line(r) => r.text.clone(),
                Live::Notice(n) => panic!("a notice among lines: {n:?}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn a_burst_the_follower_did_not_take_is_read_back_whole_and_the_stream_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path().into(), small_ring(4, 1000)).unwrap();
        let a = sel(&store, "a");
        a.log.write(Stream::Stdout, "before");
        let mut out = query(vec![a.clone()], None, None, None, true).await;
        assert_eq!(out.history.len(), 1);
        let live = out.live.as_mut().unwrap();
        // Nobody reads while the ring of four is overrun: single lines,
        // then batches whose lines share a time and, in pairs, a text.
        let mut want = Vec::new();
        for i in 0..300 {
            want.push(format!("single {i}"));
            a.log.write(Stream::Stdout, &want[i]);
        }
        let pairs: Vec<String> = (0..1000).map(|i| format!("pair {}", i / 2)).collect();
        want.extend(pairs.iter().cloned());
        burst(&a.log, pairs.into_iter()).await;
        a.log.write(Stream::Stdout, "after");
        want.push("after".into());
        let got = take(live, want.len()).await;
        assert_eq!(texts(&got), want, "every line once, in order");

        // The follower that took over follows, and falls behind again.
        burst(&a.log, (0..50).map(|i| format!("later {i}"))).await;
        let got = take(live, 50).await;
        let later: Vec<String> = (0..50).map(|i| format!("later {i}")).collect();
        assert_eq!(texts(&got), later);
        assert!(live.try_recv().is_err(), "nothing more");
    }

    #[tokio::test]
    async fn a_follower_is_told_exactly_how_many_lines_could_not_be_read_back() {
        let dir = tempfile::tempdir().unwrap();
        // The memory tail keeps three lines: with the file gone, they are
        // all that can be read back.
        let store = LogStore::open(dir.path().into(), small_ring(4, 3)).unwrap();
        let a = sel(&store, "a");
        // Sharing one time, as the lines of the catch-up's cutoff.
        burst(&a.log, (0..5).map(|i| format!("old {i}"))).await;
        let mut out = query(vec![a.clone()], None, None, None, true).await;
        assert_eq!(out.history.len(), 5);
        let sent = std::fs::read(a.log.path()).unwrap();
        let live = out.live.as_mut().unwrap();
        burst(&a.log, (0..100).map(|i| format!("line {i}"))).await;
        // The file at the log's path now holds only the lines the history
        // sent (the writer's own was unlinked): none of them comes again.
        std::fs::remove_file(a.log.path()).unwrap();
        std::fs::write(a.log.path(), sent).unwrap();
        let got = take(live, 4).await;
        let Live::Notice(LogNotice::Missed {
            unit,
            lines,
            message,
        }) = &got[0]
        else {
            panic!("{got:?}");
        };
        assert_eq!((unit.as_str(), *lines), ("a", 97));
        assert!(
            message.starts_with("97 lines of a missing here: they could not be read back"),
            "{message}"
        );
        let last: Vec<String> = (97..100).map(|i| format!("line {i}")).collect();
        assert_eq!(texts(&got[1..]), last, "the newest lines, from memory");
        a.log.write(Stream::Stdout, "still following");
        assert_eq!(texts(&take(live, 1).await), ["still following"]);
    }

    #[tokio::test]
    async fn more_lines_than_are_read_back_at_once_are_counted_then_the_newest_follow() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path().into(), small_ring(4, 1000)).unwrap();
        let a = sel(&store, "a");
        let mut out = query(vec![a.clone()], None, None, None, true).await;
        let live = out.live.as_mut().unwrap();
        let total = MAX_HISTORY + 5000;
        burst(&a.log, (0..total).map(|i| format!("n{i}"))).await;
        let got = take(live, MAX_HISTORY + 1).await;
        let Live::Notice(LogNotice::Missed { lines, message, .. }) = &got[0] else {
            panic!("{:?}", &got[..3]);
        };
        assert_eq!(*lines, 5000, "exactly the lines not read back");
        assert!(
            message.contains(&format!("this reader fell {total} lines behind")),
            "{message}"
        );
        let newest: Vec<String> = (5000..total).map(|i| format!("n{i}")).collect();
        assert_eq!(texts(&got[1..]), newest);
        a.log.write(Stream::Stdout, "still following");
        assert_eq!(texts(&take(live, 1).await), ["still following"]);
    }

    #[tokio::test]
    async fn units_followed_together_are_each_caught_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path().into(), small_ring(4, 1000)).unwrap();
        let (a, b) = (sel(&store, "a"), sel(&store, "b"));
        let mut out = query(vec![a.clone(), b.clone()], None, None, None, true).await;
        let live = out.live.as_mut().unwrap();
        burst(&a.log, (0..500).map(|i| format!("a{i}"))).await;
        burst(&b.log, (0..500).map(|i| format!("b{i}"))).await;
        let got = take(live, 1000).await;
        for unit in ["a", "b"] {
            let mine: Vec<String> = texts(&got)
                .into_iter()
                .filter(|t| t.starts_with(unit))
                .collect();
            let want: Vec<String> = (0..500).map(|i| format!("{unit}{i}")).collect();
            assert_eq!(mine, want, "{unit}'s lines whole and in order");
        }
    }

    #[test]
    fn a_run_whose_earliest_lines_were_removed_gets_a_notice() {
        use crate::logs::LogRetention;
        use devctl_units::UnitKind;
        use devctl_units::api::runs::{RunId, RunTrigger};
        let dir = tempfile::tempdir().unwrap();
        let limits = LogLimits {
            retention: LogRetention {
                max_file_bytes: 4096,
                files: 2,
                max_age: None,
            },
            ..LogLimits::default()
        };
        let store = LogStore::open(dir.path().into(), limits).unwrap();
        let s = sel(&store, "chatty");
        let run = |queued_ms: u64| {
            RunRecord::queued(
                RunId::from_bits(queued_ms),
                s.project.clone(),
                s.unit.clone(),
                UnitKind::Service,
                RunTrigger::Schedule,
                queued_ms,
            )
        };
        let early = run(micros(SystemTime::now()) / 1000 - 1);
        assert_eq!(rotated_away(&early, &s.log), None, "nothing removed yet");
        for i in 0..200 {
            s.log
                .write(Stream::Stdout, format!("line {i} {}", "x".repeat(80)));
        }
        let Some(LogNotice::RotatedAway {
            run: id,
            through_us,
            retention,
            message,
            ..
        }) = rotated_away(&early, &s.log)
        else {
            panic!("the early run lost lines");
        };
        assert_eq!(id, early.id);
        assert!(through_us >= early.log.from_us);
        assert_eq!((retention.files, retention.max_file_bytes), (2, 4096));
        assert!(
            message.contains("were rotated away (chatty keeps 2 × 4 KiB; see logs { }"),
            "{message}"
        );
        // A run that started after the newest removed line lost nothing.
        let late = run(through_us / 1000 + 1);
        assert_eq!(rotated_away(&late, &s.log), None);
    }

    #[test]
    fn cutoff_skips_what_the_history_had() {
        let t = UNIX_EPOCH + Duration::from_secs(10);
        let line = |secs: u64, text: &str| LogLine {
            time: UNIX_EPOCH + Duration::from_secs(secs),
            stream: Stream::Stdout,
            text: text.into(),
        };
        let mut c = Cutoff::of(&[line(9, "x"), line(10, "y"), line(10, "y")]);
        assert_eq!(c.time, Some(t));
        assert!(c.seen(&line(9, "old")));
        assert!(c.seen(&line(10, "y")));
        assert!(c.seen(&line(10, "y")));
        assert!(!c.seen(&line(10, "y")), "a third identical line is new");
        assert!(!c.seen(&line(10, "z")));
        assert!(!c.seen(&line(11, "x")));
        assert!(!Cutoff::default().seen(&line(0, "x")));
    }
}
