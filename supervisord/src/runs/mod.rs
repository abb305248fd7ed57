//! Run history: one record per invocation of a unit, kept in SQLite in the
//! state dir. The core writes records through [`RunStore::record`] (never
//! blocks: a writer thread batches them into transactions and applies the
//! retention), reads them back with [`RunStore::query`], stamps runs with
//! [`new_run_id`] and [`head_commit`], and derives "usually 30s" from them
//! with [`usual_duration`].
//!
//! The core's part, per run: at queue time build [`RunRecord::queued`]
//! with [`new_run_id`], the trigger and [`head_commit`] of the project
//! root, and `record` it; `record` the whole record again on spawn (with
//! the invocation id, `spawned_ms`, `log.from_us`), on ready, and at the
//! end (result, exit, `ended_ms`, `log.to_us`, and the resources from
//! [`crate::process::TreeSampler::finish`], or `NotReported` for kinds
//! whose engine reports nothing).
//!
//! [`RunRecord::queued`]: devctl_units::api::runs::RunRecord::queued

mod db;
mod eta;
pub(crate) mod git;
mod id;
mod store;

pub use db::{RunStoreError, SCHEMA_VERSION};
pub use eta::{Eta, RECENT_RUNS, eta, usual_duration};
pub use git::head_commit;
pub use id::{new_run_id, run_id_of_invocation};
pub use store::{MAX_LIMIT, RunRetention, RunStore};
