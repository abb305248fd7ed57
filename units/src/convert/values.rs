//! Value shapes of the unit-file keys that are more than one scalar:
//! probe checks, published ports, volumes, port-forwards, booleans and the
//! derived `Type=`. Each has a writer and a reader; readers return what
//! was expected when the shape is wrong.

use crate::escape::{self, Context, EscapeError};
use crate::model::{
    Command, ImageBuild, KubeImage, PortForward, ProbeCheck, Publish, Unit, UnitKind, Volume,
};

/// Why a structured value could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ValueError {
    /// The quoting itself is broken.
    Quoting(EscapeError),
    /// The words are fine, the shape is not; holds what was expected.
    Shape(&'static str),
}

impl From<EscapeError> for ValueError {
    fn from(e: EscapeError) -> Self {
        ValueError::Quoting(e)
    }
}

/// systemd's boolean spelling.
pub(crate) fn fmt_bool(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Every boolean spelling systemd accepts.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "yes" | "true" | "on" | "1" | "y" | "t" => Some(true),
        "no" | "false" | "off" | "0" | "n" | "f" => Some(false),
        _ => None,
    }
}

/// The `Type=` a process unit gets, `None` for other kinds.
pub(crate) fn service_type(unit: &Unit) -> Option<&'static str> {
    match unit.kind {
        UnitKind::Service
            if unit
                .ready
                .as_ref()
                .is_some_and(|p| p.check == ProbeCheck::Notify) =>
        {
            Some("notify")
        }
        UnitKind::Service => Some("simple"),
        UnitKind::Daemon => Some("forking"),
        UnitKind::Build => Some("oneshot"),
        _ => None,
    }
}

pub(crate) const SHELL: &str = "/bin/sh";

/// A shell command as the argv it runs, `None` for an argv command.
pub(crate) fn shell_argv(script: &str) -> [&str; 3] {
    [SHELL, "-c", script]
}

/// Turn the argv of `ExecStart=` back into a command.
pub(crate) fn command_from(argv: Vec<String>, shell: bool) -> Result<Command, ValueError> {
    if !shell {
        if argv.is_empty() {
            return Err(ValueError::Shape("a program and its arguments"));
        }
        return Ok(Command::Argv(argv));
    }
    match <[String; 3]>::try_from(argv) {
        Ok([sh, c, script]) if sh == SHELL && c == "-c" => Ok(Command::Shell(script)),
        _ => Err(ValueError::Shape(
            "`/bin/sh -c SCRIPT` (X-Devctl-Shell=yes)",
        )),
    }
}

const CHECK_SHAPE: &str =
    "`exec PROGRAM ARGS…`, `http URL [STATUS]`, `tcp HOST PORT`, `log REGEX` or `notify`";

/// `X-Devctl-Ready=` / `X-Devctl-Alive=` value.
pub(crate) fn fmt_check(check: &ProbeCheck) -> String {
    match check {
        ProbeCheck::Exec(argv) => {
            let mut words = vec!["exec"];
            words.extend(argv.iter().map(String::as_str));
            escape::join(&words, Context::Command)
        }
        ProbeCheck::Http { url, status } => {
            let status = status.map(|s| s.to_string());
            let mut words = vec!["http", url.as_str()];
            words.extend(status.as_deref());
            escape::join(&words, Context::Plain)
        }
        ProbeCheck::Tcp { host, port } => {
            escape::join(&["tcp", host.as_str(), &port.to_string()], Context::Plain)
        }
        ProbeCheck::Log { regex } => escape::join(&["log", regex.as_str()], Context::Plain),
        ProbeCheck::Notify => "notify".to_string(),
    }
}

/// Read a probe check.
pub(crate) fn parse_check(value: &str) -> Result<ProbeCheck, ValueError> {
    let plain = escape::split(value, Context::Plain)?;
    let Some(kind) = plain.first() else {
        return Err(ValueError::Shape(CHECK_SHAPE));
    };
    let check = match (kind.as_str(), plain.len()) {
        ("exec", n) if n >= 2 => {
            let mut argv = escape::split(value, Context::Command)?;
            argv.remove(0);
            ProbeCheck::Exec(argv)
        }
        ("http", 2) => ProbeCheck::Http {
            url: plain[1].clone(),
            status: None,
        },
        ("http", 3) => {
            let status = plain[2]
                .parse()
                .map_err(|_| ValueError::Shape("an HTTP status such as 200"))?;
            ProbeCheck::Http {
                url: plain[1].clone(),
                status: Some(status),
            }
        }
        ("tcp", 3) => {
            let port = plain[2]
                .parse()
                .map_err(|_| ValueError::Shape("a TCP port (0-65535)"))?;
            ProbeCheck::Tcp {
                host: plain[1].clone(),
                port,
            }
        }
        ("log", 2) => ProbeCheck::Log {
            regex: plain[1].clone(),
        },
        ("notify", 1) => ProbeCheck::Notify,
        _ => return Err(ValueError::Shape(CHECK_SHAPE)),
    };
    Ok(check)
}

const PUBLISH_SHAPE: &str = "`[IP:][HOST_PORT:]PORT[/tcp|udp|sctp]` (IPv6 in brackets)";

/// `PublishPort=` value (before escaping).
pub(crate) fn fmt_publish(p: &Publish) -> String {
    let mut out = String::new();
    if let Some(ip) = &p.host_ip {
        if ip.contains(':') {
            out.push_str(&format!("[{ip}]:"));
        } else {
            out.push_str(&format!("{ip}:"));
        }
        if let Some(h) = p.host_port {
            out.push_str(&h.to_string());
        }
        out.push(':');
    } else if let Some(h) = p.host_port {
        out.push_str(&format!("{h}:"));
    }
    out.push_str(&p.container_port.to_string());
    if p.protocol != "tcp" {
        out.push('/');
        out.push_str(&p.protocol);
    }
    out
}

/// A host address: an IP literal or a host name.
fn is_host(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
        || (!s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')))
}

/// Read a `PublishPort=` value (after unescaping).
pub(crate) fn parse_publish(s: &str) -> Result<Publish, ValueError> {
    let shape = ValueError::Shape(PUBLISH_SHAPE);
    let (main, protocol) = match s.rsplit_once('/') {
        Some((m, p)) if matches!(p, "tcp" | "udp" | "sctp") => (m, p),
        Some(_) => return Err(shape),
        None => (s, "tcp"),
    };
    let port = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| ValueError::Shape(PUBLISH_SHAPE))
    };
    let opt_port = |p: &str| {
        if p.is_empty() {
            Ok(None)
        } else {
            port(p).map(Some)
        }
    };
    let (host_ip, host_port, container_port) = if let Some(rest) = main.strip_prefix('[') {
        let (ip, rest) = rest
            .split_once("]:")
            .ok_or(ValueError::Shape(PUBLISH_SHAPE))?;
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(shape);
        }
        let (host, container) = rest
            .split_once(':')
            .ok_or(ValueError::Shape(PUBLISH_SHAPE))?;
        (Some(ip.to_string()), opt_port(host)?, port(container)?)
    } else {
        match main.split(':').collect::<Vec<_>>()[..] {
            [c] => (None, None, port(c)?),
            [h, c] => (None, Some(port(h)?), port(c)?),
            [ip, h, c] if is_host(ip) => (Some(ip.to_string()), opt_port(h)?, port(c)?),
            _ => return Err(shape),
        }
    };
    Ok(Publish {
        container_port,
        host_port,
        host_ip,
        protocol: protocol.to_string(),
    })
}

/// `Volume=` value (before escaping).
pub(crate) fn fmt_volume(v: &Volume) -> String {
    let ro = if v.read_only { ":ro" } else { "" };
    format!("{}:{}{ro}", v.source, v.target)
}

/// Read a `Volume=` value (after unescaping).
pub(crate) fn parse_volume(s: &str) -> Result<Volume, ValueError> {
    let (rest, read_only) = match (s.strip_suffix(":ro"), s.strip_suffix(":rw")) {
        (Some(r), _) => (r, true),
        (_, Some(r)) => (r, false),
        _ => (s, false),
    };
    let (source, target) = rest
        .split_once(':')
        .ok_or(ValueError::Shape("`SOURCE:TARGET[:ro]`"))?;
    if target.is_empty() {
        return Err(ValueError::Shape(
            "`SOURCE:TARGET[:ro]` with a non-empty TARGET",
        ));
    }
    Ok(Volume {
        source: source.to_string(),
        target: target.to_string(),
        read_only,
    })
}

const FORWARD_SHAPE: &str = "`RESOURCE LOCAL_PORT:REMOTE_PORT`, e.g. `deployment/api 8080:80`";

/// `X-Devctl-Port-Forward=` value.
pub(crate) fn fmt_forward(f: &PortForward) -> String {
    let ports = format!("{}:{}", f.local_port, f.remote_port);
    escape::join(&[f.resource.as_str(), &ports], Context::Plain)
}

/// Read an `X-Devctl-Port-Forward=` value.
pub(crate) fn parse_forward(value: &str) -> Result<PortForward, ValueError> {
    let words = escape::split(value, Context::Plain)?;
    let [resource, ports] =
        <[String; 2]>::try_from(words).map_err(|_| ValueError::Shape(FORWARD_SHAPE))?;
    let (l, r) = ports
        .split_once(':')
        .ok_or(ValueError::Shape(FORWARD_SHAPE))?;
    let local_port = l.parse().map_err(|_| ValueError::Shape(FORWARD_SHAPE))?;
    let remote_port = r.parse().map_err(|_| ValueError::Shape(FORWARD_SHAPE))?;
    Ok(PortForward {
        resource,
        local_port,
        remote_port,
    })
}

const IMAGE_SHAPE: &str =
    "`NAME CONTEXT DOCKERFILE`, e.g. `example/web /home/dev/app/web Dockerfile`";

/// `X-Devctl-Image=` value.
pub(crate) fn fmt_kube_image(i: &KubeImage) -> String {
    let context = i.build.context.to_string_lossy();
    escape::join(
        &[i.name.as_str(), &context, i.build.dockerfile.as_str()],
        Context::Plain,
    )
}

/// Read an `X-Devctl-Image=` value.
pub(crate) fn parse_kube_image(value: &str) -> Result<KubeImage, ValueError> {
    let words = escape::split(value, Context::Plain)?;
    let [name, context, dockerfile] =
        <[String; 3]>::try_from(words).map_err(|_| ValueError::Shape(IMAGE_SHAPE))?;
    Ok(KubeImage {
        name,
        build: ImageBuild {
            context: context.into(),
            dockerfile,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools() {
        assert_eq!(parse_bool(fmt_bool(true)), Some(true));
        assert_eq!(parse_bool(fmt_bool(false)), Some(false));
        assert_eq!(parse_bool("on"), Some(true));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn checks_round_trip() {
        let checks = [
            ProbeCheck::Exec(vec!["pg_isready".into(), "-h".into(), "$HOST".into()]),
            ProbeCheck::Http {
                url: "http://127.0.0.1:8080/healthz?a=%20".into(),
                status: Some(200),
            },
            ProbeCheck::Http {
                url: "http://x".into(),
                status: None,
            },
            ProbeCheck::Tcp {
                host: "::1".into(),
                port: 6379,
            },
            ProbeCheck::Log {
                regex: "^listening on .* port \\d+$".into(),
            },
            ProbeCheck::Notify,
        ];
        for c in checks {
            assert_eq!(parse_check(&fmt_check(&c)).unwrap(), c, "{}", fmt_check(&c));
        }
        assert_eq!(
            fmt_check(&ProbeCheck::Exec(vec!["a$b".into()])),
            "exec a$$b"
        );
    }

    #[test]
    fn check_errors() {
        let shape = ValueError::Shape(CHECK_SHAPE);
        for bad in [
            "",
            "exec",
            "http",
            "http a 200 x",
            "tcp h",
            "log",
            "notify x",
            "grpc x",
        ] {
            assert_eq!(parse_check(bad).unwrap_err(), shape, "{bad:?}");
        }
        assert_eq!(
            parse_check("http u abc").unwrap_err(),
            ValueError::Shape("an HTTP status such as 200")
        );
        assert_eq!(
            parse_check("tcp h 70000").unwrap_err(),
            ValueError::Shape("a TCP port (0-65535)")
        );
        assert!(matches!(
            parse_check("exec \"x").unwrap_err(),
            ValueError::Quoting(_)
        ));
        assert!(matches!(
            parse_check("exec $x").unwrap_err(),
            ValueError::Quoting(EscapeError::Dollar { .. })
        ));
    }

    #[test]
    fn publish_forms() {
        let p = |c, h, ip: Option<&str>, proto: &str| Publish {
            container_port: c,
            host_port: h,
            host_ip: ip.map(String::from),
            protocol: proto.into(),
        };
        let cases = [
            (p(80, None, None, "tcp"), "80"),
            (p(80, Some(8080), None, "tcp"), "8080:80"),
            (
                p(80, Some(8080), Some("127.0.0.1"), "udp"),
                "127.0.0.1:8080:80/udp",
            ),
            (p(80, None, Some("0.0.0.0"), "tcp"), "0.0.0.0::80"),
            (p(53, Some(5353), Some("::1"), "sctp"), "[::1]:5353:53/sctp"),
            (p(53, None, Some("fe80::1"), "tcp"), "[fe80::1]::53"),
            (p(1, Some(2), Some("localhost"), "tcp"), "localhost:2:1"),
        ];
        for (publish, text) in cases {
            assert_eq!(fmt_publish(&publish), text);
            assert_eq!(parse_publish(text).unwrap(), publish);
        }
        for bad in [
            "",
            "x",
            "80/icmp",
            "1:2:3:4",
            "[::1:80",
            "[::1]:80",
            "[nope]::80",
            "a b:1:2",
            "99999",
            "1:99999",
        ] {
            assert_eq!(
                parse_publish(bad).unwrap_err(),
                ValueError::Shape(PUBLISH_SHAPE),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn volumes() {
        let v = Volume {
            source: "/data dir".into(),
            target: "/var/lib/x:y".into(),
            read_only: true,
        };
        assert_eq!(fmt_volume(&v), "/data dir:/var/lib/x:y:ro");
        assert_eq!(parse_volume(&fmt_volume(&v)).unwrap(), v);
        let named = Volume {
            source: "pgdata".into(),
            target: "/pg".into(),
            read_only: false,
        };
        assert_eq!(parse_volume("pgdata:/pg:rw").unwrap(), named);
        assert_eq!(parse_volume(&fmt_volume(&named)).unwrap(), named);
        assert_eq!(
            parse_volume("/only").unwrap_err(),
            ValueError::Shape("`SOURCE:TARGET[:ro]`")
        );
        assert!(matches!(
            parse_volume("src:").unwrap_err(),
            ValueError::Shape(_)
        ));
    }

    #[test]
    fn forwards() {
        let f = PortForward {
            resource: "deployment/api server".into(),
            local_port: 8080,
            remote_port: 80,
        };
        assert_eq!(parse_forward(&fmt_forward(&f)).unwrap(), f);
        for bad in ["svc/x", "svc/x 1", "svc/x a:1", "svc/x 1:b", "a b c"] {
            assert_eq!(
                parse_forward(bad).unwrap_err(),
                ValueError::Shape(FORWARD_SHAPE),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_forward("\"x").unwrap_err(),
            ValueError::Quoting(_)
        ));
    }

    #[test]
    fn commands() {
        assert_eq!(
            command_from(vec!["a".into()], false).unwrap(),
            Command::Argv(vec!["a".into()])
        );
        assert!(command_from(vec![], false).is_err());
        let sh: Vec<String> = shell_argv("echo hi")
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            command_from(sh, true).unwrap(),
            Command::Shell("echo hi".into())
        );
        assert!(command_from(vec!["bash".into(), "-c".into(), "x".into()], true).is_err());
        assert!(command_from(vec!["/bin/sh".into()], true).is_err());
    }
}
