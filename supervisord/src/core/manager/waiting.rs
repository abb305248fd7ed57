//! The manager's side of parked answers: who gets each answer
//! ([`WaiterReply`]), the timeout task of a waiter, and sending the answers
//! [`crate::core::jobs::waiters::Waiters`] decides once the turn's state is
//! on disk.

use std::time::Duration;

use tokio::sync::oneshot;

use devctl_units::api::{ApiError, EnableResponse, JobResponse, WaitResponse};
use devctl_units::{ProjectName, UnitName};

use crate::core::jobs::goal::Goal;
use crate::core::jobs::waiters::Done;
use crate::core::manager::Manager;

/// Who gets the answer.
pub enum WaiterReply {
    Job(oneshot::Sender<Result<JobResponse, ApiError>>),
    Wait(oneshot::Sender<Result<WaitResponse, ApiError>>),
    Enable(
        oneshot::Sender<Result<EnableResponse, ApiError>>,
        EnableResponse,
    ),
}

impl std::fmt::Debug for WaiterReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WaiterReply::Job(_) => "Job",
            WaiterReply::Wait(_) => "Wait",
            WaiterReply::Enable(..) => "Enable",
        })
    }
}

impl Manager {
    /// Park a waiter (answered at once if already decided).
    pub(crate) fn park(
        &mut self,
        project: ProjectName,
        items: Vec<(UnitName, Goal)>,
        stopped: Vec<UnitName>,
        timeout_ms: Option<u64>,
        failed_only: bool,
        reply: WaiterReply,
    ) {
        let id = self
            .waiters
            .park(&self.projects, project, items, stopped, failed_only, reply);
        if let Some(ms) = timeout_ms {
            let tx = self.timeouts_tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let _ = tx.send(id);
            });
        }
        self.check_waiters();
    }

    /// Answer every waiter whose units are all decided.
    pub(crate) fn check_waiters(&mut self) {
        for done in self.waiters.check(&self.projects) {
            self.answer(done);
        }
    }

    /// After a report from `unit`: answer the waiters it completed.
    pub(crate) fn check_waiters_for(&mut self, project: &ProjectName, unit: &UnitName) {
        for done in self.waiters.check_unit(&self.projects, project, unit) {
            self.answer(done);
        }
    }

    /// A waiter's timeout passed.
    pub(crate) fn on_timeout(&mut self, id: u64) {
        if let Some(done) = self.waiters.timeout(&self.projects, id) {
            self.answer(done);
        }
    }

    /// Send a decided waiter's answer once the turn's state is on disk
    /// (its spent items are freed after the answer is sent).
    fn answer(&mut self, done: Done<WaiterReply>) {
        let Done { reply, job, spent } = done;
        match reply {
            WaiterReply::Job(tx) => self.after_flush(move || {
                let _ = tx.send(Ok(job));
                drop(spent);
            }),
            WaiterReply::Wait(tx) => self.after_flush(move || {
                let timed_out = job.timed_out;
                let outcomes = job.outcomes;
                let _ = tx.send(Ok(WaitResponse {
                    ok: outcomes.iter().all(|o| o.ok) && !timed_out,
                    timed_out,
                    outcomes,
                }));
                drop(spent);
            }),
            WaiterReply::Enable(tx, mut resp) => {
                resp.job = Some(job);
                self.after_flush(move || {
                    let _ = tx.send(Ok(resp));
                    drop(spent);
                });
            }
        }
    }
}
