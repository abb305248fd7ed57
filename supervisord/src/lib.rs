//! devctld, the devctl supervisor daemon, as a library.

pub mod api;
pub mod logs;
pub mod probe;
pub mod process;
