//! Drawing `devctl ui` with ratatui: the title and progress line, the unit
//! table (columns dropped by priority when the screen is narrow), the log
//! pane (merged lines, stderr and lifecycle markers told apart, search
//! matches marked, wrap or cut), the status line, the key footer and the
//! help and detail overlays. Text comes from [`super::view`]; this module
//! only lays it out and styles it (no colour under `NO_COLOR`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Wrap};
use unicode_width::UnicodeWidthChar;

use super::model::{App, Overlay, Pane};
use super::view::{self, Column, Tone};

/// What a frame depends on besides the model.
#[derive(Debug, Clone, Copy)]
pub struct Look {
    /// Colours allowed (a TTY without `NO_COLOR`).
    pub colour: bool,
    /// Wall clock, for uptimes.
    pub now_ms: u64,
    /// Spinner frame, while actions are in flight.
    pub frame: usize,
}

/// The keys, as the help overlay lists them.
pub const KEYS: &[(&str, &str)] = &[
    ("↑ ↓  j k", "move (units) / scroll (logs)"),
    ("PgUp PgDn g G", "page, first, last"),
    ("space", "select / unselect (several units)"),
    ("Esc", "clear the selection"),
    ("s", "start"),
    ("x", "stop"),
    ("r", "restart"),
    ("t", "trigger (re-run a build, restart a service)"),
    ("e", "enable / disable (persistent; not now)"),
    ("Enter", "detail: status and dependencies both ways"),
    ("/", "search the log pane (regex)"),
    ("n N", "older / newer match"),
    ("f", "follow the newest line on/off"),
    ("w", "wrap long lines on/off"),
    ("Tab", "switch pane (units / logs)"),
    ("?", "this help"),
    ("q", "quit"),
];

/// The footer's hints, most useful first (an 80-column footer shows the
/// actions, detail and search); `? help  q quit` always shows.
const HINTS: &[(&str, &str)] = &[
    ("s", "start"),
    ("x", "stop"),
    ("r", "restart"),
    ("t", "trigger"),
    ("e", "enable"),
    ("⏎", "detail"),
    ("/", "search"),
    ("space", "select"),
    ("jk", "move"),
    ("f", "follow"),
    ("w", "wrap"),
    ("Tab", "pane"),
];

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

fn tone_style(t: Tone, colour: bool) -> Style {
    let s = Style::default();
    match (t, colour) {
        (Tone::Plain, _) => s,
        (Tone::Good, true) => s.fg(Color::Green),
        (Tone::Busy, true) => s.fg(Color::Yellow),
        (Tone::Bad, true) => s.fg(Color::Red).add_modifier(Modifier::BOLD),
        (Tone::Bad, false) => s.add_modifier(Modifier::BOLD),
        (Tone::Dim, _) => s.add_modifier(Modifier::DIM),
        (_, false) => s,
    }
}

/// One of six colours per unit in merged logs (as `devctl logs` does).
fn unit_style(i: usize, colour: bool) -> Style {
    const C: [Color; 6] = [
        Color::Cyan,
        Color::Magenta,
        Color::Blue,
        Color::Yellow,
        Color::Green,
        Color::LightCyan,
    ];
    if colour {
        Style::default().fg(C[i % C.len()])
    } else {
        Style::default()
    }
}

/// The screen's areas.
pub struct Areas {
    pub title: Rect,
    pub table: Rect,
    pub logs: Rect,
    pub status: Rect,
    pub footer: Rect,
}

/// Rows the status line needs: a notice longer than the screen is wide
/// (an error with its help) wraps onto up to three rows.
fn status_rows(app: &App, width: u16) -> u16 {
    let text = match (&app.input, app.busy.is_empty(), &app.notice) {
        (None, true, Some(n)) => n.text.as_str(),
        _ => return 1,
    };
    let w = usize::from(width.max(1));
    text_width(text).div_ceil(w).clamp(1, 3) as u16
}

/// Split the screen: the table takes what its rows need, up to about two
/// fifths; the log pane the rest.
pub fn layout(area: Rect, app: &App) -> Areas {
    let status_h = status_rows(app, area.width);
    let body = area.height.saturating_sub(2 + status_h);
    let want = app.units.len().min(usize::from(u16::MAX - 1)) as u16 + 1;
    let table = want.min((body * 2 / 5).max(4)).min(body);
    let [title, table, logs, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(table),
        Constraint::Min(0),
        Constraint::Length(status_h),
        Constraint::Length(1),
    ])
    .areas(area);
    Areas {
        title,
        table,
        logs,
        status,
        footer,
    }
}

/// Rows the table and the log pane have for content, at this size.
pub fn content_rows(area: Rect, app: &App) -> (usize, usize) {
    let a = layout(area, app);
    (
        a.table.height.saturating_sub(1) as usize,
        a.logs.height.saturating_sub(1) as usize,
    )
}

/// Draw one frame.
pub fn draw(f: &mut Frame, app: &App, look: Look) {
    let a = layout(f.area(), app);
    draw_title(f, app, look, a.title);
    draw_table(f, app, look, a.table);
    draw_logs(f, app, look, a.logs);
    draw_status(f, app, look, a.status);
    draw_footer(f, look, a.footer);
    match &app.overlay {
        Some(Overlay::Help) => draw_help(f, look),
        Some(Overlay::Detail(d)) => draw_detail(f, d, look),
        None => {}
    }
}

fn draw_title(f: &mut Frame, app: &App, look: Look, area: Rect) {
    let scope = match &app.scope {
        super::model::Scope::Project(p) => p.to_string(),
        super::model::Scope::All => "all projects".into(),
    };
    let mut spans = vec![
        Span::styled(" devctl ", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(scope),
        Span::raw("  "),
    ];
    if let Some(why) = &app.offline {
        spans.push(Span::styled(
            format!("devctld unreachable: {why}"),
            tone_style(Tone::Bad, look.colour),
        ));
    } else if !app.loaded {
        spans.push(Span::styled("loading…", tone_style(Tone::Dim, look.colour)));
    } else {
        let parts = view::Summary::of(&app.units).parts();
        for (i, p) in parts.into_iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" · ", tone_style(Tone::Dim, look.colour)));
            }
            spans.push(Span::styled(p.text, tone_style(p.tone, look.colour)));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn text_width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// The columns that fit in `width`, with their widths.
fn columns(app: &App, look: Look, width: u16) -> Vec<(Column, u16)> {
    let mut cols: Vec<(Column, u16)> = Column::ALL
        .iter()
        .filter(|c| **c != Column::Project || app.many_projects())
        .map(|&c| {
            let cap = match c {
                Column::Unit | Column::State => 26,
                Column::Project | Column::Ports => 16,
                _ => 12,
            };
            let widest = app
                .units
                .iter()
                .map(|u| text_width(&view::cell(u, c, look.now_ms).text))
                .max()
                .unwrap_or(0)
                .max(text_width(c.title()));
            (c, widest.min(cap) as u16)
        })
        .collect();
    // The gutter (selection mark) takes 2, each column its width plus a space.
    let total = |cols: &[(Column, u16)]| 2 + cols.iter().map(|(_, w)| w + 1).sum::<u16>();
    while total(&cols) > width && cols.len() > 2 {
        let Some(drop) = cols
            .iter()
            .enumerate()
            .min_by_key(|(_, (c, _))| c.priority())
            .map(|(i, _)| i)
        else {
            break;
        };
        cols.remove(drop);
    }
    cols
}

fn draw_table(f: &mut Frame, app: &App, look: Look, area: Rect) {
    let cols = columns(app, look, area.width);
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut header = vec![ratatui::widgets::Cell::from("  ")];
    header.extend(
        cols.iter()
            .map(|(c, _)| ratatui::widgets::Cell::from(c.title())),
    );
    let rows_fit = area.height.saturating_sub(1) as usize;
    let rows = app
        .units
        .iter()
        .enumerate()
        .skip(app.table_offset)
        .take(rows_fit)
        .map(|(i, u)| {
            let key = (u.project.clone(), u.name.clone());
            let mark = match (i == app.cursor, app.selected.contains(&key)) {
                (true, true) => ">●",
                (true, false) => "> ",
                (false, true) => " ●",
                (false, false) => "  ",
            };
            let mut cells = vec![ratatui::widgets::Cell::from(mark)];
            cells.extend(cols.iter().map(|(c, _)| {
                let v = view::cell(u, *c, look.now_ms);
                ratatui::widgets::Cell::from(v.text).style(tone_style(v.tone, look.colour))
            }));
            let mut row = Row::new(cells);
            if i == app.cursor {
                row = row.style(if app.focus == Pane::Units {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else {
                    Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
                });
            }
            row
        });
    let mut widths = vec![Constraint::Length(2)];
    widths.extend(cols.iter().map(|(_, w)| Constraint::Length(*w)));
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(bold))
        .column_spacing(1);
    f.render_widget(table, area);
    if app.loaded && app.units.is_empty() && area.height > 1 {
        let hint = Rect {
            y: area.y + 1,
            height: 1,
            ..area
        };
        f.render_widget(
            Paragraph::new("  no units: is the project loaded? (`devctl reload`)")
                .style(tone_style(Tone::Dim, look.colour)),
            hint,
        );
    }
}

/// Split styled spans into rows: the first `first` cells wide, the rest `rest`.
fn wrap_spans(spans: Vec<Span<'static>>, first: usize, rest: usize) -> Vec<Vec<Span<'static>>> {
    let mut rows: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut room = first.max(1);
    for span in spans {
        let mut cur = String::new();
        for ch in span.content.chars() {
            let w = ch.width().unwrap_or(0);
            if w > room {
                if !cur.is_empty() {
                    let done = Span::styled(std::mem::take(&mut cur), span.style);
                    rows.last_mut().expect("a row").push(done);
                }
                rows.push(Vec::new());
                room = rest.max(1);
            }
            cur.push(ch);
            room = room.saturating_sub(w);
        }
        if !cur.is_empty() {
            rows.last_mut()
                .expect("a row")
                .push(Span::styled(cur, span.style));
        }
    }
    rows
}

/// The text of a log line split around search matches.
fn match_spans(text: &str, base: Style, app: &App) -> Vec<Span<'static>> {
    let Some(s) = &app.logs.search else {
        return vec![Span::styled(text.to_string(), base)];
    };
    let mut out = Vec::new();
    let mut at = 0;
    for m in s.regex.find_iter(text).filter(|m| !m.is_empty()) {
        if m.start() > at {
            out.push(Span::styled(text[at..m.start()].to_string(), base));
        }
        out.push(Span::styled(
            m.as_str().to_string(),
            base.add_modifier(Modifier::REVERSED),
        ));
        at = m.end();
    }
    if at < text.len() || out.is_empty() {
        out.push(Span::styled(text[at..].to_string(), base));
    }
    out
}

fn draw_logs(f: &mut Frame, app: &App, look: Look, area: Rect) {
    let focused = app.focus == Pane::Logs;
    let mut title = vec![Span::styled(
        " logs ",
        if focused {
            Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        },
    )];
    let followed: Vec<&str> = app.followed.iter().map(|(_, u)| u.as_str()).collect();
    title.push(Span::raw(format!(" {} ", followed.join(", "))));
    let mut flags = Vec::new();
    flags.push(if app.logs.follow {
        "following"
    } else {
        "paused (f follows)"
    });
    if app.logs.wrap {
        flags.push("wrap");
    }
    title.push(Span::styled(
        format!("[{}] ", flags.join(", ")),
        tone_style(Tone::Dim, look.colour),
    ));
    if let Some(s) = &app.logs.search {
        title.push(Span::raw(format!("/{}/ {} ", s.text, s.count)));
    }
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Line::from(title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let height = inner.height as usize;
    let width = inner.width as usize;
    if height == 0 || width == 0 {
        return;
    }
    let Some(bottom) = app.logs.bottom() else {
        let msg = if app.followed.is_empty() {
            "no unit selected"
        } else {
            "no log lines yet"
        };
        f.render_widget(
            Paragraph::new(format!("  {msg}")).style(tone_style(Tone::Dim, look.colour)),
            inner,
        );
        return;
    };
    let palette: Vec<&str> = followed.clone();
    let unit_w = palette.iter().map(|u| text_width(u)).max().unwrap_or(0);
    let current = app.logs.search.as_ref().and_then(|s| s.current);
    let mut rows: Vec<Line> = Vec::new();
    let mut i = bottom as isize;
    while i >= 0 && rows.len() < height {
        let idx = i as usize;
        let Some(r) = app.logs.get(idx) else { break };
        let l = view::log_line(r);
        let ui = palette.iter().position(|u| *u == l.unit).unwrap_or(0);
        let mut time_style = tone_style(Tone::Dim, look.colour);
        if current == Some(idx) {
            time_style = Style::default().add_modifier(Modifier::REVERSED);
        }
        let prefix = vec![
            Span::styled(l.time.clone(), time_style),
            Span::raw(" "),
            Span::styled(format!("{:<unit_w$}", l.unit), unit_style(ui, look.colour)),
            Span::styled(" │ ", tone_style(Tone::Dim, look.colour)),
        ];
        let prefix_w: usize = prefix.iter().map(|s| text_width(&s.content)).sum();
        let body = match_spans(&l.text, tone_style(l.tone, look.colour), app);
        let mut spans = prefix;
        spans.extend(body);
        let line_rows = if app.logs.wrap && width > prefix_w + 8 {
            let mut rs = wrap_spans(spans, width, width - prefix_w);
            for r in rs.iter_mut().skip(1) {
                r.insert(0, Span::raw(" ".repeat(prefix_w)));
            }
            rs
        } else {
            vec![spans]
        };
        for r in line_rows.into_iter().rev() {
            if rows.len() < height {
                rows.push(Line::from(r));
            }
        }
        i -= 1;
    }
    rows.reverse();
    f.render_widget(Paragraph::new(rows), inner);
}

fn draw_status(f: &mut Frame, app: &App, look: Look, area: Rect) {
    let line = if let Some(input) = &app.input {
        Line::from(vec![
            Span::styled("/", Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(input.clone()),
            Span::styled("█", Style::default().add_modifier(Modifier::SLOW_BLINK)),
            Span::styled(
                "   Enter search · Esc cancel",
                tone_style(Tone::Dim, look.colour),
            ),
        ])
    } else if let Some(b) = app.busy.last() {
        let more = if app.busy.len() > 1 {
            format!(" (+{} more)", app.busy.len() - 1)
        } else {
            String::new()
        };
        Line::from(Span::styled(
            format!("{} {}…{more}", SPINNER[look.frame % SPINNER.len()], b.text),
            tone_style(Tone::Busy, look.colour),
        ))
    } else if let Some(n) = &app.notice {
        Line::from(Span::styled(
            n.text.clone(),
            tone_style(n.tone, look.colour),
        ))
    } else {
        Line::default()
    };
    f.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), area);
}

fn draw_footer(f: &mut Frame, look: Look, area: Rect) {
    let key = if look.colour {
        Style::default()
            .fg(Color::Cyan)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default().add_modifier(Modifier::BOLD)
    };
    let tail = [("?", "help"), ("q", "quit")];
    // " k label" each: the key's style sets entries apart, so an 80-column
    // footer has room for every action key.
    let hint_w = |(k, l): &(&str, &str)| text_width(k) + text_width(l) + 2;
    let mut room = (area.width as usize).saturating_sub(tail.iter().map(hint_w).sum::<usize>());
    let mut spans = Vec::new();
    let push = |spans: &mut Vec<Span>, (k, l): (&str, &str)| {
        spans.push(Span::styled(format!(" {k}"), key));
        spans.push(Span::raw(format!(" {l}")));
    };
    for h in HINTS {
        let w = hint_w(h);
        if w > room {
            break;
        }
        room -= w;
        push(&mut spans, *h);
    }
    for h in tail {
        push(&mut spans, h);
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A centred rectangle of at most `w`×`h` inside `area`.
fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn draw_help(f: &mut Frame, look: Look) {
    let area = centred(f.area(), 64, KEYS.len() as u16 + 4);
    let key = Style::default().add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<14}"), key),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " any key closes this help",
        tone_style(Tone::Dim, look.colour),
    )));
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" keys ")),
        area,
    );
}

fn draw_detail(f: &mut Frame, d: &super::model::Detail, look: Look) {
    let full = f.area();
    let area = centred(
        full,
        full.width.saturating_sub(4).max(20),
        full.height.saturating_sub(2).max(5),
    );
    let title = format!(" {}/{} · Esc closes · j/k scroll ", d.unit.0, d.unit.1);
    let lines: Vec<Line> = match &d.lines {
        None => vec![Line::from(Span::styled(
            "loading…",
            tone_style(Tone::Dim, look.colour),
        ))],
        Some(l) => l
            .iter()
            .skip(d.scroll)
            .map(|s| Line::raw(s.clone()))
            .collect(),
    };
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
}
