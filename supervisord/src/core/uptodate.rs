//! The up-to-date gate's rules, pure: what a run message to a build
//! becomes once its inputs are fingerprinted ([`verdict`]), and the table
//! of messages held back while their check runs elsewhere ([`Holds`]).
//! The manager (`core/manager/uptodate.rs`) runs the checks on blocking
//! threads and applies these; nothing here has a channel, clock or I/O.
//!
//! A held message is numbered (its job sequence number is already the
//! unit's `issued`), so until it goes out the unit counts as pending:
//! dependents wait and parked answers stay parked, as they would while
//! the actor handles it. A check's result is applied only to the message
//! it was started for: a newer message for the unit releases the held
//! one first (checked on the spot, so the actor sees them in order), and
//! the late result then finds nothing held under its token.

use std::collections::BTreeMap;
use std::sync::Arc;

use devctl_units::{ProjectName, UnitName};

use crate::state::fingerprints::{Inputs, Success};

type Key = (ProjectName, UnitName);

/// What a checked run message becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send it as it is; the run starts on these inputs (none: the build
    /// declares no usable inputs, nothing will be recorded).
    Run(Option<Arc<Inputs>>),
    /// A start on the inputs of the last success: answer it with that
    /// success (`since_ms`) instead of running. `settled`: the same
    /// content with newer stamps (files hashed again because they were
    /// too fresh to trust last time), to keep so the next check only
    /// stats them.
    UpToDate {
        since_ms: u64,
        settled: Option<Arc<Inputs>>,
    },
}

/// Decide a run message: only a plain start (`is_start`, not `forced` by
/// `--force`) on inputs whose digest equals the last success's is
/// skipped; restarts and triggers always run.
pub fn verdict(
    is_start: bool,
    forced: bool,
    last: Option<&Success>,
    now: Option<Arc<Inputs>>,
) -> Verdict {
    match (now, last) {
        (Some(now), Some(last)) if is_start && !forced && now.digest == last.inputs.digest => {
            let same = Arc::ptr_eq(&now, &last.inputs) || now.files == last.inputs.files;
            Verdict::UpToDate {
                since_ms: last.at_ms,
                settled: (!same).then_some(now),
            }
        }
        (now, _) => Verdict::Run(now),
    }
}

/// Messages held back while their unit's check runs, at most one per
/// unit, each under a token that its check's result must carry.
#[derive(Debug)]
pub struct Holds<T> {
    held: BTreeMap<Key, (u64, T)>,
    next: u64,
}

impl<T> Default for Holds<T> {
    fn default() -> Self {
        Holds {
            held: BTreeMap::new(),
            next: 0,
        }
    }
}

impl<T> Holds<T> {
    /// Hold `item` for `key` and return the token of its check. The
    /// caller releases whatever `key` held before (see [`Holds::release`]).
    pub fn hold(&mut self, key: Key, item: T) -> u64 {
        debug_assert!(!self.held.contains_key(&key), "one held message per unit");
        self.next += 1;
        self.held.insert(key, (self.next, item));
        self.next
    }

    /// A newer message for `key` is going out: the held one must go
    /// first, without waiting for its check's result.
    pub fn release(&mut self, key: &Key) -> Option<T> {
        self.held.remove(key).map(|(_, t)| t)
    }

    /// A check's result arrived: the held item it was started for, or
    /// `None` when that was released meanwhile (the result is stale).
    pub fn answer(&mut self, key: &Key, token: u64) -> Option<T> {
        match self.held.get(key) {
            Some((t, _)) if *t == token => self.held.remove(key).map(|(_, t)| t),
            _ => None,
        }
    }

    /// Every held item (a re-exec sends them all before freezing).
    pub fn drain(&mut self) -> Vec<(Key, T)> {
        std::mem::take(&mut self.held)
            .into_iter()
            .map(|(k, (_, t))| (k, t))
            .collect()
    }

    /// Whether nothing is held at all (every message to an actor asks).
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Whether anything is held for `key`.
    pub fn holds(&self, key: &Key) -> bool {
        self.held.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fingerprints::FileStamp;

    fn key(u: &str) -> Key {
        (ProjectName::new("p").unwrap(), UnitName::new(u).unwrap())
    }

    fn inputs(digest: &str, hashed_ns: i128) -> Inputs {
        let stamp = FileStamp {
            size: 1,
            mtime_ns: 0,
            ino: 1,
            sha256: "h".into(),
            hashed_ns,
        };
        Inputs {
            digest: digest.into(),
            files: [("a".to_string(), stamp)].into(),
        }
    }

    #[test]
    fn only_an_unforced_start_on_unchanged_inputs_is_skipped() {
        let last = Success {
            inputs: Arc::new(inputs("d1", 5)),
            at_ms: 42,
        };
        let same = || Some(Arc::new(inputs("d1", 5)));
        let skipped = Verdict::UpToDate {
            since_ms: 42,
            settled: None,
        };
        // (start, forced, last, now) → verdict
        let rows = [
            (true, false, Some(&last), same(), skipped.clone()),
            (true, true, Some(&last), same(), Verdict::Run(same())),
            (false, false, Some(&last), same(), Verdict::Run(same())),
            (true, false, None, same(), Verdict::Run(same())),
            (
                true,
                false,
                Some(&last),
                Some(Arc::new(inputs("d2", 5))),
                Verdict::Run(Some(Arc::new(inputs("d2", 5)))),
            ),
            (true, false, Some(&last), None, Verdict::Run(None)),
        ];
        for (start, forced, last, now, want) in rows {
            assert_eq!(verdict(start, forced, last, now), want, "{start} {forced}");
        }
        // The very inputs of the last success (the check found nothing
        // new): skipped, nothing to keep.
        assert_eq!(
            verdict(true, false, Some(&last), Some(last.inputs.clone())),
            skipped
        );
        // Same content, newer stamps: skipped, and the stamps kept.
        let newer = Arc::new(inputs("d1", 9));
        assert_eq!(
            verdict(true, false, Some(&last), Some(newer.clone())),
            Verdict::UpToDate {
                since_ms: 42,
                settled: Some(newer)
            }
        );
    }

    #[test]
    fn a_result_for_a_released_message_is_stale() {
        let mut h = Holds::default();
        let first = h.hold(key("b"), "start 10");
        // A stop for `b` goes out before the check ends: the start is
        // released first (and checked on the spot by the manager).
        assert_eq!(h.release(&key("b")), Some("start 10"));
        let second = h.hold(key("b"), "trigger 12");
        // The first check's result, late, finds nothing of its own.
        assert_eq!(h.answer(&key("b"), first), None);
        assert!(h.holds(&key("b")));
        assert_eq!(h.answer(&key("b"), second), Some("trigger 12"));
        assert_eq!(h.answer(&key("b"), second), None);
        assert_eq!(h.release(&key("b")), None);
    }

    #[test]
    fn units_hold_apart_and_drain_together() {
        let mut h = Holds::default();
        let a = h.hold(key("a"), 1);
        let b = h.hold(key("b"), 2);
        assert_ne!(a, b);
        assert_eq!(h.answer(&key("a"), b), None);
        assert_eq!(h.drain(), vec![(key("a"), 1), (key("b"), 2)]);
        assert_eq!(h.answer(&key("a"), a), None);
    }
}
