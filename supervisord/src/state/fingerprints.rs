//! `fingerprints.json`, one per project beside its `project.json`: for
//! each build, the inputs it last succeeded on (see `watch::inputs`) and
//! when. A build whose current inputs hash the same is up to date. The
//! per-file stamps (size, mtime, inode) let the next check hash only the
//! files that changed. Losing the file only costs one re-run per build.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::state::files::STATE_VERSION;

/// One input file as last hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    pub size: u64,
    pub mtime_ns: i128,
    pub ino: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// When the content was hashed: a stat is trusted only for a file
    /// that was already older than a second then (a write in the same
    /// mtime tick as the hash could otherwise go unseen).
    pub hashed_ns: i128,
}

/// A build's inputs: one digest over its command, directory, environment,
/// globs and every matched file's content hash, plus the stamps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    pub digest: String,
    /// Path (relative to the project root, absolute for env files) → stamp.
    pub files: BTreeMap<String, FileStamp>,
}

/// The inputs of a successful run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Success {
    /// Shared: a check reads it on another thread without a copy.
    pub inputs: Arc<Inputs>,
    /// When that run ended (milliseconds since the epoch).
    pub at_ms: u64,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprints {
    pub version: u32,
    /// Unit name → its last success on declared inputs.
    pub units: BTreeMap<String, Success>,
}

impl Default for Fingerprints {
    fn default() -> Self {
        Fingerprints {
            version: STATE_VERSION,
            units: BTreeMap::new(),
        }
    }
}
