//! Probes: polled checks (exec, HTTP, TCP), event-driven readiness (log
//! lines, sd_notify), thresholds as a pure state machine, scheduling and the
//! shared listen watcher for prompt TCP/HTTP readiness.

mod check;
mod listen;
mod logmatch;
mod notify;
mod schedule;
mod tracker;

pub use check::{ProbeCtx, ProbeOutcome, check, check_seen};
pub use listen::{ListenWatcher, SCAN_FAST, listen_port};
pub use logmatch::LogMatcher;
pub use notify::{HOLD, NotifyMessage, NotifySocket, RunRoots, parse_notify};
pub use schedule::{
    DEFAULT_START_TIMEOUT, FAST_START, ReadinessSchedule, default_start_timeout, next_delay,
    set_default_start_timeout, start_timeout,
};
pub use tracker::{ProbeState, ProbeTracker, ProbeTransition};
