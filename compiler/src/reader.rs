//! Reading KDL nodes strictly: the shared context that collects problems,
//! node-shape checks (argument count, known properties, no duplicates, no
//! type annotations, no unexpected children) and typed readers for entries
//! (strings, integers, ports, booleans, durations, paths, names), each of
//! which reports a positioned problem instead of failing.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use devctl_units::{NameError, UnitName};
use kdl::{KdlEntry, KdlNode, KdlValue};
use miette::SourceSpan;

use crate::error::{Problem, Source, Warning};
use crate::prescan::forbidden_char;

/// Longest duration accepted anywhere (a year).
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// The compile context: where problems and warnings go.
pub struct Cx {
    pub src: Source,
    pub root: PathBuf,
    pub problems: Vec<Problem>,
    pub warnings: Vec<Warning>,
}

impl Cx {
    /// A fresh context for one manifest.
    pub fn new(src: Source, root: PathBuf) -> Cx {
        Cx {
            src,
            root,
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Report a problem with help text.
    pub fn err_help(
        &mut self,
        code: &'static str,
        msg: impl Into<String>,
        span: SourceSpan,
        label: &str,
        help: impl Into<String>,
    ) {
        let p = Problem::at(code, msg, &self.src, span, label).with_help(help);
        self.problems.push(p);
    }
}

/// `did you mean `x`?` for the closest candidate, if one is close enough.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    if word.len() > 64 {
        return None;
    }
    let best = candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)?;
    Some(format!("did you mean `{}`?", best.1))
}

/// Shorten user text for messages.
pub fn clip(s: &str) -> String {
    if s.chars().count() <= 64 {
        return s.to_owned();
    }
    let head: String = s.chars().take(61).collect();
    format!("{head}...")
}

/// Format a duration compactly, in a form both devctl and systemd parse:
/// `1500ms`, `30s`.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// The KDL type of a value, for messages.
pub fn type_name(v: &KdlValue) -> &'static str {
    match v {
        KdlValue::String(_) => "a string",
        KdlValue::Integer(_) => "an integer",
        KdlValue::Float(_) => "a number with a fraction",
        KdlValue::Bool(_) => "a boolean",
        KdlValue::Null => "#null",
    }
}

/// The arguments (unnamed entries) of a node.
pub fn args(node: &KdlNode) -> Vec<&KdlEntry> {
    node.entries()
        .iter()
        .filter(|e| e.name().is_none())
        .collect()
}

/// The property `key` of a node, if present.
pub fn prop<'a>(node: &'a KdlNode, key: &str) -> Option<&'a KdlEntry> {
    node.entries()
        .iter()
        .rev()
        .find(|e| e.name().is_some_and(|n| n.value() == key))
}

/// Check a node's shape. `min..=max` arguments (`None`: unbounded), only
/// `props` as properties (each at most once), children only if `children`.
/// Returns `false` (after reporting) when the node cannot be read further.
pub fn check_shape(
    cx: &mut Cx,
    node: &KdlNode,
    min: usize,
    max: Option<usize>,
    props: &[&str],
    children: bool,
) -> bool {
    let name = node.name().value();
    let mut ok = true;
    if let Some(ty) = node.ty() {
        cx.err_help(
            "devctl::manifest::type-annotation",
            format!(
                "type annotations are not used in devctl.kdl (`({})` on `{name}`)",
                clip(ty.value())
            ),
            ty.span(),
            "remove this",
            "write the value without the `(type)` prefix",
        );
        ok = false;
    }
    let mut seen: Vec<(&str, SourceSpan)> = Vec::new();
    for e in node.entries() {
        if let Some(ty) = e.ty() {
            cx.err_help(
                "devctl::manifest::type-annotation",
                format!(
                    "type annotations are not used in devctl.kdl (`({})`)",
                    clip(ty.value())
                ),
                ty.span(),
                "remove this",
                "write the value without the `(type)` prefix",
            );
            ok = false;
        }
        let Some(key) = e.name() else { continue };
        let k = key.value();
        if !props.contains(&k) {
            let msg = if props.is_empty() {
                format!("`{name}` takes no properties, found `{}=`", clip(k))
            } else {
                format!("unknown property `{}` on `{name}`", clip(k))
            };
            let help = suggest(k, props.iter().copied()).unwrap_or_else(|| {
                if props.is_empty() {
                    "remove it".to_owned()
                } else {
                    format!("`{name}` accepts: {}", props.join(", "))
                }
            });
            cx.err_help(
                "devctl::manifest::unknown-property",
                msg,
                key.span(),
                "unknown property",
                help,
            );
            ok = false;
        } else if let Some((_, first)) = seen.iter().find(|(s, _)| *s == k) {
            let first = *first;
            let p = Problem::at(
                "devctl::manifest::duplicate-property",
                format!("property `{k}` is given twice on `{name}`"),
                &cx.src,
                e.span(),
                "again here",
            )
            .with_label(first, "first here")
            .with_help("keep one of them");
            cx.problems.push(p);
            ok = false;
        } else {
            seen.push((k, e.span()));
        }
    }
    let n = args(node).len();
    if n < min {
        let what = if min == 1 && max == Some(1) {
            "1 argument".to_owned()
        } else {
            format!("at least {min} argument(s)")
        };
        cx.err_help(
            "devctl::manifest::missing-argument",
            format!("`{name}` needs {what}, found {n}"),
            node.name().span(),
            "missing argument",
            usage_hint(name),
        );
        ok = false;
    }
    if let Some(max) = max.filter(|m| n > *m) {
        let extra = args(node)[max];
        let msg = match max {
            0 => format!("`{name}` takes no arguments"),
            1 => format!("`{name}` takes 1 argument, found {n}"),
            m => format!("`{name}` takes at most {m} arguments, found {n}"),
        };
        cx.err_help(
            "devctl::manifest::extra-argument",
            msg,
            extra.span(),
            "unexpected argument",
            usage_hint(name),
        );
        ok = false;
    }
    if let Some(ch) = node.children().filter(|_| !children) {
        cx.err_help(
            "devctl::manifest::unexpected-children",
            format!("`{name}` does not take a `{{ … }}` block"),
            ch.span(),
            "unexpected block",
            "remove the block; write the settings as arguments or properties",
        );
        ok = false;
    }
    ok
}

fn usage_hint(name: &str) -> String {
    format!("see devctl.kdl(5) for how to write `{name}`")
}

/// A string entry.
pub fn string(cx: &mut Cx, e: &KdlEntry, what: &str) -> Option<String> {
    match e.value() {
        KdlValue::String(s) => Some(s.clone()),
        v => {
            let help = match v {
                KdlValue::Integer(i) => format!("write it in quotes: \"{i}\""),
                KdlValue::Bool(b) => format!("write it in quotes: \"{b}\""),
                _ => format!("{what} is text; write it in quotes"),
            };
            cx.err_help(
                "devctl::manifest::wrong-type",
                format!("{what} must be a string, found {}", type_name(v)),
                e.span(),
                "expected a string",
                help,
            );
            None
        }
    }
}

/// A single-line text value that will reach a unit file: no control
/// characters, no bidi or invisible characters, not empty.
pub fn text(cx: &mut Cx, e: &KdlEntry, what: &str) -> Option<String> {
    let s = string(cx, e, what)?;
    check_text(cx, &s, e.span(), what, false).then_some(s)
}

/// Check text that will reach a unit file. `multiline` allows `\n` and `\t`
/// (unit files escape them); other control, bidi and invisible characters
/// are always refused. Empty text is refused too.
pub fn check_text(cx: &mut Cx, s: &str, span: SourceSpan, what: &str, multiline: bool) -> bool {
    if s.is_empty() {
        cx.err_help(
            "devctl::manifest::empty",
            format!("{what} is empty"),
            span,
            "empty",
            "give a value, or remove the line",
        );
        return false;
    }
    let bad = s.chars().find(|&c| match c {
        '\n' | '\t' if multiline => false,
        '\t' | '\n' | '\r' => true,
        c => forbidden_char(c).is_some(),
    });
    if let Some(c) = bad {
        let kind = forbidden_char(c).unwrap_or("a control character");
        let help = if c == '\n' {
            "a newline here could inject lines into a unit file; split it into several values"
                .to_owned()
        } else {
            "remove it; only printable text is allowed here".to_owned()
        };
        cx.err_help(
            "devctl::manifest::forbidden-char",
            format!("{what} contains {kind} (U+{:04X})", c as u32),
            span,
            "in this value",
            help,
        );
        return false;
    }
    true
}

/// An integer in `min..=max`.
pub fn int(cx: &mut Cx, e: &KdlEntry, what: &str, min: i128, max: i128) -> Option<i128> {
    match e.value() {
        KdlValue::Integer(i) if (min..=max).contains(i) => Some(*i),
        KdlValue::Integer(i) => {
            cx.err_help(
                "devctl::manifest::out-of-range",
                format!("{what} {i} is out of range ({min}-{max})"),
                e.span(),
                "out of range",
                format!("use a value from {min} to {max}"),
            );
            None
        }
        KdlValue::String(s) if s.trim().parse::<i128>().is_ok() => {
            cx.err_help(
                "devctl::manifest::wrong-type",
                format!("{what} must be an integer, found a string"),
                e.span(),
                "expected an integer",
                format!("drop the quotes: {}", s.trim()),
            );
            None
        }
        v => {
            cx.err_help(
                "devctl::manifest::wrong-type",
                format!("{what} must be an integer, found {}", type_name(v)),
                e.span(),
                "expected an integer",
                format!("write a whole number from {min} to {max}"),
            );
            None
        }
    }
}

/// A TCP/UDP port, 1-65535.
pub fn port(cx: &mut Cx, e: &KdlEntry, what: &str) -> Option<u16> {
    int(cx, e, what, 1, 65535).and_then(|p| u16::try_from(p).ok())
}

/// A count, 1-1000000.
pub fn count(cx: &mut Cx, e: &KdlEntry, what: &str) -> Option<u32> {
    int(cx, e, what, 1, 1_000_000).and_then(|p| u32::try_from(p).ok())
}

/// `#true` / `#false`.
pub fn boolean(cx: &mut Cx, e: &KdlEntry, what: &str) -> Option<bool> {
    match e.value() {
        KdlValue::Bool(b) => Some(*b),
        v => {
            let help = match v.as_string() {
                Some(s) if s == "true" || s == "false" => format!("KDL booleans are written #{s}"),
                _ => "write #true or #false".to_owned(),
            };
            cx.err_help(
                "devctl::manifest::wrong-type",
                format!("{what} must be #true or #false, found {}", type_name(v)),
                e.span(),
                "expected a boolean",
                help,
            );
            None
        }
    }
}

/// A duration string (`"200ms"`, `"5s"`, `"1h 30m"`), whole milliseconds,
/// at most a year; zero only when `allow_zero`.
pub fn duration(cx: &mut Cx, e: &KdlEntry, what: &str, allow_zero: bool) -> Option<Duration> {
    const HELP: &str = "write a duration like \"500ms\", \"10s\", \"5m\" or \"1h 30m\"";
    let s = match e.value() {
        KdlValue::String(s) => s.clone(),
        KdlValue::Integer(i) => {
            cx.err_help(
                "devctl::manifest::bad-duration",
                format!("{what} needs a unit: `{i}` is ambiguous"),
                e.span(),
                "no unit",
                format!("write \"{i}s\" or \"{i}ms\""),
            );
            return None;
        }
        v => {
            cx.err_help(
                "devctl::manifest::wrong-type",
                format!("{what} must be a duration string, found {}", type_name(v)),
                e.span(),
                "expected a duration",
                HELP,
            );
            return None;
        }
    };
    let d = match humantime::parse_duration(s.trim()) {
        Ok(d) => d,
        Err(err) => {
            cx.err_help(
                "devctl::manifest::bad-duration",
                format!("{what} `{}` is not a duration: {err}", clip(&s)),
                e.span(),
                "bad duration",
                HELP,
            );
            return None;
        }
    };
    let problem = if d.is_zero() && !allow_zero {
        Some(format!("{what} must be longer than zero"))
    } else if d > MAX_DURATION {
        Some(format!("{what} `{}` is longer than a year", clip(&s)))
    } else if d.subsec_nanos() % 1_000_000 != 0 {
        Some(format!("{what} `{}` is finer than a millisecond", clip(&s)))
    } else {
        None
    };
    match problem {
        Some(msg) => {
            cx.err_help(
                "devctl::manifest::bad-duration",
                msg,
                e.span(),
                "bad duration",
                HELP,
            );
            None
        }
        None => Some(d),
    }
}

/// A path, resolved against the project root and normalised lexically.
pub fn path(cx: &mut Cx, e: &KdlEntry, what: &str) -> Option<PathBuf> {
    let s = text(cx, e, what)?;
    Some(resolve(&cx.root, &s))
}

/// `root.join(p)` with `.` and `..` folded away (no file-system access).
pub fn resolve(root: &Path, p: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in root.join(p).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c.as_os_str()),
        }
    }
    out
}

/// Help text for a name that fails the grammar.
pub fn name_help(err: &NameError) -> String {
    match err {
        NameError::BadChar(c) | NameError::BadStart(c) if !c.is_ascii() => format!(
            "U+{:04X} is not ASCII (it may look like an ASCII letter); names use only a-z, A-Z, 0-9, '_', '.' and '-'",
            *c as u32
        ),
        NameError::Suffix(_) => "give the bare name; devctl adds the suffix".to_owned(),
        _ => "names match [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters".to_owned(),
    }
}

/// A unit name (a string argument).
pub fn unit_name(cx: &mut Cx, e: &KdlEntry, what: &str) -> Option<UnitName> {
    let s = string(cx, e, what)?;
    match UnitName::new(s.clone()) {
        Ok(n) => Some(n),
        Err(err) => {
            let help = name_help(&err);
            cx.err_help(
                "devctl::manifest::bad-name",
                format!("{what} `{}` is invalid: {err}", clip(&s).escape_debug()),
                e.span(),
                "invalid name",
                help,
            );
            None
        }
    }
}

/// Note a warning.
pub fn warn(cx: &mut Cx, unit: &str, msg: impl Into<String>, span: SourceSpan) {
    cx.warnings.push(Warning::unit(unit, msg, Some(span)));
}
