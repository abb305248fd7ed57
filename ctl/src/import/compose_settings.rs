//! The settings of a compose service that need parsing of their own:
//! `environment` (mapping or list, pass-through names), `env_file`
//! (strings or `{path, required}`), `ports` (short and long syntax, IP,
//! ranges, protocol) and `volumes` (bind mounts and named volumes, short
//! and long syntax), and the warning for `${VARIABLE}` substitution.

use super::compose::Ctx;
use super::model::{ContainerDraft, Draft, Publish, Volume};
use super::yaml::{Node, Value};

/// Warn when compose would substitute variables into `s`.
pub(super) fn interpolation(d: &mut Draft, line: usize, unit: &str, s: &str) {
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

pub(super) fn environment(d: &mut Draft, name: &str, n: &Node, env: &mut Vec<(String, String)>) {
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

pub(super) fn env_files(
    d: &mut Draft,
    cx: &Ctx<'_>,
    name: &str,
    n: &Node,
    out: &mut Vec<(String, bool)>,
) {
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

pub(super) fn ports(
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

pub(super) fn volume(d: &mut Draft, cx: &Ctx<'_>, name: &str, v: &Node, c: &mut ContainerDraft) {
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
