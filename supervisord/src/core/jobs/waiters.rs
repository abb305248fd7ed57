//! Parked answers: a blocking job, `wait`, or `enable --now` waits here
//! until every unit it names meets its goal (or can no longer), or its
//! timeout passes. A unit only counts once it has handled the commands the
//! waiter depends on (its `ack` reached the recorded sequence number) and
//! its job is idle. Each unit's answer is latched when decided. A later
//! job on a unit that heads the other way supersedes the undecided answers
//! it makes unreachable (`ok: false`, "superseded by a later stop", see
//! `goal.rs`); answers it also reaches stay parked. No parked answer is
//! ever left without one.
//!
//! A report can only decide the reporting unit's items (whatever else the
//! manager does in that turn delays other units' answers, never makes
//! them), so a report re-checks just those, through each waiter's index
//! by unit: O(1) per report instead of O(units), which matters when a
//! thousand units become ready together.
//!
//! A caller that reports failures only (the CLI without `--json`) parks
//! with `failed_only`: an item that reaches its goal is then only counted,
//! so answering a thousand-unit `up` builds, sends and frees no thousand
//! outcomes on the way to the caller.
//!
//! The waiters hold no channel: each carries its caller's reply as an
//! opaque `R` and hands it back in a [`Done`] for the manager to answer.

use devctl_units::api::{JobResponse, UnitOutcome};
use devctl_units::{ProjectName, UnitName};

use crate::core::jobs::goal::{Goal, Toward, eval, superseded};
use crate::core::jobs::job::Job;
use crate::core::snapshot::Snapshot;

/// Where the waiters read each unit's mirrored state and job (the
/// manager's projects).
pub trait Mirrors {
    /// `None` when the unit is not loaded (its project forgotten, or the
    /// unit removed by a load).
    fn unit(&self, project: &ProjectName, unit: &UnitName) -> Option<(&Snapshot, &Job)>;
}

/// One unit a parked answer waits on.
#[derive(Debug)]
pub struct Item {
    pub unit: UnitName,
    pub goal: Goal,
    /// The command sequence number the unit must have handled.
    pub seq: u64,
    /// The unit's answer once decided; latched, so a later job on the
    /// unit never changes (or un-decides) it.
    pub answer: Answer,
}

/// An item's latched answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Undecided,
    /// It reached its goal, and the caller asked for failures only.
    Reached,
    Decided(UnitOutcome),
}

/// One parked answer.
#[derive(Debug)]
pub struct Waiter<R> {
    pub id: u64,
    pub project: ProjectName,
    pub items: Vec<Item>,
    /// Positions in `items`, ordered by unit: found by binary search,
    /// with one allocation per waiter (not one per unit).
    by_unit: Vec<usize>,
    /// Items without an outcome yet.
    undecided: usize,
    /// Reached goals are counted, not answered (see the module doc).
    failed_only: bool,
    pub stopped: Vec<UnitName>,
    pub reply: R,
}

impl<R> Waiter<R> {
    /// Latch item `i`'s answer (once: a decided item keeps its answer).
    fn decide(&mut self, i: usize, o: UnitOutcome) {
        let it = &mut self.items[i];
        if it.answer == Answer::Undecided {
            it.answer = if self.failed_only && o.ok {
                Answer::Reached
            } else {
                Answer::Decided(o)
            };
            self.undecided -= 1;
        }
    }

    /// The positions in `by_unit` of `unit`'s items.
    fn span(&self, unit: &UnitName) -> std::ops::Range<usize> {
        let lo = self
            .by_unit
            .partition_point(|&i| self.items[i].unit < *unit);
        let n = self.by_unit[lo..].partition_point(|&i| self.items[i].unit == *unit);
        lo..lo + n
    }
}

/// A waiter's answer, with the reply it was parked with.
#[derive(Debug)]
pub struct Done<R> {
    /// The waiter's items, emptied of their answers: freeing a thousand
    /// unit names takes a while, so the caller drops them once the answer
    /// is on its way.
    pub spent: Vec<Item>,
    pub reply: R,
    pub job: JobResponse,
}

/// Every parked answer.
#[derive(Debug)]
pub struct Waiters<R> {
    list: Vec<Waiter<R>>,
    next: u64,
}

impl<R> Default for Waiters<R> {
    fn default() -> Self {
        Waiters {
            list: Vec::new(),
            next: 0,
        }
    }
}

/// The answer item `it` of `project` can be given now, if any.
fn decision(m: &impl Mirrors, project: &ProjectName, it: &Item) -> Option<UnitOutcome> {
    let Some((snap, job)) = m.unit(project, &it.unit) else {
        return Some(gone(&it.unit));
    };
    let quiet = snap.ack >= it.seq && job.idle();
    let ok = eval(it.goal, snap).filter(|_| quiet)?;
    Some(outcome(&it.unit, snap, ok))
}

/// Decide item `i` of `w` if it is undecided and can be decided now.
fn latch<R>(m: &impl Mirrors, w: &mut Waiter<R>, i: usize) {
    if w.items[i].answer == Answer::Undecided
        && let Some(o) = decision(m, &w.project, &w.items[i])
    {
        w.decide(i, o);
    }
}

/// A unit's answer from its current state.
pub fn outcome(unit: &UnitName, s: &Snapshot, ok: bool) -> UnitOutcome {
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

impl<R> Waiters<R> {
    /// Park an answer on `items` of `project`; returns its id (for its
    /// timeout). The caller checks the waiters afterwards (it may be
    /// decided already).
    pub fn park(
        &mut self,
        m: &impl Mirrors,
        project: ProjectName,
        items: Vec<(UnitName, Goal)>,
        stopped: Vec<UnitName>,
        failed_only: bool,
        reply: R,
    ) -> u64 {
        self.next += 1;
        let id = self.next;
        let items: Vec<Item> = items
            .into_iter()
            .map(|(u, g)| {
                let seq = m.unit(&project, &u).map_or(0, |(_, job)| job.issued);
                Item {
                    unit: u,
                    goal: g,
                    seq,
                    answer: Answer::Undecided,
                }
            })
            .collect();
        let mut by_unit: Vec<usize> = (0..items.len()).collect();
        by_unit.sort_by(|&a, &b| items[a].unit.cmp(&items[b].unit));
        self.list.push(Waiter {
            id,
            project,
            undecided: items.len(),
            items,
            by_unit,
            failed_only,
            stopped,
            reply,
        });
        id
    }

    /// A later job heading `toward` was accepted on `unit` (whose state
    /// is `snap`): answer every undecided item on it whose goal conflicts
    /// (`superseded by a later {verb}`). Items whose goal the new job also
    /// reaches stay parked (merged).
    pub fn supersede(
        &mut self,
        project: &ProjectName,
        unit: &UnitName,
        snap: &Snapshot,
        toward: Toward,
        verb: &str,
    ) {
        for w in self.list.iter_mut().filter(|w| &w.project == project) {
            for k in w.span(unit) {
                let i = w.by_unit[k];
                let it = &w.items[i];
                if it.answer == Answer::Undecided && it.goal.conflicts(toward) {
                    w.decide(
                        i,
                        UnitOutcome {
                            message: Some(superseded(verb)),
                            ..outcome(unit, snap, false)
                        },
                    );
                }
            }
        }
    }

    /// Decide what can be decided; take every waiter whose units are all
    /// decided.
    pub fn check(&mut self, m: &impl Mirrors) -> Vec<Done<R>> {
        for w in &mut self.list {
            for i in 0..w.items.len() {
                latch(m, w, i);
            }
        }
        self.take_decided(m)
    }

    /// After a report from `unit`: decide its items (the only ones a
    /// report can decide, see the module doc), then take every waiter
    /// whose units are all decided.
    pub fn check_unit(
        &mut self,
        m: &impl Mirrors,
        project: &ProjectName,
        unit: &UnitName,
    ) -> Vec<Done<R>> {
        for w in self.list.iter_mut().filter(|w| &w.project == project) {
            for k in w.span(unit) {
                let i = w.by_unit[k];
                latch(m, w, i);
            }
        }
        self.take_decided(m)
    }

    fn take_decided(&mut self, m: &impl Mirrors) -> Vec<Done<R>> {
        let mut done = Vec::new();
        let mut i = 0;
        while i < self.list.len() {
            if self.list[i].undecided == 0 {
                let w = self.list.swap_remove(i);
                done.push(complete(m, w, false));
            } else {
                i += 1;
            }
        }
        done
    }

    /// Waiter `id`'s timeout passed: its answer, undecided units `ok:
    /// false` (none when it was answered already).
    pub fn timeout(&mut self, m: &impl Mirrors, id: u64) -> Option<Done<R>> {
        let i = self.list.iter().position(|w| w.id == id)?;
        let w = self.list.swap_remove(i);
        Some(complete(m, w, true))
    }
}

fn complete<R>(m: &impl Mirrors, w: Waiter<R>, timed_out: bool) -> Done<R> {
    let project = &w.project;
    let mut items = w.items;
    let outcomes: Vec<UnitOutcome> = items
        .iter_mut()
        .filter_map(
            |it| match std::mem::replace(&mut it.answer, Answer::Reached) {
                Answer::Decided(o) => Some(o),
                Answer::Reached => None,
                Answer::Undecided => Some(match m.unit(project, &it.unit) {
                    Some((snap, _)) => outcome(&it.unit, snap, false),
                    None => gone(&it.unit),
                }),
            },
        )
        .collect();
    Done {
        spent: items,
        reply: w.reply,
        job: JobResponse {
            outcomes,
            stopped: w.stopped,
            timed_out,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::api::RuntimeState;
    use devctl_units::state::{ActiveState, SubState};
    use std::collections::BTreeMap;

    /// Units' states by name, in one project.
    #[derive(Default)]
    struct Units(BTreeMap<UnitName, (Snapshot, Job)>);

    impl Mirrors for Units {
        fn unit(&self, _: &ProjectName, unit: &UnitName) -> Option<(&Snapshot, &Job)> {
            self.0.get(unit).map(|(s, j)| (s, j))
        }
    }

    fn p() -> ProjectName {
        ProjectName::new("p").unwrap()
    }

    fn u(n: &str) -> UnitName {
        UnitName::new(n).unwrap()
    }

    fn state(active: ActiveState, sub: SubState, ack: u64) -> Snapshot {
        Snapshot {
            state: RuntimeState {
                active,
                sub,
                ..RuntimeState::default()
            },
            ack,
        }
    }

    fn issued(n: u64) -> Job {
        Job {
            issued: n,
            ..Job::default()
        }
    }

    #[test]
    fn an_answer_waits_for_the_command_to_be_handled_and_the_job_to_be_idle() {
        let mut units = Units::default();
        // Ready, but from before the start (seq 2) was handled.
        units.0.insert(
            u("web"),
            (state(ActiveState::Active, SubState::Ready, 1), issued(2)),
        );
        let mut w = Waiters::default();
        w.park(
            &units,
            p(),
            vec![(u("web"), Goal::Up)],
            vec![],
            false,
            "caller",
        );
        assert!(w.check(&units).is_empty(), "the start is not handled yet");
        units.0.get_mut(&u("web")).unwrap().0.ack = 2;
        units.0.get_mut(&u("web")).unwrap().1.stopping = Some(2);
        assert!(w.check(&units).is_empty(), "a stop is in flight");
        units.0.get_mut(&u("web")).unwrap().1.stopping = None;
        let done = w.check_unit(&units, &p(), &u("web"));
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].reply, "caller");
        assert!(done[0].job.outcomes[0].ok, "{:?}", done[0].job);
        assert!(!done[0].job.timed_out);
    }

    #[test]
    fn a_superseded_answer_is_latched_and_the_rest_still_waits() {
        let mut units = Units::default();
        for n in ["a", "b"] {
            units.0.insert(
                u(n),
                (
                    state(ActiveState::Activating, SubState::Starting, 1),
                    issued(1),
                ),
            );
        }
        let mut w = Waiters::default();
        let items = vec![(u("a"), Goal::Up), (u("b"), Goal::Up)];
        w.park(&units, p(), items, vec![], false, ());
        let snap = units.0[&u("a")].0.clone();
        w.supersede(&p(), &u("a"), &snap, Toward::Down, "stop");
        // A job heading the same way (a restart on a start) is merged.
        w.supersede(&p(), &u("b"), &snap, Toward::Up, "restart");
        assert!(w.check(&units).is_empty(), "b is undecided");
        // a reaches its goal after all: its answer stays the superseded one.
        units.0.get_mut(&u("a")).unwrap().0 = state(ActiveState::Active, SubState::Ready, 1);
        units.0.get_mut(&u("b")).unwrap().0 = state(ActiveState::Active, SubState::Ready, 1);
        let done = w.check(&units);
        let o = &done[0].job.outcomes;
        assert!(!o[0].ok);
        assert_eq!(o[0].message.as_deref(), Some("superseded by a later stop"));
        assert!(o[1].ok, "{o:?}");
    }

    #[test]
    fn failures_only_answers_with_the_failed_units_and_finds_a_unit_named_twice() {
        let mut units = Units::default();
        for n in ["a", "b", "c"] {
            units.0.insert(
                u(n),
                (
                    state(ActiveState::Activating, SubState::Starting, 1),
                    issued(1),
                ),
            );
        }
        let mut w = Waiters::default();
        let items = vec![
            (u("c"), Goal::Up),
            (u("a"), Goal::Up),
            (u("b"), Goal::Up),
            (u("a"), Goal::Up),
        ];
        w.park(&units, p(), items, vec![], true, ());
        units.0.get_mut(&u("a")).unwrap().0 = state(ActiveState::Active, SubState::Ready, 1);
        assert!(w.check_unit(&units, &p(), &u("a")).is_empty(), "b, c wait");
        units.0.get_mut(&u("c")).unwrap().0 = state(ActiveState::Active, SubState::Ready, 1);
        assert!(w.check_unit(&units, &p(), &u("c")).is_empty(), "b waits");
        units.0.get_mut(&u("b")).unwrap().0 = state(ActiveState::Failed, SubState::Failed, 1);
        let done = w.check_unit(&units, &p(), &u("b"));
        assert_eq!(done.len(), 1, "both items of a were decided by a's report");
        let o = &done[0].job.outcomes;
        assert_eq!(o.len(), 1, "{o:?}");
        assert_eq!((o[0].unit.as_str(), o[0].ok), ("b", false));
    }

    #[test]
    fn a_unit_no_longer_loaded_is_answered_and_a_timeout_answers_the_rest() {
        let mut units = Units::default();
        units.0.insert(
            u("slow"),
            (
                state(ActiveState::Activating, SubState::Starting, 1),
                issued(1),
            ),
        );
        let mut w = Waiters::default();
        let items = vec![(u("gone"), Goal::Down), (u("slow"), Goal::Up)];
        let id = w.park(&units, p(), items, vec![u("gone")], false, ());
        assert!(w.check(&units).is_empty());
        let done = w.timeout(&units, id).expect("still parked");
        assert!(done.job.timed_out);
        let o = &done.job.outcomes;
        assert_eq!(o[0].message.as_deref(), Some("no longer loaded"));
        assert!(!o[0].ok && !o[1].ok, "{o:?}");
        assert_eq!(o[1].active, ActiveState::Activating);
        assert_eq!(done.job.stopped, [u("gone")]);
        assert!(w.timeout(&units, id).is_none(), "answered once");
    }
}
