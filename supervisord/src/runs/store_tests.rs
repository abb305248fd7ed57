//! Tests of the run store against real SQLite files: round trip, batching,
//! retention, corrupt and foreign files, crash images, concurrent readers.

use super::*;
use devctl_units::api::JobVerb;
use devctl_units::api::runs::{RunExit, RunResources, RunTrigger, VerbSource};
use devctl_units::state::UnitResult;
use devctl_units::{ProjectName, UnitKind, UnitName};
use std::fs;

fn run(n: u64, project: &str, unit: &str, queued_ms: u64) -> RunRecord {
    RunRecord::queued(
        RunId::from_bits(n),
        ProjectName::new(project).unwrap(),
        UnitName::new(unit).unwrap(),
        UnitKind::Service,
        RunTrigger::Verb {
            verb: JobVerb::Start,
            source: VerbSource::Cli,
        },
        queued_ms,
    )
}

fn ended(mut r: RunRecord, at_ms: u64, result: UnitResult) -> RunRecord {
    r.spawned_ms = Some(r.queued_ms + 1);
    r.ended_ms = Some(at_ms);
    r.result = Some(result);
    r.log.to_us = Some(at_ms * 1000);
    r
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn all(store: &RunStore) -> Vec<RunRecord> {
    store
        .query(&RunQuery {
            limit: Some(MAX_LIMIT),
            ..RunQuery::default()
        })
        .unwrap()
        .runs
}

fn open(path: &Path) -> RunStore {
    RunStore::open(path, RunRetention::default()).unwrap()
}

fn aside_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".corrupt-"))
        .collect()
}

#[test]
fn a_run_is_updated_in_place_and_read_back_whole() {
    let d = tempfile::tempdir().unwrap();
    let store = open(&d.path().join("runs.db"));
    let t = now_ms();
    let queued = run(1, "p", "api", t);
    store.record(queued.clone());
    let mut done = ended(queued, t + 500, UnitResult::ExitCode);
    done.commit = Some("a".repeat(40));
    done.exit = Some(RunExit {
        code: Some(3),
        signal: None,
    });
    done.resources = RunResources::Measured {
        peak_rss_bytes: 5 << 20,
        cpu_ms: 40,
    };
    store.record(done.clone());
    store.flush();
    assert_eq!(store.get(&done.id).unwrap(), Some(done.clone()));
    assert_eq!(all(&store), vec![done], "one row per run");
    assert_eq!(store.get(&RunId::from_bits(2)).unwrap(), None);
    assert_eq!(store.dropped(), 0);
}

#[test]
fn queries_filter_and_page_newest_first() {
    let d = tempfile::tempdir().unwrap();
    let store = open(&d.path().join("runs.db"));
    let t = now_ms();
    for n in 0..30u64 {
        let unit = ["api", "web", "db"][(n % 3) as usize];
        let project = if n < 27 { "p" } else { "q" };
        let result = if n % 5 == 0 {
            UnitResult::Signal
        } else {
            UnitResult::Success
        };
        store.record(ended(run(n, project, unit, t + n), t + n + 1, result));
    }
    store.flush();
    let q = |q: RunQuery| store.query(&q).unwrap();
    let everything = q(RunQuery {
        limit: Some(100),
        ..Default::default()
    });
    let order: Vec<u64> = everything.runs.iter().map(|r| r.queued_ms - t).collect();
    assert_eq!(order, (0..30).rev().collect::<Vec<_>>());
    assert_eq!(everything.next, None);

    let p_api = q(RunQuery {
        project: Some(ProjectName::new("p").unwrap()),
        units: vec![UnitName::new("api").unwrap()],
        ..Default::default()
    });
    assert_eq!(p_api.runs.len(), 9);
    assert!(
        p_api
            .runs
            .iter()
            .all(|r| r.unit.as_str() == "api" && r.project.as_str() == "p")
    );

    let failed = q(RunQuery {
        failed: true,
        since_ms: Some(t + 10),
        ..Default::default()
    });
    let f: Vec<u64> = failed.runs.iter().map(|r| r.queued_ms - t).collect();
    assert_eq!(f, vec![25, 20, 15, 10]);

    // Pages of 7 cover everything once, in order.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = q(RunQuery {
            limit: Some(7),
            before: before.clone(),
            ..Default::default()
        });
        seen.extend(page.runs.iter().map(|r| r.queued_ms - t));
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, order);
}

#[test]
fn a_burst_is_written_in_a_few_transactions() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("runs.db");
    let store = open(&path);
    // Hold the write lock so the burst piles up behind the first batch.
    let blocker = db::connect(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let t = now_ms();
    for n in 0..3_000u64 {
        store.record(run(n, "p", &format!("u{}", n % 50), t));
    }
    blocker.execute_batch("COMMIT").unwrap();
    store.flush();
    assert_eq!(store.dropped(), 0);
    let count: i64 = blocker
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 3_000);
    // At most: the record taken before the lock, then batches of MAX_BATCH.
    assert!(store.batches() <= 5, "{} transactions", store.batches());
}

#[test]
fn a_writer_that_falls_behind_drops_and_counts_instead_of_blocking() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("runs.db");
    let store = RunStore::open(
        &path,
        RunRetention {
            per_unit: 100_000,
            ..RunRetention::default()
        },
    )
    .unwrap();
    let blocker = db::connect(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let total = CHANNEL_BOUND as u64 + 2 * MAX_BATCH as u64 + 2_000;
    let t = now_ms();
    for n in 0..total {
        store.record(run(n, "p", "u", t));
    }
    blocker.execute_batch("COMMIT").unwrap();
    store.flush();
    let stored: i64 = blocker
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    assert!(store.dropped() > 0);
    assert_eq!(stored as u64 + store.dropped(), total);
}

#[test]
fn retention_keeps_the_newest_runs_per_unit_and_never_a_running_one() {
    let d = tempfile::tempdir().unwrap();
    let store = RunStore::open(
        &d.path().join("runs.db"),
        RunRetention {
            per_unit: 5,
            max_age: Duration::from_secs(3600),
        },
    )
    .unwrap();
    let t = now_ms();
    // An old run still going, then 20 finished ones of `api`, 3 of `web`.
    store.record(run(1000, "p", "api", t - 100_000));
    for n in 0..20u64 {
        store.record(ended(
            run(n, "p", "api", t + n),
            t + n + 1,
            UnitResult::Success,
        ));
    }
    for n in 20..23u64 {
        store.record(ended(
            run(n, "p", "web", t + n),
            t + n + 1,
            UnitResult::Success,
        ));
    }
    // Finished two hours ago: past the age limit; ten minutes: kept.
    store.record(ended(
        run(50, "p", "old", t - 8_000_000),
        t - 7_200_000,
        UnitResult::Success,
    ));
    store.record(ended(
        run(51, "p", "old", t - 700_000),
        t - 600_000,
        UnitResult::Success,
    ));
    store.flush();
    let runs = all(&store);
    let of = |u: &str| -> Vec<u64> {
        runs.iter()
            .filter(|r| r.unit.as_str() == u)
            .map(|r| r.queued_ms.wrapping_sub(t))
            .collect()
    };
    assert_eq!(of("api")[..5], [19, 18, 17, 16, 15]);
    assert_eq!(of("api").len(), 6, "the running one stays");
    assert!(runs.iter().any(|r| r.id == RunId::from_bits(1000)));
    assert_eq!(of("web").len(), 3);
    let old: Vec<RunId> = runs
        .iter()
        .filter(|r| r.unit.as_str() == "old")
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(old, vec![RunId::from_bits(51)]);
}

#[test]
fn a_garbage_file_is_set_aside_and_a_fresh_history_started() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("runs.db");
    fs::write(&path, vec![0x5a; 64 * 1024]).unwrap();
    let store = open(&path);
    assert_eq!(
        aside_files(d.path()).len(),
        1,
        "{:?}",
        aside_files(d.path())
    );
    assert!(aside_files(d.path())[0].starts_with("runs.db.corrupt-"));
    store.record(run(1, "p", "api", now_ms()));
    store.flush();
    assert_eq!(all(&store).len(), 1);
    drop(store);
    // The fresh file is fine: reopening sets nothing else aside.
    let again = open(&path);
    assert_eq!(all(&again).len(), 1);
    assert_eq!(aside_files(d.path()).len(), 1);
}

#[test]
fn a_damaged_page_is_found_at_open_and_set_aside() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("runs.db");
    let store = open(&path);
    let t = now_ms();
    for n in 0..500 {
        store.record(run(n, "p", &format!("unit{n}"), t));
    }
    store.flush();
    drop(store);
    // Checkpoint the WAL into the file, then overwrite a page past the header.
    let c = db::connect(&path).unwrap();
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    drop(c);
    let mut bytes = fs::read(&path).unwrap();
    assert!(bytes.len() > 3 * 4096);
    bytes[2 * 4096..3 * 4096].fill(0xa5);
    fs::write(&path, bytes).unwrap();
    let store = open(&path);
    assert!(!aside_files(d.path()).is_empty());
    assert!(all(&store).is_empty(), "a fresh history");
}

#[test]
fn a_database_from_a_newer_devctl_is_set_aside() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("runs.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(&format!("PRAGMA user_version = {}", db::SCHEMA_VERSION + 1))
        .unwrap();
    drop(c);
    let store = open(&path);
    assert_eq!(aside_files(d.path()).len(), 1);
    store.record(run(1, "p", "api", now_ms()));
    store.flush();
    assert_eq!(all(&store).len(), 1);
}

#[test]
fn an_unusable_location_is_an_error_not_a_set_aside() {
    let d = tempfile::tempdir().unwrap();
    let not_a_dir = d.path().join("file");
    fs::write(&not_a_dir, "x").unwrap();
    let err = RunStore::open(&not_a_dir.join("runs.db"), RunRetention::default())
        .err()
        .expect("cannot open under a file");
    assert!(matches!(err, RunStoreError::Open { .. }), "{err:?}");
    assert!(aside_files(d.path()).is_empty());
}

#[test]
fn committed_runs_survive_a_crash_image_of_the_files() {
    let d = tempfile::tempdir().unwrap();
    let live = d.path().join("live");
    let image = d.path().join("image");
    fs::create_dir_all(&live).unwrap();
    fs::create_dir_all(&image).unwrap();
    let store = open(&live.join("runs.db"));
    let t = now_ms();
    for n in 0..100 {
        store.record(ended(
            run(n, "p", "api", t + n),
            t + n + 5,
            UnitResult::Success,
        ));
    }
    store.flush();
    // What a kill -9 leaves: the database and its WAL as they are on disk,
    // with the store still open (never closed, never checkpointed).
    for name in ["runs.db", "runs.db-wal"] {
        fs::copy(live.join(name), image.join(name)).unwrap();
    }
    let reopened = open(&image.join("runs.db"));
    assert_eq!(all(&reopened).len(), 100);
    assert!(aside_files(&image).is_empty());
    drop(store);
}

#[test]
fn readers_see_consistent_pages_while_the_writer_writes() {
    let d = tempfile::tempdir().unwrap();
    let store = Arc::new(
        RunStore::open(
            &d.path().join("runs.db"),
            RunRetention {
                per_unit: 100_000,
                ..RunRetention::default()
            },
        )
        .unwrap(),
    );
    let t = now_ms();
    const N: u64 = 2_000;
    let writer = {
        let store = store.clone();
        thread::spawn(move || {
            for n in 0..N {
                store.record(run(n, "p", "api", t + n));
                if n % 100 == 0 {
                    store.flush();
                }
            }
            store.flush();
        })
    };
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            thread::spawn(move || {
                let mut last = 0;
                loop {
                    let page = store
                        .query(&RunQuery {
                            limit: Some(MAX_LIMIT),
                            ..RunQuery::default()
                        })
                        .unwrap();
                    let q: Vec<u64> = page.runs.iter().map(|r| r.queued_ms).collect();
                    assert!(q.windows(2).all(|w| w[0] > w[1]), "newest first");
                    let newest = q.first().map_or(0, |n| n - t + 1);
                    assert!(newest >= last, "history never goes back");
                    last = newest;
                    if newest == N {
                        break;
                    }
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for r in readers {
        r.join().unwrap();
    }
}

#[test]
fn a_file_damaged_while_open_is_set_aside_once_a_reader_finds_it() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("runs.db");
    let store = open(&path);
    let t = now_ms();
    store.record(run(1, "p", "api", t));
    store.flush();
    // Garbage over the database and its WAL, under the open connections.
    fs::write(&path, vec![0x5a; 64 * 1024]).unwrap();
    fs::write(d.path().join("runs.db-wal"), vec![0x5a; 64 * 1024]).unwrap();
    let err = store.query(&RunQuery::default()).unwrap_err();
    assert!(matches!(err, RunStoreError::Query { .. }), "{err:?}");
    store.flush();
    assert!(!aside_files(d.path()).is_empty());
    store.record(run(2, "p", "api", t + 1));
    store.flush();
    let ids: Vec<RunId> = all(&store).into_iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![RunId::from_bits(2)], "a fresh history");
}

#[test]
fn a_record_that_cannot_be_decoded_is_named_in_the_error() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("runs.db");
    let store = open(&path);
    let c = db::connect(&path).unwrap();
    c.execute(
        "INSERT INTO runs (id, project, unit, queued_ms, ended_ms, failed, record)
         VALUES ('zzzzzzzzzz', 'p', 'api', 1, NULL, 0, '{\"not\": \"a run\"}')",
        [],
    )
    .unwrap();
    let err = store.query(&RunQuery::default()).unwrap_err();
    match err {
        RunStoreError::Decode { id, .. } => assert_eq!(id, "zzzzzzzzzz"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_burst_is_one_transaction_and_a_query_sees_what_was_recorded_before_it() {
    let d = tempfile::tempdir().unwrap();
    let store = open(&d.path().join("runs.db"));
    let t = now_ms();
    for n in 1..=20 {
        store.record(run(n, "p", &format!("u{n}"), t));
    }
    // No flush: the query waits for what was recorded before it.
    assert_eq!(all(&store).len(), 20);
    assert_eq!(store.batches(), 1, "the burst took several transactions");
    // A record alone is committed within the linger, without a reader.
    store.record(run(21, "p", "late", t));
    std::thread::sleep(LINGER * 20);
    assert_eq!(store.batches(), 2);
}
