//! In-process integration tests of the core, out of the production
//! modules, one file per behaviour family. `manager_loop.rs` drives the
//! manager with fake actors (no processes); the others run real processes
//! through a [`kit::Kit`] (a `Supervisor` on a temporary state directory),
//! where every process a test causes carries the test's marker and each
//! test ends by proving none is left.

mod concurrent_jobs;
mod daemons_and_builds;
mod jobs_and_dependencies;
pub mod kit;
mod manager_loop;
mod readiness_and_liveness;
mod reexec_adoption;
mod sessions_and_enablement;
