//! process-compose.yaml: every process becomes a `service`, or a `build`
//! when another process waits for it to complete. The command runs with
//! the configured shell (`bash -c` unless `shell:` says otherwise), as
//! process-compose runs it; `working_dir`, `environment` (global and per
//! process), `depends_on` conditions, `readiness_probe`/`liveness_probe`
//! (exec and http_get, with their timings), `ready_log_line`,
//! `availability` (restart policy, backoff, max restarts; process-compose's
//! default is not to restart), `shutdown` signal and timeout, and
//! `disabled` are translated. Everything else is a warning with its line.

use std::collections::BTreeMap;

use super::model::{
    Check, Cmd, Dep, Draft, Kind, ProbeDraft, RestartDraft, UnitDraft, seconds, unit_name,
};
use super::paths::Rebase;
use super::yaml::{Node, Value};

/// Process keys that are translated (the rest warn).
const KNOWN: &[&str] = &[
    "command",
    "working_dir",
    "environment",
    "depends_on",
    "readiness_probe",
    "liveness_probe",
    "availability",
    "disabled",
    "shutdown",
    "ready_log_line",
    "description",
];

/// Top-level keys that need no translation.
const IGNORED_TOP: &[&str] = &["version", "processes", "environment", "shell", "is_strict"];

/// The signal name of a number process-compose accepts.
fn signal_name(n: i64) -> Option<&'static str> {
    Some(match n {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        6 => "SIGABRT",
        10 => "SIGUSR1",
        12 => "SIGUSR2",
        14 => "SIGALRM",
        15 => "SIGTERM",
        18 => "SIGCONT",
        28 => "SIGWINCH",
        _ => return None,
    })
}

/// `K=V` items of an environment list.
fn env_list(d: &mut Draft, unit: Option<&str>, n: &Node) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut put = |k: String, v: String| {
        out.retain(|(key, _)| *key != k);
        out.push((k, v));
    };
    match &n.value {
        Value::Seq(items) => {
            for item in items {
                match item.scalar().as_deref().and_then(|s| s.split_once('=')) {
                    Some((k, v)) => put(k.to_owned(), v.to_owned()),
                    None => d.warn(
                        item.line,
                        unit,
                        "environment entry is not KEY=VALUE; not imported",
                    ),
                }
            }
        }
        Value::Map(m) => {
            for (k, v) in m {
                put(k.clone(), v.scalar().unwrap_or_default());
            }
        }
        _ => d.warn(
            n.line,
            unit,
            "environment is not a list of KEY=VALUE; not imported",
        ),
    }
    out
}

/// A regex matching `text` literally (`ready_log_line` is a substring).
fn literal_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

struct Ctx<'a> {
    shell: Vec<String>,
    rebase: &'a Rebase,
    global_env: Vec<(String, String)>,
}

/// Translate a process-compose file's parsed YAML.
pub fn import(root: &Node, rebase: &Rebase) -> Draft {
    let mut d = Draft::new("process-compose");
    let Some(top) = root.map() else {
        d.warn(
            root.line,
            None,
            "the file is not a YAML mapping; nothing imported",
        );
        return d;
    };
    for (key, node) in top {
        if !IGNORED_TOP.contains(&key.as_str()) {
            d.warn(
                node.line,
                None,
                format!("top-level `{key}` is not imported (devctl keeps one log per unit and has no equivalent)"),
            );
        }
    }
    let mut shell = vec!["bash".to_owned(), "-c".to_owned()];
    if let Some(s) = root.get("shell") {
        if let Some(cmd) = s.get("shell_command").and_then(Node::scalar) {
            shell[0] = cmd;
        }
        if let Some(arg) = s.get("shell_argument").and_then(Node::scalar) {
            shell[1] = arg;
        }
    }
    let global_env = match root.get("environment") {
        Some(n) => env_list(&mut d, None, n),
        None => Vec::new(),
    };
    let Some(processes) = root.get("processes").and_then(Node::map) else {
        d.warn(root.line, None, "no `processes`: nothing imported");
        return d;
    };
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (raw, _) in processes {
        if let Some(n) = unit_name(raw) {
            names.insert(raw.clone(), n);
        }
    }
    // A process others wait to complete is a build.
    let mut builds: Vec<String> = Vec::new();
    for (_, p) in processes {
        for (dep, spec) in p.get("depends_on").and_then(Node::map).unwrap_or_default() {
            let cond = spec
                .get("condition")
                .and_then(Node::scalar)
                .unwrap_or_default();
            if cond.starts_with("process_completed")
                && let Some(n) = names.get(dep)
            {
                builds.push(n.clone());
            }
        }
    }
    let cx = Ctx {
        shell,
        rebase,
        global_env,
    };
    for (raw, p) in processes {
        let Some(name) = names.get(raw).cloned() else {
            d.warn(
                p.line,
                None,
                format!("process {raw:?} cannot be a unit name; skipped"),
            );
            continue;
        };
        let kind = if builds.contains(&name) {
            Kind::Build
        } else {
            Kind::Service
        };
        let u = process(&mut d, &cx, kind, &name, raw, p, &names);
        d.units.push(u);
    }
    d
}

fn process(
    d: &mut Draft,
    cx: &Ctx<'_>,
    kind: Kind,
    name: &str,
    raw: &str,
    p: &Node,
    names: &BTreeMap<String, String>,
) -> UnitDraft {
    let mut u = UnitDraft::new(kind, name, format!("processes.{raw} (line {})", p.line));
    if name != raw {
        d.warn(
            p.line,
            Some(name),
            format!("process {raw:?} is named {name:?}"),
        );
    }
    for (key, node) in p.map().unwrap_or_default() {
        if !KNOWN.contains(&key.as_str()) {
            let what = match key.as_str() {
                "is_daemon" => "a self-backgrounding process needs a pid file in devctl: declare it as a `daemon` unit by hand".to_owned(),
                "replicas" => "devctl runs one instance of each unit".to_owned(),
                _ => "devctl has no equivalent".to_owned(),
            };
            d.warn(
                node.line,
                Some(name),
                format!("`{key}` is not imported ({what})"),
            );
        }
    }
    if let Some(desc) = p.get("description").and_then(Node::scalar) {
        u.description = Some(desc);
    }
    match p.get("command").and_then(Node::scalar) {
        Some(cmd) => {
            let mut argv = cx.shell.clone();
            argv.push(cmd);
            u.command = Some(Cmd::Argv(argv));
        }
        None => {
            d.warn(
                p.line,
                Some(name),
                "no `command`: it runs `true`; give it a command",
            );
            u.command = Some(Cmd::Argv(vec!["true".into()]));
        }
    }
    let dir = p.get("working_dir").and_then(Node::scalar);
    u.dir = match dir {
        Some(dir) => Some(cx.rebase.path(&dir)),
        None => cx.rebase.source_dir(),
    };
    u.env = cx.global_env.clone();
    if let Some(n) = p.get("environment") {
        for (k, v) in env_list(d, Some(name), n) {
            u.env.retain(|(key, _)| *key != k);
            u.env.push((k, v));
        }
    }
    for (raw_dep, spec) in p.get("depends_on").and_then(Node::map).unwrap_or_default() {
        let Some(unit) = names.get(raw_dep) else {
            d.warn(
                spec.line,
                Some(name),
                format!("depends on {raw_dep:?}, which is not a process; not imported"),
            );
            continue;
        };
        let cond = spec
            .get("condition")
            .and_then(Node::scalar)
            .unwrap_or_else(|| "process_started".into());
        let until = match cond.as_str() {
            "process_completed_successfully" => "succeeded",
            "process_completed" => {
                d.warn(spec.line, Some(name), format!("waits for {raw_dep:?} to complete whatever its exit code; devctl waits for it to succeed"));
                "succeeded"
            }
            "process_healthy" | "process_log_ready" => "ready",
            "process_started" => "started",
            other => {
                d.warn(
                    spec.line,
                    Some(name),
                    format!("unknown condition {other:?}; waits until started"),
                );
                "started"
            }
        };
        u.deps.push(Dep {
            unit: unit.clone(),
            until: Some(until),
            weak: false,
        });
    }
    let ready_probe = p.get("readiness_probe").and_then(|n| probe(d, cx, name, n));
    let log_line = p.get("ready_log_line").and_then(Node::scalar);
    u.ready = match (ready_probe, log_line) {
        (Some(probe), Some(_)) => {
            let line = p.get("ready_log_line").map_or(p.line, |n| n.line);
            d.warn(line, Some(name), "both readiness_probe and ready_log_line: devctl has one readiness check; the probe is kept");
            Some(probe)
        }
        (Some(probe), None) => Some(probe),
        (None, Some(text)) => Some(ProbeDraft::new(Check::Log(literal_regex(&text)))),
        (None, None) => None,
    };
    u.alive = p.get("liveness_probe").and_then(|n| probe(d, cx, name, n));
    if kind == Kind::Build && (u.ready.is_some() || u.alive.is_some()) {
        d.warn(p.line, Some(name), "its probes are not imported: others wait for it to complete, so it is a build, and builds have no probes");
        u.ready = None;
        u.alive = None;
    }
    if let Some(a) = p.get("availability") {
        u.restart = Some(availability(d, kind, name, a));
    } else if kind == Kind::Service {
        u.restart = Some(RestartDraft {
            mode: "no",
            backoff: None,
            limit: None,
        });
    }
    if let Some(s) = p.get("shutdown") {
        shutdown(d, &mut u, s);
    }
    if p.get("disabled").and_then(Node::bool) == Some(true) {
        u.enabled = false;
    }
    u
}

fn probe(d: &mut Draft, cx: &Ctx<'_>, name: &str, n: &Node) -> Option<ProbeDraft> {
    let check = if let Some(e) = n.get("exec") {
        let cmd = e.get("command").and_then(Node::scalar)?;
        if e.get("working_dir").is_some() {
            d.warn(
                e.line,
                Some(name),
                "probe working_dir is not imported: the check runs in the unit's directory",
            );
        }
        let mut argv = cx.shell.clone();
        argv.push(cmd);
        Check::Exec(argv)
    } else if let Some(h) = n.get("http_get") {
        let host = h
            .get("host")
            .and_then(Node::scalar)
            .unwrap_or_else(|| "127.0.0.1".into());
        let scheme = h
            .get("scheme")
            .and_then(Node::scalar)
            .unwrap_or_else(|| "http".into());
        let path = h
            .get("path")
            .and_then(Node::scalar)
            .unwrap_or_else(|| "/".into());
        let Some(port) = h.get("port").and_then(Node::scalar) else {
            d.warn(
                h.line,
                Some(name),
                "http_get without a port; probe not imported",
            );
            return None;
        };
        if h.get("headers").is_some() {
            d.warn(h.line, Some(name), "probe headers are not imported");
        }
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        Check::Http {
            url: format!("{scheme}://{host}:{port}{path}"),
        }
    } else {
        d.warn(
            n.line,
            Some(name),
            "a probe without exec or http_get is not imported",
        );
        return None;
    };
    let mut p = ProbeDraft::new(check);
    let secs = |key: &str| n.get(key).and_then(Node::number).and_then(seconds);
    p.period = secs("period_seconds");
    p.timeout = secs("timeout_seconds");
    p.initial_delay = secs("initial_delay_seconds");
    p.success_threshold = n
        .get("success_threshold")
        .and_then(Node::number)
        .map(|v| v as u32)
        .filter(|v| *v > 0);
    p.failure_threshold = n
        .get("failure_threshold")
        .and_then(Node::number)
        .map(|v| v as u32)
        .filter(|v| *v > 0);
    Some(p)
}

fn availability(d: &mut Draft, kind: Kind, name: &str, a: &Node) -> RestartDraft {
    let mode = a
        .get("restart")
        .and_then(Node::scalar)
        .unwrap_or_else(|| "no".into());
    let mut r = RestartDraft {
        mode: "no",
        backoff: a
            .get("backoff_seconds")
            .and_then(Node::number)
            .and_then(seconds),
        limit: a
            .get("max_restarts")
            .and_then(Node::number)
            .map(|v| v as u32)
            .filter(|v| *v > 0),
    };
    r.mode = match mode.as_str() {
        "always" => "always",
        "on_failure" => "on-failure",
        "no" => "no",
        "exit_on_failure" => {
            d.warn(a.line, Some(name), "restart `exit_on_failure` (stop everything when it fails) is not imported; it is not restarted");
            "no"
        }
        other => {
            d.warn(
                a.line,
                Some(name),
                format!("restart {other:?} is unknown; not restarted"),
            );
            "no"
        }
    };
    for key in ["exit_on_end", "exit_on_skipped"] {
        if let Some(n) = a.get(key) {
            d.warn(
                n.line,
                Some(name),
                format!("availability `{key}` (stop everything) is not imported"),
            );
        }
    }
    if kind == Kind::Build && r.mode != "no" {
        d.warn(
            a.line,
            Some(name),
            "a build is not restarted; its restart policy is not imported",
        );
    }
    r
}

fn shutdown(d: &mut Draft, u: &mut UnitDraft, s: &Node) {
    if let Some(sig) = s.get("signal") {
        match sig.number().and_then(|n| signal_name(n as i64)) {
            Some(name) => u.stop_signal = Some(name.into()),
            None => d.warn(
                sig.line,
                Some(&u.name),
                format!(
                    "shutdown signal {:?} cannot be a stop signal; SIGTERM is used",
                    sig.scalar().unwrap_or_default()
                ),
            ),
        }
    }
    if let Some(t) = s.get("timeout_seconds").and_then(Node::number) {
        u.stop_timeout = seconds(t);
    }
    for key in ["command", "parent_only"] {
        if let Some(n) = s.get(key) {
            d.warn(
                n.line,
                Some(&u.name),
                format!("shutdown `{key}` is not imported: devctl signals the whole process tree"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_match_literally() {
        assert_eq!(
            literal_regex("ready on :8080 (v1.2)"),
            "ready on :8080 \\(v1\\.2\\)"
        );
    }

    #[test]
    fn signals_by_number() {
        assert_eq!(signal_name(2), Some("SIGINT"));
        assert_eq!(signal_name(9), None);
    }
}
