//! The providers: what runs a unit, one folder each (`local/`, `docker/`, `kubernetes/`),
//! each registered by one line in `registry.rs`. The core reaches them
//! only through the registry and the traits of `core::provider`.

#[cfg(feature = "docker")]
pub mod docker;
#[cfg(feature = "kubernetes")]
pub mod kubernetes;
pub mod local;
pub mod registry;

pub use registry::registered;
