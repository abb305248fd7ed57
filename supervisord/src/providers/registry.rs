//! The provider registry: one line per provider. Adding a provider is a
//! folder under `providers/`, a Cargo feature when it needs dependencies,
//! and one line here. A unit kind whose provider this build lacks gets a
//! stand-in that fails every start with `provider-unavailable`, saying why.

use devctl_units::UnitKind;

use crate::core::actor::Spawn;
use crate::core::notes::Mailbox;
use crate::core::provider::{Ownership, Unavailable};
use crate::core::registry::{ProviderKind, Providers};

/// Why a `kubernetes` unit cannot start in a build without Kubernetes support.
#[cfg(not(feature = "kubernetes"))]
pub const NO_KUBERNETES: &str = "devctld was built without Kubernetes support (cargo feature \
     `kubernetes`), so kubernetes units cannot run; rebuild devctld with the default features, \
     apply the manifests with kubectl, or disable the unit (`enabled #false` or `devctl disable`)";

/// Why a `container` unit cannot start in a build without Docker support.
#[cfg(not(feature = "docker"))]
pub const NO_DOCKER: &str = "devctld was built without Docker support (cargo feature `docker`), \
     so container units cannot run; rebuild devctld with the default features";

/// Every provider of this build, in the order a unit kind is looked up.
pub fn registered() -> Providers {
    Providers::new(vec![
        Box::new(crate::providers::local::Local),
        #[cfg(feature = "docker")]
        Box::new(crate::providers::docker::Docker),
        #[cfg(not(feature = "docker"))]
        Box::new(Missing(UnitKind::Container, NO_DOCKER, Ownership::External)),
        #[cfg(feature = "kubernetes")]
        Box::new(crate::providers::kubernetes::Kubernetes),
        #[cfg(not(feature = "kubernetes"))]
        Box::new(Missing(
            UnitKind::Kubernetes,
            NO_KUBERNETES,
            Ownership::External,
        )),
    ])
}

/// A kind this build cannot run: its units fail every start with the
/// message (after the port check the kind's provider would have made).
#[derive(Debug, Clone, Copy)]
pub struct Missing(pub UnitKind, pub &'static str, pub Ownership);

impl ProviderKind for Missing {
    fn kinds(&self) -> &[UnitKind] {
        std::slice::from_ref(&self.0)
    }

    fn spawn(&self, spawn: Spawn) -> Mailbox {
        spawn.run(Unavailable::new(self.1).owned(self.2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use devctl_units::state::UnitResult;
    use devctl_units::{ProjectName, StopSpec, Unit, UnitName};

    use crate::core::provider::{Provider, RunCtx, StartFailure, StopReport};

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
        use crate::core::tests::kit::{Kit, sh};
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
        let msg = s.message.clone().unwrap_or_default();
        assert!(msg.contains("without Docker support"), "{msg}");
        let r = kit.job(JobVerb::Start, &["local"]).await;
        assert!(r.outcomes[0].ok, "{r:?}");
        kit.finish().await;
    }

    /// Without the `kubernetes` feature a kubernetes unit fails at once
    /// with `provider-unavailable`, saying why, and the rest of the
    /// project still runs.
    #[cfg(not(feature = "kubernetes"))]
    #[tokio::test]
    async fn kubernetes_units_fail_clearly_and_others_run() {
        use crate::core::tests::kit::{Kit, sh};
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
            ..Default::default()
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
                .clone()
                .unwrap_or_default()
                .contains("without Kubernetes support")
        );
        let r = kit.job(JobVerb::Start, &["local"]).await;
        assert!(r.outcomes[0].ok, "{r:?}");
        kit.finish().await;
    }
}
