//! In-process core tests with real processes: jobs, dependencies, restart
//! policy, start failures. Every process carries a per-test marker and
//! each test ends by proving none is left.

use std::time::Duration;

use devctl_units::api::{ErrorKind, EventKind, JobRequest, JobVerb};
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{
    Command, DepCondition, DepKind, Dependency, Probe, ProbeCheck, RestartMode, UnitKind, UnitName,
};

use crate::core::handle::CoreApi;
use crate::core::tests::kit::{Kit, marked, sh, until};

fn dep(name: &str, kind: DepKind, until: DepCondition) -> Dependency {
    Dependency {
        unit: UnitName::new(name).unwrap(),
        kind,
        until,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_stop_restart_are_idempotent_and_leave_nothing() {
    let kit = Kit::new().await;
    kit.load(&[sh("web", UnitKind::Service, "sleep 300 & sleep 300")])
        .await;
    let r = kit.job(JobVerb::Start, &["web"]).await;
    assert!(r.outcomes[0].ok, "{r:?}");
    let s = kit.status("web").await;
    assert_eq!((s.active, s.sub), (ActiveState::Active, SubState::Running));
    let pid = s.main_pid.unwrap();
    assert!(
        s.log_tail
            .iter()
            .any(|l| l.text == format!("spawned pid {pid}")),
        "{:?}",
        s.log_tail
    );
    assert!(kit.job(JobVerb::Start, &["web"]).await.outcomes[0].ok);
    assert_eq!(
        kit.status("web").await.main_pid,
        Some(pid),
        "start of a running unit changes nothing"
    );
    until(10, "sh and two sleeps", async || marked(&kit.mark) == 3).await;
    // Concurrent restarts are serialized: never two instances.
    let (a, b) = tokio::join!(
        kit.job(JobVerb::Restart, &["web"]),
        kit.job(JobVerb::Restart, &["web"])
    );
    assert!(a.outcomes[0].ok && b.outcomes[0].ok);
    let s = kit.status("web").await;
    assert_ne!(s.main_pid, Some(pid));
    until(10, "one instance", async || marked(&kit.mark) == 3).await;
    assert_eq!(
        marked(&kit.mark),
        3,
        "one instance (sh and two sleeps), never two"
    );
    let r = kit.job(JobVerb::Stop, &["web"]).await;
    assert!(r.outcomes[0].ok);
    assert_eq!(kit.status("web").await.active, ActiveState::Inactive);
    assert_eq!(
        marked(&kit.mark),
        0,
        "the whole tree is gone when stop returns"
    );
    assert!(
        kit.job(JobVerb::Stop, &["web"]).await.outcomes[0].ok,
        "stopping a stopped unit is ok"
    );
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_units_are_not_found_and_nothing_happens() {
    let kit = Kit::new().await;
    kit.load(&[sh("web", UnitKind::Service, "sleep 300")]).await;
    let req = JobRequest {
        verb: JobVerb::Start,
        units: vec!["web".into(), "nope-*".into()],
        block: true,
        timeout_ms: None,
        failed_only: false,
        force: false,
        source: None,
    };
    let err = kit.sup.job(kit.project.clone(), req).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.message.contains("nope-*"));
    assert_eq!(kit.status("web").await.active, ActiveState::Inactive);
    let other = devctl_units::ProjectName::new("ghost").unwrap();
    let req = JobRequest {
        verb: JobVerb::Up,
        units: vec![],
        block: false,
        timeout_ms: None,
        failed_only: false,
        force: false,
        source: None,
    };
    assert_eq!(
        kit.sup.job(other, req).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependencies_start_in_order_until_ready_and_succeeded() {
    let kit = Kit::new().await;
    let codegen = sh("codegen", UnitKind::Build, "sleep 0.3; echo generated");
    let mut db = sh(
        "db",
        UnitKind::Service,
        "sleep 0.3; echo accepting connections; exec sleep 300",
    );
    db.ready = Some(Probe::readiness(ProbeCheck::Log {
        regex: "accepting".into(),
    }));
    let mut api = sh("api", UnitKind::Service, "exec sleep 300");
    api.deps = vec![
        dep("db", DepKind::Requires, DepCondition::Ready),
        dep("codegen", DepKind::Requires, DepCondition::Succeeded),
    ];
    kit.load(&[codegen, db, api]).await;
    let mut events = kit.sup.subscribe_events();
    let r = kit.job(JobVerb::Start, &["api"]).await;
    assert!(r.outcomes.iter().all(|o| o.ok), "{r:?}");
    let mut order = Vec::new();
    while let Ok(ev) = events.try_recv() {
        let unit = ev.unit.map(|u| u.to_string()).unwrap_or_default();
        match ev.kind {
            EventKind::StateChanged {
                sub: SubState::Ready,
                ..
            } => order.push(format!("{unit} ready")),
            EventKind::StateChanged {
                sub: SubState::Exited,
                ..
            } => order.push(format!("{unit} succeeded")),
            EventKind::Spawned { .. } if unit == "api" => order.push("api spawned".into()),
            _ => {}
        }
    }
    let pos = |s: &str| {
        order
            .iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("{s} missing in {order:?}"))
    };
    assert!(pos("db ready") < pos("api spawned"), "{order:?}");
    assert!(pos("codegen succeeded") < pos("api spawned"), "{order:?}");
    assert_eq!(
        kit.status("codegen").await.result,
        Some(UnitResult::Success)
    );
    // Stopping a required unit stops its dependents first.
    let r = kit.job(JobVerb::Stop, &["db"]).await;
    assert_eq!(r.stopped, vec![UnitName::new("api").unwrap()]);
    let api = kit.status("api").await;
    assert_eq!(
        (api.active, api.result),
        (ActiveState::Inactive, Some(UnitResult::Dependency))
    );
    assert!(api.message.clone().unwrap().contains("db"));
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_requirement_fails_dependents_but_wants_does_not() {
    let kit = Kit::new().await;
    let mut db = sh("db", UnitKind::Service, "sleep 0.2; exit 3");
    db.restart.mode = RestartMode::No;
    db.ready = Some(Probe::readiness(ProbeCheck::Log {
        regex: "never printed".into(),
    }));
    let mut redis = sh("redis", UnitKind::Service, "exit 4");
    redis.restart.mode = RestartMode::No;
    let mut api = sh("api", UnitKind::Service, "exec sleep 300");
    api.deps = vec![dep("db", DepKind::Requires, DepCondition::Ready)];
    let mut worker = sh("worker", UnitKind::Service, "exec sleep 300");
    worker.deps = vec![dep("redis", DepKind::Wants, DepCondition::Ready)];
    kit.load(&[db, redis, api, worker]).await;
    let r = kit.job(JobVerb::Start, &["api", "worker"]).await;
    let api = r
        .outcomes
        .iter()
        .find(|o| o.unit.as_str() == "api")
        .unwrap();
    assert!(!api.ok);
    assert_eq!(
        (api.active, api.result),
        (ActiveState::Failed, Some(UnitResult::Dependency))
    );
    assert_eq!(api.message.as_deref(), Some("required unit db failed"));
    let worker = r
        .outcomes
        .iter()
        .find(|o| o.unit.as_str() == "worker")
        .unwrap();
    assert!(worker.ok, "{worker:?}");
    let db = kit.status("db").await;
    assert_eq!(
        (db.active, db.result),
        (ActiveState::Failed, Some(UnitResult::ExitCode))
    );
    assert_eq!(db.last_exit.clone().unwrap().code, Some(3));
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_backs_off_then_hits_the_start_limit() {
    let kit = Kit::new().await;
    let mut u = sh("flaky", UnitKind::Service, "echo boom; exit 1");
    u.restart.backoff = Duration::from_millis(50);
    u.restart.max_delay = Duration::from_millis(200);
    u.restart.limit = 4;
    kit.load(&[u]).await;
    let mut events = kit.sup.subscribe_events();
    kit.job(JobVerb::Start, &["flaky"]).await;
    let s = kit
        .wait_state("flaky", ActiveState::Failed, SubState::Failed)
        .await;
    assert_eq!(s.result, Some(UnitResult::StartLimitHit));
    assert_eq!(s.restarts, 3);
    assert_eq!(s.restart_limit, 4);
    let mut delays = Vec::new();
    while let Ok(ev) = events.try_recv() {
        if let EventKind::RestartScheduled { attempt, delay_ms } = ev.kind {
            delays.push((attempt, delay_ms));
        }
    }
    assert_eq!(delays, [(1, 50), (2, 100), (3, 200)]);
    let text: Vec<String> = s.log_tail.iter().map(|l| l.text.clone()).collect();
    assert!(
        text.iter()
            .any(|t| t == "restarting in 100ms (attempt 2/4)"),
        "{text:?}"
    );
    assert!(text.iter().any(|t| t == "exited 1"), "{text:?}");
    assert!(
        text.iter().any(|t| t.starts_with("start limit hit")),
        "{text:?}"
    );
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_failure_fails_at_once_without_restart() {
    let kit = Kit::new().await;
    let mut u = sh("ghost", UnitKind::Service, "");
    u.command = Some(Command::Argv(vec!["/nonexistent/devctl-test-bin".into()]));
    kit.load(&[u]).await;
    let r = kit.job(JobVerb::Start, &["ghost"]).await;
    assert!(!r.outcomes[0].ok);
    let s = kit.status("ghost").await;
    assert_eq!(
        (s.active, s.result, s.restarts, s.main_pid),
        (ActiveState::Failed, Some(UnitResult::ExecFailed), 0, None)
    );
    assert!(
        s.message
            .clone()
            .unwrap()
            .contains("/nonexistent/devctl-test-bin")
    );
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_fails_naming_its_holder() {
    let kit = Kit::new().await;
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let mut u = sh("web", UnitKind::Service, "exec sleep 300");
    u.ports = vec![port];
    kit.load(&[u]).await;
    let r = kit.job(JobVerb::Start, &["web"]).await;
    assert!(!r.outcomes[0].ok);
    let s = kit.status("web").await;
    assert_eq!(
        (s.active, s.result),
        (ActiveState::Failed, Some(UnitResult::PortInUse))
    );
    let msg = s.message.clone().unwrap();
    assert!(msg.contains(&format!("port {port} in use")), "{msg}");
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    drop(holder);
    assert!(
        kit.job(JobVerb::Start, &["web"]).await.outcomes[0].ok,
        "a manual start re-arms it"
    );
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_never_reached_is_a_probe_timeout() {
    let kit = Kit::new().await;
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut u = sh("slow", UnitKind::Service, "exec sleep 300");
    u.ready = Some(Probe {
        period: Duration::from_millis(50),
        ..Probe::readiness(ProbeCheck::Tcp {
            host: "127.0.0.1".into(),
            port: free,
        })
    });
    u.start_timeout = Some(Duration::from_millis(400));
    u.restart.mode = RestartMode::No;
    let mut dependent = sh("c", UnitKind::Service, "exec sleep 300");
    dependent.deps = vec![dep("slow", DepKind::Requires, DepCondition::Ready)];
    kit.load(&[u, dependent]).await;
    let r = kit.job(JobVerb::Start, &["c"]).await;
    assert!(!r.outcomes[0].ok);
    let s = kit.status("slow").await;
    assert_eq!(
        (s.active, s.result, s.ready),
        (
            ActiveState::Failed,
            Some(UnitResult::ProbeTimeout),
            Some(false)
        )
    );
    assert_eq!(kit.status("c").await.result, Some(UnitResult::Dependency));
    until(10, "probe-timeout kills the tree", async || {
        marked(&kit.mark) == 0
    })
    .await;
    kit.finish().await;
}
