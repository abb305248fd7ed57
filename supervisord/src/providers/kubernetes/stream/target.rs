//! What a port-forward points at (`pod/NAME`, `deployment/NAME`,
//! `service/NAME`) and how it becomes a set of candidate pods: a watch on
//! the named object yields, whenever it changes, the selector of its pods
//! and the port on them (a Service's port maps to its target port).

use std::fmt;
use std::str::FromStr;

use futures_util::stream::{self, BoxStream};
use futures_util::{StreamExt, future};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;

use super::forward::ForwardError;

/// Server-side lifetime of one watch request. The watcher renews it, and
/// treats a watch silent for longer (plus a margin) as a dead connection:
/// a cluster that stops answering is noticed within about a minute.
pub(super) const WATCH_TIMEOUT_SECS: u32 = 60;

/// The resource a port-forward resolves to a ready pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Pod(String),
    Deployment(String),
    Service(String),
}

impl FromStr for Target {
    type Err = ForwardError;

    fn from_str(given: &str) -> Result<Target, ForwardError> {
        let bad = || ForwardError::BadTarget {
            given: given.to_owned(),
        };
        let (kind, name) = given.split_once('/').ok_or_else(bad)?;
        let name_ok = !name.is_empty()
            && name.len() <= 253
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !name_ok {
            return Err(bad());
        }
        let name = name.to_owned();
        match kind.to_ascii_lowercase().as_str() {
            "pod" | "pods" | "po" => Ok(Target::Pod(name)),
            "deployment" | "deployments" | "deploy" => Ok(Target::Deployment(name)),
            "service" | "services" | "svc" => Ok(Target::Service(name)),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Pod(n) => write!(f, "pod/{n}"),
            Target::Deployment(n) => write!(f, "deployment/{n}"),
            Target::Service(n) => write!(f, "service/{n}"),
        }
    }
}

/// The port on a pod: a number, or a container port's name (a Service's
/// named `targetPort`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RemotePort {
    Number(u16),
    Named(String),
}

/// What the watch on the target says, each time it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Selection {
    /// Choose among the pods these selectors match, on this port.
    Pods {
        labels: Option<String>,
        fields: Option<String>,
        port: RemotePort,
    },
    /// The object does not exist (yet, or any more).
    Missing(String),
    /// The object exists but cannot be forwarded to as it stands.
    Unusable(String),
    /// The watch failed and is retried; the reason.
    Trouble(String),
}

/// The selections of `target` in `namespace`, forever (a pod's is fixed;
/// a Deployment's or Service's follows the object).
pub(super) fn selections(
    client: Client,
    namespace: &str,
    target: &Target,
    remote: u16,
) -> BoxStream<'static, Selection> {
    match target {
        Target::Pod(name) => stream::once(future::ready(Selection::Pods {
            labels: None,
            fields: Some(format!("metadata.name={name}")),
            port: RemotePort::Number(remote),
        }))
        .chain(stream::pending())
        .boxed(),
        Target::Deployment(name) => watch_object(
            Api::<Deployment>::namespaced(client, namespace),
            target.to_string(),
            name,
            move |d: &Deployment| deployment_selection(d, remote),
        ),
        Target::Service(name) => watch_object(
            Api::<Service>::namespaced(client, namespace),
            target.to_string(),
            name,
            move |s: &Service| service_selection(s, remote),
        ),
    }
}

/// Watch the one object `name` and turn each state of it into a selection.
fn watch_object<K>(
    api: Api<K>,
    what: String,
    name: &str,
    select: impl Fn(&K) -> Selection + Send + 'static,
) -> BoxStream<'static, Selection>
where
    K: Resource + Clone + DeserializeOwned + fmt::Debug + Send + 'static,
{
    let config = watcher::Config::default()
        .fields(&format!("metadata.name={name}"))
        .timeout(WATCH_TIMEOUT_SECS);
    let mut found = false;
    watcher(api, config)
        .default_backoff()
        .filter_map(move |event| {
            let out = match event {
                Ok(watcher::Event::Init) => {
                    found = false;
                    None
                }
                Ok(watcher::Event::InitApply(o) | watcher::Event::Apply(o)) => {
                    found = true;
                    Some(select(&o))
                }
                Ok(watcher::Event::InitDone) => {
                    (!found).then(|| Selection::Missing(format!("{what} does not exist")))
                }
                Ok(watcher::Event::Delete(_)) => {
                    found = false;
                    Some(Selection::Missing(format!("{what} was deleted")))
                }
                Err(e) => Some(watch_trouble(&what, &e)),
            };
            future::ready(out)
        })
        .boxed()
}

/// A watch error as a selection: refused credentials or permissions make
/// the target unusable until they change; anything else is retried.
pub(super) fn watch_trouble(what: &str, e: &watcher::Error) -> Selection {
    let status = match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s))
        | watcher::Error::WatchError(s) => Some(s.code),
        _ => None,
    };
    match status {
        Some(401 | 403) => Selection::Unusable(format!("watching {what}: {e}")),
        _ => Selection::Trouble(format!("watching {what}: {e}")),
    }
}

fn deployment_selection(d: &Deployment, remote: u16) -> Selection {
    let name = d.metadata.name.as_deref().unwrap_or_default();
    match d.spec.as_ref().map(|s| label_selector(&s.selector)) {
        Some(labels) if !labels.is_empty() => Selection::Pods {
            labels: Some(labels),
            fields: None,
            port: RemotePort::Number(remote),
        },
        _ => Selection::Unusable(format!("deployment/{name} has no pod selector")),
    }
}

fn service_selection(s: &Service, remote: u16) -> Selection {
    let name = s.metadata.name.as_deref().unwrap_or_default();
    let Some(spec) = &s.spec else {
        return Selection::Unusable(format!("service/{name} has no spec"));
    };
    let labels: Vec<String> = spec
        .selector
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if labels.is_empty() {
        return Selection::Unusable(format!(
            "service/{name} has no selector, so no pods to forward to"
        ));
    }
    let Some(port) = spec
        .ports
        .iter()
        .flatten()
        .find(|p| p.port == i32::from(remote))
    else {
        return Selection::Unusable(format!("service/{name} has no port {remote}"));
    };
    let port = match &port.target_port {
        Some(IntOrString::Int(n)) => match u16::try_from(*n) {
            Ok(n) => RemotePort::Number(n),
            Err(_) => return Selection::Unusable(format!("service/{name}: bad targetPort {n}")),
        },
        Some(IntOrString::String(named)) => RemotePort::Named(named.clone()),
        None => RemotePort::Number(remote),
    };
    Selection::Pods {
        labels: Some(labels.join(",")),
        fields: None,
        port,
    }
}

/// A `LabelSelector` in the API's query syntax.
pub(super) fn label_selector(s: &LabelSelector) -> String {
    let mut parts: Vec<String> = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in s.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            _ => format!("!{}", e.key),
        });
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_by_kind_and_name() {
        assert_eq!(
            "pod/web-0".parse::<Target>().ok(),
            Some(Target::Pod("web-0".into()))
        );
        assert_eq!(
            "deploy/web".parse::<Target>().ok(),
            Some(Target::Deployment("web".into()))
        );
        assert_eq!(
            "svc/web".parse::<Target>().ok(),
            Some(Target::Service("web".into()))
        );
        assert_eq!(
            Target::Deployment("web".into()).to_string(),
            "deployment/web"
        );
    }

    #[test]
    fn a_target_without_a_known_kind_or_a_name_is_refused_with_help() {
        for given in ["web", "job/web", "pod/", "pod/Web", "deployment/a/b"] {
            let err = given.parse::<Target>().expect_err(given);
            assert!(
                matches!(&err, ForwardError::BadTarget { given: g } if g == given),
                "{err:?}"
            );
            let help = miette::Diagnostic::help(&err).map(|h| h.to_string());
            assert!(
                help.is_some_and(|h| h.contains("deployment/NAME")),
                "{given}"
            );
        }
    }

    #[test]
    fn a_label_selector_renders_in_query_syntax() {
        let s: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "canary", "operator": "DoesNotExist"},
            ],
        }))
        .expect("selector");
        assert_eq!(label_selector(&s), "app=web,tier in (a,b),!canary");
    }

    #[test]
    fn a_service_port_maps_to_its_target_port() {
        let svc: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"app": "web"},
                "ports": [
                    {"port": 80, "targetPort": 8080},
                    {"port": 81, "targetPort": "http"},
                    {"port": 82},
                ],
            },
        }))
        .expect("service");
        let pods = |port| Selection::Pods {
            labels: Some("app=web".into()),
            fields: None,
            port,
        };
        assert_eq!(service_selection(&svc, 80), pods(RemotePort::Number(8080)));
        assert_eq!(
            service_selection(&svc, 81),
            pods(RemotePort::Named("http".into()))
        );
        assert_eq!(service_selection(&svc, 82), pods(RemotePort::Number(82)));
        assert_eq!(
            service_selection(&svc, 9999),
            Selection::Unusable("service/web has no port 9999".into())
        );
        let headless: Service =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "ext"}, "spec": {}}))
                .expect("service");
        assert!(matches!(
            service_selection(&headless, 80),
            Selection::Unusable(r) if r.contains("no selector")
        ));
    }
}
