//! Streams from a cluster for Kubernetes units: every pod's log with the
//! objects' events ([`PodLogs`]), and port-forwards that follow the ready
//! pods of a resource ([`PortForward`]). Independent of devctl's core types:
//! they speak kube's `Client` and plain strings.

mod events;
mod forward;
mod logs;
mod target;

pub use events::{EventMarker, ObjectRef};
pub use forward::{ForwardError, ForwardSpec, ForwardState, PortForward};
pub use logs::{LogRecord, LogsSpec, PodLogs};
pub use target::Target;
