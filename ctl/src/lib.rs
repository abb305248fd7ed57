//! The `devctl` command-line interface as a library: [`cli`] holds the clap
//! definitions; `run()` (added with the verbs) drives them.

pub mod cli;
