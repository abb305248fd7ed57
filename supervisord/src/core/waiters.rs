//! Parked replies: a blocking job, `wait`, `enable --now` or shutdown
//! waits here until every unit it names meets its goal (or can no longer),
//! or its timeout passes. The manager re-checks waiters after every
//! report; a unit only counts once it has handled the commands the waiter
//! depends on (its `ack` reached the recorded sequence number). Each
//! unit's answer is latched when decided. A later job on a unit that
//! heads the other way supersedes the undecided answers it makes
//! unreachable (`ok: false`, "superseded by a later stop"); answers it
//! also reaches are merged and given when the goal is reached. No parked
//! reply is ever left without an answer.
//!
//! A report can only decide the reporting unit's items (whatever else the
//! manager does in that turn delays other units' answers, never makes
//! them), so a report re-checks just those, through each waiter's index
//! by unit: O(1) per report instead of O(units), which matters when a
//! thousand units become ready together.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::sync::oneshot;

use devctl_units::api::{
    ApiError, EnableResponse, JobResponse, UnitOutcome, WaitFor, WaitResponse,
};
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{ProjectName, UnitName};

use crate::core::manager::Manager;
use crate::core::project::Project;
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

/// One unit a parked reply waits on.
pub struct Item {
    pub unit: UnitName,
    pub goal: Goal,
    /// The command sequence number the unit must have handled.
    pub seq: u64,
    /// The unit's answer once decided; latched, so a later job on the
    /// unit never changes (or un-decides) it.
    pub outcome: Option<UnitOutcome>,
}

/// One parked reply.
pub struct Waiter {
    pub id: u64,
    pub project: ProjectName,
    pub items: Vec<Item>,
    /// Positions in `items` by unit.
    by_unit: HashMap<UnitName, Vec<usize>>,
    /// Items without an outcome yet.
    undecided: usize,
    pub stopped: Vec<UnitName>,
    pub reply: WaiterReply,
}

impl Waiter {
    /// Latch item `i`'s answer (once: a decided item keeps its answer).
    fn decide(&mut self, i: usize, o: UnitOutcome) {
        let it = &mut self.items[i];
        if it.outcome.is_none() {
            it.outcome = Some(o);
            self.undecided -= 1;
        }
    }
}

/// The direction of a newly accepted job on a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toward {
    /// start, restart, trigger, up.
    Up,
    /// stop, down.
    Down,
}

impl Goal {
    /// A later job heading `toward` makes this goal unreachable for the
    /// job (or wait) that set it: that one is superseded. Goals it can
    /// still meet are merged and answered when reached.
    pub fn conflicts(self, toward: Toward) -> bool {
        match toward {
            Toward::Up => self == Goal::Down,
            Toward::Down => matches!(
                self,
                Goal::Up | Goal::Cond(WaitFor::Ready | WaitFor::Active | WaitFor::Succeeded)
            ),
        }
    }
}

/// The message of an answer superseded by a later `verb` job.
pub fn superseded(verb: &str) -> String {
    format!("superseded by a later {verb}")
}

/// The answer item `it` can be given now, if any.
fn decision(p: Option<&Project>, it: &Item) -> Option<UnitOutcome> {
    let Some(l) = p.and_then(|p| p.units.get(&it.unit)) else {
        return Some(gone(&it.unit));
    };
    let quiet = l.snap.ack >= it.seq
        && l.pending_start.is_none()
        && l.pending_stop.is_none()
        && !l.stop_sent;
    let ok = eval(it.goal, &l.snap).filter(|_| quiet)?;
    Some(outcome(&it.unit, &l.snap, ok))
}

/// Decide the undecided items of `w` at positions `at` that can be
/// decided now.
fn latch(
    projects: &BTreeMap<ProjectName, Project>,
    w: &mut Waiter,
    at: impl IntoIterator<Item = usize>,
) {
    let p = projects.get(&w.project);
    for i in at {
        if w.items[i].outcome.is_none()
            && let Some(o) = decision(p, &w.items[i])
        {
            w.decide(i, o);
        }
    }
}

/// A unit's answer from its current state.
fn outcome(unit: &UnitName, s: &Snapshot, ok: bool) -> UnitOutcome {
    UnitOutcome {
        unit: unit.clone(),
        ok,
        active: s.active,
        sub: s.sub,
        result: s.result,
        message: s.message.clone(),
    }
}

/// The answer for a unit no longer loaded (its project forgotten, or the
/// unit removed by a load).
fn gone(unit: &UnitName) -> UnitOutcome {
    UnitOutcome {
        message: Some("no longer loaded".into()),
        ..outcome(unit, &Snapshot::default(), false)
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
        reply: WaiterReply,
    ) {
        self.next_waiter += 1;
        let id = self.next_waiter;
        let items: Vec<Item> = items
            .into_iter()
            .map(|(u, g)| {
                let seq = self
                    .projects
                    .get(&project)
                    .and_then(|p| p.units.get(&u))
                    .map_or(0, |l| l.issued);
                Item {
                    unit: u,
                    goal: g,
                    seq,
                    outcome: None,
                }
            })
            .collect();
        let mut by_unit: HashMap<UnitName, Vec<usize>> = HashMap::new();
        for (i, it) in items.iter().enumerate() {
            by_unit.entry(it.unit.clone()).or_default().push(i);
        }
        self.waiters.push(Waiter {
            id,
            project,
            undecided: items.len(),
            items,
            by_unit,
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

    /// A later job heading `toward` was accepted on `unit`: answer every
    /// undecided item on it whose goal conflicts (`superseded by a later
    /// {verb}`), as systemd cancels a job replaced by a conflicting one.
    /// Items whose goal the new job also reaches stay parked (merged).
    /// The caller runs [`Manager::check_waiters`] afterwards.
    pub(crate) fn supersede(
        &mut self,
        project: &ProjectName,
        unit: &UnitName,
        toward: Toward,
        verb: &str,
    ) {
        let Some(l) = self.projects.get(project).and_then(|p| p.units.get(unit)) else {
            return;
        };
        for w in self.waiters.iter_mut().filter(|w| &w.project == project) {
            let Some(at) = w.by_unit.get(unit).cloned() else {
                continue;
            };
            for i in at {
                let it = &w.items[i];
                if it.outcome.is_none() && it.goal.conflicts(toward) {
                    w.decide(
                        i,
                        UnitOutcome {
                            message: Some(superseded(verb)),
                            ..outcome(unit, &l.snap, false)
                        },
                    );
                }
            }
        }
    }

    /// Answer every waiter whose units are all decided.
    pub(crate) fn check_waiters(&mut self) {
        for w in &mut self.waiters {
            let n = w.items.len();
            latch(&self.projects, w, 0..n);
        }
        self.complete_decided();
    }

    /// After a report from `unit`: decide its items (the only ones a
    /// report can decide, see the module doc), then answer every waiter
    /// whose units are all decided.
    pub(crate) fn check_waiters_for(&mut self, project: &ProjectName, unit: &UnitName) {
        for w in self.waiters.iter_mut().filter(|w| &w.project == project) {
            if let Some(at) = w.by_unit.get(unit).cloned() {
                latch(&self.projects, w, at);
            }
        }
        self.complete_decided();
    }

    fn complete_decided(&mut self) {
        let mut i = 0;
        while i < self.waiters.len() {
            if self.waiters[i].undecided == 0 {
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
        let p = self.projects.get(&w.project);
        let outcomes: Vec<UnitOutcome> = w
            .items
            .into_iter()
            .map(|it| match it.outcome {
                Some(o) => o,
                None => match p.and_then(|p| p.units.get(&it.unit)) {
                    Some(l) => outcome(&it.unit, &l.snap, false),
                    None => gone(&it.unit),
                },
            })
            .collect();
        let job = |outcomes| JobResponse {
            outcomes,
            stopped: w.stopped,
            timed_out,
        };
        match w.reply {
            WaiterReply::Job(tx) => {
                let job = job(outcomes);
                self.after_flush(move || {
                    let _ = tx.send(Ok(job));
                });
            }
            WaiterReply::Wait(tx) => self.after_flush(move || {
                let _ = tx.send(Ok(WaitResponse {
                    ok: outcomes.iter().all(|o| o.ok) && !timed_out,
                    timed_out,
                    outcomes,
                }));
            }),
            WaiterReply::Enable(tx, mut resp) => {
                resp.job = Some(job(outcomes));
                self.after_flush(move || {
                    let _ = tx.send(Ok(resp));
                });
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
