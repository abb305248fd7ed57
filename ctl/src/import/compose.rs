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

use super::model::{
    Check, ContainerDraft, Dep, Draft, GroupDraft, Kind, ProbeDraft, Publish, RestartDraft,
    UnitDraft, Volume, unit_name,
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

/// Warn when compose would substitute variables into `s`.
fn interpolation(d: &mut Draft, line: usize, unit: &str, s: &str) {
    if s.contains("${")
        || s.split('$')
            .skip(1)
            .any(|t| t.starts_with(char::is_alphabetic))
    {
        d.warn(
            line,
            Some(unit),
            format!("{s:?}: compose substitutes ${{VARIABLES}} from the shell and .env; devctl keeps the text as written"),
        );
    }
}

struct Ctx<'a> {
    project: String,
    rebase: &'a Rebase,
    /// Whether the loopback-only publishing note was given.
    noted_loopback: bool,
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

fn environment(d: &mut Draft, name: &str, n: &Node, env: &mut Vec<(String, String)>) {
    let mut set = |d: &mut Draft, line: usize, k: &str, v: Option<String>| match v {
        Some(v) => {
            interpolation(d, line, name, &v);
            env.retain(|(key, _)| key != k);
            env.push((k.to_owned(), v));
        }
        None => d.warn(
            line,
            Some(name),
            format!(
                "{k}: compose passes it through from the shell; devctl does not, so it is not set"
            ),
        ),
    };
    match &n.value {
        Value::Map(m) => {
            for (k, v) in m {
                set(d, v.line, k, v.scalar());
            }
        }
        Value::Seq(items) => {
            for item in items {
                let Some(s) = item.scalar() else { continue };
                match s.split_once('=') {
                    Some((k, v)) => set(d, item.line, k, Some(v.to_owned())),
                    None => set(d, item.line, &s, None),
                }
            }
        }
        _ => d.warn(
            n.line,
            Some(name),
            "environment is neither a mapping nor a list; not imported",
        ),
    }
}

fn env_files(d: &mut Draft, cx: &Ctx<'_>, name: &str, n: &Node, out: &mut Vec<(String, bool)>) {
    let items: Vec<&Node> = match &n.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![n],
    };
    for item in items {
        if let Some(p) = item.scalar() {
            out.push((cx.rebase.path(&p), false));
        } else if let Some(p) = item.get("path").and_then(Node::scalar) {
            let required = item.get("required").and_then(Node::bool).unwrap_or(true);
            if item.get("format").is_some() {
                d.warn(item.line, Some(name), "env_file `format` is not imported");
            }
            out.push((cx.rebase.path(&p), !required));
        }
    }
}

/// A port number, or a range `a-b`.
fn port_range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => {
            let p = s.parse().ok()?;
            Some((p, p))
        }
    }
}

fn ports(
    d: &mut Draft,
    cx: &mut Ctx<'_>,
    name: &str,
    p: &Node,
    c: &mut ContainerDraft,
    checks: &mut Vec<u16>,
) {
    let (ip, host, container, udp) = if let Some(target) = p.get("target") {
        let host = p.get("published").and_then(Node::scalar);
        let proto = p.get("protocol").and_then(Node::scalar);
        (
            p.get("host_ip").and_then(Node::scalar),
            host,
            target.scalar().unwrap_or_default(),
            proto.as_deref() == Some("udp"),
        )
    } else {
        let Some(s) = p.scalar() else { return };
        let (spec, proto) = match s.rsplit_once('/') {
            Some((spec, proto)) => (spec.to_owned(), proto.to_owned()),
            None => (s.clone(), "tcp".to_owned()),
        };
        let (rest, container) = match spec.rsplit_once(':') {
            Some((rest, c)) => (Some(rest.to_owned()), c.to_owned()),
            None => (None, spec.clone()),
        };
        let (ip, host) = match rest {
            None => (None, None),
            Some(r) => match r.rsplit_once(':') {
                Some((ip, h)) => (
                    Some(ip.trim_start_matches('[').trim_end_matches(']').to_owned()),
                    Some(h.to_owned()),
                ),
                None => (None, Some(r)),
            },
        };
        (
            ip,
            host.filter(|h| !h.is_empty()),
            container,
            proto == "udp",
        )
    };
    let Some((c0, c1)) = port_range(&container) else {
        d.warn(
            p.line,
            Some(name),
            format!("port {container:?} is not a port number; not imported"),
        );
        return;
    };
    let host = match host.as_deref().map(port_range) {
        None => None,
        Some(Some(h)) => Some(h),
        Some(None) => {
            d.warn(
                p.line,
                Some(name),
                format!("host port {host:?} is not a port number; not imported"),
            );
            return;
        }
    };
    if host.is_none() {
        d.warn(
            p.line,
            Some(name),
            format!("port {c0}: compose picks a random host port; devctl publishes it on {c0}"),
        );
    }
    if let Some((h0, h1)) = host
        && h1 - h0 != c1 - c0
    {
        d.warn(
            p.line,
            Some(name),
            "host and container port ranges differ in length; not imported",
        );
        return;
    }
    if ip.is_none() && !cx.noted_loopback {
        cx.noted_loopback = true;
        d.warn(
            p.line,
            Some(name),
            "ports are published on 127.0.0.1 (compose publishes on every interface); add ip=\"0.0.0.0\" to a publish line for that",
        );
    }
    for i in 0..=(c1 - c0) {
        let hp = host.map(|(h0, _)| h0 + i);
        c.publish.push(Publish {
            container: c0 + i,
            host: hp.filter(|h| *h != c0 + i),
            ip: ip.clone().filter(|ip| ip != "127.0.0.1"),
            udp,
        });
        if !udp {
            checks.push(hp.unwrap_or(c0 + i));
        }
    }
}

fn volume(d: &mut Draft, cx: &Ctx<'_>, name: &str, v: &Node, c: &mut ContainerDraft) {
    let (source, target, read_only) = if let Some(s) = v.scalar() {
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            [target] => (None, (*target).to_owned(), false),
            [src, target] => (Some((*src).to_owned()), (*target).to_owned(), false),
            [src, target, mode] => (
                Some((*src).to_owned()),
                (*target).to_owned(),
                mode.split(',').any(|m| m == "ro"),
            ),
            _ => {
                d.warn(
                    v.line,
                    Some(name),
                    format!("volume {s:?} is not SOURCE:TARGET[:MODE]; not imported"),
                );
                return;
            }
        }
    } else {
        let ty = v.get("type").and_then(Node::scalar).unwrap_or_default();
        if ty != "bind" && ty != "volume" {
            d.warn(
                v.line,
                Some(name),
                format!(
                    "a {ty:?} mount is not imported (devctl mounts host paths and named volumes)"
                ),
            );
            return;
        }
        (
            v.get("source").and_then(Node::scalar),
            v.get("target").and_then(Node::scalar).unwrap_or_default(),
            v.get("read_only").and_then(Node::bool).unwrap_or(false),
        )
    };
    let Some(source) = source else {
        d.warn(
            v.line,
            Some(name),
            format!("anonymous volume {target:?} is not imported; give it a name"),
        );
        return;
    };
    if source.starts_with('~') || source.contains('$') {
        d.warn(
            v.line,
            Some(name),
            format!("volume source {source:?} is expanded by compose; not imported"),
        );
        return;
    }
    let source = if source.starts_with('.') || source.starts_with('/') {
        let p = cx.rebase.path(&source);
        if p.starts_with('.') || p.starts_with('/') {
            p
        } else {
            format!("./{p}")
        }
    } else {
        source
    };
    c.volumes.push(Volume {
        source,
        target,
        read_only,
    });
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
