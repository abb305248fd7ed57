//! Self-retrigger detection as pure data. A unit whose own runs keep
//! changing its watched files (a build writing into its inputs, a server
//! rewriting a watched config at start) would otherwise loop forever.
//! [`RunWindow`] records when the unit's current run began and settled;
//! a change whose first event falls inside that window (plus a short
//! grace) was probably written by the run. [`LoopGuard`] counts runs in a
//! row that were each followed by such a change and trips at a threshold:
//! the caller then pauses auto-triggering until the next manual trigger.

use std::time::{Duration, Instant};

/// Changes arriving this long after a run settled still count as its own.
pub const SETTLE_GRACE: Duration = Duration::from_millis(500);

/// Consecutive self-caused re-runs that count as a loop.
pub const LOOP_THRESHOLD: u32 = 3;

/// When the unit's latest run began and (if it has) settled, and the
/// run before it: a change written by one run may only arrive after the
/// next (queued) run has begun.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunWindow {
    began: Option<Instant>,
    settled: Option<Instant>,
    previous: Option<(Instant, Instant)>,
}

impl RunWindow {
    /// A run began (spawned / building / starting).
    pub fn begin(&mut self, at: Instant) {
        if let Some(b) = self.began {
            self.previous = Some((b, self.settled.unwrap_or(at)));
        }
        self.began = Some(at);
        self.settled = None;
    }

    /// The run settled (build finished, service running or ready, or stopped).
    pub fn settle(&mut self, at: Instant) {
        if self.began.is_some() && self.settled.is_none() {
            self.settled = Some(at);
        }
    }

    /// Whether the current run began after `t`: a change made then is
    /// already in it.
    pub fn began_after(&self, t: Instant) -> bool {
        self.began.is_some_and(|b| b > t)
    }

    /// Whether a change first seen at `t` happened during the run (or
    /// within `grace` after it settled).
    pub fn covers(&self, t: Instant, grace: Duration) -> bool {
        let current = match (self.began, self.settled) {
            (Some(b), None) => t >= b,
            (Some(b), Some(s)) => t >= b && t <= s + grace,
            _ => false,
        };
        current || self.previous.is_some_and(|(b, s)| t >= b && t <= s + grace)
    }
}

/// What to do with a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Trigger a run.
    Run,
    /// The loop was just detected: report it and do not run.
    Tripped,
    /// Auto-trigger is paused after a detected loop: record the change only.
    Paused,
}

/// Counts consecutive self-caused triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopGuard {
    threshold: u32,
    streak: u32,
    paused: bool,
}

impl Default for LoopGuard {
    fn default() -> Self {
        LoopGuard::new(LOOP_THRESHOLD)
    }
}

impl LoopGuard {
    /// A guard tripping after `threshold` self-caused runs in a row (at least 1).
    pub fn new(threshold: u32) -> LoopGuard {
        LoopGuard {
            threshold: threshold.max(1),
            streak: 0,
            paused: false,
        }
    }

    /// A change arrived; `self_caused` when the unit's own run wrote it.
    pub fn on_change(&mut self, self_caused: bool) -> Verdict {
        if self.paused {
            return Verdict::Paused;
        }
        if !self_caused {
            self.streak = 0;
            return Verdict::Run;
        }
        self.streak += 1;
        if self.streak >= self.threshold {
            self.paused = true;
            self.streak = 0;
            Verdict::Tripped
        } else {
            Verdict::Run
        }
    }

    /// A manual trigger: forget the streak and resume auto-triggering.
    pub fn reset(&mut self) {
        self.streak = 0;
        self.paused = false;
    }

    /// Auto-trigger is paused.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Self-caused runs in a row so far.
    pub fn streak(&self) -> u32 {
        self.streak
    }
}
