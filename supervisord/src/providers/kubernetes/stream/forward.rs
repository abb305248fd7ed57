//! [`PortForward`]: listen on 127.0.0.1:LOCAL and carry each accepted
//! connection through the API server's port-forward stream to a ready pod
//! of the target, switching to another ready pod by itself when the one in
//! use goes away.
//!
//! Two parts run in one task: the resolver keeps a watch on the target
//! (`target::selections`) and on its pods, and publishes the chosen pod
//! (sticky while it stays ready; else the newest ready one) and the
//! [`ForwardState`]; the accept loop gives each connection its own
//! forward to the pod chosen at that moment. A connection that arrives
//! while no pod is ready waits for one (up to [`CONNECT_WAIT`]); a
//! connection whose pod goes away is closed, as the container behind it
//! is gone. Every API request has a timeout; watches are retried with
//! backoff and their trouble shows in the state.

use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::target::{self, RemotePort, Selection, Target};
use crate::process::{PortHolder, port_holder};

/// Ceiling for opening one forward through the API server.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a new connection waits for a ready pod before it is closed.
pub const CONNECT_WAIT: Duration = Duration::from_secs(30);

/// Why a port-forward could not start.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ForwardError {
    #[error("127.0.0.1:{port} is already in use{}", holder.as_ref().map(|h| format!(" by pid {} ({})", h.pid, h.cmdline)).unwrap_or_default())]
    #[diagnostic(
        code(devctl::kubernetes::port_in_use),
        help("stop what holds the port, or forward from another local port")
    )]
    PortInUse {
        port: u16,
        holder: Option<PortHolder>,
    },

    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    #[diagnostic(code(devctl::kubernetes::listen))]
    Listen {
        port: u16,
        #[source]
        source: std::io::Error,
    },

    #[error("`{given}` is not a port-forward target")]
    #[diagnostic(
        code(devctl::kubernetes::bad_target),
        help("name it as pod/NAME, deployment/NAME or service/NAME")
    )]
    BadTarget { given: String },
}

/// What to forward.
#[derive(Debug, Clone)]
pub struct ForwardSpec {
    pub namespace: String,
    pub target: Target,
    /// The port on 127.0.0.1; 0 picks a free one (see [`PortForward::local_addr`]).
    pub local_port: u16,
    /// The port on the pod; for a Service, the Service's port (mapped to
    /// its target port).
    pub remote_port: u16,
}

/// Where a port-forward stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardState {
    /// New connections go to this pod.
    Forwarding { pod: String },
    /// No ready pod (yet, or since the last one went away), or the cluster
    /// is not answering; connections wait.
    Reconnecting { reason: String },
    /// The target cannot be forwarded to as it stands (no such port,
    /// refused credentials, …); connections are closed. Left when the
    /// target changes for the better.
    Failed { reason: String },
}

/// A running port-forward; dropping it closes the port and every
/// connection.
pub struct PortForward {
    local: SocketAddr,
    state: watch::Receiver<ForwardState>,
    task: tokio::task::JoinHandle<()>,
}

impl PortForward {
    /// Listen on 127.0.0.1:`local_port` now (a taken port is an error
    /// naming its holder), then forward in the background.
    pub async fn start(client: Client, spec: ForwardSpec) -> Result<PortForward, ForwardError> {
        let listener = listen(spec.local_port).await?;
        let local = listener
            .local_addr()
            .map_err(|source| ForwardError::Listen {
                port: spec.local_port,
                source,
            })?;
        let (state_tx, state) = watch::channel(ForwardState::Reconnecting {
            reason: format!("waiting for a ready pod of {}", spec.target),
        });
        let task = tokio::spawn(run(client, spec, listener, state_tx));
        Ok(PortForward { local, state, task })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// A receiver of the state, to read or to wait on.
    pub fn state(&self) -> watch::Receiver<ForwardState> {
        self.state.clone()
    }

    /// Close the port and every connection (also what dropping does).
    pub fn stop(self) {}
}

impl Drop for PortForward {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn listen(port: u16) -> Result<TcpListener, ForwardError> {
    match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(ForwardError::PortInUse {
            port,
            holder: tokio::task::spawn_blocking(move || port_holder(port))
                .await
                .ok()
                .flatten(),
        }),
        Err(source) => Err(ForwardError::Listen { port, source }),
    }
}

/// The pod new connections go to, and the port on it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chosen {
    pod: String,
    port: u16,
}

async fn run(
    client: Client,
    spec: ForwardSpec,
    listener: TcpListener,
    state: watch::Sender<ForwardState>,
) {
    let api: Api<Pod> = Api::namespaced(client.clone(), &spec.namespace);
    let (chosen_tx, chosen) = watch::channel(None);
    let failed = state.subscribe();
    let resolver = resolve(client, spec, state, chosen_tx);
    tokio::pin!(resolver);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = &mut resolver => return,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    connections.spawn(connection(api.clone(), socket, chosen.clone(), failed.clone()));
                }
                Err(e) => {
                    // Out of descriptors, most likely: pause rather than spin.
                    tracing::warn!("port-forward on {:?}: accept: {e}", listener.local_addr());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

/// Carry one local connection to the chosen pod until either side closes,
/// the API server's stream fails, or the pod is no longer the chosen one.
async fn connection(
    api: Api<Pod>,
    mut socket: TcpStream,
    mut chosen: watch::Receiver<Option<Chosen>>,
    mut state: watch::Receiver<ForwardState>,
) {
    let waited = tokio::select! {
        c = tokio::time::timeout(CONNECT_WAIT, chosen.wait_for(Option::is_some)) => c,
        _ = state.wait_for(|s| matches!(s, ForwardState::Failed { .. })) => return,
    };
    let Some(Chosen { pod, port }) = waited.ok().and_then(|r| r.ok()).and_then(|c| c.clone())
    else {
        return;
    };
    let mut forwarder =
        match tokio::time::timeout(OPEN_TIMEOUT, api.portforward(&pod, &[port])).await {
            Ok(Ok(f)) => f,
            Ok(Err(e)) => {
                tracing::warn!("port-forward to pod {pod} port {port}: {e}");
                return;
            }
            Err(_) => {
                tracing::warn!(
                    "port-forward to pod {pod} port {port}: no answer within {OPEN_TIMEOUT:?}"
                );
                return;
            }
        };
    let (Some(mut upstream), Some(error)) =
        (forwarder.take_stream(port), forwarder.take_error(port))
    else {
        return;
    };
    tokio::select! {
        copied = tokio::io::copy_bidirectional(&mut socket, &mut upstream) => {
            if let Err(e) = copied {
                tracing::debug!("port-forward to pod {pod} port {port}: {e}");
            }
        }
        Some(message) = error => {
            tracing::warn!("port-forward to pod {pod} port {port}: {message}");
        }
        _ = chosen.wait_for(|c| c.as_ref().is_none_or(|c| c.pod != pod)) => {}
    }
    forwarder.abort();
}

/// Why the resolver has no pod to offer, if it has none.
#[derive(Debug, Clone)]
enum Problem {
    Waiting(String),
    Failed(String),
}

/// The resolver: follow the target's selection and its pods, publish the
/// chosen pod and the state. Runs until dropped.
async fn resolve(
    client: Client,
    spec: ForwardSpec,
    state: watch::Sender<ForwardState>,
    chosen: watch::Sender<Option<Chosen>>,
) {
    let what = spec.target.to_string();
    let api: Api<Pod> = Api::namespaced(client.clone(), &spec.namespace);
    let mut selections =
        target::selections(client, &spec.namespace, &spec.target, spec.remote_port);
    let mut pods: BoxStream<'static, Result<watcher::Event<Pod>, watcher::Error>> =
        stream::pending().boxed();
    let mut selected: Option<(Option<String>, Option<String>, RemotePort)> = None;
    let mut store: BTreeMap<String, Pod> = BTreeMap::new();
    let mut relisted: HashSet<String> = HashSet::new();
    let mut object_problem: Option<Problem> = Some(Problem::Waiting(format!("resolving {what}")));
    let mut pods_problem: Option<Problem> = None;
    let mut last: Option<String> = None;
    loop {
        tokio::select! {
            selection = selections.next() => match selection {
                None => std::future::pending::<()>().await,
                Some(Selection::Pods { labels, fields, port }) => {
                    object_problem = None;
                    let wanted = (labels, fields, port);
                    if selected.as_ref() != Some(&wanted) {
                        let mut config = watcher::Config::default().timeout(target::WATCH_TIMEOUT_SECS);
                        if let Some(l) = &wanted.0 { config = config.labels(l); }
                        if let Some(f) = &wanted.1 { config = config.fields(f); }
                        pods = watcher(api.clone(), config).default_backoff().boxed();
                        store.clear();
                        pods_problem = None;
                        selected = Some(wanted);
                    }
                }
                Some(Selection::Missing(reason)) => {
                    object_problem = Some(Problem::Waiting(reason));
                    selected = None;
                    pods = stream::pending().boxed();
                    store.clear();
                }
                Some(Selection::Unusable(reason)) => {
                    object_problem = Some(Problem::Failed(reason));
                    selected = None;
                    pods = stream::pending().boxed();
                    store.clear();
                }
                Some(Selection::Trouble(reason)) => {
                    object_problem = Some(Problem::Waiting(reason));
                }
            },
            event = pods.next() => match event {
                None => {}
                Some(Err(e)) => {
                    pods_problem = Some(match target::watch_trouble(&format!("pods of {what}"), &e) {
                        Selection::Unusable(r) => Problem::Failed(r),
                        other => Problem::Waiting(match other {
                            Selection::Trouble(r) | Selection::Missing(r) => r,
                            _ => e.to_string(),
                        }),
                    });
                }
                Some(Ok(event)) => {
                    pods_problem = None;
                    match event {
                        watcher::Event::Init => relisted.clear(),
                        watcher::Event::InitApply(p) | watcher::Event::Apply(p) => {
                            let name = p.metadata.name.clone().unwrap_or_default();
                            relisted.insert(name.clone());
                            store.insert(name, p);
                        }
                        watcher::Event::InitDone => store.retain(|n, _| relisted.contains(n)),
                        watcher::Event::Delete(p) => {
                            store.remove(p.metadata.name.as_deref().unwrap_or_default());
                        }
                    }
                }
            },
        }
        let port = selected.as_ref().map(|s| s.2.clone());
        let pick = port.and_then(|port| choose(&store, chosen.borrow().as_ref(), &port));
        let problem = object_problem.clone().or(pods_problem.clone());
        let next = match (&problem, &pick) {
            (Some(Problem::Failed(reason)), _) => ForwardState::Failed {
                reason: reason.clone(),
            },
            (Some(Problem::Waiting(reason)), _) => ForwardState::Reconnecting {
                reason: reason.clone(),
            },
            (None, Some(c)) => ForwardState::Forwarding { pod: c.pod.clone() },
            (None, None) => ForwardState::Reconnecting {
                reason: match &last {
                    Some(pod) if store.contains_key(pod) => {
                        format!("pod {pod} is not ready; waiting for a ready pod of {what}")
                    }
                    Some(pod) => format!("pod {pod} is gone; waiting for a ready pod of {what}"),
                    None => format!("waiting for a ready pod of {what}"),
                },
            },
        };
        // A watch in trouble keeps the last pod: it may still answer.
        let keep = matches!(problem, Some(Problem::Waiting(_))) && pick.is_none();
        let pick = if matches!(problem, Some(Problem::Failed(_))) {
            None
        } else if keep {
            chosen.borrow().clone().filter(|_| selected.is_some())
        } else {
            pick
        };
        if let Some(c) = &pick {
            last = Some(c.pod.clone());
        }
        chosen.send_if_modified(|c| replace(c, pick));
        state.send_if_modified(|s| replace(s, next));
    }
}

/// Set `slot` to `value`; whether it changed.
fn replace<T: PartialEq>(slot: &mut T, value: T) -> bool {
    if *slot == value {
        false
    } else {
        *slot = value;
        true
    }
}

/// Whether `pod` can take connections: running, Ready, not being deleted.
fn ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod.status.as_ref().is_some_and(|s| {
            s.phase.as_deref() == Some("Running")
                && s.conditions
                    .iter()
                    .flatten()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

/// `port` on `pod`: a number as is, a name through its containers' ports.
fn port_on(pod: &Pod, port: &RemotePort) -> Option<u16> {
    match port {
        RemotePort::Number(n) => Some(*n),
        RemotePort::Named(name) => pod
            .spec
            .as_ref()?
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| p.name.as_deref() == Some(name))
            .and_then(|p| u16::try_from(p.container_port).ok()),
    }
}

/// The pod to use: the current one while it stays ready, else the newest
/// ready one (a rollout's new pods outlive its old ones).
fn choose(
    store: &BTreeMap<String, Pod>,
    current: Option<&Chosen>,
    port: &RemotePort,
) -> Option<Chosen> {
    let usable = |pod: &Pod| ready(pod).then(|| port_on(pod, port)).flatten();
    if let Some(c) = current
        && let Some(p) = store.get(&c.pod)
        && let Some(port) = usable(p)
    {
        return Some(Chosen {
            pod: c.pod.clone(),
            port,
        });
    }
    store
        .values()
        .filter_map(|p| usable(p).map(|port| (p, port)))
        .max_by_key(|(p, _)| {
            (
                p.metadata.creation_timestamp.clone().map(|t| t.0),
                p.metadata.name.clone(),
            )
        })
        .map(|(p, port)| Chosen {
            pod: p.metadata.name.clone().unwrap_or_default(),
            port,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, created: &str, ready: bool, deleting: bool) -> Pod {
        let mut p: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "creationTimestamp": created},
            "spec": {"containers": [{"name": "web", "ports": [{"name": "http", "containerPort": 8080}]}]},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            },
        }))
        .expect("pod");
        if deleting {
            p.metadata.deletion_timestamp = p.metadata.creation_timestamp.clone();
        }
        p
    }

    fn store(pods: Vec<Pod>) -> BTreeMap<String, Pod> {
        pods.into_iter()
            .map(|p| (p.metadata.name.clone().expect("name"), p))
            .collect()
    }

    #[test]
    fn the_newest_ready_pod_is_chosen_and_kept_while_it_stays_ready() {
        let pods = store(vec![
            pod("old", "2026-01-01T00:00:00Z", true, false),
            pod("new", "2026-01-01T00:01:00Z", true, false),
            pod("newest", "2026-01-01T00:02:00Z", false, false),
            pod("leaving", "2026-01-01T00:03:00Z", true, true),
        ]);
        let port = RemotePort::Number(8080);
        let first = choose(&pods, None, &port).expect("a ready pod");
        assert_eq!(
            first,
            Chosen {
                pod: "new".into(),
                port: 8080
            }
        );
        let kept = Chosen {
            pod: "old".into(),
            port: 8080,
        };
        assert_eq!(choose(&pods, Some(&kept), &port), Some(kept.clone()));
        let gone = Chosen {
            pod: "leaving".into(),
            port: 8080,
        };
        assert_eq!(choose(&pods, Some(&gone), &port), Some(first));
    }

    #[test]
    fn a_named_port_resolves_through_the_pods_containers() {
        let pods = store(vec![pod("web", "2026-01-01T00:00:00Z", true, false)]);
        assert_eq!(
            choose(&pods, None, &RemotePort::Named("http".into())).map(|c| c.port),
            Some(8080)
        );
        assert_eq!(choose(&pods, None, &RemotePort::Named("grpc".into())), None);
    }

    #[tokio::test]
    async fn a_taken_local_port_fails_naming_the_process_that_holds_it() {
        let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = held.local_addr().expect("addr").port();
        let err = listen(port).await.expect_err("the port is taken");
        let ForwardError::PortInUse { port: p, holder } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(*p, port);
        let holder = holder.as_ref().expect("this process holds it");
        assert_eq!(holder.pid, std::process::id() as i32);
        let shown = err.to_string();
        assert!(
            shown.contains(&format!(
                "127.0.0.1:{port} is already in use by pid {}",
                holder.pid
            )),
            "{shown}"
        );
    }
}
