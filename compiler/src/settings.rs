//! Readers for the unit settings that take more than a single value:
//! command lines, dependencies, environment, stop, signals, restart policy
//! and file watching. Shared by `manifest` (and `probe`/`container` for
//! command lines).

use std::path::Path;

use devctl_units::{DepCondition, DepKind, RestartMode, Signal, Unit, UnitKind};
use kdl::{KdlEntry, KdlNode};

use crate::manifest::{RawDep, RawUnit};
use crate::reader::{self as r, Cx, args, check_shape, clip, prop, suggest};

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

pub fn read_deps(cx: &mut Cx, ru: &mut RawUnit, n: &KdlNode, kind: DepKind) {
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

pub fn read_env(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
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

pub fn read_stop(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    let max_args = if u.kind == UnitKind::Daemon {
        None
    } else {
        Some(0)
    };
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

pub fn read_restart(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
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
        // A zero backoff restarts at once (systemd's RestartSec=0); the
        // start limit still ends a crash loop.
        if let Some(e) = prop(n, key)
            && let Some(d) = r::duration(cx, e, key, key == "backoff")
        {
            *slot = d;
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

pub fn read_watch(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    if !check_shape(cx, n, 1, None, &["ignore"], false) {
        return;
    }
    for e in args(n) {
        if let Some(g) = glob(cx, e) {
            u.watch.paths.push(g);
        }
    }
    if let Some(e) = prop(n, "ignore")
        && let Some(g) = glob(cx, e)
    {
        u.watch.ignore.push(g);
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
