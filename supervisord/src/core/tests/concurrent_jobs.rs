//! In-process core tests of concurrent jobs on one unit: every blocking
//! job gets a definite answer. A job overtaken by a conflicting one is
//! answered `ok: false` ("superseded by a later …"), jobs with the same goal
//! are merged, a `wait` ends when the unit is stopped under it, and never
//! more than one instance runs. Commands sent from one `join!` reach the
//! manager in order, so each test's serialized order is known.

use std::time::Duration;

use devctl_units::api::{JobRequest, JobResponse, JobVerb, WaitFor, WaitRequest};
use devctl_units::state::{ActiveState, SubState};
use devctl_units::{
    DepCondition, DepKind, Dependency, Probe, ProbeCheck, Unit, UnitKind, UnitName,
};

use crate::core::handle::CoreApi;
use crate::core::tests::kit::{Kit, marked, sh, until};

/// A service that starts at once and never becomes ready.
fn never_ready() -> Unit {
    let mut u = sh("web", UnitKind::Service, "exec sleep 300");
    u.ready = Some(Probe::readiness(ProbeCheck::Log {
        regex: "never printed".into(),
    }));
    u.start_timeout = Some(Duration::from_secs(300));
    u
}

/// A service that is ready once it printed its line.
fn ready_after_line() -> Unit {
    let mut u = sh(
        "web",
        UnitKind::Service,
        "sleep 0.2; echo up; exec sleep 300",
    );
    u.ready = Some(Probe::readiness(ProbeCheck::Log {
        regex: "^up$".into(),
    }));
    u.start_timeout = Some(Duration::from_secs(60));
    u
}

/// A blocking job whose own timeout is far beyond any test's patience.
async fn job(kit: &Kit, verb: JobVerb) -> JobResponse {
    let req = JobRequest {
        verb,
        units: vec!["web".into()],
        block: true,
        timeout_ms: Some(600_000),
        failed_only: false,
        force: false,
        source: None,
    };
    kit.sup.job(kit.project.clone(), req).await.unwrap()
}

/// Must answer long before the job's own timeout.
async fn answered<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer"))
}

fn message(r: &JobResponse) -> Option<&str> {
    r.outcomes[0].message.as_deref()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_overtaken_by_a_stop_is_answered_superseded() {
    let kit = Kit::new().await;
    // Never ready: the start is surely still waiting when the stop comes.
    kit.load(&[never_ready()]).await;
    let (start, stop) = answered("start + stop", async {
        tokio::join!(job(&kit, JobVerb::Start), job(&kit, JobVerb::Stop))
    })
    .await;
    assert!(!start.outcomes[0].ok, "{start:?}");
    assert!(!start.timed_out);
    assert_eq!(message(&start), Some("superseded by a later stop"));
    assert!(stop.outcomes[0].ok, "{stop:?}");
    assert_eq!(kit.status("web").await.active, ActiveState::Inactive);
    until(10, "nothing running", async || marked(&kit.mark) == 0).await;
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_overtaken_by_a_start_is_answered_superseded() {
    let kit = Kit::new().await;
    // The stop takes a moment (the service cleans up on SIGTERM), so the
    // start surely arrives while it is in flight.
    kit.load(&[sh(
        "web",
        UnitKind::Service,
        "trap 'sleep 0.5; exit 0' TERM; sleep 300 & wait",
    )])
    .await;
    assert!(job(&kit, JobVerb::Start).await.outcomes[0].ok);
    let (stop, start) = answered("stop + start", async {
        tokio::join!(job(&kit, JobVerb::Stop), job(&kit, JobVerb::Start))
    })
    .await;
    assert!(!stop.outcomes[0].ok, "{stop:?}");
    assert_eq!(message(&stop), Some("superseded by a later start"));
    assert!(start.outcomes[0].ok, "{start:?}");
    let s = kit.status("web").await;
    assert_eq!((s.active, s.sub), (ActiveState::Active, SubState::Running));
    until(10, "one instance: its shell and sleep", async || {
        marked(&kit.mark) == 2
    })
    .await;
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_restarts_are_merged_and_both_answered_ok() {
    let kit = Kit::new().await;
    kit.load(&[ready_after_line()]).await;
    assert!(job(&kit, JobVerb::Start).await.outcomes[0].ok);
    let first = kit.status("web").await.main_pid;
    let (a, b) = answered("two restarts", async {
        tokio::join!(job(&kit, JobVerb::Restart), job(&kit, JobVerb::Restart))
    })
    .await;
    assert!(a.outcomes[0].ok && b.outcomes[0].ok, "{a:?} {b:?}");
    let s = kit.status("web").await;
    assert_eq!((s.active, s.sub), (ActiveState::Active, SubState::Ready));
    assert_ne!(s.main_pid, first);
    until(10, "one instance", async || marked(&kit.mark) == 1).await;
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_during_a_start_waiting_for_readiness_answers_both() {
    let kit = Kit::new().await;
    kit.load(&[never_ready()]).await;
    let start = tokio::spawn({
        let sup = kit.sup.clone();
        let project = kit.project.clone();
        async move {
            let req = JobRequest {
                verb: JobVerb::Start,
                units: vec!["web".into()],
                block: true,
                timeout_ms: Some(600_000),
                failed_only: false,
                force: false,
                source: None,
            };
            sup.job(project, req).await.unwrap()
        }
    });
    kit.wait_state("web", ActiveState::Activating, SubState::Starting)
        .await;
    let stop = answered("stop", job(&kit, JobVerb::Stop)).await;
    assert!(stop.outcomes[0].ok, "{stop:?}");
    let start = answered("start", start).await.unwrap();
    assert!(!start.outcomes[0].ok, "{start:?}");
    assert!(!start.timed_out);
    assert_eq!(message(&start), Some("superseded by a later stop"));
    assert_eq!(kit.status("web").await.active, ActiveState::Inactive);
    assert_eq!(marked(&kit.mark), 0, "the tree is gone when stop returns");
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_for_ready_ends_when_another_client_stops_the_unit() {
    let kit = Kit::new().await;
    kit.load(&[never_ready()]).await;
    let start = JobRequest {
        verb: JobVerb::Start,
        units: vec!["web".into()],
        block: false,
        timeout_ms: None,
        failed_only: false,
        force: false,
        source: None,
    };
    kit.sup
        .job(kit.project.clone(), start.clone())
        .await
        .unwrap();
    kit.wait_state("web", ActiveState::Activating, SubState::Starting)
        .await;
    let wait = WaitRequest {
        units: vec!["web".into()],
        condition: WaitFor::Ready,
        timeout_ms: Some(600_000),
    };
    let (w, stop) = answered("wait + stop", async {
        tokio::join!(
            kit.sup.wait(kit.project.clone(), wait.clone()),
            job(&kit, JobVerb::Stop)
        )
    })
    .await;
    let w = w.unwrap();
    assert!(!w.ok && !w.timed_out, "{w:?}");
    assert_eq!(
        w.outcomes[0].message.as_deref(),
        Some("superseded by a later stop")
    );
    assert!(stop.outcomes[0].ok, "{stop:?}");
    // Its own timeout still ends a wait that nothing else decides.
    kit.sup.job(kit.project.clone(), start).await.unwrap();
    let short = WaitRequest {
        timeout_ms: Some(200),
        ..wait
    };
    let w = answered("short wait", kit.sup.wait(kit.project.clone(), short))
        .await
        .unwrap();
    assert!(!w.ok && w.timed_out, "{w:?}");
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_stop_start_restart_all_answer_and_the_last_wins() {
    let kit = Kit::new().await;
    kit.load(&[sh("web", UnitKind::Service, "exec sleep 300")])
        .await;
    assert!(job(&kit, JobVerb::Start).await.outcomes[0].ok);
    let (r1, stop, start, r2) = answered("four jobs", async {
        tokio::join!(
            job(&kit, JobVerb::Restart),
            job(&kit, JobVerb::Stop),
            job(&kit, JobVerb::Start),
            job(&kit, JobVerb::Restart)
        )
    })
    .await;
    assert_eq!(message(&r1), Some("superseded by a later stop"), "{r1:?}");
    assert_eq!(
        message(&stop),
        Some("superseded by a later start"),
        "{stop:?}"
    );
    assert!(!r1.outcomes[0].ok && !stop.outcomes[0].ok);
    assert!(
        start.outcomes[0].ok && r2.outcomes[0].ok,
        "{start:?} {r2:?}"
    );
    let s = kit.status("web").await;
    assert_eq!((s.active, s.sub), (ActiveState::Active, SubState::Running));
    until(10, "one instance", async || marked(&kit.mark) == 1).await;
    assert!(job(&kit, JobVerb::Stop).await.outcomes[0].ok);
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_while_waiting_for_a_dependency_merges_with_the_start() {
    let kit = Kit::new().await;
    let flag = kit.tmp.path().join("db-ready");
    let mut db = sh("db", UnitKind::Service, "exec sleep 300");
    db.ready = Some(Probe {
        period: Duration::from_millis(100),
        ..Probe::readiness(ProbeCheck::Exec(vec![
            "test".into(),
            "-e".into(),
            flag.display().to_string(),
        ]))
    });
    db.start_timeout = Some(Duration::from_secs(300));
    let mut web = sh("web", UnitKind::Service, "exec sleep 300");
    web.deps = vec![Dependency {
        unit: UnitName::new("db").unwrap(),
        kind: DepKind::Requires,
        until: DepCondition::Ready,
    }];
    kit.load(&[db, web]).await;
    let start = tokio::spawn({
        let sup = kit.sup.clone();
        let project = kit.project.clone();
        async move {
            let req = JobRequest {
                verb: JobVerb::Start,
                units: vec!["web".into()],
                block: true,
                timeout_ms: Some(600_000),
                failed_only: false,
                force: false,
                source: None,
            };
            sup.job(project, req).await.unwrap()
        }
    });
    kit.wait_state("web", ActiveState::Activating, SubState::WaitingDeps)
        .await;
    // `join!` polls in order: the restart reaches the manager before the
    // status query, so db becomes ready only after the restart is queued.
    let (restart, ()) = answered("restart", async {
        tokio::join!(job(&kit, JobVerb::Restart), async {
            let s = kit.status("web").await;
            assert_eq!(s.sub, SubState::WaitingDeps, "{s:?}");
            std::fs::write(&flag, b"").unwrap();
        })
    })
    .await;
    let start = answered("start", start).await.unwrap();
    let web_ok = |r: &JobResponse| r.outcomes.iter().any(|o| o.unit.as_str() == "web" && o.ok);
    assert!(web_ok(&start) && web_ok(&restart), "{start:?} {restart:?}");
    let s = kit.status("web").await;
    assert_eq!((s.active, s.sub), (ActiveState::Active, SubState::Running));
    until(10, "db and one web", async || marked(&kit.mark) == 2).await;
    kit.finish().await;
}
