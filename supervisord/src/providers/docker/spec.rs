//! Translation of a container unit into the engine's create request: image,
//! command and entrypoint overrides, environment (env-files, then `env`,
//! then devctl's variables; never the daemon's own environment), published
//! ports (127.0.0.1 unless a host address is given), volumes and bind
//! mounts, working directory, user, network, stop signal and timeout, and
//! **no engine restart policy**: devctl restarts containers itself so
//! backoff and start limits behave as for processes.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{
    ContainerCreateBody, HostConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};

use devctl_units::{ContainerSpec, Unit};

use crate::core::env::{EnvFileError, parse_env_file};
use crate::providers::docker::labels::fnv1a;

/// The container's environment as `NAME=value` lines.
pub fn container_env(unit: &Unit) -> Result<Vec<String>, EnvFileError> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for f in &unit.env_files {
        match std::fs::read_to_string(&f.path) {
            Ok(text) => env.extend(parse_env_file(&text)),
            Err(e) if f.optional && e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(EnvFileError {
                    path: f.path.clone(),
                    source,
                });
            }
        }
    }
    env.extend(unit.env.iter().cloned());
    env.insert("DEVCTL_PROJECT".into(), unit.project.to_string());
    env.insert("DEVCTL_UNIT".into(), unit.name.to_string());
    Ok(env.into_iter().map(|(k, v)| format!("{k}={v}")).collect())
}

/// `8080/tcp`: the engine's key for a container port.
pub fn port_key(port: u16, protocol: &str) -> String {
    format!("{port}/{protocol}")
}

/// The create request for `unit` (labels are added by the caller).
pub fn create_body(unit: &Unit, spec: &ContainerSpec, env: Vec<String>) -> ContainerCreateBody {
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &spec.publish {
        bindings
            .entry(port_key(p.container_port, &p.protocol))
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(p.host_ip.clone().unwrap_or_else(|| "127.0.0.1".into())),
                host_port: Some(p.host_port.unwrap_or(p.container_port).to_string()),
            });
    }
    let mut exposed: Vec<String> = bindings.keys().cloned().collect();
    exposed.sort();
    let binds: Vec<String> = spec
        .volumes
        .iter()
        .map(|v| {
            let ro = if v.read_only { ":ro" } else { "" };
            format!("{}:{}{ro}", v.source, v.target)
        })
        .collect();
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: spec.command.clone(),
        entrypoint: spec.entrypoint.clone(),
        env: Some(env),
        working_dir: spec.workdir.clone(),
        user: spec.user.clone(),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        stop_signal: Some(unit.stop.signal.name().to_string()),
        stop_timeout: Some(unit.stop.timeout.as_secs().max(1) as i64),
        host_config: Some(HostConfig {
            port_bindings: (!bindings.is_empty()).then_some(bindings),
            binds: (!binds.is_empty()).then_some(binds),
            network_mode: spec.network.clone(),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::NO),
                maximum_retry_count: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A stable hash of a create request (labels excluded): equal hashes mean
/// a running container was created from the same settings.
pub fn config_hash(body: &ContainerCreateBody) -> String {
    let mut b = body.clone();
    b.labels = None;
    // `Value` objects are sorted maps, so HashMap order does not leak in.
    let canon = serde_json::to_value(&b)
        .map(|v| v.to_string())
        .unwrap_or_default();
    format!("{:016x}", fnv1a(canon.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::{EnvFile, ProjectName, Publish, UnitKind, UnitName, Volume};
    use std::time::Duration;

    fn unit() -> (Unit, ContainerSpec) {
        let mut u = Unit::new(
            ProjectName::new("p").unwrap(),
            UnitName::new("web").unwrap(),
            UnitKind::Container,
            "/".into(),
        );
        u.env = vec![("A".into(), "1".into()), ("A".into(), "2".into())];
        u.stop.timeout = Duration::from_millis(200);
        let spec = ContainerSpec {
            image: "img:1".into(),
            build: None,
            command: Some(vec!["sh".into(), "-c".into(), "x".into()]),
            entrypoint: None,
            publish: vec![
                Publish {
                    container_port: 8080,
                    host_port: Some(18080),
                    host_ip: None,
                    protocol: "tcp".into(),
                },
                Publish {
                    container_port: 53,
                    host_port: None,
                    host_ip: Some("0.0.0.0".into()),
                    protocol: "udp".into(),
                },
            ],
            volumes: vec![Volume {
                source: "/data".into(),
                target: "/d".into(),
                read_only: true,
            }],
            workdir: Some("/app".into()),
            user: Some("1000".into()),
            network: Some("bridge".into()),
            healthcheck: false,
        };
        (u, spec)
    }

    #[test]
    fn create_body_maps_every_field() {
        let (u, spec) = unit();
        let env = container_env(&u).unwrap();
        assert_eq!(env, ["A=2", "DEVCTL_PROJECT=p", "DEVCTL_UNIT=web"]);
        let b = create_body(&u, &spec, env);
        assert_eq!(b.image.as_deref(), Some("img:1"));
        assert_eq!(b.cmd.as_ref().unwrap()[0], "sh");
        assert_eq!(b.exposed_ports.as_ref().unwrap(), &["53/udp", "8080/tcp"]);
        assert_eq!(b.stop_signal.as_deref(), Some("SIGTERM"));
        assert_eq!(b.stop_timeout, Some(1));
        assert_eq!(b.working_dir.as_deref(), Some("/app"));
        assert_eq!(b.user.as_deref(), Some("1000"));
        let hc = b.host_config.as_ref().unwrap();
        let tcp = hc.port_bindings.as_ref().unwrap()["8080/tcp"]
            .as_ref()
            .unwrap();
        assert_eq!(tcp[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(tcp[0].host_port.as_deref(), Some("18080"));
        let udp = hc.port_bindings.as_ref().unwrap()["53/udp"]
            .as_ref()
            .unwrap();
        assert_eq!(udp[0].host_ip.as_deref(), Some("0.0.0.0"));
        assert_eq!(udp[0].host_port.as_deref(), Some("53"));
        assert_eq!(hc.binds.as_ref().unwrap(), &["/data:/d:ro"]);
        assert_eq!(hc.network_mode.as_deref(), Some("bridge"));
        assert_eq!(
            hc.restart_policy.as_ref().unwrap().name,
            Some(RestartPolicyNameEnum::NO)
        );
    }

    #[test]
    fn config_hash_ignores_labels_and_sees_settings() {
        let (u, spec) = unit();
        let a = create_body(&u, &spec, vec![]);
        let mut b = a.clone();
        b.labels = Some(HashMap::from([("x".into(), "y".into())]));
        assert_eq!(config_hash(&a), config_hash(&b));
        let mut c = a.clone();
        c.image = Some("img:2".into());
        assert_ne!(config_hash(&a), config_hash(&c));
        // Rebuilding the maps in another order does not change the hash.
        assert_eq!(
            config_hash(&a),
            config_hash(&create_body(&u, &spec, vec![]))
        );
    }

    #[test]
    fn env_file_errors() {
        let (mut u, _) = unit();
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(".env"), "B=file\nA=file\n").unwrap();
        u.env_files = vec![
            EnvFile {
                path: tmp.path().join(".env"),
                optional: false,
            },
            EnvFile {
                path: tmp.path().join("absent"),
                optional: true,
            },
        ];
        let env = container_env(&u).unwrap();
        assert!(env.contains(&"B=file".to_string()) && env.contains(&"A=2".to_string()));
        u.env_files.push(EnvFile {
            path: tmp.path().join("required"),
            optional: false,
        });
        let err = container_env(&u).unwrap_err();
        assert_eq!(err.source.kind(), std::io::ErrorKind::NotFound);
    }
}
