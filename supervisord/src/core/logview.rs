//! Log queries for the API over [`crate::logs`]: the history of one or
//! several units read back from disk (so lines written before a daemon
//! restart are there too), merged by time and converted to the API's
//! records; with `follow`, every later line through one bounded channel,
//! subscribed before the history is read so that nothing falls between
//! the two (lines seen in both are sent once). A follower that falls
//! behind the unit's log is told how many lines it missed, then its
//! channel ends.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tracing::warn;

use devctl_units::api::runs::{LogNotice, RunRecord};
use devctl_units::api::{LogRecord, LogStream};
use devctl_units::{ProjectName, UnitName};

use crate::logs::{FollowEvent, LogFollower, LogLine, Stream, UnitLog};

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
    /// The follower fell behind one unit's log by this many lines; nothing
    /// follows.
    Missed(u64),
}

/// Most lines one history query returns (also when no count is given).
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

/// What the history already holds at its newest instant; a follower skips
/// older lines and these ones.
#[derive(Debug, Default)]
struct Cutoff {
    time: Option<SystemTime>,
    at_time: Vec<(Stream, Arc<str>)>,
}

impl Cutoff {
    fn of(lines: &[LogLine]) -> Cutoff {
        let Some(last) = lines.last().map(|l| l.time) else {
            return Cutoff::default();
        };
        Cutoff {
            time: Some(last),
            at_time: lines
                .iter()
                .filter(|l| l.time == last)
                .map(|l| (l.stream, l.text.clone()))
                .collect(),
        }
    }

    /// True when `line` was already part of the history.
    fn seen(&mut self, line: &LogLine) -> bool {
        match self.time {
            Some(t) if line.time < t => true,
            Some(t) if line.time == t => {
                match self
                    .at_time
                    .iter()
                    .position(|(s, text)| *s == line.stream && *text == line.text)
                {
                    Some(i) => {
                        self.at_time.swap_remove(i);
                        true
                    }
                    None => false,
                }
            }
            _ => false,
        }
    }
}

/// One unit's history: disk, or the memory tail when the files cannot be read.
async fn history(
    sel: &Selected,
    since: Option<SystemTime>,
    until: Option<SystemTime>,
    n: usize,
) -> Vec<LogLine> {
    match sel.log.read_between(since, until, n).await {
        Ok(lines) => lines,
        Err(e) => {
            warn!(project = %sel.project, unit = %sel.unit, error = %e, "log files unreadable; answering from memory");
            sel.log
                .tail(n)
                .into_iter()
                .filter(|l| since.is_none_or(|s| l.time >= s) && until.is_none_or(|u| l.time <= u))
                .collect()
        }
    }
}

/// Forward one unit's later lines until the client goes away or falls
/// behind (a lagging follower is dropped, never buffered without bound).
/// Falling behind is said, with the count, so that the reader knows its
/// view has a hole rather than seeing the stream just end.
async fn forward(
    sel: Selected,
    mut follower: LogFollower,
    mut cutoff: Cutoff,
    tx: mpsc::Sender<Live>,
) {
    while let Some(event) = follower.next().await {
        let item = match event {
            FollowEvent::Line(line) if cutoff.seen(&line) => continue,
            FollowEvent::Line(line) => Live::Line(record(&sel.project, &sel.unit, &line)),
            FollowEvent::Missed(n) => {
                let _ = tx.send(Live::Missed(n)).await;
                return;
            }
        };
        if tx.send(item).await.is_err() {
            return;
        }
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
    let mut followers: Vec<Option<LogFollower>> = sel
        .iter()
        .map(|s| follow.then(|| s.log.subscribe()))
        .collect();
    let mut parts = Vec::with_capacity(sel.len());
    let mut cutoffs = Vec::with_capacity(sel.len());
    for s in &sel {
        let lines = history(s, since, until, n).await;
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

    #[tokio::test]
    async fn a_follower_that_falls_behind_is_told_how_many_lines_it_missed() {
        let dir = tempfile::tempdir().unwrap();
        let limits = LogLimits {
            follow_buffer: 4,
            ..LogLimits::default()
        };
        let store = LogStore::open(dir.path().into(), limits).unwrap();
        let a = sel(&store, "a");
        let mut out = query(vec![a.clone()], None, None, None, true).await;
        // Nobody reads while ten lines go by: the unit's ring holds four.
        for i in 0..10 {
            a.log.write(Stream::Stdout, format!("line {i}"));
        }
        let live = out.live.as_mut().unwrap();
        let mut got = Vec::new();
        while let Some(item) = live.recv().await {
            got.push(item);
        }
        assert_eq!(
            got,
            [Live::Missed(6)],
            "the six lines the ring dropped are counted, then the channel ends"
        );
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
