//! The HTTP/1.1 + JSON API on devctld's Unix socket: a thin adapter that
//! translates requests into calls on a [`Backend`] (the core's handle in the
//! daemon, a fake in tests). Routes and wire types: `devctl_units::api`;
//! documentation: `supervisord/openapi.yaml`.

mod backend;
mod error;
mod extract;
mod routes;
mod server;
mod stall;
mod stream;
#[cfg(test)]
mod testing;

pub use backend::{Backend, LogFeed, LogItem, LogQuery};
pub use error::{api_error, reply_error};
pub use routes::{ROUTES, router};
pub use server::{ServeError, ServerLimits, serve};
#[cfg(test)]
mod server_tests;
