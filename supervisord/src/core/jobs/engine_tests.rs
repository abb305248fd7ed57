//! Table tests of the job engine's transitions ([`super::engine`]): a
//! project of plain unit records (no actor, no channel), a request or a
//! report, and the effects that come out: which actor is told what, with
//! which sequence number, and whether the session file is dirty.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use devctl_units::api::{JobVerb, RuntimeState};
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{DepCondition, DepKind, Dependency, ProjectName, Unit, UnitKind, UnitName};

use crate::core::jobs::engine::{AutoTrigger, Effects, Engine, Plan, Slot};
use crate::core::jobs::goal::Goal;
use crate::core::jobs::job::Job;
use crate::core::jobs::waiters::{Mirrors, Waiters};
use crate::core::protocol::{ActorMsg, Replace};
use crate::core::snapshot::Snapshot;

/// One unit as the engine sees it.
struct Rec {
    unit: Arc<Unit>,
    snap: Snapshot,
    job: Job,
}

impl Slot for Rec {
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
        self.unit.kind.is_runnable()
    }
}

/// A project's state: its units, what should run, the command counter
/// and the parked answers (replies are plain numbers).
struct World {
    project: ProjectName,
    overrides: BTreeMap<UnitName, bool>,
    units: BTreeMap<UnitName, Rec>,
    should_run: BTreeSet<UnitName>,
    seq: u64,
    waiters: Waiters<u32>,
}

struct View<'a>(&'a ProjectName, &'a BTreeMap<UnitName, Rec>);

impl Mirrors for View<'_> {
    fn unit(&self, project: &ProjectName, unit: &UnitName) -> Option<(&Snapshot, &Job)> {
        (project == self.0)
            .then(|| self.1.get(unit))
            .flatten()
            .map(|r| (&r.snap, &r.job))
    }
}

fn n(s: &str) -> UnitName {
    UnitName::new(s).unwrap()
}

fn state(active: ActiveState, sub: SubState, ack: u64) -> Snapshot {
    Snapshot {
        state: RuntimeState {
            active,
            sub,
            ..RuntimeState::default()
        },
        ack,
    }
}

fn running(ack: u64) -> Snapshot {
    state(ActiveState::Active, SubState::Running, ack)
}

fn down(ack: u64) -> Snapshot {
    state(ActiveState::Inactive, SubState::Dead, ack)
}

impl World {
    /// Units `(name, kind, requirements until ready)`, all stopped.
    fn new(units: &[(&str, UnitKind, &[&str])]) -> World {
        let project = ProjectName::new("p").unwrap();
        let units = units
            .iter()
            .map(|(name, kind, reqs)| {
                let mut u = Unit::new(project.clone(), n(name), *kind, "/".into());
                if *kind == UnitKind::Group {
                    u.members = reqs.iter().map(|r| n(r)).collect();
                } else {
                    u.deps = reqs
                        .iter()
                        .map(|r| Dependency {
                            unit: n(r),
                            kind: DepKind::Requires,
                            until: DepCondition::Ready,
                        })
                        .collect();
                }
                let rec = Rec {
                    unit: Arc::new(u),
                    snap: down(0),
                    job: Job::default(),
                };
                (n(name), rec)
            })
            .collect();
        World {
            project,
            overrides: BTreeMap::new(),
            units,
            should_run: BTreeSet::new(),
            seq: 0,
            waiters: Waiters::default(),
        }
    }

    /// `api` requires `db` until ready.
    fn api_on_db() -> World {
        World::new(&[
            ("db", UnitKind::Service, &[]),
            ("api", UnitKind::Service, &["db"]),
        ])
    }

    fn engine(&mut self) -> Engine<'_, Rec, u32> {
        Engine {
            project: &self.project,
            overrides: &self.overrides,
            units: &mut self.units,
            should_run: &mut self.should_run,
            seq: &mut self.seq,
            waiters: &mut self.waiters,
        }
    }

    fn submit(&mut self, verb: JobVerb, names: &[&str]) -> (Plan, Effects) {
        let names: Vec<UnitName> = names.iter().map(|s| n(s)).collect();
        let mut manual = |u: &UnitName| format!("manual trigger of {u}");
        self.engine().submit(verb, &names, &mut manual)
    }

    fn report(&mut self, unit: &str, snap: Snapshot) -> Effects {
        self.engine()
            .on_report(&n(unit), snap, false)
            .expect("loaded")
            .fx
    }

    /// Both units running, every command handled.
    fn both_running(mut self) -> World {
        for r in self.units.values_mut() {
            r.snap = running(0);
        }
        self.should_run = self.units.keys().cloned().collect();
        self
    }
}

/// Each message as `unit verb seq`.
fn sent(fx: &Effects) -> Vec<String> {
    fx.to_actors
        .iter()
        .map(|t| {
            let (verb, seq) = match &t.msg {
                ActorMsg::Start { seq, .. } => ("start", seq),
                ActorMsg::UpToDate { seq, .. } => ("up-to-date", seq),
                ActorMsg::WaitDeps { seq, .. } => ("wait-deps", seq),
                ActorMsg::FailDeps { seq, .. } => ("fail-deps", seq),
                ActorMsg::Stop { seq, .. } => ("stop", seq),
                ActorMsg::Restart {
                    seq,
                    how: Replace::Fresh,
                    ..
                } => ("restart", seq),
                ActorMsg::Restart {
                    seq,
                    how: Replace::Update,
                    ..
                } => ("restart-in-place", seq),
                ActorMsg::Trigger { seq, .. } => ("trigger", seq),
                ActorMsg::Note { seq, .. } => ("note", seq),
                ActorMsg::Update { seq, .. } => ("update", seq),
                ActorMsg::Exit { .. } => ("exit", &0),
            };
            format!("{} {verb} {seq}", t.unit)
        })
        .collect()
}

fn units(v: &[UnitName]) -> Vec<&str> {
    v.iter().map(|u| u.as_str()).collect()
}

#[test]
fn every_submit_rule() {
    // (what, the project, verb, names, messages out, the plan's goals,
    // the extra stops)
    type Case = (
        &'static str,
        World,
        JobVerb,
        &'static [&'static str],
        &'static [&'static str],
        &'static [(&'static str, Goal)],
        &'static [&'static str],
    );
    let cases: Vec<Case> = vec![
        (
            "start: the requirement starts, the dependent shows waiting",
            World::api_on_db(),
            JobVerb::Start,
            &["api"],
            &["db start 1", "api wait-deps 2"],
            &[("api", Goal::Up)],
            &[],
        ),
        (
            "start on running units: nothing to send",
            World::api_on_db().both_running(),
            JobVerb::Start,
            &["api"],
            &[],
            &[("api", Goal::Up)],
            &[],
        ),
        (
            "stop a requirement: its running dependent stops first",
            World::api_on_db().both_running(),
            JobVerb::Stop,
            &["db"],
            &["api stop 1"],
            &[("api", Goal::Down), ("db", Goal::Down)],
            &["api"],
        ),
        (
            "restart a running unit: one restart",
            World::api_on_db().both_running(),
            JobVerb::Restart,
            &["db"],
            &["db restart 1"],
            &[("db", Goal::Up)],
            &[],
        ),
        (
            "trigger a running unit: a trigger",
            World::api_on_db().both_running(),
            JobVerb::Trigger,
            &["db"],
            &["db trigger 1"],
            &[("db", Goal::Up)],
            &[],
        ),
        (
            "restart a stopped unit: a start",
            World::api_on_db(),
            JobVerb::Restart,
            &["db"],
            &["db start 1"],
            &[("db", Goal::Up)],
            &[],
        ),
        (
            "down: dependents before requirements",
            World::api_on_db().both_running(),
            JobVerb::Down,
            &[],
            &["api stop 1"],
            &[("api", Goal::Down), ("db", Goal::Down)],
            &[],
        ),
        (
            "up of one unit stops the others running",
            World::new(&[("a", UnitKind::Service, &[]), ("b", UnitKind::Service, &[])])
                .both_running(),
            JobVerb::Up,
            &["a"],
            &["b stop 1"],
            &[("a", Goal::Up), ("b", Goal::Down)],
            &["b"],
        ),
        (
            "a group starts its members; the group itself has no actor",
            World::new(&[
                ("a", UnitKind::Service, &[]),
                ("g", UnitKind::Group, &["a"]),
            ]),
            JobVerb::Start,
            &["g"],
            &["a start 1"],
            &[("a", Goal::Up)],
            &[],
        ),
    ];
    for (what, mut w, verb, names, want, goals, stopped) in cases {
        let (plan, fx) = w.submit(verb, names);
        assert_eq!(sent(&fx), want.to_vec(), "{what}: messages");
        let got: Vec<(&str, Goal)> = plan.items.iter().map(|(u, g)| (u.as_str(), *g)).collect();
        assert_eq!(got, goals.to_vec(), "{what}: goals");
        assert_eq!(units(&plan.stopped), stopped.to_vec(), "{what}: stopped");
        assert!(fx.session_dirty, "{what}: the session records what runs");
    }
}

#[test]
fn a_start_goes_out_once_its_requirement_reports_ready() {
    let mut w = World::api_on_db();
    w.submit(JobVerb::Start, &["api"]);
    // db starting (start handled): api still waits, nothing new is sent.
    let fx = w.report("db", state(ActiveState::Activating, SubState::Starting, 1));
    assert_eq!(sent(&fx), Vec::<String>::new());
    let fx = w.report("db", state(ActiveState::Active, SubState::Ready, 1));
    assert_eq!(sent(&fx), ["api start 3"]);
    assert_eq!(units(&fx.moved), ["api"], "api's answer may be decided");
    assert_eq!(w.units[&n("api")].job.issued, 3);
}

#[test]
fn a_requirement_stops_once_its_dependent_reports_down() {
    let mut w = World::api_on_db().both_running();
    w.submit(JobVerb::Stop, &["db"]);
    let fx = w.report(
        "api",
        state(ActiveState::Deactivating, SubState::Stopping, 1),
    );
    assert_eq!(sent(&fx), Vec::<String>::new(), "api is still stopping");
    let fx = w.report("api", down(1));
    assert_eq!(sent(&fx), ["db stop 2"]);
    assert_eq!(w.units[&n("db")].job.stopping, Some(2));
    let fx = w.report("db", down(2));
    assert!(fx.to_actors.is_empty());
    assert!(w.units.values().all(|r| r.job.idle()), "every job is done");
}

#[test]
fn a_failed_requirement_stops_its_running_dependent() {
    let mut w = World::api_on_db().both_running();
    let mut failed = state(ActiveState::Failed, SubState::Failed, 0);
    failed.result = Some(UnitResult::ExitCode);
    let fx = w.report("db", failed);
    assert_eq!(sent(&fx), ["api stop 1"]);
    assert!(fx.session_dirty, "api no longer should run");
    assert!(!w.should_run.contains(&n("api")));
    match &fx.to_actors[0].msg {
        ActorMsg::Stop { result, failed, .. } => {
            assert_eq!((*result, *failed), (UnitResult::Dependency, true));
        }
        m => panic!("{m:?}"),
    }
}

/// A rebuilt build updates its dependents in place (a provider may keep
/// their instances and roll them); `devctl restart` replaces them fresh.
#[test]
fn a_rebuild_restarts_dependents_in_place_and_a_manual_restart_fresh() {
    let mut w = World::new(&[
        ("gen", UnitKind::Build, &[]),
        ("api", UnitKind::Service, &["gen"]),
    ]);
    w.units.get_mut(&n("api")).unwrap().unit = {
        let mut u = (*w.units[&n("api")].unit).clone();
        u.deps[0].until = DepCondition::Succeeded;
        Arc::new(u)
    };
    let mut built = state(ActiveState::Active, SubState::Exited, 0);
    built.result = Some(UnitResult::Success);
    w.units.get_mut(&n("gen")).unwrap().snap = built.clone();
    w.units.get_mut(&n("api")).unwrap().snap = running(0);
    w.should_run = w.units.keys().cloned().collect();
    w.report("gen", state(ActiveState::Activating, SubState::Building, 0));
    let fx = w.report("gen", built);
    assert_eq!(sent(&fx), ["api restart-in-place 1"]);
    let (_, fx) = w.submit(JobVerb::Restart, &["api"]);
    assert_eq!(sent(&fx), ["api restart 2"]);
}

#[test]
fn a_report_with_a_new_invocation_dirties_the_session_and_nothing_else_does() {
    let mut w = World::api_on_db().both_running();
    let fx = w.report("db", running(0));
    assert!(!fx.session_dirty && fx.to_actors.is_empty());
    let fx = w.report("db", {
        let mut s = running(0);
        s.invocation = Some("run-2".into());
        s
    });
    assert!(fx.session_dirty);
}

#[test]
fn a_stop_supersedes_a_parked_start() {
    let mut w = World::api_on_db();
    let (plan, _) = w.submit(JobVerb::Start, &["db"]);
    let id = 7;
    w.waiters.park(
        &View(&w.project, &w.units),
        w.project.clone(),
        plan.items,
        Vec::new(),
        false,
        id,
    );
    w.submit(JobVerb::Stop, &["db"]);
    let done = w.waiters.check(&View(&w.project, &w.units));
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].reply, id);
    let o = &done[0].job.outcomes[0];
    assert!(!o.ok);
    assert!(
        o.message.as_deref().unwrap_or("").contains("superseded"),
        "{o:?}"
    );
}

#[test]
fn every_auto_trigger_rule() {
    let failed = || {
        let mut s = state(ActiveState::Failed, SubState::Failed, 0);
        s.result = Some(UnitResult::ExitCode);
        s
    };
    // (what, db's state, db should run, a stop in flight, outcome,
    // messages out)
    type Case = (
        &'static str,
        Snapshot,
        bool,
        bool,
        AutoTrigger,
        &'static [&'static str],
    );
    let cases: Vec<Case> = vec![
        (
            "running, no job: told to run again",
            running(0),
            true,
            false,
            AutoTrigger::Sent,
            &["db trigger 1"],
        ),
        (
            "running but being stopped: left alone",
            running(0),
            true,
            true,
            AutoTrigger::Ignored,
            &[],
        ),
        (
            "failed and should run: started again",
            failed(),
            true,
            false,
            AutoTrigger::Started,
            &["db start 1"],
        ),
        (
            "failed, not meant to run: left alone",
            failed(),
            false,
            false,
            AutoTrigger::Ignored,
            &[],
        ),
        (
            "stopped: left alone",
            down(0),
            true,
            false,
            AutoTrigger::Ignored,
            &[],
        ),
    ];
    for (what, snap, should_run, stopping, want, msgs) in cases {
        let mut w = World::api_on_db();
        w.units.get_mut(&n("db")).unwrap().snap = snap;
        if should_run {
            w.should_run.insert(n("db"));
        }
        if stopping {
            w.units.get_mut(&n("db")).unwrap().job.stopping = Some(0);
        }
        let (got, fx) = w.engine().auto_trigger(&n("db"), "file change: src/a.rs");
        assert_eq!(got, want, "{what}");
        assert_eq!(sent(&fx), msgs.to_vec(), "{what}: messages");
        assert_eq!(fx.session_dirty, want == AutoTrigger::Started, "{what}");
    }
}
