//! Applying a unit's objects and taking them away again.
//!
//! Each object's kind is resolved through discovery (scope and plural;
//! a CRD applied earlier in the same unit is waited on until Established
//! so its resources resolve), then applied with server-side apply under
//! field manager `devctl`, never forced: a field another manager owns is
//! a conflict the unit fails with. An object whose live copy carries the
//! same hash annotation is left alone (an adopted unit re-applies
//! nothing). What the unit owns is found again by its labels, across the
//! kinds it applies and the usual built-in kinds (as `kubectl apply
//! --prune` does), so objects dropped from the manifests are pruned and
//! a stop deletes exactly the unit's objects, with foreground propagation.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::future::join_all;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, ApiCapabilities, ApiResource, Scope};
use kube::runtime::wait::{await_condition, conditions};

use crate::providers::kubernetes::cluster::{CALL_TIMEOUT, Cluster, status_code};
use crate::providers::kubernetes::error::KubeError;
use crate::providers::kubernetes::manifests::{HASH, MANAGED_BY, Object, Owner, PROJECT, UNIT};

/// The field manager of every apply.
pub const FIELD_MANAGER: &str = "devctl";
/// How long a CRD applied by the unit may take to be Established.
const CRD_WAIT: Duration = Duration::from_secs(60);

/// One live object of the unit, as deletion needs it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Live {
    /// Apply order rank (namespaces 0, CRDs 1, others 2): deletion goes
    /// the other way.
    pub rank: u8,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl Live {
    fn resource(&self) -> ApiResource {
        let gvk = GroupVersionKind::gvk(&self.group, &self.version, &self.kind);
        ApiResource::from_gvk_with_plural(&gvk, &self.plural)
    }

    fn api(&self, client: &kube::Client) -> Api<DynamicObject> {
        let ar = self.resource();
        match &self.namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            None => Api::all_with(client.clone(), &ar),
        }
    }

    /// `Kind name` or `Kind namespace/name`.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

fn rank(group: &str, kind: &str) -> u8 {
    match (group, kind) {
        ("", "Namespace") => 0,
        ("apiextensions.k8s.io", "CustomResourceDefinition") => 1,
        _ => 2,
    }
}

/// Built-in kinds searched for a unit's objects besides those its
/// manifests name: what a dropped manifest most likely held.
const PRUNE_KINDS: &[(&str, &str, &str, &str, bool)] = &[
    ("", "v1", "ConfigMap", "configmaps", true),
    ("", "v1", "Secret", "secrets", true),
    ("", "v1", "Service", "services", true),
    ("", "v1", "Pod", "pods", true),
    ("", "v1", "ServiceAccount", "serviceaccounts", true),
    (
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    ("", "v1", "Namespace", "namespaces", false),
    ("apps", "v1", "Deployment", "deployments", true),
    ("apps", "v1", "StatefulSet", "statefulsets", true),
    ("apps", "v1", "DaemonSet", "daemonsets", true),
    ("batch", "v1", "Job", "jobs", true),
    ("batch", "v1", "CronJob", "cronjobs", true),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", true),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
    ),
];

/// A kind to search for the unit's objects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Kind {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl Kind {
    fn of(ar: &ApiResource, caps: &ApiCapabilities) -> Kind {
        Kind {
            group: ar.group.clone(),
            version: ar.version.clone(),
            kind: ar.kind.clone(),
            plural: ar.plural.clone(),
            namespaced: caps.scope == Scope::Namespaced,
        }
    }
}

/// The built-in kinds [`owned`] always searches.
pub fn prune_kinds() -> BTreeSet<Kind> {
    PRUNE_KINDS
        .iter()
        .map(|(g, v, k, p, n)| Kind {
            group: (*g).into(),
            version: (*v).into(),
            kind: (*k).into(),
            plural: (*p).into(),
            namespaced: *n,
        })
        .collect()
}

/// What an apply did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Every object of the manifests, live now.
    pub objects: Vec<Live>,
    /// The kinds they are of.
    pub kinds: BTreeSet<Kind>,
    /// How many were left alone (same hash live).
    pub unchanged: usize,
    /// Objects this apply created (absent before): undone if it fails.
    pub created: Vec<Live>,
}

/// Applies one unit's objects into a cluster.
pub struct Applier<'a> {
    cluster: &'a Cluster,
    owner: &'a Owner,
    resolved: BTreeMap<(String, String, String), (ApiResource, ApiCapabilities)>,
}

impl<'a> Applier<'a> {
    pub fn new(cluster: &'a Cluster, owner: &'a Owner) -> Applier<'a> {
        Applier {
            cluster,
            owner,
            resolved: BTreeMap::new(),
        }
    }

    async fn resolve(&mut self, obj: &Object) -> Result<(ApiResource, ApiCapabilities), KubeError> {
        let key = (
            obj.group().to_owned(),
            obj.version().to_owned(),
            obj.kind.clone(),
        );
        if let Some(r) = self.resolved.get(&key) {
            return Ok(r.clone());
        }
        let gvk = GroupVersionKind::gvk(&key.0, &key.1, &key.2);
        let r = self
            .cluster
            .call(
                "discover the kind",
                discovery::pinned_kind(&self.cluster.client, &gvk),
            )
            .await
            .map_err(|e| match e {
                KubeError::Api {
                    message, target, ..
                } => KubeError::UnknownKind {
                    object: obj.describe(None),
                    target,
                    message,
                },
                e => e,
            })?;
        self.resolved.insert(key, r.clone());
        Ok(r)
    }

    /// Apply `objects` in order; on failure, delete what this call created.
    pub async fn apply_all(
        &mut self,
        objects: &[Object],
        log: &crate::logs::UnitLog,
    ) -> Result<Applied, KubeError> {
        let mut done = Applied::default();
        for obj in objects {
            if let Err(e) = self.apply_one(obj, &mut done).await {
                if !done.created.is_empty() {
                    log.marker(format!(
                        "removing the {} object(s) this start created",
                        done.created.len()
                    ));
                    delete_all(self.cluster, &done.created).await;
                    // Foreground deletion finishes in the garbage collector:
                    // the failure is reported once nothing of the start is left.
                    await_gone(self.cluster, &done.created, CALL_TIMEOUT).await;
                }
                return Err(e);
            }
        }
        Ok(done)
    }

    async fn apply_one(&mut self, obj: &Object, done: &mut Applied) -> Result<(), KubeError> {
        let (ar, caps) = self.resolve(obj).await?;
        let namespaced = caps.scope == Scope::Namespaced;
        let namespace = namespaced.then(|| {
            obj.namespace
                .clone()
                .unwrap_or_else(|| self.cluster.namespace.clone())
        });
        let live = Live {
            rank: rank(&ar.group, &ar.kind),
            group: ar.group.clone(),
            version: ar.version.clone(),
            kind: ar.kind.clone(),
            plural: ar.plural.clone(),
            namespace: namespace.clone(),
            name: obj.name.clone(),
        };
        let what = obj.describe(namespace.as_deref());
        let api = live.api(&self.cluster.client);
        let existing = self
            .cluster
            .call("read the object", api.get_opt(&obj.name))
            .await?;
        if let Some(cur) = &existing {
            let labels = cur.metadata.labels.clone().unwrap_or_default();
            let theirs = |k: &str, mine: &str| labels.get(k).is_some_and(|v| v != mine);
            if labels.get(MANAGED_BY).map(String::as_str) == Some("devctl")
                && (theirs(PROJECT, &self.owner.project) || theirs(UNIT, &self.owner.unit))
            {
                return Err(KubeError::Apply {
                    object: what,
                    message: format!(
                        "it belongs to unit `{}` of project `{}`",
                        labels.get(UNIT).cloned().unwrap_or_default(),
                        labels.get(PROJECT).cloned().unwrap_or_default()
                    ),
                });
            }
            let same = cur
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(HASH))
                .is_some_and(|h| *h == obj.hash);
            if same && cur.metadata.deletion_timestamp.is_none() {
                done.unchanged += 1;
                done.kinds.insert(Kind::of(&ar, &caps));
                done.objects.push(live);
                return Ok(());
            }
        }
        let mut body = obj.body.clone();
        if let (Some(ns), Some(meta)) = (&namespace, body.get_mut("metadata"))
            && let Some(m) = meta.as_object_mut()
        {
            m.insert("namespace".into(), serde_json::Value::String(ns.clone()));
        }
        let dynobj: DynamicObject =
            serde_json::from_value(body).map_err(|e| KubeError::Manifest {
                path: obj.source.clone().into(),
                message: format!("not a Kubernetes object: {e}"),
            })?;
        let params = PatchParams::apply(FIELD_MANAGER);
        match tokio::time::timeout(
            CALL_TIMEOUT,
            api.patch(&obj.name, &params, &Patch::Apply(&dynobj)),
        )
        .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) if status_code(&e).is_some() => {
                let message = match &e {
                    kube::Error::Api(s) => s.message.clone(),
                    _ => e.to_string(),
                };
                return Err(KubeError::Apply {
                    object: what,
                    message,
                });
            }
            Ok(Err(e)) => return Err(self.cluster.error("apply", e)),
            Err(_) => {
                return Err(KubeError::Timeout {
                    target: self.cluster.target.clone(),
                    op: format!("apply {what}"),
                    after: CALL_TIMEOUT,
                });
            }
        }
        if ar.group == "apiextensions.k8s.io" && ar.kind == "CustomResourceDefinition" {
            self.await_crd(&obj.name, &what).await?;
        }
        if existing.is_none() {
            done.created.push(live.clone());
        }
        done.kinds.insert(Kind::of(&ar, &caps));
        done.objects.push(live);
        Ok(())
    }

    /// Wait until a CRD serves its resources, and forget cached lookups.
    async fn await_crd(&mut self, name: &str, what: &str) -> Result<(), KubeError> {
        let api: Api<CustomResourceDefinition> = Api::all(self.cluster.client.clone());
        match tokio::time::timeout(
            CRD_WAIT,
            await_condition(api, name, conditions::is_crd_established()),
        )
        .await
        {
            Ok(Ok(_)) => {
                self.resolved.clear();
                Ok(())
            }
            Ok(Err(e)) => Err(KubeError::Api {
                target: self.cluster.target.clone(),
                op: format!("wait for {what} to be established"),
                message: e.to_string(),
            }),
            Err(_) => Err(KubeError::Timeout {
                target: self.cluster.target.clone(),
                op: format!("wait for {what} to be established"),
                after: CRD_WAIT,
            }),
        }
    }
}

/// Every live object carrying the unit's labels, among `kinds` and the
/// built-in kinds of [`prune_kinds`], but for those another object owns
/// (a Deployment's pods). Kinds the cluster does not serve are skipped.
pub async fn owned(
    cluster: &Cluster,
    owner: &Owner,
    kinds: &BTreeSet<Kind>,
) -> Result<Vec<Live>, KubeError> {
    let mut all = prune_kinds();
    all.extend(kinds.iter().cloned());
    let lp = ListParams::default().labels(&owner.selector());
    let lists = all.iter().map(|k| {
        let gvk = GroupVersionKind::gvk(&k.group, &k.version, &k.kind);
        let ar = ApiResource::from_gvk_with_plural(&gvk, &k.plural);
        let api: Api<DynamicObject> = Api::all_with(cluster.client.clone(), &ar);
        let lp = lp.clone();
        async move {
            let r = cluster
                .call("list the unit's objects", async move {
                    api.list_metadata(&lp).await
                })
                .await;
            (k, r)
        }
    });
    let mut out = Vec::new();
    for (k, r) in join_all(lists).await {
        let list = match r {
            Ok(l) => l,
            // A kind this cluster does not serve (an uninstalled CRD).
            Err(KubeError::Api { .. }) => continue,
            Err(e) => return Err(e),
        };
        for item in list.items {
            // Pods of a Deployment, Jobs of a CronJob… carry the unit's
            // labels through its templates; their owners are the unit's.
            if item
                .metadata
                .owner_references
                .as_ref()
                .is_some_and(|o| !o.is_empty())
            {
                continue;
            }
            out.push(Live {
                rank: rank(&k.group, &k.kind),
                group: k.group.clone(),
                version: k.version.clone(),
                kind: k.kind.clone(),
                plural: k.plural.clone(),
                namespace: if k.namespaced {
                    item.metadata.namespace.clone()
                } else {
                    None
                },
                name: item.metadata.name.clone().unwrap_or_default(),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Whether `a` and `b` are the same object (a kind may be listed under
/// another version than the one applied).
pub fn same_object(a: &Live, b: &Live) -> bool {
    a.group == b.group && a.kind == b.kind && a.namespace == b.namespace && a.name == b.name
}

/// Delete `objects` (foreground propagation), namespaced ones before the
/// namespaces and CRDs they live in; a gone object is fine. Returns the
/// ones whose deletion failed, with why.
pub async fn delete_all(cluster: &Cluster, objects: &[Live]) -> Vec<(Live, String)> {
    let mut failed = Vec::new();
    let mut ordered: Vec<&Live> = objects.iter().collect();
    ordered.sort_by_key(|l| std::cmp::Reverse(l.rank));
    for l in ordered {
        let api = l.api(&cluster.client);
        let r = tokio::time::timeout(
            CALL_TIMEOUT,
            api.delete(&l.name, &DeleteParams::foreground()),
        )
        .await;
        match r {
            Ok(Ok(_)) => {}
            Ok(Err(e)) if status_code(&e) == Some(404) => {}
            Ok(Err(e)) => failed.push((l.clone(), cluster.error("delete", e).to_string())),
            Err(_) => failed.push((l.clone(), "no answer in time".into())),
        }
    }
    failed
}

/// Wait until every one of `objects` is gone (watching each); those
/// still there when `timeout` passes.
pub async fn await_gone(cluster: &Cluster, objects: &[Live], timeout: Duration) -> Vec<Live> {
    let waits = objects.iter().map(|l| {
        let api = l.api(&cluster.client);
        async move {
            let gone = tokio::time::timeout(timeout, async {
                loop {
                    let absent = |o: Option<&DynamicObject>| o.is_none();
                    match await_condition(api.clone(), &l.name, absent).await {
                        Ok(_) => return,
                        Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                    }
                }
            })
            .await
            .is_ok();
            (!gone).then(|| l.clone())
        }
    });
    join_all(waits).await.into_iter().flatten().collect()
}

/// Delete with no grace period what a stop timeout left behind.
pub async fn force_delete(cluster: &Cluster, objects: &[Live]) {
    let dp = DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::background()
    };
    for l in objects {
        let api = l.api(&cluster.client);
        let _ = cluster.call("delete", api.delete(&l.name, &dp)).await;
    }
}
