//! Test support for in-process core tests: a `Supervisor` on a temporary
//! state directory, unit builders, and an orphan oracle (every process a
//! test causes carries `DEVCTL_TEST_MARK=<per-test uuid>`).

use std::time::Duration;

use devctl_units::api::{
    ApiError, Hosting, JobRequest, JobResponse, JobVerb, LoadRequest, LoadResponse, UnitStatus,
};
use devctl_units::paths::Paths;
use devctl_units::state::{ActiveState, SubState};
use devctl_units::{Command, ProjectName, Unit, UnitKind, UnitName};

use crate::core::handle::{CoreApi, CoreOptions, Supervisor};

pub const MARK_VAR: &str = "DEVCTL_TEST_MARK";

/// One test's daemon.
pub struct Kit {
    pub tmp: tempfile::TempDir,
    pub paths: Paths,
    pub mark: String,
    pub sup: Supervisor,
    pub project: ProjectName,
}

/// A unit running `sh -c script`.
pub fn sh(name: &str, kind: UnitKind, script: &str) -> Unit {
    let mut u = Unit::new(
        ProjectName::new("p").unwrap(),
        UnitName::new(name).unwrap(),
        kind,
        "/tmp".into(),
    );
    u.command = Some(Command::Shell(script.into()));
    u.stop.timeout = Duration::from_secs(3);
    u
}

/// Count live processes carrying `DEVCTL_TEST_MARK=mark`.
pub fn marked(mark: &str) -> usize {
    devctl_test_support::procs::marked_pids(MARK_VAR, mark).len()
}

/// Poll `f` every 25 ms until true; panics after `secs`.
pub async fn until(secs: u64, what: &str, mut f: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

impl Kit {
    /// A fresh state directory and supervisor.
    pub async fn new() -> Kit {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            config: tmp.path().join("config"),
            state: tmp.path().join("state"),
            runtime: tmp.path().join("run"),
        };
        let mark = crate::process::invocation_id();
        let sup = Kit::boot(&paths, &mark).await;
        Kit {
            tmp,
            paths,
            mark,
            sup,
            project: ProjectName::new("p").unwrap(),
        }
    }

    /// Start a supervisor on `paths`.
    pub async fn boot(paths: &Paths, mark: &str) -> Supervisor {
        let mut opts = CoreOptions::new(paths.clone(), Hosting::Standalone);
        opts.extra_env.push((MARK_VAR.into(), mark.into()));
        Supervisor::start(opts).await.unwrap()
    }

    /// Replace the supervisor by a fresh one on the same state.
    pub async fn reboot(&mut self) {
        self.sup = Kit::boot(&self.paths, &self.mark).await;
    }

    /// A load of `units` from the manifest `<root>/devctl.kdl`.
    pub fn request(root: &str, units: &[Unit]) -> LoadRequest {
        LoadRequest {
            manifest: format!("{root}/devctl.kdl").into(),
            root: root.into(),
            units: units
                .iter()
                .map(|u| (u.file_name(), devctl_units::to_unit_file(u)))
                .collect(),
        }
    }

    /// Load `req` into the kit's project.
    pub async fn try_load(&self, req: LoadRequest) -> Result<LoadResponse, ApiError> {
        self.sup.load_project(self.project.clone(), req).await
    }

    pub async fn load(&self, units: &[Unit]) -> LoadResponse {
        self.try_load(Kit::request("/tmp", units)).await.unwrap()
    }

    pub async fn job(&self, verb: JobVerb, units: &[&str]) -> JobResponse {
        let req = JobRequest {
            verb,
            units: units.iter().map(|s| s.to_string()).collect(),
            block: true,
            timeout_ms: Some(20_000),
            failed_only: false,
            force: false,
            source: None,
        };
        self.sup.job(self.project.clone(), req).await.unwrap()
    }

    pub async fn status(&self, unit: &str) -> UnitStatus {
        self.sup
            .unit(self.project.clone(), UnitName::new(unit).unwrap())
            .await
            .unwrap()
    }

    /// Names of units that are active or activating.
    pub async fn running(&self) -> Vec<String> {
        let all = self.sup.units(Some(self.project.clone())).await.unwrap();
        all.into_iter()
            .filter(|s| {
                matches!(s.active, ActiveState::Active | ActiveState::Activating)
                    && s.sub != SubState::Exited
            })
            .map(|s| s.name.to_string())
            .collect()
    }

    /// Wait until a unit reaches an active/sub state.
    pub async fn wait_state(&self, unit: &str, active: ActiveState, sub: SubState) -> UnitStatus {
        let mut last = None;
        until(20, &format!("{unit} {active}/{sub}"), async || {
            let s = self.status(unit).await;
            let ok = s.active == active && s.sub == sub;
            last = Some(s);
            ok
        })
        .await;
        last.unwrap()
    }

    /// Stop everything and check that no marked process is left.
    pub async fn finish(self) {
        self.sup.shutdown().await;
        let mark = self.mark.clone();
        until(10, "no marked process left", async || marked(&mark) == 0).await;
        assert!(
            !self.paths.session_file().exists(),
            "a clean stop removes the session file"
        );
    }
}
