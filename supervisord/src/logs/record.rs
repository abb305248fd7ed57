//! One log record: a timestamp (RFC 3339, UTC, microseconds), a stream tag
//! (`out`, `err`, `---` for lifecycle markers) and the text, one per line
//! on disk. Timestamp formatting and record parsing live here, clock
//! arithmetic included (civil-from-days), so nothing else needs a date
//! library; the log formats records in batches (`batch.rs`).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which stream a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
    /// Lifecycle markers written by the daemon (spawned, exited, ready…).
    Marker,
}

impl Stream {
    /// The on-disk tag.
    pub fn tag(self) -> &'static str {
        match self {
            Stream::Stdout => "out",
            Stream::Stderr => "err",
            Stream::Marker => "---",
        }
    }

    /// Parse an on-disk tag.
    pub fn from_tag(tag: &str) -> Option<Stream> {
        [Stream::Stdout, Stream::Stderr, Stream::Marker]
            .into_iter()
            .find(|s| s.tag() == tag)
    }
}

/// One line of a unit's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: SystemTime,
    pub stream: Stream,
    /// The text, without the newline; invalid UTF-8 replaced.
    pub text: Arc<str>,
}

impl LogLine {
    /// A line stamped now.
    pub fn now(stream: Stream, text: impl Into<Arc<str>>) -> LogLine {
        LogLine {
            time: SystemTime::now(),
            stream,
            text: text.into(),
        }
    }
}

impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            format_timestamp(self.time),
            self.stream.tag(),
            self.text
        )
    }
}

/// Append the on-disk form of `line` (with its newline) to `out`: the
/// reference for what `Batch` writes, line by line.
#[cfg(test)]
pub fn format_record(line: &LogLine, out: &mut Vec<u8>) {
    out.extend_from_slice(format_timestamp(line.time).as_bytes());
    out.push(b' ');
    out.extend_from_slice(line.stream.tag().as_bytes());
    out.push(b' ');
    out.extend_from_slice(line.text.as_bytes());
    out.push(b'\n');
}

/// Parse one on-disk record (without its newline).
pub fn parse_record(record: &str) -> Option<LogLine> {
    let (ts, rest) = record.split_once(' ')?;
    let (tag, text) = rest.split_once(' ').unwrap_or((rest, ""));
    Some(LogLine {
        time: parse_timestamp(ts)?,
        stream: Stream::from_tag(tag)?,
        text: text.into(),
    })
}

// Howard Hinnant's days_from_civil / civil_from_days, proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-11-20T10:11:12.123456Z`. Times before 1970 print as the epoch.
pub fn format_timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = d.as_secs() as i64;
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        d.subsec_micros()
    )
}

/// Parse what [`format_timestamp`] writes (any number of fraction digits
/// up to 9, `Z` only).
pub fn parse_timestamp(s: &str) -> Option<SystemTime> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut dp = date.splitn(3, '-');
    let (year, month, day): (i64, u32, u32) = (
        dp.next()?.parse().ok()?,
        dp.next()?.parse().ok()?,
        dp.next()?.parse().ok()?,
    );
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut tp = hms.splitn(3, ':');
    let (h, m, sec): (u64, u64, u64) = (
        tp.next()?.parse().ok()?,
        tp.next()?.parse().ok()?,
        tp.next()?.parse().ok()?,
    );
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || h > 23
        || m > 59
        || sec > 60
        || frac.len() > 9
    {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    let days = days_from_civil(year, month, day);
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + sec;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_and_match_known_dates() {
        assert_eq!(format_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::new(951_782_400 + 3661, 123_456_789); // 2000-02-29T01:01:01
        assert_eq!(format_timestamp(t), "2000-02-29T01:01:01.123456Z");
        assert_eq!(
            format_timestamp(UNIX_EPOCH + Duration::from_secs(4_102_444_799)),
            "2099-12-31T23:59:59.000000Z"
        );
        for secs in [
            0u64,
            59,
            86_399,
            86_400,
            951_868_800,
            1_700_000_000,
            4_102_444_800,
        ] {
            let t = UNIX_EPOCH + Duration::new(secs, 654_321_000);
            assert_eq!(parse_timestamp(&format_timestamp(t)), Some(t));
        }
        assert_eq!(
            parse_timestamp("2026-11-20T10:11:12Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_795_169_472))
        );
        for bad in [
            "",
            "2026-11-20T10:11:12",
            "2026-13-01T00:00:00Z",
            "2026-11-20T25:00:00Z",
            "2026-11-20T10:11:12.x1Z",
            "x",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn records_round_trip() {
        let line = LogLine {
            time: UNIX_EPOCH + Duration::from_micros(1_500_000),
            stream: Stream::Stderr,
            text: "a b  c".into(),
        };
        let mut out = Vec::new();
        format_record(&line, &mut out);
        assert_eq!(out, b"1970-01-01T00:00:01.500000Z err a b  c\n");
        let text = std::str::from_utf8(&out).unwrap().trim_end_matches('\n');
        assert_eq!(parse_record(text), Some(line.clone()));
        assert_eq!(line.to_string(), text);
        let empty = parse_record("1970-01-01T00:00:01.500000Z out").unwrap();
        assert_eq!(&*empty.text, "");
        assert_eq!(parse_record("1970-01-01T00:00:01.500000Z bad text"), None);
        assert_eq!(parse_record("not a record"), None);
        assert_eq!(Stream::from_tag("---"), Some(Stream::Marker));
    }
}
