//! devctl's unit model and unit-file format.
//!
//! - [`model`]: the `Unit` type every crate shares (compiler output,
//!   supervisor input).
//! - [`name`], [`signal`]: validated names and signals.
//! - [`state`]: runtime states (load/active/sub/result/enablement).
//! - the unit-file format: [`escape`] (the one escaping function),
//!   [`file`](mod@file) (generic systemd syntax), [`convert`] (`Unit` ⇄ text, key
//!   table), [`duration`], [`error`] (`UnitFileError`).
//! - [`api`]: the daemon API's wire types; [`paths`]: where files live.
//! - [`schedule`]: cron patterns and intervals, next fire times.
//! - [`size`]: byte sizes (`16MiB`), read and written.

pub mod api;
pub mod model;
pub mod name;
pub mod paths;
pub mod schedule;
pub mod signal;
pub mod size;
pub mod state;

pub use model::*;
pub use name::{NameError, ProjectName, UnitName, validate_name};
pub use schedule::{Schedule, ScheduleError};
pub use signal::Signal;
pub mod convert;
pub mod duration;
pub mod error;
pub mod escape;
pub mod file;

pub use convert::{from_unit_file, to_unit_file};
pub use error::{ErrorKind, UnitFileError};
