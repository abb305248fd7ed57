//! devctld's session-bus interface (`org.devctl.Devctld1`): a thin adapter
//! over the core's [`crate::core::handle::Supervisor`] handle, for editor and
//! desktop integrations. See devctld(8), section D-BUS.

pub mod iface;
pub mod serve;

pub use iface::{BUS_NAME, INTERFACE, OBJECT_PATH};
pub use serve::{DbusError, DbusService, start};
