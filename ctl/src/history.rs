//! Run history in the CLI: `history [UNIT...] [--since] [--failed]`
//! (newest first: id, unit, trigger, started, duration, result, peak
//! memory), and the pieces `status` shows of it: the current run's
//! progress against its usual duration ("running 12s, usually 30s"), the
//! live usage of a running tree and a unit's last few runs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use devctl_units::api::UnitStatus;
use devctl_units::api::runs::{LiveUsage, RunPage, RunRecord, RunResources};
use devctl_units::state::UnitResult;

use crate::cli::Since;
use crate::client::query_escape;
use crate::error::CtlError;
use crate::exit::Exit;
use crate::opts::{Context, parse_unit_arg};
use crate::output::{Out, Style, table};
use crate::session::{self, Access};
use crate::stream::since_ms;

/// Runs one `history` asks for, at most, unless `-n` says otherwise.
pub const DEFAULT_RUNS: u32 = 50;

/// `1.2G`, `210.4M`, `512K`, `100B`.
pub fn bytes(n: u64) -> String {
    const UNITS: [(&str, f64); 3] = [("G", 1_073_741_824.0), ("M", 1_048_576.0), ("K", 1024.0)];
    for (suffix, size) in UNITS {
        if n as f64 >= size {
            return format!("{:.1}{suffix}", n as f64 / size);
        }
    }
    format!("{n}B")
}

/// Whole seconds under a minute, else minutes and seconds: `12s`, `2m05s`;
/// under a second, milliseconds.
pub fn short(ms: u64) -> String {
    let s = ms / 1000;
    if ms < 1000 {
        format!("{ms}ms")
    } else if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn time_of(ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// How a run ended (or that it has not).
pub fn result_cell(r: &RunRecord, st: Style) -> String {
    match (r.result, r.ended_ms) {
        (Some(UnitResult::Success), _) => st.green("success"),
        (Some(res), _) => {
            let how = match r.exit {
                Some(e) if e.signal.is_some() => format!(" (signal {})", e.signal.unwrap_or(0)),
                Some(e) if e.code.is_some() => format!(" (exit {})", e.code.unwrap_or(0)),
                _ => String::new(),
            };
            st.red(&format!("{res}{how}"))
        }
        (None, Some(_)) => "interrupted".into(),
        (None, None) if r.spawned_ms.is_some() => st.yellow("running"),
        (None, None) => st.yellow("queued"),
    }
}

fn peak_cell(r: &RunRecord) -> String {
    match r.resources {
        RunResources::Measured { peak_rss_bytes, .. } if peak_rss_bytes > 0 => {
            bytes(peak_rss_bytes)
        }
        RunResources::Measured { .. } => "-".into(),
        RunResources::NotReported if r.is_finished() => "n/a".into(),
        RunResources::NotReported => "-".into(),
    }
}

/// The history table.
pub fn run_lines(runs: &[RunRecord], now: u64, st: Style) -> Vec<String> {
    let header = [
        "RUN", "UNIT", "TRIGGER", "STARTED", "DURATION", "RESULT", "PEAK MEM",
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let started = r.spawned_ms.unwrap_or(r.queued_ms);
            let duration = match r.duration_ms() {
                Some(d) => short(d),
                None => format!("{}+", short(now.saturating_sub(started))),
            };
            vec![
                r.id.to_string(),
                r.unit.to_string(),
                r.trigger.to_string(),
                time_of(started),
                duration,
                result_cell(r, st),
                peak_cell(r),
            ]
        })
        .collect();
    table(&header, &rows, st)
}

/// `history [UNIT...] [--since] [--failed] [-n N]`.
pub async fn history(
    ctx: &Context,
    names: &[String],
    since: Option<Since>,
    failed: bool,
    limit: Option<u32>,
    out: &mut Out,
) -> Result<Exit, CtlError> {
    let s = session::open(ctx, Access::ReadOnly).await?;
    let mut path = format!("/v1/runs?project={}", query_escape(s.project.as_str()));
    for n in names {
        let a = parse_unit_arg(n)?;
        if a.project.as_ref().is_some_and(|p| *p != s.project) {
            return Err(CtlError::Usage {
                message: format!("{n:?}: history shows one project at a time; use -p"),
            });
        }
        path.push_str(&format!("&unit={}", query_escape(&a.pattern)));
    }
    if let Some(since) = since {
        path.push_str(&format!("&since={}", since_ms(since)));
    }
    if failed {
        path.push_str("&failed=true");
    }
    path.push_str(&format!("&limit={}", limit.unwrap_or(DEFAULT_RUNS)));
    let page: RunPage = s.client.get(&path).await?;
    if ctx.json {
        out.json(&page.runs)?;
    } else if page.runs.is_empty() {
        out.line("no runs recorded")?;
    } else {
        for line in run_lines(&page.runs, now_ms(), out.style) {
            out.line(&line)?;
        }
    }
    Ok(Exit::Ok)
}

/// `running 12s, usually 30s` for a unit whose current run is under way.
pub fn progress(u: &UnitStatus, now: u64) -> Option<String> {
    let id = u.run.as_ref()?;
    let run = u.recent_runs.iter().find(|r| &r.id == id)?;
    let started = run.spawned_ms?;
    if run.is_finished() {
        return None;
    }
    let mut s = format!("running {}", short(now.saturating_sub(started)));
    if let Some(usual) = u.usual_ms {
        s.push_str(&format!(", usually {}", short(usual)));
    }
    Some(s)
}

/// `210.4M (3 processes), CPU 12%`.
pub fn usage_text(u: &LiveUsage) -> String {
    let procs = if u.procs == 1 {
        "1 process".to_string()
    } else {
        format!("{} processes", u.procs)
    };
    match u.cpu_percent {
        Some(c) => format!("{} ({procs}), CPU {c}%", bytes(u.rss_bytes)),
        None => format!("{} ({procs})", bytes(u.rss_bytes)),
    }
}

/// A unit's last runs, one line each, for its status block.
pub fn recent_lines(u: &UnitStatus, now: u64, st: Style) -> Vec<String> {
    u.recent_runs
        .iter()
        .map(|r| {
            let started = r.spawned_ms.unwrap_or(r.queued_ms);
            let duration = r
                .duration_ms()
                .map(short)
                .unwrap_or_else(|| format!("{}+", short(now.saturating_sub(started))));
            format!(
                "             {}  {}  {duration}  {}  {}",
                r.id,
                time_of(started),
                result_cell(r, st),
                r.trigger
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::api::runs::{RunExit, RunId, RunTrigger};
    use devctl_units::{ProjectName, UnitKind, UnitName};

    fn run(n: u64) -> RunRecord {
        RunRecord::queued(
            RunId::from_bits(n),
            ProjectName::new("p").unwrap(),
            UnitName::new("api").unwrap(),
            UnitKind::Service,
            RunTrigger::Restart {
                after: RunExit {
                    code: Some(3),
                    signal: None,
                },
                backoff_ms: 200,
            },
            1_000_000,
        )
    }

    #[test]
    fn sizes_and_durations_read_short() {
        assert_eq!(bytes(100), "100B");
        assert_eq!(bytes(200 * 1024 * 1024), "200.0M");
        assert_eq!(bytes(3 << 30), "3.0G");
        assert_eq!(short(250), "250ms");
        assert_eq!(short(12_400), "12s");
        assert_eq!(short(125_000), "2m05s");
    }

    #[test]
    fn a_run_row_says_why_how_long_and_how_it_ended() {
        let mut r = run(1);
        r.spawned_ms = Some(1_000_100);
        r.ended_ms = Some(1_003_100);
        r.result = Some(UnitResult::ExitCode);
        r.exit = Some(RunExit {
            code: Some(3),
            signal: None,
        });
        r.resources = RunResources::Measured {
            peak_rss_bytes: 10 << 20,
            cpu_ms: 5,
        };
        let lines = run_lines(&[r], 2_000_000, Style { on: false });
        assert!(lines[0].starts_with("RUN"));
        let row = &lines[1];
        for part in [
            "restart after exit 3, backoff 200ms",
            "3s",
            "exit-code (exit 3)",
            "10.0M",
        ] {
            assert!(row.contains(part), "{part:?} missing from {row:?}");
        }
    }

    #[test]
    fn progress_compares_the_current_run_with_the_usual() {
        let mut r = run(2);
        r.spawned_ms = Some(1_000_000);
        let u = UnitStatus {
            run: Some(r.id.clone()),
            usual_ms: Some(30_000),
            recent_runs: vec![r],
            ..crate::query::tests::unit(devctl_units::state::ActiveState::Activating)
        };
        assert_eq!(
            progress(&u, 1_012_000).as_deref(),
            Some("running 12s, usually 30s")
        );
        let none = UnitStatus {
            usual_ms: None,
            ..u.clone()
        };
        assert_eq!(progress(&none, 1_012_000).as_deref(), Some("running 12s"));
    }
}
