//! The state of `devctl ui` and how it changes: the units (a snapshot
//! from the API, kept live by the event stream), the cursor and the
//! multi-selection, which pane has the focus, the overlays (help, detail),
//! the search being typed, actions in flight and the last notice. Keys come
//! in as [`Key`] and go out as [`Effect`]s for the loop to carry out; no
//! terminal and no I/O here, so every rule is tested directly.

use std::collections::BTreeSet;
use std::time::Instant;

use devctl_units::api::{Event, EventKind, ExitInfo, JobResponse, JobVerb, UnitStatus};
use devctl_units::state::{ActiveState, EnableState};
use devctl_units::{ProjectName, UnitName};

use super::logpane::{Direction, LogPane};
use super::view::{self, Tone};
use crate::error::CtlError;
use crate::jobs::outcome_line;

/// A unit's identity across projects.
pub type UnitKey = (ProjectName, UnitName);

/// What the UI shows: one project, or every project the daemon knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Project(ProjectName),
    All,
}

/// Which pane keys go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Units,
    Logs,
}

/// A key, as the model understands it (the loop translates the terminal's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Enter,
    Esc,
    Tab,
    Backspace,
    Char(char),
    /// Ctrl-C: quit, as `q` does.
    Interrupt,
}

/// Something for the loop to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// start / stop / restart / trigger these units.
    Job {
        verb: JobVerb,
        units: Vec<UnitKey>,
    },
    /// enable or disable these units (persistently, not now).
    Enable {
        units: Vec<UnitKey>,
        enable: bool,
    },
    /// Fetch a unit's detail for the detail overlay.
    Detail(UnitKey),
    /// Follow the logs of these units (the pane was cleared).
    Follow(Vec<UnitKey>),
}

/// The `Enter` overlay: `status UNIT` and the dependencies both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub unit: UnitKey,
    /// `None` while the daemon's answer is awaited.
    pub lines: Option<Vec<String>>,
    pub scroll: usize,
}

/// A full-screen overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Detail(Detail),
}

/// A message in the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub tone: Tone,
}

/// An action in flight.
#[derive(Debug, Clone)]
pub struct Busy {
    pub id: u64,
    pub text: String,
    pub since: Instant,
}

/// Everything `devctl ui` shows.
#[derive(Debug)]
pub struct App {
    pub scope: Scope,
    /// Sorted by project, then name.
    pub units: Vec<UnitStatus>,
    pub loaded: bool,
    pub cursor: usize,
    pub selected: BTreeSet<UnitKey>,
    pub focus: Pane,
    pub logs: LogPane,
    pub followed: Vec<UnitKey>,
    pub overlay: Option<Overlay>,
    /// The search pattern being typed after `/`.
    pub input: Option<String>,
    pub notice: Option<Notice>,
    pub busy: Vec<Busy>,
    /// Why the daemon cannot be reached, while it cannot.
    pub offline: Option<String>,
    /// Rows of the log pane and the table, as last laid out (for paging).
    pub log_rows: usize,
    pub table_rows: usize,
    /// First table row in view.
    pub table_offset: usize,
}

/// The result of a job for the status line: the failures as `devctl`
/// reports them (`pz/web: failed (exec-failed): …`), else what was reached.
pub fn job_notice(verb: JobVerb, project: &ProjectName, r: &JobResponse) -> Notice {
    if r.timed_out {
        let what = r
            .outcomes
            .iter()
            .filter(|o| !o.ok)
            .map(|o| format!("{project}/{}", o.unit))
            .collect::<Vec<_>>()
            .join(", ");
        let what = if what.is_empty() {
            project.to_string()
        } else {
            what
        };
        return error_notice(&CtlError::TimedOut { what });
    }
    let failed: Vec<String> = r
        .outcomes
        .iter()
        .filter(|o| !o.ok)
        .map(|o| outcome_line(project, o))
        .collect();
    if !failed.is_empty() {
        return Notice {
            text: failed.join("; "),
            tone: Tone::Bad,
        };
    }
    let done = match verb {
        JobVerb::Start => "started",
        JobVerb::Stop => "stopped",
        JobVerb::Restart => "restarted",
        JobVerb::Trigger => "triggered",
        JobVerb::Up => "up",
        JobVerb::Down => "down",
    };
    Notice {
        text: format!("{done}: {}", names(project, r)),
        tone: Tone::Good,
    }
}

fn names(project: &ProjectName, r: &JobResponse) -> String {
    r.outcomes
        .iter()
        .map(|o| format!("{project}/{}", o.unit))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An error as the CLI prints it, on one line (`error: … help: …`).
pub fn error_notice(e: &CtlError) -> Notice {
    Notice {
        text: e.render_human(false).lines().collect::<Vec<_>>().join("  "),
        tone: Tone::Bad,
    }
}

/// `starting`, `stopping` …: the progress word of a verb.
pub fn verb_progress(verb: JobVerb) -> &'static str {
    match verb {
        JobVerb::Start => "starting",
        JobVerb::Stop => "stopping",
        JobVerb::Restart => "restarting",
        JobVerb::Trigger => "triggering",
        JobVerb::Up => "bringing up",
        JobVerb::Down => "bringing down",
    }
}

/// `pz/a, pz/b`.
pub fn key_list(units: &[UnitKey]) -> String {
    units
        .iter()
        .map(|(p, u)| format!("{p}/{u}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl App {
    pub fn new(scope: Scope) -> App {
        App {
            scope,
            units: Vec::new(),
            loaded: false,
            cursor: 0,
            selected: BTreeSet::new(),
            focus: Pane::Units,
            logs: LogPane::default(),
            followed: Vec::new(),
            overlay: None,
            input: None,
            notice: None,
            busy: Vec::new(),
            offline: None,
            log_rows: 10,
            table_rows: 10,
            table_offset: 0,
        }
    }

    fn key_of(u: &UnitStatus) -> UnitKey {
        (u.project.clone(), u.name.clone())
    }

    /// The unit under the cursor.
    pub fn current(&self) -> Option<&UnitStatus> {
        self.units.get(self.cursor)
    }

    /// Whether the table shows a PROJECT column (more than one project).
    pub fn many_projects(&self) -> bool {
        self.scope == Scope::All
    }

    /// What an action applies to: the selection, else the cursor's unit.
    pub fn targets(&self) -> Vec<UnitKey> {
        if !self.selected.is_empty() {
            return self.selected.iter().cloned().collect();
        }
        self.current().map(App::key_of).into_iter().collect()
    }

    /// Replace the units of `project` (every unit when `None`) with a
    /// fresh list from the API, keeping the cursor on the same unit.
    /// Returns the effect of a changed followed set, if any.
    pub fn replace_units(
        &mut self,
        project: Option<&ProjectName>,
        fresh: Vec<UnitStatus>,
    ) -> Option<Effect> {
        let at = self.current().map(App::key_of);
        match project {
            Some(p) => {
                self.units.retain(|u| &u.project != p);
                self.units
                    .extend(fresh.into_iter().filter(|u| &u.project == p));
            }
            None => self.units = fresh,
        }
        self.units
            .sort_by(|a, b| (&a.project, &a.name).cmp(&(&b.project, &b.name)));
        self.loaded = true;
        if let Some(at) = at
            && let Some(i) = self.units.iter().position(|u| App::key_of(u) == at)
        {
            self.cursor = i;
        }
        self.cursor = self.cursor.min(self.units.len().saturating_sub(1));
        let keys: BTreeSet<UnitKey> = self.units.iter().map(App::key_of).collect();
        self.selected.retain(|k| keys.contains(k));
        self.refollow()
    }

    fn unit_mut(&mut self, p: &ProjectName, n: &UnitName) -> Option<&mut UnitStatus> {
        self.units
            .iter_mut()
            .find(|u| &u.project == p && &u.name == n)
    }

    /// Apply a daemon event at once (the table changes without waiting
    /// for a refresh) and say which project needs a fresh list: events
    /// carry state, pid and enablement, not readiness or restart counts.
    pub fn apply_event(&mut self, e: &Event) -> Option<ProjectName> {
        let project = e.project.clone();
        match (&e.kind, &e.project, &e.unit) {
            (EventKind::DaemonStopping, ..) => {
                self.notice = Some(Notice {
                    text: "devctld is stopping".into(),
                    tone: Tone::Busy,
                });
                return None;
            }
            (EventKind::ProjectForgotten, Some(p), _) => {
                self.units.retain(|u| &u.project != p);
                self.cursor = self.cursor.min(self.units.len().saturating_sub(1));
                return None;
            }
            (kind, Some(p), Some(n)) => {
                let Some(u) = self.unit_mut(p, n) else {
                    return project;
                };
                match kind {
                    EventKind::StateChanged {
                        active,
                        sub,
                        result,
                        message,
                    } => {
                        if u.active != *active {
                            u.since_ms = Some(e.time_ms);
                        }
                        u.active = *active;
                        u.sub = *sub;
                        u.result = *result;
                        u.message = message.clone();
                        if matches!(active, ActiveState::Inactive | ActiveState::Failed) {
                            u.main_pid = None;
                        }
                    }
                    EventKind::Spawned { pid } => u.main_pid = Some(*pid),
                    EventKind::Exited { code, signal } => {
                        u.last_exit = Some(ExitInfo {
                            code: *code,
                            signal: *signal,
                            at_ms: e.time_ms,
                        });
                    }
                    EventKind::RestartScheduled { attempt, .. } => {
                        u.restarts = u.restarts.max(*attempt);
                    }
                    EventKind::EnablementChanged { enabled } => u.enabled = *enabled,
                    _ => {}
                }
            }
            _ => {}
        }
        project
    }

    /// The units whose logs the pane follows: the selection, else the cursor's.
    fn wanted_follow(&self) -> Vec<UnitKey> {
        self.targets()
    }

    fn refollow(&mut self) -> Option<Effect> {
        let want = self.wanted_follow();
        if want == self.followed {
            return None;
        }
        self.followed = want.clone();
        self.logs.clear();
        Some(Effect::Follow(want))
    }

    fn move_cursor(&mut self, to: usize) -> Option<Effect> {
        if self.units.is_empty() {
            return None;
        }
        self.cursor = to.min(self.units.len() - 1);
        self.refollow()
    }

    /// Keep the cursor's row in view of a table showing `rows` rows.
    pub fn fit_table(&mut self, rows: usize) {
        self.table_rows = rows.max(1);
        if self.cursor < self.table_offset {
            self.table_offset = self.cursor;
        } else if self.cursor >= self.table_offset + self.table_rows {
            self.table_offset = self.cursor + 1 - self.table_rows;
        }
        let max = self.units.len().saturating_sub(self.table_rows);
        self.table_offset = self.table_offset.min(max);
    }

    /// Handle one key.
    pub fn on_key(&mut self, key: Key) -> Vec<Effect> {
        if let Some(text) = &mut self.input {
            match key {
                Key::Char(c) => text.push(c),
                Key::Backspace => {
                    text.pop();
                }
                Key::Esc | Key::Interrupt => self.input = None,
                Key::Enter => {
                    let pattern = self.input.take().unwrap_or_default();
                    self.focus = Pane::Logs;
                    self.notice = match self.logs.set_search(&pattern) {
                        Err(e) => Some(Notice {
                            text: format!("error: invalid search pattern: {e}")
                                .lines()
                                .collect::<Vec<_>>()
                                .join(" "),
                            tone: Tone::Bad,
                        }),
                        Ok(()) => self.search_notice(),
                    };
                }
                _ => {}
            }
            return Vec::new();
        }
        match &mut self.overlay {
            Some(Overlay::Help) => {
                if matches!(key, Key::Interrupt) {
                    return vec![Effect::Quit];
                }
                self.overlay = None;
                return Vec::new();
            }
            Some(Overlay::Detail(d)) => {
                match key {
                    Key::Up | Key::Char('k') => d.scroll = d.scroll.saturating_sub(1),
                    Key::Down | Key::Char('j') => d.scroll += 1,
                    Key::PageUp => d.scroll = d.scroll.saturating_sub(10),
                    Key::PageDown => d.scroll += 10,
                    Key::Interrupt => return vec![Effect::Quit],
                    _ => self.overlay = None,
                }
                return Vec::new();
            }
            None => {}
        }
        let logs = self.focus == Pane::Logs;
        let page = self.log_rows.max(2) - 1;
        let effect = match key {
            Key::Char('q') | Key::Interrupt => Some(Effect::Quit),
            Key::Char('?') => {
                self.overlay = Some(Overlay::Help);
                None
            }
            Key::Tab => {
                self.focus = if logs { Pane::Units } else { Pane::Logs };
                None
            }
            Key::Up | Key::Char('k') if logs => {
                self.logs.scroll_up(1);
                None
            }
            Key::Down | Key::Char('j') if logs => {
                self.logs.scroll_down(1);
                None
            }
            Key::PageUp if logs => {
                self.logs.scroll_up(page);
                None
            }
            Key::PageDown if logs => {
                self.logs.scroll_down(page);
                None
            }
            Key::Home | Key::Char('g') if logs => {
                self.logs.to_start();
                None
            }
            Key::End | Key::Char('G') if logs => {
                self.logs.to_end();
                None
            }
            Key::Up | Key::Char('k') => self.move_cursor(self.cursor.saturating_sub(1)),
            Key::Down | Key::Char('j') => self.move_cursor(self.cursor + 1),
            Key::PageUp => self.move_cursor(self.cursor.saturating_sub(self.table_rows)),
            Key::PageDown => self.move_cursor(self.cursor + self.table_rows),
            Key::Home | Key::Char('g') => self.move_cursor(0),
            Key::End | Key::Char('G') => self.move_cursor(usize::MAX),
            Key::Char(' ') => {
                if let Some(k) = self.current().map(App::key_of)
                    && !self.selected.remove(&k)
                {
                    self.selected.insert(k);
                }
                self.refollow()
            }
            Key::Esc => {
                self.selected.clear();
                self.refollow()
            }
            Key::Char('s') => self.job(JobVerb::Start),
            Key::Char('x') => self.job(JobVerb::Stop),
            Key::Char('r') => self.job(JobVerb::Restart),
            Key::Char('t') => self.job(JobVerb::Trigger),
            Key::Char('e') => return self.toggle_enable(),
            Key::Enter => {
                let k = self.current().map(App::key_of);
                k.map(|k| {
                    self.overlay = Some(Overlay::Detail(Detail {
                        unit: k.clone(),
                        lines: None,
                        scroll: 0,
                    }));
                    Effect::Detail(k)
                })
            }
            Key::Char('/') => {
                self.input = Some(String::new());
                None
            }
            Key::Char('n') | Key::Char('N') => {
                let dir = if key == Key::Char('n') {
                    Direction::Older
                } else {
                    Direction::Newer
                };
                if self.logs.search.is_some() {
                    self.logs.jump(dir, false);
                    self.notice = self.search_notice();
                }
                None
            }
            Key::Char('f') => {
                self.logs.toggle_follow();
                None
            }
            Key::Char('w') => {
                self.logs.wrap = !self.logs.wrap;
                None
            }
            _ => None,
        };
        effect.into_iter().collect()
    }

    fn search_notice(&self) -> Option<Notice> {
        let s = self.logs.search.as_ref()?;
        Some(if s.count == 0 {
            Notice {
                text: format!("pattern not found: {}", s.text),
                tone: Tone::Bad,
            }
        } else {
            Notice {
                text: format!(
                    "/{}: {} matching line{}",
                    s.text,
                    s.count,
                    if s.count == 1 { "" } else { "s" }
                ),
                tone: Tone::Plain,
            }
        })
    }

    fn job(&mut self, verb: JobVerb) -> Option<Effect> {
        let units = self.targets();
        (!units.is_empty()).then_some(Effect::Job { verb, units })
    }

    /// `e`: disabled targets get enabled, the others disabled.
    fn toggle_enable(&mut self) -> Vec<Effect> {
        let targets = self.targets();
        let disabled = |k: &UnitKey| {
            self.units
                .iter()
                .find(|u| u.project == k.0 && u.name == k.1)
                .is_some_and(|u| u.enabled == EnableState::Disabled)
        };
        let (enable, disable): (Vec<UnitKey>, Vec<UnitKey>) =
            targets.into_iter().partition(|k| disabled(k));
        let mut out = Vec::new();
        if !enable.is_empty() {
            out.push(Effect::Enable {
                units: enable,
                enable: true,
            });
        }
        if !disable.is_empty() {
            out.push(Effect::Enable {
                units: disable,
                enable: false,
            });
        }
        out
    }

    /// The detail overlay's content arrived.
    pub fn set_detail(&mut self, unit: &UnitKey, answer: Result<UnitStatus, CtlError>, now: u64) {
        let Some(Overlay::Detail(d)) = &mut self.overlay else {
            return;
        };
        if &d.unit != unit {
            return;
        }
        d.lines = Some(match answer {
            Ok(u) => {
                let mut l = crate::query::detail_lines(&u, now, crate::output::Style { on: false });
                // The log tail is what the log pane shows; the detail keeps
                // the status block and adds the dependency graph.
                l.truncate(l.len() - u.log_tail.len());
                while l.last().is_some_and(|s| s.is_empty()) {
                    l.pop();
                }
                l.push(String::new());
                l.extend(view::dependency_lines(&u, &self.units));
                l
            }
            Err(e) => e.render_human(false).lines().map(String::from).collect(),
        });
    }

    /// An action began.
    pub fn begin(&mut self, id: u64, text: String) {
        self.busy.push(Busy {
            id,
            text,
            since: Instant::now(),
        });
    }

    /// An action ended with `notice`.
    pub fn finish(&mut self, id: u64, notice: Notice) {
        self.busy.retain(|b| b.id != id);
        self.notice = Some(notice);
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
