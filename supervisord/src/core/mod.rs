//! The daemon's core engine: the manager task, one actor per unit, the
//! pure job engine and policies, the provider boundary and the
//! [`handle::Supervisor`] handle. It names no provider: those live in
//! `crate::providers`.

pub mod actor;
pub mod env;
pub mod graph;
pub mod handle;
pub mod jobs;
pub mod logview;
pub mod manager;
pub mod notes;
pub mod options;
pub mod policy_deps;
pub mod policy_ready;
pub mod policy_restart;
pub mod project;
pub mod protocol;
pub mod provider;
pub mod reexec;
pub mod registry;
pub mod runbook;
pub mod runwatch;
pub mod schedules;
pub mod snapshot;
pub mod uptodate;
pub mod usage;
pub mod watching;

#[cfg(test)]
pub(crate) mod tests;
