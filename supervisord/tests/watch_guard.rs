//! The self-retrigger guard as pure data: run windows and the loop
//! counter, with explicit instants (no clock, no processes).

use std::time::{Duration, Instant};

use devctl_supervisord::watch::guard::{
    LOOP_THRESHOLD, LoopGuard, RunWindow, SETTLE_GRACE, Verdict,
};

#[test]
fn changes_before_the_current_run_began_are_in_it() {
    let t0 = Instant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let mut w = RunWindow::default();
    assert!(!w.began_after(ms(5)), "no run yet");
    w.begin(ms(10));
    assert!(w.began_after(ms(5)));
    assert!(!w.began_after(ms(10)));
    assert!(!w.began_after(ms(20)));
}

#[test]
fn a_window_covers_changes_during_the_run_and_a_grace_after() {
    let t0 = Instant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let mut w = RunWindow::default();
    assert!(!w.covers(ms(5), SETTLE_GRACE), "no run yet");
    w.begin(ms(10));
    assert!(!w.covers(ms(5), SETTLE_GRACE), "before the run");
    assert!(w.covers(ms(20), SETTLE_GRACE), "during an unsettled run");
    w.settle(ms(100));
    assert!(w.covers(ms(100), SETTLE_GRACE));
    assert!(w.covers(ms(100) + SETTLE_GRACE, SETTLE_GRACE));
    assert!(!w.covers(ms(101) + SETTLE_GRACE, SETTLE_GRACE));
    // Settling twice keeps the first settle time.
    w.settle(ms(5_000));
    assert!(!w.covers(ms(4_000), SETTLE_GRACE));
    w.begin(ms(6_000));
    assert!(w.covers(ms(9_000), SETTLE_GRACE));
    // The run before the current one still counts (a change it wrote
    // may arrive after a queued run began), the one before that not.
    assert!(w.covers(ms(50), SETTLE_GRACE));
    assert!(!w.covers(ms(3_000), SETTLE_GRACE));
    w.settle(ms(6_100));
    w.begin(ms(7_000));
    assert!(w.covers(ms(6_050), SETTLE_GRACE));
    assert!(!w.covers(ms(50), SETTLE_GRACE));
}

#[test]
fn an_unsettled_run_replaced_by_a_new_one_ends_where_it_began() {
    let t0 = Instant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let mut w = RunWindow::default();
    w.begin(ms(0));
    w.begin(ms(1_000));
    assert!(w.covers(ms(500), SETTLE_GRACE));
    assert!(w.covers(ms(1_400), SETTLE_GRACE));
}

#[test]
fn settle_without_begin_is_ignored() {
    let t0 = Instant::now();
    let mut w = RunWindow::default();
    w.settle(t0);
    assert_eq!(w, RunWindow::default());
}

#[test]
fn the_guard_trips_after_consecutive_self_caused_runs() {
    let mut g = LoopGuard::default();
    for _ in 1..LOOP_THRESHOLD {
        assert_eq!(g.on_change(true), Verdict::Run);
    }
    assert_eq!(g.on_change(true), Verdict::Tripped);
    assert!(g.paused());
    // Paused: nothing runs, whatever caused the change.
    assert_eq!(g.on_change(false), Verdict::Paused);
    assert_eq!(g.on_change(true), Verdict::Paused);
    g.reset();
    assert!(!g.paused());
    assert_eq!(g.on_change(true), Verdict::Run);
}

#[test]
fn an_outside_change_breaks_the_streak() {
    let mut g = LoopGuard::new(2);
    assert_eq!(g.on_change(true), Verdict::Run);
    assert_eq!(g.streak(), 1);
    assert_eq!(g.on_change(false), Verdict::Run);
    assert_eq!(g.streak(), 0);
    assert_eq!(g.on_change(true), Verdict::Run);
    assert_eq!(g.on_change(true), Verdict::Tripped);
    // A zero threshold is treated as one.
    let mut g = LoopGuard::new(0);
    assert_eq!(g.on_change(true), Verdict::Tripped);
}
