//! Reaching a unit's cluster: its kubeconfig (the unit's `kubeconfig`,
//! else devctld's `$KUBECONFIG`, else `~/.kube/config`), its context (the
//! unit's `context`, else the kubeconfig's current one), a client whose
//! connections time out, and a first request that tells an unreachable
//! cluster or refused credentials apart before anything is applied.
//! [`Cluster::call`] bounds every request the provider makes.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use devctl_units::KubeSpec;

use crate::providers::kubernetes::error::{KubeError, Target};

/// How long establishing a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one API request may take (watches excepted).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// A connected cluster.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    pub target: Target,
    /// Where namespaced objects without a namespace go: the unit's
    /// `namespace`, else the context's, else `default`.
    pub namespace: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("target", &self.target)
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// The kubeconfig a unit uses, and how to name it in messages.
fn read_kubeconfig(spec: &KubeSpec) -> Result<(Kubeconfig, String), KubeError> {
    let err = |path: String, e: kube::config::KubeconfigError| KubeError::Kubeconfig {
        path,
        message: e.to_string(),
    };
    if let Some(p) = &spec.kubeconfig {
        let shown = p.display().to_string();
        return Kubeconfig::read_from(p)
            .map(|k| (k, shown.clone()))
            .map_err(|e| err(shown, e));
    }
    let shown = match std::env::var_os("KUBECONFIG") {
        Some(v) => format!("$KUBECONFIG ({})", v.to_string_lossy()),
        None => home_config().display().to_string(),
    };
    Kubeconfig::read()
        .map(|k| (k, shown.clone()))
        .map_err(|e| err(shown, e))
}

fn home_config() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".kube/config")
}

/// The context a unit uses and its server, as the kubeconfig names them
/// (for messages; the client resolves them itself).
fn target_of(kc: &Kubeconfig, spec: &KubeSpec) -> Target {
    let context = spec
        .context
        .clone()
        .or_else(|| kc.current_context.clone())
        .unwrap_or_default();
    let server = kc
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| kc.clusters.iter().find(|k| k.name == c.cluster))
        .and_then(|k| k.cluster.as_ref())
        .and_then(|k| k.server.clone())
        .unwrap_or_else(|| "unknown".into());
    Target { context, server }
}

/// The error's message with its causes (hyper's "client error (Connect)"
/// alone says little).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let m = s.to_string();
        if !out.contains(&m) {
            out.push_str(": ");
            out.push_str(&m);
        }
        cur = s.source();
    }
    out
}

impl Cluster {
    /// Connect with the unit's kubeconfig and context, and check the
    /// cluster answers and accepts the credentials.
    pub async fn connect(spec: &KubeSpec) -> Result<Cluster, KubeError> {
        let (kc, shown) = read_kubeconfig(spec)?;
        let target = target_of(&kc, spec);
        let options = KubeConfigOptions {
            context: spec.context.clone(),
            ..Default::default()
        };
        let mut config = Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(|e| KubeError::Context {
                path: shown.clone(),
                context: target.context.clone(),
                message: e.to_string(),
            })?;
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        let namespace = spec
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let client = Client::try_from(config).map_err(|e| KubeError::Context {
            path: shown,
            context: target.context.clone(),
            message: chain(&e),
        })?;
        let cluster = Cluster {
            client,
            target,
            namespace,
        };
        cluster
            .call("get the server version", cluster.client.apiserver_version())
            .await?;
        Ok(cluster)
    }

    /// Run one request with [`CALL_TIMEOUT`]; errors say which cluster
    /// and what was asked.
    pub async fn call<T>(
        &self,
        op: &str,
        fut: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, KubeError> {
        match tokio::time::timeout(CALL_TIMEOUT, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.error(op, e)),
            Err(_) => Err(KubeError::Timeout {
                target: self.target.clone(),
                op: op.to_owned(),
                after: CALL_TIMEOUT,
            }),
        }
    }

    /// Classify a failed request: refused credentials, an unreachable
    /// cluster, or another API error (with the server's message).
    pub fn error(&self, op: &str, e: kube::Error) -> KubeError {
        let target = self.target.clone();
        match &e {
            kube::Error::Api(s) if s.code == 401 => KubeError::Credentials {
                target,
                message: s.message.clone(),
            },
            kube::Error::Api(s) => KubeError::Api {
                target,
                op: op.to_owned(),
                message: s.message.clone(),
            },
            kube::Error::HyperError(_)
            | kube::Error::Service(_)
            | kube::Error::TlsRequired
            | kube::Error::Auth(_) => {
                let message = chain(&e);
                // The connect timeout covers the TLS handshake: a server
                // that accepts and never answers ends here.
                if message.contains("deadline has elapsed") {
                    KubeError::Timeout {
                        target,
                        op: format!("{op} (connecting)"),
                        after: CONNECT_TIMEOUT,
                    }
                } else {
                    KubeError::Unreachable { target, message }
                }
            }
            _ => KubeError::Api {
                target,
                op: op.to_owned(),
                message: chain(&e),
            },
        }
    }
}

/// The status code of an API error, if it is one.
pub fn status_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KC: &str = "apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: 'https://127.0.0.1:1'}
users:
- name: u
  user: {token: t}
contexts:
- name: one
  context: {cluster: a, user: u, namespace: team}
current-context: one
";

    fn spec(dir: &std::path::Path, context: Option<&str>) -> KubeSpec {
        let path = dir.join("kubeconfig");
        std::fs::write(&path, KC).unwrap();
        KubeSpec {
            kubeconfig: Some(path),
            context: context.map(str::to_owned),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn an_unreachable_cluster_is_named_by_context_and_server() {
        let tmp = tempfile::tempdir().unwrap();
        let e = Cluster::connect(&spec(tmp.path(), None)).await.unwrap_err();
        match &e {
            KubeError::Unreachable { target, .. } => {
                assert_eq!(target.context, "one");
                assert_eq!(target.server, "https://127.0.0.1:1");
            }
            e => panic!("{e:?}"),
        }
        let m = e.to_string();
        assert!(
            m.contains("context `one`") && m.contains("https://127.0.0.1:1"),
            "{m}"
        );
    }

    #[tokio::test]
    async fn a_missing_context_or_kubeconfig_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let e = Cluster::connect(&spec(tmp.path(), Some("nope")))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, KubeError::Context { context, .. } if context == "nope"),
            "{e:?}"
        );
        let missing = KubeSpec {
            kubeconfig: Some(tmp.path().join("absent")),
            ..Default::default()
        };
        let e = Cluster::connect(&missing).await.unwrap_err();
        assert!(
            matches!(&e, KubeError::Kubeconfig { path, .. } if path.ends_with("absent")),
            "{e:?}"
        );
    }
}
