//! The view model of a live unit view: how states, readiness, results,
//! durations, ports, log lines and the progress summary read, as text plus
//! a [`Tone`]. Nothing here knows a terminal library, so a web dashboard
//! can show units the same way (a tone becomes a CSS class there, a
//! ratatui style in `devctl ui`).

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use devctl_units::api::{LogRecord, LogStream, UnitStatus};
use devctl_units::model::DepKind;
use devctl_units::state::{ActiveState, SubState, UnitResult};

/// How a piece of text should stand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    /// Running, ready, succeeded.
    Good,
    /// On its way somewhere (activating, deactivating, backoff).
    Busy,
    /// Failed, stderr.
    Bad,
    /// Secondary: placeholders, markers, timestamps.
    Dim,
}

/// One table cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
}

impl Cell {
    fn new(text: impl Into<String>, tone: Tone) -> Cell {
        Cell {
            text: text.into(),
            tone,
        }
    }
    fn none() -> Cell {
        Cell::new("-", Tone::Dim)
    }
}

/// The tone of an active state (as `status` colours it).
pub fn active_tone(a: ActiveState) -> Tone {
    match a {
        ActiveState::Active => Tone::Good,
        ActiveState::Failed => Tone::Bad,
        ActiveState::Activating | ActiveState::Deactivating => Tone::Busy,
        ActiveState::Inactive => Tone::Plain,
    }
}

/// `active running`, `failed`, `inactive`: the sub-state only where it
/// says more than the active state.
pub fn state_cell(active: ActiveState, sub: SubState) -> Cell {
    let implied = matches!(
        (active, sub),
        (ActiveState::Inactive, SubState::Dead) | (ActiveState::Failed, SubState::Failed)
    );
    let text = if implied {
        active.to_string()
    } else {
        format!("{active} {sub}")
    };
    let tone = match sub {
        SubState::Backoff => Tone::Busy,
        _ => active_tone(active),
    };
    Cell::new(text, tone)
}

/// `yes` / `no` / `-` (no readiness probe).
pub fn ready_cell(ready: Option<bool>) -> Cell {
    match ready {
        Some(true) => Cell::new("yes", Tone::Good),
        Some(false) => Cell::new("no", Tone::Busy),
        None => Cell::none(),
    }
}

/// The last result: `success` is good, anything else is why it failed.
pub fn result_cell(result: Option<UnitResult>) -> Cell {
    match result {
        None => Cell::none(),
        Some(UnitResult::Success) => Cell::new("success", Tone::Good),
        Some(r) => Cell::new(r.as_str(), Tone::Bad),
    }
}

/// A compact duration: `42s`, `3m07s`, `2h05m`, `3d04h`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

/// How long until [`short_duration`] of an uptime that is `elapsed` (whole
/// seconds, from [`uptime`]) at wall time `now_ms` reads differently: a
/// view redraws then, and not before. Uptimes count wall-clock seconds,
/// so every unit's seconds turn over together, once a second at most.
pub fn until_next_change(elapsed: Duration, now_ms: u64) -> Duration {
    let step = match elapsed.as_secs() {
        0..3600 => 1,
        3600..86400 => 60,
        _ => 3600,
    };
    let into_step = elapsed.as_secs() % step;
    let ms = (step - into_step) * 1000 - now_ms % 1000;
    Duration::from_millis(ms.max(1))
}

/// How long a unit has been up, while it is active or activating, in whole
/// wall-clock seconds (the seconds elapsed since the one it started in).
pub fn uptime(u: &UnitStatus, now_ms: u64) -> Option<Duration> {
    let up = matches!(u.active, ActiveState::Active | ActiveState::Activating);
    let since = u.since_ms.filter(|_| up)?;
    Some(Duration::from_secs(
        (now_ms / 1000).saturating_sub(since / 1000),
    ))
}

/// Columns of the unit table, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Project,
    Unit,
    Kind,
    State,
    Ready,
    Result,
    Restarts,
    Uptime,
    Pid,
    Cpu,
    Mem,
    Ports,
}

impl Column {
    /// Every column, in display order.
    pub const ALL: [Column; 12] = [
        Column::Project,
        Column::Unit,
        Column::Kind,
        Column::State,
        Column::Ready,
        Column::Result,
        Column::Restarts,
        Column::Uptime,
        Column::Pid,
        Column::Cpu,
        Column::Mem,
        Column::Ports,
    ];

    /// The header text.
    pub fn title(self) -> &'static str {
        match self {
            Column::Project => "PROJECT",
            Column::Unit => "UNIT",
            Column::Kind => "KIND",
            Column::State => "STATE",
            Column::Ready => "READY",
            Column::Result => "RESULT",
            Column::Restarts => "RESTARTS",
            Column::Uptime => "UPTIME",
            Column::Pid => "PID",
            Column::Cpu => "CPU",
            Column::Mem => "MEM",
            Column::Ports => "PORTS",
        }
    }

    /// Which columns go first when the screen is too narrow (higher: kept longer).
    pub fn priority(self) -> u8 {
        match self {
            Column::Unit | Column::State => 9,
            Column::Project => 8,
            Column::Result => 7,
            Column::Ready => 6,
            Column::Uptime => 5,
            Column::Pid => 4,
            Column::Kind => 3,
            Column::Restarts | Column::Mem => 2,
            Column::Ports | Column::Cpu => 1,
        }
    }
}

/// One cell of the unit table.
pub fn cell(u: &UnitStatus, col: Column, now_ms: u64) -> Cell {
    match col {
        Column::Project => Cell::new(u.project.as_str(), Tone::Plain),
        Column::Unit => Cell::new(u.name.as_str(), Tone::Plain),
        Column::Kind => Cell::new(u.kind.as_str(), Tone::Plain),
        Column::State => state_cell(u.active, u.sub),
        Column::Ready => ready_cell(u.ready),
        Column::Result => result_cell(u.result),
        Column::Restarts => {
            let tone = if u.restarts > 0 {
                Tone::Busy
            } else {
                Tone::Plain
            };
            Cell::new(u.restarts.to_string(), tone)
        }
        Column::Uptime => match uptime(u, now_ms) {
            Some(d) => Cell::new(short_duration(d), Tone::Plain),
            None => Cell::none(),
        },
        Column::Pid => match u.main_pid {
            Some(p) => Cell::new(p.to_string(), Tone::Plain),
            None => Cell::none(),
        },
        // The daemon samples the whole process tree for each answer.
        Column::Cpu => match u.usage.and_then(|x| x.cpu_percent) {
            Some(c) => Cell::new(format!("{c}%"), Tone::Plain),
            None => Cell::none(),
        },
        Column::Mem => match u.usage {
            Some(x) => Cell::new(crate::history::bytes(x.rss_bytes), Tone::Plain),
            None => Cell::none(),
        },
        Column::Ports if u.ports.is_empty() => Cell::none(),
        Column::Ports => Cell::new(
            u.ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(","),
            Tone::Plain,
        ),
    }
}

/// Counts behind the progress line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub active: usize,
    pub activating: usize,
    pub deactivating: usize,
    pub failed: usize,
    pub inactive: usize,
    /// Units with a readiness probe, and how many of them are ready.
    pub probed: usize,
    pub ready: usize,
}

impl Summary {
    /// Count `units`.
    pub fn of<'a>(units: impl IntoIterator<Item = &'a UnitStatus>) -> Summary {
        let mut s = Summary::default();
        for u in units {
            s.total += 1;
            match u.active {
                ActiveState::Active => s.active += 1,
                ActiveState::Activating => s.activating += 1,
                ActiveState::Deactivating => s.deactivating += 1,
                ActiveState::Failed => s.failed += 1,
                ActiveState::Inactive => s.inactive += 1,
            }
            if let Some(r) = u.ready {
                s.probed += 1;
                s.ready += usize::from(r);
            }
        }
        s
    }

    /// `4/7 active · 1 activating · 1 failed · 1 inactive · ready 3/4`:
    /// the parts that are not zero, each with its tone.
    pub fn parts(&self) -> Vec<Cell> {
        let mut v = vec![Cell::new(
            format!("{}/{} active", self.active, self.total),
            if self.active == self.total && self.total > 0 {
                Tone::Good
            } else {
                Tone::Plain
            },
        )];
        for (n, word, tone) in [
            (self.activating, "activating", Tone::Busy),
            (self.deactivating, "deactivating", Tone::Busy),
            (self.failed, "failed", Tone::Bad),
            (self.inactive, "inactive", Tone::Dim),
        ] {
            if n > 0 {
                v.push(Cell::new(format!("{n} {word}"), tone));
            }
        }
        if self.probed > 0 {
            let tone = if self.ready == self.probed {
                Tone::Good
            } else {
                Tone::Busy
            };
            v.push(Cell::new(
                format!("ready {}/{}", self.ready, self.probed),
                tone,
            ));
        }
        v
    }
}

/// A log line split for display: time of day (UTC, as `logs` prints it),
/// unit, text, and the tone that tells stdout, stderr and lifecycle
/// markers apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: String,
    pub unit: String,
    pub text: String,
    pub tone: Tone,
}

/// Split a record for display; markers read `-- exited 1 --` as in `logs`.
pub fn log_line(r: &LogRecord) -> LogLine {
    let t = humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_micros(r.time_us));
    let t = t.to_string();
    let time = t.get(11..23).unwrap_or(&t).to_string();
    let (text, tone) = match r.stream {
        LogStream::Stdout => (r.text.clone(), Tone::Plain),
        LogStream::Stderr => (r.text.clone(), Tone::Bad),
        LogStream::Marker => (format!("-- {} --", r.text), Tone::Dim),
    };
    LogLine {
        time,
        unit: r.unit.to_string(),
        text,
        tone,
    }
}

/// Dependencies both ways, for the detail view: what `u` requires and
/// wants (with the condition it waits for), and which units of `all`
/// require or want it.
pub fn dependency_lines(u: &UnitStatus, all: &[UnitStatus]) -> Vec<String> {
    let mut out = Vec::new();
    let mut forward: BTreeMap<DepKind, Vec<String>> = BTreeMap::new();
    for d in &u.deps {
        forward
            .entry(d.kind)
            .or_default()
            .push(format!("{} (until {})", d.unit, d.until.as_str()));
    }
    let mut backward: BTreeMap<DepKind, Vec<String>> = BTreeMap::new();
    for other in all.iter().filter(|o| o.project == u.project) {
        for d in other.deps.iter().filter(|d| d.unit == u.name) {
            backward
                .entry(d.kind)
                .or_default()
                .push(other.name.to_string());
        }
    }
    let words = |k: DepKind| match k {
        DepKind::Requires => ("   Requires", "Required by"),
        DepKind::Wants => ("      Wants", "  Wanted by"),
    };
    for kind in [DepKind::Requires, DepKind::Wants] {
        let (fwd, back) = words(kind);
        let f = forward.remove(&kind).unwrap_or_default();
        out.push(format!("{fwd}: {}", none_or_list(&f)));
        let b = backward.remove(&kind).unwrap_or_default();
        out.push(format!("{back}: {}", none_or_list(&b)));
    }
    out
}

fn none_or_list(v: &[String]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use devctl_units::api::RuntimeState;
    use devctl_units::model::{DepCondition, Dependency};
    use devctl_units::state::{EnableState, LoadState};
    use devctl_units::{ProjectName, UnitKind, UnitName};

    /// A unit as the daemon would list it.
    pub fn unit(name: &str, active: ActiveState, sub: SubState) -> UnitStatus {
        UnitStatus {
            project: ProjectName::new("pizzeria").unwrap(),
            name: UnitName::new(name).unwrap(),
            kind: UnitKind::Service,
            description: None,
            load: LoadState::Loaded,
            enabled: EnableState::Enabled,
            enabled_default: true,
            state: RuntimeState {
                active,
                sub,
                ..RuntimeState::default()
            },
            restart_limit: 10,
            pending_changes: 0,
            next_run_ms: None,
            ports: vec![],
            links: vec![],
            deps: vec![],
            log_tail: vec![],
            run: None,
            usual_ms: None,
            recent_runs: Vec::new(),
            usage: None,
        }
    }

    #[test]
    fn states_read_like_systemctl() {
        let c = state_cell(ActiveState::Active, SubState::Running);
        assert_eq!((c.text.as_str(), c.tone), ("active running", Tone::Good));
        assert_eq!(
            state_cell(ActiveState::Inactive, SubState::Dead).text,
            "inactive"
        );
        assert_eq!(
            state_cell(ActiveState::Failed, SubState::Failed).tone,
            Tone::Bad
        );
        assert_eq!(
            state_cell(ActiveState::Activating, SubState::Backoff).text,
            "activating backoff"
        );
        assert_eq!(result_cell(Some(UnitResult::ExitCode)).text, "exit-code");
        assert_eq!(result_cell(Some(UnitResult::ExitCode)).tone, Tone::Bad);
        assert_eq!(result_cell(None).text, "-");
        assert_eq!(ready_cell(Some(false)).text, "no");
    }

    #[test]
    fn durations_are_compact_and_know_when_they_change() {
        let s = Duration::from_secs;
        assert_eq!(short_duration(s(42)), "42s");
        assert_eq!(short_duration(s(187)), "3m07s");
        assert_eq!(short_duration(s(2 * 3600 + 5 * 60 + 9)), "2h05m");
        assert_eq!(short_duration(s(3 * 86400 + 4 * 3600)), "3d04h");
        assert_eq!(until_next_change(s(1), 10_250), Duration::from_millis(750));
        assert_eq!(until_next_change(s(3600 + 30), 10_000), s(30));
        assert_eq!(
            until_next_change(s(3600 + 30), 10_400),
            Duration::from_millis(29_600)
        );
        assert_eq!(until_next_change(s(86400), 0), s(3600));
    }

    #[test]
    fn uptime_only_while_up() {
        let mut u = unit("web", ActiveState::Active, SubState::Running);
        u.since_ms = Some(1_900);
        assert_eq!(uptime(&u, 61_000), Some(Duration::from_secs(60)));
        assert_eq!(uptime(&u, 60_999), Some(Duration::from_secs(59)));
        assert_eq!(cell(&u, Column::Uptime, 61_000).text, "1m00s");
        u.active = ActiveState::Failed;
        assert_eq!(uptime(&u, 61_000), None);
        assert_eq!(cell(&u, Column::Uptime, 61_000).text, "-");
    }

    #[test]
    fn summary_counts_and_words() {
        let mut a = unit("a", ActiveState::Active, SubState::Ready);
        a.ready = Some(true);
        let mut b = unit("b", ActiveState::Activating, SubState::Starting);
        b.ready = Some(false);
        let c = unit("c", ActiveState::Failed, SubState::Failed);
        let d = unit("d", ActiveState::Inactive, SubState::Dead);
        let s = Summary::of([&a, &b, &c, &d]);
        let words: Vec<String> = s.parts().into_iter().map(|c| c.text).collect();
        assert_eq!(
            words,
            [
                "1/4 active",
                "1 activating",
                "1 failed",
                "1 inactive",
                "ready 1/2"
            ]
        );
    }

    #[test]
    fn log_lines_tell_streams_apart() {
        let r = LogRecord {
            time_us: 3_723_004_000,
            project: ProjectName::new("p").unwrap(),
            unit: UnitName::new("web").unwrap(),
            stream: LogStream::Marker,
            text: "exited 1".into(),
        };
        let l = log_line(&r);
        assert_eq!(l.time, "01:02:03.004");
        assert_eq!((l.text.as_str(), l.tone), ("-- exited 1 --", Tone::Dim));
        let e = log_line(&LogRecord {
            stream: LogStream::Stderr,
            ..r
        });
        assert_eq!((e.text.as_str(), e.tone), ("exited 1", Tone::Bad));
    }

    #[test]
    fn dependencies_both_ways() {
        let mut web = unit("web", ActiveState::Active, SubState::Running);
        web.deps = vec![
            Dependency {
                unit: UnitName::new("db").unwrap(),
                kind: DepKind::Requires,
                until: DepCondition::Ready,
            },
            Dependency {
                unit: UnitName::new("cache").unwrap(),
                kind: DepKind::Wants,
                until: DepCondition::Started,
            },
        ];
        let db = unit("db", ActiveState::Active, SubState::Ready);
        let all = vec![web.clone(), db.clone()];
        let w = dependency_lines(&web, &all);
        assert_eq!(w[0], "   Requires: db (until ready)");
        assert_eq!(w[1], "Required by: -");
        assert_eq!(w[2], "      Wants: cache (until started)");
        let d = dependency_lines(&db, &all);
        assert_eq!(d[0], "   Requires: -");
        assert_eq!(d[1], "Required by: web");
    }
}
