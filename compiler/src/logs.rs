//! `logs { max-size "16MiB"; files 5; max-age "7d" }`: how much of its log
//! a unit keeps on disk. Each setting is optional; what a unit leaves out
//! follows the daemon's default (`DEVCTL_LOGS_*`, devctld(8)).

use devctl_units::{LogSpec, Unit, size};
use kdl::{KdlEntry, KdlNode, KdlValue};
use miette::SourceSpan;

use crate::error::Problem;
use crate::reader::{self as r, Cx, args, check_shape, clip, suggest};

const KEYS: &[&str] = &["max-size", "files", "max-age"];

/// Spellings from other tools (logrotate, Docker's json-file driver).
const ALIASES: &[(&str, &str)] = &[
    ("keep", "files"),
    ("rotate", "files"),
    ("max-files", "files"),
    ("max-file", "files"),
    ("count", "files"),
    ("size", "max-size"),
    ("max-file-size", "max-size"),
    ("maxsize", "max-size"),
    ("age", "max-age"),
    ("maxage", "max-age"),
    ("retention", "max-age"),
];

const EXAMPLE: &str =
    "write logs { max-size \"16MiB\"; files 5; max-age \"7d\" } (each setting optional)";
const SIZE_HELP: &str = "write a size such as \"512KiB\", \"16MiB\" or \"1GiB\"";

/// Read a `logs` block into the unit's [`LogSpec`].
pub fn read(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    if let Some(e) = n.entries().first() {
        let msg = match e.name() {
            Some(k) => format!(
                "`logs` takes its settings in a block, not as `{}=`",
                clip(k.value())
            ),
            None => "`logs` takes no arguments".to_owned(),
        };
        cx.err_help(
            "devctl::manifest::extra-argument",
            msg,
            e.span(),
            "not here",
            EXAMPLE,
        );
        return;
    }
    if !check_shape(cx, n, 0, Some(0), &[], true) {
        return;
    }
    let (msg, label) = match n.children() {
        None => ("`logs` needs a `{ … }` block", "no block"),
        Some(ch) if ch.nodes().is_empty() => ("`logs` sets nothing", "empty"),
        Some(_) => ("", ""),
    };
    if !msg.is_empty() {
        cx.err_help(
            "devctl::manifest::missing-argument",
            msg,
            n.name().span(),
            label,
            EXAMPLE,
        );
        return;
    }
    let mut spec = LogSpec::default();
    let mut seen: Vec<(&str, SourceSpan)> = Vec::new();
    for c in n.iter_children() {
        let name = c.name().value();
        let Some(key) = KEYS.iter().copied().find(|k| *k == name) else {
            let help = ALIASES
                .iter()
                .find(|(from, _)| *from == name)
                .map(|(_, to)| format!("`logs` spells this `{to}`"))
                .or_else(|| suggest(name, KEYS.iter().copied()))
                .unwrap_or_else(|| "`logs` takes max-size, files and max-age".to_owned());
            cx.err_help(
                "devctl::manifest::unknown-node",
                format!("unknown setting `{}` in `logs`", clip(name)),
                c.name().span(),
                "unknown setting",
                help,
            );
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == key) {
            let p = Problem::at(
                "devctl::manifest::duplicate-child",
                format!("`{key}` is given twice in `logs`"),
                &cx.src,
                c.name().span(),
                "again here",
            )
            .with_label(*first, "first here")
            .with_help("keep one of them");
            cx.problems.push(p);
            continue;
        }
        seen.push((key, c.name().span()));
        if !check_shape(cx, c, 1, Some(1), &[], false) {
            continue;
        }
        let e = args(c)[0];
        match key {
            "max-size" => spec.max_size = max_size(cx, e),
            "files" => spec.files = files(cx, e),
            _ => spec.max_age = r::duration(cx, e, "max-age", false),
        }
    }
    u.logs = spec;
}

/// `max-size "16MiB"`: a size string from 4 KiB to 64 GiB.
fn max_size(cx: &mut Cx, e: &KdlEntry) -> Option<u64> {
    let text = match e.value() {
        KdlValue::String(s) => s.clone(),
        KdlValue::Integer(i) => {
            cx.err_help(
                "devctl::manifest::bad-size",
                format!("max-size needs a unit: `{i}` is ambiguous"),
                e.span(),
                "no unit",
                format!("write \"{i}B\", or a size such as \"16MiB\""),
            );
            return None;
        }
        v => {
            cx.err_help(
                "devctl::manifest::wrong-type",
                format!("max-size must be a size string, found {}", r::type_name(v)),
                e.span(),
                "expected a size",
                SIZE_HELP,
            );
            return None;
        }
    };
    let bytes = match size::parse(&text) {
        Ok(b) => b,
        Err(err) => {
            cx.err_help(
                "devctl::manifest::bad-size",
                format!("max-size `{}` is not a size: {err}", clip(&text)),
                e.span(),
                "bad size",
                SIZE_HELP,
            );
            return None;
        }
    };
    let (min, max) = (LogSpec::MIN_SIZE, LogSpec::MAX_SIZE);
    let problem = if bytes < min {
        Some((
            format!(
                "max-size `{}` is smaller than {}",
                clip(&text),
                size::format(min)
            ),
            format!(
                "a file must hold a few lines of up to 64KiB; use at least \"{}\"",
                size::format(min)
            ),
        ))
    } else if bytes > max {
        Some((
            format!(
                "max-size `{}` is larger than {}",
                clip(&text),
                size::format(max)
            ),
            format!(
                "use at most \"{}\" and keep more files instead",
                size::format(max)
            ),
        ))
    } else {
        None
    };
    match problem {
        Some((msg, help)) => {
            cx.err_help(
                "devctl::manifest::bad-size",
                msg,
                e.span(),
                "out of range",
                help,
            );
            None
        }
        None => Some(bytes),
    }
}

/// `files 5`: the files kept, the current one included.
fn files(cx: &mut Cx, e: &KdlEntry) -> Option<u32> {
    if let KdlValue::Integer(i) = e.value()
        && *i < 1
    {
        cx.err_help(
            "devctl::manifest::out-of-range",
            format!("files {i} keeps no log at all"),
            e.span(),
            "at least 1",
            "the count includes the file being written: `files 1` keeps only it, `files 3` also keeps two rotated files",
        );
        return None;
    }
    r::int(cx, e, "files", 1, i128::from(LogSpec::MAX_FILES)).and_then(|n| u32::try_from(n).ok())
}
