//! The HTTP/1.1 + JSON API on devctld's Unix socket: a thin adapter that
//! translates requests into calls on the core's [`CoreApi`] (the
//! `Supervisor` handle in the daemon, a fake in tests) and on the daemon's
//! [`DaemonControl`]. Routes and wire types: `devctl_units::api`;
//! documentation: `supervisord/openapi.yaml`.
//!
//! [`CoreApi`]: crate::core::handle::CoreApi

mod control;
mod error;
pub(crate) mod extract;
mod routes;
mod server;
mod stall;
pub(crate) mod stream;
#[cfg(test)]
pub(crate) mod testing;
mod version;

pub use control::DaemonControl;
pub use error::{api_error, reply_error};
pub use routes::{ROUTES, router};
pub(crate) use server::{Listen, accept_loop};
pub use server::{ServeError, ServerLimits, serve};
#[cfg(test)]
mod server_tests;
