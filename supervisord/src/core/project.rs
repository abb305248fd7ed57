//! The manager's per-project records: unit definitions and their files,
//! each runnable unit's actor mailbox, the mirrored [`Snapshot`] from its
//! last report, and its [`Job`] (queued start or stop, the stop in flight,
//! command sequence numbers). Owned and mutated only by the manager task.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use devctl_units::api::{RuntimeState, UnitStatus};
use devctl_units::state::{ActiveState, EnableState, LoadState, SubState};
use devctl_units::{Unit, UnitKind, UnitName};

use crate::core::graph;
use crate::core::jobs::engine::Slot;
use crate::core::jobs::job::Job;
use crate::core::jobs::waiters::Mirrors;
use crate::core::logview::record;
use crate::core::notes::Mailbox;
use crate::core::policy_deps::DepView;
use crate::core::snapshot::Snapshot;
use crate::logs::UnitLog;
use crate::state::files::ProjectFile;

/// One loaded unit.
#[derive(Debug)]
pub struct Loaded {
    pub unit: Arc<Unit>,
    pub file_name: String,
    /// A hash of the unit file's text (an unchanged load writes nothing);
    /// the text itself is on disk (`StateStore::unit_file`).
    pub text_hash: u64,
    pub log: UnitLog,
    /// `None` for groups and the project target.
    pub tx: Option<Mailbox>,
    pub snap: Snapshot,
    pub job: Job,
}

/// The hash [`Loaded::text_hash`] keeps.
pub fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// The unit a file defines: `project`'s loaded unit from the same file
/// when the text did not change (an `up` loads every file every time,
/// and parsing them all again was most of an unchanged load), else parsed.
pub fn parse_unit(
    project: Option<&Project>,
    file: &str,
    text: &str,
) -> Result<Unit, devctl_units::UnitFileError> {
    let hash = text_hash(text);
    let loaded = project.and_then(|p| {
        p.units
            .values()
            .find(|l| l.file_name == file && l.text_hash == hash)
    });
    match loaded {
        Some(l) => Ok((*l.unit).clone()),
        None => devctl_units::from_unit_file(file, text),
    }
}

impl Loaded {
    /// Every command sent has been handled.
    pub fn settled(&self) -> bool {
        self.job.settled(&self.snap)
    }

    /// The gate's view of this unit.
    pub fn dep_view(&self) -> DepView {
        Slot::dep_view(self)
    }
}

impl Slot for Loaded {
    fn unit(&self) -> &Arc<Unit> {
        &self.unit
    }

    fn snap(&self) -> &Snapshot {
        &self.snap
    }

    fn snap_mut(&mut self) -> &mut Snapshot {
        &mut self.snap
    }

    fn job(&self) -> &Job {
        &self.job
    }

    fn job_mut(&mut self) -> &mut Job {
        &mut self.job
    }

    fn has_actor(&self) -> bool {
        self.tx.is_some()
    }
}

/// A persisted unit file that no longer loads (edited by hand, written by
/// another version): shown with load state `error` until the project is
/// loaded again, never run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub file: String,
    pub kind: UnitKind,
    pub error: String,
}

impl Broken {
    /// The unit a file name stands for; its kind from `X-Devctl-Kind=`
    /// when that fits the suffix, else from the suffix. `None` when the
    /// file name is not a unit's.
    pub fn new(file: &str, text: &str, error: String) -> Option<(UnitName, Broken)> {
        let (stem, suffix) = file.rsplit_once('.')?;
        let name = UnitName::new(stem).ok()?;
        let declared = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("X-Devctl-Kind="))
            .and_then(|k| UnitKind::parse(k.trim()))
            .filter(|k| k.suffix() == suffix);
        // Else the first kind with that suffix (a `.service` is a service).
        let kind = declared.or_else(|| UnitKind::ALL.into_iter().find(|k| k.suffix() == suffix))?;
        let file = file.to_string();
        Some((name, Broken { file, kind, error }))
    }
}

impl Mirrors for BTreeMap<devctl_units::ProjectName, Project> {
    fn unit(
        &self,
        project: &devctl_units::ProjectName,
        unit: &UnitName,
    ) -> Option<(&Snapshot, &Job)> {
        let l = self.get(project)?.units.get(unit)?;
        Some((&l.snap, &l.job))
    }
}

/// One project.
#[derive(Debug)]
pub struct Project {
    pub file: ProjectFile,
    pub units: BTreeMap<UnitName, Loaded>,
    /// The session's desired set: units that should be running now.
    pub should_run: BTreeSet<UnitName>,
    /// Persisted unit files that failed to load at boot.
    pub broken: BTreeMap<UnitName, Broken>,
}

impl Project {
    /// Definitions only, for graph helpers.
    pub fn defs(&self) -> BTreeMap<UnitName, Arc<Unit>> {
        self.units
            .iter()
            .map(|(n, l)| (n.clone(), l.unit.clone()))
            .collect()
    }

    /// A unit's effective enablement.
    pub fn enabled(&self, name: &UnitName) -> bool {
        match self.file.overrides.get(name) {
            Some(v) => *v,
            None => self.units.get(name).is_some_and(|l| l.unit.enabled),
        }
    }

    /// Groups and the project target own no process: their state is
    /// derived from their runnable members (for the project target, the
    /// session's desired set). All active → active; any starting →
    /// activating; some active → active with a message counting them; none
    /// active but some failed → failed; otherwise inactive.
    fn target_state(&self, u: &Unit) -> (ActiveState, SubState, Option<String>) {
        let members: BTreeSet<UnitName> = if u.kind == UnitKind::Project {
            self.should_run.clone()
        } else {
            graph::expand_groups(&u.members, &self.defs())
        };
        let states: Vec<ActiveState> = members
            .iter()
            .filter_map(|m| self.units.get(m))
            .map(|l| l.snap.active)
            .collect();
        derive_target_state(&states)
    }

    /// The status of a unit whose file failed to load (`load: error`).
    pub fn broken_status(&self, name: &UnitName) -> Option<UnitStatus> {
        let b = self.broken.get(name)?;
        Some(UnitStatus {
            project: self.file.name.clone(),
            name: name.clone(),
            kind: b.kind,
            description: None,
            load: LoadState::Error,
            enabled: EnableState::Disabled,
            enabled_default: false,
            state: RuntimeState {
                message: Some(format!("{} does not load: {}", b.file, b.error)),
                ..RuntimeState::default()
            },
            restart_limit: 0,
            pending_changes: 0,
            next_run_ms: None,
            ports: Vec::new(),
            links: Vec::new(),
            deps: Vec::new(),
            log_tail: Vec::new(),
            run: None,
            usual_ms: None,
            recent_runs: Vec::new(),
            usage: None,
        })
    }

    /// The status of one unit; `tail` lines of log for the detail view.
    pub fn status(&self, name: &UnitName, tail: usize) -> Option<UnitStatus> {
        let l = self.units.get(name)?;
        let u = &l.unit;
        let s = &l.snap;
        let enabled = if !u.kind.is_runnable() {
            EnableState::Static
        } else if self.enabled(name) {
            EnableState::Enabled
        } else {
            EnableState::Disabled
        };
        let (active, sub, message) = if u.kind.is_runnable() {
            (s.active, s.sub, s.message.clone())
        } else {
            self.target_state(u)
        };
        Some(UnitStatus {
            project: self.file.name.clone(),
            name: name.clone(),
            kind: u.kind,
            description: u.description.clone(),
            load: LoadState::Loaded,
            enabled,
            enabled_default: u.enabled,
            state: RuntimeState {
                active,
                sub,
                message,
                ..s.state.clone()
            },
            restart_limit: u.restart.limit,
            pending_changes: 0,
            next_run_ms: None,
            ports: u.ports.clone(),
            links: u.links.clone(),
            deps: u.deps.clone(),
            log_tail: if tail > 0 {
                l.log
                    .tail(tail)
                    .iter()
                    .map(|line| record(&self.file.name, name, line))
                    .collect()
            } else {
                Vec::new()
            },
            run: None,
            usual_ms: None,
            recent_runs: Vec::new(),
            usage: None,
        })
    }
}

/// The pure rule behind [`Project::target_state`].
fn derive_target_state(states: &[ActiveState]) -> (ActiveState, SubState, Option<String>) {
    let total = states.len();
    let count = |want: ActiveState| states.iter().filter(|s| **s == want).count();
    let (active, activating, failed) = (
        count(ActiveState::Active),
        count(ActiveState::Activating),
        count(ActiveState::Failed),
    );
    if total > 0 && active == total {
        (ActiveState::Active, SubState::Running, None)
    } else if activating > 0 {
        (
            ActiveState::Activating,
            SubState::Starting,
            Some(format!("{active}/{total} units active")),
        )
    } else if active > 0 {
        let failed_note = if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        };
        (
            ActiveState::Active,
            SubState::Running,
            Some(format!("{active}/{total} units active{failed_note}")),
        )
    } else if failed > 0 {
        (
            ActiveState::Failed,
            SubState::Failed,
            Some(format!("{failed}/{total} units failed")),
        )
    } else {
        (ActiveState::Inactive, SubState::Dead, None)
    }
}

#[cfg(test)]
mod target_state_tests {
    use super::derive_target_state;
    use devctl_units::state::{ActiveState as A, SubState as S};

    #[test]
    fn derived_from_members() {
        let cases: &[(&[A], A, S, Option<&str>)] = &[
            (&[], A::Inactive, S::Dead, None),
            (&[A::Inactive, A::Inactive], A::Inactive, S::Dead, None),
            (&[A::Active, A::Active], A::Active, S::Running, None),
            (
                &[A::Active, A::Activating],
                A::Activating,
                S::Starting,
                Some("1/2 units active"),
            ),
            (
                &[A::Active, A::Inactive, A::Failed],
                A::Active,
                S::Running,
                Some("1/3 units active, 1 failed"),
            ),
            (
                &[A::Failed, A::Inactive],
                A::Failed,
                S::Failed,
                Some("1/2 units failed"),
            ),
        ];
        for (states, active, sub, msg) in cases {
            let (a, s, m) = derive_target_state(states);
            assert_eq!((a, s, m.as_deref()), (*active, *sub, *msg), "{states:?}");
        }
    }
}
