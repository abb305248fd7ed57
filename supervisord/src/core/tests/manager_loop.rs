//! The manager loop with fake actors, no processes: a provider registered
//! for every local kind hands each unit's mailbox to the test instead of
//! an actor, so a test reads the commands the manager sends and answers
//! with the reports an actor would make. What these prove is the
//! manager's own logic: dependency order of starts and stops, answers
//! given only once the units reached their goal, superseded answers, the
//! session file written before an answer goes out, and timeouts.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};

use devctl_units::api::{JobRequest, JobResponse, JobVerb, LoadRequest, RuntimeState};
use devctl_units::paths::Paths;
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{DepCondition, DepKind, Dependency, ProjectName, Unit, UnitKind, UnitName};

use crate::core::actor::{ActorEnv, Spawn};
use crate::core::env::EnvContext;
use crate::core::manager::uptodate::Runner;
use crate::core::manager::{Command, Manager};
use crate::core::notes::{Inbox, Mail, Mailbox, mailbox};
use crate::core::protocol::{ActorMsg, Report, ReportTx};
use crate::core::registry::{ProviderKind, Providers};
use crate::core::snapshot::Snapshot;
use crate::core::tests::kit::sh;
use crate::logs::{LogLimits, LogStore};
use crate::probe::ListenWatcher;
use crate::process::Reaper;
use crate::state::files::SessionFile;
use crate::state::store::StateStore;

/// Registered for the local kinds: keeps each unit's inbox for the test.
#[derive(Clone, Default)]
struct FakeActors(Arc<Mutex<BTreeMap<UnitName, Inbox>>>);

impl ProviderKind for FakeActors {
    fn kinds(&self) -> &[UnitKind] {
        &[UnitKind::Service, UnitKind::Daemon, UnitKind::Build]
    }

    fn spawn(&self, spawn: Spawn) -> Mailbox {
        let (tx, rx) = mailbox();
        let name = spawn.unit().name.clone();
        self.0.lock().unwrap().insert(name, rx);
        tx
    }
}

/// A manager loop on a temporary state directory, with fake actors.
struct Loop {
    tmp: tempfile::TempDir,
    cmds: mpsc::Sender<Command>,
    reports: ReportTx,
    actors: FakeActors,
    project: ProjectName,
}

fn name(n: &str) -> UnitName {
    UnitName::new(n).unwrap()
}

/// `api` requires `db` until `db` is ready.
fn api_on_db() -> Vec<Unit> {
    let db = sh("db", UnitKind::Service, "true");
    let mut api = sh("api", UnitKind::Service, "true");
    api.deps.push(Dependency {
        unit: name("db"),
        kind: DepKind::Requires,
        until: DepCondition::Ready,
    });
    vec![db, api]
}

fn job_request(verb: JobVerb, units: &[&str], timeout_ms: Option<u64>) -> JobRequest {
    // Through JSON: the request's optional fields take their defaults.
    serde_json::from_value(serde_json::json!({
        "verb": verb,
        "units": units,
        "block": true,
        "timeout_ms": timeout_ms,
    }))
    .unwrap()
}

/// An input check as the manager hands it to its runner.
type Check = Box<dyn FnOnce() + Send>;

/// Input checks kept until the test runs them, to stage races.
#[derive(Clone, Default)]
struct HeldChecks(Arc<Mutex<Vec<Check>>>);

impl HeldChecks {
    fn runner(&self) -> Runner {
        let checks = self.0.clone();
        Arc::new(move |check| checks.lock().unwrap().push(check))
    }

    async fn wait_for(&self, n: usize) {
        crate::core::tests::kit::until(10, "input checks queued", async || {
            self.0.lock().unwrap().len() >= n
        })
        .await;
    }

    /// Run the queued checks, oldest first.
    fn run_all(&self) {
        let checks: Vec<_> = std::mem::take(&mut *self.0.lock().unwrap());
        for check in checks {
            check();
        }
    }
}

impl Loop {
    async fn new() -> Loop {
        Loop::with_runner(None).await
    }

    async fn with_runner(runner: Option<Runner>) -> Loop {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            config: tmp.path().join("config"),
            state: tmp.path().join("state"),
            runtime: tmp.path().join("run"),
        };
        std::fs::create_dir_all(&paths.state).unwrap();
        let actors = FakeActors::default();
        let env = ActorEnv {
            env: Arc::new(EnvContext::default()),
            reaper: Reaper::install().unwrap(),
            notify_dir: paths.notify_dir(),
            cgroup: None,
            logs: Arc::new(LogStore::open(paths.logs_dir(), LogLimits::default()).unwrap()),
            listen: ListenWatcher::new(),
        };
        let providers = Arc::new(Providers::new(vec![Box::new(actors.clone())]));
        let (events, _) = broadcast::channel(256);
        let (reports, reports_rx) = mpsc::unbounded_channel();
        let (timeouts_tx, timeouts_rx) = mpsc::unbounded_channel();
        let session = SessionFile::new("session".into(), 0);
        let mut mgr = Manager::new(
            StateStore::new(paths),
            env,
            providers,
            events,
            reports.clone(),
            timeouts_tx,
            session,
        );
        if let Some(r) = runner {
            mgr.triggers.inputs.runner = r;
        }
        let (cmds, rx) = mpsc::channel(16);
        tokio::spawn(async move { mgr.run(rx, reports_rx, timeouts_rx).await });
        Loop {
            tmp,
            cmds,
            reports,
            actors,
            project: ProjectName::new("p").unwrap(),
        }
    }

    async fn load(&self, units: &[Unit]) {
        let req = LoadRequest {
            manifest: "/tmp/devctl.kdl".into(),
            root: "/tmp".into(),
            units: units
                .iter()
                .map(|u| (u.file_name(), devctl_units::to_unit_file(u)))
                .collect(),
        };
        let (reply, rx) = oneshot::channel();
        let project = self.project.clone();
        self.cmds
            .send(Command::Load {
                project,
                req,
                reply,
            })
            .await
            .unwrap();
        rx.await.unwrap().unwrap();
    }

    /// Submit a blocking job; its answer arrives on the receiver.
    async fn job(
        &self,
        verb: JobVerb,
        units: &[&str],
        timeout_ms: Option<u64>,
    ) -> oneshot::Receiver<Result<JobResponse, devctl_units::api::ApiError>> {
        let (reply, rx) = oneshot::channel();
        let req = job_request(verb, units, timeout_ms);
        let project = self.project.clone();
        self.cmds
            .send(Command::Job {
                project,
                req,
                reply,
            })
            .await
            .unwrap();
        rx
    }

    /// The next command the manager sent to `unit`'s actor (waiting for
    /// it up to ten seconds).
    async fn next(&self, unit: &str) -> ActorMsg {
        let mut inbox = self
            .actors
            .0
            .lock()
            .unwrap()
            .remove(&name(unit))
            .expect("unit has an inbox");
        let mail = tokio::time::timeout(Duration::from_secs(10), inbox.recv())
            .await
            .unwrap_or_else(|_| panic!("no command for {unit}"));
        self.actors.0.lock().unwrap().insert(name(unit), inbox);
        match mail {
            Some(Mail::Msg(m)) => m,
            other => panic!("unexpected mail for {unit}: {other:?}"),
        }
    }

    /// Whether a command for `unit` is queued now.
    fn idle(&self, unit: &str) -> bool {
        let mut actors = self.actors.0.lock().unwrap();
        let inbox = actors.get_mut(&name(unit)).expect("unit has an inbox");
        inbox.is_empty()
    }

    /// Report `unit` in `active`/`sub` after handling command `ack`.
    fn report(&self, unit: &str, active: ActiveState, sub: SubState, ack: u64) {
        let snap = Snapshot {
            state: RuntimeState {
                active,
                sub,
                result: (active == ActiveState::Inactive).then_some(UnitResult::Success),
                invocation: (active != ActiveState::Inactive).then(|| format!("inv-{unit}")),
                ..RuntimeState::default()
            },
            ack,
        };
        self.report_snap(unit, snap);
    }

    /// Report `unit` in state `snap`.
    fn report_snap(&self, unit: &str, snap: Snapshot) {
        let r = Report {
            project: self.project.clone(),
            unit: name(unit),
            snap,
            events: Vec::new(),
            at: std::time::Instant::now(),
        };
        self.reports.send(Box::new(r)).unwrap();
    }

    /// Start `units` (requirements first) and report each ready as its
    /// start arrives (after the `waiting-deps` it may be shown first).
    async fn start_all(&self, units: &[&str]) {
        let answer = self.job(JobVerb::Start, units, None).await;
        for u in units {
            let seq = loop {
                match self.next(u).await {
                    ActorMsg::WaitDeps { .. } => continue,
                    m => break seq_of_start(m),
                }
            };
            self.report(u, ActiveState::Active, SubState::Ready, seq);
        }
        let r = answer.await.unwrap().unwrap();
        assert!(r.outcomes.iter().all(|o| o.ok), "{r:?}");
    }
}

fn seq_of_start(m: ActorMsg) -> u64 {
    match m {
        ActorMsg::Start { seq, .. } => seq,
        other => panic!("expected a start, got {other:?}"),
    }
}

fn seq_of_stop(m: ActorMsg) -> u64 {
    match m {
        ActorMsg::Stop { seq, .. } => seq,
        other => panic!("expected a stop, got {other:?}"),
    }
}

#[tokio::test]
async fn a_start_waits_for_its_requirement_and_is_answered_once_both_are_ready() {
    let l = Loop::new().await;
    l.load(&api_on_db()).await;
    let answer = l.job(JobVerb::Start, &["api"], None).await;
    let db_start = seq_of_start(l.next("db").await);
    match l.next("api").await {
        ActorMsg::WaitDeps { waiting, .. } => assert_eq!(waiting, vec![name("db")]),
        other => panic!("expected waiting-deps, got {other:?}"),
    }
    assert!(l.idle("api"), "api is not started before db is ready");
    l.report("db", ActiveState::Activating, SubState::Starting, db_start);
    l.report("db", ActiveState::Active, SubState::Ready, db_start);
    let api_start = seq_of_start(l.next("api").await);
    l.report("api", ActiveState::Active, SubState::Ready, api_start);
    let r = answer.await.unwrap().unwrap();
    let ok: Vec<(String, bool)> = r
        .outcomes
        .iter()
        .map(|o| (o.unit.to_string(), o.ok))
        .collect();
    assert_eq!(ok, [("api".to_string(), true)], "{r:?}");
}

#[tokio::test]
async fn a_stop_reaches_the_dependents_first_and_the_requirement_after() {
    let l = Loop::new().await;
    l.load(&api_on_db()).await;
    l.start_all(&["db", "api"]).await;
    let answer = l.job(JobVerb::Stop, &["db"], None).await;
    let api_stop = seq_of_stop(l.next("api").await);
    assert!(l.idle("db"), "db is stopped only once api is down");
    l.report("api", ActiveState::Inactive, SubState::Dead, api_stop);
    let db_stop = seq_of_stop(l.next("db").await);
    l.report("db", ActiveState::Inactive, SubState::Dead, db_stop);
    let r = answer.await.unwrap().unwrap();
    assert!(r.outcomes.iter().all(|o| o.ok), "{r:?}");
    assert_eq!(r.stopped, [name("api")], "{r:?}");
}

#[tokio::test]
async fn a_start_overtaken_by_a_stop_is_answered_superseded() {
    let l = Loop::new().await;
    l.load(&[sh("web", UnitKind::Service, "true")]).await;
    let start = l.job(JobVerb::Start, &["web"], None).await;
    let start_seq = seq_of_start(l.next("web").await);
    l.report(
        "web",
        ActiveState::Activating,
        SubState::Starting,
        start_seq,
    );
    let stop = l.job(JobVerb::Stop, &["web"], None).await;
    let r = start.await.unwrap().unwrap();
    assert!(!r.outcomes[0].ok, "{r:?}");
    assert_eq!(
        r.outcomes[0].message.as_deref(),
        Some("superseded by a later stop")
    );
    let stop_seq = seq_of_stop(l.next("web").await);
    l.report("web", ActiveState::Inactive, SubState::Dead, stop_seq);
    let r = stop.await.unwrap().unwrap();
    assert!(r.outcomes[0].ok, "{r:?}");
}

#[tokio::test]
async fn a_started_unit_is_in_the_session_file_before_the_answer() {
    let l = Loop::new().await;
    l.load(&[sh("web", UnitKind::Service, "true")]).await;
    l.start_all(&["web"]).await;
    let text = std::fs::read_to_string(l.tmp.path().join("state/session.json")).unwrap();
    let session: SessionFile = serde_json::from_str(&text).unwrap();
    let units = &session.units[&l.project];
    assert_eq!(
        units[&name("web")].invocation.as_deref(),
        Some("inv-web"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_timeout_answers_the_undecided_units_not_ok() {
    let l = Loop::new().await;
    l.load(&[sh("web", UnitKind::Service, "true")]).await;
    let answer = l.job(JobVerb::Start, &["web"], Some(5_000)).await;
    let seq = seq_of_start(l.next("web").await);
    l.report("web", ActiveState::Activating, SubState::Starting, seq);
    let r = answer.await.unwrap().unwrap();
    assert!(r.timed_out, "{r:?}");
    assert!(!r.outcomes[0].ok, "{r:?}");
    assert_eq!(r.outcomes[0].active, ActiveState::Activating);
}

#[tokio::test]
async fn a_requirement_failing_stops_its_running_dependent_as_a_dependency_failure() {
    let l = Loop::new().await;
    l.load(&api_on_db()).await;
    l.start_all(&["db", "api"]).await;
    l.report_snap(
        "db",
        Snapshot {
            state: RuntimeState {
                active: ActiveState::Failed,
                sub: SubState::Failed,
                result: Some(UnitResult::ExitCode),
                ..RuntimeState::default()
            },
            ack: 1,
        },
    );
    match l.next("api").await {
        ActorMsg::Stop {
            result,
            failed,
            message,
            ..
        } => {
            assert_eq!((result, failed), (UnitResult::Dependency, true));
            assert!(
                message.as_deref().unwrap_or("").contains("db"),
                "{message:?}"
            );
        }
        other => panic!("expected a stop, got {other:?}"),
    }
    assert!(l.idle("db"), "the failed unit itself is told nothing");
}

#[tokio::test]
async fn a_restart_of_a_running_unit_is_one_command_answered_once_handled() {
    let l = Loop::new().await;
    l.load(&[sh("web", UnitKind::Service, "true")]).await;
    l.start_all(&["web"]).await;
    let mut answer = l.job(JobVerb::Restart, &["web"], None).await;
    let seq = match l.next("web").await {
        ActorMsg::Restart { seq, trigger, .. } => {
            assert_eq!(trigger, "manual restart");
            seq
        }
        other => panic!("expected a restart, got {other:?}"),
    };
    assert!(l.idle("web"), "one command: {seq}");
    // Still running on the old command: not answered yet.
    l.report("web", ActiveState::Active, SubState::Ready, seq - 1);
    l.report("web", ActiveState::Activating, SubState::Starting, seq);
    tokio::task::yield_now().await;
    assert!(
        answer.try_recv().is_err(),
        "answered before the restart ran"
    );
    l.report("web", ActiveState::Active, SubState::Ready, seq);
    let r = answer.await.unwrap().unwrap();
    assert!(r.outcomes[0].ok, "{r:?}");
}

/// A build with declared inputs whose start is held while its inputs are
/// checked, and a stop arriving before the check ends: the start goes
/// out first (checked on the spot), then the stop; the late check's
/// result is dropped, so the next message the actor gets is the one for
/// the next start.
#[tokio::test]
async fn a_stop_during_an_input_check_follows_the_start_and_the_late_result_is_dropped() {
    let checks = HeldChecks::default();
    let l = Loop::with_runner(Some(checks.runner())).await;
    std::fs::write(l.tmp.path().join("in.txt"), "v1").unwrap();
    let mut gen_unit = sh("gen", UnitKind::Build, "true");
    gen_unit.root = l.tmp.path().to_path_buf();
    gen_unit.watch.paths = vec!["in.txt".into()];
    l.load(&[gen_unit]).await;

    let _start = l.job(JobVerb::Start, &["gen"], None).await;
    checks.wait_for(1).await;
    assert!(l.idle("gen"), "the start went out before its check");
    let stop = l.job(JobVerb::Stop, &["gen"], None).await;
    let a = seq_of_start(l.next("gen").await);
    let b = seq_of_stop(l.next("gen").await);
    assert!(b > a);
    l.report("gen", ActiveState::Inactive, SubState::Dead, b);
    assert!(stop.await.unwrap().unwrap().outcomes.iter().all(|o| o.ok));

    // Start again; run the stale check, then the new one. Results arrive
    // in that order, so a stale result applied would reach the actor first.
    let again = l.job(JobVerb::Start, &["gen"], None).await;
    checks.wait_for(2).await;
    checks.run_all();
    let c = seq_of_start(l.next("gen").await);
    assert!(c > b, "a message for the first start came back: {c} <= {b}");
    let done = Snapshot {
        state: RuntimeState {
            active: ActiveState::Active,
            sub: SubState::Exited,
            result: Some(UnitResult::Success),
            ..RuntimeState::default()
        },
        ack: c,
    };
    l.report_snap("gen", done);
    assert!(again.await.unwrap().unwrap().outcomes.iter().all(|o| o.ok));
    assert!(l.idle("gen"));
}
