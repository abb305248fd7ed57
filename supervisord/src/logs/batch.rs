//! A batch of records sharing one time and one stream (the lines of one
//! read of a pipe, or a single marker), formatted once as they go to disk.
//! The log writes the batch's bytes as they are, copies them into its
//! memory tail, and builds [`LogLine`]s only for live followers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::record::{LogLine, Stream, format_timestamp};

/// Formatted records (`<time> <tag> <text>\n` each) of one time and stream.
#[derive(Debug)]
pub(crate) struct Batch {
    time: SystemTime,
    stream: Stream,
    /// `<time> <tag> `, formatted at the first record of the batch.
    head: String,
    /// The whole second `second_text` holds, the timestamp up to its
    /// fraction (`2026-11-20T10:11:12.`): most batches only add the
    /// microseconds.
    second: Option<u64>,
    second_text: String,
    /// The records, back to back, as on disk.
    text: String,
    /// End of each record in `text` (past its newline).
    ends: Vec<usize>,
}

/// `t` to whole microseconds, the precision of the on-disk timestamp, so
/// that a line reads back from disk or memory with the time followers saw.
fn to_micros(t: SystemTime) -> SystemTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH + Duration::from_micros(d.as_micros() as u64),
        Err(_) => UNIX_EPOCH,
    }
}

impl Batch {
    /// An empty batch; allocates nothing until a record is pushed.
    pub(crate) fn new() -> Batch {
        Batch {
            time: UNIX_EPOCH,
            stream: Stream::Marker,
            head: String::new(),
            second: None,
            second_text: String::new(),
            text: String::new(),
            ends: Vec::new(),
        }
    }

    /// A batch holding one record.
    pub(crate) fn one(time: SystemTime, stream: Stream, text: &str) -> Batch {
        let mut b = Batch::new();
        b.start(time, stream);
        b.push(text.as_bytes(), "");
        b
    }

    /// Empty the batch for records stamped `time` (kept to microseconds)
    /// of `stream`.
    pub(crate) fn start(&mut self, time: SystemTime, stream: Stream) {
        self.time = to_micros(time);
        self.stream = stream;
        self.head.clear();
        self.text.clear();
        self.ends.clear();
    }

    /// Format `head` for this batch's time and stream.
    fn format_head(&mut self) {
        let d = self.time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = d.as_secs();
        if self.second != Some(secs) {
            let full = format_timestamp(UNIX_EPOCH + Duration::from_secs(secs));
            // Without `000000Z`.
            self.second_text = full[..full.len() - 7].to_string();
            self.second = Some(secs);
        }
        self.head.push_str(&self.second_text);
        let mut micros = d.subsec_micros();
        let mut digits = [b'0'; 6];
        for digit in digits.iter_mut().rev() {
            *digit += (micros % 10) as u8;
            micros /= 10;
        }
        self.head.extend(digits.iter().map(|&b| char::from(b)));
        self.head.push_str("Z ");
        self.head.push_str(self.stream.tag());
        self.head.push(' ');
    }

    /// Add a record of `text` (invalid UTF-8 replaced) followed by `suffix`.
    pub(crate) fn push(&mut self, text: &[u8], suffix: &str) {
        match std::str::from_utf8(text) {
            Ok(s) => self.push_str(s, suffix),
            Err(_) => {
                self.start_record();
                for chunk in text.utf8_chunks() {
                    self.text.push_str(chunk.valid());
                    if !chunk.invalid().is_empty() {
                        self.text.push(char::REPLACEMENT_CHARACTER);
                    }
                }
                self.end_record(suffix);
            }
        }
    }

    /// Add a record of `text` followed by `suffix`.
    pub(crate) fn push_str(&mut self, text: &str, suffix: &str) {
        self.start_record();
        self.text.push_str(text);
        self.end_record(suffix);
    }

    /// Add, as records, the lines of `text` up to the first one longer
    /// than `max` bytes (a trailing `\r` dropped after that test) or
    /// without its newline. Gives the bytes taken (through the last
    /// newline) and the lines added. The per-read fast path of a pump:
    /// one timestamp prefix, then each line with its newline in one copy.
    pub(crate) fn push_lines(&mut self, text: &str, max: usize) -> (usize, u64) {
        if self.head.is_empty() {
            self.format_head();
        }
        let bytes = text.as_bytes();
        let (mut start, mut lines) = (0, 0);
        for newline in memchr::memchr_iter(b'\n', bytes) {
            if newline - start > max {
                break;
            }
            self.text.push_str(&self.head);
            if newline > start && bytes[newline - 1] == b'\r' {
                self.text.push_str(&text[start..newline - 1]);
                self.text.push('\n');
            } else {
                self.text.push_str(&text[start..=newline]);
            }
            self.ends.push(self.text.len());
            start = newline + 1;
            lines += 1;
        }
        (start, lines)
    }

    fn start_record(&mut self) {
        if self.head.is_empty() {
            self.format_head();
        }
        self.text.push_str(&self.head);
    }

    fn end_record(&mut self, suffix: &str) {
        self.text.push_str(suffix);
        self.text.push('\n');
        self.ends.push(self.text.len());
    }

    /// Empty the batch, releasing buffers a large one grew beyond `keep`
    /// bytes.
    pub(crate) fn shrink(&mut self, keep: usize) {
        self.text.clear();
        self.ends.clear();
        if self.text.capacity() > keep {
            self.text = String::new();
        }
        if self.ends.capacity() * size_of::<usize>() > keep {
            self.ends = Vec::new();
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Records in the batch.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Every record, as on disk.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// End of each record in [`Batch::bytes`].
    pub(crate) fn ends(&self) -> &[usize] {
        &self.ends
    }

    /// The time every record of the batch is stamped with.
    pub(crate) fn time(&self) -> SystemTime {
        self.time
    }

    /// Bytes before each record's text (timestamp, tag, two spaces).
    pub(crate) fn head_len(&self) -> usize {
        self.head.len()
    }

    /// The text of record `i`, without the newline.
    pub(crate) fn text(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start + self.head.len()..self.ends[i] - 1]
    }

    /// Record `i` as a line, for followers.
    pub(crate) fn line(&self, i: usize) -> LogLine {
        LogLine {
            time: self.time,
            stream: self.stream,
            text: self.text(i).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::record::{format_record, parse_record};

    #[test]
    fn records_are_formatted_as_on_disk_with_one_timestamp() {
        let t = UNIX_EPOCH + Duration::new(1_795_169_472, 123_456_789);
        let mut b = Batch::new();
        assert_eq!(b.text.capacity(), 0, "nothing allocated up front");
        b.start(t, Stream::Stderr);
        b.push(b"one", "");
        b.push(b"", "");
        b.push(b"bad \xff\xfe end", " [cut]");
        assert_eq!(b.len(), 3);
        assert_eq!(
            std::str::from_utf8(b.bytes()).unwrap(),
            "2026-11-20T10:11:12.123456Z err one\n\
             2026-11-20T10:11:12.123456Z err \n\
             2026-11-20T10:11:12.123456Z err bad \u{fffd}\u{fffd} end [cut]\n"
        );
        assert_eq!(
            b.line(0).time,
            UNIX_EPOCH + Duration::new(1_795_169_472, 123_456_000)
        );
        assert_eq!(b.text(0), "one");
        assert_eq!(b.text(1), "");
        assert_eq!(b.text(2), "bad \u{fffd}\u{fffd} end [cut]");
        // Each record is what format_record writes for its line, and
        // parses back to the line followers get.
        let mut start = 0;
        for (i, &end) in b.ends().iter().enumerate() {
            let mut one = Vec::new();
            format_record(&b.line(i), &mut one);
            assert_eq!(&b.bytes()[start..end], &one[..]);
            let rec = std::str::from_utf8(&b.bytes()[start..end - 1]).unwrap();
            assert_eq!(parse_record(rec), Some(b.line(i)));
            start = end;
        }
        b.start(t, Stream::Stdout);
        assert!(b.is_empty() && b.bytes().is_empty());
        b.push("é".as_bytes(), "");
        assert_eq!(b.text(0), "é");
        assert_eq!(b.line(0).stream, Stream::Stdout);
        b.shrink(0);
        assert_eq!(b.text.capacity(), 0);
    }

    #[test]
    fn heads_match_format_timestamp_within_and_across_seconds() {
        let mut b = Batch::new();
        for (secs, nanos) in [
            (0, 0),
            (0, 999_999_999),
            (1, 5_000),
            (1, 6_999),
            (86_399, 1_000),
            (1_795_169_472, 123_456_789),
            (1_795_169_472, 0),
            (253_402_300_800, 42_000), // year 10000
        ] {
            for stream in [Stream::Stdout, Stream::Marker] {
                b.start(UNIX_EPOCH + Duration::new(secs, nanos), stream);
                b.push_str("x", "");
                let want = format!("{} {} x\n", format_timestamp(b.line(0).time), stream.tag());
                assert_eq!(std::str::from_utf8(b.bytes()).unwrap(), want);
            }
        }
    }

    #[test]
    fn times_before_the_epoch_are_the_epoch() {
        let b = Batch::one(UNIX_EPOCH - Duration::from_secs(5), Stream::Marker, "m");
        assert_eq!(b.line(0).time, UNIX_EPOCH);
        assert_eq!(b.bytes(), b"1970-01-01T00:00:00.000000Z --- m\n");
    }
}
