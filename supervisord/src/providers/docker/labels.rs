//! How devctld marks the containers it owns: the label scheme, the
//! container name scheme, the daemon-instance id and the configuration
//! hash used to decide whether a running container can be adopted.
//!
//! | label | value |
//! |---|---|
//! | `devctl.managed` | `1` |
//! | `devctl.instance` | id of the devctld that owns it (hash of its runtime directory) |
//! | `devctl.project` / `devctl.unit` | the unit's project and name |
//! | `devctl.invocation` | the run's invocation id |
//! | `devctl.config` | hash of everything the container was created with |
//!
//! A container without `devctl.managed=1` and this daemon's
//! `devctl.instance` is never stopped, removed or adopted.

use std::collections::HashMap;
use std::path::Path;

pub const MANAGED: &str = "devctl.managed";
pub const INSTANCE: &str = "devctl.instance";
pub const PROJECT: &str = "devctl.project";
pub const UNIT: &str = "devctl.unit";
pub const INVOCATION: &str = "devctl.invocation";
pub const CONFIG: &str = "devctl.config";

/// The engine-wide container name of a unit: `devctl-<project>-<unit>`.
pub fn container_name(project: &str, unit: &str) -> String {
    format!("devctl-{project}-{unit}")
}

/// 64-bit FNV-1a: stable across builds and Rust versions (unlike
/// `DefaultHasher`), so ids and hashes survive a daemon upgrade.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The id of the daemon instance owning containers: one daemon runs per
/// runtime directory (it holds the lock there), so the directory names it.
pub fn instance_id(runtime_dir: &Path) -> String {
    format!("{:016x}", fnv1a(runtime_dir.as_os_str().as_encoded_bytes()))
}

/// The labels every container of `project/unit` carries.
pub fn labels(
    instance: &str,
    project: &str,
    unit: &str,
    invocation: &str,
    config: &str,
) -> HashMap<String, String> {
    [
        (MANAGED, "1"),
        (INSTANCE, instance),
        (PROJECT, project),
        (UNIT, unit),
        (INVOCATION, invocation),
        (CONFIG, config),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Engine label filters selecting this instance's containers, optionally
/// of one project and unit.
pub fn filters(
    instance: &str,
    project: Option<&str>,
    unit: Option<&str>,
) -> HashMap<String, Vec<String>> {
    let mut l = vec![format!("{MANAGED}=1"), format!("{INSTANCE}={instance}")];
    if let Some(p) = project {
        l.push(format!("{PROJECT}={p}"));
    }
    if let Some(u) = unit {
        l.push(format!("{UNIT}={u}"));
    }
    HashMap::from([("label".to_string(), l)])
}

/// Who a container belongs to, read back from its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub project: String,
    pub unit: String,
    pub config: Option<String>,
}

/// The owner of a container if it is this instance's, else `None`.
pub fn owner(instance: &str, labels: &HashMap<String, String>) -> Option<Owner> {
    let get = |k: &str| labels.get(k).map(String::as_str);
    if get(MANAGED) != Some("1") || get(INSTANCE) != Some(instance) {
        return None;
    }
    Some(Owner {
        project: get(PROJECT)?.to_string(),
        unit: get(UNIT)?.to_string(),
        config: get(CONFIG).map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_are_stable() {
        assert_eq!(container_name("pizzeria", "redis"), "devctl-pizzeria-redis");
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        let a = instance_id(Path::new("/run/user/1000/devctl"));
        assert_eq!(a, instance_id(Path::new("/run/user/1000/devctl")));
        assert_ne!(a, instance_id(Path::new("/tmp/devctl-1000")));
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn ownership_needs_managed_and_instance() {
        let l = labels("i1", "p", "u", "inv", "cfg");
        assert_eq!(
            owner("i1", &l),
            Some(Owner {
                project: "p".into(),
                unit: "u".into(),
                config: Some("cfg".into())
            })
        );
        assert_eq!(owner("i2", &l), None);
        let mut foreign = l.clone();
        foreign.remove(MANAGED);
        assert_eq!(owner("i1", &foreign), None);
        let mut no_unit = l;
        no_unit.remove(UNIT);
        assert_eq!(owner("i1", &no_unit), None);
    }

    #[test]
    fn filter_shape() {
        let f = filters("i", Some("p"), Some("u"));
        assert_eq!(
            f["label"],
            [
                "devctl.managed=1",
                "devctl.instance=i",
                "devctl.project=p",
                "devctl.unit=u"
            ]
        );
        assert_eq!(filters("i", None, None)["label"].len(), 2);
    }
}
