//! "running 12s, usually 30s": how long a unit's runs usually take (the
//! median of its recent successful runs) and what that says about a run
//! in progress. Pure functions over records, no clock.

use std::fmt;
use std::time::Duration;

use devctl_units::api::runs::RunRecord;
use devctl_units::state::UnitResult;

/// Successful runs the median is taken over, at most (the newest).
pub const RECENT_RUNS: usize = 10;
/// Fewer successful runs than this say nothing usual yet.
const MIN_RUNS: usize = 3;

/// The median duration of the newest [`RECENT_RUNS`] successful, finished
/// runs among `runs` (any order, any units: pass one unit's history);
/// `None` with fewer than three.
pub fn usual_duration(runs: &[RunRecord]) -> Option<Duration> {
    let mut ok: Vec<&RunRecord> = runs
        .iter()
        .filter(|r| r.result == Some(UnitResult::Success))
        .filter(|r| r.duration_ms().is_some())
        .collect();
    ok.sort_by_key(|r| std::cmp::Reverse(r.ended_ms));
    ok.truncate(RECENT_RUNS);
    if ok.len() < MIN_RUNS {
        return None;
    }
    let mut ms: Vec<u64> = ok.iter().filter_map(|r| r.duration_ms()).collect();
    ms.sort_unstable();
    let mid = ms.len() / 2;
    let median = if ms.len() % 2 == 1 {
        ms[mid]
    } else {
        (ms[mid - 1] + ms[mid]) / 2
    };
    Some(Duration::from_millis(median))
}

/// A run in progress against its unit's usual duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eta {
    pub elapsed: Duration,
    pub usual: Option<Duration>,
}

impl Eta {
    /// Time left if this run takes the usual time; zero once past it.
    pub fn remaining(&self) -> Option<Duration> {
        Some(self.usual?.saturating_sub(self.elapsed))
    }

    /// Past the usual duration.
    pub fn overdue(&self) -> bool {
        self.usual.is_some_and(|u| self.elapsed > u)
    }
}

/// The ETA of a run that started `elapsed` ago, given its unit's history.
pub fn eta(elapsed: Duration, history: &[RunRecord]) -> Eta {
    Eta {
        elapsed,
        usual: usual_duration(history),
    }
}

/// Whole seconds under a minute, else minutes and seconds: `12s`, `2m05s`.
fn short(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

impl fmt::Display for Eta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "running {}", short(self.elapsed))?;
        if let Some(u) = self.usual {
            write!(f, ", usually {}", short(u))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::api::runs::{RunId, RunTrigger};
    use devctl_units::{ProjectName, UnitKind, UnitName};

    fn run(n: u64, secs: Option<u64>, result: Option<UnitResult>) -> RunRecord {
        let mut r = RunRecord::queued(
            RunId::from_bits(n),
            ProjectName::new("p").unwrap(),
            UnitName::new("codegen").unwrap(),
            UnitKind::Build,
            RunTrigger::Schedule,
            n * 1_000_000,
        );
        r.spawned_ms = Some(n * 1_000_000 + 10);
        r.ended_ms = secs.map(|s| n * 1_000_000 + 10 + s * 1000);
        r.result = result;
        r
    }

    const OK: Option<UnitResult> = Some(UnitResult::Success);

    #[test]
    fn usual_is_the_median_of_successful_runs() {
        let runs = vec![
            run(1, Some(30), OK),
            run(2, Some(10), OK),
            run(3, Some(500), Some(UnitResult::ExitCode)),
            run(4, Some(31), OK),
            run(5, None, None),
            run(6, Some(29), OK),
        ];
        // 10, 29, 30, 31: the failure and the unfinished run do not count.
        assert_eq!(usual_duration(&runs), Some(Duration::from_millis(29_500)));
        let e = eta(Duration::from_secs(12), &runs);
        assert_eq!(e.to_string(), "running 12s, usually 29s");
        assert_eq!(e.remaining(), Some(Duration::from_millis(17_500)));
        assert!(!e.overdue());
        assert!(eta(Duration::from_secs(40), &runs).overdue());
    }

    #[test]
    fn too_few_successes_say_nothing() {
        let runs = vec![run(1, Some(30), OK), run(2, Some(30), OK)];
        assert_eq!(usual_duration(&runs), None);
        let e = eta(Duration::from_secs(75), &runs);
        assert_eq!(e.to_string(), "running 1m15s");
        assert_eq!(e.remaining(), None);
    }

    #[test]
    fn only_the_newest_successes_count() {
        // Ten fast recent runs outweigh any number of slow old ones.
        let mut runs: Vec<RunRecord> = (1..=20).map(|n| run(n, Some(100), OK)).collect();
        runs.extend((21..=30).map(|n| run(n, Some(5), OK)));
        assert_eq!(usual_duration(&runs), Some(Duration::from_secs(5)));
    }
}
