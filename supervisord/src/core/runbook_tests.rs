//! The run book over synthetic reports: what each sequence of states
//! records, with a real store in a temporary directory.

use std::sync::Arc;
use std::time::Instant;

use devctl_units::api::runs::{RunQuery, RunRecord, RunTrigger, VerbSource};
use devctl_units::api::{ExitInfo, JobVerb};
use devctl_units::state::{ActiveState, SubState, UnitResult};
use devctl_units::{ProjectName, UnitKind, UnitName};

use super::RunBook;
use crate::core::snapshot::Snapshot;
use crate::runs::{RunRetention, RunStore};

struct Book {
    book: RunBook,
    store: Arc<RunStore>,
    snap: Snapshot,
    _dir: tempfile::TempDir,
}

fn names() -> (ProjectName, UnitName) {
    (
        ProjectName::new("p").unwrap(),
        UnitName::new("api").unwrap(),
    )
}

impl Book {
    fn new() -> Book {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Arc::new(RunStore::open(&dir.path().join("runs.db"), RunRetention::default()).unwrap());
        Book {
            book: RunBook::new(Some(store.clone()), Arc::default()),
            store,
            snap: Snapshot::default(),
            _dir: dir,
        }
    }

    /// The unit reports `f(previous)`.
    fn report(&mut self, f: impl FnOnce(&mut Snapshot)) {
        let (p, u) = names();
        let old = self.snap.clone();
        f(&mut self.snap);
        let root = std::env::temp_dir();
        self.book.observe(
            &p,
            &u,
            UnitKind::Service,
            &root,
            &old,
            &self.snap,
            Instant::now(),
        );
    }

    /// Every run, oldest first.
    fn runs(&self) -> Vec<RunRecord> {
        self.store.flush();
        let mut runs = self.store.query(&RunQuery::default()).unwrap().runs;
        runs.reverse();
        runs
    }
}

fn spawned(s: &mut Snapshot, inv: &str) {
    s.active = ActiveState::Activating;
    s.sub = SubState::Starting;
    s.result = None;
    s.invocation = Some(inv.into());
}

fn running(s: &mut Snapshot) {
    s.active = ActiveState::Active;
    s.sub = SubState::Running;
}

#[test]
fn a_crash_and_a_restart_are_two_runs_the_second_caused_by_the_first_exit() {
    let mut b = Book::new();
    let (p, u) = names();
    let verb = RunTrigger::Verb {
        verb: JobVerb::Start,
        source: VerbSource::Cli,
    };
    b.book.note_cause(&p, &u, verb.clone());
    b.report(|s| spawned(s, "inv-a"));
    b.report(running);
    b.report(|s| {
        s.active = ActiveState::Activating;
        s.sub = SubState::Backoff;
        s.result = Some(UnitResult::ExitCode);
        s.restarts = 1;
        s.last_exit = Some(ExitInfo {
            code: Some(3),
            signal: None,
            at_ms: 1,
        });
    });
    b.report(|s| spawned(s, "inv-b"));
    b.report(|s| {
        s.active = ActiveState::Failed;
        s.sub = SubState::Failed;
        s.result = Some(UnitResult::Signal);
        s.invocation = None;
        s.last_exit = Some(ExitInfo {
            code: None,
            signal: Some(9),
            at_ms: 2,
        });
    });
    let runs = b.runs();
    assert_eq!(runs.len(), 2, "{runs:#?}");
    assert_eq!(runs[0].trigger, verb);
    assert_eq!(runs[0].invocation.as_deref(), Some("inv-a"));
    assert!(runs[0].ready_ms.is_some());
    assert_eq!(runs[0].result, Some(UnitResult::ExitCode));
    assert_eq!(runs[0].exit.and_then(|e| e.code), Some(3));
    assert!(matches!(
        &runs[1].trigger,
        RunTrigger::Restart { after, .. } if after.code == Some(3)
    ));
    assert_eq!(runs[1].invocation.as_deref(), Some("inv-b"));
    assert_eq!(runs[1].result, Some(UnitResult::Signal));
    assert_eq!(runs[1].exit.and_then(|e| e.signal), Some(9));
    assert!(runs.iter().all(|r| r.is_finished()));
    assert_eq!(b.book.current(&p, &u), None);
}

#[test]
fn a_run_that_never_spawns_is_queued_and_ended_at_once() {
    let mut b = Book::new();
    b.report(|s| {
        s.active = ActiveState::Failed;
        s.sub = SubState::Failed;
        s.result = Some(UnitResult::PortInUse);
    });
    let runs = b.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].result, Some(UnitResult::PortInUse));
    assert!(runs[0].spawned_ms.is_none() && runs[0].is_finished());
}

#[test]
fn a_stop_drops_a_cause_and_a_restart_ends_the_old_run_as_stopped() {
    let mut b = Book::new();
    let (p, u) = names();
    b.report(|s| spawned(s, "inv-a"));
    b.report(running);
    b.book.note_cause(&p, &u, RunTrigger::DefinitionChanged);
    b.report(|s| {
        s.active = ActiveState::Deactivating;
        s.sub = SubState::Stopping;
    });
    b.report(|s| spawned(s, "inv-b"));
    let runs = b.runs();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].result, Some(UnitResult::Success));
    assert_eq!(runs[1].trigger, RunTrigger::DefinitionChanged);
    assert_eq!(b.book.current(&p, &u), Some(&runs[1].id));
    b.book.note_cause(&p, &u, RunTrigger::Boot);
    b.book.drop_cause(&p, &u);
    assert!(!b.book.has_cause(&p, &u));
}
