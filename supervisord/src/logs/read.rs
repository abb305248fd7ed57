//! Reading a unit's log back from disk, across rotated files, with bounded
//! memory: at most `n` parsed lines are kept and each raw line is capped.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;
use std::time::SystemTime;

use super::record::{LogLine, parse_record};

/// Read one `\n`-terminated line into `buf`, keeping at most `max` bytes
/// (the rest of an over-long line is skipped). `Ok(false)` at end of file.
fn read_line_capped(r: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<bool> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(any);
        }
        any = true;
        let (used, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let take = used - usize::from(done);
        let room = max.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..take.min(room)]);
        r.consume(used);
        if done {
            return Ok(true);
        }
    }
}

/// The last `n` records at or after `since` from `paths` (oldest file
/// first; missing files skipped; unparsable lines skipped).
pub fn read_lines(
    paths: &[PathBuf],
    since: Option<SystemTime>,
    n: usize,
    max_line: usize,
) -> io::Result<Vec<LogLine>> {
    let mut out: VecDeque<LogLine> = VecDeque::with_capacity(n.min(4096));
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut buf = Vec::new();
    for path in paths {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let mut reader = BufReader::with_capacity(64 << 10, file);
        while read_line_capped(&mut reader, &mut buf, max_line)? {
            let Some(line) = parse_record(&String::from_utf8_lossy(&buf)) else {
                continue;
            };
            if since.is_some_and(|s| line.time < s) {
                continue;
            }
            if out.len() == n {
                out.pop_front();
            }
            out.push_back(line);
        }
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_reader_splits_lines_and_bounds_memory() {
        let data = b"short\nthis line is long\nlast-no-newline";
        let mut r = BufReader::with_capacity(4, &data[..]);
        let mut buf = Vec::new();
        assert!(read_line_capped(&mut r, &mut buf, 8).unwrap());
        assert_eq!(buf, b"short");
        assert!(read_line_capped(&mut r, &mut buf, 8).unwrap());
        assert_eq!(buf, b"this lin");
        assert!(read_line_capped(&mut r, &mut buf, 100).unwrap());
        assert_eq!(buf, b"last-no-newline");
        assert!(!read_line_capped(&mut r, &mut buf, 100).unwrap());
    }

    #[test]
    fn unreadable_file_is_an_error_and_missing_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.log");
        assert!(
            read_lines(std::slice::from_ref(&missing), None, 10, 100)
                .unwrap()
                .is_empty()
        );
        // A directory where a file is expected cannot be read.
        let err = read_lines(&[dir.path().to_path_buf()], None, 10, 100).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EISDIR));
        assert!(read_lines(&[missing], None, 0, 100).unwrap().is_empty());
    }
}
