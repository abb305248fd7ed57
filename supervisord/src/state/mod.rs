//! Persistence of the daemon's desired state: per-project settings
//! (`project.json`), the session (`session.json`), compiled unit files and
//! the inputs builds last succeeded on (`fingerprints.json`),
//! all written atomically; corrupt files are set aside.

pub mod atomic;
pub mod files;
pub mod fingerprints;
pub mod store;
