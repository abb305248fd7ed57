//! The `devctl` command-line interface as a library: [`cli`] holds the clap
//! definitions, [`opts`] the derived context, [`exit`] the exit codes.

pub mod cli;
pub mod client;
pub mod daemon;
pub mod error;
pub mod exit;
pub mod opts;
pub mod output;
