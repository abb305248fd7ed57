//! Memory and CPU use of a unit's whole process tree (every process that
//! carries its invocation marker), sampled only when asked: the core calls
//! [`TreeSampler::sample`] on a period while someone watches the unit and
//! [`TreeSampler::finish`] once when the run ends, so an idle daemon reads
//! nothing.
//!
//! Peak memory is the largest resident set summed over the tree at one
//! sample, or any one process's own high-water mark (`VmHWM`) when that is
//! larger (a spike between two samples). CPU time is `utime + stime` of
//! every process plus what each reaped of its children (`cutime +
//! cstime`); a process that left the tree without being reaped by a
//! member (re-parented to the daemon, or the root itself) is counted as
//! last seen, so CPU a process used after its last sample and outside any
//! member's `cutime` is missed.

use std::collections::HashMap;
use std::fs;
use std::time::{Duration, Instant};

use devctl_units::api::runs::RunResources;

use super::procfs::{Table, table_after};

/// What one process's `/proc` files said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ProcUse {
    ppid: i32,
    /// `utime + stime`, clock ticks.
    own_ticks: u64,
    /// `cutime + cstime`: children it waited for, clock ticks.
    reaped_ticks: u64,
    rss_bytes: u64,
    hwm_bytes: u64,
}

/// The tree at one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreeSample {
    /// Live processes carrying the marker.
    pub procs: usize,
    /// Their resident sets, summed.
    pub rss_bytes: u64,
    /// CPU time of the run so far, reaped processes included.
    pub cpu: Duration,
    /// CPU use since the previous sample, in percent of one core (`None`
    /// on the first sample).
    pub cpu_percent: Option<f64>,
}

/// Accumulates a run's resource use across samples.
#[derive(Debug)]
pub struct TreeSampler {
    marker: String,
    /// Every process seen at the last sample, by (pid, start time).
    seen: HashMap<(i32, u64), ProcUse>,
    /// Ticks of processes that left the tree uncounted by a member.
    departed_ticks: u64,
    total_ticks: u64,
    peak_rss: u64,
    last: Option<(Instant, u64)>,
    samples: u64,
}

impl TreeSampler {
    /// A sampler for the processes carrying `marker` (a unit's invocation id).
    pub fn new(marker: impl Into<String>) -> TreeSampler {
        TreeSampler {
            marker: marker.into(),
            seen: HashMap::new(),
            departed_ticks: 0,
            total_ticks: 0,
            peak_rss: 0,
            last: None,
            samples: 0,
        }
    }

    /// Sample now, with a fresh pass over `/proc`.
    pub fn sample(&mut self) -> TreeSample {
        self.sample_in(&table_after(Instant::now()))
    }

    /// Sample from a table another caller already has: sampling many units
    /// at one tick costs one pass over `/proc`.
    pub fn sample_in(&mut self, table: &Table) -> TreeSample {
        let now: HashMap<(i32, u64), ProcUse> = table
            .marked(&self.marker)
            .filter_map(|p| Some(((p.pid, p.start_time), read_use(p.pid)?)))
            .collect();
        self.account(now, Instant::now())
    }

    /// Fold one sample's readings into the totals.
    fn account(&mut self, now: HashMap<(i32, u64), ProcUse>, at: Instant) -> TreeSample {
        // A vanished process whose parent is still in the tree was most
        // likely reaped by it, and is then in the parent's `cutime`: count
        // only what the parent's reaped time did not grow by.
        let mut gone_by_parent: HashMap<i32, u64> = HashMap::new();
        for (key, gone) in &self.seen {
            if !now.contains_key(key) {
                *gone_by_parent.entry(gone.ppid).or_default() += gone.own_ticks + gone.reaped_ticks;
            }
        }
        for (ppid, gone_ticks) in gone_by_parent {
            let parent = now.iter().find(|(k, _)| k.0 == ppid);
            let grew = parent.map_or(0, |(k, u)| {
                let before = self.seen.get(k).map_or(0, |p| p.reaped_ticks);
                u.reaped_ticks.saturating_sub(before)
            });
            self.departed_ticks += gone_ticks.saturating_sub(grew);
        }
        let live_ticks: u64 = now.values().map(|u| u.own_ticks + u.reaped_ticks).sum();
        // Never backwards: a member that reaped a child we had counted as
        // departed could otherwise make the total jump down then up.
        self.total_ticks = self.total_ticks.max(self.departed_ticks + live_ticks);
        let rss: u64 = now.values().map(|u| u.rss_bytes).sum();
        let hwm = now.values().map(|u| u.hwm_bytes).max().unwrap_or(0);
        self.peak_rss = self.peak_rss.max(rss).max(hwm);
        let cpu = ticks(self.total_ticks);
        let cpu_percent = self.last.and_then(|(then, then_ticks)| {
            let wall = at.checked_duration_since(then)?.as_secs_f64();
            (wall > 0.0).then(|| ticks(self.total_ticks - then_ticks).as_secs_f64() / wall * 100.0)
        });
        self.last = Some((at, self.total_ticks));
        self.samples += 1;
        let procs = now.len();
        self.seen = now;
        TreeSample {
            procs,
            rss_bytes: rss,
            cpu,
            cpu_percent,
        }
    }

    /// The largest summed resident set seen so far.
    pub fn peak_rss_bytes(&self) -> u64 {
        self.peak_rss
    }

    /// CPU time of the run so far.
    pub fn cpu_time(&self) -> Duration {
        ticks(self.total_ticks)
    }

    /// One last sample (the run is ending: what is left of its tree), and
    /// the run's totals for its record.
    pub fn finish(mut self) -> RunResources {
        self.sample();
        RunResources::Measured {
            peak_rss_bytes: self.peak_rss,
            cpu_ms: self.cpu_time().as_millis() as u64,
        }
    }
}

fn ticks(n: u64) -> Duration {
    Duration::from_secs_f64(n as f64 / clock_ticks_per_sec() as f64)
}

fn clock_ticks_per_sec() -> u64 {
    // SAFETY: sysconf only reads a constant of the system.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as u64 } else { 100 }
}

/// `/proc/<pid>/stat` times and `/proc/<pid>/status` memory; `None` when the
/// process is gone.
fn read_use(pid: i32) -> Option<ProcUse> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let (ppid, own_ticks, reaped_ticks) = parse_stat_times(&stat)?;
    let (rss_bytes, hwm_bytes) = parse_status_memory(&status);
    Some(ProcUse {
        ppid,
        own_ticks,
        reaped_ticks,
        rss_bytes,
        hwm_bytes,
    })
}

/// `(ppid, utime + stime, cutime + cstime)` from a stat line (fields 4 and
/// 14-17, counted from the last `)` as the name may hold anything).
fn parse_stat_times(text: &str) -> Option<(i32, u64, u64)> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_ascii_whitespace().take(15).collect();
    // f[0] is field 3 (state).
    let num = |i: usize| f.get(i)?.parse::<u64>().ok();
    let ppid = f.get(1)?.parse().ok()?;
    Some((ppid, num(11)? + num(12)?, num(13)? + num(14)?))
}

/// `(VmRSS, VmHWM)` in bytes; zero where absent (kernel threads, zombies).
fn parse_status_memory(text: &str) -> (u64, u64) {
    let kb = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |k| k * 1024)
    };
    (kb("VmRSS:"), kb("VmHWM:"))
}

#[cfg(test)]
#[path = "resources_tests.rs"]
mod tests;
