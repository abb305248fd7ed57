//! docker-compose.yml / compose.yaml: every service becomes a `container`
//! unit (image or build, command, entrypoint, ports, environment, env files,
//! volumes, working dir, user, network mode, stop signal and grace period),
//! `depends_on` becomes `requires`/`wants` with the matching condition, a
//! `healthcheck` becomes a readiness probe run with `docker exec` in the
//! container devctl names `devctl-PROJECT-UNIT`, `restart` keeps compose's
//! default of `no`, and each profile becomes a group whose services are off
//! by default, as compose leaves them. Everything else is a warning with
//! its line.

use std::collections::BTreeMap;

use super::compose_settings::{env_files, environment, interpolation, ports, volume};
use super::model::{
    Check, ContainerDraft, Dep, Draft, GroupDraft, Kind, ProbeDraft, RestartDraft, UnitDraft,
    unit_name,
};
use super::paths::Rebase;
use super::yaml::{Node, Value};

/// Service keys that are translated (the rest warn).
const KNOWN: &[&str] = &[
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "volumes",
    "depends_on",
    "healthcheck",
    "profiles",
    "restart",
    "working_dir",
    "user",
    "network_mode",
    "networks",
    "stop_signal",
    "stop_grace_period",
];

/// A compose duration (`1m30s`, `500ms`, `10s`) in milliseconds.
pub fn duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let mut total: f64 = 0.0;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "us" => 0.001,
            "ms" => 1.0,
            "s" | "" => 1000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * factor;
    }
    Some(total.round() as u64)
}

/// A compose duration as devctl spells it.
fn duration(d: &mut Draft, node: &Node, unit: &str, what: &str) -> Option<String> {
    let text = node.scalar()?;
    match duration_ms(&text) {
        Some(0) => None,
        Some(ms) if ms.is_multiple_of(1000) => Some(format!("{}s", ms / 1000)),
        Some(ms) => Some(format!("{ms}ms")),
        None => {
            d.warn(
                node.line,
                Some(unit),
                format!("{what} {text:?} is not a duration; not imported"),
            );
            None
        }
    }
}

/// Split a command string as compose does (shell words, no shell).
fn words(d: &mut Draft, node: &Node, unit: &str, what: &str) -> Option<Vec<String>> {
    match &node.value {
        Value::Seq(items) => Some(items.iter().filter_map(Node::scalar).collect()),
        _ => {
            let s = node.scalar()?;
            match shlex::split(&s) {
                Some(v) => Some(v),
                None => {
                    d.warn(
                        node.line,
                        Some(unit),
                        format!("{what} has unbalanced quotes; not imported"),
                    );
                    None
                }
            }
        }
    }
}

pub(super) struct Ctx<'a> {
    pub(super) project: String,
    pub(super) rebase: &'a Rebase,
    /// Whether the loopback-only publishing note was given.
    pub(super) noted_loopback: bool,
}

/// Translate a compose file's parsed YAML.
pub fn import(root: &Node, project_hint: &str, rebase: &Rebase) -> Draft {
    let mut d = Draft::new("Compose file");
    let Some(top) = root.map() else {
        d.warn(
            root.line,
            None,
            "the file is not a YAML mapping; nothing imported",
        );
        return d;
    };
    let mut project = project_hint.to_owned();
    if let Some(n) = root.get("name") {
        match n.scalar().as_deref().and_then(unit_name) {
            Some(p) => project = p,
            None => d.warn(
                n.line,
                None,
                "`name` is not a valid project name; not imported",
            ),
        }
    }
    d.project = Some(project.clone());
    for (key, node) in top {
        match key.as_str() {
            "services" | "name" | "version" => {}
            k if k.starts_with("x-") => {}
            "volumes" => {
                for (name, v) in node.map().unwrap_or_default() {
                    if v.map().is_some_and(|m| !m.is_empty()) {
                        d.warn(
                            v.line,
                            None,
                            format!("volume {name:?}: driver and options are not imported; docker creates it with defaults"),
                        );
                    }
                }
            }
            other => d.warn(
                node.line,
                None,
                format!("top-level `{other}` is not imported (devctl has no equivalent)"),
            ),
        }
    }
    let Some(services) = root.get("services") else {
        d.warn(root.line, None, "no `services`: nothing imported");
        return d;
    };
    let mut cx = Ctx {
        project,
        rebase,
        noted_loopback: false,
    };
    let mut profiles: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (raw, _) in services.map().unwrap_or_default() {
        if let Some(n) = unit_name(raw) {
            names.insert(raw.clone(), n);
        }
    }
    for (raw, svc) in services.map().unwrap_or_default() {
        let Some(name) = names.get(raw).cloned() else {
            d.warn(
                svc.line,
                None,
                format!("service {raw:?} cannot be a unit name; skipped"),
            );
            continue;
        };
        let u = service(&mut d, &mut cx, &name, raw, svc, &names, &mut profiles);
        d.units.push(u);
    }
    healthy_dependencies(&mut d);
    for (profile, (line, members)) in profiles {
        let base = unit_name(&profile).unwrap_or_else(|| "profile".into());
        let name = if d.units.iter().any(|u| u.name == base) || base == cx.project {
            format!("profile-{base}")
        } else {
            base
        };
        d.groups.push(GroupDraft {
            name: name.clone(),
            origin: format!("profile {profile:?} (line {line})"),
            description: Some(format!(
                "compose profile {profile}: `devctl start {name}` starts its services"
            )),
            units: members,
        });
    }
    d
}

/// A dependency waiting for `ready` on a container without a healthcheck
/// waits for the image's own HEALTHCHECK, as compose's `service_healthy`.
fn healthy_dependencies(d: &mut Draft) {
    let wanted: Vec<String> = d
        .units
        .iter()
        .flat_map(|u| u.deps.iter())
        .filter(|dep| dep.until == Some("ready"))
        .map(|dep| dep.unit.clone())
        .collect();
    for u in &mut d.units {
        if wanted.contains(&u.name)
            && u.ready.is_none()
            && let Some(c) = &mut u.container
        {
            c.healthcheck = true;
        }
    }
}

fn service(
    d: &mut Draft,
    cx: &mut Ctx<'_>,
    name: &str,
    raw: &str,
    svc: &Node,
    names: &BTreeMap<String, String>,
    profiles: &mut BTreeMap<String, (usize, Vec<String>)>,
) -> UnitDraft {
    let mut u = UnitDraft::new(
        Kind::Container,
        name,
        format!("services.{raw} (line {})", svc.line),
    );
    if name != raw {
        d.warn(
            svc.line,
            Some(name),
            format!("service {raw:?} is named {name:?}"),
        );
    }
    let mut c = ContainerDraft::default();
    for (key, node) in svc.map().unwrap_or_default() {
        if !KNOWN.contains(&key.as_str()) && !key.starts_with("x-") {
            d.warn(
                node.line,
                Some(name),
                format!("`{key}` is not imported (devctl has no equivalent)"),
            );
        }
    }
    if let Some(img) = svc.get("image").and_then(Node::scalar) {
        interpolation(d, svc.get("image").map_or(0, |n| n.line), name, &img);
        c.image = img;
    }
    if let Some(b) = svc.get("build") {
        build(d, cx, name, b, &mut c);
        if c.image.is_empty() {
            c.image = format!("{}-{name}", cx.project);
        }
    }
    if c.image.is_empty() {
        d.warn(
            svc.line,
            Some(name),
            "neither `image` nor `build`: the unit needs an image; set one",
        );
        c.image = format!("{}-{name}", cx.project);
    }
    if let Some(n) = svc.get("command") {
        c.command = words(d, n, name, "command");
    }
    if let Some(n) = svc.get("entrypoint") {
        match words(d, n, name, "entrypoint") {
            Some(v) if v.is_empty() => d.warn(
                n.line,
                Some(name),
                "an empty entrypoint (clearing the image's) cannot be expressed; the image's is kept",
            ),
            other => c.entrypoint = other,
        }
    }
    if let Some(n) = svc.get("environment") {
        environment(d, name, n, &mut u.env);
    }
    if let Some(n) = svc.get("env_file") {
        env_files(d, cx, name, n, &mut u.env_files);
    }
    if let Some(n) = svc.get("ports") {
        for p in n.seq().unwrap_or_default() {
            ports(d, cx, name, p, &mut c, &mut u.ports);
        }
    }
    if let Some(n) = svc.get("volumes") {
        for v in n.seq().unwrap_or_default() {
            volume(d, cx, name, v, &mut c);
        }
    }
    if let Some(n) = svc.get("depends_on") {
        depends_on(d, name, n, names, &mut u.deps);
    }
    if let Some(n) = svc.get("healthcheck") {
        u.ready = healthcheck(d, cx, name, n);
    }
    u.restart = Some(restart(d, name, svc.get("restart")));
    for (key, slot) in [("working_dir", &mut c.workdir), ("user", &mut c.user)] {
        if let Some(v) = svc.get(key).and_then(Node::scalar) {
            *slot = Some(v);
        }
    }
    if let Some(n) = svc.get("network_mode") {
        match n.scalar() {
            Some(m) if m.starts_with("service:") || m.starts_with("container:") => d.warn(
                n.line,
                Some(name),
                format!("network_mode {m:?} (another container's network) is not imported"),
            ),
            Some(m) => c.network = Some(m),
            None => {}
        }
    }
    if let Some(n) = svc.get("networks") {
        let nets: Vec<String> = match &n.value {
            Value::Seq(items) => items.iter().filter_map(Node::scalar).collect(),
            Value::Map(m) => m.iter().map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        };
        if nets.iter().any(|n| n != "default") {
            d.warn(
                n.line,
                Some(name),
                format!("networks {nets:?}: the container runs on docker's default network; services reach each other by published ports"),
            );
        }
    }
    if let Some(s) = svc.get("stop_signal").and_then(Node::scalar) {
        u.stop_signal = Some(s);
    }
    if let Some(n) = svc.get("stop_grace_period") {
        u.stop_timeout = duration(d, n, name, "stop_grace_period");
    }
    if let Some(n) = svc.get("profiles") {
        let list: Vec<String> = n
            .seq()
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.scalar())
            .collect();
        if !list.is_empty() {
            u.enabled = false;
            for p in list {
                profiles
                    .entry(p)
                    .or_insert_with(|| (n.line, Vec::new()))
                    .1
                    .push(name.to_owned());
            }
        }
    }
    u.container = Some(c);
    u
}

fn build(d: &mut Draft, cx: &Ctx<'_>, name: &str, b: &Node, c: &mut ContainerDraft) {
    if let Some(ctx) = b.scalar() {
        c.build = Some((cx.rebase.path(&ctx), None));
        return;
    }
    let context = b
        .get("context")
        .and_then(Node::scalar)
        .unwrap_or_else(|| ".".into());
    let dockerfile = b.get("dockerfile").and_then(Node::scalar);
    c.build = Some((cx.rebase.path(&context), dockerfile));
    for (key, node) in b.map().unwrap_or_default() {
        if key != "context" && key != "dockerfile" {
            d.warn(
                node.line,
                Some(name),
                format!("build `{key}` is not imported (devctl builds with the context and Dockerfile only)"),
            );
        }
    }
}

fn depends_on(
    d: &mut Draft,
    name: &str,
    n: &Node,
    names: &BTreeMap<String, String>,
    deps: &mut Vec<Dep>,
) {
    let mut add =
        |d: &mut Draft, line: usize, raw: &str, until: &'static str, weak: bool| match names
            .get(raw)
        {
            Some(unit) => deps.push(Dep {
                unit: unit.clone(),
                until: Some(until),
                weak,
            }),
            None => d.warn(
                line,
                Some(name),
                format!("depends on {raw:?}, which is not a service; not imported"),
            ),
        };
    match &n.value {
        Value::Seq(items) => {
            for i in items {
                if let Some(s) = i.scalar() {
                    add(d, i.line, &s, "started", false);
                }
            }
        }
        Value::Map(m) => {
            for (raw, spec) in m {
                let cond = spec
                    .get("condition")
                    .and_then(Node::scalar)
                    .unwrap_or_else(|| "service_started".into());
                let weak = spec.get("required").and_then(Node::bool) == Some(false);
                let until = match cond.as_str() {
                    "service_healthy" => "ready",
                    "service_completed_successfully" => {
                        d.warn(
                            spec.line,
                            Some(name),
                            format!("waits for {raw:?} to complete; devctl waits for a container to start, not to exit (make it a build unit to wait for success)"),
                        );
                        "started"
                    }
                    "service_started" => "started",
                    other => {
                        d.warn(
                            spec.line,
                            Some(name),
                            format!("unknown condition {other:?}; waits until started"),
                        );
                        "started"
                    }
                };
                if spec.get("restart").and_then(Node::bool) == Some(true) {
                    d.warn(spec.line, Some(name), format!("`restart: true` on {raw:?}: devctl stops this unit when a required one stops, and does not start it again"));
                }
                add(d, spec.line, raw, until, weak);
            }
        }
        _ => {}
    }
}

fn healthcheck(d: &mut Draft, cx: &Ctx<'_>, name: &str, n: &Node) -> Option<ProbeDraft> {
    if n.get("disable").and_then(Node::bool) == Some(true) {
        return None;
    }
    let test = n.get("test")?;
    let cname = format!("devctl-{}-{name}", cx.project);
    let mut argv = vec!["docker".to_owned(), "exec".to_owned(), cname];
    match &test.value {
        Value::Seq(items) => {
            let v: Vec<String> = items.iter().filter_map(Node::scalar).collect();
            match v.first().map(String::as_str) {
                Some("NONE") => return None,
                Some("CMD") => argv.extend(v[1..].iter().cloned()),
                Some("CMD-SHELL") => {
                    argv.extend(["sh".into(), "-c".into(), v[1..].join(" ")]);
                }
                _ => {
                    d.warn(
                        test.line,
                        Some(name),
                        "healthcheck test must start with CMD, CMD-SHELL or NONE; not imported",
                    );
                    return None;
                }
            }
        }
        _ => argv.extend(["sh".into(), "-c".into(), test.scalar()?]),
    }
    let mut p = ProbeDraft::new(Check::Exec(argv));
    if let Some(i) = n.get("interval") {
        p.period = duration(d, i, name, "healthcheck interval");
    }
    if let Some(t) = n.get("timeout") {
        p.timeout = duration(d, t, name, "healthcheck timeout");
    }
    if let Some(s) = n.get("start_period") {
        p.initial_delay = duration(d, s, name, "healthcheck start_period");
    }
    if let Some(r) = n.get("retries").and_then(Node::scalar) {
        p.failure_threshold = r.parse().ok().filter(|n| *n > 0);
    }
    if let Some(s) = n.get("start_interval") {
        d.warn(
            s.line,
            Some(name),
            "healthcheck start_interval is not imported",
        );
    }
    Some(p)
}

fn restart(d: &mut Draft, name: &str, n: Option<&Node>) -> RestartDraft {
    let no = RestartDraft {
        mode: "no",
        backoff: None,
        limit: None,
    };
    let Some(n) = n else { return no };
    let Some(s) = n.scalar() else { return no };
    match s.as_str() {
        "no" | "\"no\"" | "false" => no,
        "always" | "unless-stopped" => RestartDraft {
            mode: "always",
            ..no
        },
        s if s.starts_with("on-failure") => RestartDraft {
            mode: "on-failure",
            limit: s.strip_prefix("on-failure:").and_then(|n| n.parse().ok()),
            backoff: None,
        },
        other => {
            d.warn(
                n.line,
                Some(name),
                format!("restart {other:?} is unknown; not restarted"),
            );
            no
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_durations() {
        assert_eq!(duration_ms("1m30s"), Some(90_000));
        assert_eq!(duration_ms("500ms"), Some(500));
        assert_eq!(duration_ms("1.5s"), Some(1500));
        assert_eq!(duration_ms("10"), Some(10_000));
        assert_eq!(duration_ms("soon"), None);
        assert_eq!(duration_ms(""), None);
    }
}
