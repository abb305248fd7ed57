//! The up-to-date gate on the manager: a message that runs a build with
//! declared inputs (start, restart, trigger) is held back while the
//! build's inputs are fingerprinted on another thread (`pool.rs`), so the turn
//! that sent it stays short and the checks of many builds overlap with
//! each other and with the rest of `up`. The result comes back as a
//! [`Checked`] message; the manager then sends the start, or
//! [`ActorMsg::UpToDate`] when a start finds the inputs of the build's
//! last success (the rules: `core/uptodate.rs`). Successes are recorded
//! per project in `fingerprints.json`.
//!
//! A held message is already numbered, so the build counts as pending
//! (dependents wait, answers stay parked) until it goes out. Any newer
//! message for the unit releases it first, checked on the spot, so the
//! actor sees its commands in order and the late result is dropped; a
//! result for an actor that was replaced meanwhile is dropped too.
//!
//! What checks can share is kept here between them: each definition's
//! compiled globs and declared-settings digest, each root's ignore list
//! (reused while its files' stats stay the same), and each build's last
//! walk with the watch epoch it began at. While the project's file watch
//! vouches that nothing changed since (`watch/vouch.rs`), a check reuses
//! that walk instead of stat'ing every input again; otherwise it walks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::sync::mpsc;
use tracing::{debug, warn};

use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{ProjectName, Unit, UnitKind, UnitName};

use crate::core::manager::Manager;
use crate::core::manager::pool::Pool;
use crate::core::notes::Mail;
use crate::core::protocol::ActorMsg;
use crate::core::snapshot::Snapshot;
use crate::core::uptodate::{Holds, Verdict, verdict};
use crate::state::fingerprints::{Fingerprints, Inputs, Success};
use crate::watch::inputs::{Declared, Ignores};
use crate::watch::vouch::{BARRIER_WAIT, Vouch};

type Key = (ProjectName, UnitName);

/// Runs a check somewhere other than the manager task (the pool's
/// threads; tests may hold checks back to stage races).
pub(crate) type Runner = Arc<dyn Fn(Box<dyn FnOnce() + Send>) + Send + Sync>;

/// A check's result, for the manager.
#[derive(Debug)]
pub(crate) struct Checked {
    key: Key,
    token: u64,
    out: CheckOut,
    took: Duration,
}

/// One check, on whichever thread runs it: the build's definition and
/// what the manager kept from earlier checks.
struct Check {
    unit: Arc<Unit>,
    declared: Option<Arc<Declared>>,
    ignores: Option<Arc<Ignores>>,
    ignore_dirs: Arc<[PathBuf]>,
    previous: Option<Arc<Inputs>>,
    /// The project's watch, and its barrier count when the check was asked for.
    vouch: Option<(Arc<Vouch>, u64)>,
    /// The build's last walk under that watch: its epoch and inputs.
    walked: Option<(u64, Arc<Inputs>)>,
}

/// What a check found, and what it prepared that later checks may reuse.
#[derive(Debug)]
struct CheckOut {
    /// The inputs now: `previous` itself when nothing differs, so the
    /// manager compares pointers instead of every file's stamp.
    inputs: Option<Arc<Inputs>>,
    /// Built by this check (none was kept for this definition).
    declared: Option<Arc<Declared>>,
    /// Read by this check (the kept list was stale or missing).
    ignores: Option<Arc<Ignores>>,
    /// The watch that covers `inputs`, and the epoch they hold from.
    epoch: Option<(Weak<Vouch>, u64)>,
}

/// A build's last walk, for checks that the watch vouches for.
struct Walked {
    vouch: Weak<Vouch>,
    unit: Arc<Unit>,
    epoch: u64,
    inputs: Arc<Inputs>,
}

impl Check {
    fn run(self) -> CheckOut {
        let (declared, built) = match self.declared {
            Some(d) => (d, false),
            None => match Declared::new(&self.unit) {
                Some(d) => (Arc::new(d), true),
                None => {
                    return CheckOut {
                        inputs: None,
                        declared: None,
                        ignores: None,
                        epoch: None,
                    };
                }
            },
        };
        let root = declared.root();
        let (ignores, read) = match self.ignores.filter(|i| i.still_current(root)) {
            Some(i) => (i, false),
            None => (Arc::new(Ignores::load(root, &self.ignore_dirs)), true),
        };
        // Same ignore list, and no change seen since the last walk began
        // (after a barrier, so none still on its way): that walk holds.
        if let (Some((vouch, ticket)), Some((epoch, inputs)), false) =
            (&self.vouch, &self.walked, read)
            && vouch.settled(*ticket, BARRIER_WAIT) == Some(*epoch)
        {
            debug!(unit = %self.unit.name, "inputs as last walked: the file watch saw no change");
            return CheckOut {
                inputs: Some(Arc::clone(inputs)),
                declared: built.then_some(declared),
                ignores: None,
                epoch: Some((Arc::downgrade(vouch), *epoch)),
            };
        }
        // Read before the walk: a change during it moves the epoch past this.
        let epoch = self.vouch.as_ref().and_then(|(v, _)| Some((v, v.epoch()?)));
        let (now, covered) = declared.fingerprint_covered(&ignores, self.previous.as_deref());
        let epoch = epoch
            .filter(|(v, _)| v.covers(&covered))
            .map(|(v, e)| (Arc::downgrade(v), e));
        let inputs = match self.previous {
            Some(p) if *p == now => p,
            _ => Arc::new(now),
        };
        CheckOut {
            inputs: Some(inputs),
            declared: built.then_some(declared),
            ignores: read.then_some(ignores),
            epoch,
        }
    }
}

/// A run message waiting for its check.
struct Held {
    msg: ActorMsg,
    /// The definition checked: the one the actor runs this message with.
    unit: Arc<Unit>,
    forced: bool,
    /// The actor it is for (a replaced actor's successor must not get it).
    actor: mpsc::WeakUnboundedSender<Box<Mail>>,
    since: Instant,
}

/// The gate's state.
pub(crate) struct InputGate {
    /// Each project's fingerprints file, loaded on first use.
    fingerprints: BTreeMap<ProjectName, Fingerprints>,
    /// The inputs a build's current run started on, recorded if it succeeds.
    running_on: BTreeMap<Key, Arc<Inputs>>,
    /// Builds whose next start skips the up-to-date check (`--force`).
    forced: BTreeSet<Key>,
    /// Set while a forcing job is submitted: its starts sent at once run.
    pub(crate) force_all: bool,
    /// Each build's prepared definition, kept while it is the same `Arc`.
    declared: BTreeMap<Key, (Arc<Unit>, Arc<Declared>)>,
    /// Ignore lists by root.
    ignores: BTreeMap<PathBuf, Arc<Ignores>>,
    /// Each build's last walk that its project's watch covered.
    walked: BTreeMap<Key, Walked>,
    holds: Holds<Held>,
    tx: mpsc::UnboundedSender<Checked>,
    rx: Option<mpsc::UnboundedReceiver<Checked>>,
    pub(crate) runner: Runner,
}

impl std::fmt::Debug for InputGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputGate")
            .field("projects", &self.fingerprints.len())
            .field("running_on", &self.running_on.len())
            .finish_non_exhaustive()
    }
}

impl Default for InputGate {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        InputGate {
            fingerprints: BTreeMap::new(),
            running_on: BTreeMap::new(),
            forced: BTreeSet::new(),
            force_all: false,
            declared: BTreeMap::new(),
            ignores: BTreeMap::new(),
            walked: BTreeMap::new(),
            holds: Holds::default(),
            tx,
            rx: Some(rx),
            runner: {
                let pool = Pool::per_core();
                Arc::new(move |check| pool.run(check))
            },
        }
    }
}

impl InputGate {
    /// The results' receiver, for the manager loop (taken once).
    pub(crate) fn take_rx(&mut self) -> mpsc::UnboundedReceiver<Checked> {
        self.rx.take().expect("the manager loop runs once")
    }

    /// Forget a project that is gone (its held messages, if any, are
    /// dropped when their results find no unit).
    pub(crate) fn forget(&mut self, project: &ProjectName) {
        self.fingerprints.remove(project);
        self.running_on.retain(|(p, _), _| p != project);
        self.forced.retain(|(p, _)| p != project);
        self.declared.retain(|(p, _), _| p != project);
        self.walked.retain(|(p, _), _| p != project);
    }
}

fn local_time(ms: u64) -> String {
    let ts = Timestamp::from_millisecond(i64::try_from(ms).unwrap_or(i64::MAX))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    ts.to_zoned(TimeZone::system())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

impl Manager {
    /// Send `msg` to a unit's actor, after any message held for it; a
    /// run message to a build with declared inputs is held for its check.
    pub(crate) fn deliver(&mut self, project: &ProjectName, unit: &UnitName, msg: ActorMsg) {
        self.release_held(project, unit);
        let Some(l) = self.projects.get(project).and_then(|p| p.units.get(unit)) else {
            return;
        };
        let Some(tx) = l.tx.as_ref() else { return };
        let runs = matches!(
            msg,
            ActorMsg::Start { .. } | ActorMsg::Restart { .. } | ActorMsg::Trigger { .. }
        );
        if l.unit.kind != UnitKind::Build || l.unit.always_run || !runs {
            let _ = tx.send(msg);
            return;
        }
        let key = (project.clone(), unit.clone());
        let gate = &mut self.triggers.inputs;
        let forced = gate.forced.remove(&key) || gate.force_all;
        if l.unit.watch.is_empty() {
            // No declared inputs: it always runs and nothing is recorded.
            gate.running_on.remove(&key);
            let _ = tx.send(msg);
            return;
        }
        let held = Held {
            msg,
            unit: l.unit.clone(),
            forced,
            actor: tx.downgrade(),
            since: Instant::now(),
        };
        let check = self.check_for(&key, &held.unit);
        let gate = &mut self.triggers.inputs;
        let token = gate.holds.hold(key.clone(), held);
        let results = gate.tx.clone();
        (gate.runner)(Box::new(move || {
            let t0 = Instant::now();
            let out = check.run();
            let took = t0.elapsed();
            let _ = results.send(Checked {
                key,
                token,
                out,
                took,
            });
        }));
    }

    /// A check of the build `key` defined as `def`, with what earlier
    /// checks prepared.
    fn check_for(&mut self, key: &Key, def: &Arc<Unit>) -> Check {
        let previous = self.last_success(&key.0, &key.1).map(|s| s.inputs);
        let vouch = self
            .watch
            .projects
            .get(&key.0)
            .and_then(|p| p.watcher.as_ref())
            .map(|w| Arc::clone(w.vouch()));
        let gate = &self.triggers.inputs;
        let walked = gate
            .walked
            .get(key)
            .filter(|w| {
                Arc::ptr_eq(&w.unit, def)
                    && vouch
                        .as_ref()
                        .is_some_and(|v| Weak::ptr_eq(&w.vouch, &Arc::downgrade(v)))
            })
            .map(|w| (w.epoch, Arc::clone(&w.inputs)));
        Check {
            unit: def.clone(),
            declared: gate
                .declared
                .get(key)
                .filter(|(u, _)| Arc::ptr_eq(u, def))
                .map(|(_, d)| d.clone()),
            ignores: gate.ignores.get(&def.root).cloned(),
            ignore_dirs: self.watch.ignore_dirs.as_slice().into(),
            previous,
            vouch: vouch.map(|v| {
                let ticket = v.ticket();
                (v, ticket)
            }),
            walked,
        }
    }

    /// Keep what a check prepared for the next ones.
    fn keep_prepared(&mut self, key: &Key, def: &Arc<Unit>, out: &mut CheckOut) {
        let gate = &mut self.triggers.inputs;
        if let Some(d) = out.declared.take() {
            gate.declared.insert(key.clone(), (def.clone(), d));
        }
        if let Some(i) = out.ignores.take() {
            gate.ignores.insert(def.root.clone(), i);
        }
        match (out.epoch.take(), &out.inputs) {
            (Some((vouch, epoch)), Some(inputs)) => {
                let walked = Walked {
                    vouch,
                    unit: def.clone(),
                    epoch,
                    inputs: Arc::clone(inputs),
                };
                gate.walked.insert(key.clone(), walked);
            }
            _ => {
                gate.walked.remove(key);
            }
        }
    }

    /// A check ended: send the message it was for, decided, unless it
    /// was released meanwhile.
    pub(crate) fn on_inputs_checked(&mut self, c: Checked) {
        let Checked {
            key,
            token,
            mut out,
            took,
        } = c;
        let (project, unit) = &key;
        let Some(held) = self.triggers.inputs.holds.answer(&key, token) else {
            debug!(%project, %unit, "stale input check dropped: its message went out already");
            return;
        };
        debug!(
            %project, %unit,
            check_us = took.as_micros() as u64,
            held_us = held.since.elapsed().as_micros() as u64,
            "inputs checked"
        );
        self.keep_prepared(&key, &held.unit, &mut out);
        self.send_checked(key, held, out.inputs);
    }

    /// A newer message for the unit is going out: its held message goes
    /// first, checked here and now.
    pub(crate) fn release_held(&mut self, project: &ProjectName, unit: &UnitName) {
        // Checked on every message to an actor: no key is built while nothing is held.
        if self.triggers.inputs.holds.is_empty() {
            return;
        }
        let key = (project.clone(), unit.clone());
        let Some(held) = self.triggers.inputs.holds.release(&key) else {
            return;
        };
        debug!(%project, %unit, "inputs checked in the manager task: a newer message follows");
        self.check_now(key, held);
    }

    /// Send every held message now (before a re-exec freezes the actors).
    pub(crate) fn release_all_held(&mut self) {
        for (key, held) in self.triggers.inputs.holds.drain() {
            self.check_now(key, held);
        }
    }

    fn check_now(&mut self, key: Key, held: Held) {
        let mut check = self.check_for(&key, &held.unit);
        // On the manager's task: never wait for a barrier here.
        check.walked = None;
        let mut out = check.run();
        self.keep_prepared(&key, &held.unit, &mut out);
        self.send_checked(key, held, out.inputs);
    }

    /// The build's last success (cheap: its inputs are shared).
    fn last_success(&mut self, project: &ProjectName, unit: &UnitName) -> Option<Success> {
        let store = &self.store;
        self.triggers
            .inputs
            .fingerprints
            .entry(project.clone())
            .or_insert_with(|| store.load_fingerprints(project))
            .units
            .get(unit.as_str())
            .cloned()
    }

    /// Decide a checked message and send it to its actor, if that actor
    /// is still the unit's.
    fn send_checked(&mut self, key: Key, held: Held, inputs: Option<Arc<Inputs>>) {
        let (project, unit) = &key;
        let current = self
            .projects
            .get(project)
            .and_then(|p| p.units.get(unit))
            .and_then(|l| l.tx.as_ref())
            .is_some_and(|tx| tx.is(&held.actor));
        if !current {
            debug!(%project, %unit, "input check dropped: the unit's actor is gone");
            return;
        }
        let last = self.last_success(project, unit);
        let is_start = matches!(held.msg, ActorMsg::Start { .. });
        let msg = match verdict(is_start, held.forced, last.as_ref(), inputs) {
            Verdict::Run(on) => {
                let gate = &mut self.triggers.inputs;
                match on {
                    Some(inputs) => gate.running_on.insert(key.clone(), inputs),
                    None => gate.running_on.remove(&key),
                };
                held.msg
            }
            Verdict::UpToDate { since_ms, settled } => {
                self.triggers.inputs.running_on.remove(&key);
                debug!(%project, %unit, "up to date");
                self.runs.note_up_to_date(project, unit, since_ms);
                if let Some(inputs) = settled {
                    self.record_success(project, unit, Some((inputs, since_ms)));
                }
                let ActorMsg::Start {
                    seq,
                    origin,
                    trigger,
                    ..
                } = held.msg
                else {
                    unreachable!("only a start is ever up to date");
                };
                ActorMsg::UpToDate {
                    seq,
                    origin,
                    trigger,
                    message: format!("up to date since {}", local_time(since_ms)),
                }
            }
        };
        if let Some(tx) = self
            .projects
            .get(project)
            .and_then(|p| p.units.get(unit))
            .and_then(|l| l.tx.as_ref())
        {
            let _ = tx.send(msg);
        }
    }

    /// Keep (or with `None`, forget) a build's last success and persist
    /// the project's fingerprints when that changed anything.
    fn record_success(
        &mut self,
        project: &ProjectName,
        unit: &UnitName,
        success: Option<(Arc<Inputs>, u64)>,
    ) {
        let Some(file) = self.triggers.inputs.fingerprints.get_mut(project) else {
            return;
        };
        let changed = match success {
            Some((inputs, at_ms)) => {
                file.units
                    .insert(unit.to_string(), Success { inputs, at_ms });
                true
            }
            None => file.units.remove(unit.as_str()).is_some(),
        };
        if changed && let Err(e) = self.store.save_fingerprints(project, file) {
            warn!(%project, %unit, "build inputs not persisted: {e}");
        }
    }

    /// Builds with a start queued by a forcing job run even when up to date.
    pub(crate) fn force_queued(&mut self, project: &ProjectName) {
        let Some(p) = self.projects.get(project) else {
            return;
        };
        for (n, l) in &p.units {
            if l.unit.kind == UnitKind::Build && l.job.start_queued() {
                self.triggers
                    .inputs
                    .forced
                    .insert((project.clone(), n.clone()));
            }
        }
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
        let ended = old.sub == SubState::Building && new.sub != SubState::Building;
        if !ended && new.active != ActiveState::Failed {
            return;
        }
        let succeeded = new.sub == SubState::Exited && new.result == Some(UnitResult::Success);
        let key = (project.clone(), unit.clone());
        match (succeeded, self.triggers.inputs.running_on.remove(&key)) {
            (true, Some(inputs)) => {
                let at_ms = u64::try_from(Timestamp::now().as_millisecond()).unwrap_or(0);
                self.record_success(project, unit, Some((inputs, at_ms)));
            }
            (true, None) => {}
            (false, _) => self.record_success(project, unit, None),
        }
    }
}
