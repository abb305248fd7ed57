//! Round-trip properties of the unit-file format: every valid `Unit` of
//! every kind, hostile strings included, survives `to_unit_file` →
//! `from_unit_file` unchanged; the generic layer is stable under
//! `parse → serialize → parse`; no input makes the reader panic.

use std::path::PathBuf;
use std::time::Duration;

use devctl_units::file::UnitFile;
use devctl_units::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

/// Strings built to break quoting: quotes, backslashes, `%`, `$`, `;`,
/// newlines, NUL, control and non-ASCII characters, empty strings.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("\\".to_string()),
        Just("%".to_string()),
        Just("$".to_string()),
        Just("${HOME}".to_string()),
        Just(";".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("-".to_string()),
        Just("#".to_string()),
        Just("=".to_string()),
        Just("[Unit]".to_string()),
        Just("\u{0}".to_string()),
        Just("\u{2028}".to_string()),
        "[a-zA-Z0-9/._]{1,6}",
        any::<char>().prop_map(String::from),
    ];
    prop_oneof![vec(piece, 0..6).prop_map(|v| v.concat()), any::<String>()]
}

fn no_colon() -> impl Strategy<Value = String> {
    hostile().prop_map(|s| s.replace(':', "_"))
}

fn name() -> impl Strategy<Value = UnitName> {
    "[a-zA-Z0-9][a-zA-Z0-9_.-]{0,12}".prop_filter_map("valid name", |s| UnitName::new(s).ok())
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (0u64..100_000).prop_map(Duration::from_secs),
        (0u64..100_000).prop_map(Duration::from_millis),
        (any::<u32>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(u64::from(s), n)),
    ]
}

fn path() -> impl Strategy<Value = PathBuf> {
    hostile().prop_map(PathBuf::from)
}

fn argv() -> impl Strategy<Value = Vec<String>> {
    vec(hostile(), 1..5)
}

fn check(liveness: bool) -> impl Strategy<Value = ProbeCheck> {
    let common = prop_oneof![
        argv().prop_map(ProbeCheck::Exec),
        (hostile(), option::of(any::<u16>()))
            .prop_map(|(url, status)| ProbeCheck::Http { url, status }),
        (hostile(), any::<u16>()).prop_map(|(host, port)| ProbeCheck::Tcp { host, port }),
    ];
    if liveness {
        common.boxed()
    } else {
        prop_oneof![
            common,
            hostile().prop_map(|regex| ProbeCheck::Log { regex }),
            Just(ProbeCheck::Notify),
        ]
        .boxed()
    }
}

fn probe(liveness: bool) -> impl Strategy<Value = Probe> {
    (
        check(liveness),
        duration(),
        duration(),
        duration(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(check, period, timeout, initial_delay, success_threshold, failure_threshold)| Probe {
                check,
                period,
                timeout,
                initial_delay,
                success_threshold,
                failure_threshold,
            },
        )
}

fn restart() -> impl Strategy<Value = RestartPolicy> {
    let mode = prop_oneof![
        Just(RestartMode::No),
        Just(RestartMode::OnFailure),
        Just(RestartMode::Always)
    ];
    (
        mode,
        duration(),
        duration(),
        any::<u32>(),
        duration(),
        duration(),
    )
        .prop_map(
            |(mode, backoff, max_delay, limit, within, reset_after)| RestartPolicy {
                mode,
                backoff,
                max_delay,
                limit,
                within,
                reset_after,
            },
        )
}

fn stop() -> impl Strategy<Value = StopSpec> {
    let signal = proptest::sample::select(Signal::ALL.to_vec());
    (signal, duration(), option::of(vec(hostile(), 0..4))).prop_map(|(signal, timeout, command)| {
        StopSpec {
            signal,
            timeout,
            command,
        }
    })
}

fn deps() -> impl Strategy<Value = Vec<Dependency>> {
    let kind = prop_oneof![Just(DepKind::Requires), Just(DepKind::Wants)];
    let until = prop_oneof![
        Just(DepCondition::Started),
        Just(DepCondition::Ready),
        Just(DepCondition::Succeeded)
    ];
    vec((name(), kind, until), 0..5).prop_map(|v| {
        let mut out: Vec<Dependency> = Vec::new();
        for (unit, kind, until) in v {
            if !out.iter().any(|d| d.unit == unit) {
                out.push(Dependency { unit, kind, until });
            }
        }
        out
    })
}

fn publish() -> impl Strategy<Value = Publish> {
    let ip = proptest::sample::select(vec!["127.0.0.1", "0.0.0.0", "::1", "fe80::1", "localhost"]);
    let proto = proptest::sample::select(vec!["tcp", "udp", "sctp"]);
    (
        any::<u16>(),
        option::of(any::<u16>()),
        option::of(ip),
        proto,
    )
        .prop_map(|(c, h, ip, proto)| Publish {
            container_port: c,
            host_port: h,
            host_ip: ip.map(String::from),
            protocol: proto.to_string(),
        })
}

fn container() -> impl Strategy<Value = ContainerSpec> {
    let volume = (
        no_colon(),
        no_colon().prop_filter("non-empty", |t| !t.is_empty()),
        any::<bool>(),
    )
        .prop_map(|(source, target, read_only)| Volume {
            source,
            target,
            read_only,
        });
    let build = (path(), hostile()).prop_map(|(context, dockerfile)| ImageBuild {
        context,
        dockerfile,
    });
    (
        (
            hostile(),
            option::of(build),
            option::of(vec(hostile(), 0..3)),
            option::of(vec(hostile(), 0..3)),
        ),
        (vec(publish(), 0..3), vec(volume, 0..3)),
        (
            option::of(hostile()),
            option::of(hostile()),
            option::of(hostile()),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (image, build, command, entrypoint),
                (publish, volumes),
                (workdir, user, network, healthcheck),
            )| {
                ContainerSpec {
                    image,
                    build,
                    command,
                    entrypoint,
                    publish,
                    volumes,
                    workdir,
                    user,
                    network,
                    healthcheck,
                }
            },
        )
}

fn kube() -> impl Strategy<Value = KubeSpec> {
    let forward =
        (hostile(), any::<u16>(), any::<u16>()).prop_map(|(resource, local_port, remote_port)| {
            PortForward {
                resource,
                local_port,
                remote_port,
            }
        });
    let image = (hostile(), path(), hostile()).prop_map(|(name, context, dockerfile)| KubeImage {
        name,
        build: ImageBuild {
            context,
            dockerfile,
        },
    });
    let readiness = proptest::sample::select(KubeReadiness::ALL.to_vec());
    (
        vec(path(), 0..3),
        option::of(hostile()),
        option::of(hostile()),
        vec(forward, 0..3),
        option::of(path()),
        readiness,
        vec(image, 0..3),
    )
        .prop_map(
            |(manifests, context, namespace, port_forwards, kubeconfig, readiness, images)| {
                KubeSpec {
                    manifests,
                    context,
                    namespace,
                    port_forwards,
                    kubeconfig,
                    readiness,
                    images,
                }
            },
        )
}

fn env_key() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Z_][A-Z0-9_]{0,8}", hostile()]
        .prop_filter("env names are non-empty without `=`", |k| {
            !k.is_empty() && !k.contains('=')
        })
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        argv().prop_map(Command::Argv),
        hostile().prop_map(Command::Shell)
    ]
}

/// An arbitrary valid unit of an arbitrary kind.
fn unit() -> impl Strategy<Value = Unit> {
    let kind = proptest::sample::select(UnitKind::ALL.to_vec());
    let head = (
        kind,
        name(),
        name(),
        path(),
        option::of(hostile()),
        option::of(hostile()),
        any::<bool>(),
    );
    let graph = (deps(), vec(name(), 0..4));
    let process = (
        option::of(command()),
        option::of(path()),
        vec((env_key(), hostile()), 0..4),
        vec((path(), any::<bool>()), 0..3),
        option::of(path()),
    );
    let lifecycle = (
        vec(any::<u16>(), 0..3),
        vec(hostile(), 0..3),
        option::of(probe(false)),
        option::of(probe(true)),
        restart(),
        stop(),
    );
    let trigger = prop_oneof![Just(TriggerMode::Auto), Just(TriggerMode::Manual)];
    let watch = (vec(hostile(), 0..3), vec(hostile(), 0..3), trigger).prop_map(
        |(paths, ignore, trigger)| WatchSpec {
            paths,
            ignore,
            trigger,
        },
    );
    let timeouts = (
        option::of(duration()),
        option::of(duration()),
        option::of(duration()),
    );
    let schedule = prop_oneof![
        proptest::sample::select(vec!["*/15 * * * *", "0 3 * * MON-FRI", "5,35 1-4 1 */2 *"])
            .prop_map(|p| p.parse::<Schedule>().expect("a valid pattern")),
        (1u64..1_000_000).prop_map(|s| Schedule::every(Duration::from_secs(s)).unwrap()),
    ];
    let triggers = (option::of(schedule), any::<bool>(), any::<bool>());
    let logs = (
        option::of(LogSpec::MIN_SIZE..=LogSpec::MAX_SIZE),
        option::of(1..=LogSpec::MAX_FILES),
        option::of(duration().prop_filter("not zero", |d| !d.is_zero())),
    )
        .prop_map(|(max_size, files, max_age)| LogSpec {
            max_size,
            files,
            max_age,
        });
    let timeouts = (timeouts, triggers, logs);
    let specs = (container(), kube(), command());
    (head, graph, process, lifecycle, watch, timeouts, specs).prop_map(
        |(head, graph, process, lifecycle, watch, timeouts, specs)| {
            let (kind, name, project, root, description, source, enabled) = head;
            let project = ProjectName::new(project.as_str()).expect("unit names are project names");
            let mut u = Unit::new(project, name, kind, root);
            u.description = description;
            u.source = source;
            u.enabled = enabled;
            (u.deps, u.members) = graph;
            let (command, dir, env, env_files, pid_file) = process;
            u.command = command;
            if matches!(kind, UnitKind::Service | UnitKind::Daemon | UnitKind::Build)
                && u.command.is_none()
            {
                u.command = Some(specs.2);
            }
            u.dir = dir;
            u.env = env;
            u.env_files = env_files
                .into_iter()
                .map(|(path, optional)| EnvFile { path, optional })
                .collect();
            u.pid_file = pid_file;
            (u.ports, u.links, u.ready, u.alive, u.restart, u.stop) = lifecycle;
            u.watch = watch;
            let (timeouts, triggers, logs) = timeouts;
            if kind.is_runnable() {
                u.logs = logs;
            }
            (u.start_timeout, u.run_timeout, u.idle_timeout) = timeouts;
            if kind == UnitKind::Build {
                (u.schedule, u.on_commit, u.always_run) = triggers;
            }
            if kind == UnitKind::Container {
                u.container = Some(Box::new(specs.0));
            }
            if kind == UnitKind::Kubernetes {
                u.kubernetes = Some(Box::new(specs.1));
            }
            u
        },
    )
}

fn kv(file: &UnitFile) -> Vec<(String, Vec<(String, String)>)> {
    file.sections
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.clone()))
                    .collect(),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn unit_round_trips(u in unit()) {
        let text = to_unit_file(&u);
        prop_assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "raw control character in:\n{}", text
        );
        let back = from_unit_file(&u.file_name(), &text);
        prop_assert!(back.is_ok(), "{}\n{}", back.unwrap_err(), text);
        prop_assert_eq!(back.unwrap(), u.clone());
        prop_assert_eq!(to_unit_file(&u), text, "not deterministic");
    }

    #[test]
    fn generic_layer_is_stable(u in unit()) {
        let text = to_unit_file(&u);
        let once = UnitFile::parse("u", &text).unwrap();
        prop_assert_eq!(once.to_string(), text.clone());
        let twice = UnitFile::parse("u", &once.to_string()).unwrap();
        prop_assert_eq!(kv(&once), kv(&twice));
    }

    #[test]
    fn generic_layer_is_stable_on_any_text(lines in vec(prop_oneof![
        "[A-Za-z]{1,6}",
        "\\[[A-Za-z-]{1,6}\\]",
        "[A-Za-z-]{1,6} ?= ?[ -~]{0,12}",
        "[ -~]{0,12}\\\\",
        "[#;][ -~]{0,10}",
        Just(String::new()),
    ], 0..12)) {
        let text = lines.join("\n");
        if let Ok(once) = UnitFile::parse("t", &text) {
            let twice = UnitFile::parse("t", &once.to_string()).unwrap();
            prop_assert_eq!(kv(&once), kv(&twice));
        }
    }

    #[test]
    fn reader_never_panics(text in any::<String>(), name in "[a-z.]{1,12}") {
        let _ = from_unit_file(&name, &text);
        let _ = from_unit_file("x.service", &format!("[Unit]\nX-Devctl-Kind=service\n{text}"));
    }

    #[test]
    fn reader_never_panics_on_damaged_units(u in unit(), cut in any::<prop::sample::Index>(), drop in any::<prop::sample::Index>()) {
        let text = to_unit_file(&u);
        let lines: Vec<&str> = text.lines().collect();
        let without: Vec<&str> = lines.iter().enumerate()
            .filter(|(i, _)| *i != drop.index(lines.len()))
            .map(|(_, l)| *l)
            .collect();
        let _ = from_unit_file(&u.file_name(), &without.join("\n"));
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let _ = from_unit_file(&u.file_name(), &text[..at]);
    }
}
