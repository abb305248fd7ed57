//! devctld, the devctl supervisor daemon, as a library.

pub mod api;
pub mod core;
pub mod daemon;
pub mod dashboard;
pub mod dbus;
pub mod logs;
pub mod probe;
pub mod process;
pub mod providers;
pub mod runs;
pub mod state;
pub mod watch;

pub use daemon::run;
