//! `devctl ui`'s loop: connect like every verb does, take the terminal,
//! then wait for whatever comes first — a key, a message from a daemon
//! task ([`feed::Msg`]), a signal, or the one timer that matters now (the
//! next uptime change on screen, the spinner while an action runs, a
//! throttled list refresh, a reconnect). Nothing is drawn unless something
//! changed, and at most one frame per [`FRAME`]: a burst of a thousand
//! events costs a few frames, an idle screen none.

use std::io::IsTerminal;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use devctl_units::ProjectName;
use ratatui::crossterm::event::{
    Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers, MouseEventKind,
};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::unbounded_channel;
use tokio::task::JoinHandle;
use tokio::time::sleep_until;

use super::feed::{self, Msg};
use super::model::{App, Effect, Key, Notice, Scope, key_list, verb_progress};
use super::render::{self, Look};
use super::terminal;
use super::view::{self, Tone};
use crate::client::Client;
use crate::error::CtlError;
use crate::exit::Exit;
use crate::opts::Context;
use crate::session::{self, Access};

/// The shortest time between two frames.
pub const FRAME: Duration = Duration::from_millis(33);
/// How often the running units' CPU and memory are fetched again.
const USAGE_PERIOD: Duration = Duration::from_secs(2);
/// The shortest time between two unit-list fetches of one burst of events.
pub const REFRESH_GAP: Duration = Duration::from_millis(250);
/// Events are let gather this long before a list is fetched.
pub const REFRESH_DELAY: Duration = Duration::from_millis(20);
const SPIN: Duration = Duration::from_millis(100);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A terminal key as the model's [`Key`].
pub fn key_of(code: KeyCode, mods: KeyModifiers) -> Option<Key> {
    let chord = mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    Some(match code {
        KeyCode::Char('c') if mods.contains(KeyModifiers::CONTROL) => Key::Interrupt,
        // Ctrl-S is not `s`: a chord must not start or stop anything.
        KeyCode::Char(_) if chord => return None,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab | KeyCode::BackTab => Key::Tab,
        KeyCode::Backspace => Key::Backspace,
        _ => return None,
    })
}

/// `devctl ui [--all] [--mouse]`.
pub async fn run(ctx: &Context, all: bool, mouse: bool) -> Result<Exit, CtlError> {
    if all && ctx.project.is_some() {
        return Err(CtlError::Usage {
            message: "devctl ui shows one project (-p PROJECT) or every project (--all), not both"
                .into(),
        });
    }
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(CtlError::Usage {
            message: "devctl ui needs a terminal on stdin and stdout; in scripts use `devctl status` or `devctl logs -f`".into(),
        });
    }
    let (client, scope) = if all {
        let paths = devctl_units::paths::Paths::from_env()?;
        (crate::daemon::connect(&paths, ctx.quiet).await?, Scope::All)
    } else {
        let s = session::open(ctx, Access::ReadOnly).await?;
        (s.client, Scope::Project(s.project))
    };
    let colour = crate::output::color_enabled(true, std::env::var_os("NO_COLOR").as_deref());
    let keys = terminal::input().map_err(io_error)?;
    let mut tty = terminal::enter(mouse).map_err(io_error)?;
    let outcome = Loop::new(client, scope, colour, ctx.timeout_ms())
        .run(&mut tty, keys)
        .await;
    drop(tty);
    outcome.map(|()| Exit::Ok)
}

fn io_error(source: std::io::Error) -> CtlError {
    CtlError::Io {
        path: "<terminal>".into(),
        source,
    }
}

struct Loop {
    app: App,
    client: Client,
    colour: bool,
    timeout_ms: Option<u64>,
    tx: tokio::sync::mpsc::UnboundedSender<Msg>,
    rx: tokio::sync::mpsc::UnboundedReceiver<Msg>,
    events: Option<JoinHandle<()>>,
    logs: Vec<JoinHandle<()>>,
    generation: u64,
    next_id: u64,
    /// A list fetch is wanted / running / may start at.
    refresh_wanted: bool,
    refresh_running: bool,
    refresh_at: Instant,
    reconnect_at: Option<Instant>,
    reconnect_delay: Duration,
    /// When the running units' CPU and memory are fetched again.
    usage_at: Instant,
    /// A frame is due (not drawn before `last_frame + FRAME`).
    draw: bool,
    last_frame: Instant,
    frame: usize,
}

impl Loop {
    fn new(client: Client, scope: Scope, colour: bool, timeout_ms: Option<u64>) -> Loop {
        let (tx, rx) = unbounded_channel();
        Loop {
            app: App::new(scope),
            client,
            colour,
            timeout_ms,
            tx,
            rx,
            events: None,
            logs: Vec::new(),
            generation: 0,
            next_id: 0,
            refresh_wanted: false,
            refresh_running: false,
            refresh_at: Instant::now(),
            reconnect_at: None,
            reconnect_delay: Duration::from_millis(500),
            usage_at: Instant::now() + USAGE_PERIOD,
            draw: true,
            last_frame: Instant::now() - FRAME,
            frame: 0,
        }
    }

    fn project(&self) -> Option<ProjectName> {
        match &self.app.scope {
            Scope::Project(p) => Some(p.clone()),
            Scope::All => None,
        }
    }

    fn subscribe(&mut self) {
        if let Some(h) = self.events.take() {
            h.abort();
        }
        self.events = Some(feed::events(
            self.client.clone(),
            self.project(),
            self.tx.clone(),
        ));
    }

    fn refollow(&mut self, units: &[super::model::UnitKey]) {
        for h in self.logs.drain(..) {
            h.abort();
        }
        self.generation += 1;
        // The new streams start with history: what the pane held would repeat.
        self.app.logs.clear();
        self.logs = feed::follow(&self.client, self.generation, units, &self.tx);
    }

    fn effect(&mut self, e: Effect) -> bool {
        match e {
            Effect::Quit => return false,
            Effect::Follow(units) => self.refollow(&units),
            Effect::Detail(unit) => feed::detail(self.client.clone(), unit, self.tx.clone()),
            Effect::Job { verb, units } => {
                self.next_id += 1;
                let text = format!("{} {}", verb_progress(verb), key_list(&units));
                self.app.begin(self.next_id, text);
                let (c, tx) = (self.client.clone(), self.tx.clone());
                feed::job(c, self.next_id, verb, units, self.timeout_ms, tx);
            }
            Effect::Enable { units, enable } => {
                self.next_id += 1;
                let word = if enable { "enabling" } else { "disabling" };
                self.app
                    .begin(self.next_id, format!("{word} {}", key_list(&units)));
                let (c, tx) = (self.client.clone(), self.tx.clone());
                feed::enablement(c, self.next_id, units, enable, tx);
            }
        }
        true
    }

    fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::EventsUp => {
                self.app.offline = None;
                self.reconnect_delay = Duration::from_millis(500);
                self.refresh_wanted = true;
                self.refresh_at = Instant::now();
                if !self.app.followed.is_empty() {
                    let f = self.app.followed.clone();
                    self.refollow(&f);
                }
            }
            Msg::Event(e) => {
                if self.app.apply_event(&e).is_some() && !self.refresh_wanted {
                    self.refresh_wanted = true;
                    self.refresh_at = self.refresh_at.max(Instant::now() + REFRESH_DELAY);
                }
            }
            Msg::EventsDown(why) => {
                self.app.offline = Some(why);
                self.reconnect_at = Some(Instant::now() + self.reconnect_delay);
                self.reconnect_delay = (self.reconnect_delay * 2).min(Duration::from_secs(5));
            }
            Msg::Units { project, answer } => {
                self.refresh_running = false;
                match answer {
                    Ok(list) => {
                        if let Some(Effect::Follow(u)) =
                            self.app.replace_units(project.as_ref(), list)
                        {
                            self.refollow(&u);
                        }
                    }
                    Err(e) => self.app.notice = Some(super::model::error_notice(&e)),
                }
            }
            Msg::Log { generation, record } => {
                if generation == self.generation {
                    self.app.logs.push(*record);
                }
            }
            Msg::LogDown { generation, why } => {
                if generation == self.generation {
                    self.app.notice = Some(Notice {
                        text: format!("log stream ended: {why} (move the cursor to reopen it)"),
                        tone: Tone::Bad,
                    });
                }
            }
            Msg::LogNotice {
                generation,
                message,
            } => {
                if generation == self.generation {
                    self.app.notice = Some(Notice {
                        text: format!("logs: {message}"),
                        tone: Tone::Bad,
                    });
                }
            }
            Msg::Detail { unit, answer } => self.app.set_detail(&unit, *answer, now_ms()),
            Msg::Done { id, notice } => self.app.finish(id, notice),
        }
    }

    /// The next moment something on screen changes by itself.
    fn next_timer(&self) -> Option<Instant> {
        let now = Instant::now();
        let mut at: Option<Instant> = None;
        let mut consider = |t: Instant| at = Some(at.map_or(t, |a| a.min(t)));
        if self.draw {
            consider(self.last_frame + FRAME);
        }
        if self.refresh_wanted && !self.refresh_running {
            consider(self.refresh_at);
        }
        if let Some(r) = self.reconnect_at {
            consider(r);
        }
        if self.app.units.iter().any(|u| u.main_pid.is_some()) {
            consider(self.usage_at);
        }
        if !self.app.busy.is_empty() {
            consider(now + SPIN);
        }
        let wall = now_ms();
        let visible = self
            .app
            .units
            .iter()
            .skip(self.app.table_offset)
            .take(self.app.table_rows);
        if let Some(d) = visible
            .filter_map(|u| view::uptime(u, wall))
            .map(|d| view::until_next_change(d, wall))
            .min()
        {
            consider(now + d);
        }
        at
    }

    fn on_timer(&mut self) {
        let now = Instant::now();
        // CPU and memory change without events: while something runs and
        // the screen is open, the list (sampled by the daemon) is fetched
        // again now and then.
        if now >= self.usage_at {
            self.usage_at = now + USAGE_PERIOD;
            if self.app.units.iter().any(|u| u.main_pid.is_some()) {
                self.refresh_wanted = true;
            }
        }
        if self.refresh_wanted && !self.refresh_running && now >= self.refresh_at {
            self.refresh_wanted = false;
            self.refresh_running = true;
            self.refresh_at = now + REFRESH_GAP;
            feed::units(self.client.clone(), self.project(), self.tx.clone());
        }
        if self.reconnect_at.is_some_and(|r| now >= r) {
            self.reconnect_at = None;
            self.subscribe();
        }
        self.frame = self.frame.wrapping_add(1);
        self.draw = true;
    }

    fn paint(&mut self, tty: &mut terminal::Tty) -> Result<(), CtlError> {
        let look = Look {
            colour: self.colour,
            now_ms: now_ms(),
            frame: self.frame,
        };
        let app = &mut self.app;
        tty.terminal
            .draw(|f| {
                // The size ratatui just read, so the terminal is asked once a frame.
                let (table_rows, log_rows) = render::content_rows(f.area(), app);
                app.fit_table(table_rows);
                app.log_rows = log_rows;
                render::draw(f, app, look)
            })
            .map_err(io_error)?;
        self.last_frame = Instant::now();
        self.draw = false;
        Ok(())
    }

    async fn run(
        mut self,
        tty: &mut terminal::Tty,
        mut keys: tokio::sync::mpsc::UnboundedReceiver<TermEvent>,
    ) -> Result<(), CtlError> {
        let mut term = signal(SignalKind::terminate()).map_err(io_error)?;
        let mut hup = signal(SignalKind::hangup()).map_err(io_error)?;
        let mut int = signal(SignalKind::interrupt()).map_err(io_error)?;
        self.subscribe();
        loop {
            if self.draw && Instant::now() >= self.last_frame + FRAME {
                self.paint(tty)?;
            }
            let timer = self.next_timer();
            let wake = async {
                match timer {
                    Some(t) => sleep_until(t.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                ev = keys.recv() => {
                    let Some(ev) = ev else { return Ok(()) };
                    if !self.on_terminal(ev) {
                        return Ok(());
                    }
                }
                msg = self.rx.recv() => {
                    if let Some(msg) = msg {
                        self.on_msg(msg);
                        // Take what else is queued before drawing once.
                        for _ in 0..4096 {
                            match self.rx.try_recv() {
                                Ok(m) => self.on_msg(m),
                                Err(_) => break,
                            }
                        }
                        self.draw = true;
                    }
                }
                () = wake => self.on_timer(),
                _ = term.recv() => return Ok(()),
                _ = hup.recv() => return Ok(()),
                _ = int.recv() => return Ok(()),
            }
        }
    }

    /// A terminal event; `false` means quit.
    fn on_terminal(&mut self, ev: TermEvent) -> bool {
        self.draw = true;
        let key = match ev {
            TermEvent::Key(k) if k.kind != KeyEventKind::Release => key_of(k.code, k.modifiers),
            TermEvent::Mouse(m) => match m.kind {
                MouseEventKind::ScrollUp => Some(Key::Up),
                MouseEventKind::ScrollDown => Some(Key::Down),
                _ => None,
            },
            _ => None,
        };
        let Some(key) = key else {
            return true;
        };
        for e in self.app.on_key(key) {
            if !self.effect(e) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chords_are_not_letters() {
        let none = KeyModifiers::NONE;
        assert_eq!(key_of(KeyCode::Char('s'), none), Some(Key::Char('s')));
        assert_eq!(
            key_of(KeyCode::Char('S'), KeyModifiers::SHIFT),
            Some(Key::Char('S'))
        );
        assert_eq!(key_of(KeyCode::Char('s'), KeyModifiers::CONTROL), None);
        assert_eq!(key_of(KeyCode::Char('x'), KeyModifiers::ALT), None);
        assert_eq!(
            key_of(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(Key::Interrupt)
        );
        assert_eq!(
            key_of(KeyCode::BackTab, KeyModifiers::SHIFT),
            Some(Key::Tab)
        );
        assert_eq!(key_of(KeyCode::F(1), none), None);
    }
}
