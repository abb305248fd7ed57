//! The UI's edge to devctld, over the same API and client as every other
//! verb: the event stream (`/v1/events`), unit lists, a unit's detail,
//! followed logs (`/v1/logs?follow=true`), and the actions (jobs and
//! enablement). Each runs as a task that reports a [`Msg`] to the loop;
//! nothing here polls: lists are fetched when an event says they changed.

use devctl_units::api::runs::{LogNotice, LogNoticeLine};
use devctl_units::api::{
    EnableRequest, EnableResponse, ErrorBody, Event, JobRequest, JobResponse, JobVerb, LogRecord,
    UnitStatus,
};
use devctl_units::{ProjectName, UnitName};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::model::{Notice, UnitKey, error_notice, job_notice};
use super::view::Tone;
use crate::client::{Client, LineStream};
use crate::error::CtlError;

/// Lines of history loaded when the followed units change.
pub const HISTORY_LINES: u64 = 500;

/// What a task reports.
#[derive(Debug)]
pub enum Msg {
    /// The event stream is open (a full refresh is due).
    EventsUp,
    Event(Box<Event>),
    /// The event stream ended, with why.
    EventsDown(String),
    /// A unit list: of one project, or of every project (`None`).
    Units {
        project: Option<ProjectName>,
        answer: Result<Vec<UnitStatus>, CtlError>,
    },
    /// A followed log line of stream generation `generation`.
    Log {
        generation: u64,
        record: Box<LogRecord>,
    },
    /// A followed log stream ended early (daemon gone).
    LogDown {
        generation: u64,
        why: String,
    },
    /// A followed log stream says something about its lines (some could
    /// not be sent); it goes on.
    LogNotice {
        generation: u64,
        message: String,
    },
    Detail {
        unit: UnitKey,
        answer: Box<Result<UnitStatus, CtlError>>,
    },
    /// Action `id` finished.
    Done {
        id: u64,
        notice: Notice,
    },
}

type Tx = UnboundedSender<Msg>;

/// An error line in a stream (`{"error": …}`), as a message.
fn stream_error(line: &[u8]) -> Option<String> {
    serde_json::from_slice::<ErrorBody>(line)
        .ok()
        .map(|b| b.error.message)
}

async fn next(stream: &mut LineStream) -> Result<Option<Vec<u8>>, String> {
    stream.next_line().await.map_err(|e| e.to_string())
}

/// Follow the daemon's events (of `project`, or all).
pub fn events(client: Client, project: Option<ProjectName>, tx: Tx) -> JoinHandle<()> {
    tokio::spawn(async move {
        let path = match &project {
            Some(p) => format!("/v1/events?project={p}"),
            None => "/v1/events".to_string(),
        };
        let mut stream = match client.stream(&path).await {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(Msg::EventsDown(e.to_string()));
                return;
            }
        };
        if tx.send(Msg::EventsUp).is_err() {
            return;
        }
        let why = loop {
            match next(&mut stream).await {
                Ok(Some(line)) => match serde_json::from_slice::<Event>(&line) {
                    Ok(e) => {
                        if tx.send(Msg::Event(Box::new(e))).is_err() {
                            return;
                        }
                    }
                    Err(_) => {
                        if let Some(m) = stream_error(&line) {
                            break m;
                        }
                    }
                },
                Ok(None) => break "devctld closed the event stream".to_string(),
                Err(e) => break e,
            }
        };
        let _ = tx.send(Msg::EventsDown(why));
    })
}

/// Fetch the unit list of `project` (every project when `None`).
pub fn units(client: Client, project: Option<ProjectName>, tx: Tx) {
    tokio::spawn(async move {
        let path = match &project {
            Some(p) => format!("/v1/units?project={p}"),
            None => "/v1/units".to_string(),
        };
        let answer = client.get(&path).await;
        let _ = tx.send(Msg::Units { project, answer });
    });
}

/// Fetch one unit's detail (`status UNIT`).
pub fn detail(client: Client, unit: UnitKey, tx: Tx) {
    tokio::spawn(async move {
        let answer = client
            .get(&format!("/v1/projects/{}/units/{}", unit.0, unit.1))
            .await;
        let _ = tx.send(Msg::Detail {
            unit,
            answer: Box::new(answer),
        });
    });
}

/// Follow the logs of `units` (one stream per project; the pane merges
/// them by time). Abort the handles to stop following.
pub fn follow(client: &Client, generation: u64, units: &[UnitKey], tx: &Tx) -> Vec<JoinHandle<()>> {
    let mut by_project: Vec<(ProjectName, Vec<String>)> = Vec::new();
    for (p, u) in units {
        match by_project.iter_mut().find(|(q, _)| q == p) {
            Some((_, v)) => v.push(u.to_string()),
            None => by_project.push((p.clone(), vec![u.to_string()])),
        }
    }
    by_project
        .into_iter()
        .map(|(project, names)| {
            let client = client.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let path = crate::stream::logs_path(
                    project.as_str(),
                    &names,
                    Some(HISTORY_LINES),
                    None,
                    true,
                );
                let mut stream = match client.stream(&path).await {
                    Ok(s) => s,
                    Err(e) => {
                        let why = e.to_string();
                        let _ = tx.send(Msg::LogDown { generation, why });
                        return;
                    }
                };
                let why = loop {
                    match next(&mut stream).await {
                        Ok(Some(line)) => match serde_json::from_slice::<LogRecord>(&line) {
                            Ok(r) => {
                                let msg = Msg::Log {
                                    generation,
                                    record: Box::new(r),
                                };
                                if tx.send(msg).is_err() {
                                    return;
                                }
                            }
                            Err(_) => {
                                if let Some(m) = stream_error(&line) {
                                    break m;
                                }
                                if let Ok(n) = serde_json::from_slice::<LogNoticeLine>(&line) {
                                    let (LogNotice::RotatedAway { message, .. }
                                    | LogNotice::Missed { message, .. }) = n.notice;
                                    let _ = tx.send(Msg::LogNotice {
                                        generation,
                                        message,
                                    });
                                }
                            }
                        },
                        Ok(None) => return,
                        Err(e) => break e,
                    }
                };
                let _ = tx.send(Msg::LogDown { generation, why });
            })
        })
        .collect()
}

fn group(units: &[UnitKey]) -> Vec<(ProjectName, Vec<UnitName>)> {
    let mut out: Vec<(ProjectName, Vec<UnitName>)> = Vec::new();
    for (p, u) in units {
        match out.iter_mut().find(|(q, _)| q == p) {
            Some((_, v)) => v.push(u.clone()),
            None => out.push((p.clone(), vec![u.clone()])),
        }
    }
    out
}

fn join(notices: Vec<Notice>) -> Notice {
    let tone = if notices.iter().any(|n| n.tone == Tone::Bad) {
        Tone::Bad
    } else {
        Tone::Good
    };
    Notice {
        text: notices
            .into_iter()
            .map(|n| n.text)
            .collect::<Vec<_>>()
            .join("; "),
        tone,
    }
}

/// start / stop / restart / trigger, blocking like the CLI, then report
/// action `id` done.
pub fn job(
    client: Client,
    id: u64,
    verb: JobVerb,
    units: Vec<UnitKey>,
    timeout_ms: Option<u64>,
    tx: Tx,
) {
    tokio::spawn(async move {
        let mut notices = Vec::new();
        for (project, names) in group(&units) {
            let req = JobRequest {
                verb,
                units: names.iter().map(|n| n.to_string()).collect(),
                block: true,
                timeout_ms,
                failed_only: false,
                force: false,
                source: Some(devctl_units::api::runs::VerbSource::Cli),
            };
            let answer: Result<JobResponse, CtlError> = client
                .post(&format!("/v1/projects/{project}/jobs"), &req)
                .await;
            notices.push(match answer {
                Ok(r) => job_notice(verb, &project, &r),
                Err(e) => error_notice(&e),
            });
        }
        let _ = tx.send(Msg::Done {
            id,
            notice: join(notices),
        });
    });
}

/// enable / disable (persistently, not now), reported as `enable` prints it:
/// `pz/web: disabled`.
pub fn enablement(client: Client, id: u64, units: Vec<UnitKey>, enable: bool, tx: Tx) {
    tokio::spawn(async move {
        let mut notices = Vec::new();
        for (project, names) in group(&units) {
            let req = EnableRequest {
                units: names.iter().map(|n| n.to_string()).collect(),
                enable,
                now: false,
                boot: false,
                block: false,
                timeout_ms: None,
            };
            let answer: Result<EnableResponse, CtlError> = client
                .post(&format!("/v1/projects/{project}/enablement"), &req)
                .await;
            notices.push(match answer {
                Ok(r) if r.changed.is_empty() => Notice {
                    text: format!(
                        "{}: already {}",
                        names
                            .iter()
                            .map(|n| format!("{project}/{n}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        if enable { "enabled" } else { "disabled" }
                    ),
                    tone: Tone::Plain,
                },
                Ok(r) => Notice {
                    text: r
                        .changed
                        .iter()
                        .map(|(u, st)| format!("{project}/{u}: {st}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    tone: Tone::Good,
                },
                Err(e) => error_notice(&e),
            });
        }
        let _ = tx.send(Msg::Done {
            id,
            notice: join(notices),
        });
    });
}
