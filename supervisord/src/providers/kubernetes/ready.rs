//! When a `kubernetes` unit is ready, decided by watches (never polling):
//!
//! - `auto`: every workload applied is rolled out: a Deployment has seen
//!   its generation, all its replicas are updated (no old ReplicaSet's
//!   pods left) and available; a StatefulSet's replicas are updated and
//!   Ready; a DaemonSet's scheduled pods are updated and Ready; a Job is
//!   Complete (Failed fails the unit); a Pod is Ready or Succeeded (Failed
//!   fails the unit). With no workload, ready once applied.
//! - `pods`: every pod carrying the unit's labels is Ready, and there is
//!   at least one.
//!
//! The start timeout is the actor's: this only says "ready" or "failed".

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::wait::await_condition;
use kube::runtime::{WatchStreamExt, watcher};

use devctl_units::KubeReadiness;

use crate::providers::kubernetes::apply::Live;
use crate::providers::kubernetes::cluster::Cluster;

/// How a readiness wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ready,
    /// A Job or Pod failed; why.
    Failed(String),
}

/// Wait until the unit's objects are ready by `mode`.
pub async fn wait(
    cluster: &Cluster,
    objects: &[Live],
    mode: KubeReadiness,
    selector: &str,
) -> Outcome {
    match mode {
        KubeReadiness::None => Outcome::Ready,
        KubeReadiness::Pods => pods_ready(cluster, selector).await,
        KubeReadiness::Auto => {
            let mut waits: FuturesUnordered<_> = objects
                .iter()
                .filter(|l| is_workload(l))
                .map(|l| workload(cluster, l))
                .collect();
            while let Some(o) = waits.next().await {
                if let Outcome::Failed(_) = o {
                    return o;
                }
            }
            Outcome::Ready
        }
    }
}

fn is_workload(l: &Live) -> bool {
    matches!(
        (l.group.as_str(), l.kind.as_str()),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet") | ("batch", "Job") | ("", "Pod")
    )
}

/// Wait on one object's watch until `done` says something; a broken
/// watch is opened again.
async fn watch_until<K, T>(
    api: Api<K>,
    name: &str,
    done: impl Fn(&K) -> Option<T> + Clone + Send + 'static,
) -> T
where
    K: Clone + std::fmt::Debug + Send + serde::de::DeserializeOwned + kube::Resource + 'static,
{
    loop {
        let d = done.clone();
        let cond = move |o: Option<&K>| o.is_some_and(|o| d(o).is_some());
        match await_condition(api.clone(), name, cond).await {
            Ok(Some(o)) => {
                if let Some(t) = done(&o) {
                    return t;
                }
            }
            Ok(None) | Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

async fn workload(cluster: &Cluster, l: &Live) -> Outcome {
    let ns = l
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.namespace.clone());
    let client = cluster.client.clone();
    match l.kind.as_str() {
        "Deployment" => {
            let api: Api<Deployment> = Api::namespaced(client, &ns);
            watch_until(api, &l.name, |d| {
                deployment_done(d).then_some(Outcome::Ready)
            })
            .await
        }
        "StatefulSet" => {
            let api: Api<StatefulSet> = Api::namespaced(client, &ns);
            watch_until(api, &l.name, |s| {
                statefulset_done(s).then_some(Outcome::Ready)
            })
            .await
        }
        "DaemonSet" => {
            let api: Api<DaemonSet> = Api::namespaced(client, &ns);
            watch_until(api, &l.name, |s| {
                daemonset_done(s).then_some(Outcome::Ready)
            })
            .await
        }
        "Job" => {
            let api: Api<Job> = Api::namespaced(client, &ns);
            let name = l.name.clone();
            watch_until(api, &l.name, move |j| job_outcome(&name, j)).await
        }
        "Pod" => {
            let api: Api<Pod> = Api::namespaced(client, &ns);
            let name = l.name.clone();
            watch_until(api, &l.name, move |p| pod_outcome(&name, p)).await
        }
        _ => Outcome::Ready,
    }
}

/// Rolled out: the controller saw this generation, every replica runs the
/// new template (none of an old ReplicaSet left) and is available.
pub fn deployment_done(d: &Deployment) -> bool {
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(s) = &d.status else { return false };
    let seen = s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0);
    seen && s.updated_replicas.unwrap_or(0) == want
        && s.replicas.unwrap_or(0) == want
        && s.available_replicas.unwrap_or(0) == want
}

pub fn statefulset_done(st: &StatefulSet) -> bool {
    let want = st.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(s) = &st.status else { return false };
    let seen = s.observed_generation.unwrap_or(0) >= st.metadata.generation.unwrap_or(0);
    let updated = s.update_revision.is_none() || s.current_revision == s.update_revision;
    seen && updated && s.ready_replicas.unwrap_or(0) == want && s.replicas == want
}

pub fn daemonset_done(ds: &DaemonSet) -> bool {
    let Some(s) = &ds.status else { return false };
    let seen = s.observed_generation.unwrap_or(0) >= ds.metadata.generation.unwrap_or(0);
    let want = s.desired_number_scheduled;
    seen && s.updated_number_scheduled.unwrap_or(0) == want && s.number_ready == want
}

fn condition_true<'a>(conds: impl IntoIterator<Item = (&'a str, &'a str)>, kind: &str) -> bool {
    conds.into_iter().any(|(t, s)| t == kind && s == "True")
}

pub fn job_outcome(name: &str, j: &Job) -> Option<Outcome> {
    let conds = j.status.as_ref().and_then(|s| s.conditions.as_ref())?;
    let pairs = || conds.iter().map(|c| (c.type_.as_str(), c.status.as_str()));
    if condition_true(pairs(), "Complete") {
        return Some(Outcome::Ready);
    }
    if condition_true(pairs(), "Failed") {
        let why = conds
            .iter()
            .find(|c| c.type_ == "Failed")
            .map(|c| {
                let reason = c.reason.clone().unwrap_or_default();
                match &c.message {
                    Some(m) if !m.is_empty() => format!("{reason}: {m}"),
                    _ => reason,
                }
            })
            .unwrap_or_default();
        return Some(Outcome::Failed(format!("Job {name} failed ({why})")));
    }
    None
}

pub fn pod_outcome(name: &str, p: &Pod) -> Option<Outcome> {
    let s = p.status.as_ref()?;
    match s.phase.as_deref() {
        Some("Succeeded") => return Some(Outcome::Ready),
        Some("Failed") => {
            let why = s.reason.clone().or(s.message.clone()).unwrap_or_default();
            return Some(Outcome::Failed(format!("Pod {name} failed ({why})")));
        }
        _ => {}
    }
    pod_ready(p).then_some(Outcome::Ready)
}

fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            condition_true(
                c.iter().map(|c| (c.type_.as_str(), c.status.as_str())),
                "Ready",
            )
        })
}

/// Every pod with the unit's labels Ready (and at least one), watched
/// across namespaces.
async fn pods_ready(cluster: &Cluster, selector: &str) -> Outcome {
    let api: Api<Pod> = Api::all(cluster.client.clone());
    let mut stream = watcher(api, watcher::Config::default().labels(selector))
        .default_backoff()
        .boxed();
    let mut pods: BTreeMap<String, bool> = BTreeMap::new();
    let mut listing: BTreeMap<String, bool> = BTreeMap::new();
    let key = |p: &Pod| {
        format!(
            "{}/{}",
            p.metadata.namespace.clone().unwrap_or_default(),
            p.metadata.name.clone().unwrap_or_default()
        )
    };
    while let Some(ev) = stream.next().await {
        let Ok(ev) = ev else { continue };
        match ev {
            watcher::Event::Init => listing.clear(),
            watcher::Event::InitApply(p) => {
                listing.insert(key(&p), pod_ready(&p));
            }
            watcher::Event::InitDone => pods = std::mem::take(&mut listing),
            watcher::Event::Apply(p) => {
                pods.insert(key(&p), pod_ready(&p));
            }
            watcher::Event::Delete(p) => {
                pods.remove(&key(&p));
            }
        }
        if !pods.is_empty() && pods.values().all(|r| *r) {
            return Outcome::Ready;
        }
    }
    Outcome::Failed("the pod watch ended".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(status: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": 3, "selector": {}, "template": {}},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn a_deployment_is_done_when_every_replica_is_new_and_available() {
        let done = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3});
        assert!(deployment_done(&deployment(done)));
        let old_generation = json!({"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3});
        assert!(!deployment_done(&deployment(old_generation)));
        let old_pods_left = json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3, "availableReplicas": 4});
        assert!(!deployment_done(&deployment(old_pods_left)));
        let not_available = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2});
        assert!(!deployment_done(&deployment(not_available)));
    }

    #[test]
    fn a_failed_job_fails_with_its_reason() {
        let j: Job = serde_json::from_value(json!({
            "metadata": {"name": "migrate"},
            "status": {"conditions": [
                {"type": "FailureTarget", "status": "True"},
                {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}
            ]}
        }))
        .unwrap();
        assert_eq!(
            job_outcome("migrate", &j),
            Some(Outcome::Failed("Job migrate failed (BackoffLimitExceeded: Job has reached the specified backoff limit)".into()))
        );
        let running: Job =
            serde_json::from_value(json!({"metadata": {"name": "m"}, "status": {"active": 1}}))
                .unwrap();
        assert_eq!(job_outcome("m", &running), None);
        let complete: Job = serde_json::from_value(json!({"metadata": {"name": "m"}, "status": {"conditions": [{"type": "Complete", "status": "True"}]}})).unwrap();
        assert_eq!(job_outcome("m", &complete), Some(Outcome::Ready));
    }
}
