//! Live CPU and memory for open pages. Each page's event stream is a
//! [`Watch`]: the page names the running units it shows (rows in view and
//! the open detail; none while the page is hidden) with `POST
//! /events/{stream}/watch`. While some page names some unit, one task
//! samples the union every [`PERIOD`] and hands each page the figures of
//! its own units, the latest only (a page that reads slowly skips frames,
//! never queues them). When no page names any unit the task ends: no timer
//! runs and `/proc` is not read.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use devctl_units::api::runs::LiveUsage;
use devctl_units::{ProjectName, UnitName};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::core::handle::CoreApi;

/// How often the units in view are sampled.
pub const PERIOD: Duration = Duration::from_secs(2);
/// The shortest time between two samples: a page scrolling through rows
/// asks for new ones at most this often.
const MIN_GAP: Duration = Duration::from_millis(500);
/// Most units one page may name: more rows than any window shows.
pub const MAX_WATCHED: usize = 500;

type Key = (ProjectName, UnitName);

/// A unit of the `watch` request and of the `usage` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRef {
    pub project: ProjectName,
    pub unit: UnitName,
}

/// `POST /events/{stream}/watch`: the units the page shows now.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchRequest {
    pub units: Vec<UnitRef>,
}

/// One unit's figures in a `usage` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitUsage {
    pub project: ProjectName,
    pub unit: UnitName,
    pub usage: LiveUsage,
}

/// The `usage` event: every watched unit that runs something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageFrame {
    pub units: Vec<UnitUsage>,
}

/// Why a watch request was refused.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WatchError {
    #[error("no event stream {stream} is open")]
    #[diagnostic(
        code(devctld::dashboard::watch::stream),
        help("the page's event stream ended; it names its units again once it reconnects")
    )]
    UnknownStream { stream: u64 },
    #[error("a page may watch at most {MAX_WATCHED} units; it named {count}")]
    #[diagnostic(
        code(devctld::dashboard::watch::too_many),
        help("name only the rows in view")
    )]
    TooMany { count: usize },
}

struct Watcher {
    units: BTreeSet<Key>,
    frames: watch::Sender<Option<Bytes>>,
}

#[derive(Default)]
struct Hub {
    next: u64,
    watchers: HashMap<u64, Watcher>,
    /// The sampling task runs.
    sampling: bool,
    /// A unit was named that the last sample did not cover.
    fresh: bool,
}

impl Hub {
    fn union(&self) -> Vec<Key> {
        let all: BTreeSet<&Key> = self.watchers.values().flat_map(|w| &w.units).collect();
        all.into_iter().cloned().collect()
    }
}

/// Every open page's watch, and the sampler while one is needed.
#[derive(Clone)]
pub struct UsageHub<C> {
    core: C,
    hub: Arc<Mutex<Hub>>,
    wake: Arc<Notify>,
    period: Duration,
}

/// One page's registration; dropping it (the event stream ended) forgets
/// its units.
pub struct Watch {
    pub id: u64,
    pub frames: watch::Receiver<Option<Bytes>>,
    hub: Arc<Mutex<Hub>>,
    wake: Arc<Notify>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut hub = lock(&self.hub);
        if hub
            .watchers
            .remove(&self.id)
            .is_some_and(|w| !w.units.is_empty())
        {
            // The sampler may have nothing left to do: let it see at once.
            self.wake.notify_one();
        }
    }
}

fn lock(hub: &Mutex<Hub>) -> MutexGuard<'_, Hub> {
    hub.lock().unwrap_or_else(|p| p.into_inner())
}

impl<C: CoreApi> UsageHub<C> {
    pub fn new(core: C) -> UsageHub<C> {
        UsageHub::with_period(core, PERIOD)
    }

    fn with_period(core: C, period: Duration) -> UsageHub<C> {
        UsageHub {
            core,
            hub: Arc::default(),
            wake: Arc::new(Notify::new()),
            period,
        }
    }

    /// A new page: watching nothing until it says what it shows.
    pub fn register(&self) -> Watch {
        let mut hub = lock(&self.hub);
        hub.next += 1;
        let id = hub.next;
        let (frames, rx) = watch::channel(None);
        hub.watchers.insert(
            id,
            Watcher {
                units: BTreeSet::new(),
                frames,
            },
        );
        Watch {
            id,
            frames: rx,
            hub: self.hub.clone(),
            wake: self.wake.clone(),
        }
    }

    /// Page `stream` now shows `units` (empty: nothing, or it is hidden).
    pub fn set(&self, stream: u64, units: Vec<UnitRef>) -> Result<(), WatchError> {
        if units.len() > MAX_WATCHED {
            return Err(WatchError::TooMany { count: units.len() });
        }
        let mut hub = lock(&self.hub);
        let before: BTreeSet<Key> = hub.union().into_iter().collect();
        let w = hub
            .watchers
            .get_mut(&stream)
            .ok_or(WatchError::UnknownStream { stream })?;
        w.units = units.into_iter().map(|u| (u.project, u.unit)).collect();
        let added = w.units.iter().any(|k| !before.contains(k));
        let removed_all = hub.watchers.values().all(|w| w.units.is_empty());
        if added {
            hub.fresh = true;
            if !hub.sampling {
                hub.sampling = true;
                tracing::debug!("usage sampling on");
                tokio::spawn(self.clone().run());
            } else {
                self.wake.notify_one();
            }
        } else if removed_all && hub.sampling {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Whether the sampling task runs (tests).
    #[cfg(test)]
    fn sampling(&self) -> bool {
        lock(&self.hub).sampling
    }

    /// The units to sample, or `None` (and the task's end) when nobody
    /// watches any.
    fn wanted(&self) -> Option<Vec<Key>> {
        let mut hub = lock(&self.hub);
        let all = hub.union();
        if all.is_empty() {
            hub.sampling = false;
            tracing::debug!("usage sampling off: no page shows a running unit");
            return None;
        }
        hub.fresh = false;
        Some(all)
    }

    async fn run(self) {
        loop {
            let Some(units) = self.wanted() else { return };
            let sampled_at = Instant::now();
            let figures: HashMap<Key, LiveUsage> =
                self.core.sample_usage(units).await.into_iter().collect();
            self.hand_out(&figures);
            let next = sampled_at + self.period;
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(next) => break,
                    () = self.wake.notified() => {
                        let (fresh, idle) = {
                            let hub = lock(&self.hub);
                            (hub.fresh, hub.watchers.values().all(|w| w.units.is_empty()))
                        };
                        if idle {
                            break;
                        }
                        if fresh {
                            tokio::time::sleep_until(next.min(sampled_at + MIN_GAP)).await;
                            break;
                        }
                    }
                }
            }
        }
    }

    /// Give each page the figures of its units (pages whose units run
    /// nothing get no frame).
    fn hand_out(&self, figures: &HashMap<Key, LiveUsage>) {
        let hub = lock(&self.hub);
        for w in hub.watchers.values() {
            let units: Vec<UnitUsage> = w
                .units
                .iter()
                .filter_map(|k| {
                    Some(UnitUsage {
                        project: k.0.clone(),
                        unit: k.1.clone(),
                        usage: *figures.get(k)?,
                    })
                })
                .collect();
            if units.is_empty() {
                continue;
            }
            let frame = serde_json::to_vec(&UsageFrame { units }).unwrap_or_default();
            w.frames.send_replace(Some(Bytes::from(frame)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::testing::Fake;

    fn unit(p: &str, u: &str) -> UnitRef {
        UnitRef {
            project: ProjectName::new(p).unwrap(),
            unit: UnitName::new(u).unwrap(),
        }
    }

    fn samples(fake: &Fake) -> usize {
        fake.calls()
            .iter()
            .filter(|c| c.starts_with("usage"))
            .count()
    }

    fn frame(w: &mut Watch) -> UsageFrame {
        let bytes = w.frames.borrow_and_update().clone().expect("a frame");
        serde_json::from_slice(&bytes).unwrap()
    }

    /// Let the spawned sampler run for `d` of paused time.
    async fn pass(d: Duration) {
        tokio::time::sleep(d).await;
        tokio::task::yield_now().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_showing_no_running_unit_costs_no_sample_and_no_timer() {
        let fake = Fake::new();
        let hub = UsageHub::new(fake.clone());
        let w = hub.register();
        pass(Duration::from_secs(60)).await;
        assert_eq!(samples(&fake), 0, "an open page that names nothing");
        assert!(!hub.sampling(), "no task, so no timer");
        // A hidden page names nothing: still nothing.
        hub.set(w.id, vec![]).unwrap();
        pass(Duration::from_secs(60)).await;
        assert_eq!(samples(&fake), 0);
        assert!(!hub.sampling());
        assert!(w.frames.borrow().is_none(), "no frame was sent");
    }

    #[tokio::test(start_paused = true)]
    async fn units_in_view_are_sampled_each_period_until_the_page_looks_away() {
        let fake = Fake::new();
        let hub = UsageHub::new(fake.clone());
        let mut w = hub.register();
        hub.set(w.id, vec![unit("p", "web"), unit("p", "stopped-one")])
            .unwrap();
        pass(Duration::from_millis(10)).await;
        assert_eq!(samples(&fake), 1, "named units are sampled at once");
        let f = frame(&mut w);
        assert_eq!(f.units.len(), 1, "a unit that runs nothing is left out");
        assert_eq!(f.units[0].unit.as_str(), "web");
        assert_eq!(f.units[0].usage.rss_bytes, 1 << 20);
        pass(PERIOD * 3).await;
        assert_eq!(samples(&fake), 4, "one sample per period");
        // The page is hidden (or scrolled to stopped rows only).
        hub.set(w.id, vec![]).unwrap();
        pass(Duration::from_millis(10)).await;
        assert!(!hub.sampling(), "the task ended at once");
        pass(PERIOD * 10).await;
        assert_eq!(samples(&fake), 4, "and nothing was sampled since");
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_page_stops_the_sampling_and_pages_share_one_sample() {
        let fake = Fake::new();
        let hub = UsageHub::new(fake.clone());
        let mut a = hub.register();
        let mut b = hub.register();
        hub.set(a.id, vec![unit("p", "web")]).unwrap();
        pass(Duration::from_millis(10)).await;
        hub.set(b.id, vec![unit("p", "web"), unit("q", "api")])
            .unwrap();
        pass(Duration::from_millis(600)).await;
        let calls: Vec<String> = fake
            .calls()
            .into_iter()
            .filter(|c| c.starts_with("usage"))
            .collect();
        assert_eq!(
            calls,
            ["usage p/web", "usage p/web q/api"],
            "a newly named unit is sampled after the shortest gap, once for both pages"
        );
        assert_eq!(frame(&mut a).units.len(), 1, "each page gets its own units");
        assert_eq!(frame(&mut b).units.len(), 2);
        drop(a);
        drop(b);
        pass(Duration::from_millis(10)).await;
        assert!(!hub.sampling());
        pass(PERIOD * 5).await;
        assert_eq!(samples(&fake), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn watch_requests_for_unknown_streams_or_too_many_units_are_refused() {
        let fake = Fake::new();
        let hub = UsageHub::new(fake.clone());
        let e = hub.set(99, vec![unit("p", "web")]).unwrap_err();
        assert!(matches!(e, WatchError::UnknownStream { stream: 99 }), "{e}");
        let w = hub.register();
        let many: Vec<UnitRef> = (0..=MAX_WATCHED)
            .map(|i| unit("p", &format!("u{i}")))
            .collect();
        let e = hub.set(w.id, many).unwrap_err();
        assert!(matches!(e, WatchError::TooMany { count } if count == MAX_WATCHED + 1));
        assert!(miette::Diagnostic::help(&e).is_some());
        pass(PERIOD).await;
        assert_eq!(samples(&fake), 0, "a refused request samples nothing");
    }
}
