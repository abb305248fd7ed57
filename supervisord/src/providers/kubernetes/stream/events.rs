//! Kubernetes events (FailedScheduling, BackOff, ScalingReplicaSet, …) of
//! chosen objects and of followed pods, as [`EventMarker`]s for the log.
//!
//! One watch on the namespace's core/v1 Events, filtered here: events carry
//! no labels to select on server-side. Events that already existed when the
//! watch began are history and not repeated, unless they happened since
//! [`LogsSpec::events_since`](super::LogsSpec); an event seen again with a
//! new resource version happened again (its count went up) and is reported.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::mpsc;

use super::logs::LogRecord;

/// An object whose events are wanted, by kind (`Deployment`, `Job`, …,
/// matched without regard to case) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub kind: String,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> ObjectRef {
        ObjectRef {
            kind: kind.into(),
            name: name.into(),
        }
    }
}

/// One Kubernetes event, as a marker line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMarker {
    /// `Normal` or `Warning`.
    pub severity: String,
    pub reason: String,
    /// `kind/name` of the object the event is about, kind in lower case.
    pub object: String,
    pub message: String,
    /// How many times it happened so far.
    pub count: i32,
}

impl fmt::Display for EventMarker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}: {}",
            self.severity, self.reason, self.object, self.message
        )?;
        if self.count > 1 {
            write!(f, " (x{})", self.count)?;
        }
        Ok(())
    }
}

impl EventMarker {
    fn of(event: &Event) -> EventMarker {
        let count = event
            .series
            .as_ref()
            .and_then(|s| s.count)
            .or(event.count)
            .unwrap_or(1);
        EventMarker {
            severity: event.type_.clone().unwrap_or_else(|| "Normal".into()),
            reason: event.reason.clone().unwrap_or_default(),
            object: format!(
                "{}/{}",
                event
                    .involved_object
                    .kind
                    .as_deref()
                    .unwrap_or("object")
                    .to_lowercase(),
                event.involved_object.name.as_deref().unwrap_or("")
            ),
            message: event.message.clone().unwrap_or_default().trim().to_owned(),
            count,
        }
    }
}

/// When the event last happened, as well as the event says.
fn happened(event: &Event) -> Option<Timestamp> {
    event
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or(event.event_time.as_ref().map(|t| t.0))
        .or(event.first_timestamp.as_ref().map(|t| t.0))
        .or(event.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// Whether `event` is about one of `objects` or a followed pod.
fn wanted(event: &Event, objects: &[ObjectRef], pods: &Mutex<HashSet<String>>) -> bool {
    let (Some(kind), Some(name)) = (
        event.involved_object.kind.as_deref(),
        event.involved_object.name.as_deref(),
    ) else {
        return false;
    };
    objects
        .iter()
        .any(|o| o.kind.eq_ignore_ascii_case(kind) && o.name == name)
        || (kind == "Pod" && pods.lock().expect("pod names lock").contains(name))
}

/// Watch events until the sink closes; wanted ones go to `sink`.
pub(super) async fn forward(
    api: Api<Event>,
    objects: Vec<ObjectRef>,
    since: Option<Timestamp>,
    pods: Arc<Mutex<HashSet<String>>>,
    sink: mpsc::Sender<LogRecord>,
) {
    let mut events = watcher(
        api,
        watcher::Config::default().timeout(super::target::WATCH_TIMEOUT_SECS),
    )
    .default_backoff()
    .boxed();
    // uid → resource version last seen: a new version is a new occurrence.
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut first_listing = true;
    loop {
        let event = tokio::select! {
            _ = sink.closed() => return,
            event = events.next() => event,
        };
        let (event, listing) = match event {
            None => return,
            Some(Err(e)) => {
                let notice = format!("watching events: {e}");
                tracing::warn!("{notice}");
                if sink.send(LogRecord::Notice(notice)).await.is_err() {
                    return;
                }
                continue;
            }
            Some(Ok(watcher::Event::InitDone)) => {
                first_listing = false;
                continue;
            }
            Some(Ok(watcher::Event::Init)) => continue,
            Some(Ok(watcher::Event::Delete(e))) => {
                seen.remove(e.metadata.uid.as_deref().unwrap_or_default());
                continue;
            }
            Some(Ok(watcher::Event::InitApply(e))) => (e, true),
            Some(Ok(watcher::Event::Apply(e))) => (e, false),
        };
        let uid = event.metadata.uid.clone().unwrap_or_default();
        let version = event.metadata.resource_version.clone().unwrap_or_default();
        if seen.get(&uid) == Some(&version) {
            continue;
        }
        seen.insert(uid, version);
        // What was there before the watch began is history unless recent.
        let history = listing
            && first_listing
            && since.is_none_or(|since| happened(&event).is_none_or(|at| at < since));
        if history || !wanted(&event, &objects, &pods) {
            continue;
        }
        if sink
            .send(LogRecord::Event(EventMarker::of(&event)))
            .await
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, name: &str, reason: &str, count: i32) -> Event {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "e", "uid": "u1", "resourceVersion": "1"},
            "involvedObject": {"kind": kind, "name": name},
            "reason": reason,
            "message": "0/1 nodes are available: 1 node(s) had untolerated taint.\n",
            "type": "Warning",
            "count": count,
        }))
        .expect("event")
    }

    #[test]
    fn an_event_reads_as_a_marker_line() {
        let marker = EventMarker::of(&event("Pod", "web-1", "FailedScheduling", 3));
        assert_eq!(
            marker.to_string(),
            "Warning FailedScheduling pod/web-1: 0/1 nodes are available: 1 node(s) had untolerated taint. (x3)"
        );
        assert_eq!(
            EventMarker::of(&event("Pod", "web-1", "BackOff", 1)).to_string(),
            "Warning BackOff pod/web-1: 0/1 nodes are available: 1 node(s) had untolerated taint."
        );
    }

    #[test]
    fn only_named_objects_and_followed_pods_are_wanted() {
        let objects = [ObjectRef::new("deployment", "web")];
        let pods = Mutex::new(HashSet::from(["web-1".to_owned()]));
        assert!(wanted(
            &event("Deployment", "web", "ScalingReplicaSet", 1),
            &objects,
            &pods
        ));
        assert!(wanted(
            &event("Pod", "web-1", "BackOff", 1),
            &objects,
            &pods
        ));
        assert!(!wanted(
            &event("Pod", "db-1", "BackOff", 1),
            &objects,
            &pods
        ));
        assert!(!wanted(
            &event("Deployment", "db", "ScalingReplicaSet", 1),
            &objects,
            &pods
        ));
    }
}
