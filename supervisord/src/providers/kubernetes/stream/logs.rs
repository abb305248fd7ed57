//! [`PodLogs`]: follow every container of every pod a label selector
//! matches, including pods that appear later (a rollout, a Job's short-lived
//! pods), and the Kubernetes events of the objects named, into one sink.
//!
//! A pods watcher keeps one follower task per started container. A follower
//! asks for the log with `follow` and `timestamps`, and when the stream ends
//! while the pod still lives (the connection dropped, the container
//! restarted) it asks again from the last timestamp it delivered, skipping
//! what it already sent, so a reconnect neither loses nor repeats lines.
//! Dropping the [`PodLogs`] aborts every task.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::LogParams;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::events::{self, EventMarker, ObjectRef};

/// Ceiling for opening one log stream (the request, not the stream).
const OPEN_TIMEOUT: Duration = Duration::from_secs(15);
/// First pause before asking for a log again; doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a deleted pod's open stream may still deliver what it has.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// What to follow.
#[derive(Debug, Clone)]
pub struct LogsSpec {
    pub namespace: String,
    /// A label selector (`app=web,tier in (a,b)`): whose pods to follow.
    pub selector: String,
    /// Objects whose events become [`LogRecord::Event`]s, besides the
    /// followed pods' own.
    pub events_for: Vec<ObjectRef>,
    /// Events that happened before following began are reported only
    /// from this time on (`None`: only events newer than the start).
    pub events_since: Option<Timestamp>,
}

/// One record delivered to the sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogRecord {
    /// A line a container wrote (without its newline).
    Line {
        pod: String,
        container: String,
        text: String,
    },
    /// A Kubernetes event about a followed pod or a named object.
    Event(EventMarker),
    /// The stream itself had trouble (a watch or a log request failed);
    /// followed by a retry.
    Notice(String),
}

/// Follows pods' logs and events until dropped.
pub struct PodLogs {
    task: tokio::task::JoinHandle<()>,
}

impl PodLogs {
    /// Start following; records go to `sink` until it is closed or the
    /// [`PodLogs`] is dropped. Must be called within a tokio runtime.
    pub fn start(client: Client, spec: LogsSpec, sink: mpsc::Sender<LogRecord>) -> PodLogs {
        PodLogs {
            task: tokio::spawn(supervise(client, spec, sink)),
        }
    }

    /// Stop following (also what dropping does).
    pub fn stop(self) {}
}

impl Drop for PodLogs {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One followed pod: its latest object, shared with its followers (`None`
/// once it is deleted), and which of its containers have a follower.
struct Tracked {
    pod: watch::Sender<Option<Arc<Pod>>>,
    followed: HashSet<String>,
}

async fn supervise(client: Client, spec: LogsSpec, sink: mpsc::Sender<LogRecord>) {
    let api: Api<Pod> = Api::namespaced(client.clone(), &spec.namespace);
    // Names of every pod ever followed: their events are wanted too, even
    // ones that arrive just after the pod is gone.
    let seen_pods = Arc::new(Mutex::new(HashSet::<String>::new()));
    let mut tasks = JoinSet::new();
    tasks.spawn(events::forward(
        Api::namespaced(client, &spec.namespace),
        spec.events_for.clone(),
        spec.events_since,
        seen_pods.clone(),
        sink.clone(),
    ));

    let mut pods = watcher(
        api.clone(),
        watcher::Config::default()
            .labels(&spec.selector)
            .timeout(super::target::WATCH_TIMEOUT_SECS),
    )
    .default_backoff()
    .boxed();
    let mut tracked: HashMap<String, Tracked> = HashMap::new();
    let mut relisted: HashSet<String> = HashSet::new();
    loop {
        let event = tokio::select! {
            _ = sink.closed() => return,
            // Reap finished followers so the set does not grow.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            event = pods.next() => event,
        };
        match event {
            None => return,
            Some(Err(e)) => {
                let notice = format!("watching pods ({}): {e}", spec.selector);
                tracing::warn!("{notice}");
                if sink.send(LogRecord::Notice(notice)).await.is_err() {
                    return;
                }
            }
            Some(Ok(watcher::Event::Init)) => relisted.clear(),
            Some(Ok(watcher::Event::InitApply(pod))) => {
                relisted.insert(uid(&pod));
                update(&api, &sink, &seen_pods, &mut tracked, &mut tasks, pod);
            }
            Some(Ok(watcher::Event::InitDone)) => {
                // Pods deleted while the watch was down are absent from the relist.
                tracked.retain(|uid, _| relisted.contains(uid));
            }
            Some(Ok(watcher::Event::Apply(pod))) => {
                update(&api, &sink, &seen_pods, &mut tracked, &mut tasks, pod);
            }
            Some(Ok(watcher::Event::Delete(pod))) => {
                tracked.remove(&uid(&pod));
            }
        }
    }
}

fn uid(pod: &Pod) -> String {
    pod.metadata.uid.clone().unwrap_or_default()
}

/// Record `pod`'s new state and start a follower for each container that
/// has started (a waiting container has no log to serve yet).
fn update(
    api: &Api<Pod>,
    sink: &mpsc::Sender<LogRecord>,
    seen_pods: &Mutex<HashSet<String>>,
    tracked: &mut HashMap<String, Tracked>,
    tasks: &mut JoinSet<()>,
    pod: Pod,
) {
    let name = pod.metadata.name.clone().unwrap_or_default();
    seen_pods
        .lock()
        .expect("pod names lock")
        .insert(name.clone());
    let started = started_containers(&pod);
    let entry = tracked.entry(uid(&pod)).or_insert_with(|| Tracked {
        pod: watch::Sender::new(None),
        followed: HashSet::new(),
    });
    entry.pod.send_replace(Some(Arc::new(pod)));
    for container in started {
        if entry.followed.insert(container.clone()) {
            tasks.spawn(follow(
                api.clone(),
                name.clone(),
                container,
                entry.pod.subscribe(),
                sink.clone(),
            ));
        }
    }
}

/// Containers (init containers first) whose status says running or
/// terminated: those the kubelet can serve a log for.
fn started_containers(pod: &Pod) -> Vec<String> {
    let Some(status) = &pod.status else {
        return Vec::new();
    };
    let init = status.init_container_statuses.iter().flatten();
    let main = status.container_statuses.iter().flatten();
    init.chain(main)
        .filter(|s| {
            s.state
                .as_ref()
                .is_some_and(|st| st.running.is_some() || st.terminated.is_some())
        })
        .map(|s| s.name.clone())
        .collect()
}

/// Whether `container` of `pod` has finished for good: terminated in a pod
/// that is done (Succeeded/Failed), or under `restartPolicy: Never`.
fn finished(pod: &Pod, container: &str) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    let terminated = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .find(|s| s.name == container)
        .and_then(|s| s.state.as_ref())
        .is_some_and(|st| st.terminated.is_some());
    let pod_done = matches!(status.phase.as_deref(), Some("Succeeded" | "Failed"));
    let never = pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()) == Some("Never");
    terminated && (pod_done || never)
}

/// Where a follower resumes: the last delivered timestamp and how many
/// lines carried exactly that timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Resume {
    at: Timestamp,
    lines_at: usize,
}

impl Resume {
    /// Whether a line stamped `ts` was already delivered; records it if not.
    /// `skip` counts down the lines at `at` the reopened stream repeats.
    fn admit(this: &mut Option<Resume>, skip: &mut usize, ts: Timestamp) -> bool {
        match this {
            Some(r) if ts < r.at => false,
            Some(r) if ts == r.at && *skip > 0 => {
                *skip -= 1;
                false
            }
            Some(r) if ts == r.at => {
                r.lines_at += 1;
                true
            }
            _ => {
                *this = Some(Resume {
                    at: ts,
                    lines_at: 1,
                });
                true
            }
        }
    }
}

/// Split a `timestamps=true` log line into its timestamp and text.
fn split_stamp(line: &str) -> Option<(Timestamp, &str)> {
    let (stamp, text) = line.split_once(' ').unwrap_or((line, ""));
    stamp.parse().ok().map(|ts| (ts, text))
}

/// Follow one container of one pod until the pod is gone, the container
/// finished for good, or the sink closes.
async fn follow(
    api: Api<Pod>,
    pod: String,
    container: String,
    mut state: watch::Receiver<Option<Arc<Pod>>>,
    sink: mpsc::Sender<LogRecord>,
) {
    let mut resume: Option<Resume> = None;
    let mut backoff = FIRST_BACKOFF;
    let mut complained = false;
    loop {
        // Whole seconds: the API rounds `sinceTime` to them, and rounding
        // up would lose the lines of the last half second.
        let since = resume.map(|r| Timestamp::from_second(r.at.as_second()).unwrap_or(r.at));
        let params = LogParams {
            container: Some(container.clone()),
            follow: true,
            timestamps: true,
            since_time: since,
            ..LogParams::default()
        };
        let opened = tokio::time::timeout(OPEN_TIMEOUT, api.log_stream(&pod, &params)).await;
        let problem = match opened {
            Ok(Ok(reader)) => {
                let mut skip = resume.map_or(0, |r| r.lines_at);
                match read(
                    reader,
                    &pod,
                    &container,
                    &mut state,
                    &sink,
                    &mut resume,
                    &mut skip,
                )
                .await
                {
                    Ended::SinkClosed | Ended::PodGone => return,
                    Ended::Stream(problem) => {
                        if problem.is_none() {
                            backoff = FIRST_BACKOFF;
                            complained = false;
                        }
                        problem
                    }
                }
            }
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!("no answer within {OPEN_TIMEOUT:?}")),
        };
        let current = state.borrow().clone();
        match current {
            None => return,
            Some(p) if finished(&p, &container) && problem.is_none() => return,
            Some(_) => {}
        }
        if let Some(problem) = problem
            && !complained
        {
            complained = true;
            let notice = format!("log of pod {pod} container {container}: {problem}; retrying");
            tracing::warn!("{notice}");
            if sink.send(LogRecord::Notice(notice)).await.is_err() {
                return;
            }
        }
        // Wait out the backoff, or less if the pod changes (a restarted
        // container has a new log to read at once).
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            changed = state.changed() => if changed.is_err() { return },
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

enum Ended {
    SinkClosed,
    PodGone,
    /// The stream ended, cleanly (`None`) or with a read error.
    Stream(Option<String>),
}

/// Deliver lines from one open log stream until it ends. Once the pod is
/// deleted, the stream gets [`DRAIN_GRACE`] to deliver what it still has.
async fn read(
    reader: impl futures_util::AsyncBufRead + Unpin,
    pod: &str,
    container: &str,
    state: &mut watch::Receiver<Option<Arc<Pod>>>,
    sink: &mpsc::Sender<LogRecord>,
    resume: &mut Option<Resume>,
    skip: &mut usize,
) -> Ended {
    let mut reader = reader;
    let mut buf = Vec::new();
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        // `buf` keeps a partial line across a wake-up by `state`: only a
        // whole line is taken out of it.
        let next = async {
            match deadline {
                Some(at) => tokio::time::timeout_at(at, reader.read_until(b'\n', &mut buf))
                    .await
                    .ok(),
                None => Some(reader.read_until(b'\n', &mut buf).await),
            }
        };
        let got = tokio::select! {
            got = next => got,
            changed = state.changed(), if deadline.is_none() => {
                let gone = changed.is_err() || state.borrow().is_none();
                if gone {
                    deadline = Some(tokio::time::Instant::now() + DRAIN_GRACE);
                }
                continue;
            }
        };
        let n = match got {
            None => return Ended::PodGone,
            Some(Ok(n)) => n,
            Some(Err(e)) => return Ended::Stream(Some(e.to_string())),
        };
        if n == 0 {
            return if deadline.is_some() {
                Ended::PodGone
            } else {
                Ended::Stream(None)
            };
        }
        let whole = String::from_utf8_lossy(&buf).into_owned();
        buf.clear();
        let line = whole.strip_suffix('\n').unwrap_or(&whole);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let text = match split_stamp(line) {
            Some((ts, text)) => {
                if !Resume::admit(resume, skip, ts) {
                    continue;
                }
                text
            }
            None => line,
        };
        let record = LogRecord::Line {
            pod: pod.to_owned(),
            container: container.to_owned(),
            text: text.to_owned(),
        };
        if sink.send(record).await.is_err() {
            return Ended::SinkClosed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn a_stamped_line_splits_into_its_time_and_text() {
        let (at, text) = split_stamp("2026-01-01T00:00:00.5Z hello world").expect("stamped");
        assert_eq!(at, ts("2026-01-01T00:00:00.5Z"));
        assert_eq!(text, "hello world");
        assert_eq!(
            split_stamp("2026-01-01T00:00:01Z").map(|(_, t)| t),
            Some("")
        );
        assert!(split_stamp("no stamp here").is_none());
    }

    #[test]
    fn a_reopened_stream_repeats_nothing_already_delivered() {
        let (a, b, c) = (
            ts("2026-01-01T00:00:00.1Z"),
            ts("2026-01-01T00:00:00.2Z"),
            ts("2026-01-01T00:00:00.3Z"),
        );
        let mut resume = None;
        let mut skip = 0;
        // First stream: a, b, b delivered.
        for t in [a, b, b] {
            assert!(Resume::admit(&mut resume, &mut skip, t));
        }
        assert_eq!(resume, Some(Resume { at: b, lines_at: 2 }));
        // Reopened from the whole second: a, b, b again, then a new b and c.
        let mut skip = resume.map_or(0, |r| r.lines_at);
        let admitted: Vec<bool> = [a, b, b, b, c]
            .into_iter()
            .map(|t| Resume::admit(&mut resume, &mut skip, t))
            .collect();
        assert_eq!(admitted, [false, false, false, true, true]);
        assert_eq!(resume, Some(Resume { at: c, lines_at: 1 }));
    }
}
