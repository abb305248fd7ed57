//! Schedules: when a unit runs again on its own, either on a cron pattern
//! (`schedule "*/15 * * * *"`, local time zone) or at a fixed interval
//! (`every "10m"`). Parsing checks a pattern once (compiler, unit-file
//! reader); [`Schedule::next_after`] is a pure function of the clock it is
//! given, so the daemon's timer and the tests share it.
//!
//! Cron patterns are evaluated by `croner` on `jiff` zoned times: Vixie
//! cron's rules across DST changes (a fixed time in a skipped hour runs
//! just after the gap, once in a repeated hour; wildcard/step fields run
//! on the wall clock of both passes of a repeated hour).

use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// The shortest `every` interval.
pub const MIN_EVERY: Duration = Duration::from_secs(1);

/// When a scheduled unit runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// A five-field cron pattern (minute hour day-of-month month
    /// day-of-week), in the daemon's local time zone.
    Cron(String),
    /// A fixed interval, counted from when the schedule was armed.
    Every(Duration),
}

/// Why a schedule does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("`{pattern}` is not a cron pattern: {reason}")]
    BadCron { pattern: String, reason: String },
    #[error("`{pattern}` never matches a date")]
    NeverMatches { pattern: String },
    #[error("an interval of {0:?} is too short: the shortest is 1s")]
    TooShort(Duration),
}

impl ScheduleError {
    /// What to write instead.
    pub fn help(&self) -> &'static str {
        match self {
            ScheduleError::BadCron { .. } | ScheduleError::NeverMatches { .. } => {
                "write five fields: minute hour day-of-month month day-of-week, e.g. \"*/15 * * * *\" or \"0 3 * * MON-FRI\""
            }
            ScheduleError::TooShort(_) => "write an interval of at least \"1s\"",
        }
    }
}

fn parser() -> croner::parser::CronParser {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .year(croner::parser::Year::Disallowed)
        .build()
}

fn parse_cron(pattern: &str) -> Result<croner::Cron, ScheduleError> {
    let bad = |reason: String| ScheduleError::BadCron {
        pattern: pattern.to_owned(),
        reason,
    };
    let cron = parser()
        .parse(pattern.trim())
        .map_err(|e| bad(e.to_string()))?;
    // A pattern such as `0 0 31 2 *` parses but never fires.
    let probe = Timestamp::UNIX_EPOCH.to_zoned(TimeZone::UTC);
    if cron.find_next_occurrence(&probe, false).is_err() {
        return Err(ScheduleError::NeverMatches {
            pattern: pattern.to_owned(),
        });
    }
    Ok(cron)
}

impl FromStr for Schedule {
    type Err = ScheduleError;

    /// A cron pattern (the `schedule` setting).
    fn from_str(pattern: &str) -> Result<Schedule, ScheduleError> {
        parse_cron(pattern)?;
        Ok(Schedule::Cron(pattern.trim().to_owned()))
    }
}

impl Schedule {
    /// An interval (the `every` setting).
    pub fn every(d: Duration) -> Result<Schedule, ScheduleError> {
        if d < MIN_EVERY {
            return Err(ScheduleError::TooShort(d));
        }
        Ok(Schedule::Every(d))
    }

    /// The first time strictly after `after` this schedule fires, in the
    /// time zone `tz` (cron) or counting whole intervals from `anchor`
    /// (`every`). Fires missed before `after` are not returned: a
    /// schedule never runs to catch up. `None` only for a pattern that
    /// stopped matching (cannot come out of `from_str`).
    pub fn next_after(
        &self,
        after: Timestamp,
        anchor: Timestamp,
        tz: &TimeZone,
    ) -> Option<Timestamp> {
        match self {
            Schedule::Cron(pattern) => {
                let cron = parse_cron(pattern).ok()?;
                let at = after.to_zoned(tz.clone());
                cron.find_next_occurrence(&at, false)
                    .ok()
                    .map(|z| z.timestamp())
            }
            Schedule::Every(d) => {
                let step = i128::try_from(d.as_nanos()).ok()?.max(1);
                let since = after.as_nanosecond() - anchor.as_nanosecond();
                let k = if since < 0 { 1 } else { since / step + 1 };
                Timestamp::from_nanosecond(anchor.as_nanosecond() + k * step).ok()
            }
        }
    }

    /// How the manifest writes it: `schedule "…"` or `every "…"`.
    pub fn describe(&self) -> String {
        match self {
            Schedule::Cron(p) => format!("schedule \"{p}\""),
            Schedule::Every(d) => format!("every \"{}\"", crate::duration::format(*d)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ny() -> TimeZone {
        TimeZone::get("America/New_York").expect("the tz database has America/New_York")
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn next(s: &Schedule, after: &str, tz: &TimeZone) -> String {
        s.next_after(ts(after), ts(after), tz)
            .unwrap()
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%dT%H:%M%:z")
            .to_string()
    }

    #[test]
    fn cron_patterns_parse_or_explain() {
        assert!("*/15 * * * *".parse::<Schedule>().is_ok());
        assert!("0 3 * * MON-FRI".parse::<Schedule>().is_ok());
        let e = "61 * * * *".parse::<Schedule>().unwrap_err();
        assert!(matches!(e, ScheduleError::BadCron { .. }), "{e}");
        let e = "* * *".parse::<Schedule>().unwrap_err();
        assert!(e.to_string().contains("not a cron pattern"), "{e}");
        // Seconds are not cron's: six fields are refused.
        assert!("0 */15 * * * *".parse::<Schedule>().is_err());
        let e = "0 0 31 2 *".parse::<Schedule>().unwrap_err();
        assert_eq!(
            e,
            ScheduleError::NeverMatches {
                pattern: "0 0 31 2 *".into()
            }
        );
        assert!(Schedule::every(Duration::from_millis(500)).is_err());
        assert!(Schedule::every(Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn cron_next_time_in_local_time() {
        let s: Schedule = "*/15 * * * *".parse().unwrap();
        assert_eq!(
            next(&s, "2026-01-10T12:07:00Z", &ny()),
            "2026-01-10T07:15-05:00"
        );
        // Exactly on a fire time: the next one, never the same again.
        assert_eq!(
            next(&s, "2026-01-10T12:15:00Z", &ny()),
            "2026-01-10T07:30-05:00"
        );
    }

    #[test]
    fn cron_across_spring_forward_runs_a_skipped_fixed_time_after_the_gap() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT in New York.
        let s: Schedule = "30 2 * * *".parse().unwrap();
        let after = "2026-03-08T01:00:00-05:00";
        assert_eq!(next(&s, after, &ny()), "2026-03-08T03:00-04:00");
        // And back to 02:30 the day after.
        assert_eq!(
            next(&s, "2026-03-08T03:00:00-04:00", &ny()),
            "2026-03-09T02:30-04:00"
        );
        // A wildcard hour skips the missing hour: 01:45 EST, then 03:00 EDT.
        let q: Schedule = "*/15 * * * *".parse().unwrap();
        assert_eq!(
            next(&q, "2026-03-08T01:45:00-05:00", &ny()),
            "2026-03-08T03:00-04:00"
        );
    }

    #[test]
    fn cron_across_fall_back_runs_a_fixed_time_once() {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST in New York.
        let s: Schedule = "30 1 * * *".parse().unwrap();
        assert_eq!(
            next(&s, "2026-11-01T00:00:00-04:00", &ny()),
            "2026-11-01T01:30-04:00"
        );
        // Not again in the repeated hour: tomorrow.
        assert_eq!(
            next(&s, "2026-11-01T01:30:00-04:00", &ny()),
            "2026-11-02T01:30-05:00"
        );
        // An hourly wildcard runs on both passes of the repeated hour.
        let h: Schedule = "0 * * * *".parse().unwrap();
        assert_eq!(
            next(&h, "2026-11-01T00:30:00-04:00", &ny()),
            "2026-11-01T01:00-04:00"
        );
        assert_eq!(
            next(&h, "2026-11-01T01:00:00-04:00", &ny()),
            "2026-11-01T01:00-05:00"
        );
    }

    #[test]
    fn every_counts_whole_intervals_from_its_anchor_and_skips_missed_fires() {
        let s = Schedule::every(Duration::from_secs(600)).unwrap();
        let anchor = ts("2026-01-10T12:00:00Z");
        let tz = TimeZone::UTC;
        assert_eq!(
            s.next_after(anchor, anchor, &tz),
            Some(ts("2026-01-10T12:10:00Z"))
        );
        assert_eq!(
            s.next_after(ts("2026-01-10T12:10:00Z"), anchor, &tz),
            Some(ts("2026-01-10T12:20:00Z"))
        );
        // The daemon was down for an hour and a bit: the fires missed are
        // not made up, the next one is the next on the grid.
        assert_eq!(
            s.next_after(ts("2026-01-10T13:14:59Z"), anchor, &tz),
            Some(ts("2026-01-10T13:20:00Z"))
        );
        // A cron pattern likewise never returns a time in the past.
        let c: Schedule = "0 * * * *".parse().unwrap();
        let late = ts("2026-01-10T15:00:01Z");
        assert_eq!(
            c.next_after(late, anchor, &tz),
            Some(ts("2026-01-10T16:00:00Z"))
        );
    }

    #[test]
    fn describe_writes_the_manifest_spelling() {
        assert_eq!(
            "*/5 * * * *".parse::<Schedule>().unwrap().describe(),
            "schedule \"*/5 * * * *\""
        );
        assert_eq!(
            Schedule::every(Duration::from_secs(120))
                .unwrap()
                .describe(),
            "every \"2min\""
        );
    }
}
