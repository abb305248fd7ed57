//! Run history: one record per invocation of a unit, kept in SQLite in the
//! state dir. The core writes records through [`RunStore::record`] (never
//! blocks: a writer thread batches them into transactions and applies the
//! retention), reads them back with [`RunStore::query`], stamps runs with
//! [`new_run_id`] and [`head_commit`], and derives "usually 30s" from them
//! with [`usual_duration`].

mod db;
mod eta;
mod git;
mod id;
mod store;

pub use db::{RunStoreError, SCHEMA_VERSION};
pub use eta::{Eta, RECENT_RUNS, eta, usual_duration};
pub use git::head_commit;
pub use id::{new_run_id, run_id_of_invocation};
pub use store::{RunRetention, RunStore};
