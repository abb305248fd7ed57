//! The SQLite file of run history: opening it (WAL, `synchronous=NORMAL`),
//! the schema and its migrations (`PRAGMA user_version`), and what happens
//! to a database that cannot be used: it is renamed aside like a corrupt
//! state file and a fresh one is started, so a bad file costs the history,
//! never the daemon.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};
use tracing::warn;

use crate::state::store::quarantine;

/// The schema this build writes: the number of migration steps.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Each step takes the schema from version `i` to `i + 1`. A database at an
/// older version is brought forward at open; one from a newer devctl is set
/// aside (its layout is unknown here). Steps are only ever appended.
const MIGRATIONS: &[&str] = &[
    // 1: one row per run. The record itself is JSON; the columns beside it
    // are what queries filter, order and prune on. `seq` orders runs by
    // when they were first recorded (queued).
    "CREATE TABLE runs (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        project TEXT NOT NULL,
        unit TEXT NOT NULL,
        queued_ms INTEGER NOT NULL,
        ended_ms INTEGER,
        failed INTEGER NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX runs_by_unit ON runs(project, unit, seq);
    CREATE INDEX runs_by_end ON runs(ended_ms);",
];

/// How long a statement waits for another connection's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What went wrong with the run history.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RunStoreError {
    #[error("cannot open the run history {}", path.display())]
    #[diagnostic(
        code(devctld::runs::open),
        help("check that the state directory is writable; devctld keeps running without history")
    )]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot start the run history's writer thread")]
    #[diagnostic(
        code(devctld::runs::writer),
        help("the system is out of threads or memory; devctld keeps running without history")
    )]
    Writer(#[source] std::io::Error),
    #[error("cannot read the run history {}", path.display())]
    #[diagnostic(
        code(devctld::runs::query),
        help("the daemon log says more; a damaged file is set aside at the next start")
    )]
    Query {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("run {id} in {} cannot be decoded", path.display())]
    #[diagnostic(
        code(devctld::runs::decode),
        help("the record was written by an incompatible devctl; it is pruned by retention")
    )]
    Decode {
        path: PathBuf,
        id: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Why [`open_checked`] failed.
enum OpenFailure {
    /// The file is not a usable run database: set it aside.
    Unusable(String),
    /// Something else (permissions, disk): leave the file alone.
    Other(rusqlite::Error),
}

impl From<rusqlite::Error> for OpenFailure {
    fn from(e: rusqlite::Error) -> OpenFailure {
        if is_corruption(&e) {
            OpenFailure::Unusable(e.to_string())
        } else {
            OpenFailure::Other(e)
        }
    }
}

/// True for the errors that mean the file's content is damaged or not a
/// database at all.
pub fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    )
}

/// A connection with this store's settings, nothing checked.
pub fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Open, check and migrate. `quick_check` reads every page once: run
/// history is small (retention bounds it), and a damaged page found now is
/// a set-aside file, not a failing write later.
fn open_checked(path: &Path) -> Result<Connection, OpenFailure> {
    let conn = connect(path)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        warn!(file = %path.display(), "run history is in {mode} journal mode, not WAL");
    }
    // With WAL, NORMAL loses at most the last transactions on power loss,
    // never consistency; a daemon crash loses nothing committed.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(OpenFailure::Unusable(format!("integrity check: {check}")));
    }
    migrate(&conn)?;
    Ok(conn)
}

/// Bring the schema to [`SCHEMA_VERSION`], one transaction per step.
fn migrate(conn: &Connection) -> Result<(), OpenFailure> {
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(OpenFailure::Unusable(format!(
            "schema version {version} is newer than this devctl's {SCHEMA_VERSION}"
        )));
    }
    for (from, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let to = from + 1;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {step}; PRAGMA user_version = {to}; COMMIT;"
        ))
        .map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            OpenFailure::from(e)
        })?;
    }
    Ok(())
}

/// Open the run database at `path`, creating it when missing. A file that
/// is not a usable run database (garbage, damaged pages, a newer schema)
/// is renamed to `<name>.corrupt-<unix-time>` with a warning, together with
/// its WAL, and a fresh database takes its place.
pub fn open(path: &Path) -> Result<Connection, RunStoreError> {
    let fail = |source| RunStoreError::Open {
        path: path.to_owned(),
        source,
    };
    match open_checked(path) {
        Ok(conn) => Ok(conn),
        Err(OpenFailure::Other(e)) => Err(fail(e)),
        Err(OpenFailure::Unusable(why)) => {
            set_aside(path, &why);
            match open_checked(path) {
                Ok(conn) => Ok(conn),
                Err(OpenFailure::Other(e)) => Err(fail(e)),
                // A fresh file cannot be unusable unless something keeps
                // writing garbage into it: report, do not loop.
                Err(OpenFailure::Unusable(why)) => Err(fail(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                    Some(why),
                ))),
            }
        }
    }
}

/// Rename the database and its WAL/shared-memory files aside.
pub fn set_aside(path: &Path, why: &str) {
    quarantine(path, why);
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let side = PathBuf::from(side);
        if side.exists() {
            quarantine(&side, why);
        }
    }
}
