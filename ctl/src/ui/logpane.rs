//! The log pane's state: a bounded buffer of the followed units' lines kept
//! in time order (several units merge by time), whether it follows the
//! newest line, where it is scrolled to, and the regex search with its
//! current match. No drawing here: `render` reads it.

use std::collections::VecDeque;

use devctl_units::api::LogRecord;
use regex::Regex;

/// Lines kept; older ones are dropped first.
pub const CAPACITY: usize = 10_000;

/// A search: the pattern as typed, compiled.
#[derive(Debug, Clone)]
pub struct Search {
    pub text: String,
    pub regex: Regex,
    /// How many buffered lines match.
    pub count: usize,
    /// Index of the match jumped to last.
    pub current: Option<usize>,
}

/// The followed lines and the pane's position.
#[derive(Debug)]
pub struct LogPane {
    records: VecDeque<LogRecord>,
    /// Keep the newest line in view.
    pub follow: bool,
    /// Wrap long lines instead of cutting them.
    pub wrap: bool,
    /// When not following: index of the last line in view.
    anchor: usize,
    pub search: Option<Search>,
    capacity: usize,
}

impl Default for LogPane {
    fn default() -> Self {
        LogPane::with_capacity(CAPACITY)
    }
}

impl LogPane {
    /// A pane keeping at most `capacity` lines.
    pub fn with_capacity(capacity: usize) -> LogPane {
        LogPane {
            records: VecDeque::new(),
            follow: true,
            wrap: false,
            anchor: 0,
            search: None,
            capacity: capacity.max(1),
        }
    }

    /// Forget every line (the followed units changed).
    pub fn clear(&mut self) {
        self.records.clear();
        self.anchor = 0;
        self.follow = true;
        if let Some(s) = &mut self.search {
            s.count = 0;
            s.current = None;
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&LogRecord> {
        self.records.get(i)
    }

    /// Add a line in time order (usually at the end).
    pub fn push(&mut self, r: LogRecord) {
        let at = self.records.partition_point(|x| x.time_us <= r.time_us);
        if let Some(s) = &mut self.search {
            if s.regex.is_match(&r.text) {
                s.count += 1;
            }
            if let Some(c) = &mut s.current
                && *c >= at
            {
                *c += 1;
            }
        }
        if !self.follow && at <= self.anchor && !self.records.is_empty() {
            self.anchor += 1;
        }
        self.records.insert(at, r);
        while self.records.len() > self.capacity {
            let gone = self.records.pop_front();
            if let (Some(s), Some(gone)) = (&mut self.search, gone) {
                if s.regex.is_match(&gone.text) {
                    s.count -= 1;
                }
                s.current = match s.current {
                    Some(0) | None => None,
                    Some(c) => Some(c - 1),
                };
            }
            self.anchor = self.anchor.saturating_sub(1);
        }
    }

    /// Index of the last line in view (`None` when empty).
    pub fn bottom(&self) -> Option<usize> {
        let last = self.records.len().checked_sub(1)?;
        Some(if self.follow {
            last
        } else {
            self.anchor.min(last)
        })
    }

    /// Scroll towards older lines; following stops.
    pub fn scroll_up(&mut self, n: usize) {
        if let Some(b) = self.bottom() {
            self.follow = false;
            self.anchor = b.saturating_sub(n);
        }
    }

    /// Scroll towards newer lines; reaching the end follows again.
    pub fn scroll_down(&mut self, n: usize) {
        if let Some(b) = self.bottom() {
            let last = self.records.len() - 1;
            self.anchor = (b + n).min(last);
            if self.anchor == last {
                self.follow = true;
            }
        }
    }

    /// Jump to the newest line and follow it.
    pub fn to_end(&mut self) {
        self.follow = true;
    }

    /// Jump to the oldest line.
    pub fn to_start(&mut self) {
        if !self.records.is_empty() {
            self.follow = false;
            self.anchor = 0;
        }
    }

    /// Toggle following.
    pub fn toggle_follow(&mut self) {
        if self.follow {
            self.anchor = self.bottom().unwrap_or(0);
            self.follow = false;
        } else {
            self.follow = true;
        }
    }

    /// Start a search for `pattern` (a regex) and jump to the newest match.
    /// An empty pattern clears the search. Returns the regex error, if any.
    pub fn set_search(&mut self, pattern: &str) -> Result<(), regex::Error> {
        if pattern.is_empty() {
            self.search = None;
            return Ok(());
        }
        let regex = Regex::new(pattern)?;
        let count = self
            .records
            .iter()
            .filter(|r| regex.is_match(&r.text))
            .count();
        self.search = Some(Search {
            text: pattern.to_string(),
            regex,
            count,
            current: None,
        });
        self.jump(Direction::Older, true);
        Ok(())
    }

    /// Whether line `i` matches the search.
    pub fn is_match(&self, i: usize) -> bool {
        match (&self.search, self.records.get(i)) {
            (Some(s), Some(r)) => s.regex.is_match(&r.text),
            _ => false,
        }
    }

    /// Jump to the next match in `dir` from the current one (from the
    /// bottom of the view at first, or when `from_end`). Wraps around.
    /// Returns whether a match was found.
    pub fn jump(&mut self, dir: Direction, from_end: bool) -> bool {
        let n = self.records.len();
        let Some(s) = &self.search else {
            return false;
        };
        if n == 0 || s.count == 0 {
            return false;
        }
        let start = match (s.current, from_end) {
            (_, true) => n,
            (Some(c), false) => c,
            (None, false) => self.bottom().map_or(n, |b| b + 1),
        };
        let found = (1..=n)
            .map(|k| match dir {
                Direction::Older => (start + n * 2 - k) % n,
                Direction::Newer => (start + k) % n,
            })
            .find(|&i| s.regex.is_match(&self.records[i].text));
        let Some(i) = found else {
            return false;
        };
        if let Some(s) = &mut self.search {
            s.current = Some(i);
        }
        self.follow = false;
        self.anchor = i;
        true
    }
}

/// Which way `n` / `N` go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Older,
    Newer,
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::api::LogStream;
    use devctl_units::{ProjectName, UnitName};

    fn rec(t: u64, unit: &str, text: &str) -> LogRecord {
        LogRecord {
            time_us: t,
            project: ProjectName::new("p").unwrap(),
            unit: UnitName::new(unit).unwrap(),
            stream: LogStream::Stdout,
            text: text.into(),
        }
    }

    fn texts(p: &LogPane) -> Vec<String> {
        (0..p.len())
            .map(|i| p.get(i).unwrap().text.clone())
            .collect()
    }

    #[test]
    fn lines_of_several_units_merge_by_time() {
        let mut p = LogPane::default();
        p.push(rec(10, "a", "a1"));
        p.push(rec(30, "a", "a2"));
        p.push(rec(20, "b", "b1"));
        p.push(rec(30, "b", "b2"));
        assert_eq!(texts(&p), ["a1", "b1", "a2", "b2"]);
    }

    #[test]
    fn bounded_and_scrolled_position_survives_eviction() {
        let mut p = LogPane::with_capacity(3);
        for i in 0..3 {
            p.push(rec(i, "a", &format!("l{i}")));
        }
        p.scroll_up(1);
        assert_eq!(p.bottom(), Some(1));
        p.push(rec(10, "a", "l3"));
        assert_eq!(texts(&p), ["l1", "l2", "l3"]);
        assert_eq!(p.get(p.bottom().unwrap()).unwrap().text, "l1");
        p.scroll_down(5);
        assert!(p.follow);
        assert_eq!(p.bottom(), Some(2));
    }

    #[test]
    fn search_jumps_from_the_newest_and_wraps() {
        let mut p = LogPane::default();
        for (i, t) in ["GET /a", "boot", "GET /b", "idle"].iter().enumerate() {
            p.push(rec(i as u64, "a", t));
        }
        p.set_search("GET /.").unwrap();
        assert_eq!(p.search.as_ref().unwrap().count, 2);
        assert_eq!(p.search.as_ref().unwrap().current, Some(2));
        assert!(!p.follow);
        assert!(p.jump(Direction::Older, false));
        assert_eq!(p.search.as_ref().unwrap().current, Some(0));
        assert!(p.jump(Direction::Older, false));
        assert_eq!(p.search.as_ref().unwrap().current, Some(2), "wraps");
        assert!(p.jump(Direction::Newer, false));
        assert_eq!(p.search.as_ref().unwrap().current, Some(0));
        assert!(p.is_match(0) && !p.is_match(1));
        p.push(rec(9, "a", "GET /c"));
        assert_eq!(p.search.as_ref().unwrap().count, 3);
        assert!(p.set_search("(").is_err());
        p.set_search("nothing").unwrap();
        assert!(!p.jump(Direction::Older, false));
        p.set_search("").unwrap();
        assert!(p.search.is_none());
    }

    #[test]
    fn follow_toggles_and_keeps_the_view() {
        let mut p = LogPane::default();
        for i in 0..5 {
            p.push(rec(i, "a", "x"));
        }
        p.toggle_follow();
        assert!(!p.follow);
        p.push(rec(9, "a", "y"));
        assert_eq!(p.bottom(), Some(4), "a paused view stays put");
        p.toggle_follow();
        assert_eq!(p.bottom(), Some(5));
        p.to_start();
        assert_eq!(p.bottom(), Some(0));
    }
}
