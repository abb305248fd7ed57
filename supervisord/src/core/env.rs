//! The environment a unit's processes get: the daemon's own environment
//! minus daemon-only variables, then env-files, then the unit's `env`
//! (later wins), then devctl's own variables.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use devctl_units::Unit;

/// Variables that describe the daemon itself and must not leak to children.
pub const DAEMON_ONLY: &[&str] = &[
    "NOTIFY_SOCKET",
    "LISTEN_FDS",
    "LISTEN_PID",
    "LISTEN_FDNAMES",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "INVOCATION_ID",
    "DEVCTL_INVOCATION_ID",
];

/// An env-file that is required but unreadable.
#[derive(Debug, thiserror::Error)]
#[error("env-file {path}: {source}")]
pub struct EnvFileError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// Parse `KEY=VALUE` lines (`#` comments, blank lines, `export ` prefix,
/// optional matching single or double quotes around the value).
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.is_empty()
            || k.starts_with(|c: char| c.is_ascii_digit())
            || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        let v = v.trim();
        let v = match (v.chars().next(), v.chars().last()) {
            (Some(q @ ('"' | '\'')), Some(e)) if q == e && v.len() >= 2 => &v[1..v.len() - 1],
            _ => v,
        };
        out.push((k.to_string(), v.to_string()));
    }
    out
}

/// Inputs besides the unit.
#[derive(Debug, Clone, Default)]
pub struct EnvContext {
    /// The daemon's environment.
    pub base: Vec<(String, String)>,
    /// Additional names to strip.
    pub strip: Vec<String>,
    /// Added to every child (after the unit's own env).
    pub extra: Vec<(String, String)>,
    /// `base` without the daemon-only and stripped names, built once and
    /// shared by every run.
    pub(crate) filtered: OnceLock<Arc<[(String, String)]>>,
}

impl EnvContext {
    /// The daemon's environment as every child starts from it (sorted by
    /// name, one copy for all runs).
    pub fn shared_base(&self) -> Arc<[(String, String)]> {
        self.filtered
            .get_or_init(|| {
                let env: BTreeMap<String, String> = self
                    .base
                    .iter()
                    .filter(|(k, _)| {
                        !DAEMON_ONLY.contains(&k.as_str()) && !self.strip.iter().any(|s| s == k)
                    })
                    .cloned()
                    .collect();
                env.into_iter().collect()
            })
            .clone()
    }
}

/// A run's environment: the daemon's shared base (the same `Arc` for
/// every run) and the run's own variables, which win. A run keeps it for
/// its exec probes and stop command; sharing the base saves every running
/// unit a copy of the whole session environment (~3 KB with 40 variables).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunEnv {
    base: Arc<[(String, String)]>,
    own: Arc<[(String, String)]>,
}

impl RunEnv {
    /// The whole environment, sorted by name.
    pub fn to_vec(&self) -> Vec<(String, String)> {
        let mut env: BTreeMap<String, String> = self.base.iter().cloned().collect();
        env.extend(self.own.iter().cloned());
        env.into_iter().collect()
    }
}

impl From<Vec<(String, String)>> for RunEnv {
    /// A whole environment (a carried run's), with no shared base.
    fn from(own: Vec<(String, String)>) -> RunEnv {
        RunEnv {
            base: Arc::from([]),
            own: own.into(),
        }
    }
}

/// The environment of a run's exec probes: the run's, without its notify
/// socket (a probe is not the service); empty when no probe execs.
pub fn probe_env(unit: &Unit, env: &RunEnv) -> Arc<[(String, String)]> {
    let execs = [&unit.ready, &unit.alive]
        .into_iter()
        .flatten()
        .any(|p| matches!(p.check, devctl_units::ProbeCheck::Exec(_)));
    if !execs {
        return Arc::from([]);
    }
    env.to_vec()
        .into_iter()
        .filter(|(k, _)| k != "NOTIFY_SOCKET")
        .collect()
}

/// Build the full environment of one invocation.
pub fn build_env(
    ctx: &EnvContext,
    unit: &Unit,
    invocation: &str,
    notify_socket: Option<&str>,
) -> Result<RunEnv, EnvFileError> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for f in &unit.env_files {
        match std::fs::read_to_string(&f.path) {
            Ok(text) => env.extend(parse_env_file(&text)),
            Err(e) if f.optional && e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(EnvFileError {
                    path: f.path.clone(),
                    source,
                });
            }
        }
    }
    env.extend(unit.env.iter().cloned());
    env.extend(ctx.extra.iter().cloned());
    env.insert("DEVCTL_INVOCATION_ID".into(), invocation.into());
    env.insert("DEVCTL_PROJECT".into(), unit.project.to_string());
    env.insert("DEVCTL_UNIT".into(), unit.name.to_string());
    if let Some(sock) = notify_socket {
        env.insert("NOTIFY_SOCKET".into(), sock.into());
    }
    Ok(RunEnv {
        base: ctx.shared_base(),
        own: env.into_iter().collect(),
    })
}

/// The sd_notify socket path a run with this invocation id gets
/// (`NOTIFY_SOCKET` in its environment; its provider binds it).
pub fn notify_path(notify_dir: &std::path::Path, invocation: &str) -> PathBuf {
    notify_dir.join(format!("{invocation}.sock"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::{EnvFile, ProjectName, UnitKind, UnitName};

    fn unit() -> Unit {
        Unit::new(
            ProjectName::new("p").unwrap(),
            UnitName::new("web").unwrap(),
            UnitKind::Service,
            "/".into(),
        )
    }

    #[test]
    fn only_exec_probes_get_the_environment_without_the_notify_socket() {
        use devctl_units::{Probe, ProbeCheck};
        let env = RunEnv::from(vec![
            ("A".to_string(), "1".to_string()),
            ("NOTIFY_SOCKET".to_string(), "/run/n.sock".to_string()),
        ]);
        let mut u = unit();
        u.ready = Some(Probe::readiness(ProbeCheck::Tcp {
            host: "127.0.0.1".into(),
            port: 1,
        }));
        assert!(probe_env(&u, &env).is_empty(), "a TCP probe spawns nothing");
        u.alive = Some(Probe::readiness(ProbeCheck::Exec(vec!["true".into()])));
        assert_eq!(&*probe_env(&u, &env), &[("A".to_string(), "1".to_string())]);
    }

    #[test]
    fn layering_and_stripping() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join(".env");
        std::fs::write(
            &f,
            "# c\nexport A=file\nB=\"quoted\"\nbad line\n1X=y\nC='s'\n",
        )
        .unwrap();
        let mut u = unit();
        u.env_files = vec![
            EnvFile {
                path: f,
                optional: false,
            },
            EnvFile {
                path: tmp.path().join("missing"),
                optional: true,
            },
        ];
        u.env = vec![
            ("A".into(), "unit".into()),
            ("D".into(), "1".into()),
            ("D".into(), "2".into()),
        ];
        let ctx = EnvContext {
            base: vec![
                ("PATH".into(), "/bin".into()),
                ("NOTIFY_SOCKET".into(), "/daemon".into()),
                ("LISTEN_FDS".into(), "3".into()),
                ("SECRET".into(), "x".into()),
                ("DEVCTL_HOME".into(), "/h".into()),
            ],
            strip: vec!["SECRET".into()],
            extra: vec![("MARK".into(), "m".into())],
            ..EnvContext::default()
        };
        let run = build_env(&ctx, &u, "inv", Some("/n.sock")).unwrap();
        let env: BTreeMap<_, _> = run.to_vec().into_iter().collect();
        assert_eq!(env["A"], "unit");
        assert_eq!(env["B"], "quoted");
        assert_eq!(env["C"], "s");
        assert_eq!(env["D"], "2");
        assert_eq!(env["PATH"], "/bin");
        assert_eq!(env["DEVCTL_HOME"], "/h");
        assert_eq!(env["NOTIFY_SOCKET"], "/n.sock");
        assert_eq!(env["MARK"], "m");
        assert_eq!(env["DEVCTL_INVOCATION_ID"], "inv");
        assert_eq!(env["DEVCTL_PROJECT"], "p");
        assert_eq!(env["DEVCTL_UNIT"], "web");
        assert!(
            !env.contains_key("LISTEN_FDS")
                && !env.contains_key("SECRET")
                && !env.contains_key("1X")
        );
        let other = build_env(&ctx, &u, "inv2", None).unwrap();
        let no_notify: BTreeMap<_, _> = other.to_vec().into_iter().collect();
        assert!(!no_notify.contains_key("NOTIFY_SOCKET"));
        assert_eq!(no_notify["DEVCTL_INVOCATION_ID"], "inv2");
        // Both runs share one copy of the daemon's environment.
        assert!(Arc::ptr_eq(&run.base, &other.base));
        assert_eq!(run.base.len(), 2, "PATH and DEVCTL_HOME: {:?}", run.base);
    }

    #[test]
    fn required_env_file_missing_is_an_error() {
        let mut u = unit();
        u.env_files = vec![EnvFile {
            path: "/nonexistent/.env".into(),
            optional: false,
        }];
        let err = build_env(&EnvContext::default(), &u, "i", None).unwrap_err();
        assert_eq!(err.source.kind(), io::ErrorKind::NotFound);
    }
}
