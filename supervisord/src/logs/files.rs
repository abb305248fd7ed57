//! Small reads and writes around a unit's log files that retention needs:
//! the time of a file's first and last record (bounded reads, never the
//! whole file), a file's modification time, and the "rotated away"
//! watermark — `<unit>.log.pruned`, the time of the newest line ever
//! removed, so that `logs --run` can tell a run whose lines were removed
//! from one that wrote none, also after a daemon restart.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::read::read_line_capped;
use super::record::parse_record;

/// The time of a file's first record; `None` if it is missing, empty or
/// does not start with a record.
pub fn first_record_time(path: &Path, max_record: usize) -> Option<SystemTime> {
    let mut reader = BufReader::with_capacity(4096, File::open(path).ok()?);
    let mut buf = Vec::new();
    read_line_capped(&mut reader, &mut buf, max_record).ok()?;
    Some(parse_record(&String::from_utf8_lossy(&buf))?.time)
}

/// The time of a file's last complete record. Reads the last 4 KiB, and
/// the last `max_record` bytes when a record is longer than that.
pub fn last_record_time(path: &Path, max_record: usize) -> Option<SystemTime> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    for window in [4096u64, max_record as u64 + 1] {
        let take = window.min(len);
        file.seek(SeekFrom::Start(len - take)).ok()?;
        let mut buf = Vec::with_capacity(take as usize);
        (&mut file).take(take).read_to_end(&mut buf).ok()?;
        let body = buf.strip_suffix(b"\n")?;
        match body.iter().rposition(|b| *b == b'\n') {
            Some(i) => return Some(parse_record(&String::from_utf8_lossy(&body[i + 1..]))?.time),
            None if take == len => return Some(parse_record(&String::from_utf8_lossy(body))?.time),
            None => continue,
        }
    }
    None
}

/// When a file was last written (its newest line, give or take the write).
pub fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The watermark file beside a unit's log.
pub fn watermark_path(log: &Path) -> PathBuf {
    let mut s = log.as_os_str().to_owned();
    s.push(".pruned");
    PathBuf::from(s)
}

/// The newest line ever removed from the log at `log`, if any was.
pub fn read_watermark(log: &Path) -> Option<SystemTime> {
    let text = fs::read_to_string(watermark_path(log)).ok()?;
    let us: u64 = text.trim().parse().ok()?;
    Some(UNIX_EPOCH + Duration::from_micros(us))
}

/// Record `t` as the newest line removed: written to a temporary file and
/// renamed over the old one, so a crash leaves either value.
pub fn write_watermark(log: &Path, t: SystemTime) -> io::Result<()> {
    let us = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros());
    let path = watermark_path(log);
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    fs::write(&tmp, format!("{us}\n"))?;
    fs::rename(&tmp, &path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::record::{LogLine, Stream, format_record};

    fn line(secs: u64, text: &str) -> LogLine {
        LogLine {
            time: UNIX_EPOCH + Duration::from_secs(secs),
            stream: Stream::Stdout,
            text: text.into(),
        }
    }

    fn write(path: &Path, lines: &[LogLine]) {
        let mut out = Vec::new();
        for l in lines {
            format_record(l, &mut out);
        }
        fs::write(path, out).unwrap();
    }

    #[test]
    fn first_and_last_record_times_read_only_the_ends() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("u.log");
        assert_eq!(first_record_time(&p, 1000), None);
        assert_eq!(last_record_time(&p, 1000), None);
        write(&p, &[line(10, "a")]);
        let t = |s: u64| Some(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(first_record_time(&p, 1000), t(10));
        assert_eq!(last_record_time(&p, 1000), t(10));
        // Many lines, then one longer than the first 4 KiB window.
        let mut lines: Vec<LogLine> = (0..500).map(|i| line(20 + i, "some text")).collect();
        lines.push(line(900, &"y".repeat(6000)));
        write(&p, &lines);
        assert_eq!(first_record_time(&p, 10_000), t(20));
        assert_eq!(last_record_time(&p, 10_000), t(900));
        // A torn last record (no newline yet) is not a record.
        let mut bytes = fs::read(&p).unwrap();
        bytes.extend_from_slice(b"2026-01-01T00:00:00.000000Z o torn");
        fs::write(&p, bytes).unwrap();
        assert_eq!(last_record_time(&p, 10_000), None);
    }

    #[test]
    fn the_watermark_survives_as_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("u.log");
        assert_eq!(read_watermark(&log), None);
        let t = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        write_watermark(&log, t).unwrap();
        assert_eq!(read_watermark(&log), Some(t));
        assert!(watermark_path(&log).ends_with("u.log.pruned"));
    }
}
