//! `ready { … }` and `alive { … }` blocks: exactly one check (`exec`,
//! `http`, `tcp`, `log`, `notify`) plus the Kubernetes-style knobs
//! (`period`, `timeout`, `initial-delay`, `success-threshold`,
//! `failure-threshold`), and the URL check shared with `link`.

use devctl_units::{Probe, ProbeCheck, UnitKind};
use kdl::KdlNode;
use miette::SourceSpan;

use crate::error::Problem;
use crate::reader::{self as r, Cx, args, check_shape, clip, prop, suggest};
use crate::settings::argv;

const CHECKS: &[&str] = &["exec", "http", "tcp", "log", "notify"];
const KNOBS: &[&str] = &[
    "period",
    "timeout",
    "initial-delay",
    "success-threshold",
    "failure-threshold",
];

/// Read a probe block; `readiness` is true for `ready`, false for `alive`.
pub fn read(cx: &mut Cx, n: &KdlNode, kind: UnitKind, readiness: bool) -> Option<Probe> {
    let block = n.name().value().to_owned();
    if !check_shape(cx, n, 0, Some(0), &[], true) {
        return None;
    }
    let mut check: Option<(ProbeCheck, SourceSpan)> = None;
    let mut seen: Vec<(&str, SourceSpan)> = Vec::new();
    let mut knobs: Vec<&KdlNode> = Vec::new();
    let mut ok = true;
    for c in n.iter_children() {
        let name = c.name().value();
        let Some(slot) = CHECKS.iter().chain(KNOBS).find(|k| **k == name) else {
            let help = suggest(name, CHECKS.iter().chain(KNOBS).copied()).unwrap_or_else(|| {
                format!(
                    "`{block}` takes one of {} and the settings {}",
                    CHECKS.join("/"),
                    KNOBS.join(", ")
                )
            });
            cx.err_help(
                "devctl::manifest::unknown-node",
                format!("unknown setting `{}` in `{block}`", clip(name)),
                c.name().span(),
                "unknown setting",
                help,
            );
            ok = false;
            continue;
        };
        let key = if CHECKS.contains(slot) {
            "check"
        } else {
            *slot
        };
        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == key) {
            let msg = if key == "check" {
                format!("`{block}` has more than one check")
            } else {
                format!("`{name}` is given twice in `{block}`")
            };
            let p = Problem::at(
                "devctl::manifest::duplicate-child",
                msg,
                &cx.src,
                c.name().span(),
                "again here",
            )
            .with_label(*first, "first here")
            .with_help("a probe has exactly one check: exec, http, tcp, log or notify");
            cx.problems.push(p);
            ok = false;
            continue;
        }
        seen.push((key, c.name().span()));
        if key == "check" {
            match read_check(cx, c, kind, readiness) {
                Some(chk) => check = Some((chk, c.name().span())),
                None => ok = false,
            }
        } else {
            knobs.push(c);
        }
    }
    let mut probe = Probe::readiness(ProbeCheck::Notify);
    if !readiness {
        probe = Probe::liveness(ProbeCheck::Notify);
    }
    for k in knobs {
        if !check_shape(cx, k, 1, Some(1), &[], false) {
            ok = false;
            continue;
        }
        let e = args(k)[0];
        let name = k.name().value();
        let set = match name {
            "period" => r::duration(cx, e, "period", false).map(|d| probe.period = d),
            "timeout" => r::duration(cx, e, "timeout", false).map(|d| probe.timeout = d),
            "initial-delay" => {
                r::duration(cx, e, "initial-delay", true).map(|d| probe.initial_delay = d)
            }
            "success-threshold" => {
                r::count(cx, e, "success-threshold").map(|v| probe.success_threshold = v)
            }
            _ => r::count(cx, e, "failure-threshold").map(|v| probe.failure_threshold = v),
        };
        ok &= set.is_some();
        if name == "success-threshold" && !readiness && probe.success_threshold != 1 {
            cx.err_help(
                "devctl::manifest::bad-value",
                "success-threshold of a liveness probe must be 1",
                e.span(),
                "must be 1",
                "as in Kubernetes, one success makes a live unit live again",
            );
            ok = false;
        }
    }
    match check {
        Some((chk, _)) => {
            probe.check = chk;
            ok.then_some(probe)
        }
        None => {
            if ok {
                cx.err_help(
                    "devctl::manifest::missing-field",
                    format!("`{block}` has no check"),
                    n.name().span(),
                    "no check",
                    "add one of: exec \"cmd\" …, http \"url\", tcp PORT, log \"regex\", notify",
                );
            }
            None
        }
    }
}

fn read_check(cx: &mut Cx, c: &KdlNode, kind: UnitKind, readiness: bool) -> Option<ProbeCheck> {
    let name = c.name().value();
    if !readiness && matches!(name, "log" | "notify") {
        cx.err_help(
            "devctl::manifest::not-allowed",
            format!("`{name}` can only be a readiness check"),
            c.name().span(),
            "readiness only",
            "use exec, http or tcp in `alive`",
        );
        return None;
    }
    match name {
        "exec" => {
            if !check_shape(cx, c, 1, None, &[], false) {
                return None;
            }
            argv(cx, &args(c), "an exec argument").map(ProbeCheck::Exec)
        }
        "http" => {
            if !check_shape(cx, c, 1, Some(1), &["status"], false) {
                return None;
            }
            let e = args(c)[0];
            let url = r::text(cx, e, "the URL")?;
            let status = match prop(c, "status") {
                Some(s) => Some(u16::try_from(r::int(cx, s, "status", 100, 599)?).ok()?),
                None => None,
            };
            check_url(cx, &url, e.span(), "the URL", true)
                .then_some(ProbeCheck::Http { url, status })
        }
        "tcp" => {
            if !check_shape(cx, c, 1, Some(1), &["host"], false) {
                return None;
            }
            let port = r::port(cx, args(c)[0], "port");
            let host = match prop(c, "host") {
                Some(h) => {
                    let s = r::text(cx, h, "host")?;
                    if s.chars().any(|ch| ch.is_whitespace() || ch == '/') {
                        cx.err_help(
                            "devctl::manifest::bad-value",
                            format!("`{}` is not a host name or address", clip(&s)),
                            h.span(),
                            "bad host",
                            "write a host like \"127.0.0.1\" or \"db.local\"",
                        );
                        return None;
                    }
                    s
                }
                None => "127.0.0.1".to_owned(),
            };
            Some(ProbeCheck::Tcp { host, port: port? })
        }
        "log" => {
            if !check_shape(cx, c, 1, Some(1), &[], false) {
                return None;
            }
            let e = args(c)[0];
            let re = r::text(cx, e, "the regex")?;
            match regex::RegexBuilder::new(&re).size_limit(1 << 20).build() {
                Ok(_) => Some(ProbeCheck::Log { regex: re }),
                Err(err) => {
                    let msg = err.to_string();
                    let last = msg.lines().last().unwrap_or("invalid").trim().to_owned();
                    cx.err_help("devctl::manifest::bad-regex", format!("invalid regex: {last}"), e.span(), "invalid regex", "the syntax is Rust's regex crate (like RE2); escape literal brackets with \\\\");
                    None
                }
            }
        }
        _ => {
            if !check_shape(cx, c, 0, Some(0), &[], false) {
                return None;
            }
            if kind != UnitKind::Service {
                cx.err_help(
                    "devctl::manifest::not-allowed",
                    format!(
                        "`notify` readiness is only for services, not a {}",
                        kind.as_str()
                    ),
                    c.name().span(),
                    "services only",
                    "use exec, http, tcp or log",
                );
                return None;
            }
            Some(ProbeCheck::Notify)
        }
    }
}

/// Check a URL: `scheme://host…`; with `http_only`, the scheme must be
/// http or https and the port, if given, valid.
pub fn check_url(cx: &mut Cx, url: &str, span: SourceSpan, what: &str, http_only: bool) -> bool {
    let bad = |cx: &mut Cx, why: &str| {
        let help = if http_only {
            "write a URL like \"http://127.0.0.1:8080/healthz\""
        } else {
            "write a URL like \"http://localhost:8080/docs\""
        };
        cx.err_help(
            "devctl::manifest::bad-url",
            format!("{what} `{}` is not a valid URL: {why}", clip(url)),
            span,
            "invalid URL",
            help,
        );
        false
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return bad(cx, "no scheme (like http://)");
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'));
    if !scheme_ok {
        return bad(cx, "bad scheme");
    }
    if http_only && !matches!(scheme, "http" | "https") {
        return bad(cx, "only http:// and https:// can be probed");
    }
    if url.chars().any(char::is_whitespace) {
        return bad(cx, "it contains whitespace");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if hostport.is_empty() && http_only {
        return bad(cx, "no host");
    }
    let port = if hostport.starts_with('[') {
        match hostport.split_once(']') {
            Some((_, p)) => p.strip_prefix(':'),
            None => return bad(cx, "unclosed `[`"),
        }
    } else {
        hostport.rsplit_once(':').map(|(_, p)| p)
    };
    if let Some(p) = port
        && !matches!(p.parse::<u32>(), Ok(1..=65535))
    {
        return bad(cx, "bad port");
    }
    true
}
