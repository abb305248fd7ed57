//! The engine client: which socket (`DOCKER_HOST`, else
//! `/var/run/docker.sock`), connection with a short ping and API version
//! negotiation (the engine may be older than bollard's default API
//! version), and the container/image calls the provider needs, each
//! mapped to a [`DockerError`] naming what failed.

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, ContainerInspectResponse};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;

use crate::providers::docker::error::{DockerError, classify};
use crate::providers::docker::labels::{self, Owner};

/// The engine's socket when `DOCKER_HOST` is unset.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// How long the engine may take to answer the first ping.
pub const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// Per-request timeout (until response headers; streams may run longer).
pub const REQUEST_TIMEOUT_SECS: u64 = 120;

/// The host devctld talks to: `DOCKER_HOST` if set and non-empty.
pub fn host_from_env() -> String {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => h,
        _ => DEFAULT_HOST.to_string(),
    }
}

/// The socket path of a `unix://` host (or a bare absolute path).
pub fn socket_path(host: &str) -> Result<&str, DockerError> {
    if let Some(p) = host.strip_prefix("unix://") {
        return Ok(p);
    }
    if host.starts_with('/') {
        return Ok(host);
    }
    Err(DockerError::UnsupportedHost {
        host: host.to_string(),
    })
}

/// A container found by label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: String,
    pub owner: Owner,
    pub running: bool,
}

/// A connected, answering engine.
#[derive(Debug, Clone)]
pub struct Engine {
    docker: Docker,
    host: String,
}

/// `true` for a 404 answer.
fn not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// `true` for a 409 answer (conflict: name taken, not running…).
pub fn conflict(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 409,
            ..
        }
    )
}

impl Engine {
    /// Connect to `host` and check the engine answers.
    pub async fn connect(host: &str) -> Result<Engine, DockerError> {
        let path = socket_path(host)?;
        let unreachable = |e: bollard::errors::Error| DockerError::Unreachable {
            host: host.to_string(),
            reason: classify(&e),
            source: Some(e),
        };
        let docker =
            Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)
                .map_err(unreachable)?;
        let timed_out = || DockerError::Unreachable {
            host: host.to_string(),
            reason: crate::providers::docker::error::Unreachable::Timeout,
            source: None,
        };
        tokio::time::timeout(PING_TIMEOUT, docker.ping())
            .await
            .map_err(|_| timed_out())?
            .map_err(unreachable)?;
        let docker = tokio::time::timeout(PING_TIMEOUT, docker.negotiate_version())
            .await
            .map_err(|_| timed_out())?
            .map_err(unreachable)?;
        Ok(Engine {
            docker,
            host: host.to_string(),
        })
    }

    /// Connect to the host named by the environment.
    pub async fn connect_default() -> Result<Engine, DockerError> {
        Engine::connect(&host_from_env()).await
    }

    /// The host this engine was reached at.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The bollard client (for the other files of this module).
    pub(crate) fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Whether the image is present locally.
    pub async fn image_exists(&self, image: &str) -> Result<bool, DockerError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(e) if not_found(&e) => Ok(false),
            Err(e) => Err(DockerError::api("inspect image", image, e)),
        }
    }

    /// Inspect a container; `None` when it does not exist.
    pub async fn inspect(
        &self,
        name: &str,
    ) -> Result<Option<ContainerInspectResponse>, DockerError> {
        match self.docker.inspect_container(name, None).await {
            Ok(c) => Ok(Some(c)),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(DockerError::api("inspect container", name, e)),
        }
    }

    /// This instance's containers (running or not), optionally of one project/unit.
    pub async fn list_owned(
        &self,
        instance: &str,
        project: Option<&str>,
        unit: Option<&str>,
    ) -> Result<Vec<Found>, DockerError> {
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&labels::filters(instance, project, unit))
            .build();
        let list = self
            .docker
            .list_containers(Some(opts))
            .await
            .map_err(|e| DockerError::api("list containers", "devctl.managed=1", e))?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let owner = labels::owner(instance, c.labels.as_ref()?)?;
                let running = c.state.as_ref().is_some_and(|s| {
                    matches!(
                        s,
                        bollard::models::ContainerSummaryStateEnum::RUNNING
                            | bollard::models::ContainerSummaryStateEnum::RESTARTING
                    )
                });
                Some(Found {
                    id: c.id?,
                    owner,
                    running,
                })
            })
            .collect())
    }

    /// Create a container; returns its id.
    pub async fn create(
        &self,
        name: &str,
        body: ContainerCreateBody,
    ) -> Result<String, bollard::errors::Error> {
        let opts = CreateContainerOptionsBuilder::default().name(name).build();
        Ok(self.docker.create_container(Some(opts), body).await?.id)
    }

    /// Start a created container.
    pub async fn start(&self, id: &str) -> Result<(), DockerError> {
        self.docker
            .start_container(id, None)
            .await
            .map_err(|e| DockerError::api("start container", id, e))
    }

    /// Send a signal; a container that is gone or not running is fine.
    pub async fn kill(&self, id: &str, signal: &str) -> Result<(), DockerError> {
        let opts = KillContainerOptionsBuilder::default()
            .signal(signal)
            .build();
        match self.docker.kill_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if not_found(&e) || conflict(&e) => Ok(()),
            Err(e) => Err(DockerError::api("kill container", id, e)),
        }
    }

    /// Remove a container (forced, with its anonymous volumes); gone is fine.
    pub async fn remove(&self, id: &str) -> Result<(), DockerError> {
        let opts = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            // 409: removal already in progress.
            Err(e) if conflict(&e) => Ok(()),
            Err(e) => Err(DockerError::api("remove container", id, e)),
        }
    }

    /// Wait until the container is not running; its exit code.
    pub async fn wait(&self, id: &str) -> Result<i64, DockerError> {
        let mut s = self.docker.wait_container(id, None);
        match s.next().await {
            Some(Ok(r)) => Ok(r.status_code),
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(e)) if not_found(&e) => Ok(0),
            Some(Err(e)) => Err(DockerError::api("wait container", id, e)),
            None => Ok(0),
        }
    }

    /// Whether the container is running now (`false` when gone).
    pub async fn running(&self, id: &str) -> Result<bool, DockerError> {
        Ok(self
            .inspect(id)
            .await?
            .and_then(|c| c.state)
            .and_then(|s| s.running)
            .unwrap_or(false))
    }

    /// The labels of a container, `None` when it does not exist.
    pub async fn labels_of(
        &self,
        name: &str,
    ) -> Result<Option<HashMap<String, String>>, DockerError> {
        Ok(self
            .inspect(name)
            .await?
            .map(|c| c.config.and_then(|c| c.labels).unwrap_or_default()))
    }
}
