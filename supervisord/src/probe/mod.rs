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
pub use notify::{NotifyMessage, NotifySocket, parse_notify};
pub use schedule::{FAST_START, ReadinessSchedule, next_delay};
pub use tracker::{ProbeState, ProbeTracker, ProbeTransition};
