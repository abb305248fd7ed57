//! Wire types of run records: one record per invocation of a unit (its
//! trigger, commit, times, result, resource use and where its log lines
//! are), the history query and its page. Shared by the daemon's run store
//! and the CLI's `history` / `logs --run`.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::JobVerb;
use crate::model::UnitKind;
use crate::name::{ProjectName, UnitName};
use crate::state::UnitResult;

/// A run's id: short lowercase Crockford base32 (no `i`, `l`, `o`, `u`),
/// shown wherever a run is mentioned and accepted by `logs --run`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(String);

impl RunId {
    /// Characters of every id: 50 bits, so ids stay unique over any
    /// retained history without a central counter.
    pub const LEN: usize = 10;
    const ALPHABET: &'static [u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

    /// The id derived from 64 bits of a unique value (an invocation id's
    /// hash, say): the same input always gives the same id.
    pub fn from_bits(bits: u64) -> RunId {
        let mut s = String::with_capacity(Self::LEN);
        for i in (0..Self::LEN).rev() {
            s.push(Self::ALPHABET[((bits >> (i * 5)) & 31) as usize] as char);
        }
        RunId(s)
    }

    /// Accepts what [`RunId::as_str`] prints, case-insensitively.
    pub fn parse(s: &str) -> Result<RunId, RunIdError> {
        let lower = s.to_ascii_lowercase();
        if lower.len() == Self::LEN && lower.bytes().all(|b| Self::ALPHABET.contains(&b)) {
            Ok(RunId(lower))
        } else {
            Err(RunIdError(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A string that is not a run id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("`{0}` is not a run id")]
#[diagnostic(
    code(devctl::run_id),
    help("run ids are 10 characters of 0-9 and a-z (as `devctl history` prints them)")
)]
pub struct RunIdError(pub String);

/// Where a verb came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerbSource {
    Cli,
    Api,
    Dbus,
    Dashboard,
}

/// How a run's exit looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunExit {
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

/// Why a run happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum RunTrigger {
    /// A user's verb.
    Verb { verb: JobVerb, source: VerbSource },
    /// Watched files changed.
    FileChange { paths: Vec<PathBuf> },
    /// The restart policy, after the previous run exited so.
    Restart {
        after: RunExit,
        /// The back-off waited before this run.
        backoff_ms: u64,
    },
    /// Another unit that requires this one was started.
    Dependency { of: UnitName },
    /// A schedule fired.
    Schedule,
    /// The project repository's HEAD moved to this commit (`on-commit`).
    Commit { commit: String },
    /// Not a run: the build's inputs were those of its last success
    /// (ended at `since_ms`), so its start was answered without running.
    UpToDate { since_ms: u64 },
    /// The project is started when the daemon starts.
    Boot,
    /// The unit was running when the previous daemon stopped unexpectedly;
    /// the new daemon started it again.
    Recovered,
    /// A reload changed the unit's definition while it ran.
    DefinitionChanged,
    /// Any other cause, as the daemon describes it.
    Other { reason: String },
}

impl fmt::Display for RunTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunTrigger::Verb { verb, source } => {
                let verb = serde_json::to_value(verb)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let source = match source {
                    VerbSource::Cli => "cli",
                    VerbSource::Api => "api",
                    VerbSource::Dbus => "d-bus",
                    VerbSource::Dashboard => "dashboard",
                };
                write!(f, "{verb} ({source})")
            }
            RunTrigger::FileChange { paths } => {
                let mut names = paths.iter().take(3).map(|p| p.display().to_string());
                let first = names.next().unwrap_or_default();
                write!(f, "file change: {first}")?;
                for n in names {
                    write!(f, ", {n}")?;
                }
                if paths.len() > 3 {
                    write!(f, " (+{})", paths.len() - 3)?;
                }
                Ok(())
            }
            RunTrigger::Restart { after, backoff_ms } => {
                write!(f, "restart after ")?;
                match (after.code, after.signal) {
                    (_, Some(sig)) => write!(f, "signal {sig}")?,
                    (Some(code), None) => write!(f, "exit {code}")?,
                    (None, None) => write!(f, "failure")?,
                }
                write!(f, ", backoff {backoff_ms}ms")
            }
            RunTrigger::Dependency { of } => write!(f, "dependency of {of}"),
            RunTrigger::Schedule => f.write_str("schedule"),
            RunTrigger::Commit { commit } => {
                write!(f, "commit {}", commit.get(..12).unwrap_or(commit))
            }
            RunTrigger::UpToDate { .. } => f.write_str("up to date (not run)"),
            RunTrigger::Boot => f.write_str("boot"),
            RunTrigger::Recovered => f.write_str("recovered"),
            RunTrigger::DefinitionChanged => f.write_str("definition changed"),
            RunTrigger::Other { reason } => f.write_str(reason),
        }
    }
}

/// A running unit's resource use at one sample: its whole process tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveUsage {
    /// Summed resident set of every process of the tree.
    pub rss_bytes: u64,
    /// CPU use since the previous sample, in whole percent of one core
    /// (`None` on the first sample of a run).
    pub cpu_percent: Option<u32>,
    /// Processes in the tree.
    pub procs: usize,
}

/// Memory and CPU use of a run's whole process tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum RunResources {
    /// What the samples saw: the largest summed resident set and the CPU
    /// time of every process of the tree, reaped ones included.
    Measured { peak_rss_bytes: u64, cpu_ms: u64 },
    /// The unit's engine (containers, Kubernetes) reports nothing devctl
    /// can attribute to this run, or the run was never sampled.
    NotReported,
}

/// Where a run's lines are in its unit's log: every line of the unit with
/// a timestamp in `[from_us, to_us]` (microseconds since the epoch); a unit
/// has one run at a time, so the range holds that run's lines only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLogRange {
    pub from_us: u64,
    /// `None` while the run lasts.
    pub to_us: Option<u64>,
}

impl RunLogRange {
    /// Whether a log line stamped `time_us` belongs to the run.
    pub fn contains(&self, time_us: u64) -> bool {
        time_us >= self.from_us && self.to_us.is_none_or(|to| time_us <= to)
    }
}

/// How much log a unit keeps on disk: its `logs { }` over the daemon's
/// default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRetentionInfo {
    pub max_file_bytes: u64,
    /// Files kept, the current one included.
    pub files: u32,
    /// Files whose newest line is older than this go; `None`: no age limit.
    pub max_age_ms: Option<u64>,
}

/// A line of the `/v1/logs` stream that is not a log line, sent before the
/// lines it is about (a `missed` notice: where the lines it counts would
/// have been): `{"notice": {"type": …, …}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogNoticeLine {
    pub notice: LogNotice,
}

/// What a log stream says about the lines it sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum LogNotice {
    /// Log retention removed the run's lines stamped at or before
    /// `through_us` (its earliest); the lines that follow are what remains.
    RotatedAway {
        run: RunId,
        unit: UnitName,
        /// The newest line removed from the unit's log, microseconds since
        /// the epoch.
        through_us: u64,
        retention: LogRetentionInfo,
        /// The same, for people.
        message: String,
    },
    /// A follower fell behind `unit`'s log and `lines` of its lines could
    /// not be read back from the log files to send it (more than the daemon
    /// reads back at once, or no longer there); said where they belong,
    /// then the stream continues with the lines after them.
    Missed {
        unit: UnitName,
        lines: u64,
        /// The same, for people.
        message: String,
    },
}

/// One invocation of a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: RunId,
    pub project: ProjectName,
    pub unit: UnitName,
    pub kind: UnitKind,
    pub trigger: RunTrigger,
    /// `HEAD`'s commit of the project root's repository, if it is in one.
    pub commit: Option<String>,
    /// The `DEVCTL_INVOCATION_ID` of its process tree, once spawned.
    pub invocation: Option<String>,
    pub queued_ms: u64,
    pub spawned_ms: Option<u64>,
    pub ready_ms: Option<u64>,
    pub ended_ms: Option<u64>,
    /// `None` while the run lasts.
    pub result: Option<UnitResult>,
    pub exit: Option<RunExit>,
    pub resources: RunResources,
    pub log: RunLogRange,
}

impl RunRecord {
    /// A run just queued: no times but `queued_ms`, nothing measured yet.
    pub fn queued(
        id: RunId,
        project: ProjectName,
        unit: UnitName,
        kind: UnitKind,
        trigger: RunTrigger,
        queued_ms: u64,
    ) -> RunRecord {
        RunRecord {
            id,
            project,
            unit,
            kind,
            trigger,
            commit: None,
            invocation: None,
            queued_ms,
            spawned_ms: None,
            ready_ms: None,
            ended_ms: None,
            result: None,
            exit: None,
            resources: RunResources::NotReported,
            log: RunLogRange {
                from_us: queued_ms * 1000,
                to_us: None,
            },
        }
    }

    /// Ended, with a result.
    pub fn is_finished(&self) -> bool {
        self.ended_ms.is_some()
    }

    /// Ended with any result but success.
    pub fn failed(&self) -> bool {
        self.result.is_some_and(|r| r != UnitResult::Success)
    }

    /// From spawn (or queue, if it never spawned) to end; `None` while it lasts.
    pub fn duration_ms(&self) -> Option<u64> {
        let start = self.spawned_ms.unwrap_or(self.queued_ms);
        Some(self.ended_ms?.saturating_sub(start))
    }
}

/// `GET /v1/runs`: filters, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunQuery {
    pub project: Option<ProjectName>,
    /// Empty: every unit.
    #[serde(default)]
    pub units: Vec<UnitName>,
    /// Runs queued at or after this time.
    pub since_ms: Option<u64>,
    /// Runs that ended with another result than success only.
    #[serde(default)]
    pub failed: bool,
    /// At most this many (the store caps it); `None`: the store's default.
    pub limit: Option<u32>,
    /// Paging: runs older than this one (a page's `next`); an id not in
    /// the history (pruned meanwhile) gives an empty page.
    pub before: Option<RunId>,
}

/// One page of history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPage {
    pub runs: Vec<RunRecord>,
    /// Pass as `before` for the next page; `None` on the last page.
    pub next: Option<RunId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_short_stable_and_parse_back() {
        let a = RunId::from_bits(0xdead_beef_cafe_f00d);
        assert_eq!(a, RunId::from_bits(0xdead_beef_cafe_f00d));
        assert_eq!(a.as_str().len(), RunId::LEN);
        assert_eq!(RunId::parse(a.as_str()).unwrap(), a);
        assert_eq!(RunId::parse(&a.as_str().to_uppercase()).unwrap(), a);
        assert_ne!(a, RunId::from_bits(0xdead_beef_cafe_f00e));
        assert!(RunId::parse("short").is_err());
        assert!(RunId::parse("0123456789").is_ok());
        assert!(
            RunId::parse("012345678u").is_err(),
            "u is not in the alphabet"
        );
    }

    #[test]
    fn records_round_trip_through_json() {
        let mut r = RunRecord::queued(
            RunId::from_bits(7),
            ProjectName::new("p").unwrap(),
            UnitName::new("api").unwrap(),
            UnitKind::Service,
            RunTrigger::Restart {
                after: RunExit {
                    code: None,
                    signal: Some(9),
                },
                backoff_ms: 400,
            },
            1_000,
        );
        r.spawned_ms = Some(1_100);
        r.ended_ms = Some(4_100);
        r.result = Some(UnitResult::Signal);
        r.resources = RunResources::Measured {
            peak_rss_bytes: 1 << 20,
            cpu_ms: 12,
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<RunRecord>(&json).unwrap(), r);
        assert_eq!(r.duration_ms(), Some(3_000));
        assert!(r.failed() && r.is_finished());
    }

    #[test]
    fn a_log_range_holds_the_lines_of_its_run() {
        let open = RunLogRange {
            from_us: 100,
            to_us: None,
        };
        assert!(!open.contains(99) && open.contains(100) && open.contains(u64::MAX));
        let closed = RunLogRange {
            to_us: Some(200),
            ..open
        };
        assert!(closed.contains(200) && !closed.contains(201));
    }
}
