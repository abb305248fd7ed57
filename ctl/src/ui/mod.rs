//! `devctl ui`: a full-screen terminal view of the units, live from the
//! daemon's event stream, with their logs and the actions of the CLI.
//!
//! | module | role |
//! |---|---|
//! | [`view`] | the view model: states, durations, results, summary, log lines as text + tone (no terminal library; shareable with a web view) |
//! | [`model`] | the UI state and its rules: keys in, effects out |
//! | [`logpane`] | the followed lines: merge by time, scroll, follow, regex search |
//! | [`render`] | drawing with ratatui |
//! | [`feed`] | the daemon side: event stream, lists, logs, jobs, enablement |
//! | [`terminal`] | raw mode, alternate screen and their restoration on every exit |
//! | [`run`] | the loop |

pub mod feed;
pub mod logpane;
pub mod model;
pub mod render;
pub mod run;
pub mod terminal;
pub mod view;

#[cfg(test)]
mod render_tests;

pub use run::run;
