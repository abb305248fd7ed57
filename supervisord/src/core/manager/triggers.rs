//! Runs that start on their own: builds' schedules (armed in
//! [`Schedules`], fired when the manager's sleep until the earliest
//! deadline ends) and `on-commit` builds (a [`HeadWatcher`] per project).
//! The hub also holds the up-to-date gate's state (`uptodate.rs`), which
//! answers a build's start with its last success when its declared
//! inputs did not change.
//!
//! Scheduled and commit runs go the way of a file-change trigger
//! (`watch_trigger`): a build still running when its next run is due gets
//! one queued re-run after it, never a second process. They fire only for
//! units that are enabled and meant to run (`up`, `start`).

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tracing::{debug, info, warn};

use devctl_units::api::UnitStatus;
use devctl_units::api::runs::RunTrigger;
use devctl_units::{ProjectName, Schedule, UnitName};

use crate::core::manager::Manager;
use crate::core::manager::uptodate::InputGate;
use crate::core::schedules::Schedules;
use crate::watch::git_head::HeadWatcher;

/// The manager's trigger state.
#[derive(Debug, Default)]
pub(crate) struct TriggerHub {
    schedules: Schedules,
    heads: BTreeMap<ProjectName, HeadWatcher>,
    pub(crate) inputs: InputGate,
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

impl Manager {
    /// Make a project's schedules and HEAD watcher match its units (after
    /// a load, at boot); forget them when the project is gone.
    pub(crate) fn rearm_triggers(&mut self, project: &ProjectName) {
        let t = &mut self.triggers;
        let Some(p) = self.projects.get(project) else {
            t.schedules.forget(project);
            t.heads.remove(project);
            t.inputs.forget(project);
            return;
        };
        let scheduled: Vec<(UnitName, Schedule)> = p
            .units
            .values()
            .filter_map(|l| Some((l.unit.name.clone(), l.unit.schedule.clone()?)))
            .collect();
        t.schedules
            .sync(project, &scheduled, Timestamp::now(), &TimeZone::system());
        let on_commit: Vec<UnitName> = p
            .units
            .values()
            .filter(|l| l.unit.on_commit)
            .map(|l| l.unit.name.clone())
            .collect();
        if on_commit.is_empty() {
            t.heads.remove(project);
            return;
        }
        if t.heads.contains_key(project) {
            return;
        }
        let root = p.file.root.clone();
        let problem = match HeadWatcher::start(project.clone(), &root, self.watch.tx.clone()) {
            Ok(Some(w)) => {
                info!(%project, "following the repository's HEAD");
                t.heads.insert(project.clone(), w);
                return;
            }
            Ok(None) => format!(
                "on-commit: {} is not in a git repository; commits cannot trigger runs",
                root.display()
            ),
            Err(e) => format!("on-commit: cannot watch the repository: {e}"),
        };
        warn!(%project, "{problem}");
        for u in &on_commit {
            if let Some(l) = p.units.get(u) {
                l.log.marker(&problem);
            }
        }
    }

    /// When the earliest schedule fires (a millisecond late rather than
    /// early, so a wake-up always finds it due).
    pub(crate) fn schedule_deadline(&self) -> Option<tokio::time::Instant> {
        let at = self.triggers.schedules.deadline()?;
        let wait = (at.as_nanosecond() - Timestamp::now().as_nanosecond()).max(0);
        let wait = Duration::from_nanos(u64::try_from(wait).unwrap_or(u64::MAX));
        Some(tokio::time::Instant::now() + wait + Duration::from_millis(1))
    }

    fn wants_runs(&self, project: &ProjectName, unit: &UnitName) -> bool {
        self.projects
            .get(project)
            .is_some_and(|p| p.enabled(unit) && p.should_run.contains(unit))
    }

    /// Run the units whose schedule is due.
    pub(crate) fn on_schedules_due(&mut self) {
        let due = self
            .triggers
            .schedules
            .due(Timestamp::now(), &TimeZone::system());
        for (project, unit) in due {
            if !self.wants_runs(&project, &unit) {
                debug!(%project, %unit, "schedule due, unit disabled or not meant to run");
                continue;
            }
            let Some(s) = self.projects[&project].units[&unit].unit.schedule.as_ref() else {
                continue;
            };
            let reason = format!("schedule: {}", s.describe());
            self.runs.note_cause(&project, &unit, RunTrigger::Schedule);
            self.watch_trigger(&project, &unit, reason);
        }
    }

    /// The project repository's HEAD moved: run its `on-commit` builds.
    pub(crate) fn on_commit(&mut self, project: &ProjectName, commit: &str) {
        let Some(p) = self.projects.get(project) else {
            return;
        };
        let units: Vec<UnitName> = p
            .units
            .values()
            .filter(|l| l.unit.on_commit)
            .map(|l| l.unit.name.clone())
            .collect();
        for u in units {
            if self.wants_runs(project, &u) {
                let cause = RunTrigger::Commit {
                    commit: commit.to_string(),
                };
                self.runs.note_cause(project, &u, cause);
                self.watch_trigger(project, &u, format!("commit {}", short(commit)));
            }
        }
    }

    /// A unit's status with what the manager adds: pending file changes
    /// and the next scheduled run.
    pub(crate) fn annotate(&self, s: UnitStatus) -> UnitStatus {
        let mut s = self.watch.annotate(s);
        if self.wants_runs(&s.project, &s.name) {
            s.next_run_ms = self
                .triggers
                .schedules
                .next(&s.project, &s.name)
                .and_then(|t| u64::try_from(t.as_millisecond()).ok());
        }
        s
    }
}
