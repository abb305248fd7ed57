//! The armed schedules of every loaded unit and their next fire times: a
//! pure table the manager consults (no channel, no clock of its own: every
//! call is given `now`). The manager sleeps until [`Schedules::deadline`]
//! and asks [`Schedules::due`] what fires, so nothing runs between fires.
//!
//! A schedule is armed when its unit is loaded and re-armed (anchored
//! anew) only when its definition changes. Fires missed while the daemon
//! was down, or while a turn ran late, are skipped: `due` re-arms on the
//! first fire time after `now`, never one in the past.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use devctl_units::{ProjectName, Schedule, UnitName};

/// One armed schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Armed {
    schedule: Schedule,
    /// When it was armed: `every` counts whole intervals from here.
    anchor: Timestamp,
    next: Option<Timestamp>,
}

/// Every armed schedule, by project and unit.
#[derive(Debug, Default)]
pub struct Schedules {
    armed: BTreeMap<(ProjectName, UnitName), Armed>,
}

impl Schedules {
    /// Make `project`'s armed schedules match `units` (name, schedule):
    /// new or changed ones armed from `now`, unchanged ones kept as they
    /// are, the others dropped.
    pub fn sync(
        &mut self,
        project: &ProjectName,
        units: &[(UnitName, Schedule)],
        now: Timestamp,
        tz: &TimeZone,
    ) {
        self.armed.retain(|(p, u), a| {
            p != project || units.iter().any(|(n, s)| n == u && *s == a.schedule)
        });
        for (name, schedule) in units {
            let key = (project.clone(), name.clone());
            self.armed.entry(key).or_insert_with(|| Armed {
                schedule: schedule.clone(),
                anchor: now,
                next: schedule.next_after(now, now, tz),
            });
        }
    }

    /// Drop every schedule of `project`.
    pub fn forget(&mut self, project: &ProjectName) {
        self.armed.retain(|(p, _), _| p != project);
    }

    /// The earliest fire time of all.
    pub fn deadline(&self) -> Option<Timestamp> {
        self.armed.values().filter_map(|a| a.next).min()
    }

    /// The units whose fire time has come by `now`, each once however
    /// many of its fires were missed; each is re-armed on its first fire
    /// time after `now`.
    pub fn due(&mut self, now: Timestamp, tz: &TimeZone) -> Vec<(ProjectName, UnitName)> {
        let mut out = Vec::new();
        for (key, a) in &mut self.armed {
            if a.next.is_some_and(|t| t <= now) {
                a.next = a.schedule.next_after(now, a.anchor, tz);
                out.push(key.clone());
            }
        }
        out
    }

    /// When `unit` fires next.
    pub fn next(&self, project: &ProjectName, unit: &UnitName) -> Option<Timestamp> {
        self.armed
            .get(&(project.clone(), unit.clone()))
            .and_then(|a| a.next)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn p() -> ProjectName {
        ProjectName::new("p").unwrap()
    }

    fn n(s: &str) -> UnitName {
        UnitName::new(s).unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn every(secs: u64) -> Schedule {
        Schedule::every(Duration::from_secs(secs)).unwrap()
    }

    #[test]
    fn fires_in_order_and_rearms_after_now() {
        let tz = TimeZone::UTC;
        let mut s = Schedules::default();
        let t0 = at("2026-01-10T12:00:00Z");
        s.sync(
            &p(),
            &[(n("fast"), every(2)), (n("slow"), every(5))],
            t0,
            &tz,
        );
        assert_eq!(s.deadline(), Some(at("2026-01-10T12:00:02Z")));
        assert!(s.due(at("2026-01-10T12:00:01Z"), &tz).is_empty());
        assert_eq!(
            s.due(at("2026-01-10T12:00:02Z"), &tz),
            vec![(p(), n("fast"))]
        );
        assert_eq!(s.next(&p(), &n("fast")), Some(at("2026-01-10T12:00:04Z")));
        assert_eq!(s.deadline(), Some(at("2026-01-10T12:00:04Z")));
    }

    #[test]
    fn a_late_turn_fires_once_and_skips_the_missed_fires() {
        let tz = TimeZone::UTC;
        let mut s = Schedules::default();
        s.sync(&p(), &[(n("b"), every(2))], at("2026-01-10T12:00:00Z"), &tz);
        // Woken 7 s late: three fires missed, one run, next on the grid.
        assert_eq!(s.due(at("2026-01-10T12:00:09Z"), &tz), vec![(p(), n("b"))]);
        assert_eq!(s.next(&p(), &n("b")), Some(at("2026-01-10T12:00:10Z")));
    }

    #[test]
    fn sync_keeps_unchanged_rearms_changed_and_drops_removed() {
        let tz = TimeZone::UTC;
        let mut s = Schedules::default();
        let t0 = at("2026-01-10T12:00:00Z");
        s.sync(&p(), &[(n("a"), every(10)), (n("b"), every(10))], t0, &tz);
        let later = at("2026-01-10T12:00:07Z");
        let cron: Schedule = "* * * * *".parse().unwrap();
        s.sync(&p(), &[(n("a"), every(10)), (n("c"), cron)], later, &tz);
        assert_eq!(s.next(&p(), &n("a")), Some(at("2026-01-10T12:00:10Z")));
        assert_eq!(s.next(&p(), &n("b")), None);
        assert_eq!(s.next(&p(), &n("c")), Some(at("2026-01-10T12:01:00Z")));
        s.sync(&p(), &[(n("a"), every(4))], later, &tz);
        assert_eq!(s.next(&p(), &n("a")), Some(at("2026-01-10T12:00:11Z")));
        s.forget(&p());
        assert_eq!(s.deadline(), None);
    }
}
