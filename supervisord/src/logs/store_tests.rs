//! Tests of the unit logs against real files: followers, rotation at
//! record boundaries, the file count, age, and the rotated-away watermark.

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

#[tokio::test]
async fn a_snapshot_with_a_subscription_splits_the_log_exactly_whatever_rotation_does() {
    let dir = tempfile::tempdir().unwrap();
    let limits = LogLimits {
        retention: LogRetention {
            max_file_bytes: 4096,
            files: 3,
            max_age: None,
        },
        follow_buffer: 1000,
        tail_lines: 5,
        ..LogLimits::default()
    };
    let store = LogStore::open(dir.path().into(), limits).unwrap();
    let log = store.unit("p", "u");
    let texts =
        |lines: &[LogLine]| -> Vec<String> { lines.iter().map(|l| l.text.to_string()).collect() };
    for i in 0..40 {
        log.append(&batch(i, &[&format!("before {i}"), "same"]));
    }
    let (mut follower, snap) = log.subscribe_with_snapshot();
    assert_eq!((snap.position(), follower.position()), (80, 80));
    // Enough after it to rotate every file the snapshot opened away.
    for i in 0..200 {
        log.append(&batch(100 + i, &[&format!("after {i} {}", "x".repeat(60))]));
    }
    assert!(
        log.rotated_away().is_some(),
        "the snapshot's files are gone"
    );
    // The memory tail (five lines) as of a position.
    assert!(log.tail_before(80, 3).is_empty(), "the tail moved on");
    let two = texts(&log.tail_before(279, 2));
    assert!(two[0].starts_with("after 197 ") && two[1].starts_with("after 198 "));
    let before = snap.read(None, None, usize::MAX).await.unwrap();
    let want: Vec<String> = (0..40)
        .flat_map(|i| [format!("before {i}"), "same".into()])
        .collect();
    assert_eq!(texts(&before), want, "the lines before it, none after");
    match follower.next().await {
        Some(FollowEvent::Line(l)) => assert!(l.text.starts_with("after 0 "), "{l:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(follower.position(), 81);
}

#[test]
fn rotation_splits_batches_at_record_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let limits = LogLimits {
        retention: LogRetention {
            max_file_bytes: 100,
            files: 51,
            max_age: None,
        },
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

fn retention(max: u64, files: u32, age: Option<Duration>) -> LogRetention {
    LogRetention {
        max_file_bytes: max,
        files,
        max_age: age,
    }
}

fn on_disk(log: &UnitLog) -> Vec<String> {
    let dir = log.path().parent().unwrap();
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_file_count_bounds_the_disk_and_the_watermark_says_what_went() {
    let dir = tempfile::tempdir().unwrap();
    let limits = LogLimits {
        retention: retention(4096, 2, None),
        ..LogLimits::default()
    };
    let store = LogStore::open(dir.path().into(), limits).unwrap();
    let log = store.unit("p", "chatty");
    assert_eq!(log.rotated_away(), None, "nothing removed yet");
    let line = "z".repeat(100);
    for i in 0..400u64 {
        log.append(&batch(1000 + i, &[&line]));
    }
    assert_eq!(
        on_disk(&log),
        ["chatty.log", "chatty.log.1", "chatty.log.pruned"]
    );
    let total: u64 = log
        .files_oldest_first()
        .iter()
        .map(|p| fs::metadata(p).unwrap().len())
        .sum();
    assert!(total <= 2 * 4096, "{total} bytes kept");
    // The newest line removed is the one just before the oldest kept.
    let oldest_kept = read_all(&log)[0].time;
    let gone = log.rotated_away().expect("lines were removed");
    assert_eq!(gone + Duration::from_secs(1), oldest_kept);
    // A new store (a restarted daemon) reads the watermark back.
    let again = LogStore::open(dir.path().into(), limits).unwrap();
    assert_eq!(again.unit("p", "chatty").rotated_away(), Some(gone));
}

#[test]
fn files_past_a_smaller_count_go_when_the_setting_changes_or_the_unit_loads() {
    let dir = tempfile::tempdir().unwrap();
    let limits = LogLimits {
        retention: retention(4096, 5, None),
        ..LogLimits::default()
    };
    let store = LogStore::open(dir.path().into(), limits).unwrap();
    let log = store.unit_with("p", "u", &LogSpec::default());
    for i in 0..300u64 {
        log.append(&batch(i, &[&"q".repeat(100)]));
    }
    assert_eq!(
        log.files_oldest_first()
            .iter()
            .filter(|p| p.exists())
            .count(),
        5
    );
    let two = LogSpec {
        files: Some(2),
        ..LogSpec::default()
    };
    let same = store.unit_with("p", "u", &two);
    assert_eq!(same.retention().files, 2);
    assert_eq!(on_disk(&log), ["u.log", "u.log.1", "u.log.pruned"]);
    // A later daemon with a default of one file keeps only the current.
    let one = LogLimits {
        retention: retention(4096, 1, None),
        ..LogLimits::default()
    };
    let later = LogStore::open(dir.path().into(), one).unwrap();
    let log = later.unit_with("p", "u", &LogSpec::default());
    assert_eq!(on_disk(&log), ["u.log", "u.log.pruned"]);
    // With one file, a rotation removes the file being written.
    for i in 400..500u64 {
        log.append(&batch(i, &[&"q".repeat(100)]));
    }
    assert_eq!(on_disk(&log), ["u.log", "u.log.pruned"]);
    assert!(fs::metadata(log.path()).unwrap().len() <= 4096);
    assert!(log.rotated_away().unwrap() >= UNIX_EPOCH + Duration::from_secs(400));
}

#[test]
fn age_rotates_the_current_file_and_removes_old_ones_without_a_timer() {
    let dir = tempfile::tempdir().unwrap();
    let day = Duration::from_secs(86_400);
    let limits = LogLimits {
        retention: retention(1 << 20, 10, Some(day)),
        ..LogLimits::default()
    };
    let store = LogStore::open(dir.path().into(), limits).unwrap();
    let log = store.unit("p", "quiet");
    let start = SystemTime::now() - 3 * day;
    let at = |t: SystemTime, text: &str| {
        let mut b = Batch::new();
        b.start(t, Stream::Stdout);
        b.push_str(text, "");
        b
    };
    log.append(&at(start, "monday"));
    log.append(&at(start + day / 2, "monday noon"));
    assert_eq!(on_disk(&log), ["quiet.log"], "young enough: no rotation");
    // A line a day after the file's first one rotates it first.
    log.append(&at(start + day, "tuesday"));
    assert_eq!(on_disk(&log), ["quiet.log", "quiet.log.1"]);
    let texts = |log: &UnitLog| -> Vec<String> {
        read_all(log).iter().map(|l| l.text.to_string()).collect()
    };
    assert_eq!(texts(&log), ["monday", "monday noon", "tuesday"]);
    // Files age by when they were last written: as of two days from
    // now the rotated file's newest line is a day old, the current
    // one's too; both go, and the watermark is the last line removed.
    log.enforce(SystemTime::now() + day / 2);
    assert_eq!(on_disk(&log), ["quiet.log", "quiet.log.1"], "not yet");
    log.enforce(SystemTime::now() + 2 * day);
    assert_eq!(on_disk(&log), ["quiet.log.pruned"]);
    assert_eq!(log.rotated_away(), Some(to_us(start + day)));
    // Writing again starts a fresh file.
    log.write(Stream::Stdout, "back");
    assert_eq!(texts(&log), ["back"]);
}

/// Every line on disk, from a test that is not async itself.
fn read_all(log: &UnitLog) -> Vec<LogLine> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(log.read(None, usize::MAX))
        .unwrap()
}

fn to_us(t: SystemTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(t.duration_since(UNIX_EPOCH).unwrap().as_micros() as u64)
}
