//! Phase 2: KDL document → raw manifest. Reads the top-level nodes
//! (`project` and the unit kinds) and every unit's children into a
//! [`RawUnit`]: a `Unit` with its fields filled in plus the spans phase 3
//! needs (name, dependencies, group members). Everything wrong is reported
//! and reading goes on, so one run finds every problem.

use devctl_units::{
    Command, DepCondition, DepKind, EnvFile, ProjectName, TriggerMode, Unit, UnitKind, UnitName,
};
use kdl::{KdlDocument, KdlNode};
use miette::SourceSpan;

use crate::reader::{self as r, Cx, args, check_shape, clip, prop, suggest};
use crate::settings::{argv, read_deps, read_env, read_restart, read_stop, read_watch};
use crate::{container, probe, triggers};

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
    ("stop", &[S, D, B, C, K]),
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
    ("schedule", &[B]),
    ("every", &[B]),
    ("on-commit", &[B]),
    ("always-run", &[B]),
    ("timeout", &[B]),
    ("start-timeout", &[S, D, C, K]),
    ("logs", &[S, D, B, C, K]),
    ("image", &[C, K]),
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
    ("readiness", &[K]),
    ("kubeconfig", &[K]),
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
                not_allowed_help(cname, kind, &kinds),
            );
            continue;
        }
        // A kubernetes unit may build several images; a container runs one.
        let repeatable = REPEATABLE.contains(&slot) || (slot == "image" && kind == K);
        if !repeatable {
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
    ("log", "logs"),
    ("logging", "logs"),
    ("log-rotation", "logs"),
];

/// What to do with a setting the unit's kind does not take.
fn not_allowed_help(name: &str, kind: UnitKind, allowed: &[&str]) -> String {
    match name {
        // Only a build has runs that end; a schedule on anything else
        // would have to mean a restart, which devctl does not do on a clock.
        "schedule" | "every" | "on-commit" => format!(
            "only a build runs on its own: a {} stays up, so there is no run to start; \
             put the periodic work in a `build` with this `{name}`",
            kind.as_str()
        ),
        _ => format!("`{name}` applies to: {}", allowed.join(", ")),
    }
}

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
                if let Some(s) = r::string(cx, e, "the shell command")
                    && r::check_text(cx, &s, e.span(), "the shell command", true)
                {
                    u.command = Some(Command::Shell(s));
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
                if let Some(url) = r::text(cx, e, "the link")
                    && probe::check_url(cx, &url, e.span(), "the link", false)
                {
                    u.links.push(url);
                }
            }
        }
        "ready" => u.ready = probe::read(cx, n, u.kind, true),
        "alive" => {
            ru.alive_span = Some(n.name().span());
            ru.unit.alive = probe::read(cx, n, ru.unit.kind, false);
        }
        "restart" => read_restart(cx, u, n),
        "logs" => crate::logs::read(cx, u, n),
        "watch" => read_watch(cx, u, n),
        "schedule" | "every" => triggers::read_schedule(cx, u, n),
        "on-commit" => triggers::read_on_commit(cx, u, n),
        "always-run" => {
            if let Some(on) = triggers::read_flag(cx, n) {
                u.always_run = on;
            }
        }
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
