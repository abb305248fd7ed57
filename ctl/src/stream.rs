//! Streaming verbs: `logs` (merged by time across units, `-f` follows the
//! NDJSON stream, unit prefix, colour per unit on a TTY), `events` (NDJSON
//! passthrough with `--json`, a line per event otherwise; the daemon keeps
//! no history, so events always follow), and `run BUILD` (start the build,
//! stream its log, exit with its exit code).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use devctl_units::api::runs::{LogNotice, LogNoticeLine};
use devctl_units::api::{
    Event, EventKind, JobRequest, JobResponse, JobVerb, LogRecord, LogStream, UnitStatus, WaitFor,
    WaitRequest, WaitResponse,
};
use devctl_units::state::ActiveState;

use crate::cli::{Since, StreamArg};
use crate::client::{LineStream, query_escape};
use crate::error::CtlError;
use crate::exit::Exit;
use crate::opts::{Context, parse_unit_arg};
use crate::output::{Out, Style};
use crate::session::{self, Access};

/// One log line for humans: `TIME UNIT | text`, stderr lines marked.
pub fn format_record(r: &LogRecord, colour_index: Option<usize>, st: Style) -> String {
    let t = humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_micros(r.time_us));
    let unit = match colour_index {
        Some(i) => st.palette(i, r.unit.as_str()),
        None => r.unit.to_string(),
    };
    let text = match r.stream {
        LogStream::Stdout => r.text.clone(),
        LogStream::Stderr => st.red(&r.text),
        LogStream::Marker => st.dim(&format!("-- {} --", r.text)),
    };
    format!("{} {unit} | {text}", st.dim(&t.to_string()))
}

pub fn since_ms(since: Since) -> u64 {
    let at = match since {
        Since::Ago(d) => SystemTime::now().checked_sub(d).unwrap_or(UNIX_EPOCH),
        Since::At(t) => t,
    };
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What `logs --run/--grep/--stream` keep (the daemon filters).
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub run: Option<String>,
    pub grep: Option<String>,
    pub stream: Option<StreamArg>,
}

impl LogFilter {
    fn push_query(&self, q: &mut String) {
        if let Some(r) = &self.run {
            q.push_str(&format!("&run={}", query_escape(r)));
        }
        if let Some(g) = &self.grep {
            q.push_str(&format!("&grep={}", query_escape(g)));
        }
        match self.stream {
            Some(StreamArg::Stdout) => q.push_str("&stream=stdout"),
            Some(StreamArg::Stderr) => q.push_str("&stream=stderr"),
            None => {}
        }
    }
}

/// Build the `/v1/logs` query.
pub fn logs_path(
    project: &str,
    units: &[String],
    n: Option<u64>,
    since: Option<u64>,
    follow: bool,
) -> String {
    logs_path_filtered(project, units, n, since, follow, &LogFilter::default())
}

/// [`logs_path`] with the daemon-side filters.
pub fn logs_path_filtered(
    project: &str,
    units: &[String],
    n: Option<u64>,
    since: Option<u64>,
    follow: bool,
    filter: &LogFilter,
) -> String {
    let mut q = format!("/v1/logs?project={}", query_escape(project));
    filter.push_query(&mut q);
    for u in units {
        q.push_str(&format!("&unit={}", query_escape(u)));
    }
    if let Some(n) = n {
        q.push_str(&format!("&n={n}"));
    }
    if let Some(s) = since {
        q.push_str(&format!("&since={s}"));
    }
    if follow {
        q.push_str("&follow=true");
    }
    q
}

/// Without `-n`, the last [`DEFAULT_LINES`] lines, unless `--since` bounds the output.
pub fn default_lines(lines: Option<u64>, since: bool) -> Option<u64> {
    match (lines, since) {
        (Some(n), _) => Some(n),
        (None, true) => None,
        (None, false) => Some(DEFAULT_LINES),
    }
}

/// How many lines `logs` prints by default.
pub const DEFAULT_LINES: u64 = 200;

/// Prints records, colouring each unit consistently.
struct Printer {
    colours: HashMap<String, usize>,
}

impl Printer {
    fn print(&mut self, ctx: &Context, r: &LogRecord, out: &mut Out) -> std::io::Result<()> {
        if ctx.json {
            return out.json_line(r);
        }
        let next = self.colours.len();
        let i = *self.colours.entry(r.unit.to_string()).or_insert(next);
        out.line(&format_record(r, Some(i), out.style))
    }
}

/// `logs [-f] [-n N] [--since] [NAMES]`.
pub async fn logs(
    ctx: &Context,
    names: &[String],
    follow: bool,
    lines: Option<u64>,
    since: Option<Since>,
    filter: &LogFilter,
    out: &mut Out,
) -> Result<Exit, CtlError> {
    let s = session::open(ctx, Access::ReadOnly).await?;
    if let Some(r) = &filter.run
        && let Err(e) = devctl_units::api::runs::RunId::parse(r)
    {
        return Err(CtlError::Usage {
            message: format!("--run: {e}; run ids are as `devctl history` prints them"),
        });
    }
    let mut units = Vec::new();
    for n in names {
        let a = parse_unit_arg(n)?;
        if a.project.as_ref().is_some_and(|p| *p != s.project) {
            return Err(CtlError::Usage {
                message: format!("{n:?}: logs shows one project at a time; use -p"),
            });
        }
        units.push(a.pattern);
    }
    // A run's lines are all printed unless -n bounds them.
    let bounded = since.is_some() || filter.run.is_some();
    let path = logs_path_filtered(
        s.project.as_str(),
        &units,
        default_lines(lines, bounded),
        since.map(since_ms),
        follow,
        filter,
    );
    let mut stream = s.client.stream(&path).await?;
    let mut printer = Printer {
        colours: HashMap::new(),
    };
    if follow {
        while let Some(item) = next_log_item(&mut stream).await? {
            match item {
                LogItem::Record(r) => printer.print(ctx, &r, out)?,
                LogItem::Notice(n) => print_notice(ctx, n, out)?,
                LogItem::OtherNotice(v) => print_other_notice(ctx, &v, out)?,
            }
            out.flush()?;
        }
        return Ok(Exit::Ok);
    }
    let mut records = Vec::new();
    while let Some(item) = next_log_item(&mut stream).await? {
        match item {
            LogItem::Record(r) => records.push(r),
            // A notice is about the lines after it: said first.
            LogItem::Notice(n) => print_notice(ctx, n, out)?,
            LogItem::OtherNotice(v) => print_other_notice(ctx, &v, out)?,
        }
    }
    records.sort_by_key(|r| r.time_us);
    for r in &records {
        printer.print(ctx, r, out)?;
    }
    Ok(Exit::Ok)
}

/// A line of the `/v1/logs` stream.
#[derive(Debug)]
enum LogItem {
    Record(LogRecord),
    Notice(LogNotice),
    /// A notice of a type this devctl does not know (a newer daemon's):
    /// shown by its `message`, or passed on whole with `--json`.
    OtherNotice(serde_json::Value),
}

/// The next log line or notice.
async fn next_log_item(stream: &mut LineStream) -> Result<Option<LogItem>, CtlError> {
    while let Some(line) = stream.next_line().await? {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return log_item(&line).map(Some);
    }
    Ok(None)
}

/// One line of the stream. Notices are rare, so a line is read as a
/// record first and as a notice only when it is not one.
fn log_item(line: &[u8]) -> Result<LogItem, CtlError> {
    let e = match serde_json::from_slice::<LogRecord>(line) {
        Ok(r) => return Ok(LogItem::Record(r)),
        Err(e) => e,
    };
    if let Ok(n) = serde_json::from_slice::<LogNoticeLine>(line) {
        return Ok(LogItem::Notice(n.notice));
    }
    match serde_json::from_slice::<serde_json::Value>(line) {
        Ok(v) if v["notice"]["type"].is_string() => Ok(LogItem::OtherNotice(v)),
        _ => Err(CtlError::Protocol {
            message: format!("/v1/logs: {e}"),
        }),
    }
}

/// `-- lines of run … were rotated away (…) --`, `-- N lines of UNIT
/// missing here: … --` where a follow could not be caught up, or the
/// notice object with `--json`.
fn print_notice(ctx: &Context, notice: LogNotice, out: &mut Out) -> std::io::Result<()> {
    if ctx.json {
        return out.json_line(&LogNoticeLine { notice });
    }
    let (LogNotice::RotatedAway { message, .. } | LogNotice::Missed { message, .. }) = notice;
    let text = out.style.dim(&format!("-- {message} --"));
    out.line(&text)
}

/// A notice of an unknown type: its `message` (or its type), or the line
/// as it came with `--json`.
fn print_other_notice(
    ctx: &Context,
    line: &serde_json::Value,
    out: &mut Out,
) -> std::io::Result<()> {
    if ctx.json {
        return out.json_line(line);
    }
    let n = &line["notice"];
    let message = n["message"]
        .as_str()
        .or_else(|| n["type"].as_str())
        .unwrap_or("notice");
    let text = out.style.dim(&format!("-- {message} --"));
    out.line(&text)
}

/// One human line per event.
pub fn format_event(e: &Event, st: Style) -> String {
    let t = humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(e.time_ms));
    let who = match (&e.project, &e.unit) {
        (Some(p), Some(u)) => format!("{p}/{u}"),
        (Some(p), None) => p.to_string(),
        _ => "devctld".into(),
    };
    let what = match &e.kind {
        EventKind::StateChanged {
            active,
            sub,
            result,
            message,
        } => {
            let mut s = format!("{active} ({sub})");
            if let Some(r) = result {
                s.push_str(&format!(" result={r}"));
            }
            if let Some(m) = message {
                s.push_str(&format!(": {m}"));
            }
            match active {
                ActiveState::Failed => st.red(&s),
                ActiveState::Active => st.green(&s),
                _ => s,
            }
        }
        EventKind::Spawned { pid } => format!("spawned pid {pid}"),
        EventKind::Exited { code, signal } => match (code, signal) {
            (_, Some(sig)) => format!("exited by signal {sig}"),
            (Some(c), None) => format!("exited with code {c}"),
            (None, None) => "exited".into(),
        },
        EventKind::RestartScheduled { attempt, delay_ms } => {
            format!(
                "restart #{attempt} in {}",
                humantime::format_duration(Duration::from_millis(*delay_ms))
            )
        }
        EventKind::Triggered { reason } => format!("triggered: {reason}"),
        EventKind::EnablementChanged { enabled } => format!("now {enabled}"),
        EventKind::ProjectLoaded {
            added,
            removed,
            changed,
        } => {
            format!("loaded: {added} added, {removed} removed, {changed} changed")
        }
        EventKind::ProjectForgotten => "forgotten".into(),
        EventKind::DaemonStopping => "daemon stopping".into(),
    };
    format!("{} {who}: {what}", st.dim(&t.to_string()))
}

/// `events`: follows the daemon's event stream.
pub async fn events(ctx: &Context, out: &mut Out) -> Result<Exit, CtlError> {
    let s = session::open(ctx, Access::ReadOnly).await?;
    let mut stream = s
        .client
        .stream(&format!("/v1/events?project={}", s.project))
        .await?;
    while let Some(line) = stream.next_line().await? {
        if ctx.json {
            out.raw(&String::from_utf8_lossy(&line))?;
            out.raw("\n")?;
        } else if let Ok(e) = serde_json::from_slice::<Event>(&line) {
            out.line(&format_event(&e, out.style))?;
        }
        out.flush()?;
    }
    Ok(Exit::Ok)
}

/// `run BUILD`: start it, stream its log, exit with its exit code.
pub async fn run_build(ctx: &Context, build: &str, out: &mut Out) -> Result<Exit, CtlError> {
    let arg = parse_unit_arg(build)?;
    let s = session::open(ctx, Access::Mutating).await?;
    let project = s.project_or(&arg.project).clone();
    let unit_path = format!("/v1/projects/{project}/units/{}", arg.pattern);
    let before: UnitStatus = s.client.get(&unit_path).await?;
    if before.kind != devctl_units::UnitKind::Build {
        return Err(CtlError::Usage {
            message: format!(
                "{project}/{} is a {}, not a build; `devctl run` runs builds (use `devctl start`)",
                arg.pattern,
                before.kind.as_str()
            ),
        });
    }
    let start_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut stream = s
        .client
        .stream(&logs_path(
            project.as_str(),
            std::slice::from_ref(&arg.pattern),
            Some(0),
            Some(start_ms),
            true,
        ))
        .await?;
    let verb = if before.active == ActiveState::Active {
        JobVerb::Trigger
    } else {
        JobVerb::Start
    };
    let job = JobRequest {
        verb,
        units: vec![arg.pattern.clone()],
        block: false,
        timeout_ms: None,
        failed_only: false,
        force: false,
        source: Some(devctl_units::api::runs::VerbSource::Cli),
    };
    let _: JobResponse = s
        .client
        .post(&format!("/v1/projects/{project}/jobs"), &job)
        .await?;
    let wait = WaitRequest {
        units: vec![arg.pattern.clone()],
        condition: WaitFor::Succeeded,
        timeout_ms: ctx.timeout_ms(),
    };
    let wait_path = format!("/v1/projects/{project}/wait");
    let waiting = s.client.post::<_, WaitResponse>(&wait_path, &wait);
    tokio::pin!(waiting);
    let mut printer = Printer {
        colours: HashMap::new(),
    };
    let answer = loop {
        tokio::select! {
            w = &mut waiting => break w?,
            line = stream.next_json::<LogRecord>() => match line? {
                Some(r) => { printer.print(ctx, &r, out)?; out.flush()?; }
                None => break waiting.await?,
            },
        }
    };
    // Lines written just before the build ended may still be in flight.
    let drain = tokio::time::sleep(Duration::from_millis(150));
    tokio::pin!(drain);
    loop {
        tokio::select! {
            _ = &mut drain => break,
            line = stream.next_json::<LogRecord>() => match line? {
                Some(r) => printer.print(ctx, &r, out)?,
                None => break,
            },
        }
    }
    out.flush()?;
    if answer.timed_out {
        return Err(CtlError::TimedOut {
            what: format!("{project}/{} to finish", arg.pattern),
        });
    }
    if answer.ok {
        return Ok(Exit::Ok);
    }
    let after: UnitStatus = s.client.get(&unit_path).await?;
    let code = after
        .last_exit
        .as_ref()
        .and_then(|e| e.code)
        .filter(|c| (1..=255).contains(c));
    if !ctx.json {
        let why = after
            .message
            .as_deref()
            .or(after.result.map(|r| r.as_str()))
            .unwrap_or("failed");
        eprintln!("devctl: {project}/{} failed: {why}", arg.pattern);
    }
    Ok(code.map(|c| Exit::Build(c as u8)).unwrap_or(Exit::Failed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::{ProjectName, UnitName};

    #[test]
    fn a_notice_of_an_unknown_type_is_kept_and_garbage_is_a_protocol_error() {
        let known = br#"{"notice":{"type":"missed","unit":"web","lines":3,"message":"3 lines of web missing here"}}"#;
        assert!(matches!(
            log_item(known),
            Ok(LogItem::Notice(LogNotice::Missed { lines: 3, .. }))
        ));
        let newer = br#"{"notice":{"type":"paused","unit":"web","message":"web's log paused"}}"#;
        match log_item(newer) {
            Ok(LogItem::OtherNotice(v)) => {
                assert_eq!(v["notice"]["message"], "web's log paused")
            }
            other => panic!("{other:?}"),
        }
        for bad in [
            &br#"{"notice":{"lines":3}}"#[..],
            b"{\"time_us\": \"x\"}",
            b"not json",
        ] {
            assert!(
                matches!(log_item(bad), Err(CtlError::Protocol { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn logs_query() {
        assert_eq!(
            logs_path("p", &["api-*".into(), "db".into()], Some(5), None, true),
            "/v1/logs?project=p&unit=api-%2A&unit=db&n=5&follow=true"
        );
        assert_eq!(
            logs_path("p", &[], None, Some(7), false),
            "/v1/logs?project=p&since=7"
        );
    }

    #[test]
    fn record_format_plain() {
        let r = LogRecord {
            time_us: 1_000_000,
            project: ProjectName::new("p").unwrap(),
            unit: UnitName::new("web").unwrap(),
            stream: LogStream::Marker,
            text: "ready".into(),
        };
        let st = Style { on: false };
        assert_eq!(
            format_record(&r, Some(1), st),
            "1970-01-01T00:00:01.000Z web | -- ready --"
        );
        let e = Event {
            seq: 1,
            time_ms: 0,
            project: r.project.clone().into(),
            unit: Some(r.unit.clone()),
            run: None,
            kind: EventKind::Exited {
                code: Some(3),
                signal: None,
            },
        };
        assert_eq!(
            format_event(&e, st),
            "1970-01-01T00:00:00.000Z p/web: exited with code 3"
        );
    }

    #[test]
    fn line_defaults() {
        assert_eq!(default_lines(Some(5), true), Some(5));
        assert_eq!(default_lines(None, true), None);
        assert_eq!(default_lines(None, false), Some(DEFAULT_LINES));
    }

    #[test]
    fn since_values() {
        assert_eq!(
            since_ms(Since::At(UNIX_EPOCH + Duration::from_millis(42))),
            42
        );
        assert!(since_ms(Since::Ago(Duration::from_secs(1))) > 0);
    }
}
