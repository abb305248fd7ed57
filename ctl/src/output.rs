//! Terminal output: colour only on a TTY with `NO_COLOR` unset, plain text
//! when piped, JSON printing, and simple aligned tables. Every write returns
//! an `io::Result`; [`crate::run`] treats a broken pipe as success so
//! `devctl status | head` never errors.

use std::io::{self, IsTerminal, Write};

use serde::Serialize;

/// Whether colour escapes may be used on a stream.
pub fn color_enabled(is_tty: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_tty && no_color.is_none_or(|v| v.is_empty())
}

/// Colour for stdout, from the real environment.
pub fn stdout_color() -> bool {
    color_enabled(
        io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// Colour for stderr, from the real environment.
pub fn stderr_color() -> bool {
    color_enabled(
        io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// ANSI styles, all empty when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub on: bool,
}

impl Style {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub fn green(self, s: &str) -> String {
        self.wrap("32", s)
    }
    pub fn red(self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    pub fn yellow(self, s: &str) -> String {
        self.wrap("33", s)
    }
    pub fn dim(self, s: &str) -> String {
        self.wrap("2", s)
    }
    /// One of six colours, chosen by `index` (per unit in merged logs).
    pub fn palette(self, index: usize, s: &str) -> String {
        const CODES: [&str; 6] = ["36", "35", "34", "33", "32", "96"];
        self.wrap(CODES[index % CODES.len()], s)
    }
}

/// Where an [`Out`] writes: stdout, or memory (the MCP server runs verbs
/// and returns their output as tool results, stdout being its protocol).
enum Sink {
    Stdout(io::BufWriter<io::Stdout>),
    Memory(Vec<u8>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::Memory(v) => v.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::Memory(_) => Ok(()),
        }
    }
}

/// Buffered stdout with explicit error propagation (no `println!`, which
/// panics on a closed pipe).
pub struct Out {
    inner: Sink,
    pub style: Style,
}

impl Out {
    pub fn new(color: bool) -> Out {
        Out {
            inner: Sink::Stdout(io::BufWriter::new(io::stdout())),
            style: Style { on: color },
        }
    }
    /// Output kept in memory, without colour ([`Out::captured`] reads it).
    pub fn memory() -> Out {
        Out {
            inner: Sink::Memory(Vec::new()),
            style: Style { on: false },
        }
    }
    /// What a [`Out::memory`] has received so far (empty for stdout).
    pub fn captured(&self) -> &[u8] {
        match &self.inner {
            Sink::Memory(v) => v,
            Sink::Stdout(_) => &[],
        }
    }
    /// Write one line.
    pub fn line(&mut self, s: &str) -> io::Result<()> {
        self.inner.write_all(s.as_bytes())?;
        self.inner.write_all(b"\n")
    }
    /// Write text as is.
    pub fn raw(&mut self, s: &str) -> io::Result<()> {
        self.inner.write_all(s.as_bytes())
    }
    /// Pretty JSON, one value.
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut self.inner, value).map_err(io::Error::other)?;
        self.inner.write_all(b"\n")
    }
    /// Compact JSON on one line (NDJSON streams).
    pub fn json_line<T: Serialize + ?Sized>(&mut self, value: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.inner, value).map_err(io::Error::other)?;
        self.inner.write_all(b"\n")
    }
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Width of a string as shown, ignoring ANSI escapes.
pub fn visible_width(s: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => width += 1,
        }
    }
    width
}

/// Align rows into columns separated by two spaces; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>], style: Style) -> Vec<String> {
    let cols = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            widths[i] = widths[i].max(visible_width(cell));
        }
    }
    let fmt_row = |cells: Vec<String>| -> String {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < cells.len() {
                line.push_str(&" ".repeat(widths[i] - visible_width(cell) + 2));
            }
        }
        line.trim_end().to_string()
    };
    let mut out = vec![fmt_row(header.iter().map(|h| style.bold(h)).collect())];
    out.extend(rows.iter().map(|r| fmt_row(r.clone())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_tty_without_no_color() {
        assert!(color_enabled(true, None));
        assert!(!color_enabled(false, None));
        assert!(!color_enabled(true, Some(OsStr::new("1"))));
        assert!(color_enabled(true, Some(OsStr::new(""))));
    }

    #[test]
    fn table_aligns_and_ignores_escapes() {
        let plain = Style { on: false };
        let rows = vec![
            vec!["web".into(), "active".into()],
            vec!["database".into(), "inactive".into()],
        ];
        let t = table(&["UNIT", "ACTIVE"], &rows, plain);
        assert_eq!(
            t,
            ["UNIT      ACTIVE", "web       active", "database  inactive"]
        );
        let color = Style { on: true };
        let rows = vec![vec![color.green("web"), "x".into()]];
        let t = table(&["UNIT", "A"], &rows, color);
        assert_eq!(visible_width(&t[1]), "UNIT  x".len());
    }

    #[test]
    fn style_off_is_plain() {
        let s = Style { on: false };
        assert_eq!(s.red("x"), "x");
        assert_eq!(s.palette(3, "y"), "y");
        assert_eq!(Style { on: true }.green("x"), "\x1b[32mx\x1b[0m");
    }
}
