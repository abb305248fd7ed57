//! A unit's in-memory tail: its last records kept as their on-disk bytes
//! in one ring, with each record's length, bounded in lines and in bytes
//! of text. Appending copies a batch's bytes in one go (no per-line
//! allocation); lines are parsed back only when the tail is asked for.

use std::collections::VecDeque;

use super::batch::Batch;
use super::record::{LogLine, parse_record};

/// Lengths of one record in the ring.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The whole record, newline included.
    record: usize,
    /// Its text alone (what the byte limit counts).
    text: usize,
}

/// The last records, at most `max_lines` of them and `max_text` bytes of
/// text (but always the newest one, however long).
#[derive(Debug)]
pub(crate) struct Tail {
    bytes: VecDeque<u8>,
    entries: VecDeque<Entry>,
    text_bytes: usize,
    max_lines: usize,
    max_text: usize,
}

impl Tail {
    /// An empty tail; allocates nothing until a record arrives.
    pub(crate) fn new(max_lines: usize, max_text: usize) -> Tail {
        Tail {
            bytes: VecDeque::new(),
            entries: VecDeque::new(),
            text_bytes: 0,
            max_lines,
            max_text,
        }
    }

    /// Add the records of `batch`, evicting the oldest beyond the limits.
    /// What stays is the longest run of newest records within both limits
    /// (at least the newest one), so only the batch's records that can
    /// stay are looked at: a flood's large batches cost what the tail
    /// holds, not what they carry.
    pub(crate) fn push(&mut self, batch: &Batch) {
        if self.max_lines == 0 || batch.is_empty() {
            return;
        }
        let head = batch.head_len();
        let ends = batch.ends();
        let record_start = |i: usize| if i == 0 { 0 } else { ends[i - 1] };
        // The batch's newest records that fit on their own: `first..`.
        let (mut first, mut lines, mut text) = (ends.len(), 0, 0);
        while first > 0 {
            let t = ends[first - 1] - record_start(first - 1) - head - 1;
            if lines > 0 && (lines >= self.max_lines || text + t > self.max_text) {
                break;
            }
            (first, lines, text) = (first - 1, lines + 1, text + t);
        }
        // The oldest records make room; all of them go when part of the
        // batch did not fit.
        let mut drop_old = 0;
        while let Some(gone) = self.entries.front().copied() {
            if first == 0
                && self.entries.len() + lines <= self.max_lines
                && self.text_bytes + text <= self.max_text
            {
                break;
            }
            self.entries.pop_front();
            self.text_bytes -= gone.text;
            drop_old += gone.record;
        }
        self.bytes.drain(..drop_old);
        let mut start = record_start(first);
        self.bytes.extend(&batch.bytes()[start..]);
        for &end in &ends[first..] {
            let record = end - start;
            start = end;
            self.entries.push_back(Entry {
                record,
                text: record - head - 1,
            });
        }
        self.text_bytes += text;
    }

    /// The last `n` lines, oldest first.
    pub(crate) fn last(&self, n: usize) -> Vec<LogLine> {
        let k = n.min(self.entries.len());
        let first = self.entries.len() - k;
        let mut at: usize = self.entries.iter().take(first).map(|e| e.record).sum();
        let mut out = Vec::with_capacity(k);
        let mut buf = Vec::new();
        for e in self.entries.iter().skip(first) {
            buf.clear();
            // The record without its newline.
            buf.extend(self.bytes.range(at..at + e.record - 1));
            at += e.record;
            let line = std::str::from_utf8(&buf).ok().and_then(parse_record);
            debug_assert!(line.is_some(), "the tail holds formatted records");
            out.extend(line);
        }
        out
    }

    #[cfg(test)]
    fn byte_len(&self) -> usize {
        self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::record::Stream;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, 7_000)
    }

    fn batch(secs: u64, stream: Stream, texts: &[&str]) -> Batch {
        let mut b = Batch::new();
        b.start(at(secs), stream);
        for t in texts {
            b.push(t.as_bytes(), "");
        }
        b
    }

    fn texts(lines: &[LogLine]) -> Vec<String> {
        lines.iter().map(|l| l.text.to_string()).collect()
    }

    #[test]
    fn gives_back_what_was_appended() {
        let mut t = Tail::new(100, 1 << 20);
        assert!(t.last(10).is_empty());
        let a = batch(1, Stream::Stdout, &["a1", "", "a 3 "]);
        let mut b = Batch::new();
        b.start(at(2), Stream::Stderr);
        b.push(b"bad\xff", "");
        b.push(b"01234", " [line truncated]");
        let m = Batch::one(at(3), Stream::Marker, "exited 0");
        for x in [&a, &b, &m] {
            t.push(x);
        }
        let want: Vec<LogLine> = [&a, &b, &m]
            .iter()
            .flat_map(|x| (0..x.len()).map(|i| x.line(i)))
            .collect();
        assert_eq!(t.last(100), want);
        assert_eq!(t.last(2), want[4..]);
        assert_eq!(t.last(0), vec![]);
        assert_eq!(t.last(2)[0].text.as_ref(), "01234 [line truncated]");
        assert_eq!(t.last(3)[0].text.as_ref(), "bad\u{fffd}");
        assert_eq!(t.last(1)[0].stream, Stream::Marker);
        assert_eq!(t.last(1)[0].time, UNIX_EPOCH + Duration::new(3, 7_000));
        // A text holding a newline (written directly, not pumped) stays one line.
        t.push(&Batch::one(at(4), Stream::Stdout, "two\nparts"));
        assert_eq!(texts(&t.last(2)), ["exited 0", "two\nparts"]);
    }

    #[test]
    fn evicts_by_lines_within_and_across_batches() {
        let mut t = Tail::new(3, 1 << 20);
        t.push(&batch(1, Stream::Stdout, &["a", "b"]));
        t.push(&batch(2, Stream::Stdout, &["c", "d"]));
        assert_eq!(texts(&t.last(10)), ["b", "c", "d"]);
        // A batch larger than the tail keeps only its own last lines.
        t.push(&batch(3, Stream::Stdout, &["e", "f", "g", "h", "i"]));
        assert_eq!(texts(&t.last(10)), ["g", "h", "i"]);
        assert_eq!(t.entries.len(), 3);
        assert_eq!(
            t.byte_len(),
            3 * "1970-01-01T00:00:03.000007Z out g\n".len()
        );
        let mut none = Tail::new(0, 100);
        none.push(&batch(1, Stream::Stdout, &["x"]));
        assert!(none.last(1).is_empty());
        assert_eq!(none.byte_len(), 0);
    }

    #[test]
    fn evicts_by_text_bytes_but_keeps_the_newest_line() {
        let mut t = Tail::new(100, 10);
        t.push(&batch(1, Stream::Stdout, &["1234", "5678"]));
        assert_eq!(texts(&t.last(10)), ["1234", "5678"]);
        t.push(&batch(2, Stream::Stdout, &["ab"]));
        assert_eq!(texts(&t.last(10)), ["1234", "5678", "ab"], "10 bytes fit");
        t.push(&batch(3, Stream::Stdout, &["c"]));
        assert_eq!(texts(&t.last(10)), ["5678", "ab", "c"]);
        let long = "x".repeat(25);
        t.push(&batch(4, Stream::Stdout, &[&long]));
        assert_eq!(
            texts(&t.last(10)),
            std::slice::from_ref(&long),
            "one line over the limit stays"
        );
        t.push(&batch(5, Stream::Stdout, &["y", &long, "z"]));
        assert_eq!(texts(&t.last(10)), ["z"]);
        assert_eq!(t.byte_len(), "1970-01-01T00:00:05.000007Z out z\n".len());
    }

    #[test]
    fn matches_a_line_by_line_model() {
        // Varying limits and batch shapes against the rule the tail keeps:
        // the longest run of newest lines within both limits, at least one.
        let words = ["", "a", "bb", "ccc", "dddddddddd", "é", "x y z"];
        for (max_lines, max_text) in [(1, 0), (2, 5), (5, 12), (7, 1000), (50, 20)] {
            let mut t = Tail::new(max_lines, max_text);
            let mut model: Vec<LogLine> = Vec::new();
            for round in 0..60u64 {
                let n = (round * 7 % 5) as usize;
                let texts: Vec<&str> = (0..n)
                    .map(|i| words[(round as usize + i * 3) % words.len()])
                    .collect();
                let b = batch(round, Stream::Stderr, &texts);
                t.push(&b);
                for i in 0..b.len() {
                    model.push(b.line(i));
                    let mut bytes: usize = model.iter().map(|l| l.text.len()).sum();
                    while model.len() > max_lines || (bytes > max_text && model.len() > 1) {
                        bytes -= model.remove(0).text.len();
                    }
                }
                assert_eq!(t.last(usize::MAX), model, "{max_lines} {max_text} {round}");
            }
        }
    }
}
