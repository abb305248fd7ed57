//! Helpers shared by devctl's tests (a dev-only crate: `supervisord`'s
//! tests and the end-to-end `tests` crate use it; nothing ships with it).
//!
//! - [`http`]: an HTTP/1.1 client for devctld's Unix socket, on std only,
//!   that can send well-formed requests and deliberately broken bytes alike.
//! - [`docker`]: the engine must answer (never skipped), the busybox test
//!   image, and guards that remove a project's containers.
//! - [`procs`]: find processes by an environment marker in `/proc`.
//! - [`net`]: a TCP port nothing listens on.
//! - [`wait`]: poll a condition with a ceiling in async tests.

pub mod docker;
pub mod http;
pub mod net;
pub mod procs;
pub mod wait;
