//! What the core starts with ([`CoreOptions`]), what it says about its
//! session once started ([`CoreInfo`]), and why it may fail to start
//! ([`CoreError`]).

use devctl_units::api::Hosting;
use devctl_units::paths::Paths;

use crate::state::store::StateError;

/// Everything the core needs to start.
#[derive(Debug, Clone)]
pub struct CoreOptions {
    pub paths: Paths,
    pub hosting: Hosting,
    /// Extra environment variables removed from every child's environment
    /// (on top of the daemon-only ones such as `NOTIFY_SOCKET`).
    pub strip_env: Vec<String>,
    /// Extra environment variables given to every child (tests use this to
    /// mark every process they cause).
    pub extra_env: Vec<(String, String)>,
    /// Capacity of the event broadcast channel; slow subscribers lag.
    pub event_capacity: usize,
    /// A delegated cgroup v2 directory under which each local run gets its
    /// own cgroup (devctld under systemd with `Delegate=yes`).
    pub cgroup: Option<crate::process::CgroupParent>,
    /// What a previous image of this process handed over (re-exec): the
    /// session continues with its runs adopted.
    pub reexec: Option<crate::core::reexec::CoreCarry>,
    /// Keep run history (`runs.db` in the state directory).
    pub history: bool,
    /// How much run history is kept.
    pub run_retention: crate::runs::RunRetention,
    /// How much log a unit keeps unless its `logs { }` says otherwise.
    pub log_retention: crate::logs::LogRetention,
}

impl CoreOptions {
    /// Options with defaults for everything but the paths and hosting.
    pub fn new(paths: Paths, hosting: Hosting) -> CoreOptions {
        CoreOptions {
            paths,
            hosting,
            strip_env: Vec::new(),
            extra_env: Vec::new(),
            event_capacity: 1024,
            cgroup: None,
            reexec: None,
            history: true,
            run_retention: crate::runs::RunRetention::default(),
            log_retention: crate::logs::LogRetention::default(),
        }
    }
}

/// Facts about this daemon process's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreInfo {
    /// Changes at each clean start; kept across a crash and restart.
    pub session_id: String,
    /// True when this process continued a crashed session.
    pub recovered: bool,
    /// True when this process continued its session after a re-exec.
    pub reexecuted: bool,
    pub started_at_ms: u64,
}

/// Fatal errors: the core cannot start at all.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CoreError {
    #[error("cannot prepare the state directory: {0}")]
    #[diagnostic(
        code(devctl::core::paths),
        help("check that the state directory is writable by you")
    )]
    Paths(#[from] devctl_units::paths::PathsError),
    #[error(transparent)]
    #[diagnostic(code(devctl::core::state))]
    State(#[from] StateError),
}
