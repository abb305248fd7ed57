//! In-process tests of enablement, `up`/`down`, sessions and persistence:
//! disabling with `--now`, `up` with names, enabling without starting,
//! boot projects, crash recovery with zero duplicates and zero orphans,
//! corrupt and unwritable state.

use devctl_units::api::{EnableRequest, ErrorKind, JobVerb, LoadRequest, Origin};
use devctl_units::state::{ActiveState, EnableState};
use devctl_units::{ProjectName, Unit, UnitKind, UnitName};

use crate::core::handle::CoreApi;
use crate::core::tests::kit::{Kit, marked, sh, until};

fn four() -> Vec<Unit> {
    ["paulie", "roberta", "joe", "juliana"]
        .iter()
        .map(|n| sh(n, UnitKind::Service, "exec sleep 300"))
        .collect()
}

fn enable(units: &[&str], enable: bool, now: bool) -> EnableRequest {
    EnableRequest {
        units: units.iter().map(|s| s.to_string()).collect(),
        enable,
        now,
        boot: false,
        block: true,
        timeout_ms: Some(20_000),
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_now_stops_the_unit_and_persists_across_a_daemon_restart() {
    let mut kit = Kit::new().await;
    kit.load(&four()).await;
    kit.job(JobVerb::Up, &[]).await;
    assert_eq!(
        sorted(kit.running().await),
        ["joe", "juliana", "paulie", "roberta"]
    );
    let r = kit
        .sup
        .enablement(kit.project.clone(), enable(&["paulie"], false, true))
        .await
        .unwrap();
    assert_eq!(
        r.changed,
        vec![(
            devctl_units::UnitName::new("paulie").unwrap(),
            EnableState::Disabled
        )]
    );
    assert_eq!(kit.status("paulie").await.active, ActiveState::Inactive);
    kit.sup.shutdown().await;
    until(10, "clean stop", async || marked(&kit.mark) == 0).await;
    kit.reboot().await;
    assert!(!kit.sup.info().recovered);
    assert!(kit.running().await.is_empty(), "project has no boot flag");
    kit.job(JobVerb::Up, &[]).await;
    assert_eq!(sorted(kit.running().await), ["joe", "juliana", "roberta"]);
    assert_eq!(kit.status("paulie").await.enabled, EnableState::Disabled);
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_with_names_runs_exactly_those_units() {
    let kit = Kit::new().await;
    kit.load(&four()).await;
    let r = kit.job(JobVerb::Up, &["paulie", "roberta"]).await;
    assert!(r.outcomes.iter().all(|o| o.ok), "{r:?}");
    assert_eq!(sorted(kit.running().await), ["paulie", "roberta"]);
    kit.job(JobVerb::Stop, &["paulie"]).await;
    kit.job(JobVerb::Up, &["paulie", "roberta"]).await;
    assert_eq!(sorted(kit.running().await), ["paulie", "roberta"]);
    kit.job(JobVerb::Start, &["joe"]).await;
    assert_eq!(sorted(kit.running().await), ["joe", "paulie", "roberta"]);
    let r = kit.job(JobVerb::Up, &["paulie", "roberta"]).await;
    assert_eq!(
        r.stopped.iter().map(|u| u.to_string()).collect::<Vec<_>>(),
        ["joe"]
    );
    assert_eq!(sorted(kit.running().await), ["paulie", "roberta"]);
    assert_eq!(
        kit.status("joe").await.enabled,
        EnableState::Enabled,
        "up never touches enablement"
    );
    let r = kit.job(JobVerb::Down, &[]).await;
    assert!(r.outcomes.iter().all(|o| o.ok));
    assert!(kit.running().await.is_empty());
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enable_without_now_does_not_start() {
    let kit = Kit::new().await;
    let mut units = four();
    units[1].enabled = false;
    kit.load(&units).await;
    kit.sup
        .enablement(kit.project.clone(), enable(&["roberta"], true, false))
        .await
        .unwrap();
    assert_eq!(kit.status("roberta").await.active, ActiveState::Inactive);
    assert_eq!(kit.status("roberta").await.enabled, EnableState::Enabled);
    let r = kit
        .sup
        .enablement(kit.project.clone(), enable(&["roberta"], true, true))
        .await
        .unwrap();
    assert!(r.job.unwrap().outcomes[0].ok);
    assert_eq!(kit.status("roberta").await.active, ActiveState::Active);
    kit.sup
        .enablement(kit.project.clone(), enable(&["roberta"], false, false))
        .await
        .unwrap();
    let s = kit.status("roberta").await;
    assert_eq!(
        (s.active, s.enabled, s.enabled_default),
        (ActiveState::Active, EnableState::Disabled, false)
    );
    // A manifest edit keeps the override; removing the unit drops it.
    let mut edited = four();
    edited[1].description = Some("edited".into());
    let r = kit.load(&edited).await;
    assert_eq!(
        r.changed.iter().map(|u| u.to_string()).collect::<Vec<_>>(),
        ["roberta"]
    );
    assert_eq!(r.restarted.len(), 1, "a running changed unit is restarted");
    assert_eq!(kit.status("roberta").await.enabled, EnableState::Disabled);
    let r = kit.load(&edited).await;
    assert_eq!(
        (r.unchanged, r.restarted.len()),
        (4, 0),
        "a no-op reload restarts nothing"
    );
    let r = kit.load(&edited[..1]).await;
    assert_eq!(r.removed.len(), 3);
    assert_eq!(
        r.stopped.iter().map(|u| u.to_string()).collect::<Vec<_>>(),
        ["roberta"]
    );
    kit.load(&edited).await;
    assert_eq!(
        kit.status("roberta").await.enabled,
        EnableState::Enabled,
        "override dropped with the unit"
    );
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_projects_come_up_on_a_new_session() {
    let mut kit = Kit::new().await;
    kit.load(&four()[..2]).await;
    let b = ProjectName::new("b").unwrap();
    let req = LoadRequest {
        manifest: "/tmp/b.kdl".into(),
        root: "/tmp".into(),
        units: [sh("other", UnitKind::Service, "exec sleep 300")]
            .iter()
            .map(|u| (u.file_name(), devctl_units::to_unit_file(u)))
            .collect(),
    };
    kit.sup.load_project(b.clone(), req).await.unwrap();
    let boot = EnableRequest {
        units: vec![],
        enable: true,
        now: false,
        boot: true,
        block: false,
        timeout_ms: None,
    };
    assert!(
        kit.sup
            .enablement(kit.project.clone(), boot)
            .await
            .unwrap()
            .boot
    );
    kit.sup.shutdown().await;
    kit.reboot().await;
    kit.wait_state(
        "paulie",
        ActiveState::Active,
        devctl_units::state::SubState::Running,
    )
    .await;
    assert_eq!(sorted(kit.running().await), ["paulie", "roberta"]);
    let other = kit.sup.units(Some(b)).await.unwrap();
    assert_eq!(other[0].active, ActiveState::Inactive);
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_recovery_kills_leftovers_and_restarts_once() {
    let mut kit = Kit::new().await;
    let mut units = four();
    units.push(sh(
        "tree",
        UnitKind::Service,
        "sleep 300 & (setsid sleep 300 &); exec sleep 300",
    ));
    kit.load(&units).await;
    kit.job(JobVerb::Up, &[]).await;
    let before = kit.sup.info();
    until(10, "all processes visible", async || marked(&kit.mark) == 7).await;
    let old_pid = kit.status("paulie").await.main_pid;
    kit.sup.abandon().await;
    assert_eq!(marked(&kit.mark), 7, "a crash leaves the processes running");
    assert!(kit.paths.session_file().exists());
    kit.reboot().await;
    let info = kit.sup.info();
    assert!(info.recovered);
    assert_eq!(info.session_id, before.session_id, "the session continues");
    for u in ["paulie", "roberta", "joe", "juliana", "tree"] {
        kit.wait_state(
            u,
            ActiveState::Active,
            devctl_units::state::SubState::Running,
        )
        .await;
    }
    until(10, "exactly one instance of each", async || {
        marked(&kit.mark) == 7
    })
    .await;
    let s = kit.status("paulie").await;
    assert_eq!(s.origin, Some(Origin::Restarted));
    assert_ne!(s.main_pid, old_pid);
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_state_is_set_aside_and_the_daemon_works() {
    let mut kit = Kit::new().await;
    kit.load(&four()[..1]).await;
    kit.sup.shutdown().await;
    std::fs::write(kit.paths.session_file(), b"{\"version\":1,\"sess").unwrap();
    std::fs::write(kit.paths.project_file(&kit.project), b"\0\0\0").unwrap();
    kit.reboot().await;
    assert!(!kit.sup.info().recovered);
    assert!(
        kit.sup.projects().await.is_empty(),
        "the corrupt project is skipped"
    );
    let aside: Vec<String> = std::fs::read_dir(&kit.paths.state)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("session.json.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1);
    kit.load(&four()[..1]).await;
    assert!(kit.job(JobVerb::Start, &["paulie"]).await.outcomes[0].ok);
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_failure_rolls_back_and_keeps_the_old_file() {
    let kit = Kit::new().await;
    kit.load(&four()).await;
    let file = kit.paths.project_file(&kit.project);
    let old = std::fs::read(&file).unwrap();
    // A directory where the temp file goes makes every write fail.
    let tmp = file.with_file_name(format!("project.json.tmp-{}", std::process::id()));
    std::fs::create_dir(&tmp).unwrap();
    let err = kit
        .sup
        .enablement(kit.project.clone(), enable(&["joe"], false, true))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Storage);
    assert_eq!(std::fs::read(&file).unwrap(), old, "the old file is intact");
    let s = kit.status("joe").await;
    assert_eq!(
        (s.enabled, s.active),
        (EnableState::Enabled, ActiveState::Inactive),
        "nothing changed in memory"
    );
    std::fs::remove_dir(&tmp).unwrap();
    kit.sup
        .enablement(kit.project.clone(), enable(&["joe"], false, false))
        .await
        .unwrap();
    assert_eq!(kit.status("joe").await.enabled, EnableState::Disabled);
    kit.finish().await;
}

/// `cat` shows the persisted file, and a load whose project file cannot
/// be written puts the previous unit files back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_that_cannot_persist_puts_the_old_unit_files_back() {
    let kit = Kit::new().await;
    let units = four();
    kit.load(&units).await;
    let name = UnitName::new("paulie").unwrap();
    let shown = kit
        .sup
        .unit_file(kit.project.clone(), name.clone())
        .await
        .unwrap();
    assert_eq!(shown, devctl_units::to_unit_file(&units[0]));
    let dir = kit.paths.units_dir(&kit.project);
    let files = |dir: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().into_string().unwrap(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = files(&dir);
    // The project file cannot be written (a directory where its temp file
    // goes); the load changes a unit and the manifest path.
    let file = kit.paths.project_file(&kit.project);
    let tmp = file.with_file_name(format!("project.json.tmp-{}", std::process::id()));
    std::fs::create_dir(&tmp).unwrap();
    let mut changed = units.clone();
    changed[0] = sh("paulie", UnitKind::Service, "exec sleep 301");
    let err = kit
        .try_load(Kit::request("/elsewhere", &changed))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Storage);
    assert_eq!(files(&dir), before, "the previous unit files are back");
    assert_eq!(
        kit.sup.unit_file(kit.project.clone(), name).await.unwrap(),
        shown
    );
    std::fs::remove_dir(&tmp).unwrap();
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_unit_files_change_nothing() {
    let kit = Kit::new().await;
    kit.load(&four()[..1]).await;
    let req = LoadRequest {
        manifest: "/tmp/devctl.kdl".into(),
        root: "/tmp".into(),
        units: [("bad.service".to_string(), "[Bogus]\nx=y\n".to_string())].into(),
    };
    let err = kit.try_load(req).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidUnits);
    assert!(err.message.contains("bad.service"));
    let names: Vec<String> = kit
        .sup
        .units(Some(kit.project.clone()))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(names, ["paulie"]);
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persisted_unit_file_that_no_longer_loads_shows_load_error() {
    use devctl_units::state::LoadState;
    let mut kit = Kit::new().await;
    let mut units = four();
    units.truncate(2);
    units[1].kind = UnitKind::Build;
    kit.load(&units).await;
    assert!(kit.job(JobVerb::Start, &["paulie"]).await.outcomes[0].ok);
    kit.sup.shutdown().await;
    let dir = kit.paths.units_dir(&kit.project);
    let file = dir.join("roberta.service");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}X-Devctl-Bogus=1\n")).unwrap();
    kit.reboot().await;
    let s = kit.status("roberta").await;
    assert_eq!(s.load, LoadState::Error);
    assert_eq!(s.kind, UnitKind::Build, "the kind the file declares");
    assert_eq!(s.active, ActiveState::Inactive);
    let msg = s.message.clone().unwrap_or_default();
    assert!(
        msg.starts_with("roberta.service does not load: ") && msg.contains("X-Devctl-Bogus"),
        "{msg}"
    );
    let all = kit.sup.units(Some(kit.project.clone())).await.unwrap();
    let loads: Vec<(String, LoadState)> =
        all.iter().map(|s| (s.name.to_string(), s.load)).collect();
    assert_eq!(
        loads,
        [
            ("paulie".to_string(), LoadState::Loaded),
            ("roberta".to_string(), LoadState::Error)
        ]
    );
    assert!(
        !kit.status("paulie").await.log_tail.is_empty(),
        "the loadable unit keeps its history"
    );
    // Loading the project again replaces the broken file.
    kit.load(&units).await;
    assert_eq!(kit.status("roberta").await.load, LoadState::Loaded);
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_log_directory_is_a_fatal_start_error() {
    use crate::core::handle::{CoreError, CoreOptions, Supervisor};
    use devctl_units::api::Hosting;
    let tmp = tempfile::tempdir().unwrap();
    let paths = devctl_units::paths::Paths {
        config: tmp.path().join("config"),
        state: tmp.path().join("state"),
        runtime: tmp.path().join("run"),
    };
    let logs = paths.logs_dir();
    std::fs::create_dir_all(logs.parent().unwrap()).unwrap();
    std::fs::write(&logs, b"not a directory").unwrap();
    let err = Supervisor::start(CoreOptions::new(paths, Hosting::Standalone))
        .await
        .err()
        .expect("the core cannot keep logs, so it does not start");
    match err {
        CoreError::State(crate::state::store::StateError::Write { path, source }) => {
            assert_eq!(path, logs);
            assert_eq!(source.kind(), std::io::ErrorKind::AlreadyExists);
        }
        other => panic!("unexpected error: {other}"),
    }
}

/// Group commit: the manager writes the session once per turn, and a
/// blocking start is answered only after that write, so a caller told
/// "started" can rely on crash recovery knowing every run it started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_is_answered_after_the_session_records_its_runs() {
    let kit = Kit::new().await;
    let units: Vec<Unit> = (0..30)
        .map(|i| sh(&format!("s{i}"), UnitKind::Service, "exec sleep 300"))
        .collect();
    kit.load(&units).await;
    let r = kit.job(JobVerb::Up, &[]).await;
    assert!(r.outcomes.iter().all(|o| o.ok), "{r:?}");
    // Read right after the answer, before anything else can happen.
    let text = std::fs::read_to_string(kit.paths.session_file()).unwrap();
    let session: crate::state::files::SessionFile = serde_json::from_str(&text).unwrap();
    let recorded = &session.units[&kit.project];
    assert_eq!(recorded.len(), 30, "{text}");
    for (name, u) in recorded {
        let inv = u.invocation.as_deref().unwrap_or_else(|| {
            panic!("{name} answered as started but no invocation is recorded: {text}")
        });
        assert!(
            !crate::process::find_marked(inv).is_empty(),
            "{name}: the recorded invocation is the running one"
        );
    }
    kit.finish().await;
}

/// Loading an unchanged project (what every `devctl up` does) writes
/// nothing; a changed one replaces the unit files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_load_writes_no_files() {
    use std::os::unix::fs::MetadataExt;
    let kit = Kit::new().await;
    let ino = |p: &std::path::Path| std::fs::metadata(p).unwrap().ino();
    let dir = kit.paths.units_dir(&kit.project);
    let project_file = kit.paths.project_file(&kit.project);
    kit.load(&four()).await;
    let (d1, p1) = (ino(&dir), ino(&project_file));
    let r = kit.load(&four()).await;
    assert_eq!(r.unchanged, 4);
    assert_eq!(ino(&dir), d1, "unit files not rewritten");
    assert_eq!(ino(&project_file), p1, "project file not rewritten");
    kit.load(&four()[..3]).await;
    assert_ne!(ino(&dir), d1, "a changed set is written");
    kit.finish().await;
}
