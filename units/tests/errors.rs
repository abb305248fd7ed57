//! Every error path of `from_unit_file`: the kind, and the line and column
//! it points at (computed from a marker substring of the input).

use devctl_units::escape::EscapeError;
use devctl_units::*;
use miette::Diagnostic;

const HEAD: &str = "[Unit]\nX-Devctl-Kind=service\nX-Devctl-Project=pizzeria\nX-Devctl-Root=/r\n";

/// A service file with `unit` appended to [Unit] and `service` to [Service].
fn service(unit: &str, service: &str) -> String {
    format!("{HEAD}{unit}\n[Service]\nExecStart=/bin/true\n{service}\n")
}

/// Line and column of the `nth` occurrence of `marker`.
fn at(text: &str, marker: &str, nth: usize) -> (usize, usize) {
    let offset = text
        .match_indices(marker)
        .nth(nth)
        .unwrap_or_else(|| panic!("{marker:?} not in {text}"))
        .0;
    let line = text[..offset].matches('\n').count() + 1;
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..offset].chars().count() + 1)
}

#[track_caller]
fn expect(file: &str, text: &str, marker: (&str, usize), kind: ErrorKind) {
    let err = from_unit_file(file, text).expect_err(text);
    assert_eq!(err.kind, kind, "{text}");
    assert_eq!(
        (err.line, err.column),
        at(text, marker.0, marker.1),
        "{err}\n{text}"
    );
    assert!(err.help().is_some_and(|h| !h.to_string().is_empty()));
    assert!(
        err.to_string()
            .starts_with(&format!("{file}:{}:{}: ", err.line, err.column))
    );
}

fn bad(key: &str, value: &str, expected: &str) -> ErrorKind {
    ErrorKind::BadValue {
        key: key.into(),
        value: value.into(),
        expected: expected.into(),
    }
}

#[test]
fn file_names() {
    let text = service("", "");
    for (file, reason) in [
        ("paulie", "no suffix".to_string()),
        ("paulie.socket", "unknown suffix `.socket`".to_string()),
        ("-x.service", NameError::BadStart('-').to_string()),
    ] {
        expect(
            file,
            &text,
            ("", 0),
            ErrorKind::BadFileName {
                file: file.into(),
                reason,
            },
        );
    }
    assert!(from_unit_file("/some/dir/paulie.service", &text).is_ok());
}

#[test]
fn syntax_errors_come_from_the_generic_layer() {
    let text = format!("{HEAD}oops\n");
    expect(
        "a.service",
        &text,
        ("oops", 0),
        ErrorKind::MissingEquals {
            text: "oops".into(),
        },
    );
}

#[test]
fn required_unit_keys() {
    for key in ["X-Devctl-Kind", "X-Devctl-Project", "X-Devctl-Root"] {
        let text: String = service("", "")
            .lines()
            .filter(|l| !l.starts_with(key))
            .map(|l| format!("{l}\n"))
            .collect();
        expect(
            "a.service",
            &text,
            ("", 0),
            ErrorKind::MissingKey {
                section: "Unit",
                key,
            },
        );
    }
}

#[test]
fn kind_must_fit_the_suffix() {
    let expected = "the kind of a .service file: service, daemon, build";
    let text = service("", "").replace("Kind=service", "Kind=group");
    expect(
        "a.service",
        &text,
        ("group", 0),
        bad("X-Devctl-Kind", "group", expected),
    );
    let text = service("", "").replace("Kind=service", "Kind=pod");
    expect(
        "a.service",
        &text,
        ("pod", 0),
        bad("X-Devctl-Kind", "pod", expected),
    );
}

#[test]
fn bad_names() {
    let text = service("", "").replace("Project=pizzeria", "Project=a/b");
    let kind = ErrorKind::BadName {
        key: "X-Devctl-Project".into(),
        value: "a/b".into(),
        error: NameError::BadChar('/'),
    };
    expect("a.service", &text, ("a/b", 0), kind);
    let text = service("Requires=../db", "");
    let kind = ErrorKind::BadName {
        key: "Requires".into(),
        value: "../db".into(),
        error: NameError::BadStart('.'),
    };
    expect("a.service", &text, ("../db", 0), kind);
    let text = service("X-Devctl-Member=ok x;y", "");
    let kind = ErrorKind::BadName {
        key: "X-Devctl-Member".into(),
        value: "x;y".into(),
        error: NameError::BadChar(';'),
    };
    expect("a.service", &text, ("ok x;y", 0), kind);
    let text = service("X-Devctl-Until=a/b:ready", "");
    let kind = ErrorKind::BadName {
        key: "X-Devctl-Until".into(),
        value: "a/b".into(),
        error: NameError::BadChar('/'),
    };
    expect("a.service", &text, ("a/b", 0), kind);
}

#[test]
fn unknown_sections_and_keys() {
    let text = service("", "[Container]\nImage=x");
    let allowed = vec!["Unit", "Service", "Install"];
    let kind = ErrorKind::UnknownSection {
        section: "Container".into(),
        suffix: "service",
        allowed,
    };
    expect("a.service", &text, ("[Container]", 0), kind);

    let text = service("Decsription=x", "");
    let kind = ErrorKind::UnknownKey {
        section: "Unit".into(),
        key: "Decsription".into(),
        suggestion: Some("Description"),
    };
    expect("a.service", &text, ("Decsription", 0), kind);

    let text = service("", "X-Devctl-Ready-Perod=1s");
    let kind = ErrorKind::UnknownKey {
        section: "Service".into(),
        key: "X-Devctl-Ready-Perod".into(),
        suggestion: Some("X-Devctl-Ready-Period"),
    };
    expect("a.service", &text, ("X-Devctl-Ready-Perod", 0), kind);

    let text = service("", "X-Devctl-Frobnicate=1");
    let kind = ErrorKind::UnknownKey {
        section: "Service".into(),
        key: "X-Devctl-Frobnicate".into(),
        suggestion: None,
    };
    expect("a.service", &text, ("X-Devctl-Frobnicate", 0), kind);

    let text = format!("{}\n[Install]\nAlias=x\n", service("", ""));
    let kind = ErrorKind::UnknownKey {
        section: "Install".into(),
        key: "Alias".into(),
        suggestion: None,
    };
    expect("a.service", &text, ("Alias", 0), kind);

    let text = container("Environment=A=1\n", "Image=x\n");
    let kind = ErrorKind::UnknownKey {
        section: "Service".into(),
        key: "Environment".into(),
        suggestion: None,
    };
    expect("r.container", &text, ("Environment", 0), kind);

    let text = container("", "Image=x\nVolumes=/a:/b\n");
    let kind = ErrorKind::UnknownKey {
        section: "Container".into(),
        key: "Volumes".into(),
        suggestion: Some("Volume"),
    };
    expect("r.container", &text, ("Volumes", 0), kind);

    let text = kube("Yaml=/k.yaml\nYml=/x\n");
    let kind = ErrorKind::UnknownKey {
        section: "Kube".into(),
        key: "Yml".into(),
        suggestion: Some("Yaml"),
    };
    expect("k.kube", &text, ("Yml", 0), kind);
}

#[test]
fn duplicates() {
    let text = service("Description=a\nDescription=b", "");
    let kind = ErrorKind::DuplicateKey {
        section: "Unit".into(),
        key: "Description".into(),
        first_line: 5,
    };
    expect("a.service", &text, ("Description", 1), kind);
    let text = service("", "X-Devctl-Ready=notify\nX-Devctl-Ready=notify");
    let kind = ErrorKind::DuplicateKey {
        section: "Service".into(),
        key: "X-Devctl-Ready".into(),
        first_line: 8,
    };
    expect("a.service", &text, ("X-Devctl-Ready", 1), kind);
    let text = container("", "Image=a\nImage=b\n");
    let kind = ErrorKind::DuplicateKey {
        section: "Container".into(),
        key: "Image".into(),
        first_line: 7,
    };
    expect("r.container", &text, ("Image", 1), kind);
    let text = kube("X-Devctl-Namespace=a\nX-Devctl-Namespace=b\n");
    let kind = ErrorKind::DuplicateKey {
        section: "Kube".into(),
        key: "X-Devctl-Namespace".into(),
        first_line: 6,
    };
    expect("k.kube", &text, ("X-Devctl-Namespace", 1), kind);
    let text = format!(
        "{}\n[Install]\nWantedBy=pizzeria.target\nWantedBy=pizzeria.target\n",
        service("", "")
    );
    let kind = ErrorKind::DuplicateKey {
        section: "Install".into(),
        key: "WantedBy".into(),
        first_line: 11,
    };
    expect("a.service", &text, ("WantedBy", 1), kind);
}

fn container(service: &str, container: &str) -> String {
    format!(
        "[Unit]\nX-Devctl-Kind=container\nX-Devctl-Project=p\nX-Devctl-Root=/r\n\n[Container]\n{container}\n[Service]\n{service}"
    )
}

fn kube(section: &str) -> String {
    format!(
        "[Unit]\nX-Devctl-Kind=kubernetes\nX-Devctl-Project=p\nX-Devctl-Root=/r\n[Kube]\n{section}"
    )
}

#[test]
fn missing_required_keys() {
    let text = format!("{HEAD}[Service]\nRestart=no\n");
    expect(
        "a.service",
        &text,
        ("[Service]", 0),
        ErrorKind::MissingKey {
            section: "Service",
            key: "ExecStart",
        },
    );
    let text = container("", "User=x\n");
    expect(
        "r.container",
        &text,
        ("[Container]", 0),
        ErrorKind::MissingKey {
            section: "Container",
            key: "Image",
        },
    );
    let text = "[Unit]\nX-Devctl-Kind=container\nX-Devctl-Project=p\nX-Devctl-Root=/r\n";
    expect(
        "r.container",
        text,
        ("", 0),
        ErrorKind::MissingKey {
            section: "Container",
            key: "Image",
        },
    );
    let text = "[Unit]\nX-Devctl-Kind=kubernetes\nX-Devctl-Project=p\nX-Devctl-Root=/r\n";
    expect(
        "k.kube",
        text,
        ("", 0),
        ErrorKind::MissingKey {
            section: "Kube",
            key: "Yaml",
        },
    );
    let text = service("", "X-Devctl-Alive-Period=1s");
    expect(
        "a.service",
        &text,
        ("X-Devctl-Alive-Period", 0),
        ErrorKind::MissingKey {
            section: "Service",
            key: "X-Devctl-Alive",
        },
    );
    let text = container("", "Image=x\nX-Devctl-Build-Context=/c\n");
    let kind = ErrorKind::MissingKey {
        section: "Container",
        key: "X-Devctl-Build-Dockerfile",
    };
    expect("r.container", &text, ("X-Devctl-Build-Context", 0), kind);
    let text = container("", "Image=x\nX-Devctl-Build-Dockerfile=D\n");
    let kind = ErrorKind::MissingKey {
        section: "Container",
        key: "X-Devctl-Build-Context",
    };
    expect("r.container", &text, ("X-Devctl-Build-Dockerfile", 0), kind);
    let text = "[Unit]\nX-Devctl-Kind=group\nX-Devctl-Project=p\nX-Devctl-Root=/r\n[Service]\nX-Devctl-Shell=yes\n";
    expect(
        "g.target",
        text,
        ("[Service]", 0),
        ErrorKind::MissingKey {
            section: "Service",
            key: "ExecStart",
        },
    );
}

#[test]
fn wrongly_shaped_values() {
    let duration = "a duration such as `10s`, `200ms` or `1min 30s`";
    let count = "a count (0-4294967295)";
    let cases: Vec<(String, &str, ErrorKind)> = vec![
        (
            service("", "TimeoutStopSec=soon"),
            "soon",
            bad("TimeoutStopSec", "soon", duration),
        ),
        (
            service("", "RestartSec=infinity"),
            "infinity",
            bad("RestartSec", "infinity", duration),
        ),
        (
            service("StartLimitBurst=-1", ""),
            "-1",
            bad("StartLimitBurst", "-1", count),
        ),
        (
            service(
                "",
                "X-Devctl-Ready=notify\nX-Devctl-Ready-Success-Threshold=many",
            ),
            "many",
            bad("X-Devctl-Ready-Success-Threshold", "many", count),
        ),
        (
            service("", "X-Devctl-Port=70000"),
            "70000",
            bad("X-Devctl-Port", "70000", "a port number (0-65535)"),
        ),
        (
            service("", "Restart=sometimes"),
            "sometimes",
            bad("Restart", "sometimes", "`no`, `on-failure` or `always`"),
        ),
        (
            service("", "X-Devctl-Shell=maybe"),
            "maybe",
            bad("X-Devctl-Shell", "maybe", "`yes` or `no`"),
        ),
        (
            service("", "X-Devctl-Watch-Trigger=later"),
            "later",
            bad("X-Devctl-Watch-Trigger", "later", "`auto` or `manual`"),
        ),
        (
            service("", "Type=forking"),
            "forking",
            bad("Type", "forking", "`simple` for this service unit"),
        ),
        (
            service("", "Environment=NOEQUALS"),
            "NOEQUALS",
            bad("Environment", "NOEQUALS", "`NAME=value` assignments"),
        ),
        (
            service("", "Environment==v"),
            "=v",
            bad("Environment", "=v", "`NAME=value` assignments"),
        ),
        (
            service("Requires=db\nWants=cache db", ""),
            "cache db",
            bad(
                "Wants",
                "cache db",
                "a unit not already listed in Requires=/Wants=",
            ),
        ),
        (
            service("Requires=db\nAfter=x", ""),
            "x",
            bad("After", "x", "the units of Requires=/Wants= in order: `db`"),
        ),
        (
            service("X-Devctl-Until=db", ""),
            "db",
            bad(
                "X-Devctl-Until",
                "db",
                "`UNIT:CONDITION`, CONDITION one of started, ready, succeeded",
            ),
        ),
        (
            service("X-Devctl-Until=db:done", ""),
            "db:",
            bad(
                "X-Devctl-Until",
                "db:done",
                "`UNIT:CONDITION`, CONDITION one of started, ready, succeeded",
            ),
        ),
        (
            service("X-Devctl-Until=db:started", ""),
            "db:",
            bad(
                "X-Devctl-Until",
                "db:started",
                "`UNIT:CONDITION` for a unit listed in Requires=/Wants=",
            ),
        ),
        (
            service("", "X-Devctl-Shell=yes"),
            "/bin/true",
            bad(
                "ExecStart",
                "/bin/true",
                "`/bin/sh -c SCRIPT` (X-Devctl-Shell=yes)",
            ),
        ),
        (
            service("", "X-Devctl-Ready=grpc x"),
            "grpc",
            bad(
                "X-Devctl-Ready",
                "grpc x",
                "`exec PROGRAM ARGS…`, `http URL [STATUS]`, `tcp HOST PORT`, `log REGEX` or `notify`",
            ),
        ),
        (
            service("", "X-Devctl-Alive=notify"),
            "notify",
            bad(
                "X-Devctl-Alive",
                "notify",
                "an `exec`, `http` or `tcp` check (log and notify are readiness-only)",
            ),
        ),
        (
            container("Type=simple", "Image=x\n"),
            "simple",
            bad(
                "Type",
                "simple",
                "no `Type=` in a container unit (devctl decides how it runs)",
            ),
        ),
        (
            container("", "Image=x\nPublishPort=abc\n"),
            "abc",
            bad(
                "PublishPort",
                "abc",
                "`[IP:][HOST_PORT:]PORT[/tcp|udp|sctp]` (IPv6 in brackets)",
            ),
        ),
        (
            container("", "Image=x\nVolume=/x\n"),
            "/x",
            bad("Volume", "/x", "`SOURCE:TARGET[:ro]`"),
        ),
        (
            container("", "Image=x\nX-Devctl-Healthcheck=perhaps\n"),
            "perhaps",
            bad("X-Devctl-Healthcheck", "perhaps", "`yes` or `no`"),
        ),
        (
            kube("X-Devctl-Port-Forward=svc/x\n"),
            "svc/x",
            bad(
                "X-Devctl-Port-Forward",
                "svc/x",
                "`RESOURCE LOCAL_PORT:REMOTE_PORT`, e.g. `deployment/api 8080:80`",
            ),
        ),
        (
            format!("{}[Install]\nWantedBy=multi-user.target\n", service("", "")),
            "multi",
            bad("WantedBy", "multi-user.target", "`pizzeria.target`"),
        ),
    ];
    for (text, marker, kind) in cases {
        let file = match text.lines().nth(1) {
            Some("X-Devctl-Kind=container") => "r.container",
            Some("X-Devctl-Kind=kubernetes") => "k.kube",
            _ => "a.service",
        };
        let (line, column) = at(&text, marker, 0);
        let got = from_unit_file(file, &text).expect_err(&text);
        assert_eq!(got.kind, kind, "{text}");
        assert_eq!((got.line, got.column), (line, column), "{got}\n{text}");
    }
    let sizes = "a size from 4KiB to 64GiB such as `16MiB`";
    let files = "a count from 1 to 1000";
    for (line, marker, kind) in [
        (
            "X-Devctl-Log-Max-Size=lots",
            "lots",
            bad("X-Devctl-Log-Max-Size", "lots", sizes),
        ),
        (
            "X-Devctl-Log-Max-Size=1KiB",
            "1KiB",
            bad("X-Devctl-Log-Max-Size", "1KiB", sizes),
        ),
        (
            "X-Devctl-Log-Files=0",
            "0",
            bad("X-Devctl-Log-Files", "0", files),
        ),
        (
            "X-Devctl-Log-Files=many",
            "many",
            bad("X-Devctl-Log-Files", "many", files),
        ),
        (
            "X-Devctl-Log-Max-Age=0",
            "0",
            bad("X-Devctl-Log-Max-Age", "0", "a duration longer than zero"),
        ),
        (
            "X-Devctl-Log-Max-Age=soon",
            "soon",
            bad("X-Devctl-Log-Max-Age", "soon", duration),
        ),
    ] {
        let text = service("", line);
        let nth = text.matches(marker).count() - 1;
        expect("a.service", &text, (marker, nth), kind);
    }
    let signals = Signal::names().collect::<Vec<_>>().join(", ");
    let text = service("", "KillSignal=SIGFOO");
    expect(
        "a.service",
        &text,
        ("SIGFOO", 0),
        bad("KillSignal", "SIGFOO", &format!("a signal: {signals}")),
    );
}

#[test]
fn bad_quoting_points_into_the_value() {
    let quoting = |key: &str, error| ErrorKind::BadQuoting {
        key: key.into(),
        error,
    };
    let text = service("", "ExecStop=echo $HOME");
    expect(
        "a.service",
        &text,
        ("$HOME", 0),
        quoting("ExecStop", EscapeError::Dollar { offset: 5 }),
    );
    let text = service("Description=100%", "");
    let error = EscapeError::Specifier {
        offset: 3,
        found: String::new(),
    };
    expect("a.service", &text, ("%", 0), quoting("Description", error));
    let text = service("", "").replace("ExecStart=/bin/true", "ExecStart=-/bin/true");
    let error = EscapeError::ExecPrefix {
        offset: 0,
        prefix: '-',
    };
    expect(
        "a.service",
        &text,
        ("-/bin/true", 0),
        quoting("ExecStart", error),
    );
    let text = service("", "").replace("Root=/r", "Root=\"/r");
    expect(
        "a.service",
        &text,
        ("\"/r", 0),
        quoting(
            "X-Devctl-Root",
            EscapeError::UnterminatedQuote { offset: 0 },
        ),
    );
    let text = service("", "EnvironmentFile=-\"/e");
    expect(
        "a.service",
        &text,
        ("\"/e", 0),
        quoting(
            "EnvironmentFile",
            EscapeError::UnterminatedQuote { offset: 0 },
        ),
    );
    let text = service("", "X-Devctl-Ready=exec \"x");
    expect(
        "a.service",
        &text,
        ("\"x", 0),
        quoting(
            "X-Devctl-Ready",
            EscapeError::UnterminatedQuote { offset: 5 },
        ),
    );
    let text = container("", "Image=x\nExec=a \\q\n");
    let error = EscapeError::BadEscape {
        offset: 2,
        found: "\\q".into(),
    };
    expect("r.container", &text, ("\\q", 0), quoting("Exec", error));
    let text = container("", "Image=\"x\" y\n");
    expect(
        "r.container",
        &text,
        (" y", 0),
        quoting(
            "Image",
            EscapeError::NotOneWord {
                offset: 3,
                count: 2,
            },
        ),
    );
}

#[test]
fn hand_written_systemd_forms_are_accepted() {
    let text = format!(
        "# comment\n{HEAD}Requires=db codegen\nAfter=db \\\n  codegen\n[Service]\nExecStart=/bin/echo 'a b' \\\n  c\n\
         TimeoutStopSec=1min 30s\nRestart=always\nKillSignal=INT\nEnvironment=A=1 \"B=2 3\"\n[Install]\nWantedBy=pizzeria.target\n"
    );
    let u = from_unit_file("paulie.service", &text).unwrap();
    assert_eq!(
        u.command,
        Some(Command::Argv(vec![
            "/bin/echo".into(),
            "a b".into(),
            "c".into()
        ]))
    );
    assert_eq!(u.stop.timeout, std::time::Duration::from_secs(90));
    assert_eq!(u.stop.signal, Signal::SIGINT);
    assert_eq!(
        u.env,
        vec![("A".into(), "1".into()), ("B".into(), "2 3".into())]
    );
    assert_eq!(
        u.dep_names().map(|n| n.as_str()).collect::<Vec<_>>(),
        vec!["db", "codegen"]
    );
    assert!(u.enabled);
}
