//! The job engine's pure parts: each unit's [`job::Job`] and the merge
//! table, the advance step that decides which queued jobs go out, what a
//! dependency's change does to its dependents, the goals answers wait for
//! and the supersede table, and the parked answers
//! ([`waiters::Waiters`]); [`engine::Engine`] strings them into
//! transitions (`submit`, `on_report`) that return
//! [`engine::Effects`]. No channel, clock or I/O here: the manager
//! applies the effects.

pub mod advance;
pub mod engine;
#[cfg(test)]
mod engine_tests;
pub mod goal;
pub mod job;
pub mod propagate;
pub mod waiters;
