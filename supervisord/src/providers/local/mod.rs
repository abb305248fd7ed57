//! The local-process provider: services, daemons and builds run as
//! process trees of this machine.

pub mod kind;
pub mod provider;
pub mod recover;

pub use kind::Local;
pub use provider::LocalProvider;
