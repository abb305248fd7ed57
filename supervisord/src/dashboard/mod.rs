//! The web dashboard: a TCP listener on 127.0.0.1 that serves a page of
//! hand-written HTML/CSS/JS (embedded in the binary) and, behind a token and
//! Host/Origin checks, a subset of the API's own routes plus a server-sent
//! event stream of the core's events. Off until `POST /v1/dashboard`
//! (`devctl dashboard`) or `DEVCTL_DASHBOARD_PORT` at daemon start turns it on.
//!
//! | file | holds |
//! |---|---|
//! | `server.rs` | the [`Dashboard`] handle: bind, token file, serve, close |
//! | `security.rs` | tokens, the one-time login, the Host/Origin/token gate |
//! | `pages.rs` | the embedded assets, the page, the SSE stream |
//! | `usage.rs` | CPU and memory of the units pages show, sampled while shown |
//! | `reload.rs` | reload: the project's devctl.kdl compiled and loaded as `devctl reload` does |
//! | `assets/` | the page itself |

mod pages;
mod reload;
mod security;
mod server;
mod usage;

pub use server::{DEFAULT_PORT, Dashboard, DashboardConfig, DashboardError, PORT_VAR};
