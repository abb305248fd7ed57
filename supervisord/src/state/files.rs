//! The JSON shapes of the state files: `project.json` (what the user
//! decided about a project: manifest, boot flag, enablement overrides) and
//! `session.json` (what should be running right now, with the invocation id
//! of each unit's current process tree, so a restarted daemon can find and
//! kill what a crashed one left behind).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use devctl_units::{ProjectName, UnitName};

/// Schema version of both files; a different version is treated as corrupt.
pub const STATE_VERSION: u32 = 1;

/// `<state>/projects/<p>/project.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    pub version: u32,
    pub name: ProjectName,
    pub manifest: PathBuf,
    pub root: PathBuf,
    /// Come up whenever the daemon starts.
    pub boot: bool,
    /// `enable`/`disable` overrides of the manifest's default.
    pub overrides: BTreeMap<UnitName, bool>,
}

impl ProjectFile {
    /// A fresh project with no overrides.
    pub fn new(name: ProjectName, manifest: PathBuf, root: PathBuf) -> ProjectFile {
        ProjectFile {
            version: STATE_VERSION,
            name,
            manifest,
            root,
            boot: false,
            overrides: BTreeMap::new(),
        }
    }
}

/// One unit that should be running in the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionUnit {
    /// The `DEVCTL_INVOCATION_ID` of its current process tree, if any.
    pub invocation: Option<String>,
}

/// `<state>/session.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionFile {
    pub version: u32,
    pub session_id: String,
    pub started_at_ms: u64,
    /// Units that should run, per project.
    pub units: BTreeMap<ProjectName, BTreeMap<UnitName, SessionUnit>>,
    /// Invocations that may still have processes although their unit should
    /// not run (a stop in progress, a build); killed on recovery too.
    #[serde(default)]
    pub stray: Vec<String>,
}

impl SessionFile {
    /// An empty session.
    pub fn new(session_id: String, started_at_ms: u64) -> SessionFile {
        SessionFile {
            version: STATE_VERSION,
            session_id,
            started_at_ms,
            units: BTreeMap::new(),
            stray: Vec::new(),
        }
    }

    /// Every invocation id recorded, running or stray.
    pub fn invocations(&self) -> impl Iterator<Item = &str> {
        self.units
            .values()
            .flat_map(|m| m.values())
            .filter_map(|u| u.invocation.as_deref())
            .chain(self.stray.iter().map(String::as_str))
    }
}
