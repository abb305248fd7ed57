//! A [`Draft`] as `devctl.kdl` text: a header naming the source, then one
//! node per unit and group, each preceded by a comment saying where it
//! came from and what of it was not imported. Strings are written as KDL v2
//! quoted strings with escapes, so any value survives.

use std::fmt::Write as _;

use super::model::{Check, Cmd, Draft, ImportWarning, Kind, ProbeDraft, UnitDraft};

/// A KDL v2 quoted string.
pub fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn args(v: &[String]) -> String {
    v.iter().map(|a| q(a)).collect::<Vec<_>>().join(" ")
}

/// One comment line per line of `text` (a value may hold newlines).
fn comment(out: &mut String, indent: &str, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "{indent}// {line}");
    }
}

/// The manifest text of `draft`, imported from `source` (shown as given).
pub fn manifest(draft: &Draft, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Imported by `devctl import` from {source} ({}).",
        draft.format
    );
    if draft.warnings.is_empty() {
        out.push_str("// Everything in it has a devctl equivalent.\n");
    } else {
        let _ = writeln!(
            out,
            "// {} setting(s) could not be expressed exactly; each is noted at its unit.",
            draft.warnings.len()
        );
        let general = |w: &&ImportWarning| {
            w.unit
                .as_ref()
                .is_none_or(|u| !draft.units.iter().any(|d| d.name == *u))
        };
        for w in draft.warnings.iter().filter(general) {
            comment(&mut out, "", &format!("not imported: {w}"));
        }
    }
    if let Some(p) = &draft.project {
        let _ = writeln!(out, "project {}", q(p));
    }
    for u in &draft.units {
        out.push('\n');
        let notes: Vec<&ImportWarning> = draft
            .warnings
            .iter()
            .filter(|w| w.unit.as_deref() == Some(u.name.as_str()))
            .collect();
        unit(&mut out, u, &notes);
    }
    for g in &draft.groups {
        out.push('\n');
        let _ = writeln!(out, "// from {}", g.origin);
        let _ = writeln!(out, "group {} {{", q(&g.name));
        if let Some(d) = &g.description {
            let _ = writeln!(out, "    description {}", q(d));
        }
        let _ = writeln!(out, "    units {}", args(&g.units));
        out.push_str("}\n");
    }
    out
}

fn unit(out: &mut String, u: &UnitDraft, notes: &[&ImportWarning]) {
    let _ = writeln!(out, "// from {}", u.origin);
    for n in notes {
        comment(
            out,
            "",
            &format!("not imported: line {}: {}", n.line, n.message),
        );
    }
    let _ = writeln!(out, "{} {} {{", u.kind.node(), q(&u.name));
    let mut line = |s: String| {
        let _ = writeln!(out, "    {s}");
    };
    if let Some(d) = &u.description {
        line(format!("description {}", q(d)));
    }
    if let Some(c) = &u.container {
        line(format!("image {}", q(&c.image)));
        if let Some((ctx, dockerfile)) = &c.build {
            match dockerfile {
                Some(f) => line(format!("build {} dockerfile={}", q(ctx), q(f))),
                None => line(format!("build {}", q(ctx))),
            }
        }
        if let Some(ep) = &c.entrypoint {
            line(format!("entrypoint {}", args(ep)));
        }
        if let Some(cmd) = &c.command {
            line(format!("command {}", args(cmd)));
        }
        for p in &c.publish {
            let mut s = format!("publish {}", p.container);
            if let Some(h) = p.host {
                let _ = write!(s, " host={h}");
            }
            if let Some(ip) = &p.ip {
                let _ = write!(s, " ip={}", q(ip));
            }
            if p.udp {
                s.push_str(" protocol=\"udp\"");
            }
            line(s);
        }
        for v in &c.volumes {
            let ro = if v.read_only { " read-only=#true" } else { "" };
            line(format!("volume {} {}{ro}", q(&v.source), q(&v.target)));
        }
        for (key, val) in [
            ("workdir", &c.workdir),
            ("user", &c.user),
            ("network", &c.network),
        ] {
            if let Some(v) = val {
                line(format!("{key} {}", q(v)));
            }
        }
        if c.healthcheck {
            line("healthcheck #true".into());
        }
    }
    match &u.command {
        Some(Cmd::Argv(v)) => line(format!("run {}", args(v))),
        Some(Cmd::Shell(s)) => line(format!("sh {}", q(s))),
        None => {}
    }
    if let Some(d) = &u.dir {
        line(format!("dir {}", q(d)));
    }
    for (k, v) in &u.env {
        line(format!("env {k}={}", q(v)));
    }
    for (path, optional) in &u.env_files {
        let opt = if *optional { " optional=#true" } else { "" };
        line(format!("env-file {}{opt}", q(path)));
    }
    for p in &u.ports {
        line(format!("port {p}"));
    }
    for d in &u.deps {
        let verb = if d.weak { "wants" } else { "requires" };
        match d.until {
            Some(c) => line(format!("{verb} {} until={}", q(&d.unit), q(c))),
            None => line(format!("{verb} {}", q(&d.unit))),
        }
    }
    if let Some(p) = &u.ready {
        line(format!("ready {{ {} }}", probe(p)));
    }
    if let Some(p) = &u.alive {
        line(format!("alive {{ {} }}", probe(p)));
    }
    if let Some(r) = &u.restart
        && u.kind != Kind::Build
    {
        let mut s = format!("restart {}", q(r.mode));
        if let Some(b) = &r.backoff {
            let _ = write!(s, " backoff={}", q(b));
        }
        if let Some(l) = r.limit {
            let _ = write!(s, " limit={l}");
        }
        line(s);
    }
    if u.stop_signal.is_some() || u.stop_timeout.is_some() {
        let mut s = "stop".to_owned();
        if let Some(sig) = &u.stop_signal {
            let _ = write!(s, " signal={}", q(sig));
        }
        if let Some(t) = &u.stop_timeout {
            let _ = write!(s, " timeout={}", q(t));
        }
        line(s);
    }
    if !u.enabled {
        line("enabled #false".into());
    }
    out.push_str("}\n");
}

fn probe(p: &ProbeDraft) -> String {
    let mut parts = vec![match &p.check {
        Check::Exec(argv) => format!("exec {}", args(argv)),
        Check::Http { url } => format!("http {}", q(url)),
        Check::Tcp { port, host: None } => format!("tcp {port}"),
        Check::Tcp {
            port,
            host: Some(h),
        } => format!("tcp {port} host={}", q(h)),
        Check::Log(re) => format!("log {}", q(re)),
    }];
    let durations = [
        ("period", &p.period),
        ("timeout", &p.timeout),
        ("initial-delay", &p.initial_delay),
    ];
    for (k, v) in durations {
        if let Some(v) = v {
            parts.push(format!("{k} {}", q(v)));
        }
    }
    if let Some(n) = p.success_threshold {
        parts.push(format!("success-threshold {n}"));
    }
    if let Some(n) = p.failure_threshold {
        parts.push(format!("failure-threshold {n}"));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::model::{Dep, UnitDraft};

    #[test]
    fn strings_are_escaped() {
        assert_eq!(q("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(q("\u{1}"), "\"\\u{1}\"");
    }

    #[test]
    fn a_unit_is_written_with_its_origin() {
        let mut d = Draft::new("Procfile");
        let mut u = UnitDraft::new(Kind::Service, "web", "Procfile line 1".into());
        u.command = Some(Cmd::Shell("exec x".into()));
        u.deps.push(Dep {
            unit: "db".into(),
            until: Some("started"),
            weak: true,
        });
        d.units.push(u);
        d.warn(1, Some("web"), "something");
        d.warn(2, Some("gone"), "skipped");
        let text = manifest(&d, "Procfile");
        assert!(text.contains("// from Procfile line 1\n"), "{text}");
        assert!(
            text.contains("// not imported: line 1: something\n"),
            "{text}"
        );
        assert!(
            text.contains("// not imported: line 2: gone: skipped\n"),
            "{text}"
        );
        assert!(
            text.contains("service \"web\" {\n    sh \"exec x\"\n"),
            "{text}"
        );
        assert!(text.contains("wants \"db\" until=\"started\""), "{text}");
    }
}
