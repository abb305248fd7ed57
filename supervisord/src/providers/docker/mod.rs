//! The Docker provider (cargo feature `docker`): every bollard type stays
//! in this folder; the core sees only its `Provider` implementation and
//! its registration ([`Docker`]).

pub mod build;
pub mod engine;
pub mod error;
pub mod kind;
pub mod labels;
pub mod provider;
pub mod recover;
pub mod spec;
pub mod watch;

pub use engine::Engine;
pub use error::DockerError;
pub use kind::Docker;
pub use provider::{ContainerProvider, effective_unit};
