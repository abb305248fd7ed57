//! The run history as the manager writes it: [`RunBook`] turns what the
//! manager already sees (the causes of the jobs it accepts, the actors'
//! reports) into one [`RunRecord`] per invocation of a unit, recorded at
//! queue, spawn, ready and end through [`RunStore::record`], which never
//! blocks. Providers know nothing of it.
//!
//! A cause is noted before the command that carries it goes out (a verb
//! and where it came from, a file change, a dependency, boot); the next
//! run the unit's reports open takes it. A run opened by the restart policy
//! (the unit went to `backoff`) is a restart after the exit just seen.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tracing::warn;

use devctl_units::api::runs::{RunExit, RunId, RunQuery, RunRecord, RunResources, RunTrigger};
use devctl_units::api::{ExitInfo, Origin};
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{ProjectName, UnitKind, UnitName};

use crate::core::snapshot::Snapshot;
use crate::core::usage::UsageMonitor;
use crate::runs::{RunStore, head_commit, new_run_id};

/// A project root's commit is read again after this long (a start-all of
/// a thousand units reads it once).
const COMMIT_TTL: Duration = Duration::from_secs(2);

type Key = (ProjectName, UnitName);

/// A run in progress and what its end is compared with.
struct Open {
    rec: RunRecord,
    /// The unit's last exit when the run spawned: a different one at its
    /// end is this run's.
    exit_before: Option<ExitInfo>,
}

/// The manager's side of the run history.
pub struct RunBook {
    store: Option<Arc<RunStore>>,
    usage: Arc<UsageMonitor>,
    open: HashMap<Key, Open>,
    causes: HashMap<Key, RunTrigger>,
    /// Builds whose start was answered "up to date" (the end of their last
    /// success, in ms): their next settling is recorded as such a skip,
    /// whatever cause the verb noted.
    up_to_date: HashMap<Key, u64>,
    commits: HashMap<PathBuf, (Instant, Option<String>)>,
    /// Runs a previous image of the daemon left open, by invocation: a
    /// re-exec's adopted runs continue them.
    adoptable: HashMap<String, RunRecord>,
}

/// Microseconds since the epoch of an `Instant` in the past.
fn wall_us(at: Instant) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    now.saturating_sub(at.elapsed().as_micros() as u64)
}

impl RunBook {
    /// A run book writing to `store` (`None`: history is off; run ids and
    /// live usage still work).
    pub fn new(store: Option<Arc<RunStore>>, usage: Arc<UsageMonitor>) -> RunBook {
        RunBook {
            store,
            usage,
            open: HashMap::new(),
            causes: HashMap::new(),
            up_to_date: HashMap::new(),
            commits: HashMap::new(),
            adoptable: HashMap::new(),
        }
    }

    pub fn store(&self) -> Option<&Arc<RunStore>> {
        self.store.as_ref()
    }

    pub fn usage(&self) -> &Arc<UsageMonitor> {
        &self.usage
    }

    /// At daemon start: runs a previous daemon left open. After a crash
    /// they ended when it did (`now`), without a result; after a re-exec
    /// (`adopting`) the adopted ones go on.
    pub fn close_left_open(&mut self, adopting: bool) {
        let Some(store) = &self.store else { return };
        let mut q = RunQuery {
            limit: Some(crate::runs::MAX_LIMIT),
            ..RunQuery::default()
        };
        let now_ms = wall_us(Instant::now()) / 1000;
        loop {
            let page = match store.query(&q) {
                Ok(p) => p,
                Err(e) => {
                    warn!("run history: cannot read runs left open: {e}");
                    return;
                }
            };
            for mut rec in page.runs.into_iter().filter(|r| !r.is_finished()) {
                if adopting && let Some(inv) = rec.invocation.clone() {
                    self.adoptable.insert(inv, rec);
                    continue;
                }
                rec.ended_ms = Some(now_ms);
                rec.log.to_us = Some(now_ms * 1000);
                store.record(rec);
            }
            match page.next {
                Some(n) => q.before = Some(n),
                None => break,
            }
        }
    }

    /// The next run of `unit` happens because of `trigger` (replacing a
    /// cause noted before and not yet taken).
    pub fn note_cause(&mut self, project: &ProjectName, unit: &UnitName, trigger: RunTrigger) {
        let key = (project.clone(), unit.clone());
        // A run queued and not yet spawned takes the newer cause.
        if let Some(o) = self.open.get_mut(&key)
            && o.rec.spawned_ms.is_none()
        {
            o.rec.trigger = trigger;
            return;
        }
        self.causes.insert(key, trigger);
    }

    /// `unit`'s start is answered without running: its inputs are those of
    /// its last success, which ended at `since_ms`.
    pub fn note_up_to_date(&mut self, project: &ProjectName, unit: &UnitName, since_ms: u64) {
        self.up_to_date
            .insert((project.clone(), unit.clone()), since_ms);
    }

    /// Whether a cause is noted for `unit`'s next run.
    pub fn has_cause(&self, project: &ProjectName, unit: &UnitName) -> bool {
        self.causes.contains_key(&(project.clone(), unit.clone()))
    }

    /// A stop: a cause noted for a run that will not happen now is dropped.
    pub fn drop_cause(&mut self, project: &ProjectName, unit: &UnitName) {
        self.causes.remove(&(project.clone(), unit.clone()));
    }

    /// The current (or last open) run of `unit`.
    pub fn current(&self, project: &ProjectName, unit: &UnitName) -> Option<&RunId> {
        self.open
            .get(&(project.clone(), unit.clone()))
            .map(|o| &o.rec.id)
    }

    /// A unit is gone (removed from its project, or the project forgotten).
    pub fn forget_unit(&mut self, project: &ProjectName, unit: &UnitName) {
        let key = (project.clone(), unit.clone());
        self.causes.remove(&key);
        self.usage.forget(project, unit);
        if let Some(mut o) = self.open.remove(&key) {
            let now = wall_us(Instant::now());
            o.rec.ended_ms = Some(now / 1000);
            o.rec.log.to_us = Some(now);
            if o.rec.result.is_none() {
                o.rec.result = Some(UnitResult::Cancelled);
            }
            self.write(&o.rec);
        }
    }

    fn write(&self, rec: &RunRecord) {
        if let Some(s) = &self.store {
            s.record(rec.clone());
        }
    }

    fn commit(&mut self, root: &Path) -> Option<String> {
        if let Some((at, c)) = self.commits.get(root)
            && at.elapsed() < COMMIT_TTL
        {
            return c.clone();
        }
        let c = head_commit(root);
        self.commits
            .insert(root.to_owned(), (Instant::now(), c.clone()));
        c
    }

    /// What caused a run opening now with no noted cause.
    fn fallback_cause(new: &Snapshot) -> RunTrigger {
        match (new.origin, new.trigger.as_deref()) {
            (Some(Origin::Restarted), _) => RunTrigger::Recovered,
            (_, Some("definition changed")) => RunTrigger::DefinitionChanged,
            (_, Some(reason)) => RunTrigger::Other {
                reason: reason.to_owned(),
            },
            (_, None) => RunTrigger::Other {
                reason: "unknown".into(),
            },
        }
    }

    fn queue(
        &mut self,
        key: &Key,
        kind: UnitKind,
        root: &Path,
        trigger: RunTrigger,
        at_us: u64,
    ) -> Open {
        let mut rec = RunRecord::queued(
            new_run_id(),
            key.0.clone(),
            key.1.clone(),
            kind,
            trigger,
            at_us / 1000,
        );
        rec.log.from_us = at_us;
        rec.commit = self.commit(root);
        Open {
            rec,
            exit_before: None,
        }
    }

    /// One report of `unit` (`old` → `new`, made by its actor at `at`):
    /// end, open, spawn or mark ready its run.
    #[allow(clippy::too_many_arguments)]
    pub fn observe(
        &mut self,
        project: &ProjectName,
        unit: &UnitName,
        kind: UnitKind,
        root: &Path,
        old: &Snapshot,
        new: &Snapshot,
        at: Instant,
    ) {
        if !kind.is_runnable() {
            return;
        }
        let key = (project.clone(), unit.clone());
        let at_us = wall_us(at);
        // Entering backoff, or a retry from backoff failing again.
        let backoff_begins = new.sub == SubState::Backoff
            && (old.sub != SubState::Backoff || new.restarts != old.restarts);
        let settled =
            !new.is_up() || new.sub == SubState::Exited || new.active == ActiveState::Failed;
        // 1. The open run ends: its tree is gone or replaced, or the unit
        // settled (stopped, failed, finished, waiting to restart).
        let mut ended_here = false;
        let skipped = (new.sub == SubState::Exited && new.invocation.is_none())
            .then(|| self.up_to_date.remove(&key))
            .flatten()
            .map(|since_ms| RunTrigger::UpToDate { since_ms });
        if let Some(trigger) = &skipped
            && let Some(o) = self.open.get_mut(&key)
            && o.rec.invocation.is_none()
        {
            o.rec.trigger = trigger.clone();
        }
        if let Some(o) = self.open.get(&key) {
            let ends = match &o.rec.invocation {
                Some(inv) => {
                    new.invocation.as_deref() != Some(inv.as_str()) || settled || backoff_begins
                }
                None => settled || backoff_begins,
            };
            if ends {
                let o = self.open.remove(&key).expect("present");
                self.end(o, new, at_us);
                ended_here = true;
            }
        }
        // 2. A run that never spawned (port taken, dependency failed):
        // queued and ended at once.
        let failed_now = new.active == ActiveState::Failed && old.active != ActiveState::Failed;
        let spawned_now = new.invocation.is_some() && new.invocation != old.invocation;
        if !ended_here
            && !spawned_now
            && new.invocation.is_none()
            && !self.open.contains_key(&key)
            && (failed_now || backoff_begins || skipped.is_some())
        {
            let cause = self.causes.remove(&key);
            let trigger = skipped
                .clone()
                .or(cause)
                .unwrap_or_else(|| Self::fallback_cause(new));
            let o = self.queue(&key, kind, root, trigger, at_us);
            self.end(o, new, at_us);
        }
        // 3. The restart policy queued the next run.
        if backoff_begins && !self.open.contains_key(&key) {
            let after = new.last_exit.as_ref().map_or(
                RunExit {
                    code: None,
                    signal: None,
                },
                |e| RunExit {
                    code: e.code,
                    signal: e.signal,
                },
            );
            let backoff_ms = new
                .next_restart_ms
                .map_or(0, |t| t.saturating_sub(at_us / 1000));
            let o = self.queue(
                &key,
                kind,
                root,
                RunTrigger::Restart { after, backoff_ms },
                at_us,
            );
            self.write(&o.rec);
            self.open.insert(key.clone(), o);
        }
        // 4. Waiting for dependencies: queued.
        if new.sub == SubState::WaitingDeps && !self.open.contains_key(&key) {
            let trigger = self
                .causes
                .remove(&key)
                .unwrap_or_else(|| Self::fallback_cause(new));
            let o = self.queue(&key, kind, root, trigger, at_us);
            self.write(&o.rec);
            self.open.insert(key.clone(), o);
        }
        // 5. A process tree began.
        let adopted = !self.open.contains_key(&key)
            && new
                .invocation
                .as_ref()
                .is_some_and(|i| self.adoptable.contains_key(i));
        if spawned_now || adopted {
            let inv = new.invocation.clone().expect("spawned");
            let mut o = match self.open.remove(&key) {
                Some(o) => o,
                None => match self.adoptable.remove(&inv) {
                    Some(rec) => Open {
                        rec,
                        exit_before: new.last_exit.clone(),
                    },
                    None => {
                        let trigger = self
                            .causes
                            .remove(&key)
                            .unwrap_or_else(|| Self::fallback_cause(new));
                        self.queue(&key, kind, root, trigger, at_us)
                    }
                },
            };
            if o.rec.invocation.is_none() {
                o.rec.invocation = Some(inv.clone());
                o.rec.spawned_ms = Some(at_us / 1000);
                o.rec.log.from_us = o.rec.log.from_us.min(at_us);
                o.exit_before = new.last_exit.clone();
                // Whatever carries the invocation's marker is sampled; a
                // run whose processes are not the daemon's (an engine runs
                // them) shows none and is reported as such.
                self.usage.track(project, unit, &inv);
            }
            self.write(&o.rec);
            self.open.insert(key.clone(), o);
        }
        // 6. Ready.
        if let Some(o) = self.open.get_mut(&key)
            && o.rec.invocation.is_some()
            && o.rec.ready_ms.is_none()
            && new.active == ActiveState::Active
            && matches!(new.sub, SubState::Running | SubState::Ready)
        {
            o.rec.ready_ms = Some(at_us / 1000);
            let rec = o.rec.clone();
            self.write(&rec);
        }
    }

    /// Close `o` as of `new` (the unit's state once it ended).
    fn end(&mut self, mut o: Open, new: &Snapshot, at_us: u64) {
        let rec = &mut o.rec;
        rec.ended_ms = Some(at_us / 1000);
        rec.log.to_us = Some(at_us);
        let settled_result = new.sub == SubState::Backoff
            || new.sub == SubState::Exited
            || new.active == ActiveState::Failed
            || !new.is_up();
        rec.result = Some(if settled_result {
            new.result.unwrap_or(UnitResult::Success)
        } else {
            // Replaced by a restart: it was stopped.
            UnitResult::Success
        });
        if new.last_exit.is_some() && new.last_exit != o.exit_before && rec.invocation.is_some() {
            rec.exit = new.last_exit.as_ref().map(|e| RunExit {
                code: e.code,
                signal: e.signal,
            });
        }
        rec.resources = match &rec.invocation {
            Some(inv) => self.usage.finish(&rec.project, &rec.unit, inv),
            None => RunResources::NotReported,
        };
        self.write(rec);
    }
}

#[cfg(test)]
#[path = "runbook_tests.rs"]
mod tests;
