//! Read-only verbs against the daemon: status (table or systemctl-like
//! block), list (--all), show (KEY=VALUE), is-active / is-enabled /
//! is-failed (print the state, exit 0/3, 4 for an unknown unit).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use devctl_units::ProjectName;
use devctl_units::api::{ErrorKind, UnitStatus};
use devctl_units::state::{ActiveState, EnableState};

use crate::client::Client;
use crate::error::CtlError;
use crate::exit::Exit;
use crate::opts::{Context, group_by_project};
use crate::output::{Out, Style, table};
use crate::session::{self, Access, Session};

/// `*` and `?` wildcard match (the daemon owns the real glob semantics;
/// this only narrows a fetched list for display).
pub fn wildcard(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

async fn list_units(
    client: &Client,
    project: Option<&ProjectName>,
) -> Result<Vec<UnitStatus>, CtlError> {
    match project {
        Some(p) => client.get(&format!("/v1/units?project={p}")).await,
        None => client.get("/v1/units").await,
    }
}

async fn unit_detail(
    s: &Session,
    project: &ProjectName,
    name: &str,
) -> Result<UnitStatus, CtlError> {
    s.client
        .get(&format!("/v1/projects/{project}/units/{name}"))
        .await
}

/// Resolve unit arguments (names or globs) to detailed statuses.
async fn resolve(s: &Session, names: &[String]) -> Result<Vec<UnitStatus>, CtlError> {
    let mut found = Vec::new();
    for (project, patterns) in group_by_project(names)? {
        let project = s.project_or(&project).clone();
        for pat in patterns {
            if is_glob(&pat) {
                let all = list_units(&s.client, Some(&project)).await?;
                let hits: Vec<_> = all
                    .into_iter()
                    .filter(|u| wildcard(&pat, u.name.as_str()))
                    .collect();
                if hits.is_empty() {
                    return Err(CtlError::NotFound {
                        message: format!("no unit of {project} matches {pat:?}"),
                    });
                }
                for u in hits {
                    found.push(unit_detail(s, &project, u.name.as_str()).await?);
                }
            } else {
                found.push(unit_detail(s, &project, &pat).await?);
            }
        }
    }
    Ok(found)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `3min 2s ago`-style age.
pub fn ago(at_ms: u64, now_ms: u64) -> String {
    let secs = now_ms.saturating_sub(at_ms) / 1000;
    format!(
        "{} ago",
        humantime::format_duration(Duration::from_secs(secs))
    )
}

fn time_of(ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

fn active_cell(u: &UnitStatus, st: Style) -> String {
    let s = u.active.as_str();
    match u.active {
        ActiveState::Active => st.green(s),
        ActiveState::Failed => st.red(s),
        ActiveState::Activating | ActiveState::Deactivating => st.yellow(s),
        ActiveState::Inactive => s.to_string(),
    }
}

/// The status/list table rows.
pub fn table_lines(units: &[UnitStatus], with_project: bool, st: Style) -> Vec<String> {
    let mut header = vec![
        "UNIT",
        "KIND",
        "ACTIVE",
        "SUB",
        "RESULT",
        "PID",
        "READY",
        "CPU",
        "MEM",
        "ENABLED",
        "DESCRIPTION",
    ];
    if with_project {
        header.insert(0, "PROJECT");
    }
    let rows: Vec<Vec<String>> = units
        .iter()
        .map(|u| {
            let mut row = vec![
                u.name.to_string(),
                u.kind.as_str().to_string(),
                active_cell(u, st),
                u.sub.to_string(),
                u.result
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "-".into()),
                u.main_pid
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into()),
                match u.ready {
                    Some(true) => "yes".into(),
                    Some(false) => "no".into(),
                    None => "-".into(),
                },
                u.usage
                    .and_then(|x| x.cpu_percent)
                    .map(|c| format!("{c}%"))
                    .unwrap_or_else(|| "-".into()),
                u.usage
                    .map(|x| crate::history::bytes(x.rss_bytes))
                    .unwrap_or_else(|| "-".into()),
                u.enabled.to_string(),
                u.description.clone().unwrap_or_default(),
            ];
            if with_project {
                row.insert(0, u.project.to_string());
            }
            row
        })
        .collect();
    table(&header, &rows, st)
}

/// The systemctl-status-like block of one unit.
pub fn detail_lines(u: &UnitStatus, now: u64, st: Style) -> Vec<String> {
    let dot = match u.active {
        ActiveState::Active => st.green("●"),
        ActiveState::Failed => st.red("×"),
        _ => "○".to_string(),
    };
    let mut l = vec![format!(
        "{dot} {}/{} - {}",
        u.project,
        u.name,
        u.description.as_deref().unwrap_or(u.kind.as_str())
    )];
    l.push(format!("     Loaded: {} ({})", u.load, u.kind.as_str()));
    let default = if u.enabled_default {
        "enabled"
    } else {
        "disabled"
    };
    l.push(format!(
        "    Enabled: {}; manifest default: {default}",
        u.enabled
    ));
    let mut active = format!("{} ({})", active_cell(u, st), u.sub);
    if let Some(r) = u.result {
        active.push_str(&format!(", result: {r}"));
    }
    if let Some(since) = u.since_ms {
        active.push_str(&format!(" since {}; {}", time_of(since), ago(since, now)));
    }
    l.push(format!("     Active: {active}"));
    if let Some(id) = &u.run {
        match crate::history::progress(u, now) {
            Some(p) => l.push(format!("        Run: {id}, {p}")),
            None => l.push(format!("        Run: {id}")),
        }
    }
    if let Some(usage) = &u.usage {
        l.push(format!(
            "      Usage: {}",
            crate::history::usage_text(usage)
        ));
    }
    if let Some(m) = &u.message {
        l.push(format!("    Message: {m}"));
    }
    if let Some(pid) = u.main_pid {
        let origin = u
            .origin
            .map(|o| {
                format!(
                    " ({})",
                    serde_json::to_value(o)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default();
        l.push(format!("   Main PID: {pid}{origin}"));
    }
    if let Some(ready) = u.ready {
        l.push(format!("      Ready: {}", if ready { "yes" } else { "no" }));
    }
    let mut restarts = format!("   Restarts: {}/{}", u.restarts, u.restart_limit);
    if let Some(next) = u.next_restart_ms {
        restarts.push_str(&format!(", next retry at {}", time_of(next)));
    }
    l.push(restarts);
    if let Some(e) = &u.last_exit {
        let how = match (e.code, e.signal) {
            (_, Some(sig)) => format!("signal {sig}"),
            (Some(c), None) => format!("code {c}"),
            (None, None) => "unknown".into(),
        };
        l.push(format!("  Last exit: {how}, {}", ago(e.at_ms, now)));
    }
    if let Some(t) = &u.trigger {
        l.push(format!("    Trigger: {t}"));
    }
    if let Some(next) = u.next_run_ms {
        let wait = Duration::from_secs(next.saturating_sub(now).div_ceil(1000));
        l.push(format!(
            "   Next run: {} (in {})",
            time_of(next),
            humantime::format_duration(wait)
        ));
    }
    if u.pending_changes > 0 {
        l.push(format!(
            "    Pending: changes pending: {} file{}; run `devctl trigger {}`",
            u.pending_changes,
            if u.pending_changes == 1 { "" } else { "s" },
            u.name
        ));
    }
    if let Some(s) = &u.notify_status {
        l.push(format!("     Status: {s}"));
    }
    if !u.ports.is_empty() {
        l.push(format!(
            "      Ports: {}",
            u.ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for link in &u.links {
        l.push(format!("       Link: {link}"));
    }
    let recent = crate::history::recent_lines(u, now, st);
    if !recent.is_empty() {
        l.push("Recent runs:".to_string());
        l.extend(recent);
    }
    if !u.log_tail.is_empty() {
        l.push(String::new());
        for rec in &u.log_tail {
            l.push(crate::stream::format_record(rec, None, st));
        }
    }
    l
}

/// `status [NAMES]`.
pub async fn status(ctx: &Context, names: &[String], out: &mut Out) -> Result<Exit, CtlError> {
    let s = session::open(ctx, Access::ReadOnly).await?;
    if names.is_empty() {
        let units = list_units(&s.client, Some(&s.project)).await?;
        if ctx.json {
            out.json(&units)?;
        } else {
            for line in table_lines(&units, false, out.style) {
                out.line(&line)?;
            }
        }
        return Ok(Exit::Ok);
    }
    let units = resolve(&s, names).await?;
    if ctx.json {
        out.json(&units)?;
    } else {
        let now = now_ms();
        for (i, u) in units.iter().enumerate() {
            if i > 0 {
                out.line("")?;
            }
            for line in detail_lines(u, now, out.style) {
                out.line(&line)?;
            }
        }
    }
    Ok(Exit::Ok)
}

/// `list [--all]`.
pub async fn list(ctx: &Context, all: bool, out: &mut Out) -> Result<Exit, CtlError> {
    let units = if all {
        let paths = devctl_units::paths::Paths::from_env()?;
        let client = crate::daemon::connect(&paths, ctx.quiet).await?;
        list_units(&client, None).await?
    } else {
        let s = session::open(ctx, Access::ReadOnly).await?;
        list_units(&s.client, Some(&s.project)).await?
    };
    if ctx.json {
        out.json(&units)?;
    } else {
        for line in table_lines(&units, all, out.style) {
            out.line(&line)?;
        }
    }
    Ok(Exit::Ok)
}

/// Which `is-*` question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    Active,
    Enabled,
    Failed,
}

/// The printed state and whether it answers "yes".
pub fn answer(q: Question, u: &UnitStatus) -> (String, bool) {
    match q {
        Question::Active => (u.active.to_string(), u.active.is_active()),
        Question::Failed => (u.active.to_string(), u.active == ActiveState::Failed),
        Question::Enabled => (u.enabled.to_string(), u.enabled != EnableState::Disabled),
    }
}

/// `is-active` / `is-enabled` / `is-failed NAMES`.
pub async fn is_state(
    ctx: &Context,
    q: Question,
    names: &[String],
    out: &mut Out,
) -> Result<Exit, CtlError> {
    let s = session::open(ctx, Access::ReadOnly).await?;
    let mut results = Vec::new();
    let mut unknown = false;
    for (project, patterns) in group_by_project(names)? {
        let project = s.project_or(&project).clone();
        for pat in patterns {
            match unit_detail(&s, &project, &pat).await {
                Ok(u) => results.push((format!("{project}/{pat}"), Some(answer(q, &u)))),
                Err(CtlError::Api(e)) if e.kind == ErrorKind::NotFound => {
                    unknown = true;
                    results.push((format!("{project}/{pat}"), None));
                }
                Err(e) => return Err(e),
            }
        }
    }
    if ctx.json {
        let v: Vec<_> = results
            .iter()
            .map(|(u, a)| serde_json::json!({"unit": u, "state": a.as_ref().map(|a| a.0.clone()).unwrap_or_else(|| "unknown".into())}))
            .collect();
        out.json(&v)?;
    } else if !ctx.quiet {
        for (_, a) in &results {
            out.line(a.as_ref().map(|a| a.0.as_str()).unwrap_or("unknown"))?;
        }
    }
    let yes = |a: &Option<(String, bool)>| a.as_ref().is_some_and(|a| a.1);
    Ok(match q {
        _ if unknown => Exit::NotFound,
        Question::Failed if results.iter().any(|(_, a)| yes(a)) => Exit::Ok,
        Question::Failed => Exit::NotActive,
        _ if results.iter().all(|(_, a)| yes(a)) => Exit::Ok,
        _ => Exit::NotActive,
    })
}

/// `KEY=VALUE` properties of one unit, systemctl-show style.
pub fn properties(u: &UnitStatus) -> Vec<(&'static str, String)> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let json_str = |v: serde_json::Value| v.as_str().map(String::from).unwrap_or_default();
    vec![
        ("Id", u.name.to_string()),
        ("Project", u.project.to_string()),
        ("Kind", u.kind.as_str().to_string()),
        ("Description", opt(u.description.clone())),
        ("LoadState", u.load.to_string()),
        ("UnitFileState", u.enabled.to_string()),
        (
            "UnitFilePreset",
            if u.enabled_default {
                "enabled"
            } else {
                "disabled"
            }
            .into(),
        ),
        ("ActiveState", u.active.to_string()),
        ("SubState", u.sub.to_string()),
        ("Result", opt(u.result.map(|r| r.to_string()))),
        ("StatusText", opt(u.message.clone())),
        ("MainPID", u.main_pid.unwrap_or(0).to_string()),
        ("ActiveEnterTimestamp", opt(u.since_ms.map(time_of))),
        (
            "Ready",
            opt(u.ready.map(|r| if r { "yes".into() } else { "no".into() })),
        ),
        ("NRestarts", u.restarts.to_string()),
        ("RestartLimit", u.restart_limit.to_string()),
        ("NextRestart", opt(u.next_restart_ms.map(time_of))),
        (
            "ExecMainStatus",
            opt(u
                .last_exit
                .as_ref()
                .and_then(|e| e.code)
                .map(|c| c.to_string())),
        ),
        (
            "ExecMainSignal",
            opt(u
                .last_exit
                .as_ref()
                .and_then(|e| e.signal)
                .map(|c| c.to_string())),
        ),
        (
            "Origin",
            opt(u
                .origin
                .map(|o| json_str(serde_json::to_value(o).unwrap_or_default()))),
        ),
        ("Trigger", opt(u.trigger.clone())),
        ("PendingChanges", u.pending_changes.to_string()),
        ("NextRun", opt(u.next_run_ms.map(time_of))),
        ("NotifyStatus", opt(u.notify_status.clone())),
        (
            "Ports",
            u.ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ("Links", u.links.join(" ")),
        (
            "Requires",
            u.deps
                .iter()
                .map(|d| d.unit.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ]
}

/// `show [-P NAME] [NAMES]`.
pub async fn show(
    ctx: &Context,
    names: &[String],
    only: &[String],
    out: &mut Out,
) -> Result<Exit, CtlError> {
    let s = session::open(ctx, Access::ReadOnly).await?;
    let units = if names.is_empty() {
        list_units(&s.client, Some(&s.project)).await?
    } else {
        resolve(&s, names).await?
    };
    if ctx.json {
        out.json(&units)?;
        return Ok(Exit::Ok);
    }
    for (i, u) in units.iter().enumerate() {
        if i > 0 && only.len() != 1 {
            out.line("")?;
        }
        for (k, v) in properties(u) {
            if only.is_empty() || only.iter().any(|o| o == k) {
                if only.len() == 1 {
                    out.line(&v)?;
                } else {
                    out.line(&format!("{k}={v}"))?;
                }
            }
        }
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("api-*", "api-v2"));
        assert!(wildcard("api-*", "api-"));
        assert!(!wildcard("api-*", "web"));
        assert!(wildcard("w?b", "web"));
        assert!(wildcard("*", "x"));
        assert!(!wildcard("a", "ab"));
    }

    pub(crate) fn unit(active: ActiveState) -> UnitStatus {
        use devctl_units::api::{ExitInfo, RuntimeState};
        use devctl_units::state::{LoadState, SubState, UnitResult};
        UnitStatus {
            project: ProjectName::new("pz").unwrap(),
            name: devctl_units::UnitName::new("web").unwrap(),
            kind: devctl_units::UnitKind::Service,
            description: Some("Web".into()),
            load: LoadState::Loaded,
            enabled: EnableState::Enabled,
            enabled_default: false,
            state: RuntimeState {
                active,
                sub: SubState::Running,
                result: (active == ActiveState::Failed).then_some(UnitResult::ExitCode),
                main_pid: Some(42),
                since_ms: Some(1_000),
                ready: Some(true),
                restarts: 2,
                last_exit: Some(ExitInfo {
                    code: Some(3),
                    signal: None,
                    at_ms: 500,
                }),
                origin: Some(devctl_units::api::Origin::Adopted),
                ..RuntimeState::default()
            },
            restart_limit: 10,
            pending_changes: 0,
            next_run_ms: None,
            ports: vec![8080],
            links: vec!["http://localhost:8080/".into()],
            deps: vec![],
            log_tail: vec![],
            run: None,
            usual_ms: None,
            recent_runs: vec![],
            usage: None,
        }
    }

    #[test]
    fn table_and_detail_rendering() {
        let plain = Style { on: false };
        let t = table_lines(&[unit(ActiveState::Active)], false, plain);
        assert!(t[0].starts_with("UNIT  KIND"), "{t:?}");
        assert!(
            t[1].starts_with("web   service  active  running  -"),
            "{t:?}"
        );
        assert!(t[1].contains("42") && t[1].contains("yes"), "{t:?}");
        let with_project = table_lines(&[unit(ActiveState::Active)], true, plain);
        assert!(with_project[1].starts_with("pz"), "{with_project:?}");
        let d = detail_lines(&unit(ActiveState::Active), 61_000, plain);
        assert_eq!(d[0], "● pz/web - Web");
        assert!(
            d.iter().any(|l| l.trim() == "Main PID: 42 (adopted)"),
            "{d:?}"
        );
        assert!(d.iter().any(|l| l.contains("Restarts: 2/10")), "{d:?}");
        assert!(
            d.iter().any(|l| l.contains("Last exit: code 3, 1m ago")),
            "{d:?}"
        );
        assert!(
            d.iter().any(|l| l.contains("manifest default: disabled")),
            "{d:?}"
        );
        assert!(
            d.iter().any(|l| l.contains("Link: http://localhost:8080/")),
            "{d:?}"
        );
        assert!(d.iter().all(|l| !l.contains('\x1b')));
        assert!(!d.iter().any(|l| l.contains("Next run")), "{d:?}");
        let mut scheduled = unit(ActiveState::Active);
        scheduled.next_run_ms = Some(91_000);
        let d = detail_lines(&scheduled, 61_000, plain);
        assert!(
            d.iter()
                .any(|l| l.trim() == "Next run: 1970-01-01T00:01:31Z (in 30s)"),
            "{d:?}"
        );
        let coloured = table_lines(&[unit(ActiveState::Failed)], false, Style { on: true });
        assert!(coloured[1].contains("\x1b[1;31mfailed"), "{coloured:?}");
    }

    #[test]
    fn is_answers() {
        assert_eq!(
            answer(Question::Active, &unit(ActiveState::Active)),
            ("active".into(), true)
        );
        assert_eq!(
            answer(Question::Active, &unit(ActiveState::Failed)),
            ("failed".into(), false)
        );
        assert_eq!(
            answer(Question::Failed, &unit(ActiveState::Failed)),
            ("failed".into(), true)
        );
        assert_eq!(
            answer(Question::Enabled, &unit(ActiveState::Inactive)),
            ("enabled".into(), true)
        );
    }

    #[test]
    fn show_properties() {
        let props = properties(&unit(ActiveState::Active));
        let get = |k: &str| {
            props
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("ActiveState"), "active");
        assert_eq!(get("MainPID"), "42");
        assert_eq!(get("UnitFilePreset"), "disabled");
        assert_eq!(get("ExecMainStatus"), "3");
        assert_eq!(get("Origin"), "adopted");
        assert_eq!(get("Ports"), "8080");
    }

    #[test]
    fn ages() {
        assert_eq!(ago(1_000, 63_000), "1m 2s ago");
        assert_eq!(ago(5_000, 1_000), "0s ago");
    }
}
