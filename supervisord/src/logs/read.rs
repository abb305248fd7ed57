//! Reading a unit's log back from disk, across rotated files, with bounded
//! memory: at most `n` parsed lines are kept and each raw line is capped.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::record::{LogLine, parse_record};

/// Read one `\n`-terminated line into `buf`, keeping at most `max` bytes
/// (the rest of an over-long line is skipped). `Ok(false)` at end of file.
pub(super) fn read_line_capped(
    r: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<bool> {
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

/// The last `n` records at or after `since` and at or before `until` from
/// `paths` (oldest file first; missing files skipped; unparsable lines
/// skipped). Files are read newest first and older ones only while fewer
/// than `n` lines were found, so a short query reads the current file
/// alone; `until` keeps later lines from crowding out an older range.
pub fn read_lines(
    paths: &[PathBuf],
    since: Option<SystemTime>,
    until: Option<SystemTime>,
    n: usize,
    max_line: usize,
) -> io::Result<Vec<LogLine>> {
    read_sources(
        paths.iter().map(|p| open_if_present(p)),
        since,
        until,
        n,
        max_line,
    )
}

/// `path` opened for reading; `None` when it does not exist (rotation had
/// not made it yet, or retention removed it).
pub fn open_if_present(path: &Path) -> io::Result<Option<File>> {
    match File::open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// [`read_lines`] over readers given oldest first: the iterator is walked
/// from its end, so a lazy one opens an older file only when it is needed.
pub fn read_sources<R: Read>(
    sources: impl DoubleEndedIterator<Item = io::Result<Option<R>>>,
    since: Option<SystemTime>,
    until: Option<SystemTime>,
    n: usize,
    max_line: usize,
) -> io::Result<Vec<LogLine>> {
    let mut out: VecDeque<LogLine> = VecDeque::with_capacity(n.min(4096));
    let mut buf = Vec::new();
    for source in sources.rev() {
        let need = n - out.len();
        if need == 0 {
            break;
        }
        let Some(source) = source? else {
            continue;
        };
        let mut reader = BufReader::with_capacity(64 << 10, source);
        let mut part: VecDeque<LogLine> = VecDeque::with_capacity(need.min(4096));
        while read_line_capped(&mut reader, &mut buf, max_line)? {
            let Some(line) = parse_record(&String::from_utf8_lossy(&buf)) else {
                continue;
            };
            if since.is_some_and(|s| line.time < s) || until.is_some_and(|u| line.time > u) {
                continue;
            }
            if part.len() == need {
                part.pop_front();
            }
            part.push_back(line);
        }
        while let Some(line) = part.pop_back() {
            out.push_front(line);
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
    fn newest_file_first_and_older_files_only_when_needed() {
        use super::super::record::{Stream, format_record};
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, texts: &[&str]| {
            let mut out = Vec::new();
            for t in texts {
                format_record(&LogLine::now(Stream::Stdout, *t), &mut out);
            }
            let path = dir.path().join(name);
            std::fs::write(&path, out).unwrap();
            path
        };
        // An "older file" that cannot be read: touching it is an error.
        let older = dir.path().join("u.log.2");
        std::fs::create_dir(&older).unwrap();
        let rotated = write("u.log.1", &["a", "b"]);
        let current = write("u.log", &["c", "d", "e"]);
        let paths = [older, rotated, current];
        let texts = |lines: Vec<LogLine>| -> Vec<String> {
            lines.iter().map(|l| l.text.to_string()).collect()
        };
        assert_eq!(
            texts(read_lines(&paths, None, None, 2, 100).unwrap()),
            ["d", "e"]
        );
        assert_eq!(
            texts(read_lines(&paths[1..], None, None, 4, 100).unwrap()),
            ["b", "c", "d", "e"]
        );
        assert_eq!(
            texts(read_lines(&paths, None, None, 5, 100).unwrap()),
            ["a", "b", "c", "d", "e"],
            "enough lines before the unreadable file is reached"
        );
        let err = read_lines(&paths, None, None, 6, 100).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EISDIR));
    }

    #[test]
    fn until_keeps_later_lines_from_crowding_out_a_range() {
        use super::super::record::{Stream, format_record};
        use std::time::{Duration, UNIX_EPOCH};
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        for s in 0..100u64 {
            let line = LogLine {
                time: UNIX_EPOCH + Duration::from_secs(s),
                stream: Stream::Stdout,
                text: format!("l{s}").into(),
            };
            format_record(&line, &mut out);
        }
        let path = dir.path().join("u.log");
        std::fs::write(&path, out).unwrap();
        let at = |s: u64| Some(UNIX_EPOCH + Duration::from_secs(s));
        let got = read_lines(std::slice::from_ref(&path), at(10), at(12), 2, 100).unwrap();
        let texts: Vec<&str> = got.iter().map(|l| l.text.as_ref()).collect();
        assert_eq!(
            texts,
            ["l11", "l12"],
            "the range's last lines, not the file's"
        );
    }

    #[test]
    fn unreadable_file_is_an_error_and_missing_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.log");
        assert!(
            read_lines(std::slice::from_ref(&missing), None, None, 10, 100)
                .unwrap()
                .is_empty()
        );
        // A directory where a file is expected cannot be read.
        let err = read_lines(&[dir.path().to_path_buf()], None, None, 10, 100).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EISDIR));
        assert!(
            read_lines(&[missing], None, None, 0, 100)
                .unwrap()
                .is_empty()
        );
    }
}
