//! [`RunStore`]: the writer thread that batches run records into SQLite
//! transactions and applies the retention, and the query side (filters,
//! newest first, paging, by id). Recording never blocks the caller: it is
//! a `try_send` into a bounded channel; a full channel drops the record and
//! counts it rather than slow the start path. The writer lingers briefly
//! after a burst's first record, so the burst (an `up` of many units) is
//! one transaction rather than one each competing with the start path for
//! the CPU; a query first has everything recorded before it committed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use devctl_units::api::runs::{RunId, RunPage, RunQuery, RunRecord};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};
use tracing::{debug, warn};

use super::db::{self, RunStoreError};

/// Records waiting for the writer, at most. Far above any burst (a
/// thousand units starting queue two records each).
const CHANNEL_BOUND: usize = 16_384;
/// Records written in one transaction, at most.
const MAX_BATCH: usize = 1_024;
/// How long the writer collects more records after a burst's first one.
const LINGER: Duration = Duration::from_millis(5);
/// A page's size when the query names none, and the largest one served.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 1_000;

/// How much history is kept. Only finished runs are ever pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunRetention {
    /// Runs kept per unit (the newest).
    pub per_unit: u32,
    /// Runs that ended longer ago than this are dropped.
    pub max_age: Duration,
}

impl Default for RunRetention {
    fn default() -> RunRetention {
        RunRetention {
            per_unit: 200,
            max_age: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

enum Msg {
    Record(Box<RunRecord>),
    /// Answered once everything sent before it is committed.
    Flush(SyncSender<()>),
    /// A reader found the file damaged: reopen it (setting it aside).
    Damaged,
}

/// The run history of one daemon. Cheap to share behind an `Arc`; queries
/// are blocking (call them from `spawn_blocking`), recording is not.
pub struct RunStore {
    path: PathBuf,
    tx: SyncSender<Msg>,
    dropped: Arc<AtomicU64>,
    batches: Arc<AtomicU64>,
}

impl RunStore {
    /// Open (or create) the history at `path` and start its writer. A
    /// corrupt file is set aside and a fresh one started; an error means no
    /// history can be kept at all (say, an unwritable directory).
    pub fn open(path: &Path, retention: RunRetention) -> Result<RunStore, RunStoreError> {
        let conn = db::open(path)?;
        let (tx, rx) = mpsc::sync_channel(CHANNEL_BOUND);
        let batches = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            path: path.to_owned(),
            conn,
            retention,
            batches: batches.clone(),
        };
        thread::Builder::new()
            .name("devctld-runs".into())
            .spawn(move || writer.run(rx))
            .map_err(RunStoreError::Writer)?;
        Ok(RunStore {
            path: path.to_owned(),
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
            batches,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Insert or update a run (the whole record, keyed by its id). Returns
    /// at once; the write happens on the writer thread.
    pub fn record(&self, run: RunRecord) {
        match self.tx.try_send(Msg::Record(Box::new(run))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                    warn!(file = %self.path.display(), "run history cannot keep up; records dropped");
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records dropped because the writer fell behind or stopped.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Transactions the writer has committed.
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// Block until every record sent so far is committed (shutdown, tests).
    pub fn flush(&self) {
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        if self.tx.send(Msg::Flush(done_tx)).is_ok() {
            let _ = done_rx.recv();
        }
    }

    /// Runs matching `q`, newest first, one page.
    pub fn query(&self, q: &RunQuery) -> Result<RunPage, RunStoreError> {
        self.flush();
        let conn = self.reader()?;
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let mut sql = String::from("SELECT id, record FROM runs WHERE 1=1");
        let mut args: Vec<Value> = Vec::new();
        if let Some(p) = &q.project {
            sql.push_str(" AND project = ?");
            args.push(Value::Text(p.as_str().to_owned()));
        }
        if !q.units.is_empty() {
            sql.push_str(" AND unit IN (");
            for (i, u) in q.units.iter().enumerate() {
                sql.push_str(if i == 0 { "?" } else { ", ?" });
                args.push(Value::Text(u.as_str().to_owned()));
            }
            sql.push(')');
        }
        if let Some(since) = q.since_ms {
            sql.push_str(" AND queued_ms >= ?");
            args.push(Value::Integer(since as i64));
        }
        if q.failed {
            sql.push_str(" AND failed = 1");
        }
        if let Some(before) = &q.before {
            sql.push_str(" AND seq < (SELECT seq FROM runs WHERE id = ?)");
            args.push(Value::Text(before.as_str().to_owned()));
        }
        sql.push_str(" ORDER BY seq DESC LIMIT ?");
        args.push(Value::Integer(i64::from(limit) + 1));
        let rows = self.read_rows(&conn, &sql, args)?;
        let mut runs = rows;
        let next = if runs.len() > limit as usize {
            runs.truncate(limit as usize);
            runs.last().map(|r| r.id.clone())
        } else {
            None
        };
        Ok(RunPage { runs, next })
    }

    /// One run by id.
    pub fn get(&self, id: &RunId) -> Result<Option<RunRecord>, RunStoreError> {
        self.flush();
        let conn = self.reader()?;
        let mut rows = self.read_rows(
            &conn,
            "SELECT id, record FROM runs WHERE id = ?",
            vec![Value::Text(id.as_str().to_owned())],
        )?;
        Ok(rows.pop())
    }

    /// A connection per query: cheap, and it follows the writer to a fresh
    /// file if the old one was set aside meanwhile.
    fn reader(&self) -> Result<Connection, RunStoreError> {
        db::connect(&self.path).map_err(|source| RunStoreError::Query {
            path: self.path.clone(),
            source,
        })
    }

    fn read_rows(
        &self,
        conn: &Connection,
        sql: &str,
        args: Vec<Value>,
    ) -> Result<Vec<RunRecord>, RunStoreError> {
        let query_err = |source: rusqlite::Error| {
            if db::is_corruption(&source) {
                let _ = self.tx.try_send(Msg::Damaged);
            }
            RunStoreError::Query {
                path: self.path.clone(),
                source,
            }
        };
        let mut stmt = conn.prepare(sql).map_err(query_err)?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(query_err)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json) = row.map_err(query_err)?;
            let run = serde_json::from_str(&json).map_err(|source| RunStoreError::Decode {
                path: self.path.clone(),
                id,
                source,
            })?;
            out.push(run);
        }
        Ok(out)
    }
}

/// The writer thread's state.
struct Writer {
    path: PathBuf,
    conn: Connection,
    retention: RunRetention,
    batches: Arc<AtomicU64>,
}

impl Writer {
    /// Until every sender is gone: wait for one message, take whatever else
    /// is already queued (up to [`MAX_BATCH`]), write it in one transaction.
    fn run(mut self, rx: Receiver<Msg>) {
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        while let Ok(first) = rx.recv() {
            let linger_until = Instant::now() + LINGER;
            let mut next = Some(first);
            while let Some(msg) = next {
                match msg {
                    Msg::Record(r) => batch.push(*r),
                    Msg::Flush(done) => flushes.push(done),
                    Msg::Damaged => self.reopen(),
                }
                next = if batch.len() >= MAX_BATCH {
                    None
                } else if flushes.is_empty() {
                    rx.recv_timeout(linger_until.saturating_duration_since(Instant::now()))
                        .ok()
                } else {
                    // Someone waits for the commit: no lingering.
                    rx.try_recv().ok()
                };
            }
            if !batch.is_empty() {
                self.write(&batch);
                batch.clear();
            }
            for done in flushes.drain(..) {
                let _ = done.send(());
            }
        }
        debug!(file = %self.path.display(), "run history writer stopped");
    }

    /// Open the file afresh: a damaged one is set aside and replaced. The
    /// old connection may not notice damage itself (it trusts its WAL
    /// index), so readers' reports bring it here.
    fn reopen(&mut self) {
        match db::open(&self.path) {
            Ok(conn) => self.conn = conn,
            Err(e) => warn!(file = %self.path.display(), "run history unavailable: {e}"),
        }
    }

    /// One batch; on a corrupt database, set it aside, start a fresh one
    /// and write the batch there. Other errors lose this batch only.
    fn write(&mut self, batch: &[RunRecord]) {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let Err(e) = write_batch(&mut self.conn, batch, self.retention, now_ms) else {
            self.batches.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if !db::is_corruption(&e) {
            warn!(file = %self.path.display(), "run history: {} records not written: {e}", batch.len());
            return;
        }
        db::set_aside(&self.path, &e.to_string());
        match db::open(&self.path) {
            Ok(conn) => {
                self.conn = conn;
                match write_batch(&mut self.conn, batch, self.retention, now_ms) {
                    Ok(()) => {
                        self.batches.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        warn!(file = %self.path.display(), "run history: {} records not written: {e}", batch.len())
                    }
                }
            }
            Err(e) => warn!(file = %self.path.display(), "run history unavailable: {e}"),
        }
    }
}

/// Upsert every record, then prune the units they touched by count and
/// everything by age, in one transaction.
fn write_batch(
    conn: &mut Connection,
    batch: &[RunRecord],
    retention: RunRetention,
    now_ms: u64,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let mut touched = BTreeSet::new();
    {
        let mut upsert = tx.prepare(
            "INSERT INTO runs (id, project, unit, queued_ms, ended_ms, failed, record)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(id) DO UPDATE SET ended_ms = excluded.ended_ms,
                 failed = excluded.failed, record = excluded.record",
        )?;
        for run in batch {
            let json = serde_json::to_string(run)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            upsert.execute(params![
                run.id.as_str(),
                run.project.as_str(),
                run.unit.as_str(),
                run.queued_ms as i64,
                run.ended_ms.map(|t| t as i64),
                run.failed(),
                json,
            ])?;
            touched.insert((run.project.as_str(), run.unit.as_str()));
        }
        // Keep the newest `per_unit` runs of each unit; of the older ones,
        // drop those that ended (a run still going is never pruned).
        let mut prune = tx.prepare(
            "DELETE FROM runs WHERE project = ?1 AND unit = ?2 AND ended_ms IS NOT NULL
             AND seq <= (SELECT seq FROM runs WHERE project = ?1 AND unit = ?2
                         ORDER BY seq DESC LIMIT 1 OFFSET ?3)",
        )?;
        for (project, unit) in &touched {
            prune.execute(params![project, unit, retention.per_unit])?;
        }
        let horizon = now_ms.saturating_sub(retention.max_age.as_millis() as u64);
        tx.execute(
            "DELETE FROM runs WHERE ended_ms IS NOT NULL AND ended_ms < ?1",
            params![horizon as i64],
        )?;
    }
    tx.commit()
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
