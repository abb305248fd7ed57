//! Tests of the UI state rules: cursor, selection, follow, events,
//! search typing, overlays, and the wording of action results.

use super::*;
use crate::ui::view::tests::unit;
use devctl_units::api::UnitOutcome;
use devctl_units::state::{SubState, UnitResult};

fn app() -> App {
    let mut a = App::new(Scope::Project(ProjectName::new("pizzeria").unwrap()));
    let units = vec![
        unit("web", ActiveState::Active, SubState::Running),
        unit("db", ActiveState::Active, SubState::Ready),
        unit("worker", ActiveState::Inactive, SubState::Dead),
    ];
    a.replace_units(None, units);
    a
}

fn key(n: &str) -> UnitKey {
    (
        ProjectName::new("pizzeria").unwrap(),
        UnitName::new(n).unwrap(),
    )
}

#[test]
fn units_are_sorted_and_the_cursor_follows_logs() {
    let mut a = app();
    let names: Vec<&str> = a.units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["db", "web", "worker"]);
    assert_eq!(a.followed, [key("db")]);
    assert_eq!(a.on_key(Key::Down), [Effect::Follow(vec![key("web")])]);
    assert_eq!(
        a.on_key(Key::Char('j')),
        [Effect::Follow(vec![key("worker")])]
    );
    assert_eq!(a.on_key(Key::Down), [], "stays on the last row");
    assert_eq!(a.on_key(Key::Char('k')), [Effect::Follow(vec![key("web")])]);
}

#[test]
fn space_selects_several_and_actions_apply_to_them() {
    let mut a = app();
    a.on_key(Key::Char(' '));
    a.on_key(Key::Down);
    a.on_key(Key::Down);
    assert_eq!(
        a.on_key(Key::Char(' ')),
        [Effect::Follow(vec![key("db"), key("worker")])]
    );
    assert_eq!(
        a.on_key(Key::Char('x')),
        [Effect::Job {
            verb: JobVerb::Stop,
            units: vec![key("db"), key("worker")]
        }]
    );
    assert_eq!(
        a.on_key(Key::Char('e')),
        [Effect::Enable {
            units: vec![key("db"), key("worker")],
            enable: false
        }]
    );
    a.on_key(Key::Esc);
    assert!(a.selected.is_empty());
    assert_eq!(
        a.on_key(Key::Char('t')),
        [Effect::Job {
            verb: JobVerb::Trigger,
            units: vec![key("worker")]
        }]
    );
}

#[test]
fn enable_toggles_by_current_state() {
    let mut a = app();
    a.units[0].enabled = EnableState::Disabled;
    assert_eq!(
        a.on_key(Key::Char('e')),
        [Effect::Enable {
            units: vec![key("db")],
            enable: true
        }]
    );
}

#[test]
fn events_change_the_table_at_once() {
    let mut a = app();
    let ev = |kind| Event {
        seq: 1,
        time_ms: 5_000,
        project: Some(ProjectName::new("pizzeria").unwrap()),
        unit: Some(UnitName::new("worker").unwrap()),
        run: None,
        kind,
    };
    let p = a.apply_event(&ev(EventKind::Spawned { pid: 77 }));
    assert_eq!(p.unwrap().as_str(), "pizzeria");
    a.apply_event(&ev(EventKind::StateChanged {
        active: ActiveState::Active,
        sub: SubState::Running,
        result: None,
        message: None,
    }));
    let w = &a.units[2];
    assert_eq!(
        (w.active, w.main_pid, w.since_ms),
        (ActiveState::Active, Some(77), Some(5_000))
    );
    a.apply_event(&ev(EventKind::EnablementChanged {
        enabled: EnableState::Disabled,
    }));
    assert_eq!(a.units[2].enabled, EnableState::Disabled);
    a.apply_event(&ev(EventKind::StateChanged {
        active: ActiveState::Failed,
        sub: SubState::Failed,
        result: Some(UnitResult::ExitCode),
        message: None,
    }));
    assert_eq!(a.units[2].main_pid, None);
    a.apply_event(&Event {
        unit: None,
        ..ev(EventKind::ProjectForgotten)
    });
    assert!(a.units.is_empty());
}

#[test]
fn search_typing_and_bad_patterns() {
    let mut a = app();
    a.on_key(Key::Char('/'));
    for c in "(".chars() {
        a.on_key(Key::Char(c));
    }
    assert_eq!(a.on_key(Key::Char('q')), [], "q is typed, not quit");
    a.on_key(Key::Backspace);
    a.on_key(Key::Enter);
    let n = a.notice.clone().unwrap();
    assert!(n.text.starts_with("error: invalid search pattern"), "{n:?}");
    assert_eq!(a.focus, Pane::Logs);
    a.on_key(Key::Char('/'));
    a.on_key(Key::Esc);
    assert!(a.input.is_none());
    assert_eq!(a.on_key(Key::Char('q')), [Effect::Quit]);
}

#[test]
fn overlays_close_on_any_key() {
    let mut a = app();
    a.on_key(Key::Char('?'));
    assert_eq!(a.overlay, Some(Overlay::Help));
    assert_eq!(a.on_key(Key::Char('x')), []);
    assert_eq!(a.overlay, None);
    assert_eq!(a.on_key(Key::Enter), [Effect::Detail(key("db"))]);
    a.set_detail(
        &key("db"),
        Err(CtlError::NotFound {
            message: "no unit db".into(),
        }),
        0,
    );
    match &a.overlay {
        Some(Overlay::Detail(d)) => {
            assert_eq!(d.lines.as_ref().unwrap()[0], "error: no unit db")
        }
        other => panic!("{other:?}"),
    }
    a.on_key(Key::Esc);
    assert!(a.overlay.is_none());
}

#[test]
fn job_results_are_worded_as_the_cli_words_them() {
    let p = ProjectName::new("pz").unwrap();
    let ok = UnitOutcome {
        unit: UnitName::new("web").unwrap(),
        ok: true,
        active: ActiveState::Inactive,
        sub: SubState::Dead,
        result: None,
        message: None,
    };
    let r = JobResponse {
        outcomes: vec![ok.clone()],
        stopped: vec![],
        timed_out: false,
    };
    assert_eq!(job_notice(JobVerb::Stop, &p, &r).text, "stopped: pz/web");
    let bad = UnitOutcome {
        ok: false,
        active: ActiveState::Failed,
        result: Some(UnitResult::ExecFailed),
        message: Some("exec-failed: No such file or directory".into()),
        ..ok
    };
    let r = JobResponse {
        outcomes: vec![bad],
        stopped: vec![],
        timed_out: false,
    };
    let n = job_notice(JobVerb::Start, &p, &r);
    assert_eq!(
        n.text,
        "pz/web: failed (exec-failed): No such file or directory"
    );
    assert_eq!(n.tone, Tone::Bad);
    let t = job_notice(
        JobVerb::Start,
        &p,
        &JobResponse {
            timed_out: true,
            ..r
        },
    );
    assert!(
        t.text.starts_with("error: timed out waiting for pz/web"),
        "{t:?}"
    );
}
