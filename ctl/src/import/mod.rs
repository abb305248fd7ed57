//! `devctl import`: a `devctl.kdl` from a Procfile, a Compose file or a
//! process-compose.yaml. Each format has its translator; they all produce
//! a [`model::Draft`] that [`write`] turns into KDL.
//!
//! | module | role |
//! |---|---|
//! | [`run`] | the verb: detect, translate, check with the compiler, write |
//! | [`procfile`], [`compose`], [`process_compose`] | one translator per format |
//! | [`compose_settings`] | compose's environment, env files, ports and volumes |
//! | [`yaml`] | YAML parsed into a tree that keeps line numbers |
//! | [`model`], [`write`], [`paths`] | the draft, its KDL text, relative paths |
//! | [`error`] | why nothing was written |

pub mod compose;
pub mod compose_settings;
pub mod error;
pub mod model;
pub mod paths;
pub mod process_compose;
pub mod procfile;
pub mod run;
pub mod write;
pub mod yaml;

pub use error::ImportError;
