//! devctld as a systemd user service: the unit texts, the user manager's
//! D-Bus API (zbus) and the install/uninstall/status flows.

pub mod error;
pub mod install;
pub mod manager;
pub mod units;
