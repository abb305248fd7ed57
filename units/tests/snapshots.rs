//! Snapshots of the unit files written for representative units of every
//! kind (the pizzeria of product.md §2), each also read back.

use std::path::PathBuf;
use std::time::Duration;

use devctl_units::*;

fn n(s: &str) -> UnitName {
    UnitName::new(s).unwrap()
}

fn unit(kind: UnitKind, name: &str) -> Unit {
    Unit::new(
        ProjectName::new("pizzeria").unwrap(),
        n(name),
        kind,
        PathBuf::from("/home/dev/pizzeria"),
    )
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn dep(name: &str, kind: DepKind, until: DepCondition) -> Dependency {
    Dependency {
        unit: n(name),
        kind,
        until,
    }
}

fn check(u: &Unit) -> String {
    let text = to_unit_file(u);
    assert_eq!(from_unit_file(&u.file_name(), &text).unwrap(), *u);
    text
}

#[test]
fn service() {
    let mut u = unit(UnitKind::Service, "paulie");
    u.description = Some("Paulie's API — 100% \"fresh\"".into());
    u.source = Some("/home/dev/pizzeria/devctl.kdl:3:1".into());
    u.command = Some(Command::Argv(argv(&[
        "cargo",
        "run",
        "--bin",
        "paulie",
        "--",
        "--greeting",
        "hi $USER",
    ])));
    u.dir = Some("/home/dev/pizzeria/services/paulie".into());
    u.env = vec![
        ("PORT".into(), "8080".into()),
        ("RUST_LOG".into(), "info,tower=warn $x".into()),
    ];
    u.env_files = vec![EnvFile {
        path: "/home/dev/pizzeria/.env".into(),
        optional: true,
    }];
    u.ports = vec![8080];
    u.links = vec!["http://localhost:8080/docs".into()];
    u.deps = vec![
        dep("db", DepKind::Requires, DepCondition::Ready),
        dep("codegen", DepKind::Requires, DepCondition::Succeeded),
        dep("redis", DepKind::Wants, DepCondition::Started),
    ];
    let mut ready = Probe::readiness(ProbeCheck::Http {
        url: "http://127.0.0.1:8080/healthz".into(),
        status: Some(200),
    });
    ready.period = Duration::from_millis(200);
    u.ready = Some(ready);
    let mut alive = Probe::liveness(ProbeCheck::Tcp {
        host: "127.0.0.1".into(),
        port: 8080,
    });
    alive.period = Duration::from_secs(5);
    u.alive = Some(alive);
    u.stop.signal = Signal::SIGINT;
    u.watch = WatchSpec {
        paths: vec!["services/paulie/src/**/*.rs".into()],
        ignore: vec!["**/*.tmp".into()],
        trigger: TriggerMode::Auto,
    };
    u.start_timeout = Some(Duration::from_secs(90));
    insta::assert_snapshot!(check(&u));
}

#[test]
fn notify_shell_service() {
    let mut u = unit(UnitKind::Service, "worker");
    u.command = Some(Command::Shell(
        "exec ./worker 2>&1 | tee -a \"$LOG\"; echo done".into(),
    ));
    u.ready = Some(Probe::readiness(ProbeCheck::Notify));
    u.restart.mode = RestartMode::Always;
    u.enabled = false;
    insta::assert_snapshot!(check(&u));
}

#[test]
fn build() {
    let mut u = unit(UnitKind::Build, "codegen");
    u.command = Some(Command::Argv(argv(&["make", "generate"])));
    u.watch.paths = vec!["schema/**".into()];
    u.watch.trigger = TriggerMode::Manual;
    u.run_timeout = Some(Duration::from_secs(300));
    u.idle_timeout = Some(Duration::from_secs(30));
    u.logs = LogSpec {
        max_size: Some(64 << 20),
        files: Some(5),
        max_age: Some(Duration::from_secs(7 * 86_400)),
    };
    insta::assert_snapshot!(check(&u));
}

#[test]
fn daemon() {
    let mut u = unit(UnitKind::Daemon, "db");
    u.command = Some(Command::Argv(argv(&[
        "pg_ctl",
        "start",
        "-D",
        "data/pg",
        "-l",
        "data/pg.log",
    ])));
    u.stop.command = Some(argv(&["pg_ctl", "stop", "-D", "data/pg", "-m", "fast"]));
    u.pid_file = Some("/home/dev/pizzeria/data/pg/postmaster.pid".into());
    u.ready = Some(Probe::readiness(ProbeCheck::Exec(argv(&[
        "pg_isready",
        "-h",
        "127.0.0.1",
        "-p",
        "5433",
    ]))));
    insta::assert_snapshot!(check(&u));
}

#[test]
fn container() {
    let mut u = unit(UnitKind::Container, "redis");
    u.env = vec![("REDIS_ARGS".into(), "--save \"\" --appendonly no".into())];
    u.container = Some(Box::new(ContainerSpec {
        image: "redis:7".into(),
        build: Some(ImageBuild {
            context: "/home/dev/pizzeria/docker/redis".into(),
            dockerfile: "Dockerfile".into(),
        }),
        command: Some(argv(&["redis-server", "--port", "6379"])),
        entrypoint: None,
        publish: vec![
            Publish {
                container_port: 6379,
                host_port: Some(16379),
                host_ip: None,
                protocol: "tcp".into(),
            },
            Publish {
                container_port: 53,
                host_port: None,
                host_ip: Some("::1".into()),
                protocol: "udp".into(),
            },
        ],
        volumes: vec![Volume {
            source: "/home/dev/pizzeria/data/redis".into(),
            target: "/data".into(),
            read_only: false,
        }],
        workdir: Some("/data".into()),
        user: Some("999:999".into()),
        network: None,
        healthcheck: true,
    }));
    u.ready = Some(Probe::readiness(ProbeCheck::Tcp {
        host: "127.0.0.1".into(),
        port: 16379,
    }));
    insta::assert_snapshot!(check(&u));
}

#[test]
fn kubernetes() {
    let mut u = unit(UnitKind::Kubernetes, "cluster");
    u.kubernetes = Some(Box::new(KubeSpec {
        manifests: vec![
            "/home/dev/pizzeria/k8s/api.yaml".into(),
            "/home/dev/pizzeria/k8s/db".into(),
        ],
        context: Some("kind-dev".into()),
        namespace: Some("pizzeria".into()),
        port_forwards: vec![PortForward {
            resource: "deployment/api".into(),
            local_port: 8081,
            remote_port: 80,
        }],
        kubeconfig: Some("/home/dev/.kube/dev.yaml".into()),
        readiness: KubeReadiness::Pods,
        images: vec![KubeImage {
            name: "pizzeria/api".into(),
            build: ImageBuild {
                context: "/home/dev/pizzeria/api".into(),
                dockerfile: "Dockerfile".into(),
            },
        }],
    }));
    u.start_timeout = Some(Duration::from_secs(120));
    insta::assert_snapshot!(check(&u));
}

#[test]
fn group() {
    let mut u = unit(UnitKind::Group, "backend");
    u.description = Some("Everything behind the API".into());
    u.members = vec![n("paulie"), n("db"), n("redis")];
    insta::assert_snapshot!(check(&u));
}

#[test]
fn project() {
    let mut u = unit(UnitKind::Project, "pizzeria");
    u.members = vec![n("paulie"), n("codegen"), n("db"), n("redis"), n("backend")];
    insta::assert_snapshot!(check(&u));
}
