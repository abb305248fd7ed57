//! `KubeProvider`: runs one `kubernetes` unit behind the core's
//! [`Provider`] trait.
//!
//! Start: build the unit's images, read its manifests, connect to its
//! cluster (unreachable, unknown context or refused credentials →
//! `provider-unavailable`, naming context and server), apply every
//! object that differs from its live copy (all unchanged → the run is
//! reported [`Fact::Adopted`]: it took over what a previous daemon left
//! running), prune the unit's objects no longer in its manifests, then
//! watch readiness in the background: [`Fact::Ready`] once ready, or a
//! failure reported as the run exiting with status 1. Its port-forwards
//! open before anything is applied and its pods' logs are followed from
//! then on (`live`). Stop: close the forwards, delete the unit's objects
//! (found by label), wait until they are gone or the stop timeout passes,
//! then delete what is left with no grace period.
//!
//! An update in place (a changed definition, a rebuilt image, a changed
//! manifest file) keeps the objects and the open port-forwards: the next
//! start applies what changed, so a Deployment rolls, and the forwards
//! move to its new pods by themselves. If that start fails, the objects
//! are deleted, as after any failed start.
//!
//! A run is never frozen across a re-exec: the new daemon starts the unit
//! again, finds every object unchanged and adopts them.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tracing::warn;

use devctl_units::state::UnitResult;
use devctl_units::{KubeReadiness, KubeSpec, Probe, ProbeCheck, StopSpec, Unit, UnitKind};

use crate::core::provider::{Fact, Ownership, Provider, RunCtx, StartFailure, StopReport};
use crate::process::ExitStatus;
use crate::providers::kubernetes::apply::{self, Applier, Kind, Live};
use crate::providers::kubernetes::cluster::Cluster;
use crate::providers::kubernetes::error::KubeError;
use crate::providers::kubernetes::live::Streams;
use crate::providers::kubernetes::manifests::{self, Owner};
use crate::providers::kubernetes::{images, ready};

/// Bounded wait after deleting with no grace period.
pub const FORCE_WAIT: Duration = Duration::from_secs(10);

struct Run {
    cluster: Cluster,
    owner: Owner,
    log: crate::logs::UnitLog,
    streams: Streams,
    kinds: BTreeSet<Kind>,
    tasks: Vec<JoinHandle<()>>,
}

/// Runs one kubernetes unit.
#[derive(Default)]
pub struct KubeProvider {
    run: Option<Run>,
    /// A run handed over to the next one: its objects stay in the
    /// cluster and its forwards open (its log followers and watches are
    /// closed). Until a next start succeeds, stopping the unit deletes its
    /// objects.
    kept: Option<Run>,
}

/// The unit as its actor should see it: unless readiness is `none` or the
/// unit has a `ready` probe of its own, it is ready when the provider's
/// watches say so, like an sd_notify service.
pub fn effective_unit(unit: Arc<Unit>) -> Arc<Unit> {
    let watched = unit.kind == UnitKind::Kubernetes
        && unit.ready.is_none()
        && unit
            .kubernetes
            .as_ref()
            .is_some_and(|k| k.readiness != KubeReadiness::None);
    if !watched {
        return unit;
    }
    let mut u = (*unit).clone();
    u.ready = Some(Probe::readiness(ProbeCheck::Notify));
    Arc::new(u)
}

impl KubeProvider {
    pub fn new() -> KubeProvider {
        KubeProvider::default()
    }

    /// Drop the current run, objects untouched (a handed-over one stays).
    fn drop_run(&mut self) {
        if let Some(run) = self.run.take() {
            for t in run.tasks {
                t.abort();
            }
        }
    }

    async fn try_start(&mut self, ctx: &RunCtx, spec: &KubeSpec) -> Result<(), StartFailure> {
        let unit = &ctx.unit;
        let owner = Owner {
            project: unit.project.as_str().to_owned(),
            unit: unit.name.as_str().to_owned(),
            invocation: ctx.invocation.clone(),
        };
        let docs = manifests::load(&spec.manifests)?;
        let built = images::build_all(&spec.images, &ctx.log).await?;
        let objects = manifests::prepare(docs, &owner, &built);
        let cluster = Cluster::connect(spec).await?;
        ctx.log.marker(format!(
            "cluster: {}, namespace {}",
            cluster.target, cluster.namespace
        ));
        // The previous run's objects are searched when pruning; its
        // forwards are kept if they still are the ones declared.
        let moved = self.kept.as_ref().is_some_and(|k| {
            k.cluster.target != cluster.target || k.cluster.namespace != cluster.namespace
        });
        if moved && let Some(k) = self.kept.take() {
            // The unit moved to another cluster or namespace: what it
            // left in the old one goes.
            stop_run(&k, &unit.stop).await;
        }
        let mut kinds = BTreeSet::new();
        let mut streams = None;
        if let Some(k) = self.kept.as_mut() {
            kinds = k.kinds.clone();
            // Changed ones close before new ones open on their ports.
            streams = k.streams.take_forwards(&spec.port_forwards);
        }
        // Before anything is applied: a taken local port fails the start.
        let mut streams = match streams {
            Some(s) => s,
            None => {
                Streams::forwards(&cluster.client, &cluster.namespace, &spec.port_forwards).await?
            }
        };
        let applied = Applier::new(&cluster, &owner)
            .apply_all(&objects, &ctx.log)
            .await?;
        kinds.extend(applied.kinds.iter().cloned());
        let stale = prune(&cluster, &owner, &kinds, &applied.objects).await?;
        if !stale.is_empty() {
            let names: Vec<String> = stale.iter().map(Live::describe).collect();
            ctx.log.marker(format!(
                "pruning objects no longer in the manifests: {}",
                names.join(", ")
            ));
            let failed = apply::delete_all(&cluster, &stale).await;
            if let Some((l, why)) = failed.first() {
                return Err(KubeError::Api {
                    target: cluster.target.clone(),
                    op: format!("prune {}", l.describe()),
                    message: why.clone(),
                }
                .into());
            }
        }
        let total = applied.objects.len();
        if total > 0 && applied.unchanged == total {
            ctx.log.marker(format!(
                "adopted {total} object(s) already applied and unchanged"
            ));
            let _ = ctx.facts.send((ctx.run, Fact::Adopted));
        } else {
            ctx.log.marker(format!(
                "applied {} object(s), {} unchanged",
                total - applied.unchanged,
                applied.unchanged
            ));
        }
        streams.report(ctx);
        streams.follow_logs(
            &cluster.client,
            &cluster.namespace,
            &owner.selector(),
            &applied.objects,
            &ctx.log,
        );
        let mut tasks = Vec::new();
        // The actor runs the unit as this provider views it: a Notify
        // readiness is this provider's to report.
        if unit.ready.as_ref().map(|p| &p.check) == Some(&ProbeCheck::Notify) {
            tasks.push(watch_ready(
                ctx,
                &cluster,
                applied.objects,
                spec.readiness,
                &owner,
            ));
        }
        // The new run owns the objects now.
        self.kept = None;
        self.run = Some(Run {
            cluster,
            owner,
            log: ctx.log.clone(),
            kinds,
            tasks,
            streams,
        });
        Ok(())
    }
}

/// The unit's live objects that its manifests no longer hold.
async fn prune(
    cluster: &Cluster,
    owner: &Owner,
    kinds: &BTreeSet<Kind>,
    wanted: &[Live],
) -> Result<Vec<Live>, KubeError> {
    let live = apply::owned(cluster, owner, kinds).await?;
    Ok(live
        .into_iter()
        .filter(|l| !wanted.iter().any(|w| apply::same_object(l, w)))
        .collect())
}

/// Report readiness (or a failed Job/Pod) when the watches see it.
fn watch_ready(
    ctx: &RunCtx,
    cluster: &Cluster,
    objects: Vec<Live>,
    mode: KubeReadiness,
    owner: &Owner,
) -> JoinHandle<()> {
    let (cluster, facts, log, run, selector) = (
        cluster.clone(),
        ctx.facts.clone(),
        ctx.log.clone(),
        ctx.run,
        owner.selector(),
    );
    tokio::spawn(async move {
        match ready::wait(&cluster, &objects, mode, &selector).await {
            ready::Outcome::Ready => {
                let _ = facts.send((run, Fact::Ready));
            }
            ready::Outcome::Failed(why) => {
                log.marker(&why);
                let _ = facts.send((run, Fact::Status(why)));
                let _ = facts.send((run, Fact::Exited(Some(ExitStatus::Exited(1)))));
            }
        }
    })
}

/// Delete the unit's objects and wait until they are gone.
async fn stop_run(run: &Run, spec: &StopSpec) -> StopReport {
    let objects = match apply::owned(&run.cluster, &run.owner, &run.kinds).await {
        Ok(o) => o,
        Err(e) => {
            // Nothing is known to be deleted: the objects may live on.
            run.log.marker(format!(
                "cannot delete the unit's objects: {}",
                e.user_message()
            ));
            warn!(unit = %run.owner.unit, "listing the unit's objects: {}", e.user_message());
            return StopReport::Unkillable(Vec::new());
        }
    };
    if objects.is_empty() {
        return StopReport::Graceful;
    }
    let names: Vec<String> = objects.iter().map(Live::describe).collect();
    run.log.marker(format!("deleting {}", names.join(", ")));
    for (l, why) in apply::delete_all(&run.cluster, &objects).await {
        warn!(unit = %run.owner.unit, "deleting {}: {why}", l.describe());
    }
    let left = apply::await_gone(&run.cluster, &objects, spec.timeout).await;
    if left.is_empty() {
        return StopReport::Graceful;
    }
    apply::force_delete(&run.cluster, &left).await;
    if apply::await_gone(&run.cluster, &left, FORCE_WAIT)
        .await
        .is_empty()
    {
        StopReport::Killed
    } else {
        StopReport::Unkillable(Vec::new())
    }
}

impl Provider for KubeProvider {
    /// The unit's forwarded ports are held by devctld itself, never by a
    /// process carrying the run's marker.
    fn ownership(&self) -> Ownership {
        Ownership::External
    }

    fn view(&self, unit: Arc<Unit>) -> Arc<Unit> {
        effective_unit(unit)
    }

    async fn start(&mut self, ctx: RunCtx) -> Result<u32, StartFailure> {
        self.drop_run();
        let Some(spec) = ctx.unit.kubernetes.clone() else {
            return Err(StartFailure::Permanent {
                result: UnitResult::ExecFailed,
                message: "the unit has no kubernetes settings".into(),
            });
        };
        // No local process stands for the unit.
        let started = self.try_start(&ctx, &spec).await;
        if started.is_err()
            && let Some(k) = self.kept.take()
        {
            // A failed update leaves nothing behind, as a failed start
            // does: the unit is not running, so no stop would come.
            ctx.log
                .marker("the update failed: deleting what the previous run applied");
            stop_run(&k, &ctx.unit.stop).await;
        }
        started.map(|()| 0)
    }

    async fn stop(&mut self, spec: &StopSpec) -> StopReport {
        let Some(mut run) = self.run.take().or_else(|| self.kept.take()) else {
            return StopReport::Graceful;
        };
        self.kept = None;
        for t in &run.tasks {
            t.abort();
        }
        run.streams.close_forwards();
        // The logs follow the pods until they are gone.
        stop_run(&run, spec).await
    }

    fn forget(&mut self) {
        self.kept = None;
        self.drop_run();
    }

    /// Keep the objects and the open forwards for the next start, which
    /// applies what changed in place.
    async fn hand_over(&mut self) -> bool {
        let Some(mut run) = self.run.take() else {
            return false;
        };
        for t in run.tasks.drain(..) {
            t.abort();
        }
        // The log followers close: the next run follows the pods anew.
        run.streams.close_logs();
        self.kept = Some(run);
        true
    }
}
