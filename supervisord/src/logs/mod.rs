//! Per-unit logs: on disk, timestamped, stream-tagged, rotated and pruned
//! by a retention each unit may set (size, count, age), with bounded memory
//! whatever the child writes.

mod batch;
mod files;
mod pump;
mod read;
mod record;
mod retention;
mod snapshot;
mod store;
mod tail;

pub use pump::{DrainRequests, Drainer, PumpStats, drain_channel, pump, pump_pausable};
pub use record::{LogLine, Stream, format_timestamp, parse_record, parse_timestamp};
pub use retention::{LogRetention, Rotate};
pub use snapshot::LogSnapshot;
pub use store::{FollowEvent, LINE_SPLIT_MARKER, LogFollower, LogLimits, LogStore, UnitLog};
