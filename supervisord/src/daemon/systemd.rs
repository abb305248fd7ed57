//! What devctld does for systemd when it runs as a user service: carve its
//! delegated cgroup (`<own>/devctld` for the daemon itself, cgroup v2's "no
//! internal processes" rule; `<own>/units/devctl-<invocation>` per run),
//! ping the watchdog at half of `WATCHDOG_USEC` while the core answers, and
//! keep a `STATUS=` line summarising the units.

use std::path::Path;
use std::time::Duration;

use devctl_units::api::{EventKind, Hosting};
use devctl_units::state::ActiveState;
use sd_notify::NotifyState;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use crate::core::handle::{CoreApi, Supervisor};
use crate::process::CgroupParent;

/// The leaf devctld moves itself into.
pub const SELF_CGROUP: &str = "devctld";
/// The parent of per-run cgroups.
pub const UNITS_CGROUP: &str = "units";

/// Under systemd with `Delegate=yes`: move devctld into `<base>/devctld` and
/// return `<base>/units` as the parent of per-run cgroups. `None` when
/// standalone (never carve a login session's cgroup) or not delegated.
pub fn delegated_cgroup(hosting: Hosting) -> Option<CgroupParent> {
    if hosting == Hosting::Standalone {
        return None;
    }
    let own = CgroupParent::detect()?;
    // After a re-exec devctld already sits in its leaf.
    let base = if own.path().file_name().is_some_and(|n| n == SELF_CGROUP) {
        own.path().parent()?.to_path_buf()
    } else {
        own.path().to_path_buf()
    };
    match carve(&base) {
        Ok(parent) => parent,
        Err(e) => {
            tracing::warn!(cgroup = %base.display(), error = %e, "cannot use the delegated cgroup; units are contained by process group and marker only");
            None
        }
    }
}

fn carve(base: &Path) -> std::io::Result<Option<CgroupParent>> {
    let leaf = base.join(SELF_CGROUP);
    let units = base.join(UNITS_CGROUP);
    for dir in [&leaf, &units] {
        match std::fs::create_dir(dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    }
    std::fs::write(leaf.join("cgroup.procs"), std::process::id().to_string())?;
    // Empty run cgroups left by a crashed predecessor (systemd killed its
    // processes); populated ones belong to runs this daemon will adopt.
    if let Ok(entries) = std::fs::read_dir(&units) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = std::fs::remove_dir(e.path());
            }
        }
    }
    Ok(CgroupParent::at(units))
}

/// Ping the watchdog at half its interval, but only while the core answers
/// (a wedged manager then gets devctld restarted). `None` without a watchdog.
pub fn watchdog(sup: Supervisor) -> Option<JoinHandle<()>> {
    let interval = sd_notify::watchdog_enabled()?;
    let half = (interval / 2).max(Duration::from_millis(10));
    tracing::info!(interval = ?interval, "systemd watchdog enabled; pinging at half the interval");
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(half);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if tokio::time::timeout(half, sup.projects()).await.is_ok() {
                super::notify(&[NotifyState::Watchdog]);
            } else {
                tracing::warn!(
                    "the core did not answer within half the watchdog interval; not pinging"
                );
            }
        }
    }))
}

/// Counts of units by active state, for `STATUS=`.
pub fn summary(states: &[ActiveState]) -> String {
    let count = |s: ActiveState| states.iter().filter(|a| **a == s).count();
    let mut parts = vec![format!("{} active", count(ActiveState::Active))];
    for (s, label) in [
        (ActiveState::Activating, "activating"),
        (ActiveState::Deactivating, "deactivating"),
        (ActiveState::Failed, "failed"),
    ] {
        let n = count(s);
        if n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    format!("serving; {} units: {}", states.len(), parts.join(", "))
}

/// Keep `STATUS=` current: recomputed after each burst of state changes.
/// Only when systemd listens (`NOTIFY_SOCKET`).
pub fn status_lines(sup: Supervisor) -> Option<JoinHandle<()>> {
    std::env::var_os("NOTIFY_SOCKET")?;
    let mut events = sup.subscribe_events();
    Some(tokio::spawn(async move {
        let mut last = String::new();
        loop {
            if let Ok(units) = sup.units(None).await {
                let line = summary(&units.iter().map(|u| u.active).collect::<Vec<_>>());
                if line != last {
                    super::notify(&[NotifyState::Status(&line)]);
                    last = line;
                }
            }
            loop {
                match events.recv().await {
                    Ok(ev) if matches!(ev.kind, EventKind::StateChanged { .. }) => break,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return,
                }
            }
            // Coalesce a burst (a project coming up) into one line.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries() {
        assert_eq!(summary(&[]), "serving; 0 units: 0 active");
        assert_eq!(
            summary(&[
                ActiveState::Active,
                ActiveState::Failed,
                ActiveState::Inactive,
                ActiveState::Active
            ]),
            "serving; 4 units: 2 active, 1 failed"
        );
    }

    #[test]
    fn standalone_never_carves() {
        assert_eq!(delegated_cgroup(Hosting::Standalone), None);
        let tmp = tempfile::tempdir().unwrap();
        // Not a cgroup: the directories are made but no parent is usable.
        assert_eq!(carve(tmp.path()).ok().flatten(), None);
    }
}
