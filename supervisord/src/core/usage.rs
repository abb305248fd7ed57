//! Resource use of the units' running process trees: a [`TreeSampler`] per
//! running local run, sampled only when someone looks (a status call asks
//! [`UsageMonitor::sample_live`], one pass over `/proc` for every unit; an
//! open dashboard asks [`UsageMonitor::sample_units`] for the rows it
//! shows), so an idle daemon reads nothing. At a run's end [`UsageMonitor::finish`]
//! folds what the samples saw with what the reaper learnt from `wait4`
//! (the main process and every descendant it waited for), which needs no
//! sampling at all.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use devctl_units::api::runs::{LiveUsage, RunResources};
use devctl_units::{ProjectName, UnitName};

use crate::process::{Reaper, TreeSampler, table_after};

/// The daemon's own peak resident set (`VmHWM`), 0 when unreadable.
fn own_high_water() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Status calls closer together than this share one pass over `/proc`.
const MIN_PERIOD: Duration = Duration::from_millis(500);

/// A unit, by project and name.
pub type Key = (ProjectName, UnitName);

struct Tracked {
    invocation: String,
    sampler: TreeSampler,
    last: Option<LiveUsage>,
}

impl Tracked {
    fn sample_in(&mut self, table: &crate::process::Table) -> LiveUsage {
        let s = self.sampler.sample_in(table);
        let live = LiveUsage {
            rss_bytes: s.rss_bytes,
            cpu_percent: s.cpu_percent.map(|p| p.round() as u32),
            procs: s.procs,
        };
        self.last = Some(live);
        live
    }
}

/// Every tracked run, by unit.
#[derive(Default)]
pub struct UsageMonitor {
    runs: Mutex<HashMap<Key, Tracked>>,
    last_pass: Mutex<Option<Instant>>,
    /// Passes over `/proc` so far: what tests read to prove that nobody
    /// looking means no work.
    passes: AtomicU64,
}

impl std::fmt::Debug for UsageMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageMonitor").finish_non_exhaustive()
    }
}

impl UsageMonitor {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Tracked>> {
        self.runs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A run of `unit` began whose processes carry `invocation`; it
    /// replaces whatever the unit ran before.
    pub fn track(&self, project: &ProjectName, unit: &UnitName, invocation: &str) {
        self.lock().insert(
            (project.clone(), unit.clone()),
            Tracked {
                invocation: invocation.to_owned(),
                sampler: TreeSampler::new(invocation),
                last: None,
            },
        );
    }

    /// Sample every tracked run now (one pass over `/proc`, shared with a
    /// pass begun less than [`MIN_PERIOD`] ago). Blocking: call it off the
    /// async threads.
    pub fn sample_live(&self) {
        let now = Instant::now();
        {
            let mut last = self.last_pass.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| now.duration_since(t) < MIN_PERIOD) {
                return;
            }
            *last = Some(now);
        }
        if self.lock().is_empty() {
            return;
        }
        self.passes.fetch_add(1, Ordering::Relaxed);
        let table = table_after(now);
        for t in self.lock().values_mut() {
            t.sample_in(&table);
        }
    }

    /// Sample the tracked runs of `units` only, now (one pass over
    /// `/proc`, none when no run of theirs is tracked), and answer what
    /// each one uses. Units with no tracked run are left out: they run
    /// nothing of the daemon's. Blocking: call it off the async threads.
    pub fn sample_units(&self, units: &[Key]) -> Vec<(Key, LiveUsage)> {
        if !units.iter().any(|k| self.lock().contains_key(k)) {
            return Vec::new();
        }
        self.passes.fetch_add(1, Ordering::Relaxed);
        let table = table_after(Instant::now());
        let mut runs = self.lock();
        units
            .iter()
            .filter_map(|k| Some((k.clone(), runs.get_mut(k)?.sample_in(&table))))
            .collect()
    }

    /// Passes over `/proc` made so far.
    pub fn passes(&self) -> u64 {
        self.passes.load(Ordering::Relaxed)
    }

    /// The last sample of `unit`'s running tree, if any was taken.
    pub fn live(&self, project: &ProjectName, unit: &UnitName) -> Option<LiveUsage> {
        self.lock()
            .get(&(project.clone(), unit.clone()))
            .and_then(|t| t.last)
    }

    /// The run of `unit` with `invocation` ended: its totals, from the
    /// samples taken while it ran and from the reaper's accounting of the
    /// processes it waited for. The larger of the two wins for each
    /// figure: they overlap (a sampled process is later reaped).
    pub fn finish(&self, project: &ProjectName, unit: &UnitName, invocation: &str) -> RunResources {
        let key = (project.clone(), unit.clone());
        let sampled = {
            let mut runs = self.lock();
            match runs.get(&key) {
                Some(t) if t.invocation == invocation => runs.remove(&key).map(|t| t.sampler),
                _ => None,
            }
        };
        let reaped = Reaper::take_usage(invocation);
        if sampled.is_none() && reaped.is_none() {
            return RunResources::NotReported;
        }
        let (peak, cpu) = sampled.map_or((0, 0), |s| {
            (s.peak_rss_bytes(), s.cpu_time().as_millis() as u64)
        });
        let reaped = reaped.unwrap_or_default();
        if peak == 0 && cpu == 0 && reaped == Default::default() {
            // Nothing of the daemon's ever carried the marker.
            return RunResources::NotReported;
        }
        // A child's high-water mark starts at its parent's when it execs
        // (the kernel keeps the old image's): a figure under the daemon's
        // own says nothing of the child.
        let reaped_rss = if reaped.max_rss_bytes > own_high_water() {
            reaped.max_rss_bytes
        } else {
            0
        };
        RunResources::Measured {
            peak_rss_bytes: peak.max(reaped_rss),
            cpu_ms: cpu.max(reaped.cpu_ms),
        }
    }

    /// Stop tracking `unit` without a record (its run's record was never
    /// kept, or the unit is gone).
    pub fn forget(&self, project: &ProjectName, unit: &UnitName) {
        if let Some(t) = self.lock().remove(&(project.clone(), unit.clone())) {
            Reaper::take_usage(&t.invocation);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::MARKER_VAR;

    #[test]
    fn only_the_named_units_running_trees_are_read() {
        let m = UsageMonitor::default();
        let p = ProjectName::new("p").unwrap();
        let web = (p.clone(), UnitName::new("web").unwrap());
        let other = (p.clone(), UnitName::new("other").unwrap());
        assert!(m.sample_units(std::slice::from_ref(&web)).is_empty());
        assert_eq!(m.passes(), 0, "nothing tracked: /proc is not read");

        let inv = format!("usage-test-{}", std::process::id());
        let child = Reaped(
            std::process::Command::new("sleep")
                .arg("30")
                .env(MARKER_VAR, &inv)
                .spawn()
                .unwrap(),
        );
        // Until it has exec'd, the child is a copy of this process.
        let environ = format!("/proc/{}/environ", child.0.id());
        let start = Instant::now();
        while !std::fs::read(&environ)
            .is_ok_and(|e| e.windows(inv.len()).any(|w| w == inv.as_bytes()))
        {
            assert!(start.elapsed() < Duration::from_secs(10), "sleep never ran");
            std::thread::sleep(Duration::from_millis(5));
        }
        m.track(&web.0, &web.1, &inv);
        assert!(m.sample_units(std::slice::from_ref(&other)).is_empty());
        assert_eq!(m.passes(), 0, "a unit that runs nothing costs no pass");
        let got = m.sample_units(&[web.clone(), other]);
        assert_eq!(m.passes(), 1, "one pass for every unit named");
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, web);
        assert_eq!(got[0].1.procs, 1);
        assert!(got[0].1.rss_bytes > 0);
        assert_eq!(m.live(&web.0, &web.1), Some(got[0].1), "kept for status");
    }

    /// A child killed and waited for however the test ends.
    struct Reaped(std::process::Child);

    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
