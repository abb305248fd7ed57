//! Phase 2: KDL document → raw manifest. Reads the top-level nodes
//! (`project` and the unit kinds) and every unit's children into a
//! [`RawUnit`]: a `Unit` with its fields filled in plus the spans phase 3
//! needs (name, dependencies, group members). Everything wrong is reported
//! and reading goes on, so one run finds every problem.

use std::path::Path;

use devctl_units::{
    Command, DepCondition, DepKind, EnvFile, ProjectName, RestartMode, Signal, TriggerMode, Unit,
    UnitKind, UnitName,
};
use kdl::{KdlDocument, KdlEntry, KdlNode};
use miette::SourceSpan;

use crate::reader::{self as r, Cx, args, check_shape, clip, prop, suggest};
use crate::{container, probe};

use UnitKind::{
    Build as B, Container as C, Daemon as D, Group as G, Kubernetes as K, Service as S,
};

/// The top-level node names that declare units.
pub const KINDS: &[(&str, UnitKind)] = &[
    ("service", S),
    ("daemon", D),
    ("build", B),
    ("container", C),
    ("kubernetes", K),
    ("group", G),
];

/// Every unit child node, and the kinds it is allowed in.
pub const CHILDREN: &[(&str, &[UnitKind])] = &[
    ("description", &[S, D, B, C, K, G]),
    ("enabled", &[S, D, B, C, K, G]),
    ("requires", &[S, D, B, C, K]),
    ("wants", &[S, D, B, C, K]),
    ("run", &[S, B]),
    ("sh", &[S, B]),
    ("start", &[D]),
    ("stop", &[S, D, B, C]),
    ("pid-file", &[D]),
    ("dir", &[S, D, B]),
    ("env", &[S, D, B, C]),
    ("env-file", &[S, D, B, C]),
    ("port", &[S, D, C, K]),
    ("link", &[S, D, C, K]),
    ("ready", &[S, D, C, K]),
    ("alive", &[S, D, C]),
    ("restart", &[S, D, C]),
    ("watch", &[S, D, B, C]),
    ("trigger", &[S, D, B, C]),
    ("timeout", &[B]),
    ("start-timeout", &[S, D, C, K]),
    ("image", &[C]),
    ("build", &[C]),
    ("command", &[C]),
    ("entrypoint", &[C]),
    ("publish", &[C]),
    ("volume", &[C]),
    ("workdir", &[C]),
    ("user", &[C]),
    ("network", &[C]),
    ("healthcheck", &[C]),
    ("manifests", &[K]),
    ("context", &[K]),
    ("namespace", &[K]),
    ("port-forward", &[K]),
    ("units", &[G]),
];

/// Children that may appear more than once in a unit.
const REPEATABLE: &[&str] = &[
    "requires",
    "wants",
    "env",
    "env-file",
    "port",
    "link",
    "watch",
    "publish",
    "volume",
    "manifests",
    "port-forward",
    "units",
];

/// A dependency as written, resolved in phase 3.
#[derive(Debug, Clone)]
pub struct RawDep {
    pub name: UnitName,
    pub kind: DepKind,
    pub until: Option<(DepCondition, SourceSpan)>,
    pub span: SourceSpan,
}

/// A unit as read, with the spans cross-unit checks point at.
#[derive(Debug, Clone)]
pub struct RawUnit {
    pub unit: Unit,
    pub name_span: SourceSpan,
    pub deps: Vec<RawDep>,
    pub members: Vec<(UnitName, SourceSpan)>,
    /// Span of the `alive` block, for the no-restart warning.
    pub alive_span: Option<SourceSpan>,
}

/// The whole manifest as read.
#[derive(Debug)]
pub struct RawManifest {
    pub project: Option<(String, SourceSpan)>,
    pub units: Vec<RawUnit>,
}

/// Read the document. `lines` are the byte offsets of line starts (for the
/// `source` field), `file` the manifest path as shown to the user.
pub fn read(
    cx: &mut Cx,
    doc: &KdlDocument,
    file: &str,
    lines: &[usize],
    placeholder: &ProjectName,
) -> RawManifest {
    let mut project: Option<(String, SourceSpan)> = None;
    let mut units = Vec::new();
    for node in doc.nodes() {
        let name = node.name().value();
        if name == "project" {
            if !check_shape(cx, node, 1, Some(1), &[], false) {
                continue;
            }
            let entry = args(node)[0];
            if let Some((_, first)) = &project {
                let p = crate::error::Problem::at(
                    "devctl::manifest::duplicate-child",
                    "`project` is given twice",
                    &cx.src,
                    node.span(),
                    "again here",
                )
                .with_label(*first, "first here")
                .with_help("keep one `project` line");
                cx.problems.push(p);
            } else if let Some(s) = r::string(cx, entry, "the project name") {
                project = Some((s, entry.span()));
            }
            continue;
        }
        let Some(&(_, kind)) = KINDS.iter().find(|(k, _)| *k == name) else {
            unknown_top_level(cx, node);
            continue;
        };
        if let Some(u) = read_unit(cx, node, kind, file, lines, placeholder) {
            units.push(u);
        }
    }
    RawManifest { project, units }
}

fn unknown_top_level(cx: &mut Cx, node: &KdlNode) {
    let name = node.name().value();
    let top = std::iter::once("project").chain(KINDS.iter().map(|(k, _)| *k));
    let help = if CHILDREN.iter().any(|(c, _)| *c == name) {
        format!("`{name}` belongs inside a unit's `{{ … }}` block")
    } else {
        suggest(name, top).unwrap_or_else(|| {
            "top-level nodes are: project, service, daemon, build, container, kubernetes, group"
                .to_owned()
        })
    };
    cx.err_help(
        "devctl::manifest::unknown-node",
        format!("unknown node `{}`", clip(name)),
        node.name().span(),
        "unknown node",
        help,
    );
}

fn read_unit(
    cx: &mut Cx,
    node: &KdlNode,
    kind: UnitKind,
    file: &str,
    lines: &[usize],
    project: &ProjectName,
) -> Option<RawUnit> {
    let kname = kind.as_str();
    if !check_shape(cx, node, 1, Some(1), &[], true) {
        return None;
    }
    let entry = args(node)[0];
    let name = r::unit_name(cx, entry, &format!("the {kname} name"))?;
    let mut unit = Unit::new(project.clone(), name, kind, cx.root.clone());
    let offset = node.span().offset();
    let line = lines.partition_point(|&s| s <= offset);
    let col = offset - lines[line - 1] + 1;
    unit.source = Some(format!("{file}:{line}:{col}"));
    let mut ru = RawUnit {
        unit,
        name_span: entry.span(),
        deps: Vec::new(),
        members: Vec::new(),
        alive_span: None,
    };
    let mut seen: Vec<(&str, SourceSpan)> = Vec::new();
    let mut trigger_span = None;
    let mut unknown_child = false;
    for child in node.iter_children() {
        let cname = child.name().value();
        let Some(&(slot, allowed)) = CHILDREN.iter().find(|(c, _)| *c == cname) else {
            unknown_child = true;
            let help = child_help(cname, kind);
            cx.err_help(
                "devctl::manifest::unknown-node",
                format!(
                    "unknown setting `{}` in {kname} `{}`",
                    clip(cname),
                    ru.unit.name
                ),
                child.name().span(),
                "unknown setting",
                help,
            );
            continue;
        };
        if !allowed.contains(&kind) {
            let kinds: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
            cx.err_help(
                "devctl::manifest::not-allowed",
                format!("`{cname}` is not allowed in a {kname}"),
                child.name().span(),
                "not allowed here",
                format!("`{cname}` applies to: {}", kinds.join(", ")),
            );
            continue;
        }
        if !REPEATABLE.contains(&slot) {
            let key = if slot == "sh" { "run" } else { slot };
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == key) {
                let msg = if key == "run" {
                    format!("{kname} `{}` has more than one `run`/`sh`", ru.unit.name)
                } else {
                    format!("`{cname}` is given twice in {kname} `{}`", ru.unit.name)
                };
                let p = crate::error::Problem::at(
                    "devctl::manifest::duplicate-child",
                    msg,
                    &cx.src,
                    child.name().span(),
                    "again here",
                )
                .with_label(*first, "first here")
                .with_help("keep one of them");
                cx.problems.push(p);
                continue;
            }
        }
        seen.push((if slot == "sh" { "run" } else { slot }, child.name().span()));
        if cname == "trigger" {
            trigger_span = Some(child.name().span());
        }
        read_child(cx, &mut ru, child);
    }
    // A misspelt required setting would be reported twice otherwise.
    if !unknown_child {
        check_required(cx, &ru, &seen, trigger_span);
    }
    Some(ru)
}

/// Spellings from other tools, and what devctl calls them.
const ALIASES: &[(&str, &str)] = &[
    ("cmd", "run"),
    ("exec", "run"),
    ("script", "sh"),
    ("shell", "sh"),
    ("cwd", "dir"),
    ("working-dir", "dir"),
    ("working_dir", "dir"),
    ("workdir", "dir"),
    ("environment", "env"),
    ("env_file", "env-file"),
    ("depends-on", "requires"),
    ("depends_on", "requires"),
    ("after", "requires"),
    ("needs", "requires"),
    ("healthcheck", "ready"),
    ("readiness", "ready"),
    ("liveness", "alive"),
    ("ports", "port"),
    ("pidfile", "pid-file"),
    ("autostart", "enabled"),
];

fn child_help(name: &str, kind: UnitKind) -> String {
    let kname = kind.as_str();
    let allowed = |c: &str| CHILDREN.iter().any(|(n, ks)| *n == c && ks.contains(&kind));
    if let Some((_, to)) = ALIASES
        .iter()
        .find(|(from, to)| *from == name && allowed(to))
    {
        return format!("a {kname} spells this `{to}`");
    }
    let own = CHILDREN
        .iter()
        .filter(|(_, ks)| ks.contains(&kind))
        .map(|(c, _)| *c);
    if let Some(s) = suggest(name, own) {
        return s;
    }
    let typo_of = CHILDREN
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| suggest(name, [*c]).is_some())
        .find(|c| !allowed(c));
    let run_like = matches!(kind, S | B)
        && typo_of.is_some_and(|c| matches!(c, "command" | "entrypoint" | "start"));
    match typo_of {
        Some(_) if run_like => "did you mean `run`? (or `sh` for a shell command)".to_owned(),
        Some(c) => {
            format!("`{c}` is not a {kname} setting; see devctl.kdl(5) for what a {kname} accepts")
        }
        None => format!("see devctl.kdl(5) for what a {kname} accepts"),
    }
}

fn read_child(cx: &mut Cx, ru: &mut RawUnit, n: &KdlNode) {
    let u = &mut ru.unit;
    match n.name().value() {
        "description" => {
            if check_shape(cx, n, 1, Some(1), &[], false) {
                u.description = r::text(cx, args(n)[0], "the description");
            }
        }
        "enabled" => {
            if check_shape(cx, n, 1, Some(1), &[], false) {
                u.enabled = r::boolean(cx, args(n)[0], "enabled").unwrap_or(true);
            }
        }
        "requires" => read_deps(cx, ru, n, DepKind::Requires),
        "wants" => read_deps(cx, ru, n, DepKind::Wants),
        "run" | "start" => {
            if check_shape(cx, n, 1, None, &[], false) {
                u.command = argv(cx, &args(n), "a command argument").map(Command::Argv);
            }
        }
        "sh" => {
            if check_shape(cx, n, 1, Some(1), &[], false) {
                let e = args(n)[0];
                if let Some(s) = r::string(cx, e, "the shell command") {
                    if r::check_text(cx, &s, e.span(), "the shell command", true) {
                        u.command = Some(Command::Shell(s));
                    }
                }
            }
        }
        "stop" => read_stop(cx, u, n),
        "pid-file" => {
            if check_shape(cx, n, 1, Some(1), &[], false) {
                u.pid_file = r::path(cx, args(n)[0], "the pid file");
            }
        }
        "dir" => {
            if check_shape(cx, n, 1, Some(1), &[], false) {
                u.dir = r::path(cx, args(n)[0], "the directory");
            }
        }
        "env" => read_env(cx, u, n),
        "env-file" => {
            if check_shape(cx, n, 1, Some(1), &["optional"], false) {
                let optional = prop(n, "optional")
                    .and_then(|e| r::boolean(cx, e, "optional"))
                    .unwrap_or(false);
                if let Some(path) = r::path(cx, args(n)[0], "the env file") {
                    u.env_files.push(EnvFile { path, optional });
                }
            }
        }
        "port" => {
            if check_shape(cx, n, 1, None, &[], false) {
                for e in args(n) {
                    if let Some(p) = r::port(cx, e, "port") {
                        if u.ports.contains(&p) {
                            cx.err_help(
                                "devctl::manifest::duplicate-port",
                                format!("port {p} is listed twice"),
                                e.span(),
                                "again here",
                                "list each port once",
                            );
                        } else {
                            u.ports.push(p);
                        }
                    }
                }
            }
        }
        "link" => {
            if check_shape(cx, n, 1, Some(1), &[], false) {
                let e = args(n)[0];
                if let Some(url) = r::text(cx, e, "the link") {
                    if probe::check_url(cx, &url, e.span(), "the link", false) {
                        u.links.push(url);
                    }
                }
            }
        }
        "ready" => u.ready = probe::read(cx, n, u.kind, true),
        "alive" => {
            ru.alive_span = Some(n.name().span());
            ru.unit.alive = probe::read(cx, n, ru.unit.kind, false);
        }
        "restart" => read_restart(cx, u, n),
        "watch" => read_watch(cx, u, n),
        "trigger" => {
            if check_shape(cx, n, 1, Some(1), &[], false) {
                let e = args(n)[0];
                match r::string(cx, e, "trigger").as_deref() {
                    Some("auto") => u.watch.trigger = TriggerMode::Auto,
                    Some("manual") => u.watch.trigger = TriggerMode::Manual,
                    Some(other) => {
                        let help = suggest(other, ["auto", "manual"])
                            .unwrap_or_else(|| "write \"auto\" or \"manual\"".to_owned());
                        cx.err_help(
                            "devctl::manifest::bad-value",
                            format!("unknown trigger mode `{}`", clip(other)),
                            e.span(),
                            "unknown mode",
                            help,
                        );
                    }
                    None => {}
                }
            }
        }
        "timeout" => {
            if check_shape(cx, n, 0, Some(1), &["idle-timeout"], false) {
                if let Some(e) = args(n).first() {
                    u.run_timeout = r::duration(cx, e, "timeout", false);
                }
                if let Some(e) = prop(n, "idle-timeout") {
                    u.idle_timeout = r::duration(cx, e, "idle-timeout", false);
                }
                if n.entries().is_empty() {
                    cx.err_help(
                        "devctl::manifest::missing-argument",
                        "`timeout` needs a duration",
                        n.name().span(),
                        "missing argument",
                        "write timeout \"5m\" idle-timeout=\"30s\"",
                    );
                }
            }
        }
        "start-timeout" => {
            if check_shape(cx, n, 1, Some(1), &[], false) {
                u.start_timeout = r::duration(cx, args(n)[0], "start-timeout", false);
            }
        }
        "units" => {
            if check_shape(cx, n, 1, None, &[], false) {
                for e in args(n) {
                    if let Some(name) = r::unit_name(cx, e, "the member name") {
                        if ru.members.iter().any(|(m, _)| *m == name) {
                            cx.err_help(
                                "devctl::manifest::duplicate-member",
                                format!("`{name}` is listed twice"),
                                e.span(),
                                "again here",
                                "list each member once",
                            );
                        } else {
                            ru.members.push((name, e.span()));
                        }
                    }
                }
            }
        }
        _ => container::read_child(cx, u, n),
    }
}

/// Command-line arguments: single-line text each, at most 64 KiB each
/// (checked by the pre-scan), the program non-empty.
pub fn argv(cx: &mut Cx, entries: &[&KdlEntry], what: &str) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(entries.len());
    let mut ok = true;
    for (i, e) in entries.iter().enumerate() {
        let Some(s) = r::string(cx, e, what) else {
            ok = false;
            continue;
        };
        if (i == 0 || !s.is_empty())
            && !r::check_text(
                cx,
                &s,
                e.span(),
                if i == 0 { "the program" } else { what },
                false,
            )
        {
            ok = false;
        }
        out.push(s);
    }
    ok.then_some(out)
}

fn read_deps(cx: &mut Cx, ru: &mut RawUnit, n: &KdlNode, kind: DepKind) {
    if !check_shape(cx, n, 1, None, &["until"], false) {
        return;
    }
    let until = prop(n, "until").and_then(|e| {
        let s = r::string(cx, e, "until")?;
        let all = [
            DepCondition::Started,
            DepCondition::Ready,
            DepCondition::Succeeded,
        ];
        match all.into_iter().find(|c| c.as_str() == s) {
            Some(c) => Some((c, e.span())),
            None => {
                let help = suggest(&s, all.iter().map(|c| c.as_str()))
                    .unwrap_or_else(|| "write \"started\", \"ready\" or \"succeeded\"".to_owned());
                cx.err_help(
                    "devctl::manifest::bad-value",
                    format!("unknown condition `{}`", clip(&s)),
                    e.span(),
                    "unknown condition",
                    help,
                );
                None
            }
        }
    });
    for e in args(n) {
        let Some(name) = r::unit_name(cx, e, "the dependency name") else {
            continue;
        };
        if let Some(first) = ru.deps.iter().find(|d| d.name == name) {
            let p = crate::error::Problem::at(
                "devctl::manifest::duplicate-dependency",
                format!("`{name}` is named twice as a dependency"),
                &cx.src,
                e.span(),
                "again here",
            )
            .with_label(first.span, "first here")
            .with_help("name each dependency once, with `requires` or with `wants`");
            cx.problems.push(p);
            continue;
        }
        ru.deps.push(RawDep {
            name,
            kind,
            until,
            span: e.span(),
        });
    }
}

fn read_env(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    if let Some(ch) = n.children() {
        cx.err_help(
            "devctl::manifest::unexpected-children",
            "`env` does not take a `{ … }` block",
            ch.span(),
            "unexpected block",
            "write env NAME=\"value\" OTHER=\"value\"",
        );
    }
    if n.entries().is_empty() {
        cx.err_help(
            "devctl::manifest::missing-argument",
            "`env` sets nothing",
            n.name().span(),
            "empty",
            "write env NAME=\"value\"",
        );
    }
    for e in n.entries() {
        if let Some(ty) = e.ty() {
            cx.err_help(
                "devctl::manifest::type-annotation",
                "type annotations are not used in devctl.kdl",
                ty.span(),
                "remove this",
                "write the value without the `(type)` prefix",
            );
            continue;
        }
        let Some(key) = e.name() else {
            cx.err_help(
                "devctl::manifest::extra-argument",
                "`env` takes KEY=\"value\" properties, not arguments",
                e.span(),
                "not a property",
                "write env NAME=\"value\"",
            );
            continue;
        };
        let k = key.value();
        let valid = k
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && k.len() <= 256;
        if !valid {
            cx.err_help(
                "devctl::manifest::bad-env-name",
                format!(
                    "`{}` is not a valid environment variable name",
                    clip(k).escape_debug()
                ),
                key.span(),
                "invalid name",
                "use letters, digits and '_', not starting with a digit",
            );
            continue;
        }
        let value = match e.value() {
            kdl::KdlValue::String(s) => s.clone(),
            kdl::KdlValue::Integer(i) => i.to_string(),
            v => {
                cx.err_help(
                    "devctl::manifest::wrong-type",
                    format!("env `{k}` must be a string, found {}", r::type_name(v)),
                    e.span(),
                    "expected a string",
                    "write the value in quotes",
                );
                continue;
            }
        };
        if !value.is_empty() && !r::check_text(cx, &value, e.span(), &format!("env `{k}`"), true) {
            continue;
        }
        if u.env.iter().any(|(ek, _)| ek == k) {
            cx.err_help(
                "devctl::manifest::duplicate-env",
                format!("env `{k}` is set twice"),
                key.span(),
                "again here",
                "set each variable once",
            );
            continue;
        }
        u.env.push((k.to_owned(), value));
    }
}

fn read_stop(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    let max_args = if u.kind == D { None } else { Some(0) };
    if !check_shape(cx, n, 0, max_args, &["signal", "timeout"], false) {
        return;
    }
    if let Some(e) = prop(n, "signal") {
        u.stop.signal = signal(cx, e).unwrap_or(u.stop.signal);
    }
    if let Some(e) = prop(n, "timeout") {
        u.stop.timeout = r::duration(cx, e, "stop timeout", false).unwrap_or(u.stop.timeout);
    }
    let a = args(n);
    if !a.is_empty() {
        u.stop.command = argv(cx, &a, "a stop command argument");
    }
}

/// A signal name (`SIGINT`, `INT`, `2`).
pub fn signal(cx: &mut Cx, e: &KdlEntry) -> Option<Signal> {
    let s = match e.value() {
        kdl::KdlValue::Integer(i) => i.to_string(),
        _ => r::string(cx, e, "the signal")?,
    };
    if let Some(sig) = Signal::parse(&s).filter(|s| !matches!(s, Signal::SIGKILL | Signal::SIGSTOP))
    {
        return Some(sig);
    }
    let upper = s.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    let help = if matches!(full.as_str(), "SIGKILL" | "SIGSTOP") {
        "SIGKILL and SIGSTOP cannot be caught; devctl sends SIGKILL itself after the stop timeout"
            .to_owned()
    } else {
        suggest(
            &full,
            Signal::names().filter(|n| !matches!(*n, "SIGKILL" | "SIGSTOP")),
        )
        .unwrap_or_else(|| "use SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, ...".to_owned())
    };
    cx.err_help(
        "devctl::manifest::bad-signal",
        format!("`{}` is not a usable stop signal", clip(&s)),
        e.span(),
        "bad signal",
        help,
    );
    None
}

fn read_restart(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    if !check_shape(
        cx,
        n,
        1,
        Some(1),
        &["backoff", "max-delay", "limit", "within", "reset-after"],
        false,
    ) {
        return;
    }
    let e = args(n)[0];
    if let Some(s) = r::string(cx, e, "the restart mode") {
        match RestartMode::parse(&s) {
            Some(m) => u.restart.mode = m,
            None => {
                let help = suggest(&s, ["no", "on-failure", "always"])
                    .unwrap_or_else(|| "write \"no\", \"on-failure\" or \"always\"".to_owned());
                cx.err_help(
                    "devctl::manifest::bad-value",
                    format!("unknown restart mode `{}`", clip(&s)),
                    e.span(),
                    "unknown mode",
                    help,
                );
            }
        }
    }
    let p = &mut u.restart;
    let durations: [(&str, &mut std::time::Duration); 4] = [
        ("backoff", &mut p.backoff),
        ("max-delay", &mut p.max_delay),
        ("within", &mut p.within),
        ("reset-after", &mut p.reset_after),
    ];
    for (key, slot) in durations {
        if let Some(e) = prop(n, key) {
            if let Some(d) = r::duration(cx, e, key, false) {
                *slot = d;
            }
        }
    }
    if let Some(e) = prop(n, "limit") {
        p.limit = r::count(cx, e, "limit").unwrap_or(p.limit);
    }
    if p.backoff > p.max_delay {
        let span = prop(n, "backoff")
            .or_else(|| prop(n, "max-delay"))
            .map_or(n.name().span(), |e| e.span());
        cx.err_help(
            "devctl::manifest::bad-value",
            "backoff is longer than max-delay",
            span,
            "here",
            "max-delay caps the backoff; make it at least as long",
        );
    }
}

fn read_watch(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    if !check_shape(cx, n, 1, None, &["ignore"], false) {
        return;
    }
    for e in args(n) {
        if let Some(g) = glob(cx, e) {
            u.watch.paths.push(g);
        }
    }
    if let Some(e) = prop(n, "ignore") {
        if let Some(g) = glob(cx, e) {
            u.watch.ignore.push(g);
        }
    }
}

fn glob(cx: &mut Cx, e: &KdlEntry) -> Option<String> {
    let s = r::text(cx, e, "the glob")?;
    if Path::new(&s).is_absolute() {
        cx.err_help(
            "devctl::manifest::bad-glob",
            format!("glob `{}` is absolute", clip(&s)),
            e.span(),
            "absolute",
            "globs are relative to the project root",
        );
        return None;
    }
    match globset::Glob::new(&s) {
        Ok(_) => Some(s),
        Err(err) => {
            cx.err_help(
                "devctl::manifest::bad-glob",
                format!("invalid glob `{}`: {}", clip(&s), err.kind()),
                e.span(),
                "invalid glob",
                "check brackets and braces; `**` matches any number of directories",
            );
            None
        }
    }
}

fn check_required(
    cx: &mut Cx,
    ru: &RawUnit,
    seen: &[(&str, SourceSpan)],
    trigger: Option<SourceSpan>,
) {
    let u = &ru.unit;
    let has = |k: &str| seen.iter().any(|(s, _)| *s == k);
    let name = &u.name;
    let missing: Option<(String, &str)> = match u.kind {
        S | B if u.command.is_none() && !has("run") => Some((
            format!("{} `{name}` has nothing to run", u.kind.as_str()),
            "add `run \"program\" \"arg\" …` (no shell) or `sh \"command\"`",
        )),
        D if !has("start") => Some((
            format!("daemon `{name}` has no `start` command"),
            "add `start \"program\" \"arg\" …`: a command that starts the daemon and returns",
        )),
        D if !has("pid-file") => Some((
            format!("daemon `{name}` has no `pid-file`"),
            "add `pid-file \"path\"`: devctl tracks the daemon through it",
        )),
        C if !has("image") => Some((
            format!("container `{name}` has no `image`"),
            "add `image \"name:tag\"`",
        )),
        K if !has("manifests") => Some((
            format!("kubernetes `{name}` has no `manifests`"),
            "add `manifests \"k8s/app.yaml\" …`",
        )),
        G if ru.members.is_empty() && !has("units") => Some((
            format!("group `{name}` has no members"),
            "add `units \"a\" \"b\" …`",
        )),
        _ => None,
    };
    if let Some((msg, help)) = missing {
        cx.err_help(
            "devctl::manifest::missing-field",
            msg,
            ru.name_span,
            "declared here",
            help,
        );
    }
    if let Some(span) = trigger.filter(|_| u.watch.paths.is_empty() && !has("watch")) {
        cx.err_help(
            "devctl::manifest::bad-value",
            format!("`trigger` without `watch` in `{name}`"),
            span,
            "nothing to trigger on",
            "add `watch \"glob\"`, or remove `trigger`",
        );
    }
}
