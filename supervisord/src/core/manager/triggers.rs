//! Runs that start on their own, and runs that need not start: builds'
//! schedules (armed in [`Schedules`], fired when the manager's sleep until
//! the earliest deadline ends), `on-commit` builds (a [`HeadWatcher`] per
//! project), and the up-to-date check that answers a build's start with
//! its last success when its declared inputs did not change (fingerprints
//! persisted per project in `fingerprints.json`).
//!
//! Scheduled and commit runs go the way of a file-change trigger
//! (`watch_trigger`): a build still running when its next run is due gets
//! one queued re-run after it, never a second process. They fire only for
//! units that are enabled and meant to run (`up`, `start`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tracing::{debug, info, warn};

use devctl_units::api::UnitStatus;
use devctl_units::api::runs::RunTrigger;
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{ProjectName, Schedule, UnitKind, UnitName};

use crate::core::manager::Manager;
use crate::core::protocol::ActorMsg;
use crate::core::schedules::Schedules;
use crate::core::snapshot::Snapshot;
use crate::state::fingerprints::{Fingerprints, Inputs, Success};
use crate::watch::git_head::HeadWatcher;
use crate::watch::inputs::fingerprint;

type Key = (ProjectName, UnitName);

/// The manager's trigger state.
#[derive(Debug, Default)]
pub(crate) struct TriggerHub {
    schedules: Schedules,
    heads: BTreeMap<ProjectName, HeadWatcher>,
    /// Each project's fingerprints file, loaded on first use.
    fingerprints: BTreeMap<ProjectName, Fingerprints>,
    /// The inputs a build's current run started on, recorded if it succeeds.
    running_on: BTreeMap<Key, Inputs>,
    /// Builds whose next start skips the up-to-date check (`--force`).
    forced: BTreeSet<Key>,
    /// Set while a forcing job is submitted: its starts sent at once run.
    pub(crate) force_all: bool,
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

fn local_time(ms: u64) -> String {
    let ts = Timestamp::from_millisecond(i64::try_from(ms).unwrap_or(i64::MAX))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    ts.to_zoned(TimeZone::system())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

impl Manager {
    /// Make a project's schedules and HEAD watcher match its units (after
    /// a load, at boot); forget them when the project is gone.
    pub(crate) fn rearm_triggers(&mut self, project: &ProjectName) {
        let t = &mut self.triggers;
        let Some(p) = self.projects.get(project) else {
            t.schedules.forget(project);
            t.heads.remove(project);
            t.fingerprints.remove(project);
            t.running_on.retain(|(p, _), _| p != project);
            t.forced.retain(|(p, _)| p != project);
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

    /// Builds with a start queued by a forcing job run even when up to date.
    pub(crate) fn force_queued(&mut self, project: &ProjectName) {
        let Some(p) = self.projects.get(project) else {
            return;
        };
        for (n, l) in &p.units {
            if l.unit.kind == UnitKind::Build && l.job.start_queued() {
                self.triggers.forced.insert((project.clone(), n.clone()));
            }
        }
    }

    /// Look at a message on its way to a build: a start on inputs the
    /// build already succeeded on becomes [`ActorMsg::UpToDate`]; any run
    /// (start, restart, trigger) notes the inputs it runs on.
    pub(crate) fn gate_inputs(
        &mut self,
        project: &ProjectName,
        unit: &UnitName,
        msg: ActorMsg,
    ) -> ActorMsg {
        let Some(l) = self.projects.get(project).and_then(|p| p.units.get(unit)) else {
            return msg;
        };
        let runs = matches!(
            msg,
            ActorMsg::Start { .. } | ActorMsg::Restart { .. } | ActorMsg::Trigger { .. }
        );
        if l.unit.kind != UnitKind::Build || l.unit.always_run || !runs {
            return msg;
        }
        let key = (project.clone(), unit.clone());
        let forced = self.triggers.forced.remove(&key) || self.triggers.force_all;
        let t = &mut self.triggers;
        let file = t
            .fingerprints
            .entry(project.clone())
            .or_insert_with(|| self.store.load_fingerprints(project));
        let last = file.units.get(unit.as_str());
        let Some(inputs) = fingerprint(&l.unit, &self.watch.ignore_dirs, last.map(|s| &s.inputs))
        else {
            t.running_on.remove(&key);
            return msg;
        };
        if let ActorMsg::Start {
            seq,
            origin,
            ref trigger,
            ..
        } = msg
            && !forced
            && let Some(last) = last.filter(|s| s.inputs.digest == inputs.digest)
        {
            t.running_on.remove(&key);
            debug!(%project, %unit, "up to date");
            self.runs.note_up_to_date(project, unit, last.at_ms);
            let msg = ActorMsg::UpToDate {
                seq,
                origin,
                trigger: trigger.clone(),
                message: format!("up to date since {}", local_time(last.at_ms)),
            };
            // Files hashed again (too fresh to trust their stat last time)
            // are settled now: keep their new stamps so the next check
            // only stats them.
            if last.inputs.files != inputs.files {
                let at_ms = last.at_ms;
                file.units
                    .insert(unit.to_string(), Success { inputs, at_ms });
                if let Err(e) = self.store.save_fingerprints(project, file) {
                    warn!(%project, %unit, "build inputs not persisted: {e}");
                }
            }
            return msg;
        }
        t.running_on.insert(key, inputs);
        msg
    }

    /// Record a build's inputs when its run succeeds; forget them when it
    /// fails (the next start runs it).
    pub(crate) fn inputs_observe(
        &mut self,
        project: &ProjectName,
        unit: &UnitName,
        old: &Snapshot,
        new: &Snapshot,
    ) {
        let key = (project.clone(), unit.clone());
        let t = &mut self.triggers;
        let ended = old.sub == SubState::Building && new.sub != SubState::Building;
        if !ended && new.active != ActiveState::Failed {
            return;
        }
        let succeeded = new.sub == SubState::Exited && new.result == Some(UnitResult::Success);
        let Some(file) = t.fingerprints.get_mut(project) else {
            return;
        };
        let changed = match (succeeded, t.running_on.remove(&key)) {
            (true, Some(inputs)) => {
                let at_ms = u64::try_from(Timestamp::now().as_millisecond()).unwrap_or(0);
                file.units
                    .insert(unit.to_string(), Success { inputs, at_ms });
                true
            }
            (true, None) => false,
            (false, _) => file.units.remove(unit.as_str()).is_some(),
        };
        if changed && let Err(e) = self.store.save_fingerprints(project, file) {
            warn!(%project, %unit, "build inputs not persisted: {e}");
        }
    }
}
