//! Prompt TCP/HTTP readiness without hammering the service: one shared
//! thread asks the kernel for the LISTEN sockets on the waited ports
//! (netlink sock_diag with a port filter, one socket kept open), only
//! while at least one unit waits for a port, and wakes the waiters whose
//! port appeared in LISTEN state. One read serves every waiter, so the
//! cost barely grows with the number of units: the kernel walks every
//! listener, but describes only the waited ones. The probe then confirms
//! with a real check.
//!
//! A thread, not a tokio task: tokio's timers tick in milliseconds, which
//! put about a millisecond between a `listen()` and its detection. Here a
//! scan follows every [`SCAN_FAST`] during a wait's first [`FAST_FOR`]
//! (most services listen within it), then every [`SCAN_SLOW`]; and a scan
//! never takes more than a quarter of the thread's time (thousands of
//! listeners make a scan slower, and scans are then spaced out).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use devctl_units::ProbeCheck;
use tokio::sync::oneshot;

use crate::process::ListenScanner;

/// Time between scans during a wait's first [`FAST_FOR`].
pub const SCAN_FAST: Duration = Duration::from_micros(200);
/// Time between scans once every wait is older than [`FAST_FOR`].
pub const SCAN_SLOW: Duration = Duration::from_millis(1);
/// How long after a wait begins its port is scanned for at [`SCAN_FAST`].
pub const FAST_FOR: Duration = Duration::from_secs(2);

/// The pause after a scan that took `cost`, the newest wait having begun
/// `age` ago: fast while young, and at least three times the scan's
/// cost (a scan takes at most a quarter of the time). Pure.
pub fn pause(age: Duration, cost: Duration) -> Duration {
    let base = if age < FAST_FOR { SCAN_FAST } else { SCAN_SLOW };
    base.max(cost.saturating_mul(3))
}

/// The port a TCP or HTTP check connects to.
pub fn listen_port(check: &ProbeCheck) -> Option<u16> {
    match check {
        ProbeCheck::Tcp { port, .. } => Some(*port),
        ProbeCheck::Http { url, .. } => {
            let uri: hyper::Uri = url.parse().ok()?;
            (uri.scheme_str() == Some("http")).then(|| uri.port_u16().unwrap_or(80))
        }
        _ => None,
    }
}

#[derive(Debug)]
struct State {
    /// Each wait's port, and where the port's LISTEN sockets go once seen.
    waiters: Vec<(u16, oneshot::Sender<Vec<u64>>)>,
    running: bool,
    /// When the newest wait began.
    newest: Instant,
}

impl Default for State {
    fn default() -> State {
        State {
            waiters: Vec::new(),
            running: false,
            newest: Instant::now(),
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    state: Mutex<State>,
    scans: AtomicU64,
}

/// Cloneable handle to the shared watcher.
#[derive(Debug, Clone, Default)]
pub struct ListenWatcher {
    inner: Arc<Inner>,
}

impl ListenWatcher {
    /// A watcher; its thread runs only while someone waits.
    pub fn new() -> ListenWatcher {
        ListenWatcher::default()
    }

    /// Table reads done so far (the cost, for tests and metrics).
    pub fn scans(&self) -> u64 {
        self.inner.scans.load(Ordering::Relaxed)
    }

    /// Resolve once `port` is in LISTEN state (at the next scan if it
    /// already is: within [`SCAN_FAST`] of a new wait, or of the thread's
    /// start), with the inodes of the LISTEN sockets the scan found on it.
    /// There is no separate first look: a probe waits again after every
    /// check, and a query per wait on top of the shared scans cost more
    /// than the scans when a thousand units start at once.
    /// Cancel-safe: a dropped wait is forgotten at the next scan.
    pub async fn wait_listening(&self, port: u16) -> Vec<u64> {
        let (tx, rx) = oneshot::channel();
        let watched = {
            let mut st = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            st.waiters.push((port, tx));
            st.newest = Instant::now();
            if st.running {
                true
            } else {
                let inner = self.inner.clone();
                let spawned = std::thread::Builder::new()
                    .name("devctl-listen".into())
                    .stack_size(128 << 10)
                    .spawn(move || run(&inner));
                st.running = spawned.is_ok();
                if let Err(e) = spawned {
                    tracing::warn!("cannot start the listen watcher: {e}");
                    st.waiters.pop();
                }
                st.running
            }
        };
        if !watched {
            // The wait then ends at the probe's own schedule.
            return std::future::pending().await;
        }
        // The sender is only dropped after sending, or when its thread
        // stops, which it does only without waiters.
        rx.await.unwrap_or_default()
    }
}

/// The watcher thread's timer slack. A sleep may end up to the slack
/// late, and the default (50 µs) would stretch every [`SCAN_FAST`] pause
/// by a quarter.
const TIMER_SLACK_NS: u64 = 1_000;

fn run(inner: &Inner) {
    if let Err(e) = nix::sys::prctl::set_timerslack(TIMER_SLACK_NS) {
        tracing::debug!(error = %e, "cannot set the listen watcher's timer slack");
    }
    let mut scanner = ListenScanner::default();
    let mut listening = vec![false; 1 << 16];
    let mut ports = Vec::new();
    loop {
        ports.clear();
        {
            let st = inner.state.lock().unwrap_or_else(|p| p.into_inner());
            ports.extend(st.waiters.iter().map(|(port, _)| *port));
        }
        let began = Instant::now();
        let found = scanner.scan(&ports);
        for (port, _) in found {
            listening[usize::from(*port)] = true;
        }
        let cost = began.elapsed();
        inner.scans.fetch_add(1, Ordering::Relaxed);
        let newest = {
            let mut st = inner.state.lock().unwrap_or_else(|p| p.into_inner());
            let waiters = std::mem::take(&mut st.waiters);
            for (port, tx) in waiters {
                if tx.is_closed() {
                    continue;
                }
                if listening[usize::from(port)] {
                    let sockets = found
                        .iter()
                        .filter(|(p, _)| *p == port)
                        .map(|(_, inode)| *inode)
                        .collect();
                    let _ = tx.send(sockets);
                } else {
                    st.waiters.push((port, tx));
                }
            }
            if st.waiters.is_empty() {
                st.running = false;
                return;
            }
            st.newest
        };
        for (port, _) in found {
            listening[usize::from(*port)] = false;
        }
        std::thread::sleep(pause(newest.elapsed(), cost));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_test_support::net::free_port;

    #[test]
    fn pauses_are_fast_while_young_and_bounded_by_the_scan_cost() {
        let us = Duration::from_micros;
        assert_eq!(pause(Duration::ZERO, us(10)), SCAN_FAST);
        assert_eq!(pause(FAST_FOR, us(10)), SCAN_SLOW);
        // A costly scan (thousands of listeners) is followed by three times
        // its cost, young wait or not.
        assert_eq!(pause(Duration::ZERO, us(500)), us(1500));
        assert_eq!(pause(FAST_FOR * 2, us(500)), us(1500));
    }

    /// Waits until the watcher's thread is gone (no scans for a while).
    fn settles(w: &ListenWatcher) -> bool {
        for _ in 0..100 {
            let before = w.scans();
            std::thread::sleep(Duration::from_millis(20));
            let running = w.inner.state.lock().unwrap().running;
            if !running && w.scans() == before {
                return true;
            }
        }
        false
    }

    #[tokio::test]
    async fn a_late_listen_is_seen_promptly_and_the_thread_then_stops() {
        let port = free_port();
        let w = ListenWatcher::new();
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            let l = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
            (Instant::now(), l)
        });
        tokio::time::timeout(Duration::from_secs(5), w.wait_listening(port))
            .await
            .expect("the listen is seen");
        let seen = Instant::now();
        let (listened, _l) = late.join().unwrap();
        assert!(seen >= listened);
        assert!(w.scans() > 0, "it was found by a scan");
        // Nobody waits any more: no thread, no scans (an idle daemon does
        // not poll).
        assert!(settles(&w), "the watcher keeps scanning with no waiter");
    }

    /// The timer slack of this process's thread named `name`, if any.
    fn slack_of(name: &str) -> Option<u64> {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(Result::ok)
            .find(|t| {
                std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == name)
            })
            // Per thread, the file is only under /proc/<tid>.
            .and_then(|t| {
                let tid = t.file_name().into_string().ok()?;
                std::fs::read_to_string(format!("/proc/{tid}/timerslack_ns")).ok()
            })
            .and_then(|v| v.trim().parse().ok())
    }

    #[tokio::test]
    async fn the_scanning_thread_sleeps_with_a_fine_timer_slack() {
        let port = free_port();
        let w = ListenWatcher::new();
        let waiting = tokio::spawn({
            let w = w.clone();
            async move { w.wait_listening(port).await }
        });
        let mut slack = None;
        for _ in 0..200 {
            slack = slack_of("devctl-listen");
            if slack == Some(TIMER_SLACK_NS) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(
            slack,
            Some(TIMER_SLACK_NS),
            "the thread keeps the default slack"
        );
        waiting.abort();
        assert!(waiting.await.unwrap_err().is_cancelled());
        assert!(settles(&w), "a cancelled wait left the watcher scanning");
    }

    #[tokio::test]
    async fn a_dropped_wait_stops_the_scans() {
        let port = free_port();
        let w = ListenWatcher::new();
        let r = tokio::time::timeout(Duration::from_millis(30), w.wait_listening(port)).await;
        assert!(r.is_err(), "nothing listens on {port}");
        assert!(w.scans() > 0);
        assert!(settles(&w), "a cancelled wait left the watcher scanning");
    }

    #[test]
    fn ports_of_checks() {
        assert_eq!(
            listen_port(&ProbeCheck::Tcp {
                host: "localhost".into(),
                port: 5432
            }),
            Some(5432)
        );
        let http = |url: &str| ProbeCheck::Http {
            url: url.into(),
            status: None,
        };
        assert_eq!(
            listen_port(&http("http://127.0.0.1:8080/health")),
            Some(8080)
        );
        assert_eq!(listen_port(&http("http://localhost/")), Some(80));
        assert_eq!(listen_port(&http("https://localhost/")), None);
        assert_eq!(listen_port(&http("::not a url")), None);
        assert_eq!(listen_port(&ProbeCheck::Notify), None);
    }
}
