//! Real-process tests of the log layer: tagging and timestamps, markers,
//! long-line capping, rotation, tail/read, follower lag, disk-full and a
//! flood that must not grow this process's memory.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use devctl_supervisord::logs::{
    FollowEvent, LINE_SPLIT_MARKER, LogLimits, LogRetention, LogStore, Stream, UnitLog, pump,
};
use devctl_supervisord::process::{
    ExitStatus, Reaper, SpawnSpec, find_marked, invocation_id, spawn,
};

fn sh(script: &str, marker: &str) -> SpawnSpec {
    SpawnSpec {
        argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
        dir: PathBuf::from("/"),
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        capture: true,
        invocation_id: marker.into(),
        ..SpawnSpec::default()
    }
}

/// Run `script`, pumping both streams into `log`; returns bytes pumped.
async fn run_pumped(reaper: &Arc<Reaper>, script: &str, log: &UnitLog) -> u64 {
    let marker = invocation_id();
    let mut child = spawn(reaper, sh(script, &marker)).await.unwrap();
    log.marker(format!("spawned pid {}", child.pid));
    let out = tokio::spawn(pump(
        child.stdout.take().unwrap(),
        Stream::Stdout,
        log.clone(),
    ));
    let err = tokio::spawn(pump(
        child.stderr.take().unwrap(),
        Stream::Stderr,
        log.clone(),
    ));
    let status = child.wait().await;
    let bytes = out.await.unwrap().bytes + err.await.unwrap().bytes;
    log.marker(format!("{status}"));
    assert_eq!(status, ExitStatus::Exited(0));
    assert!(find_marked(&marker).is_empty());
    bytes
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_are_tagged_timestamped_and_markers_interleave() {
    let reaper = Reaper::install().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path().join("logs"), LogLimits::default()).unwrap();
    let log = store.unit("proj", "web");
    let before = SystemTime::now();
    run_pumped(
        &reaper,
        "echo hello; echo oops >&2; printf 'no newline'",
        &log,
    )
    .await;
    let path = dir.path().join("logs/proj/web.log");
    assert_eq!(log.path(), path);
    let text = std::fs::read_to_string(&path).unwrap();
    let records: Vec<(&str, &str, &str)> = text
        .lines()
        .map(|l| {
            let mut it = l.splitn(3, ' ');
            (
                it.next().unwrap(),
                it.next().unwrap(),
                it.next().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(records.len(), 5, "{text}");
    assert!(records[0].2.starts_with("spawned pid "));
    assert_eq!(records[0].1, "---");
    assert!(records.contains(&(
        records.iter().find(|r| r.2 == "hello").unwrap().0,
        "out",
        "hello"
    )));
    assert!(records.iter().any(|r| r.1 == "err" && r.2 == "oops"));
    assert!(records.iter().any(|r| r.1 == "out" && r.2 == "no newline"));
    assert_eq!(records[4], (records[4].0, "---", "exited 0"));
    for (ts, _, _) in &records {
        assert_eq!(ts.len(), "2026-11-20T10:11:12.123456Z".len());
        assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T');
    }
    let read = log.read(None, 100).await.unwrap();
    assert_eq!(read.len(), 5);
    assert!(
        read.iter()
            .all(|l| l.time >= before - Duration::from_secs(1))
    );
    assert_eq!(
        log.tail(2)
            .iter()
            .map(|l| l.stream)
            .collect::<Vec<_>>()
            .last(),
        Some(&Stream::Marker)
    );
    assert_eq!(log.tail(100).len(), 5);
    // The same unit shares one handle.
    assert_eq!(store.unit("proj", "web").tail(100).len(), 5);
    assert_eq!(log.dropped_bytes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lines_are_capped_and_split() {
    let reaper = Reaper::install().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let limits = LogLimits {
        max_line_bytes: 1000,
        ..LogLimits::default()
    };
    let store = LogStore::open(dir.path().to_path_buf(), limits).unwrap();
    let log = store.unit("p", "long");
    run_pumped(
        &reaper,
        "head -c 2500 /dev/zero | tr '\\0' x; echo; echo short",
        &log,
    )
    .await;
    let lines: Vec<String> = log
        .read(None, 100)
        .await
        .unwrap()
        .iter()
        .filter(|l| l.stream == Stream::Stdout)
        .map(|l| l.text.to_string())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0], format!("{}{LINE_SPLIT_MARKER}", "x".repeat(1000)));
    assert_eq!(lines[1], format!("{}{LINE_SPLIT_MARKER}", "x".repeat(1000)));
    assert_eq!(lines[2], "x".repeat(500));
    assert_eq!(lines[3], "short");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_a_bounded_number_of_files_and_reads_across_them() {
    let reaper = Reaper::install().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let limits = LogLimits {
        retention: LogRetention {
            max_file_bytes: 4096,
            files: 3,
            max_age: None,
        },
        tail_lines: 10,
        ..LogLimits::default()
    };
    let store = LogStore::open(dir.path().to_path_buf(), limits).unwrap();
    let log = store.unit("p", "rot");
    run_pumped(
        &reaper,
        "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done",
        &log,
    )
    .await;
    let base = dir.path().join("p/rot.log");
    let rotated = |k: u32| PathBuf::from(format!("{}.{k}", base.display()));
    assert!(base.exists() && rotated(1).exists() && rotated(2).exists());
    assert!(!rotated(3).exists());
    for p in [base.clone(), rotated(1), rotated(2)] {
        assert!(
            std::fs::metadata(&p).unwrap().len() <= 4096 + 128,
            "{}",
            p.display()
        );
    }
    assert_eq!(log.files_oldest_first(), vec![rotated(2), rotated(1), base]);
    // Reading the last 150 lines spans files and stays in order.
    let lines = log.read(None, 150).await.unwrap();
    assert_eq!(lines.len(), 150);
    assert_eq!(&*lines[148].text, "line-1999");
    assert_eq!(lines[149].stream, Stream::Marker);
    let numbers: Vec<u32> = lines
        .iter()
        .filter_map(|l| l.text.strip_prefix("line-")?.parse().ok())
        .collect();
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1));
    // Memory keeps only tail_lines.
    assert_eq!(log.tail(1000).len(), 10);
    // `since` filters by time.
    let late = log
        .read(Some(SystemTime::now() + Duration::from_secs(60)), 10)
        .await
        .unwrap();
    assert!(late.is_empty());
    let all_since_epoch = log.read(Some(SystemTime::UNIX_EPOCH), 5).await.unwrap();
    assert_eq!(all_since_epoch.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_followers_are_told_how_many_lines_they_missed() {
    let dir = tempfile::tempdir().unwrap();
    let limits = LogLimits {
        follow_buffer: 8,
        ..LogLimits::default()
    };
    let store = LogStore::open(dir.path().to_path_buf(), limits).unwrap();
    let log = store.unit("p", "f");
    let mut follower = log.subscribe();
    for i in 0..20 {
        log.marker(format!("m{i}"));
    }
    assert_eq!(follower.next().await, Some(FollowEvent::Missed(12)));
    let Some(FollowEvent::Line(line)) = follower.next().await else {
        panic!("expected a line")
    };
    assert_eq!(&*line.text, "m12");
    drop(store);
    drop(log);
    // The remaining buffered lines, then the end.
    let mut rest = 0;
    while let Some(ev) = follower.next().await {
        assert!(matches!(ev, FollowEvent::Line(_)));
        rest += 1;
    }
    assert_eq!(rest, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_drops_and_counts_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("p")).unwrap();
    std::os::unix::fs::symlink("/dev/full", dir.path().join("p/full.log")).unwrap();
    let store = LogStore::open(dir.path().to_path_buf(), LogLimits::default()).unwrap();
    let log = store.unit("p", "full");
    log.marker("first");
    log.marker("second");
    assert!(log.dropped_bytes() > 0);
    assert_eq!(
        log.tail(10).len(),
        2,
        "memory tail and followers keep working"
    );

    // An unopenable log (its directory is a file) drops too.
    std::fs::write(dir.path().join("q"), b"not a dir").unwrap();
    let log = store.unit("q", "x");
    log.marker("lost");
    assert_eq!(
        log.dropped_bytes(),
        log.tail(1)[0].to_string().len() as u64 + 1
    );
    // A root that cannot be created is an error.
    assert!(LogStore::open(dir.path().join("q/sub"), LogLimits::default()).is_err());
}

/// T33-like: floods of short lines and of one endless line; RSS stays flat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_keeps_memory_flat() {
    let reaper = Reaper::install().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path().to_path_buf(), LogLimits::default()).unwrap();
    let log = store.unit("p", "flood");
    let _follower_that_never_reads = log.subscribe();
    // Warm up allocator and buffers, then measure.
    run_pumped(&reaper, "head -c 2000000 /dev/zero | tr '\\0' y", &log).await;
    let baseline = rss_kib();
    let peak = Arc::new(AtomicU64::new(baseline));
    let sampler = tokio::spawn({
        let peak = peak.clone();
        async move {
            loop {
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    let long_line = "x".repeat(1000);
    let bytes = run_pumped(
        &reaper,
        &format!("yes {long_line} | head -c 100000000; head -c 100000000 /dev/zero | tr '\\0' y"),
        &log,
    )
    .await;
    sampler.abort();
    assert_eq!(bytes, 200_000_000);
    let growth = peak.load(Ordering::Relaxed).saturating_sub(baseline);
    eprintln!("baseline {baseline} KiB, growth {growth} KiB");
    assert!(growth < 48 * 1024, "RSS grew by {growth} KiB");
    let on_disk: u64 = log
        .files_oldest_first()
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    assert!(
        on_disk <= 4 * (8 << 20) + (1 << 20),
        "disk stays capped: {on_disk}"
    );
    assert_eq!(log.dropped_bytes(), 0);
}
