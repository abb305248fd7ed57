//! In-process core tests of the daemon (forking) kind and of builds with
//! real processes: a daemon tracked through its pid file until its pid
//! dies (then failed or restarted per policy), its stop command then the
//! whole-tree stop, a pid file naming a foreign process never adopted; build overall and idle timeouts killing the whole
//! tree; re-runs requested during a build queueing exactly one more; a
//! dependent restarted after its required build re-ran and kept serving
//! when the re-run failed; log history surviving a daemon crash. Every
//! process carries the test's marker and each test ends by proving none is
//! left.

use std::path::{Path, PathBuf};
use std::time::Duration;

use devctl_units::api::{JobVerb, UnitStatus};
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{DepCondition, DepKind, Dependency, RestartMode, Unit, UnitKind, UnitName};

use crate::core::handle::{CoreApi, LogQuery};
use crate::core::tests::kit::{Kit, marked, sh, until};

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

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

/// Ask for a job without waiting for its outcome.
async fn nowait(kit: &Kit, verb: JobVerb, unit: &str) {
    let req = devctl_units::api::JobRequest {
        verb,
        units: vec![unit.into()],
        block: false,
        timeout_ms: None,
        failed_only: false,
        force: false,
        source: None,
    };
    kit.sup.job(kit.project.clone(), req).await.unwrap();
}

fn alive(pid: u32) -> bool {
    crate::process::stat(pid as i32).is_some_and(|s| !s.is_zombie())
}

/// A forking daemon: the start command backgrounds `sleep` (setsid'd, so
/// it leaves the starter's group) and writes its pid; the stop command
/// leaves a trace.
fn daemon(dir: &Path, mode: RestartMode) -> Unit {
    let (pid, stopped) = (dir.join("d.pid"), dir.join("stopped"));
    let script = format!(
        "setsid sleep 300 > /dev/null 2>&1 & echo $! > {pid}; echo started",
        pid = pid.display()
    );
    let mut u = sh("forky", UnitKind::Daemon, &script);
    u.pid_file = Some(pid);
    u.stop.command = Some(vec![
        "/bin/sh".into(),
        "-c".into(),
        format!("touch {}", stopped.display()),
    ]);
    u.restart.mode = mode;
    u.restart.backoff = Duration::from_millis(100);
    u
}

fn tmpdir(kit: &Kit, name: &str) -> PathBuf {
    let d = kit.tmp.path().join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_is_tracked_by_its_pid_file_and_stopped_with_its_command() {
    let kit = Kit::new().await;
    let dir = tmpdir(&kit, "daemon");
    kit.load(&[daemon(&dir, RestartMode::No)]).await;
    let r = kit.job(JobVerb::Start, &["forky"]).await;
    assert!(r.outcomes[0].ok, "{r:?}");
    let s = kit.status("forky").await;
    let pid = read_pid(&dir.join("d.pid")).unwrap();
    assert_eq!((s.active, s.sub), (ActiveState::Active, SubState::Running));
    assert_eq!(s.main_pid, Some(pid), "the pid file names the main pid");
    assert!(text_of(&s).contains("started"), "{}", text_of(&s));
    until(10, "the starter is gone, the daemon lives", async || {
        marked(&kit.mark) == 1
    })
    .await;
    assert!(kit.job(JobVerb::Stop, &["forky"]).await.outcomes[0].ok);
    assert!(dir.join("stopped").exists(), "the stop command ran");
    assert!(!alive(pid), "the whole tree is stopped");
    assert_eq!(kit.status("forky").await.active, ActiveState::Inactive);

    // Its pid dies: failed (restart=no).
    assert!(kit.job(JobVerb::Start, &["forky"]).await.outcomes[0].ok);
    let pid = kit.status("forky").await.main_pid.unwrap();
    crate::process::PidFd::open(pid as i32)
        .unwrap()
        .send_signal(libc::SIGKILL)
        .unwrap();
    let s = kit
        .wait_state("forky", ActiveState::Failed, SubState::Failed)
        .await;
    assert_eq!(s.result, Some(UnitResult::ExitCode));
    assert!(
        text_of(&s).contains("main process exited"),
        "{}",
        text_of(&s)
    );
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_whose_pid_dies_is_restarted_on_failure() {
    let kit = Kit::new().await;
    let dir = tmpdir(&kit, "daemon");
    kit.load(&[daemon(&dir, RestartMode::OnFailure)]).await;
    assert!(kit.job(JobVerb::Start, &["forky"]).await.outcomes[0].ok);
    let first = kit.status("forky").await.main_pid.unwrap();
    crate::process::PidFd::open(first as i32)
        .unwrap()
        .send_signal(libc::SIGKILL)
        .unwrap();
    let mut last = None;
    until(20, "restarted with a new pid", async || {
        let s = kit.status("forky").await;
        let ok = s.restarts >= 1
            && s.active == ActiveState::Active
            && s.main_pid.is_some_and(|p| p != first);
        last = Some(s);
        ok
    })
    .await;
    let s = last.unwrap();
    assert_eq!(s.main_pid, read_pid(&dir.join("d.pid")));
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_without_a_live_pid_file_fails_to_start() {
    let kit = Kit::new().await;
    let dir = tmpdir(&kit, "daemon");
    let mut u = daemon(&dir, RestartMode::No);
    u.command = Some(devctl_units::Command::Shell(
        "setsid sleep 300 > /dev/null 2>&1 &".into(),
    ));
    u.start_timeout = Some(Duration::from_millis(300));
    let mut bad = daemon(&dir, RestartMode::No);
    bad.name = UnitName::new("failing").unwrap();
    bad.command = Some(devctl_units::Command::Shell("exit 3".into()));
    kit.load(&[u, bad]).await;
    let r = kit.job(JobVerb::Start, &["forky"]).await;
    assert!(!r.outcomes[0].ok);
    let s = kit.status("forky").await;
    assert_eq!(s.active, ActiveState::Failed);
    assert!(
        s.message
            .as_deref()
            .is_some_and(|m| m.contains("did not name a live process within 300ms")),
        "{:?}",
        s.message
    );
    assert_eq!(
        marked(&kit.mark),
        0,
        "the setsid'd process was stopped by its marker"
    );
    let r = kit.job(JobVerb::Start, &["failing"]).await;
    assert!(!r.outcomes[0].ok);
    let s = kit.status("failing").await;
    assert_eq!(s.result, Some(UnitResult::ExitCode));
    assert_eq!(s.message.as_deref(), Some("start command exited 3"));
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pid_file_naming_a_foreign_process_is_never_adopted() {
    let kit = Kit::new().await;
    let dir = tmpdir(&kit, "daemon");
    let mut u = daemon(&dir, RestartMode::No);
    // This test process: adopting it would mean signalling it at stop.
    let me = std::process::id();
    u.command = Some(devctl_units::Command::Shell(format!(
        "echo {me} > {}",
        dir.join("d.pid").display()
    )));
    u.start_timeout = Some(Duration::from_millis(300));
    kit.load(&[u]).await;
    let r = kit.job(JobVerb::Start, &["forky"]).await;
    assert!(!r.outcomes[0].ok);
    let s = kit.status("forky").await;
    assert_eq!(s.active, ActiveState::Failed);
    assert_eq!(
        s.message.as_deref(),
        Some(
            format!(
                "pid file {} did not name a live process of the unit (it names pid {me}) within 300ms",
                dir.join("d.pid").display()
            )
            .as_str()
        )
    );
    assert!(alive(me));
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_overall_and_idle_timeouts_kill_the_whole_tree() {
    let kit = Kit::new().await;
    let mut over = sh("over", UnitKind::Build, "sleep 300 & sleep 300");
    over.run_timeout = Some(Duration::from_millis(400));
    let mut idle = sh(
        "idle",
        UnitKind::Build,
        "for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 0.1; done; sleep 300 & sleep 300",
    );
    idle.idle_timeout = Some(Duration::from_millis(500));
    kit.load(&[over, idle]).await;
    let (a, b) = tokio::join!(
        kit.job(JobVerb::Start, &["over"]),
        kit.job(JobVerb::Start, &["idle"])
    );
    assert!(!a.outcomes[0].ok && !b.outcomes[0].ok);
    let s = kit.status("over").await;
    assert_eq!(
        (s.active, s.result),
        (ActiveState::Failed, Some(UnitResult::Timeout))
    );
    assert_eq!(s.message.as_deref(), Some("build timed out after 400ms"));
    let s = kit.status("idle").await;
    assert_eq!(
        (s.active, s.result),
        (ActiveState::Failed, Some(UnitResult::Timeout))
    );
    assert_eq!(
        s.message.as_deref(),
        Some("build produced no output for 500ms")
    );
    let log = text_of(&s);
    assert!(
        log.contains("tick 8"),
        "output kept the idle timer from firing early: {log}"
    );
    assert_eq!(marked(&kit.mark), 0, "both trees are gone");
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_runs_requested_during_a_build_queue_exactly_one_more() {
    let kit = Kit::new().await;
    let dir = tmpdir(&kit, "build");
    let (runs, go) = (dir.join("runs"), dir.join("go"));
    let script = format!(
        "echo run >> {runs}; while [ ! -e {go} ]; do sleep 0.02; done",
        runs = runs.display(),
        go = go.display()
    );
    kit.load(&[sh("gen", UnitKind::Build, &script)]).await;
    nowait(&kit, JobVerb::Start, "gen").await;
    until(20, "the first run", async || lines(&runs) == 1).await;
    for _ in 0..3 {
        nowait(&kit, JobVerb::Trigger, "gen").await;
    }
    assert_eq!(
        kit.status("gen").await.sub,
        SubState::Building,
        "triggers do not interrupt the running build"
    );
    std::fs::write(&go, b"").unwrap();
    let mut last = None;
    until(20, "the queued run finished", async || {
        let s = kit.status("gen").await;
        let done = lines(&runs) == 2 && s.sub == SubState::Exited;
        last = Some(s);
        done
    })
    .await;
    assert_eq!(lines(&runs), 2, "three triggers, one more run");
    let log = text_of(&last.unwrap());
    assert_eq!(log.matches("re-run queued").count(), 1, "{log}");
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuilt_requirement_restarts_its_dependent_and_a_failed_one_keeps_it() {
    let kit = Kit::new().await;
    let dir = tmpdir(&kit, "rebuild");
    let fail = dir.join("fail");
    let codegen = sh(
        "codegen",
        UnitKind::Build,
        &format!("test ! -e {}", fail.display()),
    );
    let mut api = sh("api", UnitKind::Service, "exec sleep 300");
    api.deps = vec![Dependency {
        unit: UnitName::new("codegen").unwrap(),
        kind: DepKind::Requires,
        until: DepCondition::Succeeded,
    }];
    kit.load(&[codegen, api]).await;
    let r = kit.job(JobVerb::Start, &["api"]).await;
    assert!(r.outcomes.iter().all(|o| o.ok), "{r:?}");
    let first = kit.status("api").await.main_pid.unwrap();
    nowait(&kit, JobVerb::Trigger, "codegen").await;
    let mut second = None;
    until(20, "api restarted after the rebuild", async || {
        let s = kit.status("api").await;
        second = s.main_pid.filter(|p| *p != first);
        second.is_some() && s.active == ActiveState::Active
    })
    .await;
    let second = second.unwrap();
    std::fs::write(&fail, b"").unwrap();
    nowait(&kit, JobVerb::Trigger, "codegen").await;
    until(20, "the re-run failed", async || {
        kit.status("codegen").await.active == ActiveState::Failed
    })
    .await;
    let s = kit.status("api").await;
    assert_eq!(
        (s.active, s.main_pid),
        (ActiveState::Active, Some(second)),
        "the old server keeps serving"
    );
    assert!(alive(second));
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_history_survives_a_daemon_crash() {
    let mut kit = Kit::new().await;
    kit.load(&[sh(
        "web",
        UnitKind::Service,
        "echo before the crash; exec sleep 300",
    )])
    .await;
    assert!(kit.job(JobVerb::Start, &["web"]).await.outcomes[0].ok);
    until(10, "the line is logged", async || {
        text_of(&kit.status("web").await).contains("before the crash")
    })
    .await;
    kit.sup.abandon().await;
    kit.reboot().await;
    // Recovery stops the old tree and starts the unit again; the old
    // run's lines are still in `status` and `logs`.
    until(20, "restarted after the crash", async || {
        let s = kit.status("web").await;
        s.active == ActiveState::Active && text_of(&s).matches("before the crash").count() == 2
    })
    .await;
    let out = kit
        .sup
        .logs(LogQuery {
            run: None,
            grep: None,
            stream: None,
            project: kit.project.clone(),
            units: Vec::new(),
            n: None,
            since_ms: None,
            follow: false,
        })
        .await
        .unwrap();
    let n = out
        .history
        .iter()
        .filter(|r| r.text == "before the crash")
        .count();
    assert_eq!(n, 2, "one line per run, the first from the crashed daemon");
    kit.finish().await;
}
