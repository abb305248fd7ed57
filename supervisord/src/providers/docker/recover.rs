//! Crash recovery for containers. Containers outlive the daemon, so after
//! a crash the running ones the session still wants are left alone (their
//! unit's provider adopts them on start); every other container of this
//! daemon instance (a unit that should not run any more, an exited one) is
//! removed. Other instances' and foreign containers are never touched.

use std::collections::BTreeSet;
use std::path::Path;

use tracing::{info, warn};

use crate::providers::docker::engine::Engine;
use crate::providers::docker::error::DockerError;
use crate::providers::docker::labels;

/// What recovery did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Running containers left for adoption: `(project, unit)`.
    pub kept: Vec<(String, String)>,
    /// Containers removed: `(project, unit)`.
    pub removed: Vec<(String, String)>,
}

/// Remove this instance's containers except running ones of `keep`.
pub async fn clean_strays(
    engine: &Engine,
    instance: &str,
    keep: &BTreeSet<(String, String)>,
) -> Result<Recovered, DockerError> {
    let mut out = Recovered::default();
    for c in engine.list_owned(instance, None, None).await? {
        let key = (c.owner.project.clone(), c.owner.unit.clone());
        if c.running && keep.contains(&key) {
            out.kept.push(key);
            continue;
        }
        info!(project = %key.0, unit = %key.1, container = %c.id, "removing a leftover container");
        engine.remove(&c.id).await?;
        out.removed.push(key);
    }
    out.kept.sort();
    out.removed.sort();
    Ok(out)
}

/// Every container of this instance, removed (a new session begins: none
/// of them is wanted). Returns how many were removed.
pub async fn remove_all(engine: &Engine, instance: &str) -> Result<usize, DockerError> {
    Ok(clean_strays(engine, instance, &BTreeSet::new())
        .await?
        .removed
        .len())
}

/// The session hook at daemon start. `keep` is what a crashed session
/// wanted running (`None`: a new session, so nothing of this instance's is
/// wanted). An unreachable engine is a warning: container units will say
/// so when they start, and every other unit runs.
pub async fn on_boot(
    host: &str,
    notify_dir: &Path,
    keep: Option<&BTreeSet<(String, String)>>,
) -> Option<Recovered> {
    let engine = match Engine::connect(host).await {
        Ok(e) => e,
        Err(e) => {
            warn!("container recovery skipped: {}", e.user_message());
            return None;
        }
    };
    let instance = labels::instance_id(notify_dir);
    let empty = BTreeSet::new();
    match clean_strays(&engine, &instance, keep.unwrap_or(&empty)).await {
        Ok(r) => Some(r),
        Err(e) => {
            warn!("container recovery: {}", e.user_message());
            None
        }
    }
}
