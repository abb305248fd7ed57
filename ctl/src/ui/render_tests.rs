//! Rendering tests: the main screens drawn on ratatui's test backend at
//! 80×24 and 160×48, compared with snapshots (`cargo insta review` after a
//! deliberate change), plus the rules a snapshot cannot show: no colour
//! under `NO_COLOR`, the narrow table dropping columns by priority.

use devctl_units::api::{LogRecord, LogStream, UnitStatus};
use devctl_units::model::{DepCondition, DepKind, Dependency};
use devctl_units::state::{ActiveState, EnableState, SubState, UnitResult};
use devctl_units::{ProjectName, UnitKind, UnitName};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::model::{App, Key, Notice, Scope};
use super::render::{Look, content_rows, draw};
use super::view::Tone;
use super::view::tests::unit;

/// 2026-12-07T10:00:00Z, the frozen clock of every snapshot.
const NOW_MS: u64 = 1_796_637_600_000;

fn units() -> Vec<UnitStatus> {
    let mut web = unit("paulie", ActiveState::Active, SubState::Ready);
    web.description = Some("Paulie's API".into());
    web.main_pid = Some(4242);
    web.since_ms = Some(NOW_MS - 187_000);
    web.ready = Some(true);
    web.ports = vec![8080];
    web.deps = vec![
        Dependency {
            unit: UnitName::new("db").unwrap(),
            kind: DepKind::Requires,
            until: DepCondition::Ready,
        },
        Dependency {
            unit: UnitName::new("codegen").unwrap(),
            kind: DepKind::Requires,
            until: DepCondition::Succeeded,
        },
    ];
    let mut db = unit("db", ActiveState::Active, SubState::Ready);
    db.kind = UnitKind::Daemon;
    db.main_pid = Some(4100);
    db.since_ms = Some(NOW_MS - 2 * 3_600_000 - 300_000);
    db.ready = Some(true);
    db.ports = vec![5433];
    let mut codegen = unit("codegen", ActiveState::Inactive, SubState::Dead);
    codegen.kind = UnitKind::Build;
    codegen.result = Some(UnitResult::Success);
    let mut worker = unit("worker", ActiveState::Failed, SubState::Failed);
    worker.result = Some(UnitResult::ExitCode);
    worker.restarts = 3;
    worker.enabled = EnableState::Disabled;
    let mut front = unit("front", ActiveState::Activating, SubState::Starting);
    front.main_pid = Some(4300);
    front.since_ms = Some(NOW_MS - 4_000);
    front.ready = Some(false);
    front.ports = vec![3000, 3001];
    vec![web, db, codegen, worker, front]
}

fn rec(ms_before: u64, unit: &str, stream: LogStream, text: &str) -> LogRecord {
    LogRecord {
        time_us: (NOW_MS - ms_before) * 1000,
        project: ProjectName::new("pizzeria").unwrap(),
        unit: UnitName::new(unit).unwrap(),
        stream,
        text: text.into(),
    }
}

/// The main screen: `paulie` and `db` selected, their lines merged.
fn main_app() -> App {
    let mut a = App::new(Scope::Project(ProjectName::new("pizzeria").unwrap()));
    a.replace_units(None, units());
    // Sorted: codegen, db, front, paulie, worker.
    a.on_key(Key::Down);
    a.on_key(Key::Char(' '));
    a.on_key(Key::Down);
    a.on_key(Key::Down);
    a.on_key(Key::Char(' '));
    for r in [
        rec(9_000, "db", LogStream::Marker, "spawned pid 4100"),
        rec(
            8_500,
            "db",
            LogStream::Stdout,
            "database system is ready to accept connections",
        ),
        rec(8_000, "db", LogStream::Marker, "ready"),
        rec(7_000, "paulie", LogStream::Marker, "spawned pid 4242"),
        rec(
            6_000,
            "paulie",
            LogStream::Stdout,
            "listening on 0.0.0.0:8080",
        ),
        rec(
            5_000,
            "paulie",
            LogStream::Stderr,
            "warning: RUST_LOG is not set, using info",
        ),
        rec(4_000, "paulie", LogStream::Marker, "ready"),
        rec(3_000, "paulie", LogStream::Stdout, "GET /healthz 200 0.3ms"),
        rec(2_000, "db", LogStream::Stdout, "checkpoint starting: time"),
        rec(
            1_000,
            "paulie",
            LogStream::Stdout,
            "GET /api/orders?page=1&per_page=50&sort=created_at&direction=desc 200 12.4ms",
        ),
    ] {
        a.logs.push(r);
    }
    a.notice = Some(Notice {
        text: "stopped: pizzeria/worker".into(),
        tone: Tone::Good,
    });
    a
}

fn look() -> Look {
    Look {
        colour: true,
        now_ms: NOW_MS,
        frame: 0,
    }
}

/// Draw `app` at `w`×`h` and return the screen as text.
fn screen(app: &mut App, w: u16, h: u16, look: Look) -> (String, ratatui::buffer::Buffer) {
    let area = ratatui::layout::Rect::new(0, 0, w, h);
    let (table_rows, log_rows) = content_rows(area, app);
    app.fit_table(table_rows);
    app.log_rows = log_rows;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(f, app, look)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut s = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        s.push_str(line.trim_end());
        s.push('\n');
    }
    (s, buf)
}

#[test]
fn main_screen_80x24() {
    let (s, _) = screen(&mut main_app(), 80, 24, look());
    insta::assert_snapshot!("main_80x24", s);
}

#[test]
fn main_screen_160x48() {
    let (s, _) = screen(&mut main_app(), 160, 48, look());
    insta::assert_snapshot!("main_160x48", s);
}

#[test]
fn wrapped_search_80x24() {
    let mut a = main_app();
    a.on_key(Key::Char('w'));
    a.on_key(Key::Char('/'));
    for c in "GET /\\S+".chars() {
        a.on_key(Key::Char(c));
    }
    a.on_key(Key::Enter);
    let (s, buf) = screen(&mut a, 80, 24, look());
    insta::assert_snapshot!("search_wrap_80x24", s);
    let marked: String = buf
        .content
        .iter()
        .filter(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
        .map(|c| c.symbol().to_string())
        .collect();
    assert!(
        marked.contains("GET /api/orders?page=1"),
        "matches are marked: {marked:?}"
    );
}

#[test]
fn help_overlay_80x24() {
    let mut a = main_app();
    a.on_key(Key::Char('?'));
    let (s, _) = screen(&mut a, 80, 24, look());
    insta::assert_snapshot!("help_80x24", s);
}

#[test]
fn detail_overlay_160x48() {
    let mut a = main_app();
    a.on_key(Key::Esc);
    a.on_key(Key::Home);
    for _ in 0..3 {
        a.on_key(Key::Down);
    }
    let effects = a.on_key(Key::Enter);
    assert_eq!(effects.len(), 1);
    let paulie = a
        .units
        .iter()
        .find(|u| u.name.as_str() == "paulie")
        .unwrap()
        .clone();
    let key = (paulie.project.clone(), paulie.name.clone());
    a.set_detail(&key, Ok(paulie), NOW_MS);
    let (s, _) = screen(&mut a, 160, 48, look());
    insta::assert_snapshot!("detail_160x48", s);
    assert!(s.contains("Required by: -"), "{s}");
    assert!(
        s.contains("Requires: db (until ready), codegen (until succeeded)"),
        "{s}"
    );
}

#[test]
fn every_project_with_an_action_in_flight_160x48() {
    let mut a = App::new(Scope::All);
    let mut list = units();
    let mut other = unit("web", ActiveState::Active, SubState::Running);
    other.project = ProjectName::new("shop").unwrap();
    other.main_pid = Some(5000);
    other.since_ms = Some(NOW_MS - 30_000);
    list.push(other);
    a.replace_units(None, list);
    a.begin(1, "stopping pizzeria/codegen".into());
    let (s, _) = screen(&mut a, 160, 48, look());
    insta::assert_snapshot!("all_busy_160x48", s);
}

#[test]
fn no_colour_means_no_colour() {
    let plain = Look {
        colour: false,
        ..look()
    };
    let (_, buf) = screen(&mut main_app(), 80, 24, plain);
    let coloured = buf
        .content
        .iter()
        .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
        .count();
    assert_eq!(coloured, 0, "NO_COLOR: no cell has a colour");
    let (_, buf) = screen(&mut main_app(), 80, 24, look());
    assert!(
        buf.content.iter().any(|c| c.fg == Color::Red),
        "failed is red"
    );
}

#[test]
fn narrow_screens_drop_the_least_useful_columns() {
    let (s, _) = screen(&mut main_app(), 60, 24, look());
    let header = s.lines().nth(1).unwrap();
    assert!(
        header.contains("UNIT") && header.contains("STATE"),
        "{header}"
    );
    assert!(!header.contains("PORTS"), "{header}");
    let (wide, _) = screen(&mut main_app(), 160, 24, look());
    assert!(wide.lines().nth(1).unwrap().contains("PORTS"));
}

#[test]
fn tiny_terminals_do_not_panic() {
    for (w, h) in [(1, 1), (10, 3), (20, 5), (80, 4)] {
        let mut a = main_app();
        screen(&mut a, w, h, look());
        a.on_key(Key::Char('?'));
        screen(&mut a, w, h, look());
    }
}
