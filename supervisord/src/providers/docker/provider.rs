//! `ContainerProvider`: runs one `container` unit through the engine behind
//! the core's [`Provider`] trait.
//!
//! Start: connect (engine unreachable → `provider-unavailable`), then
//! either **adopt** a running container of this unit (this daemon
//! instance's labels, same configuration hash: it outlived a crashed
//! daemon, and the engine kept its logs; reported as [`Fact::Adopted`]),
//! or remove a stale one, build the image when the unit has a build,
//! check the image is local (never pulled) and its host ports free
//! (`port-in-use`), create with labels and no engine restart policy,
//! start, and watch logs, exit and health. Stop: the unit's stop signal, its timeout,
//! then SIGKILL, then the container is removed.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::task::JoinHandle;
use tracing::{error, warn};

use devctl_units::state::UnitResult;
use devctl_units::{ContainerSpec, Probe, ProbeCheck, StopSpec, Unit, UnitKind};

use crate::core::provider::{Fact, Ownership, Provider, RunCtx, StartFailure, StopReport};
use crate::process;
use crate::providers::docker::engine::{self, Engine, conflict};
use crate::providers::docker::error::DockerError;
use crate::providers::docker::{build, labels, spec, watch};

/// Bounded wait after SIGKILL.
pub const KILL_WAIT: Duration = Duration::from_secs(10);
/// How long the log stream may take to drain after the container stopped.
pub const DRAIN_WAIT: Duration = Duration::from_secs(2);

struct Run {
    engine: Engine,
    id: String,
    pid: u32,
    logs: JoinHandle<()>,
    tasks: Vec<JoinHandle<()>>,
}

/// Runs one container unit.
pub struct ContainerProvider {
    instance: String,
    host: String,
    run: Option<Run>,
}

/// The unit as its actor should see it: a container whose readiness comes
/// from the image's HEALTHCHECK (and has no `ready` probe of its own) is
/// ready when the provider says so, like an sd_notify service.
pub fn effective_unit(unit: Arc<Unit>) -> Arc<Unit> {
    let health = unit.kind == UnitKind::Container
        && unit.ready.is_none()
        && unit.container.as_ref().is_some_and(|c| c.healthcheck);
    if !health {
        return unit;
    }
    let mut u = (*unit).clone();
    u.ready = Some(Probe::readiness(ProbeCheck::Notify));
    Arc::new(u)
}

fn unix_now() -> i32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i32)
        .unwrap_or(0)
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

impl ContainerProvider {
    /// A provider for the daemon whose notify directory is `notify_dir`
    /// (it names the daemon instance owning the containers).
    pub fn new(notify_dir: &Path) -> ContainerProvider {
        ContainerProvider {
            instance: labels::instance_id(notify_dir),
            host: engine::host_from_env(),
            run: None,
        }
    }

    /// Talk to the engine at `host` instead of the environment's.
    pub fn with_host(mut self, host: &str) -> ContainerProvider {
        self.host = host.to_string();
        self
    }

    /// This daemon instance's id (the `devctl.instance` label).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    fn watch(&mut self, engine: Engine, id: String, pid: u32, since: Option<i32>, ctx: &RunCtx) {
        let logs = watch::stream_logs(engine.clone(), id.clone(), since, ctx.log.clone());
        let mut tasks = vec![watch::watch_exit(
            engine.clone(),
            id.clone(),
            ctx.facts.clone(),
            ctx.run,
        )];
        if ctx.unit.container.as_ref().is_some_and(|c| c.healthcheck) {
            tasks.push(watch::watch_health(
                engine.clone(),
                id.clone(),
                ctx.log.clone(),
                ctx.facts.clone(),
                ctx.run,
            ));
        }
        self.run = Some(Run {
            engine,
            id,
            pid,
            logs,
            tasks,
        });
    }

    async fn try_start(&mut self, ctx: &RunCtx, cspec: &ContainerSpec) -> Result<u32, DockerError> {
        let unit = &ctx.unit;
        let engine = Engine::connect(&self.host).await?;
        let name = labels::container_name(unit.project.as_str(), unit.name.as_str());
        let env = spec::container_env(unit).map_err(|e| DockerError::EnvFile {
            path: e.path,
            source: e.source,
        })?;
        let mut body = spec::create_body(unit, cspec, env);
        let config = spec::config_hash(&body);

        if let Some(existing) = engine.inspect(&name).await? {
            let found_labels = existing
                .config
                .as_ref()
                .and_then(|c| c.labels.clone())
                .unwrap_or_default();
            let Some(owner) = labels::owner(&self.instance, &found_labels) else {
                return Err(DockerError::NameTaken { name });
            };
            let id = existing.id.clone().unwrap_or_else(|| name.clone());
            let state = existing.state.as_ref();
            let running = state.and_then(|s| s.running).unwrap_or(false);
            if running && owner.config.as_deref() == Some(config.as_str()) {
                let pid = state.and_then(|s| s.pid).unwrap_or(0).max(0) as u32;
                ctx.log.marker(format!(
                    "adopted running container {name} ({}); output written while devctld was away: docker logs {name}",
                    short(&id)
                ));
                self.watch(engine, id, pid, Some(unix_now()), ctx);
                let _ = ctx.facts.send((ctx.run, Fact::Adopted));
                return Ok(pid);
            }
            ctx.log
                .marker(format!("removing stale container {name} ({})", short(&id)));
            engine.remove(&id).await?;
        }

        busy_port(unit, cspec)?;
        if let Some(b) = &cspec.build {
            build::build_image(&engine, b, &cspec.image, &ctx.log).await?;
        }
        if !engine.image_exists(&cspec.image).await? {
            return Err(DockerError::ImageMissing {
                image: cspec.image.clone(),
            });
        }
        body.labels = Some(labels::labels(
            &self.instance,
            unit.project.as_str(),
            unit.name.as_str(),
            &ctx.invocation,
            &config,
        ));
        let id = match engine.create(&name, body).await {
            Ok(id) => id,
            Err(e) if conflict(&e) => return Err(DockerError::NameTaken { name }),
            Err(e) => return Err(DockerError::api("create container", &name, e)),
        };
        if cspec.healthcheck {
            let has = engine
                .inspect(&id)
                .await?
                .and_then(|c| c.config)
                .and_then(|c| c.healthcheck)
                .and_then(|h| h.test)
                .is_some_and(|t| t.first().map(String::as_str) != Some("NONE"));
            if !has {
                engine.remove(&id).await?;
                return Err(DockerError::NoHealthcheck {
                    image: cspec.image.clone(),
                });
            }
        }
        if let Err(e) = start_created(&engine, &id, &name, ctx).await {
            if let Err(re) = engine.remove(&id).await {
                warn!(container = %name, "cannot remove the container that failed to start: {re}");
            }
            return Err(e);
        }
        let pid = engine
            .inspect(&id)
            .await?
            .and_then(|c| c.state)
            .and_then(|s| s.pid)
            .unwrap_or(0)
            .max(0) as u32;
        ctx.log
            .marker(format!("started container {name} ({})", short(&id)));
        self.watch(engine, id, pid, None, ctx);
        Ok(pid)
    }
}

/// Start attempts after the first when the runtime fails in its own setup
/// of the container (see [`DockerError::is_runtime_setup_failure`]).
const SETUP_RETRIES: u64 = 2;

/// Start a created container, again (after 100 ms, then 200 ms) when the
/// runtime failed before anything of the image ran; each retry is marked
/// in the unit's log.
async fn start_created(
    engine: &Engine,
    id: &str,
    name: &str,
    ctx: &RunCtx,
) -> Result<(), DockerError> {
    let mut retries = 0;
    loop {
        match engine.start(id).await {
            Err(e) if retries < SETUP_RETRIES && e.is_runtime_setup_failure() => {
                retries += 1;
                ctx.log.marker(format!(
                    "the container runtime failed to set {name} up ({}); starting it again",
                    e.user_message()
                ));
                tokio::time::sleep(Duration::from_millis(100 * retries)).await;
            }
            r => return r,
        }
    }
}

/// A host port of a new container (published over TCP, or declared with
/// `port`) that something already listens on. Checked only for a new
/// container: an adopted one's ports are held by the engine's proxy.
fn busy_port(unit: &Unit, cspec: &ContainerSpec) -> Result<(), DockerError> {
    let published = cspec
        .publish
        .iter()
        .filter(|p| p.protocol == "tcp")
        .filter_map(|p| p.host_port);
    for port in unit.ports.iter().copied().chain(published) {
        if process::port_in_use(port) {
            return Err(DockerError::PortInUse {
                port,
                holder: process::port_holder(port)
                    .map(|h| format!("pid {} ({})", h.pid, h.cmdline)),
            });
        }
    }
    Ok(())
}

async fn stop_run(run: &Run, spec: &StopSpec) -> Result<StopReport, DockerError> {
    run.engine.kill(&run.id, spec.signal.name()).await?;
    if tokio::time::timeout(spec.timeout, run.engine.wait(&run.id))
        .await
        .is_ok()
    {
        return Ok(StopReport::Graceful);
    }
    run.engine.kill(&run.id, "SIGKILL").await?;
    match tokio::time::timeout(KILL_WAIT, run.engine.wait(&run.id)).await {
        Ok(_) => Ok(StopReport::Killed),
        Err(_) if run.engine.running(&run.id).await? => {
            Ok(StopReport::Unkillable(vec![run.pid as i32]))
        }
        Err(_) => Ok(StopReport::Killed),
    }
}

impl Provider for ContainerProvider {
    /// A container's ports are held by the engine's proxy, never by a
    /// process carrying the run's marker; a new container's host ports
    /// are checked in `start`.
    fn ownership(&self) -> Ownership {
        Ownership::External
    }

    fn view(&self, unit: Arc<Unit>) -> Arc<Unit> {
        effective_unit(unit)
    }

    async fn start(&mut self, ctx: RunCtx) -> Result<u32, StartFailure> {
        self.forget();
        let Some(cspec) = ctx.unit.container.clone() else {
            error!(unit = %ctx.unit.name, "container unit without container settings");
            return Err(StartFailure::Permanent {
                result: UnitResult::ExecFailed,
                message: "the unit has no container settings".into(),
            });
        };
        self.try_start(&ctx, &cspec)
            .await
            .map_err(DockerError::into_start_failure)
    }

    async fn stop(&mut self, spec: &StopSpec) -> StopReport {
        let Some(run) = self.run.take() else {
            return StopReport::Graceful;
        };
        let report = match stop_run(&run, spec).await {
            Ok(r) => r,
            Err(e) => {
                warn!(container = %run.id, "stopping the container: {}", e.user_message());
                StopReport::Graceful
            }
        };
        let Run {
            engine,
            id,
            logs,
            tasks,
            ..
        } = run;
        for t in tasks {
            t.abort();
        }
        let drained = tokio::time::timeout(DRAIN_WAIT, logs).await;
        if drained.is_err() {
            warn!(container = %id, "the log stream did not end after the container stopped");
        }
        if !matches!(report, StopReport::Unkillable(_))
            && let Err(e) = engine.remove(&id).await
        {
            warn!(container = %id, "removing the container: {}", e.user_message());
        }
        report
    }

    fn forget(&mut self) {
        if let Some(run) = self.run.take() {
            run.logs.abort();
            for t in run.tasks {
                t.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::{ContainerSpec, ProjectName, UnitName};

    fn unit(healthcheck: bool) -> Unit {
        let mut u = Unit::new(
            ProjectName::new("p").unwrap(),
            UnitName::new("c").unwrap(),
            UnitKind::Container,
            "/".into(),
        );
        u.container = Some(Box::new(ContainerSpec {
            image: "i".into(),
            build: None,
            command: None,
            entrypoint: None,
            publish: vec![],
            volumes: vec![],
            workdir: None,
            user: None,
            network: None,
            healthcheck,
        }));
        u
    }

    #[test]
    fn healthcheck_becomes_provider_readiness() {
        let u = effective_unit(Arc::new(unit(true)));
        assert_eq!(u.ready.as_ref().unwrap().check, ProbeCheck::Notify);
        assert!(effective_unit(Arc::new(unit(false))).ready.is_none());
        // A unit's own probe wins over the image's HEALTHCHECK.
        let mut own = unit(true);
        own.ready = Some(Probe::readiness(ProbeCheck::Tcp {
            host: "127.0.0.1".into(),
            port: 1,
        }));
        let u = effective_unit(Arc::new(own));
        assert!(matches!(
            u.ready.as_ref().unwrap().check,
            ProbeCheck::Tcp { .. }
        ));
    }
}
