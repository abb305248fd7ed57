//! The keys the reader knows, per section (for strictness and `did you
//! mean` suggestions), and which sections each kind may have.

use crate::model::UnitKind;

/// Keys of each section, for `did you mean` suggestions.
pub(crate) const UNIT_KEYS: &[&str] = &[
    "Description",
    "X-Devctl-Kind",
    "X-Devctl-Project",
    "X-Devctl-Root",
    "X-Devctl-Source",
    "Requires",
    "Wants",
    "After",
    "X-Devctl-Until",
    "X-Devctl-Member",
    "StartLimitBurst",
    "StartLimitIntervalSec",
];
pub(crate) const SERVICE_KEYS: &[&str] = &[
    "Type",
    "X-Devctl-Shell",
    "ExecStart",
    "WorkingDirectory",
    "Environment",
    "EnvironmentFile",
    "PIDFile",
    "ExecStop",
    "KillSignal",
    "TimeoutStopSec",
    "TimeoutStartSec",
    "RuntimeMaxSec",
    "X-Devctl-Idle-Timeout",
    "Restart",
    "RestartSec",
    "RestartMaxDelaySec",
    "X-Devctl-Reset-After",
    "X-Devctl-Port",
    "X-Devctl-Link",
    "X-Devctl-Ready",
    "X-Devctl-Alive",
    "X-Devctl-Watch",
    "X-Devctl-Watch-Ignore",
    "X-Devctl-Watch-Trigger",
    "X-Devctl-Schedule",
    "X-Devctl-Every",
    "X-Devctl-On-Commit",
    "X-Devctl-Always-Run",
    "X-Devctl-Log-Max-Size",
    "X-Devctl-Log-Files",
    "X-Devctl-Log-Max-Age",
];
pub(crate) const PROBE_KEYS: &[&str] = &[
    "X-Devctl-Ready-Period",
    "X-Devctl-Ready-Timeout",
    "X-Devctl-Ready-Initial-Delay",
    "X-Devctl-Ready-Success-Threshold",
    "X-Devctl-Ready-Failure-Threshold",
    "X-Devctl-Alive-Period",
    "X-Devctl-Alive-Timeout",
    "X-Devctl-Alive-Initial-Delay",
    "X-Devctl-Alive-Success-Threshold",
    "X-Devctl-Alive-Failure-Threshold",
];
pub(crate) const PROBE_KNOBS: &[&str] = &[
    "-Period",
    "-Timeout",
    "-Initial-Delay",
    "-Success-Threshold",
    "-Failure-Threshold",
];
pub(crate) const CONTAINER_KEYS: &[&str] = &[
    "Image",
    "X-Devctl-Build-Context",
    "X-Devctl-Build-Dockerfile",
    "Exec",
    "Entrypoint",
    "PublishPort",
    "Volume",
    "WorkingDir",
    "User",
    "Network",
    "Environment",
    "EnvironmentFile",
    "X-Devctl-Healthcheck",
];
pub(crate) const KUBE_KEYS: &[&str] = &[
    "Yaml",
    "X-Devctl-Context",
    "X-Devctl-Namespace",
    "X-Devctl-Port-Forward",
    "X-Devctl-Kubeconfig",
    "X-Devctl-Readiness",
    "X-Devctl-Image",
];
pub(crate) const INSTALL_KEYS: &[&str] = &["WantedBy"];

/// Sections a unit of `kind` may have.
pub(crate) fn allowed_sections(kind: UnitKind) -> Vec<&'static str> {
    match kind {
        UnitKind::Container => vec!["Unit", "Container", "Service", "Install"],
        UnitKind::Kubernetes => vec!["Unit", "Kube", "Service", "Install"],
        _ => vec!["Unit", "Service", "Install"],
    }
}

/// Edit distance, for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

pub(crate) fn suggest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    known
        .iter()
        .map(|k| {
            (
                distance(&key.to_ascii_lowercase(), &k.to_ascii_lowercase()),
                *k,
            )
        })
        .filter(|(d, k)| *d <= 2 && *k != key)
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("Decsription", UNIT_KEYS), Some("Description"));
        assert_eq!(suggest("execstart", SERVICE_KEYS), Some("ExecStart"));
        assert_eq!(suggest("Completely-Different", SERVICE_KEYS), None);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(suggest("Environment", SERVICE_KEYS), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn sections_per_kind() {
        assert!(allowed_sections(UnitKind::Container).contains(&"Container"));
        assert!(allowed_sections(UnitKind::Kubernetes).contains(&"Kube"));
        assert!(!allowed_sections(UnitKind::Service).contains(&"Container"));
        assert_eq!(PROBE_KEYS.len(), 2 * PROBE_KNOBS.len());
        assert!(INSTALL_KEYS.contains(&"WantedBy") && KUBE_KEYS.contains(&"Yaml"));
        assert!(CONTAINER_KEYS.contains(&"Image"));
    }
}
