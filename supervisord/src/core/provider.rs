//! The provider boundary: what runs a unit (local processes, Docker
//! containers; Kubernetes later) behind one trait. Providers write the
//! unit's output to its log and only *report facts* (notify message, main
//! pid, exited, adopted); the unit actor turns them into state transitions
//! and events (it follows the log itself for log readiness and build idle
//! timeouts). [`Unavailable`] stands in for a provider this build lacks.

use std::future::Future;
use std::sync::Arc;

use devctl_units::state::UnitResult;
use devctl_units::{StopSpec, Unit};

use crate::core::reexec::{AdoptRun, HeldRun};
use crate::logs::UnitLog;

/// Something a provider observed about the current run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// `READY=1` (sd_notify) or an equivalent readiness signal.
    Ready,
    /// `STATUS=…` from sd_notify.
    Status(String),
    /// The main pid changed (`MAINPID=`, a daemon's pid file).
    MainPid(u32),
    /// The main process ended; `None` when it was not our child (a daemon's
    /// forked pid) and its status is unknown.
    Exited(Option<crate::process::ExitStatus>),
    /// The run took over an instance that outlived a previous daemon (a
    /// container) instead of starting a new one; sent before `start`
    /// returns, so it is the run's first fact.
    Adopted,
}

/// Everything a provider needs to start one run.
#[derive(Debug, Clone)]
pub struct RunCtx {
    pub unit: Arc<Unit>,
    /// The run's generation; every fact is tagged with it.
    pub run: u64,
    /// `DEVCTL_INVOCATION_ID` of the run's process tree.
    pub invocation: String,
    /// Shared by the run's spawns, its probes and its stop command.
    pub env: crate::core::env::RunEnv,
    pub log: UnitLog,
    pub facts: crate::core::notes::NoteTx<Fact>,
}

/// Why a run could not be started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartFailure {
    /// Retrying cannot help (`exec-failed`, `port-in-use`…).
    Permanent { result: UnitResult, message: String },
    /// Counted like a crash (a daemon's start command exited non-zero).
    Transient { result: UnitResult, message: String },
}

/// How a stop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReport {
    Graceful,
    /// SIGKILL was needed.
    Killed,
    /// These pids survived SIGKILL.
    Unkillable(Vec<i32>),
}

/// Runs units of some kinds. One provider value per unit actor.
pub trait Provider: Send + 'static {
    /// Start a run; resolves once the main process is known (its pid).
    fn start(&mut self, ctx: RunCtx) -> impl Future<Output = Result<u32, StartFailure>> + Send;
    /// Stop the current run's whole tree (no-op when nothing runs).
    fn stop(&mut self, spec: &StopSpec) -> impl Future<Output = StopReport> + Send;
    /// Drop the current run without stopping it (daemon crash simulation,
    /// or after the main process exited and the tree was cleaned).
    fn forget(&mut self);
    /// Re-exec: hand the current run over (processes untouched, output
    /// pipes detached from their pumps). `None` when this provider cannot
    /// carry a run across an exec (containers are adopted on start instead).
    fn freeze(&mut self) -> impl Future<Output = Option<HeldRun>> + Send {
        async { None }
    }
    /// In a re-executed daemon: take over a run the previous image froze;
    /// resolves with its main pid. Facts then flow as for a started run.
    fn adopt(
        &mut self,
        _ctx: RunCtx,
        run: AdoptRun,
    ) -> impl Future<Output = Result<u32, StartFailure>> + Send {
        async move {
            Err(StartFailure::Transient {
                result: UnitResult::ExecFailed,
                message: format!(
                    "cannot adopt pid {} after a re-exec: this provider starts its units anew",
                    run.frozen.pid
                ),
            })
        }
    }
}

/// Why a `kubernetes` unit cannot start: no Kubernetes provider exists yet.
pub const NO_KUBERNETES: &str = "devctld has no Kubernetes provider yet, so kubernetes units cannot \
     run; apply the manifests with kubectl, or disable the unit (`enabled #false` or `devctl disable`)";

/// Why a `container` unit cannot start in a build without Docker support.
pub const NO_DOCKER: &str = "devctld was built without Docker support (cargo feature `docker`), \
     so container units cannot run; rebuild devctld with the default features";

/// What runs `container` units in this build.
#[cfg(feature = "docker")]
pub type ContainerRunner = crate::docker::ContainerProvider;
/// What runs `container` units in this build.
#[cfg(not(feature = "docker"))]
pub type ContainerRunner = Unavailable;

/// The provider of one `container` unit (its daemon instance is named by
/// `notify_dir`).
pub fn container_provider(notify_dir: &std::path::Path) -> ContainerRunner {
    #[cfg(feature = "docker")]
    return crate::docker::ContainerProvider::new(notify_dir);
    #[cfg(not(feature = "docker"))]
    {
        let _ = notify_dir;
        Unavailable::new(NO_DOCKER)
    }
}

/// The unit as its actor sees it: a container whose readiness is the
/// image's HEALTHCHECK is ready on the provider's word, like sd_notify.
pub fn actor_view(unit: Arc<Unit>) -> Arc<Unit> {
    #[cfg(feature = "docker")]
    return crate::docker::effective_unit(unit);
    #[cfg(not(feature = "docker"))]
    unit
}

/// The provider of a kind this build cannot run (a `container` unit when
/// devctld was built without the `docker` feature): every start fails at
/// once, permanently, with `provider-unavailable` and `message`.
#[derive(Debug, Clone)]
pub struct Unavailable {
    message: String,
}

impl Unavailable {
    /// A provider whose starts fail with `message`.
    pub fn new(message: impl Into<String>) -> Unavailable {
        Unavailable {
            message: message.into(),
        }
    }
}

impl Provider for Unavailable {
    async fn start(&mut self, _ctx: RunCtx) -> Result<u32, StartFailure> {
        Err(StartFailure::Permanent {
            result: UnitResult::ProviderUnavailable,
            message: self.message.clone(),
        })
    }

    async fn stop(&mut self, _spec: &StopSpec) -> StopReport {
        StopReport::Graceful
    }

    fn forget(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::{ProjectName, UnitKind, UnitName};

    #[tokio::test]
    async fn unavailable_fails_every_start_permanently() {
        let tmp = tempfile::tempdir().unwrap();
        let store = crate::logs::LogStore::open(
            tmp.path().to_path_buf(),
            crate::logs::LogLimits::default(),
        )
        .unwrap();
        let unit = Unit::new(
            ProjectName::new("p").unwrap(),
            UnitName::new("c").unwrap(),
            UnitKind::Container,
            "/".into(),
        );
        let (facts, _rx) = crate::core::notes::channel();
        let ctx = RunCtx {
            unit: Arc::new(unit),
            run: 1,
            invocation: "i".into(),
            env: Default::default(),
            log: store.unit("p", "c"),
            facts,
        };
        let mut p = Unavailable::new("no docker here");
        assert_eq!(
            p.start(ctx).await,
            Err(StartFailure::Permanent {
                result: UnitResult::ProviderUnavailable,
                message: "no docker here".into(),
            })
        );
        assert_eq!(p.stop(&StopSpec::default()).await, StopReport::Graceful);
        p.forget();
    }

    /// Without the `docker` feature a container unit fails at once, saying
    /// why, and is never exec'd as a local process.
    #[cfg(not(feature = "docker"))]
    #[tokio::test]
    async fn container_units_fail_clearly_without_docker_support() {
        use crate::core::testkit::{Kit, sh};
        use devctl_units::api::JobVerb;
        use devctl_units::state::ActiveState;

        let kit = Kit::new().await;
        let mut c = sh("web", UnitKind::Container, "exec sleep 300");
        c.command = None;
        c.container = Some(Box::new(devctl_units::ContainerSpec {
            image: "busybox:latest".into(),
            build: None,
            command: Some(vec!["sleep".into(), "300".into()]),
            entrypoint: None,
            publish: vec![],
            volumes: vec![],
            workdir: None,
            user: None,
            network: None,
            healthcheck: false,
        }));
        let local = sh("local", UnitKind::Service, "exec sleep 300");
        kit.load(&[c, local]).await;
        let r = kit.job(JobVerb::Start, &["web"]).await;
        assert!(!r.outcomes[0].ok, "{r:?}");
        let s = kit.status("web").await;
        assert_eq!(s.active, ActiveState::Failed, "{s:?}");
        assert_eq!(s.result, Some(UnitResult::ProviderUnavailable));
        assert_eq!(s.restarts, 0, "permanent: {s:?}");
        let msg = s.message.unwrap_or_default();
        assert!(msg.contains("without Docker support"), "{msg}");
        let r = kit.job(JobVerb::Start, &["local"]).await;
        assert!(r.outcomes[0].ok, "{r:?}");
        kit.finish().await;
    }

    /// A kubernetes unit fails at once with `provider-unavailable`, saying
    /// why, and the rest of the project still runs.
    #[tokio::test]
    async fn kubernetes_units_fail_clearly_and_others_run() {
        use crate::core::testkit::{Kit, sh};
        use devctl_units::api::JobVerb;
        use devctl_units::state::ActiveState;

        let kit = Kit::new().await;
        let mut k = sh("cluster", UnitKind::Kubernetes, "exec sleep 300");
        k.command = None;
        k.kubernetes = Some(Box::new(devctl_units::KubeSpec {
            manifests: vec!["/nonexistent/app.yaml".into()],
            context: None,
            namespace: None,
            port_forwards: vec![],
        }));
        let local = sh("local", UnitKind::Service, "exec sleep 300");
        kit.load(&[k, local]).await;
        let r = kit.job(JobVerb::Start, &["cluster"]).await;
        assert!(!r.outcomes[0].ok, "{r:?}");
        let s = kit.status("cluster").await;
        assert_eq!(s.active, ActiveState::Failed, "{s:?}");
        assert_eq!(s.result, Some(UnitResult::ProviderUnavailable));
        assert_eq!(s.restarts, 0, "permanent: {s:?}");
        assert!(
            s.message
                .unwrap_or_default()
                .contains("no Kubernetes provider")
        );
        let r = kit.job(JobVerb::Start, &["local"]).await;
        assert!(r.outcomes[0].ok, "{r:?}");
        kit.finish().await;
    }
}
