//! Prompt TCP/HTTP readiness without hammering the service: one shared task
//! asks the kernel for LISTEN sockets (netlink sock_diag) about every
//! millisecond, only while at least
//! one unit waits for a port, and wakes the waiters whose port appeared in
//! LISTEN state. One read serves every waiter, so the cost does not grow
//! with the number of units. The probe then confirms with a real check.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use devctl_units::ProbeCheck;
use tokio::sync::oneshot;

use crate::process::listening_ports;

const SCAN_EVERY: Duration = Duration::from_millis(1);

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

#[derive(Debug, Default)]
struct State {
    waiters: Vec<(u16, oneshot::Sender<()>)>,
    running: bool,
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
    /// A watcher; its task runs only while someone waits.
    pub fn new() -> ListenWatcher {
        ListenWatcher::default()
    }

    /// Table reads done so far (the cost, for tests and metrics).
    pub fn scans(&self) -> u64 {
        self.inner.scans.load(Ordering::Relaxed)
    }

    /// Resolve once `port` is in LISTEN state (at once if it already is).
    /// Cancel-safe: a dropped wait is forgotten at the next scan.
    pub async fn wait_listening(&self, port: u16) {
        if listening_ports().contains(&port) {
            return;
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            st.waiters.push((port, tx));
            if !st.running {
                st.running = true;
                tokio::spawn(run(self.inner.clone()));
            }
        }
        // The sender is only dropped after sending, or when its task
        // stops, which it does only without waiters.
        let _ = rx.await;
    }
}

async fn run(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(SCAN_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let ports = listening_ports();
        inner.scans.fetch_add(1, Ordering::Relaxed);
        let mut st = inner.state.lock().unwrap_or_else(|p| p.into_inner());
        let waiters = std::mem::take(&mut st.waiters);
        for (port, tx) in waiters {
            if tx.is_closed() {
                continue;
            }
            if ports.contains(&port) {
                let _ = tx.send(());
            } else {
                st.waiters.push((port, tx));
            }
        }
        if st.waiters.is_empty() {
            st.running = false;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
