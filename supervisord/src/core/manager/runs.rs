//! The manager's side of the run history: what each report means for the
//! unit's run (`RunBook::observe`), the cause of the jobs a report lets go,
//! the run id in a status and in every event (`emit` publishes them all),
//! and what the core shares with its handle.

use std::sync::Arc;
use std::time::Instant;

use devctl_units::api::runs::RunTrigger;
use devctl_units::api::{Event, EventKind, UnitStatus};
use devctl_units::{ProjectName, UnitName};

use crate::core::actor::now_ms;
use crate::core::manager::Manager;
use crate::core::snapshot::Snapshot;
use crate::core::usage::UsageMonitor;
use crate::runs::RunStore;

/// What the core shares with its handle besides the command channel: the
/// run history to query and the live usage to sample.
#[derive(Clone)]
pub struct CoreShared {
    pub runs: Option<Arc<RunStore>>,
    pub usage: Arc<UsageMonitor>,
}

impl Manager {
    /// The handle's share of the run history and live usage.
    pub(crate) fn shared(&self) -> CoreShared {
        CoreShared {
            runs: self.runs.store().cloned(),
            usage: self.runs.usage().clone(),
        }
    }

    /// Publish one event, naming the unit's current run.
    pub(crate) fn emit(
        &mut self,
        project: Option<&ProjectName>,
        unit: Option<&UnitName>,
        kind: EventKind,
    ) {
        self.event_seq += 1;
        let run = match (project, unit) {
            (Some(p), Some(u)) => self.runs.current(p, u).cloned(),
            _ => None,
        };
        let ev = Event {
            seq: self.event_seq,
            time_ms: now_ms(),
            project: project.cloned(),
            unit: unit.cloned(),
            run,
            kind,
        };
        let _ = self.events.send(ev);
    }

    /// A reload restarts `unit` because its definition changed.
    pub(crate) fn note_definition_changed(&mut self, project: &ProjectName, unit: &UnitName) {
        self.runs
            .note_cause(project, unit, RunTrigger::DefinitionChanged);
    }

    /// A report of `unit` was mirrored (`old` before it, made at `at`):
    /// open, spawn, mark ready or end its run.
    pub(crate) fn observe_run(
        &mut self,
        project: &ProjectName,
        unit: &UnitName,
        old: &Snapshot,
        at: Instant,
    ) {
        let Some(p) = self.projects.get(project) else {
            return;
        };
        let Some(l) = p.units.get(unit) else {
            return;
        };
        let (kind, root, new) = (l.unit.kind, p.file.root.clone(), l.snap.clone());
        self.runs.observe(project, unit, kind, &root, old, &new, at);
    }

    /// Jobs a report of `by` let go (dependents waiting on it) with no
    /// cause of their own run because of it.
    pub(crate) fn note_released(
        &mut self,
        project: &ProjectName,
        by: &UnitName,
        released: &[UnitName],
    ) {
        for u in released {
            if !self.runs.has_cause(project, u) {
                self.runs
                    .note_cause(project, u, RunTrigger::Dependency { of: by.clone() });
            }
        }
    }

    /// `s` with its unit's current run.
    pub(crate) fn with_run(&self, mut s: UnitStatus) -> UnitStatus {
        s.run = self.runs.current(&s.project, &s.name).cloned();
        s
    }
}
