//! Log retention: how much of a unit's log stays on disk, and the pure
//! decisions that apply it — when the file being written rotates, and
//! which files go. The clock is a parameter (a batch's time when writing,
//! the caller's `now` when reading or loading), so every rule is tested
//! without sleeping; `store.rs` does the file work.
//!
//! A unit keeps at most `files` files of at most `max_file_bytes` each,
//! the one being written included (a single record longer than the limit
//! gets a file of its own). With `max_age`, the current file rotates once
//! its oldest line is that old and a file goes once its newest line is:
//! a line stays between `max_age` and twice that. Age is applied when a
//! unit's log is written, when it is read, and when the unit is loaded
//! (daemon start, reload) — never on a timer, so an idle daemon does no
//! work.

use std::time::{Duration, SystemTime};

use devctl_units::LogSpec;
use devctl_units::size;

/// How much of one unit's log is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRetention {
    /// Rotate before the current file would grow past this.
    pub max_file_bytes: u64,
    /// Files kept, the current one included; at least 1.
    pub files: u32,
    /// Files whose newest line is older than this are removed.
    pub max_age: Option<Duration>,
}

impl Default for LogRetention {
    /// What devctl kept before retention was configurable: the current
    /// file and three rotated ones, 8 MiB each, whatever their age.
    fn default() -> Self {
        LogRetention {
            max_file_bytes: 8 << 20,
            files: 4,
            max_age: None,
        }
    }
}

/// Why the current file rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotate {
    /// The next record would take it past the size limit.
    Size,
    /// Its oldest line is `max_age` old.
    Age,
}

impl LogRetention {
    /// The unit's own settings over `self` (the daemon's default).
    pub fn with(self, spec: &LogSpec) -> LogRetention {
        LogRetention {
            max_file_bytes: spec.max_size.unwrap_or(self.max_file_bytes),
            files: spec.files.unwrap_or(self.files).max(1),
            max_age: spec.max_age.or(self.max_age),
        }
    }

    /// The API's form.
    pub fn info(&self) -> devctl_units::api::runs::LogRetentionInfo {
        devctl_units::api::runs::LogRetentionInfo {
            max_file_bytes: self.max_file_bytes,
            files: self.files,
            max_age_ms: self.max_age.map(|d| d.as_millis() as u64),
        }
    }

    /// Rotated files kept beside the current one (`.1` … `.N`).
    pub fn rotated_files(&self) -> u32 {
        self.files.saturating_sub(1)
    }

    /// `4 × 8 MiB` or `4 × 8 MiB, 7d`: for messages.
    pub fn describe(&self) -> String {
        let mut s = format!("{} × {}", self.files, size::human(self.max_file_bytes));
        if let Some(age) = self.max_age {
            s.push_str(&format!(
                ", at most {} old",
                devctl_units::duration::format(age)
            ));
        }
        s
    }

    /// Whether the current file, holding `size` bytes with its oldest
    /// line stamped `oldest`, must rotate before a record of `incoming`
    /// bytes stamped `now` is appended. An empty file never rotates, so a
    /// record longer than the limit gets a file of its own.
    pub fn rotation(
        &self,
        size: u64,
        oldest: Option<SystemTime>,
        incoming: u64,
        now: SystemTime,
    ) -> Option<Rotate> {
        if size == 0 {
            return None;
        }
        if size.saturating_add(incoming) > self.max_file_bytes {
            return Some(Rotate::Size);
        }
        match (self.max_age, oldest) {
            (Some(age), Some(t)) if is_older(t, age, now) => Some(Rotate::Age),
            _ => None,
        }
    }

    /// Which files go: `newest[i]` is the time of the newest line of file
    /// `i`, newest file first (0 the current file, 1 `.1`, …; `None` for
    /// a file that is missing or whose age is unknown). Returns the first
    /// index to remove; it and every older file go. Files past the count
    /// go (left by a larger setting), and the first file whose newest line
    /// is `max_age` old goes with all older ones.
    pub fn first_expired(&self, newest: &[Option<SystemTime>], now: SystemTime) -> Option<usize> {
        let by_count = (newest.len() > self.files as usize).then_some(self.files as usize);
        let by_age = self.max_age.and_then(|age| {
            newest
                .iter()
                .position(|t| t.is_some_and(|t| is_older(t, age, now)))
        });
        match (by_count, by_age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// `t` is at least `age` before `now` (a time in the future is young).
fn is_older(t: SystemTime, age: Duration, now: SystemTime) -> bool {
    now.duration_since(t).is_ok_and(|d| d >= age)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    const H: Duration = Duration::from_secs(3600);

    fn at(hours: u64) -> SystemTime {
        UNIX_EPOCH + H * hours as u32 + Duration::from_secs(1_000_000_000)
    }

    fn policy(max: u64, files: u32, age: Option<Duration>) -> LogRetention {
        LogRetention {
            max_file_bytes: max,
            files,
            max_age: age,
        }
    }

    #[test]
    fn a_unit_setting_overrides_only_what_it_names() {
        let daemon = policy(8 << 20, 4, Some(H * 24));
        assert_eq!(daemon.with(&LogSpec::default()), daemon);
        let own = LogSpec {
            files: Some(2),
            ..LogSpec::default()
        };
        assert_eq!(daemon.with(&own), policy(8 << 20, 2, Some(H * 24)));
        let all = LogSpec {
            max_size: Some(64 << 10),
            files: Some(9),
            max_age: Some(H),
        };
        assert_eq!(daemon.with(&all), policy(64 << 10, 9, Some(H)));
        assert_eq!(daemon.rotated_files(), 3);
        assert_eq!(policy(1, 1, None).rotated_files(), 0);
        assert_eq!(LogRetention::default().describe(), "4 × 8 MiB");
        assert_eq!(
            policy(64 << 10, 2, Some(H * 24 * 7)).describe(),
            "2 × 64 KiB, at most 7d old"
        );
    }

    #[test]
    fn size_rotation_leaves_an_oversized_record_a_file_of_its_own() {
        let p = policy(100, 3, None);
        let now = at(0);
        assert_eq!(p.rotation(0, None, 500, now), None, "empty file: never");
        assert_eq!(p.rotation(60, Some(now), 40, now), None, "exactly full");
        assert_eq!(p.rotation(60, Some(now), 41, now), Some(Rotate::Size));
        assert_eq!(p.rotation(1, Some(now), 500, now), Some(Rotate::Size));
        assert_eq!(
            p.rotation(u64::MAX, None, u64::MAX, now),
            Some(Rotate::Size)
        );
    }

    #[test]
    fn age_rotation_once_the_oldest_line_is_max_age_old() {
        let p = policy(1 << 20, 3, Some(H * 24));
        assert_eq!(p.rotation(10, Some(at(0)), 10, at(23)), None);
        assert_eq!(p.rotation(10, Some(at(0)), 10, at(24)), Some(Rotate::Age));
        assert_eq!(p.rotation(10, None, 10, at(100)), None, "age unknown");
        assert_eq!(
            p.rotation(10, Some(at(5)), 10, at(0)),
            None,
            "clock went back"
        );
        assert_eq!(p.rotation(0, Some(at(0)), 10, at(100)), None, "empty file");
        let ageless = policy(1 << 20, 3, None);
        assert_eq!(ageless.rotation(10, Some(at(0)), 10, at(10_000)), None);
    }

    #[test]
    fn files_past_the_count_go() {
        let p = policy(100, 3, None);
        let now = at(0);
        let t = Some(now);
        assert_eq!(p.first_expired(&[t, t, t], now), None);
        assert_eq!(p.first_expired(&[t, t, t, t, None], now), Some(3));
        assert_eq!(p.first_expired(&[], now), None);
        let one = policy(100, 1, None);
        assert_eq!(one.first_expired(&[t, t], now), Some(1));
    }

    #[test]
    fn the_first_file_max_age_old_goes_with_every_older_one() {
        let p = policy(100, 5, Some(H * 24));
        let now = at(100);
        // Current (young), .1 (young), .2 (old), .3 (missing), .4 (old).
        let files = [Some(at(99)), Some(at(80)), Some(at(76)), None, Some(at(10))];
        assert_eq!(p.first_expired(&files, now), Some(2));
        // The current file itself, when nothing was written for a day.
        assert_eq!(p.first_expired(&[Some(at(70)), Some(at(60))], now), Some(0));
        // Exactly max_age old counts as old.
        assert_eq!(p.first_expired(&[Some(at(76))], now), Some(0));
        assert_eq!(p.first_expired(&[Some(at(77)), None], now), None);
        // The count wins when it cuts earlier than age does.
        let few = policy(100, 2, Some(H * 24));
        assert_eq!(few.first_expired(&files, now), Some(2));
        let fewer = policy(100, 1, Some(H * 24));
        assert_eq!(fewer.first_expired(&files, now), Some(1));
    }
}
