//! devctld as a systemd user service: the unit texts, the user manager's
//! D-Bus API (zbus), the install/uninstall/status flows and `export
//! --install` of a project's units.

pub mod error;
pub mod export;
pub mod install;
pub mod manager;
pub mod units;
