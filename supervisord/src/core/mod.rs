//! The daemon's core engine: the manager task, one actor per unit, pure
//! policies, providers and the [`handle::Supervisor`] handle.

pub mod actor;
pub mod env;
pub mod graph;
pub mod handle;
pub mod jobs;
pub mod local;
pub mod logview;
pub mod manager;
pub mod notes;
pub mod policy_deps;
pub mod policy_ready;
pub mod policy_restart;
pub mod project;
pub mod provider;
pub mod reexec;
pub mod runwatch;
pub mod session;
pub mod snapshot;
pub mod waiters;
pub mod watching;

#[cfg(test)]
mod it_jobs;
#[cfg(test)]
mod it_kinds;
#[cfg(test)]
mod it_ready;
#[cfg(test)]
mod it_reexec;
#[cfg(test)]
mod it_session;
#[cfg(test)]
mod it_supersede;
#[cfg(test)]
pub mod testkit;
