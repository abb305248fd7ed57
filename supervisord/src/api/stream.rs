//! NDJSON streams (`/v1/events`, `/v1/logs`): one JSON value per line,
//! pulled lazily — a line is produced only when hyper has room to write it,
//! so a client that stops reading costs nothing beyond the socket buffer and
//! is then dropped by the write-stall guard. An events subscriber that
//! falls behind the broadcast ring gets a final error line and the stream
//! ends; a log follower is caught up from the log files by the core, and
//! what cannot be read back is a `missed` notice line, the stream going on.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use devctl_units::api::runs::LogNoticeLine;
use devctl_units::api::{ErrorKind, Event, LogRecord};
use devctl_units::name::{ProjectName, UnitName};
use futures_util::{Stream, StreamExt, stream};
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use super::error::api_error;
use crate::core::handle::{LogFeed, LogItem};

/// Which events a subscriber wants.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub project: Option<ProjectName>,
    pub unit: Option<UnitName>,
}

impl EventFilter {
    /// Whether `e` passes. Daemon-wide events (no project) always pass.
    pub fn matches(&self, e: &Event) -> bool {
        let project_ok = match (&self.project, &e.project) {
            (Some(want), Some(got)) => want == got,
            _ => true,
        };
        let unit_ok = match (&self.unit, &e.unit) {
            (Some(want), Some(got)) => want == got,
            (Some(_), None) => {
                e.project.is_none()
                    || matches!(e.kind, devctl_units::api::EventKind::ProjectForgotten)
            }
            _ => true,
        };
        project_ok && unit_ok
    }
}

/// One NDJSON line.
pub fn line<T: Serialize>(value: &T) -> Bytes {
    let mut v = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    v.push(b'\n');
    Bytes::from(v)
}

/// The last line of a stream whose reader fell behind: an [`ErrorBody`]
/// plus the count as a number, so a reader need not parse the message.
#[derive(Serialize)]
struct Lagged {
    error: devctl_units::api::ApiError,
    missed: u64,
}

fn lagged_line(what: &str, n: u64) -> Bytes {
    line(&Lagged {
        error: api_error(
            ErrorKind::Failed,
            format!("this {what} stream fell {n} entries behind and was closed"),
            Some("read the stream faster, or reconnect and re-read the state"),
        ),
        missed: n,
    })
}

/// Wait for the server to start shutting down.
async fn stopped(mut shutdown: watch::Receiver<bool>) {
    // An error means the sender is gone: the server is gone too.
    let _ = shutdown.wait_for(|s| *s).await;
}

/// The `/v1/events` stream.
pub fn events(
    rx: broadcast::Receiver<Event>,
    filter: EventFilter,
    shutdown: watch::Receiver<bool>,
) -> impl Stream<Item = Bytes> {
    stream::unfold(Some((rx, filter, shutdown)), |state| async move {
        let (mut rx, filter, shutdown) = state?;
        loop {
            let next = tokio::select! {
                biased;
                () = stopped(shutdown.clone()) => return None,
                r = rx.recv() => r,
            };
            match next {
                Ok(e) if filter.matches(&e) => {
                    return Some((line(&e), Some((rx, filter, shutdown))));
                }
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    return Some((lagged_line("event", n), None));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

/// The `/v1/logs` stream: a notice if there is one, history, then live
/// lines and notices when following.
pub fn logs(feed: LogFeed, shutdown: watch::Receiver<bool>) -> impl Stream<Item = Bytes> {
    let notice = feed.notice.map(|notice| line(&LogNoticeLine { notice }));
    let history =
        stream::iter(notice).chain(stream::iter(feed.history).map(|r: LogRecord| line(&r)));
    let live = match feed.live {
        None => stream::empty().boxed(),
        Some(live) => stream::unfold(Some((live, shutdown)), |state| async move {
            let (mut live, shutdown) = state?;
            let next = tokio::select! {
                biased;
                () = stopped(shutdown.clone()) => return None,
                r = live.next() => r,
            };
            match next? {
                LogItem::Line(r) => Some((line(&r), Some((live, shutdown)))),
                LogItem::Notice(notice) => {
                    Some((line(&LogNoticeLine { notice }), Some((live, shutdown))))
                }
            }
        })
        .boxed(),
    };
    history.chain(live)
}

/// An NDJSON response around a stream of lines.
pub fn ndjson(lines: impl Stream<Item = Bytes> + Send + 'static) -> Response {
    let body = Body::from_stream(lines.map(Ok::<_, Infallible>));
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::api::{ErrorBody, EventKind, LogStream};

    fn ev(seq: u64, project: Option<&str>, unit: Option<&str>) -> Event {
        Event {
            seq,
            time_ms: 0,
            project: project.map(|p| ProjectName::new(p).unwrap()),
            unit: unit.map(|u| UnitName::new(u).unwrap()),
            run: None,
            kind: EventKind::Spawned { pid: 1 },
        }
    }

    #[test]
    fn filter() {
        let f = EventFilter {
            project: Some(ProjectName::new("p").unwrap()),
            unit: Some(UnitName::new("a").unwrap()),
        };
        assert!(f.matches(&ev(1, Some("p"), Some("a"))));
        assert!(!f.matches(&ev(1, Some("p"), Some("b"))));
        assert!(!f.matches(&ev(1, Some("q"), Some("a"))));
        assert!(
            f.matches(&ev(1, None, None)),
            "daemon-wide events reach everyone"
        );
        assert!(
            !f.matches(&ev(1, Some("p"), None)),
            "project-level events are not unit events"
        );
        assert!(EventFilter::default().matches(&ev(1, Some("q"), Some("z"))));
    }

    #[tokio::test]
    async fn events_filtered_then_closed() {
        let (tx, rx) = broadcast::channel(8);
        let (_stop_tx, stop_rx) = watch::channel(false);
        let f = EventFilter {
            project: Some(ProjectName::new("p").unwrap()),
            unit: None,
        };
        tx.send(ev(1, Some("q"), None)).unwrap();
        tx.send(ev(2, Some("p"), Some("a"))).unwrap();
        drop(tx);
        let lines: Vec<Bytes> = events(rx, f, stop_rx).collect().await;
        assert_eq!(lines.len(), 1);
        let e: Event = serde_json::from_slice(&lines[0]).unwrap();
        assert_eq!(e.seq, 2);
        assert!(lines[0].ends_with(b"\n"));
    }

    #[tokio::test]
    async fn lagging_subscriber_gets_an_error_line_and_the_end() {
        let (tx, rx) = broadcast::channel(2);
        let (_stop_tx, stop_rx) = watch::channel(false);
        for i in 0..10 {
            tx.send(ev(i, None, None)).unwrap();
        }
        let lines: Vec<Bytes> = events(rx, EventFilter::default(), stop_rx).collect().await;
        assert_eq!(
            lines.len(),
            1,
            "the stream ends after the lag report even though the sender lives"
        );
        let err: ErrorBody = serde_json::from_slice(&lines[0]).unwrap();
        assert_eq!(err.error.kind, ErrorKind::Failed);
        drop(tx);
    }

    #[tokio::test]
    async fn shutdown_ends_streams() {
        let (_tx, rx) = broadcast::channel::<Event>(2);
        let (stop_tx, stop_rx) = watch::channel(false);
        let (_ltx, lrx) = tokio::sync::mpsc::channel::<LogItem>(1);
        let live = stream::unfold(
            lrx,
            |mut rx| async move { rx.recv().await.map(|x| (x, rx)) },
        )
        .boxed();
        let feed = LogFeed {
            notice: None,
            history: vec![],
            live: Some(live),
        };
        let ev_task =
            tokio::spawn(events(rx, EventFilter::default(), stop_rx.clone()).collect::<Vec<_>>());
        let log_task = tokio::spawn(logs(feed, stop_rx).collect::<Vec<_>>());
        stop_tx.send(true).unwrap();
        assert!(ev_task.await.unwrap().is_empty());
        assert!(log_task.await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn logs_history_then_live_then_a_missed_notice_and_more() {
        let rec = |t: &str| LogRecord {
            time_us: 1,
            project: ProjectName::new("p").unwrap(),
            unit: UnitName::new("a").unwrap(),
            stream: LogStream::Stdout,
            text: t.into(),
        };
        let missed = devctl_units::api::runs::LogNotice::Missed {
            unit: UnitName::new("a").unwrap(),
            lines: 3,
            message: "3 lines of a missing here".into(),
        };
        let live = stream::iter(vec![
            LogItem::Line(rec("live")),
            LogItem::Notice(missed.clone()),
            LogItem::Line(rec("after")),
        ])
        .boxed();
        let (_stop_tx, stop_rx) = watch::channel(false);
        let notice = devctl_units::api::runs::LogNotice::RotatedAway {
            run: devctl_units::api::runs::RunId::from_bits(7),
            unit: UnitName::new("a").unwrap(),
            through_us: 5,
            retention: devctl_units::api::runs::LogRetentionInfo {
                max_file_bytes: 4096,
                files: 2,
                max_age_ms: None,
            },
            message: "gone".into(),
        };
        let lines: Vec<Bytes> = logs(
            LogFeed {
                notice: Some(notice.clone()),
                history: vec![rec("old")],
                live: Some(live),
            },
            stop_rx,
        )
        .collect()
        .await;
        assert_eq!(lines.len(), 5);
        let first: serde_json::Value = serde_json::from_slice(&lines[0]).unwrap();
        assert_eq!(first["notice"]["type"], "rotated-away", "{first}");
        assert_eq!(
            serde_json::from_slice::<LogNoticeLine>(&lines[0])
                .unwrap()
                .notice,
            notice
        );
        assert_eq!(
            serde_json::from_slice::<LogRecord>(&lines[1]).unwrap().text,
            "old"
        );
        assert_eq!(
            serde_json::from_slice::<LogRecord>(&lines[2]).unwrap().text,
            "live"
        );
        let v: serde_json::Value = serde_json::from_slice(&lines[3]).unwrap();
        assert_eq!(v["notice"]["type"], "missed", "{v}");
        assert_eq!(v["notice"]["lines"], 3, "the count is a number too");
        assert_eq!(
            serde_json::from_slice::<LogNoticeLine>(&lines[3])
                .unwrap()
                .notice,
            missed
        );
        assert_eq!(
            serde_json::from_slice::<LogRecord>(&lines[4]).unwrap().text,
            "after",
            "the stream goes on after the notice"
        );
    }
}
