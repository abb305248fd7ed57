//! What a running `kubernetes` unit keeps open besides its objects: its
//! port-forwards and its pods' logs (the `stream` module's [`PortForward`]
//! and [`PodLogs`]), wired into the unit: log lines go to the unit's log
//! tagged `pod/container`, Kubernetes events and forward state changes as
//! markers, and the forwards' states as the unit's status line.
//!
//! Forwards are opened before anything is applied, so a taken local port
//! fails the start (`port-in-use`, naming the holder) with nothing applied;
//! until the target has a ready pod they wait, reconnecting by themselves.

use std::str::FromStr;

use kube::Client;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use devctl_units::PortForward as ForwardDecl;
use devctl_units::state::UnitResult;

use crate::core::notes::NoteTx;
use crate::core::provider::{Fact, RunCtx, StartFailure};
use crate::logs::{Stream, UnitLog};
use crate::providers::kubernetes::apply::Live;
use crate::providers::kubernetes::stream::{
    ForwardError, ForwardSpec, ForwardState, LogRecord, LogsSpec, ObjectRef, PodLogs, PortForward,
    Target,
};

/// How many log records may wait for the unit's log.
const LOG_BUFFER: usize = 1024;

/// A unit's open forwards and log followers; dropping it closes them.
#[derive(Default)]
pub struct Streams {
    forwards: Vec<PortForward>,
    decls: Vec<ForwardDecl>,
    logs: Option<PodLogs>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Streams {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// `127.0.0.1:LOCAL → RESOURCE:REMOTE`.
fn describe(d: &ForwardDecl) -> String {
    format!(
        "127.0.0.1:{} → {}:{}",
        d.local_port, d.resource, d.remote_port
    )
}

fn state_text(s: &ForwardState) -> String {
    match s {
        ForwardState::Forwarding { pod } => format!("forwarding to pod {pod}"),
        ForwardState::Reconnecting { reason } => format!("reconnecting: {reason}"),
        ForwardState::Failed { reason } => format!("failed: {reason}"),
    }
}

impl Streams {
    /// Open the unit's port-forwards into `namespace`.
    pub async fn forwards(
        client: &Client,
        namespace: &str,
        decls: &[ForwardDecl],
    ) -> Result<Streams, StartFailure> {
        let mut streams = Streams::default();
        for d in decls {
            let failure = |e: ForwardError| {
                let result = match e {
                    ForwardError::PortInUse { .. } => UnitResult::PortInUse,
                    _ => UnitResult::ExecFailed,
                };
                StartFailure::Permanent {
                    result,
                    message: format!("port-forward {}: {e}", describe(d)),
                }
            };
            let target = Target::from_str(&d.resource).map_err(failure)?;
            let spec = ForwardSpec {
                namespace: namespace.to_owned(),
                target,
                local_port: d.local_port,
                remote_port: d.remote_port,
            };
            let fwd = PortForward::start(client.clone(), spec)
                .await
                .map_err(failure)?;
            streams.forwards.push(fwd);
            streams.decls.push(d.clone());
        }
        Ok(streams)
    }

    /// Report the forwards' states from now on: each change as a marker,
    /// all of them as the unit's status line (after the run's first fact).
    pub fn report(&mut self, ctx: &RunCtx) {
        if self.forwards.is_empty() {
            return;
        }
        self.tasks.push(report_states(
            self.decls.clone(),
            self.forwards.iter().map(PortForward::state).collect(),
            ctx.log.clone(),
            ctx.facts.clone(),
            ctx.run,
        ));
    }

    /// Close the port-forwards (their connections too).
    pub fn close_forwards(&mut self) {
        self.forwards.clear();
    }

    /// Close the log followers and the state reports, keeping the
    /// port-forwards open (a run handed over to the next one).
    pub fn close_logs(&mut self) {
        self.logs = None;
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }

    /// Take the open port-forwards for a new run: streams holding them if
    /// they are the ones `decls` declares, else `None` (they are closed).
    pub fn take_forwards(&mut self, decls: &[ForwardDecl]) -> Option<Streams> {
        let (open, kept) = (
            std::mem::take(&mut self.forwards),
            std::mem::take(&mut self.decls),
        );
        (kept == decls).then(|| Streams {
            forwards: open,
            decls: kept,
            logs: None,
            tasks: Vec::new(),
        })
    }

    /// Follow the logs of the unit's pods (found by `selector` in
    /// `namespace`) and the events of its objects there.
    pub fn follow_logs(
        &mut self,
        client: &Client,
        namespace: &str,
        selector: &str,
        objects: &[Live],
        log: &UnitLog,
    ) {
        let events_for = objects
            .iter()
            .filter(|l| l.namespace.as_deref() == Some(namespace))
            .map(|l| ObjectRef::new(l.kind.clone(), l.name.clone()))
            .collect();
        let spec = LogsSpec {
            namespace: namespace.to_owned(),
            selector: selector.to_owned(),
            events_for,
            events_since: None,
        };
        let (tx, rx) = mpsc::channel(LOG_BUFFER);
        self.logs = Some(PodLogs::start(client.clone(), spec, tx));
        self.tasks.push(tokio::spawn(write_logs(rx, log.clone())));
    }
}

/// Lines into the unit's log tagged with their pod and container; events
/// and the follower's own trouble as markers.
async fn write_logs(mut rx: mpsc::Receiver<LogRecord>, log: UnitLog) {
    while let Some(r) = rx.recv().await {
        match r {
            LogRecord::Line {
                pod,
                container,
                text,
            } => log.write(Stream::Stdout, format!("[{pod}/{container}] {text}")),
            LogRecord::Event(e) => log.marker(format!("event: {e}")),
            LogRecord::Notice(n) => log.marker(format!("logs: {n}")),
        }
    }
}

/// Every forward's state change as a marker, and all of them as the
/// unit's status line.
fn report_states(
    decls: Vec<ForwardDecl>,
    mut states: Vec<tokio::sync::watch::Receiver<ForwardState>>,
    log: UnitLog,
    facts: NoteTx<Fact>,
    run: u64,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut last: Vec<Option<ForwardState>> = vec![None; states.len()];
        loop {
            for (i, rx) in states.iter_mut().enumerate() {
                let now = rx.borrow_and_update().clone();
                if last[i].as_ref() != Some(&now) {
                    log.marker(format!(
                        "port-forward {}: {}",
                        describe(&decls[i]),
                        state_text(&now)
                    ));
                    last[i] = Some(now);
                }
            }
            let line = decls
                .iter()
                .zip(&last)
                .map(|(d, s)| {
                    let s = s.as_ref().map(state_text).unwrap_or_default();
                    format!("port-forward {}: {s}", describe(d))
                })
                .collect::<Vec<_>>()
                .join("; ");
            if facts.send((run, Fact::Status(line))).is_err() {
                return;
            }
            let changes = states.iter_mut().map(|rx| Box::pin(rx.changed()));
            let (r, _, _) = futures_util::future::select_all(changes).await;
            if r.is_err() {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_and_states_read_as_written() {
        let d = ForwardDecl {
            resource: "service/site".into(),
            local_port: 18095,
            remote_port: 80,
        };
        assert_eq!(describe(&d), "127.0.0.1:18095 → service/site:80");
        assert_eq!(
            state_text(&ForwardState::Reconnecting {
                reason: "no ready pod".into()
            }),
            "reconnecting: no ready pod"
        );
        assert_eq!(
            state_text(&ForwardState::Forwarding {
                pod: "web-1".into()
            }),
            "forwarding to pod web-1"
        );
    }
}
