//! Parked replies: a blocking job, `wait`, `enable --now` or shutdown
//! waits here until every unit it names meets its goal (or can no longer),
//! or its timeout passes. The manager re-checks waiters after every
//! report; a unit only counts once it has handled the commands the waiter
//! depends on (its `ack` reached the recorded sequence number).

use std::time::Duration;

use tokio::sync::oneshot;

use devctl_units::api::{
    ApiError, EnableResponse, JobResponse, UnitOutcome, WaitFor, WaitResponse,
};
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{ProjectName, UnitName};

use crate::core::manager::Manager;
use crate::core::snapshot::Snapshot;

/// What a unit must reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// Ready / running, or a build finished successfully.
    Up,
    /// Inactive or failed.
    Down,
    Cond(WaitFor),
}

/// `Some(ok)` once the goal is decided for this snapshot, `None` while pending.
pub fn eval(goal: Goal, s: &Snapshot) -> Option<bool> {
    let exited_ok = s.sub == SubState::Exited && s.result == Some(UnitResult::Success);
    match goal {
        Goal::Up | Goal::Cond(WaitFor::Ready) => match s.active {
            ActiveState::Active if s.sub != SubState::NotReady || exited_ok => Some(true),
            ActiveState::Failed | ActiveState::Inactive => Some(false),
            _ => None,
        },
        Goal::Down | Goal::Cond(WaitFor::Inactive) => {
            matches!(s.active, ActiveState::Inactive | ActiveState::Failed).then_some(true)
        }
        Goal::Cond(WaitFor::Active) => match s.active {
            ActiveState::Active => Some(true),
            ActiveState::Failed => Some(false),
            _ => None,
        },
        Goal::Cond(WaitFor::Succeeded) => match s.active {
            _ if exited_ok => Some(true),
            ActiveState::Failed => Some(false),
            _ => None,
        },
        Goal::Cond(WaitFor::Failed) => (s.active == ActiveState::Failed).then_some(true),
    }
}

/// Who gets the answer.
pub enum WaiterReply {
    Job(oneshot::Sender<Result<JobResponse, ApiError>>),
    Wait(oneshot::Sender<Result<WaitResponse, ApiError>>),
    Enable(
        oneshot::Sender<Result<EnableResponse, ApiError>>,
        EnableResponse,
    ),
}

/// One parked reply.
pub struct Waiter {
    pub id: u64,
    pub project: ProjectName,
    /// Unit, goal, and the command sequence number it must have handled.
    pub items: Vec<(UnitName, Goal, u64)>,
    pub stopped: Vec<UnitName>,
    pub reply: WaiterReply,
}

impl Manager {
    /// Park a waiter (answered at once if already decided).
    pub(crate) fn park(
        &mut self,
        project: ProjectName,
        items: Vec<(UnitName, Goal)>,
        stopped: Vec<UnitName>,
        timeout_ms: Option<u64>,
        reply: WaiterReply,
    ) {
        self.next_waiter += 1;
        let id = self.next_waiter;
        let items = items
            .into_iter()
            .map(|(u, g)| {
                let seq = self
                    .projects
                    .get(&project)
                    .and_then(|p| p.units.get(&u))
                    .map_or(0, |l| l.issued);
                (u, g, seq)
            })
            .collect();
        self.waiters.push(Waiter {
            id,
            project,
            items,
            stopped,
            reply,
        });
        if let Some(ms) = timeout_ms {
            let tx = self.timeouts_tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let _ = tx.send(id);
            });
        }
        self.check_waiters();
    }

    fn outcomes(&self, w: &Waiter) -> (Vec<UnitOutcome>, bool, bool) {
        let p = self.projects.get(&w.project);
        let mut all_done = true;
        let mut all_ok = true;
        let mut out = Vec::new();
        for (u, goal, seq) in &w.items {
            let Some(l) = p.and_then(|p| p.units.get(u)) else {
                all_ok = false;
                continue;
            };
            let decided = if l.snap.ack >= *seq
                && l.pending_start.is_none()
                && l.pending_stop.is_none()
                && !l.stop_sent
            {
                eval(*goal, &l.snap)
            } else {
                None
            };
            all_done &= decided.is_some();
            all_ok &= decided == Some(true);
            out.push(UnitOutcome {
                unit: u.clone(),
                ok: decided == Some(true),
                active: l.snap.active,
                sub: l.snap.sub,
                result: l.snap.result,
                message: l.snap.message.clone(),
            });
        }
        (out, all_done, all_ok)
    }

    /// Answer every waiter whose units are all decided.
    pub(crate) fn check_waiters(&mut self) {
        let mut i = 0;
        while i < self.waiters.len() {
            let (_, done, _) = self.outcomes(&self.waiters[i]);
            if done {
                let w = self.waiters.swap_remove(i);
                self.complete(w, false);
            } else {
                i += 1;
            }
        }
    }

    /// A waiter's timeout passed.
    pub(crate) fn on_timeout(&mut self, id: u64) {
        if let Some(i) = self.waiters.iter().position(|w| w.id == id) {
            let w = self.waiters.swap_remove(i);
            self.complete(w, true);
        }
    }

    fn complete(&mut self, w: Waiter, timed_out: bool) {
        let (outcomes, _, all_ok) = self.outcomes(&w);
        let job = JobResponse {
            outcomes: outcomes.clone(),
            stopped: w.stopped.clone(),
            timed_out,
        };
        match w.reply {
            WaiterReply::Job(tx) => {
                let _ = tx.send(Ok(job));
            }
            WaiterReply::Wait(tx) => {
                let _ = tx.send(Ok(WaitResponse {
                    ok: all_ok && !timed_out,
                    timed_out,
                    outcomes,
                }));
            }
            WaiterReply::Enable(tx, mut resp) => {
                resp.job = Some(job);
                let _ = tx.send(Ok(resp));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(active: ActiveState, sub: SubState, result: Option<UnitResult>) -> Snapshot {
        Snapshot {
            active,
            sub,
            result,
            ..Snapshot::default()
        }
    }

    #[test]
    fn goal_table() {
        use ActiveState as A;
        use SubState as S;
        let ok = Some(UnitResult::Success);
        let bad = Some(UnitResult::ExitCode);
        let cases: &[(Goal, Snapshot, Option<bool>)] = &[
            (Goal::Up, s(A::Active, S::Ready, None), Some(true)),
            (Goal::Up, s(A::Active, S::Running, None), Some(true)),
            (Goal::Up, s(A::Active, S::Exited, ok), Some(true)),
            (Goal::Up, s(A::Active, S::NotReady, None), None),
            (Goal::Up, s(A::Activating, S::Backoff, bad), None),
            (Goal::Up, s(A::Activating, S::WaitingDeps, None), None),
            (Goal::Up, s(A::Failed, S::Failed, bad), Some(false)),
            (Goal::Up, s(A::Inactive, S::Dead, ok), Some(false)),
            (Goal::Down, s(A::Deactivating, S::Stopping, None), None),
            (Goal::Down, s(A::Failed, S::Failed, bad), Some(true)),
            (Goal::Down, s(A::Inactive, S::Dead, ok), Some(true)),
            (
                Goal::Cond(WaitFor::Active),
                s(A::Inactive, S::Dead, None),
                None,
            ),
            (
                Goal::Cond(WaitFor::Active),
                s(A::Active, S::NotReady, None),
                Some(true),
            ),
            (
                Goal::Cond(WaitFor::Succeeded),
                s(A::Active, S::Exited, ok),
                Some(true),
            ),
            (
                Goal::Cond(WaitFor::Succeeded),
                s(A::Activating, S::Building, None),
                None,
            ),
            (
                Goal::Cond(WaitFor::Succeeded),
                s(A::Failed, S::Failed, bad),
                Some(false),
            ),
            (
                Goal::Cond(WaitFor::Failed),
                s(A::Failed, S::Failed, bad),
                Some(true),
            ),
            (
                Goal::Cond(WaitFor::Failed),
                s(A::Active, S::Running, None),
                None,
            ),
        ];
        for (g, snap, want) in cases {
            assert_eq!(
                eval(*g, snap),
                *want,
                "{g:?} {:?}/{:?}",
                snap.active,
                snap.sub
            );
        }
    }
}
