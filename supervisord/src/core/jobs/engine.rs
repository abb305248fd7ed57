//! The job engine's transitions that decide what actors are told: the
//! advance step (queued starts and stops that may go out now) and a
//! dependency's settled change reaching its dependents. Each runs over a
//! project's units (any [`Slot`] map) and returns [`Effects`]: the
//! messages to send, each already numbered, and whether the session file
//! is dirty. No channel, clock or I/O here; the manager applies them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use devctl_units::api::{JobVerb, Origin};
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{Dependency, ProjectName, Unit, UnitKind, UnitName};

use crate::core::graph::{dependents_of, expand_groups, requiring, start_closure};
use crate::core::jobs::advance::{self, Step};
use crate::core::jobs::goal::{Goal, Toward};
use crate::core::jobs::job::{Job, PendingStop, Queued};
use crate::core::jobs::propagate::{self, Reaction};
use crate::core::jobs::waiters::Waiters;
use crate::core::policy_deps::DepView;
use crate::core::protocol::{ActorMsg, Replace};
use crate::core::snapshot::Snapshot;

/// What the engine needs of one loaded unit.
pub trait Slot {
    fn unit(&self) -> &Arc<Unit>;
    fn snap(&self) -> &Snapshot;
    fn snap_mut(&mut self) -> &mut Snapshot;
    fn job(&self) -> &Job;
    fn job_mut(&mut self) -> &mut Job;
    /// The unit has an actor (groups and the project target have none:
    /// a message to them is numbered and dropped).
    fn has_actor(&self) -> bool;

    /// The gate's view of this unit.
    fn dep_view(&self) -> DepView {
        DepView {
            active: self.snap().active,
            sub: self.snap().sub,
            result: self.snap().result,
            pending: self.job().start_queued() || !self.job().settled(self.snap()),
        }
    }
}

/// One message for one unit's actor.
#[derive(Debug)]
pub struct ToActor {
    pub unit: UnitName,
    pub msg: ActorMsg,
}

/// What a transition asks the manager to do.
#[derive(Debug, Default)]
pub struct Effects {
    /// Messages to actors, in sending order.
    pub to_actors: Vec<ToActor>,
    /// Units whose queued job was sent or failed (their parked answers
    /// may be decided now).
    pub moved: Vec<UnitName>,
    /// The session file records something that changed.
    pub session_dirty: bool,
}

/// One project's job state as the engine sees it: its units' jobs and
/// mirrored states, what should run, the daemon's command counter and
/// the parked answers (which a later job may supersede), and enablement
/// (a bare `up` starts the enabled units).
pub struct Engine<'a, S, R> {
    pub project: &'a ProjectName,
    /// Enablement set by `enable`/`disable` (else the unit file's).
    pub overrides: &'a BTreeMap<UnitName, bool>,
    pub units: &'a mut BTreeMap<UnitName, S>,
    pub should_run: &'a mut BTreeSet<UnitName>,
    pub seq: &'a mut u64,
    pub waiters: &'a mut Waiters<R>,
}

/// What an actor's report changed, besides the effects.
#[derive(Debug)]
pub struct Reported {
    /// The unit's state before the report.
    pub old: Snapshot,
    /// Its state (active, sub, result, message) changed.
    pub state_changed: bool,
    /// Dependents started because the watched build they failed on
    /// succeeded again, and why.
    pub held_back: Option<(Vec<UnitName>, String)>,
    pub fx: Effects,
}

/// What a file change's trigger did to a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoTrigger {
    /// Neither running nor meant to run: left alone.
    Ignored,
    /// Running with no job: told to run again.
    Sent,
    /// Failed while it should run: started again.
    Started,
}

/// A submitted job's answer: what it waits for, and the units it stops
/// besides those named.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub items: Vec<(UnitName, Goal)>,
    pub stopped: Vec<UnitName>,
}

impl Effects {
    /// Append `more`'s effects after these.
    pub fn add(&mut self, mut more: Effects) {
        self.to_actors.append(&mut more.to_actors);
        self.moved.append(&mut more.moved);
        self.session_dirty |= more.session_dirty;
    }
}

/// Number a message for `unit` (the daemon's command counter `seq`)
/// and record it as the unit's last command when it has an actor.
fn send<S: Slot>(
    fx: &mut Effects,
    units: &mut BTreeMap<UnitName, S>,
    seq: &mut u64,
    unit: &UnitName,
    make: impl FnOnce(u64) -> ActorMsg,
) {
    *seq += 1;
    let n = *seq;
    if let Some(s) = units.get_mut(unit)
        && s.has_actor()
    {
        s.job_mut().issued = n;
        fx.to_actors.push(ToActor {
            unit: unit.clone(),
            msg: make(n),
        });
    }
}

impl<S: Slot, R> Engine<'_, S, R> {
    /// Number a message for `unit` (see [`send`]).
    fn send(&mut self, fx: &mut Effects, unit: &UnitName, make: impl FnOnce(u64) -> ActorMsg) {
        send(fx, self.units, self.seq, unit, make);
    }

    /// Answer the parked items on `unit` that a job heading `toward`
    /// makes unreachable (see `goal.rs`).
    fn supersede(&mut self, unit: &UnitName, toward: Toward, verb: &str) {
        if let Some(s) = self.units.get(unit) {
            self.waiters
                .supersede(self.project, unit, s.snap(), toward, verb);
        }
    }

    /// The actor of `unit` reported `snap`: mirror it, end a handled stop,
    /// start what waited on a watched build that succeeded again
    /// (`watched`: the unit has file watches), let its dependents react
    /// to a settled change, and send what may go out now. `None` when the
    /// unit is not loaded.
    pub fn on_report(
        &mut self,
        unit: &UnitName,
        snap: Snapshot,
        watched: bool,
    ) -> Option<Reported> {
        let s = self.units.get_mut(unit)?;
        let old = std::mem::replace(s.snap_mut(), snap);
        let new = s.snap().clone();
        s.job_mut().on_report(&new);
        let state_changed = (old.active, old.sub, old.result, &old.message)
            != (new.active, new.sub, new.result, &new.message);
        let mut fx = Effects::default();
        let held_back = (watched
            && old.sub == SubState::Building
            && new.sub == SubState::Exited
            && new.result == Some(UnitResult::Success))
        .then(|| self.start_held_back(&mut fx, unit, new.trigger.as_deref()))
        .flatten();
        if state_changed {
            fx.add(self.propagate(unit, &old));
        }
        // The session file records each unit's invocation.
        if old.invocation != new.invocation {
            fx.session_dirty = true;
        }
        fx.add(self.advance());
        Some(Reported {
            old,
            state_changed,
            held_back,
            fx,
        })
    }

    /// A watched build succeeded again: start its dependents that failed
    /// only because an earlier run of it failed (the fix is in). Running
    /// dependents are restarted by the dependency propagation instead.
    fn start_held_back(
        &mut self,
        fx: &mut Effects,
        build: &UnitName,
        why: Option<&str>,
    ) -> Option<(Vec<UnitName>, String)> {
        let held: Vec<UnitName> = self
            .units
            .iter()
            .filter(|(_, s)| {
                s.unit().deps.iter().any(|d| &d.unit == build)
                    && s.snap().active == ActiveState::Failed
                    && s.snap().result == Some(UnitResult::Dependency)
                    && !s.job().start_queued()
            })
            .map(|(n, _)| n.clone())
            .collect();
        if held.is_empty() {
            return None;
        }
        let reason = match why {
            Some(t) => format!("build {build} succeeded ({t})"),
            None => format!("build {build} succeeded"),
        };
        self.start(fx, &held, Origin::Started, &reason);
        Some((held, reason))
    }

    /// A file change asks `unit` to run again because of `reason`, as
    /// `devctl trigger` does: a running unit with no job is told to run
    /// again, a failed one that should run is started again, any other is
    /// left alone.
    pub fn auto_trigger(&mut self, unit: &UnitName, reason: &str) -> (AutoTrigger, Effects) {
        let mut fx = Effects::default();
        let Some(s) = self.units.get(unit) else {
            return (AutoTrigger::Ignored, fx);
        };
        let (snap, job) = (s.snap(), s.job());
        if snap.is_up() && job.stopping.is_none() && !job.start_queued() {
            let reason = reason.to_string();
            self.send(&mut fx, unit, |seq| ActorMsg::Trigger { seq, reason });
            (AutoTrigger::Sent, fx)
        } else if self.should_run.contains(unit) && snap.active == ActiveState::Failed {
            self.start(&mut fx, std::slice::from_ref(unit), Origin::Started, reason);
            fx.add(self.advance());
            fx.session_dirty = true;
            (AutoTrigger::Started, fx)
        } else {
            (AutoTrigger::Ignored, fx)
        }
    }

    /// Queue starts for `roots` and what they need (merged into each
    /// unit's job, see `job.rs`); parked stops of those units are
    /// superseded. Returns the roots with groups expanded.
    pub fn start(
        &mut self,
        fx: &mut Effects,
        roots: &[UnitName],
        origin: Origin,
        trigger: &str,
    ) -> BTreeSet<UnitName> {
        let defs = defs(self.units);
        let roots = expand_groups(roots, &defs);
        let closure = start_closure(&roots, &defs);
        for n in &closure {
            let Some(s) = self.units.get_mut(n) else {
                continue;
            };
            self.should_run.insert(n.clone());
            let snap = s.snap().clone();
            s.job_mut().start(&snap, origin, trigger);
        }
        for n in &closure {
            self.supersede(n, Toward::Up, "start");
        }
        fx.session_dirty = true;
        roots
    }

    /// Queue stops; `why(name)` gives (result, message) for each. Parked
    /// starts (and waits for ready/active/succeeded) of those units are
    /// superseded.
    pub fn stop(
        &mut self,
        fx: &mut Effects,
        names: &BTreeSet<UnitName>,
        why: impl Fn(&UnitName) -> (UnitResult, Option<String>),
    ) {
        for n in names {
            self.should_run.remove(n);
            let Some(s) = self.units.get_mut(n) else {
                continue;
            };
            let (result, message) = why(n);
            let stop = PendingStop {
                result,
                message,
                failed: false,
            };
            let snap = s.snap().clone();
            s.job_mut().stop(&snap, stop);
        }
        for n in names {
            self.supersede(n, Toward::Down, "stop");
        }
        fx.session_dirty = true;
    }

    /// Send queued starts and stops whose conditions are met (the pass of
    /// `advance.rs`, repeated while it makes progress). A start that can
    /// never run leaves `should_run`.
    pub fn advance(&mut self) -> Effects {
        let (units, should_run, seq) = (&mut *self.units, &mut *self.should_run, &mut *self.seq);
        let mut fx = Effects::default();
        loop {
            // One look over the units (this runs on every report): nothing
            // queued, nothing to send.
            let (mut queued, mut stop_queued) = (false, false);
            for s in units.values() {
                queued |= s.job().queued.is_some();
                stop_queued |= s.job().stop_queued();
            }
            if !queued {
                return fx;
            }
            // The definitions, built once per pass and only when a stop is
            // queued (not once per queued stop: O(N²) in a stop-all).
            let defs = stop_queued.then(|| defs(units));
            let stopping = |d: &UnitName| {
                units
                    .get(d)
                    .is_some_and(|s| s.job().stop_queued() || s.job().stopping.is_some())
            };
            let mut steps = advance::pass(
                units.iter().map(|(n, s)| (n, &s.unit().deps[..], s.job())),
                |d| units.get(d).map(|x| x.dep_view()),
                |n| {
                    defs.as_ref()
                        .is_some_and(|defs| dependents_of(n, defs).any(stopping))
                },
            );
            if steps.is_empty() {
                return fx;
            }
            let progressed = steps.iter().any(|(_, s)| s.progresses());
            for (n, step) in &steps {
                units.get_mut(n).expect("listed").job_mut().took(step);
                if matches!(step, Step::Fail(_)) {
                    should_run.remove(n);
                    fx.session_dirty = true;
                }
            }
            // Starts and stops go out first, then failures, then the
            // waiting notices.
            steps.sort_by_key(|(_, s)| match s {
                Step::Start { .. } | Step::Stop(_) => 0,
                Step::Fail(_) => 1,
                Step::Wait(_) => 2,
            });
            for (n, step) in steps {
                if step.progresses() {
                    fx.moved.push(n.clone());
                }
                match step {
                    Step::Start { origin, trigger } => {
                        send(&mut fx, units, seq, &n, |seq| ActorMsg::Start {
                            seq,
                            origin,
                            trigger,
                            reset: true,
                        });
                    }
                    Step::Stop(s) => {
                        send(&mut fx, units, seq, &n, |seq| ActorMsg::Stop {
                            seq,
                            result: s.result,
                            message: s.message,
                            failed: s.failed,
                        });
                        if let Some(s) = units.get_mut(&n) {
                            s.job_mut().stop_sent();
                        }
                    }
                    Step::Fail(message) => {
                        send(&mut fx, units, seq, &n, |seq| ActorMsg::FailDeps {
                            seq,
                            message,
                        });
                    }
                    Step::Wait(waiting) => {
                        send(&mut fx, units, seq, &n, |seq| ActorMsg::WaitDeps {
                            seq,
                            waiting,
                        });
                    }
                }
            }
            if !progressed {
                return fx;
            }
        }
    }

    /// `unit` changed state (it was `old`): once it is settled, each
    /// dependent reacts as `propagate.rs` decides (a queued stop, leaving
    /// `should_run`; a restart; a note).
    pub fn propagate(&mut self, unit: &UnitName, old: &Snapshot) -> Effects {
        let (units, should_run, seq) = (&mut *self.units, &mut *self.should_run, &mut *self.seq);
        let mut fx = Effects::default();
        let Some(x) = units.get(unit) else {
            return fx;
        };
        if !x.job().settled(x.snap()) {
            return fx;
        }
        let view = x.dep_view();
        let snap = x.snap();
        let rebuilt = x.unit().kind == UnitKind::Build
            && old.sub == SubState::Building
            && snap.sub == SubState::Exited
            && snap.result == Some(UnitResult::Success);
        let why = snap
            .trigger
            .as_ref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        // The dependents, found without building the definitions map
        // (this runs on every settled state change).
        let dependents: Vec<(UnitName, Dependency)> = units
            .iter()
            .filter_map(|(n, s)| {
                let dep = s.unit().deps.iter().find(|d| &d.unit == unit)?;
                Some((n.clone(), dep.clone()))
            })
            .collect();
        let mut restarts = Vec::new();
        let mut notes = Vec::new();
        for (dn, dep) in &dependents {
            let d = units.get_mut(dn).expect("listed above");
            match propagate::reaction(dep, view, rebuilt, d.snap(), d.job()) {
                Some(Reaction::Stop(stop)) => {
                    should_run.remove(dn);
                    fx.session_dirty = true;
                    d.job_mut().queued = Some(Queued::Stop(stop));
                }
                Some(Reaction::Restart) => restarts.push(dn.clone()),
                Some(Reaction::Note) => notes.push(dn.clone()),
                None => {}
            }
        }
        for d in restarts {
            send(&mut fx, units, seq, &d, |seq| ActorMsg::Restart {
                seq,
                trigger: format!("build {unit} succeeded{why}"),
                how: Replace::Update,
            });
        }
        for d in notes {
            send(&mut fx, units, seq, &d, |seq| ActorMsg::Note {
                seq,
                message: format!("build {unit} failed, still serving the previous version"),
                drop_queued: false,
            });
        }
        fx
    }
    /// Accept a job request: `verb` on `names` (already resolved; empty
    /// for a whole-project `up`/`down`), queued into the units' jobs and
    /// advanced. `manual_trigger` gives a manual trigger's reason. Returns
    /// what the answer waits for with the effects; the caller checks the
    /// parked answers afterwards (this may have superseded some).
    pub fn submit(
        &mut self,
        verb: JobVerb,
        names: &[UnitName],
        manual_trigger: &mut dyn FnMut(&UnitName) -> String,
    ) -> (Plan, Effects) {
        let mut fx = Effects::default();
        let plan = self.plan(&mut fx, verb, names, manual_trigger);
        fx.add(self.advance());
        fx.session_dirty = true;
        (plan, fx)
    }

    /// Queue a verb's work.
    pub fn plan(
        &mut self,
        fx: &mut Effects,
        verb: JobVerb,
        names: &[UnitName],
        manual_trigger: &mut dyn FnMut(&UnitName) -> String,
    ) -> Plan {
        let defs = defs(self.units);
        let overrides = self.overrides;
        let enabled = |n: &UnitName| match overrides.get(n) {
            Some(v) => *v,
            None => defs.get(n).is_some_and(|u| u.enabled),
        };
        let runnable = |n: &UnitName| defs.get(n).is_some_and(|u| u.kind.is_runnable());
        match verb {
            JobVerb::Start => {
                let roots = self.start(fx, names, Origin::Started, "manual");
                Plan {
                    items: roots.into_iter().map(|n| (n, Goal::Up)).collect(),
                    stopped: Vec::new(),
                }
            }
            JobVerb::Stop => {
                let roots = expand_groups(names, &defs);
                let deps = requiring(&roots, &defs);
                let all: BTreeSet<UnitName> = roots.union(&deps).cloned().collect();
                let up_deps: Vec<UnitName> = deps
                    .iter()
                    .filter(|d| self.units.get(*d).is_some_and(|s| s.snap().is_up()))
                    .cloned()
                    .collect();
                self.stop(fx, &all, |n| {
                    if roots.contains(n) {
                        (UnitResult::Success, None)
                    } else {
                        let by = roots
                            .iter()
                            .map(|r| r.to_string())
                            .collect::<Vec<_>>()
                            .join(", ");
                        (
                            UnitResult::Dependency,
                            Some(format!("stopped because required unit {by} stopped")),
                        )
                    }
                });
                Plan {
                    items: all.into_iter().map(|n| (n, Goal::Down)).collect(),
                    stopped: up_deps,
                }
            }
            JobVerb::Restart | JobVerb::Trigger => {
                let roots = expand_groups(names, &defs);
                let mut items = Vec::new();
                let word = if verb == JobVerb::Restart {
                    "restart"
                } else {
                    "trigger"
                };
                for n in &roots {
                    let s = &self.units[n];
                    let up = s.snap().is_up() && s.job().idle();
                    self.supersede(n, Toward::Up, word);
                    if up {
                        if verb == JobVerb::Restart {
                            self.send(fx, n, |seq| ActorMsg::Restart {
                                seq,
                                trigger: "manual restart".into(),
                                how: Replace::Fresh,
                            });
                        } else {
                            let reason = manual_trigger(n);
                            self.send(fx, n, |seq| ActorMsg::Trigger { seq, reason });
                        }
                    } else {
                        let why = if verb == JobVerb::Trigger {
                            manual_trigger(n)
                        } else {
                            "manual".into()
                        };
                        self.start(fx, std::slice::from_ref(n), Origin::Started, &why);
                    }
                    items.push((n.clone(), Goal::Up));
                }
                Plan {
                    items,
                    stopped: Vec::new(),
                }
            }
            JobVerb::Up => {
                let roots: Vec<UnitName> = if names.is_empty() {
                    defs.keys()
                        .filter(|n| runnable(n) && enabled(n))
                        .cloned()
                        .collect()
                } else {
                    names.to_vec()
                };
                let closure = start_closure(&expand_groups(&roots, &defs), &defs);
                let others: BTreeSet<UnitName> = if names.is_empty() {
                    BTreeSet::new()
                } else {
                    self.units
                        .iter()
                        .filter(|(n, s)| {
                            !closure.contains(*n) && (s.snap().is_up() || s.job().start_queued())
                        })
                        .map(|(n, _)| n.clone())
                        .collect()
                };
                let started = self.start(fx, &roots, Origin::Started, "up");
                self.stop(fx, &others, |_| (UnitResult::Success, None));
                let mut items: Vec<(UnitName, Goal)> =
                    started.into_iter().map(|n| (n, Goal::Up)).collect();
                items.extend(others.iter().map(|n| (n.clone(), Goal::Down)));
                Plan {
                    items,
                    stopped: others.into_iter().collect(),
                }
            }
            JobVerb::Down => {
                let all: BTreeSet<UnitName> =
                    defs.keys().filter(|n| runnable(n)).cloned().collect();
                let items = all.iter().map(|n| (n.clone(), Goal::Down)).collect();
                self.stop(fx, &all, |_| (UnitResult::Success, None));
                Plan {
                    items,
                    stopped: Vec::new(),
                }
            }
        }
    }
}

/// Definitions only, for the graph helpers.
fn defs<S: Slot>(units: &BTreeMap<UnitName, S>) -> BTreeMap<UnitName, Arc<Unit>> {
    units
        .iter()
        .map(|(n, s)| (n.clone(), s.unit().clone()))
        .collect()
}
