//! Log-line readiness: a regex tried on each output line of the unit as it
//! arrives (followers of the unit's log), never on lifecycle markers.

use crate::logs::{FollowEvent, LogFollower, LogLine, Stream};

/// A compiled log-readiness pattern.
#[derive(Debug, Clone)]
pub struct LogMatcher {
    re: regex::Regex,
}

impl LogMatcher {
    /// Compile `pattern` (the compiler validated it; errors still surface).
    pub fn new(pattern: &str) -> Result<LogMatcher, regex::Error> {
        Ok(LogMatcher {
            re: regex::Regex::new(pattern)?,
        })
    }

    /// The line is output (not a marker) and matches.
    pub fn is_match(&self, line: &LogLine) -> bool {
        line.stream != Stream::Marker && self.re.is_match(&line.text)
    }

    /// The first matching line from `follower`; `None` when the log ends.
    /// Lines a lagging follower missed cannot be checked (the follow buffer
    /// is large compared to a start-up burst).
    pub async fn wait(&self, follower: &mut LogFollower) -> Option<LogLine> {
        loop {
            match follower.next().await? {
                FollowEvent::Line(line) if self.is_match(&line) => return Some(line),
                FollowEvent::Line(_) | FollowEvent::Missed(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{LogLimits, LogStore};

    #[tokio::test]
    async fn matches_output_lines_not_markers() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path().to_path_buf(), LogLimits::default()).unwrap();
        let log = store.unit("p", "u");
        let m = LogMatcher::new(r"listening on :\d+").unwrap();
        let mut follower = log.subscribe();
        log.marker("listening on :1 (a marker)");
        assert!(!m.is_match(&LogLine::now(Stream::Marker, "listening on :1")));
        assert!(m.is_match(&LogLine::now(Stream::Stderr, "x listening on :8080")));
        drop(store);
        drop(log);
        assert_eq!(
            m.wait(&mut follower).await,
            None,
            "only a marker, then the end"
        );
        assert!(LogMatcher::new("(unclosed").is_err());
    }
}
