//! One unit's job: what the manager still has to send to the unit's actor
//! (a queued start or stop) and the stop it is waiting on, plus the
//! sequence number of the last command sent. A job arriving on a unit is
//! merged with the one queued there by [`MERGE`], a table in the manner of
//! systemd's job merge table: a start replaces a queued stop and a stop a
//! queued start; a job the unit does not need (a start on a running unit,
//! a stop on a settled, stopped one) queues nothing.

use devctl_units::api::Origin;
use devctl_units::state::{ActiveState, UnitResult};

use crate::core::snapshot::Snapshot;

/// A stop the manager will send once the unit's dependents are down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingStop {
    pub result: UnitResult,
    pub message: Option<String>,
    pub failed: bool,
}

/// A job waiting for its conditions (dependencies up for a start,
/// dependents down for a stop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    Start {
        origin: Origin,
        trigger: String,
        /// The actor was told to show `waiting-deps` for this start.
        shown_waiting: bool,
    },
    Stop(PendingStop),
}

/// One unit's job state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Job {
    pub queued: Option<Queued>,
    /// A stop sent and not yet handled, by its sequence number: from
    /// sending it until the actor reports it handled (its `ack` reached
    /// the number while down, or went past it).
    pub stopping: Option<u64>,
    /// Sequence number of the last command sent.
    pub issued: u64,
}

/// The kind of a queued or arriving job (a row key of [`MERGE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Start,
    Stop,
}

/// What merging an arriving job leaves queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merged {
    /// The arriving job is queued (replacing whatever was).
    Queue,
    /// Nothing stays queued (the arriving job cancels the queued one and
    /// is not needed itself).
    Clear,
    /// The queued job (or none) stays as it is.
    Keep,
}

/// The merge table: (queued, arriving, the unit needs the arriving job)
/// → what stays queued. A start is needed unless the unit runs (up, not
/// failed, no stop in flight); a stop is needed while the unit is up or
/// has commands in flight.
pub const MERGE: [(Option<Kind>, Kind, bool, Merged); 12] = [
    (None, Kind::Start, false, Merged::Keep),
    (None, Kind::Start, true, Merged::Queue),
    (Some(Kind::Start), Kind::Start, false, Merged::Queue),
    (Some(Kind::Start), Kind::Start, true, Merged::Queue),
    (Some(Kind::Stop), Kind::Start, false, Merged::Clear),
    (Some(Kind::Stop), Kind::Start, true, Merged::Queue),
    (None, Kind::Stop, false, Merged::Keep),
    (None, Kind::Stop, true, Merged::Queue),
    (Some(Kind::Start), Kind::Stop, false, Merged::Queue),
    (Some(Kind::Start), Kind::Stop, true, Merged::Queue),
    (Some(Kind::Stop), Kind::Stop, false, Merged::Keep),
    (Some(Kind::Stop), Kind::Stop, true, Merged::Queue),
];

/// Look an arriving job up in [`MERGE`].
pub fn merge(queued: Option<Kind>, arriving: Kind, needed: bool) -> Merged {
    MERGE
        .iter()
        .find(|(q, a, n, _)| *q == queued && *a == arriving && *n == needed)
        .map(|row| row.3)
        .expect("the merge table covers every case")
}

impl Queued {
    fn kind(&self) -> Kind {
        match self {
            Queued::Start { .. } => Kind::Start,
            Queued::Stop(_) => Kind::Stop,
        }
    }
}

impl Job {
    /// Every command sent has been handled.
    pub fn settled(&self, snap: &Snapshot) -> bool {
        snap.ack >= self.issued
    }

    /// A start is queued.
    pub fn start_queued(&self) -> bool {
        matches!(self.queued, Some(Queued::Start { .. }))
    }

    /// A stop is queued.
    pub fn stop_queued(&self) -> bool {
        matches!(self.queued, Some(Queued::Stop(_)))
    }

    /// Nothing queued and no stop in flight.
    pub fn idle(&self) -> bool {
        self.queued.is_none() && self.stopping.is_none()
    }

    /// The unit runs as far as a new start is concerned: up, not failed,
    /// not being stopped.
    pub fn running(&self, snap: &Snapshot) -> bool {
        snap.is_up() && snap.active != ActiveState::Failed && self.stopping.is_none()
    }

    fn apply(&mut self, arriving: Kind, needed: bool, job: Queued) {
        match merge(self.queued.as_ref().map(Queued::kind), arriving, needed) {
            Merged::Queue => self.queued = Some(job),
            Merged::Clear => self.queued = None,
            Merged::Keep => {}
        }
    }

    /// A start arrives (by `origin`, because of `trigger`).
    pub fn start(&mut self, snap: &Snapshot, origin: Origin, trigger: &str) {
        let needed = !self.running(snap);
        let job = Queued::Start {
            origin,
            trigger: trigger.to_string(),
            shown_waiting: false,
        };
        self.apply(Kind::Start, needed, job);
    }

    /// A stop arrives.
    pub fn stop(&mut self, snap: &Snapshot, stop: PendingStop) {
        let needed = snap.is_up() || !self.settled(snap);
        self.apply(Kind::Stop, needed, Queued::Stop(stop));
    }

    /// The actor reported `snap`: a stop in flight is over once handled
    /// (the unit is down, or a later command, a start, was handled).
    pub fn on_report(&mut self, snap: &Snapshot) {
        if let Some(seq) = self.stopping
            && snap.ack >= seq
            && (!snap.is_up() || snap.ack > seq)
        {
            self.stopping = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::api::RuntimeState;
    use devctl_units::state::SubState;

    fn snap(active: ActiveState, ack: u64) -> Snapshot {
        Snapshot {
            state: RuntimeState {
                active,
                sub: SubState::Running,
                ..RuntimeState::default()
            },
            ack,
        }
    }

    fn stop(why: &str) -> PendingStop {
        PendingStop {
            result: UnitResult::Success,
            message: Some(why.into()),
            failed: false,
        }
    }

    fn start(trigger: &str) -> Queued {
        Queued::Start {
            origin: Origin::Started,
            trigger: trigger.into(),
            shown_waiting: false,
        }
    }

    #[test]
    fn the_merge_table_has_one_row_per_case() {
        for q in [None, Some(Kind::Start), Some(Kind::Stop)] {
            for a in [Kind::Start, Kind::Stop] {
                for n in [false, true] {
                    let rows = MERGE
                        .iter()
                        .filter(|(rq, ra, rn, _)| *rq == q && *ra == a && *rn == n)
                        .count();
                    assert_eq!(rows, 1, "{q:?} {a:?} needed={n}");
                }
            }
        }
    }

    /// Every row of the merge table, through `Job::start` / `Job::stop`
    /// on a unit in the state that makes the arriving job (un)needed.
    #[test]
    fn every_merge_rule_through_the_job() {
        let running = snap(ActiveState::Active, 0);
        let down = snap(ActiveState::Inactive, 0);
        let failed = snap(ActiveState::Failed, 0);
        let queued_start = Some(start("earlier"));
        let queued_stop = Some(Queued::Stop(stop("earlier")));
        let new_start = Some(Queued::Start {
            origin: Origin::Restarted,
            trigger: "later".into(),
            shown_waiting: false,
        });
        let new_stop = Some(Queued::Stop(stop("later")));
        // (queued before, unit state, arriving kind, queued after)
        let cases: Vec<(Option<Queued>, &Snapshot, Kind, Option<Queued>)> = vec![
            // A start on a running unit is not needed.
            (None, &running, Kind::Start, None),
            // A start on a stopped or failed unit is queued.
            (None, &down, Kind::Start, new_start.clone()),
            (None, &failed, Kind::Start, new_start.clone()),
            // A start replaces a queued start (latest origin and trigger).
            (
                queued_start.clone(),
                &running,
                Kind::Start,
                new_start.clone(),
            ),
            (queued_start.clone(), &down, Kind::Start, new_start.clone()),
            // A start cancels a queued stop; on a running unit that is all.
            (queued_stop.clone(), &running, Kind::Start, None),
            (queued_stop.clone(), &down, Kind::Start, new_start.clone()),
            // A stop on a settled, stopped unit is not needed.
            (None, &down, Kind::Stop, None),
            (None, &running, Kind::Stop, new_stop.clone()),
            // A stop replaces a queued start, needed or not.
            (queued_start.clone(), &down, Kind::Stop, new_stop.clone()),
            (queued_start.clone(), &running, Kind::Stop, new_stop.clone()),
            // A stop on a queued stop: kept when not needed, else replaced.
            (queued_stop.clone(), &down, Kind::Stop, queued_stop.clone()),
            (queued_stop.clone(), &running, Kind::Stop, new_stop.clone()),
        ];
        for (before, s, kind, after) in cases {
            let mut job = Job {
                queued: before.clone(),
                ..Job::default()
            };
            match kind {
                Kind::Start => job.start(s, Origin::Restarted, "later"),
                Kind::Stop => job.stop(s, stop("later")),
            }
            assert_eq!(job.queued, after, "{before:?} on {:?} + {kind:?}", s.active);
        }
    }

    #[test]
    fn a_start_is_needed_while_a_stop_is_in_flight_and_a_stop_while_unsettled() {
        let running = snap(ActiveState::Active, 3);
        let mut job = Job {
            stopping: Some(3),
            issued: 3,
            ..Job::default()
        };
        job.start(&running, Origin::Started, "manual");
        assert!(job.start_queued(), "the unit is being stopped: {job:?}");
        let down = snap(ActiveState::Inactive, 4);
        let mut job = Job {
            issued: 5,
            ..Job::default()
        };
        job.stop(&down, stop("x"));
        assert!(job.stop_queued(), "a command is still in flight: {job:?}");
    }

    #[test]
    fn a_stop_in_flight_ends_when_handled_and_down_or_overtaken() {
        let cases = [
            // (stop seq, reported state, reported ack, still stopping)
            (4, ActiveState::Deactivating, 3, true),
            (4, ActiveState::Deactivating, 4, true),
            (4, ActiveState::Inactive, 4, false),
            (4, ActiveState::Failed, 4, false),
            (4, ActiveState::Activating, 5, false),
            (4, ActiveState::Inactive, 3, true),
        ];
        for (seq, active, ack, still) in cases {
            let mut job = Job {
                stopping: Some(seq),
                ..Job::default()
            };
            job.on_report(&snap(active, ack));
            assert_eq!(job.stopping.is_some(), still, "{active:?} ack {ack}");
        }
    }
}
