//! The terminal while `devctl ui` runs: raw mode, the alternate screen, a
//! hidden cursor and (only with `--mouse`) mouse capture, undone on every
//! way out: a normal return and an error drop the guard, a panic anywhere
//! (a task included) restores the terminal in the panic hook before the
//! message is printed, and the loop turns SIGTERM/SIGHUP/SIGINT into a
//! normal return. Keys are read on a thread of their own that blocks in
//! the terminal read, so an idle UI makes no system calls.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// Whether the terminal is in the UI's state (restoring twice is harmless,
/// but the panic hook must not write escapes to a terminal never entered).
static ENTERED: AtomicBool = AtomicBool::new(false);
static MOUSE: AtomicBool = AtomicBool::new(false);

/// The terminal in the UI's state; dropping it restores the terminal.
pub struct Tty {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

/// Put the terminal back as it was. Safe to call more than once.
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    if MOUSE.swap(false, Ordering::SeqCst) {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(out, LeaveAlternateScreen, cursor::Show);
    let _ = disable_raw_mode();
    let _ = out.flush();
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
        // A panicking task must not leave the UI running on a restored terminal.
        std::process::exit(101);
    }));
}

/// Enter the UI's terminal state.
pub fn enter(mouse: bool) -> io::Result<Tty> {
    install_panic_hook();
    enable_raw_mode()?;
    ENTERED.store(true, Ordering::SeqCst);
    let mut out = io::stdout();
    let entered = execute!(out, EnterAlternateScreen, cursor::Hide).and_then(|()| {
        if mouse {
            MOUSE.store(true, Ordering::SeqCst);
            execute!(out, EnableMouseCapture)?;
        }
        Terminal::new(CrosstermBackend::new(io::stdout()))
    });
    match entered {
        Ok(terminal) => Ok(Tty { terminal }),
        Err(e) => {
            restore();
            Err(e)
        }
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        restore();
    }
}

/// Terminal input (keys, resizes, mouse) from a reader thread.
pub fn input() -> io::Result<UnboundedReceiver<Event>> {
    let (tx, rx) = unbounded_channel();
    std::thread::Builder::new()
        .name("devctl-ui-keys".into())
        .spawn(move || {
            while let Ok(ev) = event::read() {
                if tx.send(ev).is_err() {
                    break;
                }
            }
        })?;
    Ok(rx)
}
