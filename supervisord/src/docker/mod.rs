//! The Docker adapter: every bollard type stays in this module; the core
//! sees only its `Provider` implementation and plain recovery calls.

pub mod build;
pub mod engine;
pub mod error;
pub mod labels;
pub mod provider;
pub mod recover;
pub mod spec;
pub mod watch;

pub use engine::Engine;
pub use error::DockerError;
pub use provider::{ContainerProvider, effective_unit};
