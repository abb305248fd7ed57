//! Persistence of the daemon's desired state: per-project settings
//! (`project.json`), the session (`session.json`) and compiled unit files,
//! all written atomically; corrupt files are set aside.

pub mod atomic;
pub mod files;
pub mod store;
