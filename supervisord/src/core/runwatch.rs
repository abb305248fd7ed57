//! The watchers of one run of a unit, each a task telling the unit actor
//! what it saw (tagged with the run, so the actor drops stale news):
//!
//! - the readiness probe through `probe::check`: TCP/HTTP on a
//!   `probe::ReadinessSchedule` (fast retries from a few milliseconds up to
//!   the period while starting, woken by the daemon's one shared
//!   `ListenWatcher` the moment the port listens), exec after its initial
//!   delay then every period; once the unit was ready, every period;
//! - the liveness probe, every period after its initial delay;
//! - the log-readiness matcher (`probe::LogMatcher`) and, for builds with an
//!   idle timeout, an output-activity follower, both subscribed to the
//!   unit's log before the run's processes exist, so no line is missed.
//!
//! Checks of one probe never overlap (each loop awaits its check). Dropping
//! the [`RunWatch`] ends every task; a check already in flight finishes
//! first (so an exec probe's tree is always cleaned up by `probe::check`)
//! and its result is then discarded.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until};

use devctl_units::{Probe, ProbeCheck, Unit, UnitKind};

use crate::core::notes::NoteTx;

use crate::logs::{FollowEvent, LogFollower, Stream, UnitLog};
use crate::probe::{self, ListenWatcher, LogMatcher, ProbeCtx, ReadinessSchedule};
use crate::process::Sighting;

pub use crate::core::notes::{ProbeKind, Seen};

/// Longest gap between two `Output` sightings while output flows.
const OUTPUT_EVERY: Duration = Duration::from_millis(100);

/// One run's watchers; dropping it stops them.
#[derive(Debug)]
pub struct RunWatch {
    run: u64,
    tx: NoteTx<Seen>,
    /// `true` once the unit was ready (probes then run at their period);
    /// closed when the run ends.
    settled: watch::Sender<bool>,
    /// Log followers (no processes: aborted on drop).
    followers: Vec<JoinHandle<()>>,
}

impl RunWatch {
    /// Subscribe the run's log followers; call before spawning.
    pub fn before_spawn(unit: &Unit, log: &UnitLog, run: u64, tx: NoteTx<Seen>) -> RunWatch {
        let mut followers = Vec::new();
        if let Some(ProbeCheck::Log { regex }) = unit.ready.as_ref().map(|p| &p.check) {
            match LogMatcher::new(regex) {
                Ok(m) => {
                    let (mut follower, tx) = (log.subscribe(), tx.clone());
                    followers.push(tokio::spawn(async move {
                        if let Some(line) = m.wait(&mut follower).await {
                            let _ = tx.send((run, Seen::LogMatched(line.text.to_string())));
                        }
                    }));
                }
                Err(e) => log.marker(format!("log readiness pattern does not compile: {e}")),
            }
        }
        if let (UnitKind::Build, Some(idle)) = (unit.kind, unit.idle_timeout) {
            let every = (idle / 10).min(OUTPUT_EVERY);
            followers.push(tokio::spawn(activity(
                log.subscribe(),
                every,
                run,
                tx.clone(),
            )));
        }
        let (settled, _) = watch::channel(false);
        RunWatch {
            run,
            tx,
            settled,
            followers,
        }
    }

    /// Start the run's polled probes (after the spawn).
    pub fn start_probes(&mut self, unit: &Unit, ctx: ProbeCtx, listen: &ListenWatcher) {
        if unit.kind != UnitKind::Build
            && let Some(p) = unit.ready.as_ref().filter(|p| polled(&p.check))
        {
            tokio::spawn(readiness(
                p.clone(),
                ctx.clone(),
                listen.clone(),
                self.settled.subscribe(),
                self.run,
                self.tx.clone(),
            ));
        }
        if let Some(p) = unit.alive.as_ref().filter(|p| polled(&p.check)) {
            tokio::spawn(liveness(
                p.clone(),
                ctx,
                self.settled.subscribe(),
                self.run,
                self.tx.clone(),
            ));
        }
    }

    /// The unit became ready: readiness checks go to their period.
    pub fn settled(&self) {
        self.settled.send_replace(true);
    }
}

impl Drop for RunWatch {
    fn drop(&mut self) {
        for f in &self.followers {
            f.abort();
        }
    }
}

/// Checks the daemon runs (log and notify are event-driven).
fn polled(check: &ProbeCheck) -> bool {
    !matches!(check, ProbeCheck::Log { .. } | ProbeCheck::Notify)
}

async fn readiness(
    probe: Probe,
    ctx: ProbeCtx,
    listen: ListenWatcher,
    mut settled: watch::Receiver<bool>,
    run: u64,
    tx: NoteTx<Seen>,
) {
    let mut schedule = ReadinessSchedule::new(&probe);
    // TCP/HTTP retry fast and are woken by the listen; exec spawns a
    // process per check, so it keeps to its period.
    let fast = probe::listen_port(&probe.check).is_some();
    let mut first = true;
    // The port's LISTEN sockets as the listen watcher or the last check
    // saw them. Every check of the run starts from them, the ones after
    // readiness too (they follow every period): while the unit's child
    // still holds one, the listener is settled without asking the kernel,
    // by reading the fd link it was last found on.
    let mut known = Sighting::default();
    loop {
        let is_settled = *settled.borrow_and_update();
        let turn = async {
            if is_settled || (!fast && !first) {
                sleep(probe.period).await;
                Vec::new()
            } else if !fast {
                sleep(probe.initial_delay).await;
                Vec::new()
            } else {
                schedule.wait(&listen).await
            }
        };
        tokio::select! {
            sockets = turn => {
                first = false;
                if !sockets.is_empty() {
                    known.see(sockets);
                }
            }
            changed = settled.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
        }
        let outcome = probe::check_seen(&probe.check, probe.timeout, &ctx, &mut known).await;
        if settled.has_changed().is_err()
            || tx
                .send((run, Seen::Probe(ProbeKind::Ready, outcome)))
                .is_err()
        {
            return;
        }
    }
}

async fn liveness(
    probe: Probe,
    ctx: ProbeCtx,
    mut settled: watch::Receiver<bool>,
    run: u64,
    tx: NoteTx<Seen>,
) {
    let mut next = Instant::now() + probe.initial_delay + probe.period;
    // The port's LISTEN sockets the last check confirmed as the unit's
    // (as in `readiness`: a check every period reads only the unit's fds).
    let mut known = Sighting::default();
    loop {
        tokio::select! {
            () = sleep_until(next) => {}
            changed = settled.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
        }
        let outcome = probe::check_seen(&probe.check, probe.timeout, &ctx, &mut known).await;
        if settled.has_changed().is_err()
            || tx
                .send((run, Seen::Probe(ProbeKind::Alive, outcome)))
                .is_err()
        {
            return;
        }
        next = Instant::now() + probe.period;
    }
}

/// Report output activity at most every `every` (a lagging follower's
/// missed lines were output too).
async fn activity(mut follower: LogFollower, every: Duration, run: u64, tx: NoteTx<Seen>) {
    let mut last: Option<Instant> = None;
    while let Some(ev) = follower.next().await {
        let output = match ev {
            FollowEvent::Line(l) => l.stream != Stream::Marker,
            FollowEvent::Missed(_) => true,
        };
        if output && last.is_none_or(|t| t.elapsed() >= every) {
            last = Some(Instant::now());
            if tx.send((run, Seen::Output)).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{LogLimits, LogStore};
    use devctl_units::{ProjectName, UnitName};

    fn unit(kind: UnitKind) -> Unit {
        Unit::new(
            ProjectName::new("p").unwrap(),
            UnitName::new("u").unwrap(),
            kind,
            "/tmp".into(),
        )
    }

    #[tokio::test]
    async fn log_followers_see_lines_written_after_subscribing() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path().into(), LogLimits::default()).unwrap();
        let log = store.unit("p", "u");
        let (tx, mut rx) = crate::core::notes::channel();
        let mut u = unit(UnitKind::Service);
        u.ready = Some(Probe::readiness(ProbeCheck::Log {
            regex: r"listening on :\d+".into(),
        }));
        let w = RunWatch::before_spawn(&u, &log, 7, tx.clone());
        log.marker("listening on :1 (a marker never matches)");
        log.write(Stream::Stdout, "booting");
        log.write(Stream::Stderr, "listening on :8080");
        assert_eq!(
            rx.recv().await.unwrap(),
            (7, Seen::LogMatched("listening on :8080".into()))
        );
        drop(w);

        let mut b = unit(UnitKind::Build);
        b.idle_timeout = Some(Duration::from_secs(1));
        let _w = RunWatch::before_spawn(&b, &log, 8, tx.clone());
        log.marker("markers are not output");
        log.write(Stream::Stdout, "compiling");
        assert_eq!(rx.recv().await.unwrap(), (8, Seen::Output));

        let mut bad = unit(UnitKind::Service);
        bad.ready = Some(Probe::readiness(ProbeCheck::Log {
            regex: "(unclosed".into(),
        }));
        let w = RunWatch::before_spawn(&bad, &log, 9, tx);
        assert!(w.followers.is_empty());
        assert!(log.tail(1)[0].text.contains("does not compile"));
    }

    /// Virtual milliseconds of each result until `until` readiness results.
    async fn timeline(
        rx: &mut crate::core::notes::NoteRx<Seen>,
        t0: Instant,
        until: usize,
        mut on_ready: impl FnMut(usize),
    ) -> (Vec<u64>, Vec<u64>) {
        let (mut ready, mut alive) = (Vec::new(), Vec::new());
        while ready.len() < until {
            let (run, seen) = rx.recv().await.unwrap();
            assert_eq!(run, 3);
            let ms = t0.elapsed().as_millis() as u64;
            match seen {
                Seen::Probe(ProbeKind::Ready, o) => {
                    assert!(!o.is_success(), "nothing listens: {o:?}");
                    ready.push(ms);
                    on_ready(ready.len());
                }
                Seen::Probe(ProbeKind::Alive, _) => alive.push(ms),
                other => panic!("unexpected {other:?}"),
            }
        }
        (ready, alive)
    }

    fn near(got: &[u64], want: &[u64]) -> bool {
        got.len() >= want.len() && got.iter().zip(want).all(|(g, w)| g.abs_diff(*w) <= 3)
    }

    #[tokio::test(start_paused = true)]
    async fn tcp_readiness_retries_fast_until_ready_then_keeps_to_the_period() {
        let reaper = crate::process::Reaper::install().unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let check = ProbeCheck::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        let mut u = unit(UnitKind::Service);
        u.ready = Some(Probe {
            period: Duration::from_secs(10),
            ..Probe::readiness(check.clone())
        });
        u.alive = Some(Probe {
            period: Duration::from_secs(3),
            initial_delay: Duration::from_secs(2),
            ..Probe::liveness(check)
        });
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path().into(), LogLimits::default()).unwrap();
        let (tx, mut rx) = crate::core::notes::channel();
        let mut w = RunWatch::before_spawn(&u, &store.unit("p", "u"), 3, tx);
        let ctx = ProbeCtx {
            reaper,
            dir: "/".into(),
            env: std::sync::Arc::from([]),
            unit_marker: None,
        };
        let t0 = Instant::now();
        w.start_probes(&u, ctx, &ListenWatcher::new());
        // Ready after the fifth check: the next one waits a whole period.
        let (ready, alive) = timeline(&mut rx, t0, 6, |n| {
            if n == 5 {
                w.settled();
            }
        })
        .await;
        assert!(near(&ready, &[0, 5, 15, 35, 75, 10_075]), "{ready:?}");
        assert!(near(&alive, &[5_000, 8_000]), "liveness: {alive:?}");
        drop(w);
        let rest = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await;
        assert_eq!(rest, Ok(None), "the watchers end with the run");
    }

    #[test]
    fn only_exec_http_tcp_are_polled() {
        assert!(polled(&ProbeCheck::Exec(vec!["true".into()])));
        assert!(polled(&ProbeCheck::Tcp {
            host: "127.0.0.1".into(),
            port: 1
        }));
        assert!(!polled(&ProbeCheck::Notify));
        assert!(!polled(&ProbeCheck::Log { regex: "x".into() }));
    }
}
