//! What the API needs beyond the core's operations ([`CoreApi`]): the
//! daemon's own facts and its life, the [`DaemonControl`] trait. The daemon
//! implements it over its phase (`daemon::control`); API tests with a fake.
//!
//! [`CoreApi`]: crate::core::handle::CoreApi

use std::future::Future;

use devctl_units::api::{ApiError, DaemonInfo, DashboardInfo};

/// The daemon-level routes: version, stop, re-exec and the web dashboard.
pub trait DaemonControl: Clone + Send + Sync + 'static {
    /// `GET /v1/version`.
    fn daemon_info(&self) -> DaemonInfo;
    /// `POST /v1/daemon/reexec`: accept (or refuse) replacing the daemon's
    /// image in place; the exec happens after the answer is sent.
    fn reexec_daemon(&self) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `POST /v1/daemon/stop`: stop every unit and end the session; returns
    /// once the units are stopped (the daemon exits right after).
    fn stop_daemon(&self) -> impl Future<Output = ()> + Send;
    /// `POST /v1/dashboard`: turn the web dashboard on (if it is not) and
    /// mint a one-time login URL.
    fn dashboard(&self) -> impl Future<Output = Result<DashboardInfo, ApiError>> + Send;
}
