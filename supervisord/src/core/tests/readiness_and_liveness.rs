//! In-process core tests of readiness and liveness with real processes:
//! sd_notify (`READY=1`, `STATUS=`, `MAINPID=`, a foreign `MAINPID=`
//! refused), HTTP readiness reported within milliseconds of the listen,
//! log-line readiness on a line printed at once, and a failing liveness
//! probe restarting the unit with result `liveness`. Every process carries
//! the test's marker and each test ends by proving none is left.

use std::path::Path;
use std::time::Duration;

use devctl_units::api::{JobRequest, JobVerb, LogStream, UnitStatus};
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{Probe, ProbeCheck, RestartMode, UnitKind};

use crate::core::handle::CoreApi;
use crate::core::tests::kit::{Kit, sh, until};

/// Send `$1` to `$NOTIFY_SOCKET` as one datagram.
const NOTIFY_FN: &str = r#"notify() { python3 -c 'import os,socket,sys; s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); s.sendto(sys.argv[1].encode(),os.environ["NOTIFY_SOCKET"])' "$1"; }"#;

/// Ask for a start without waiting for the outcome.
async fn start_nowait(kit: &Kit, unit: &str) {
    let req = JobRequest {
        verb: JobVerb::Start,
        units: vec![unit.into()],
        block: false,
        timeout_ms: None,
        failed_only: false,
        force: false,
        source: None,
    };
    kit.sup.job(kit.project.clone(), req).await.unwrap();
}

/// A port nothing listens on, below the ephemeral range (so another test's
/// `bind(0)` cannot be handed the same port before the service binds it).
fn free_port() -> u16 {
    let seed = crate::process::invocation_id()
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    (0..12_000u32)
        .map(|i| 20_000 + ((seed + i) % 12_000) as u16)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port between 20000 and 32000")
}

fn text_of(s: &UnitStatus) -> String {
    s.log_tail
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_ready_status_and_mainpid() {
    let kit = Kit::new().await;
    let dir = kit.tmp.path().join("notify");
    std::fs::create_dir_all(&dir).unwrap();
    let (go, child) = (dir.join("go"), dir.join("child.pid"));
    let script = format!(
        "{NOTIFY_FN}\n\
         notify 'STATUS=warming up'\n\
         while [ ! -e {go} ]; do sleep 0.02; done\n\
         sleep 300 & echo $! > {child}\n\
         notify 'MAINPID=1'\n\
         notify \"$(printf 'STATUS=serving\\nREADY=1\\nMAINPID=%s' $!)\"\n\
         wait",
        go = go.display(),
        child = child.display(),
    );
    let mut u = sh("svc", UnitKind::Service, &script);
    u.ready = Some(Probe::readiness(ProbeCheck::Notify));
    kit.load(&[u]).await;
    start_nowait(&kit, "svc").await;
    until(20, "STATUS=warming up shown while starting", async || {
        let s = kit.status("svc").await;
        s.notify_status.as_deref() == Some("warming up") && s.active == ActiveState::Activating
    })
    .await;
    assert_eq!(kit.status("svc").await.ready, Some(false));
    std::fs::write(&go, b"").unwrap();
    let s = kit
        .wait_state("svc", ActiveState::Active, SubState::Ready)
        .await;
    assert_eq!(s.ready, Some(true));
    assert_eq!(s.notify_status.as_deref(), Some("serving"));
    let child_pid = read_pid(&child).expect("the service wrote its child's pid");
    until(20, "MAINPID= moves the main pid", async || {
        kit.status("svc").await.main_pid == Some(child_pid)
    })
    .await;
    let log = text_of(&kit.status("svc").await);
    assert!(
        log.contains("notify message ignored: MAINPID=1 is not a process of the unit"),
        "{log}"
    );
    assert!(kit.job(JobVerb::Stop, &["svc"]).await.outcomes[0].ok);
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_readiness_is_reported_within_milliseconds_of_the_listen() {
    let kit = Kit::new().await;
    let port = free_port();
    // A long period: without the listen watcher, readiness would lag by
    // up to the schedule's current delay (hundreds of ms after 1.5 s).
    let script = format!("sleep 1.5; exec python3 -u -m http.server {port} --bind 127.0.0.1 -d /");
    let mut u = sh("web", UnitKind::Service, &script);
    u.ready = Some(Probe {
        period: Duration::from_secs(10),
        ..Probe::readiness(ProbeCheck::Http {
            url: format!("http://127.0.0.1:{port}/"),
            status: Some(200),
        })
    });
    kit.load(&[u]).await;
    let r = kit.job(JobVerb::Start, &["web"]).await;
    assert!(r.outcomes[0].ok, "{r:?}");
    let s = kit.status("web").await;
    assert_eq!((s.active, s.sub), (ActiveState::Active, SubState::Ready));
    let at = |pred: &dyn Fn(&str, LogStream) -> bool| {
        s.log_tail
            .iter()
            .find(|l| pred(&l.text, l.stream))
            .map(|l| l.time_us)
    };
    let serving = at(&|t, st| st == LogStream::Stdout && t.starts_with("Serving HTTP"))
        .unwrap_or_else(|| panic!("no Serving line: {}", text_of(&s)));
    let ready = at(&|t, st| st == LogStream::Marker && t == "ready").unwrap();
    let lag_ms = ready.saturating_sub(serving) / 1000;
    // The period is 10 s: readiness within 2 s can only come from the
    // listen wake-up (the bench measures the real figure, ~ms).
    assert!(
        lag_ms < 2000,
        "ready {lag_ms} ms after the server listened:\n{}",
        text_of(&s)
    );
    assert!(kit.job(JobVerb::Stop, &["web"]).await.outcomes[0].ok);
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_line_printed_at_once_makes_the_unit_ready() {
    let kit = Kit::new().await;
    let mut u = sh(
        "logr",
        UnitKind::Service,
        "echo 'listening on :8080'; exec sleep 300",
    );
    u.ready = Some(Probe::readiness(ProbeCheck::Log {
        regex: r"listening on :\d+".into(),
    }));
    u.start_timeout = Some(Duration::from_secs(20));
    kit.load(&[u]).await;
    let r = kit.job(JobVerb::Start, &["logr"]).await;
    assert!(r.outcomes[0].ok, "{r:?}");
    let s = kit.status("logr").await;
    assert_eq!((s.active, s.sub), (ActiveState::Active, SubState::Ready));
    assert!(
        text_of(&s).contains("readiness line matched: listening on :8080"),
        "{}",
        text_of(&s)
    );
    assert!(kit.job(JobVerb::Stop, &["logr"]).await.outcomes[0].ok);
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_liveness_restarts_with_result_liveness() {
    let kit = Kit::new().await;
    let alive = kit.tmp.path().join("alive");
    std::fs::write(&alive, b"").unwrap();
    let mut u = sh("live", UnitKind::Service, "exec sleep 300");
    u.alive = Some(Probe {
        period: Duration::from_millis(100),
        failure_threshold: 2,
        ..Probe::liveness(ProbeCheck::Exec(vec![
            "test".into(),
            "-e".into(),
            alive.display().to_string(),
        ]))
    });
    u.restart.mode = RestartMode::OnFailure;
    u.restart.backoff = Duration::from_millis(100);
    kit.load(&[u]).await;
    assert!(kit.job(JobVerb::Start, &["live"]).await.outcomes[0].ok);
    let first = kit.status("live").await.main_pid.unwrap();
    std::fs::remove_file(&alive).unwrap();
    let mut seen = None;
    until(20, "a liveness restart", async || {
        let s = kit.status("live").await;
        let hit = s.restarts >= 1 && s.result == Some(UnitResult::Liveness);
        seen = Some(s);
        hit
    })
    .await;
    let s = seen.unwrap();
    assert!(
        s.message
            .as_deref()
            .is_some_and(|m| m.starts_with("liveness probe failed: exited 1")),
        "{:?}",
        s.message
    );
    std::fs::write(&alive, b"").unwrap();
    let s = kit
        .wait_state("live", ActiveState::Active, SubState::Running)
        .await;
    assert_ne!(s.main_pid, Some(first), "a new process after the restart");
    assert!(kit.job(JobVerb::Stop, &["live"]).await.outcomes[0].ok);
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_readiness_after_ready_is_not_ready_without_a_restart() {
    let kit = Kit::new().await;
    let ok = kit.tmp.path().join("ok");
    std::fs::write(&ok, b"").unwrap();
    let mut u = sh("flap", UnitKind::Service, "exec sleep 300");
    u.ready = Some(Probe {
        period: Duration::from_millis(100),
        failure_threshold: 2,
        ..Probe::readiness(ProbeCheck::Exec(vec![
            "test".into(),
            "-e".into(),
            ok.display().to_string(),
        ]))
    });
    kit.load(&[u]).await;
    assert!(kit.job(JobVerb::Start, &["flap"]).await.outcomes[0].ok);
    let pid = kit.status("flap").await.main_pid;
    std::fs::remove_file(&ok).unwrap();
    let s = kit
        .wait_state("flap", ActiveState::Active, SubState::NotReady)
        .await;
    assert_eq!(s.ready, Some(false));
    assert_eq!(
        s.message.as_deref(),
        Some("readiness probe failing: exited 1")
    );
    std::fs::write(&ok, b"").unwrap();
    let s = kit
        .wait_state("flap", ActiveState::Active, SubState::Ready)
        .await;
    assert_eq!(s.message, None, "the failure message goes with the failure");
    assert_eq!(
        (s.main_pid, s.restarts),
        (pid, 0),
        "readiness never restarts"
    );
    assert!(kit.job(JobVerb::Stop, &["flap"]).await.outcomes[0].ok);
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notify_socket_that_cannot_be_created_fails_the_start() {
    let kit = Kit::new().await;
    let notify_dir = kit.paths.notify_dir();
    if let Some(parent) = notify_dir.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    let _ = std::fs::remove_dir_all(&notify_dir);
    std::fs::write(&notify_dir, b"a file where the socket directory goes").unwrap();
    let mut u = sh("svc", UnitKind::Service, "exec sleep 300");
    u.ready = Some(Probe::readiness(ProbeCheck::Notify));
    u.restart.mode = RestartMode::No;
    kit.load(&[u]).await;
    let r = kit.job(JobVerb::Start, &["svc"]).await;
    assert!(!r.outcomes[0].ok);
    let s = kit.status("svc").await;
    assert_eq!(
        (s.active, s.result),
        (ActiveState::Failed, Some(UnitResult::ExecFailed))
    );
    let msg = s.message.clone().unwrap_or_default();
    assert!(msg.starts_with("notify socket "), "{msg}");
    kit.finish().await;
}
