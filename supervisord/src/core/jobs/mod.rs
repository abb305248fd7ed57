//! The job engine's pure parts: each unit's [`job::Job`] and the merge
//! table, the advance step that decides which queued jobs go out, what a
//! dependency's change does to its dependents, the goals answers wait for
//! and the supersede table, and the parked answers
//! ([`waiters::Waiters`]). No channel, clock or I/O here: the manager
//! applies what these decide.

pub mod advance;
pub mod engine;
pub mod goal;
pub mod job;
pub mod propagate;
pub mod waiters;
