//! File watching on the manager: a project's watcher (re)started when its
//! units change, and its `Changed` messages turned into triggers (auto
//! mode) or pending changes (manual mode, or auto mode paused after a
//! detected self-retrigger loop); the run windows kept from the units'
//! reports, and what `devctl trigger` resets.

use std::path::PathBuf;
use std::time::Instant;

use tracing::{debug, info, warn};

use devctl_units::api::EventKind;
use devctl_units::state::SubState;
use devctl_units::{ProjectName, TriggerMode, UnitName, WatchSpec};

use crate::core::jobs::engine::AutoTrigger;
use crate::core::manager::Manager;
use crate::core::protocol::ActorMsg;
use crate::core::snapshot::Snapshot;
use crate::core::watching::WatchHub;
use crate::watch::{
    Changed, ProjectWatcher, Verdict, WatchConfig, WatchMsg, WatchedUnit, guard::SETTLE_GRACE,
};

fn is_run_phase(s: &Snapshot) -> bool {
    matches!(s.sub, SubState::Building | SubState::Starting)
}

impl Manager {
    /// (Re)start a project's watcher after its units changed; a no-op
    /// when the watched set is the same.
    pub(crate) fn rewatch(&mut self, project: &ProjectName) {
        self.rearm_triggers(project);
        let Some(p) = self.projects.get(project) else {
            self.watch.forget(project);
            return;
        };
        let config: Vec<(UnitName, PathBuf, WatchSpec)> = p
            .units
            .values()
            .filter(|l| l.unit.kind.is_runnable() && !l.unit.watch.is_empty())
            .map(|l| {
                (
                    l.unit.name.clone(),
                    l.unit.root.clone(),
                    l.unit.watch.clone(),
                )
            })
            .collect();
        let root = p.file.root.clone();
        let tx = self.watch.tx.clone();
        let ignore_dirs = self.watch.ignore_dirs.clone();
        let barriers_in = self.watch.barriers_in.clone();
        let pw = self.watch.projects.entry(project.clone()).or_default();
        pw.units
            .retain(|n, _| config.iter().any(|(c, _, _)| c == n));
        for (n, _, _) in &config {
            pw.units.entry(n.clone()).or_default();
        }
        if config.is_empty() {
            self.watch.forget(project);
            return;
        }
        if pw.config == config && pw.watcher.is_some() {
            return;
        }
        pw.watcher = None;
        let units = config
            .iter()
            .map(|(name, root, spec)| WatchedUnit {
                name: name.clone(),
                root: root.clone(),
                spec: spec.clone(),
            })
            .collect();
        let mut cfg = WatchConfig::new(project.clone(), root, units);
        cfg.ignore_dirs = ignore_dirs;
        cfg.barriers_in = barriers_in;
        pw.config = config.clone();
        match ProjectWatcher::start(cfg, tx) {
            Ok(w) => {
                info!(%project, dirs = w.watched_dirs(), units = config.len(), "watching files");
                pw.watcher = Some(w);
            }
            Err(e) => {
                warn!(%project, "file watching unavailable: {e}");
                let text = watch_problem(&e);
                for (n, _, _) in &config {
                    self.marker(project, n, &text);
                }
            }
        }
    }

    fn marker(&self, project: &ProjectName, unit: &UnitName, text: &str) {
        if let Some(l) = self.projects.get(project).and_then(|p| p.units.get(unit)) {
            l.log.marker(text);
        }
    }

    /// A message from a project watcher.
    pub(crate) fn on_watch(&mut self, msg: WatchMsg) {
        match msg {
            WatchMsg::Degraded { project, error } => {
                let text = watch_problem(&error);
                let names: Vec<UnitName> = self
                    .watch
                    .projects
                    .get(&project)
                    .map(|p| p.config.iter().map(|(n, _, _)| n.clone()).collect())
                    .unwrap_or_default();
                for n in &names {
                    self.marker(&project, n, &text);
                }
            }
            WatchMsg::Changed(c) => self.on_changed(c),
            WatchMsg::Commit { project, commit } => self.on_commit(&project, &commit),
        }
    }

    fn on_changed(&mut self, c: Changed) {
        let Some(l) = self
            .projects
            .get(&c.project)
            .and_then(|p| p.units.get(&c.unit))
        else {
            return;
        };
        let manual = l.unit.watch.trigger == TriggerMode::Manual;
        let up = l.snap.is_up();
        let uw = self
            .watch
            .projects
            .entry(c.project.clone())
            .or_default()
            .units
            .entry(c.unit.clone())
            .or_default();
        if !manual && up && uw.window.began_after(c.last_event) {
            // Every change of the batch came before the current run began
            // (e.g. written by the build it waited for): the run has them.
            debug!(project = %c.project, unit = %c.unit, "changes older than the current run: no restart");
            return;
        }
        let verdict = if manual {
            Verdict::Paused
        } else {
            uw.guard
                .on_change(uw.window.covers(c.first_event, SETTLE_GRACE))
        };
        if verdict == Verdict::Run {
            uw.take_pending();
        } else {
            uw.record(&c);
        }
        let n = uw.pending_count;
        let what = c.describe();
        let unit = &c.unit;
        match verdict {
            Verdict::Run => {
                self.runs.note_cause(
                    &c.project,
                    unit,
                    devctl_units::api::runs::RunTrigger::FileChange {
                        paths: c.paths.clone(),
                    },
                );
                self.watch_trigger(&c.project, unit, format!("file change: {what}"))
            }
            Verdict::Paused => {
                let why = if manual { "" } else { "auto-trigger paused; " };
                let text = format!(
                    "changed: {what}; {why}changes pending: {n} files (run `devctl trigger {unit}`)"
                );
                self.marker(&c.project, unit, &text);
            }
            Verdict::Tripped => {
                let message = format!(
                    "re-triggers itself: its last runs each changed its own watched files ({what}); auto-trigger paused until `devctl trigger {unit}`"
                );
                warn!(project = %c.project, %unit, "{message}");
                if let Some(uw) = self
                    .watch
                    .projects
                    .get_mut(&c.project)
                    .and_then(|p| p.units.get_mut(unit))
                {
                    uw.paused_message = Some(message.clone());
                }
                self.send(&c.project, unit, |seq| ActorMsg::Note {
                    seq,
                    message,
                    drop_queued: true,
                });
            }
        }
    }

    /// Run a unit again because of `reason`, as `devctl trigger` does;
    /// a unit that is neither running nor meant to run is left alone.
    pub(crate) fn watch_trigger(&mut self, project: &ProjectName, unit: &UnitName, reason: String) {
        let Some(mut e) = self.engine(project) else {
            return;
        };
        let (what, fx) = e.auto_trigger(unit, &reason);
        if what != AutoTrigger::Ignored {
            info!(%project, %unit, "{reason}");
        }
        if what == AutoTrigger::Started {
            self.emit(Some(project), Some(unit), EventKind::Triggered { reason });
        }
        self.apply(project, fx);
    }

    /// Track when each watched unit's runs begin and settle, as of `at`
    /// (when the actor reported, not when the manager got to it: a run's
    /// processes may already have changed files by then).
    pub(crate) fn watch_observe(
        &mut self,
        project: &ProjectName,
        unit: &UnitName,
        old: &Snapshot,
        new: &Snapshot,
        at: Instant,
    ) {
        let Some(uw) = self
            .watch
            .projects
            .get_mut(project)
            .and_then(|p| p.units.get_mut(unit))
        else {
            return;
        };
        if new.invocation.is_some() && new.invocation != old.invocation {
            uw.window.begin(at);
        }
        if is_run_phase(old) && !is_run_phase(new) {
            uw.window.settle(at);
        }
    }
}

fn watch_problem(e: &crate::watch::WatchError) -> String {
    use miette::Diagnostic;
    match e.help() {
        Some(h) => format!("file watching incomplete: {e}; {h}"),
        None => format!("file watching incomplete: {e}"),
    }
}

/// `devctl trigger`: resume auto-triggering, clear pending changes and
/// say why the run happens.
pub(crate) fn manual_trigger(
    watch: &mut WatchHub,
    project: &ProjectName,
    unit: &UnitName,
) -> String {
    let n = watch
        .projects
        .get_mut(project)
        .and_then(|p| p.units.get_mut(unit))
        .map_or(0, |uw| {
            uw.guard.reset();
            uw.paused_message = None;
            uw.take_pending()
        });
    match n {
        0 => "manual trigger".into(),
        1 => "manual trigger (1 pending change)".into(),
        n => format!("manual trigger ({n} pending changes)"),
    }
}
