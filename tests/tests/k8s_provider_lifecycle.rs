//! `kubernetes` units end to end, over their lifetime: the real `devctl`
//! and `devctld` against a real control plane with kwok standing in for
//! kubelets (see `k8s_provider.rs`).
//!
//! Proven here: a daemon killed with SIGKILL is followed by one that adopts
//! the unit's objects without applying them again (and applies only what
//! changed meanwhile, pruning what was dropped), a re-exec keeps
//! everything, enablement persists across daemons, `reload` with changed
//! manifests drops removed objects, an image rebuilt from changed sources
//! gets a new content tag the pods run, the shipped example runs against
//! the test cluster, every pod's log reaches the unit's log tagged with pod
//! and container, and a port-forward carries bytes, shows its state and
//! survives the deletion of its pod.
//!
//! Tests that start a control plane have names ending in
//! `simulated_by_kwok` (the nextest group `k8s` runs them one at a time);
//! they fail, never skip, when it cannot be built or started.

use std::time::Duration;

use devctl_test_support::net::free_port;
use devctl_tests::k8s::Cluster;
use devctl_tests::k8s::units::{
    K8S_CEILING, SETTINGS, WEB, env_with, get, kube_unit, kubectl_ok as kubectl, logs, must,
    start_cluster, unit_pods,
};
use devctl_tests::{CEILING, TestEnv, field, status, wait_until};

/// SIGKILL of the daemon: the next one adopts the unit's objects without
/// applying them again (the run label of the first apply stays); when the
/// manifests changed meanwhile, only the changed object is applied and the
/// dropped one is pruned. A re-exec keeps everything as it is.
#[test]
fn a_new_daemon_adopts_the_units_objects_without_reapplying_them_simulated_by_kwok() {
    let c = start_cluster();
    let extra = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  k: v\n";
    let mut env = env_with(&[("k8s/web.yaml", WEB), ("k8s/extra.yaml", extra)]);
    env.write_manifest(&format!(
        "project \"adopt\"\n{}",
        kube_unit(&c, "app", &["k8s"], "")
    ));
    let first = env.start_daemon();
    must(&env, &["start", "app"]);
    let invocation = |c: &Cluster, args: &[&str]| {
        get(c, args).expect("object")["metadata"]["labels"]["devctl.dev/invocation"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let applied_by = invocation(&c, &["deployment", "web"]);

    env.signal_daemon(first, nix::sys::signal::Signal::SIGKILL);
    assert_eq!(env.wait_daemon_exit(first, CEILING), None, "killed");
    let second = env.start_daemon();
    let s = wait_until("app to be adopted", K8S_CEILING, || {
        let s = status(&env, "app");
        (field(&s, "active") == "active" && s["ready"] == true).then_some(s)
    });
    assert_eq!(field(&s, "origin"), "adopted", "{s}");
    assert_eq!(invocation(&c, &["deployment", "web"]), applied_by);
    assert_eq!(invocation(&c, &["configmap", "extra"]), applied_by);
    assert!(logs(&env, "app").contains("adopted 4 object(s) already applied and unchanged"));

    // Changed while no daemon ran: one ConfigMap edited, one dropped.
    std::fs::write(
        env.project_dir.join("k8s/web.yaml"),
        WEB.replace("greeting: hello", "greeting: bonjour"),
    )
    .unwrap();
    std::fs::remove_file(env.project_dir.join("k8s/extra.yaml")).unwrap();
    env.signal_daemon(second, nix::sys::signal::Signal::SIGKILL);
    assert_eq!(env.wait_daemon_exit(second, CEILING), None, "killed");
    env.start_daemon();
    wait_until("app to run again", K8S_CEILING, || {
        let s = status(&env, "app");
        (field(&s, "active") == "active" && s["ready"] == true).then_some(s)
    });
    let cm = get(&c, &["configmap", "web-settings"]).unwrap();
    assert_eq!(cm["data"]["greeting"], "bonjour", "{cm}");
    assert_ne!(invocation(&c, &["configmap", "web-settings"]), applied_by);
    assert_eq!(
        invocation(&c, &["deployment", "web"]),
        applied_by,
        "the unchanged deployment is not applied again"
    );
    assert!(get(&c, &["configmap", "extra"]).is_none(), "pruned");

    let before = invocation(&c, &["configmap", "web-settings"]);
    env.devctl(&["daemon", "reexec"]).expect_code(0);
    let s = wait_until("app after the re-exec", K8S_CEILING, || {
        let s = status(&env, "app");
        (field(&s, "active") == "active" && s["ready"] == true).then_some(s)
    });
    assert_eq!(field(&s, "origin"), "adopted", "{s}");
    assert_eq!(invocation(&c, &["configmap", "web-settings"]), before);
    assert_eq!(unit_pods(&c, "app").len(), 2);

    must(&env, &["down"]);
    assert!(get(&c, &["deployment", "web"]).is_none());
}

/// Enablement works as for other kinds and persists across daemons:
/// `up` applies an enabled unit only; `disable --now` deletes its objects.
#[test]
fn enable_and_disable_apply_and_delete_and_persist_simulated_by_kwok() {
    let c = start_cluster();
    let mut env = env_with(&[("settings.yaml", SETTINGS)]);
    env.write_manifest(&format!(
        "project \"enab\"\n{}",
        kube_unit(&c, "config", &["settings.yaml"], "enabled #false")
    ));
    let first = env.start_daemon();
    must(&env, &["up"]);
    assert!(
        get(&c, &["configmap", "shared-settings"]).is_none(),
        "disabled: not applied"
    );

    env.devctl(&["enable", "--now", "config"]).expect_code(0);
    assert!(get(&c, &["configmap", "shared-settings"]).is_some());
    env.devctl(&["daemon", "stop"]).expect_code(0);
    assert_eq!(env.wait_daemon_exit(first, CEILING), Some(0));
    assert!(
        get(&c, &["configmap", "shared-settings"]).is_none(),
        "a daemon stop stops its units"
    );

    let second = env.start_daemon();
    env.devctl(&["is-enabled", "config"]).expect_code(0);
    must(&env, &["up"]);
    assert!(
        get(&c, &["configmap", "shared-settings"]).is_some(),
        "enabled: applied"
    );
    env.devctl(&["disable", "--now", "config"]).expect_code(0);
    assert!(get(&c, &["configmap", "shared-settings"]).is_none());
    env.devctl(&["daemon", "stop"]).expect_code(0);
    assert_eq!(env.wait_daemon_exit(second, CEILING), Some(0));

    env.start_daemon();
    env.devctl(&["is-enabled", "config"]).expect_code(3);
    must(&env, &["up"]);
    assert!(get(&c, &["configmap", "shared-settings"]).is_none());
}

/// `reload` after a manifest file was dropped from the unit: the unit is
/// applied again and the dropped file's object is gone.
#[test]
fn reload_with_changed_manifests_applies_again_and_drops_removed_objects_simulated_by_kwok() {
    let c = start_cluster();
    let other = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  k: v\n";
    let mut env = env_with(&[("a.yaml", SETTINGS), ("b.yaml", other)]);
    env.write_manifest(&format!(
        "project \"rel\"\n{}",
        kube_unit(&c, "config", &["a.yaml", "b.yaml"], "")
    ));
    env.start_daemon();
    must(&env, &["start", "config"]);
    assert!(get(&c, &["configmap", "other"]).is_some());

    env.write_manifest(&format!(
        "project \"rel\"\n{}",
        kube_unit(&c, "config", &["a.yaml"], "")
    ));
    env.devctl(&["reload"]).expect_code(0);
    wait_until("the dropped object to go", K8S_CEILING, || {
        get(&c, &["configmap", "other"]).is_none().then_some(())
    });
    wait_until("config to run again", K8S_CEILING, || {
        let s = status(&env, "config");
        (field(&s, "active") == "active" && s["ready"] == true).then_some(())
    });
    assert!(get(&c, &["configmap", "shared-settings"]).is_some());
}

/// `image "NAME" build="DIR"`: the image is built with Docker, tagged by
/// its content (never `latest`), and the Deployment's reference to NAME
/// is rewritten to it; changed sources give a new tag the new pods run;
/// the same sources give the same tag.
#[test]
fn an_image_rebuilt_from_changed_sources_gets_a_new_content_tag_the_pods_run_simulated_by_kwok() {
    let c = start_cluster();
    let app = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
spec:
  replicas: 1
  selector:
    matchLabels: {app: site}
  template:
    metadata:
      labels: {app: site}
    spec:
      containers:
      - name: site
        image: devctl-test/site:latest
";
    let mut env = env_with(&[
        ("site.yaml", app),
        ("site/Dockerfile", "FROM scratch\nCOPY page.txt /page.txt\n"),
        ("site/page.txt", &format!("first {}\n", free_port())),
    ]);
    env.write_manifest(&format!(
        "project \"img\"\n{}",
        kube_unit(
            &c,
            "site",
            &["site.yaml"],
            "image \"devctl-test/site\" build=\"site\""
        )
    ));
    env.start_daemon();
    let image = |c: &Cluster| {
        get(c, &["deployment", "site"]).expect("deployment")["spec"]["template"]["spec"]
            ["containers"][0]["image"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let pod_images = |c: &Cluster| -> Vec<String> {
        let out = kubectl(c, &["get", "pods", "-l=app=site", "-o", "json"]);
        let list: serde_json::Value = serde_json::from_str(&out).expect(&out);
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .map(|p| {
                p["spec"]["containers"][0]["image"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };

    must(&env, &["start", "site"]);
    let first = image(&c);
    let tag = first.strip_prefix("devctl-test/site:").expect(&first);
    assert_eq!(tag.len(), 12, "{first}");
    assert!(tag.chars().all(|ch| ch.is_ascii_hexdigit()), "{first}");
    assert_eq!(pod_images(&c), std::slice::from_ref(&first));
    let id = std::process::Command::new("docker")
        .args(["image", "inspect", "--format={{.Id}}", &first])
        .output()
        .expect("docker");
    let id = String::from_utf8_lossy(&id.stdout);
    assert!(
        id.trim().trim_start_matches("sha256:").starts_with(tag),
        "{id}"
    );

    must(&env, &["restart", "site"]);
    assert_eq!(image(&c), first, "same sources, same tag");

    std::fs::write(env.project_dir.join("site/page.txt"), "second\n").unwrap();
    must(&env, &["restart", "site"]);
    let second = image(&c);
    assert_ne!(second, first);
    assert!(second.starts_with("devctl-test/site:"), "{second}");
    wait_until("the pods to run the new image", K8S_CEILING, || {
        (pod_images(&c) == [second.clone()]).then_some(())
    });
    must(&env, &["down"]);
    for reference in [&first, &second] {
        let _ = std::process::Command::new("docker")
            .args(["rmi", reference])
            .output();
    }
}

/// Copy `from` into `to`, recursively.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The shipped `examples/kubernetes` project runs against the test
/// cluster as documented (the kubeconfig from devctld's `KUBECONFIG`): its
/// image is built and content-tagged, the Deployment rolls out with it,
/// and `down` deletes what `up` applied. Its Dockerfile's base is swapped
/// for the locally built busybox image, as devctl never pulls.
#[test]
fn the_kubernetes_example_runs_against_the_test_cluster_simulated_by_kwok() {
    use devctl_test_support::docker::{TEST_IMAGE, ensure_test_image};
    ensure_test_image();
    let c = start_cluster();
    let mut env = TestEnv::new();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/kubernetes");
    copy_tree(&example, &env.project_dir);
    let dockerfile = env.project_dir.join("site/Dockerfile");
    let text = std::fs::read_to_string(&dockerfile).unwrap();
    assert!(text.contains("FROM busybox:latest"), "{text}");
    std::fs::write(&dockerfile, text.replace("busybox:latest", TEST_IMAGE)).unwrap();
    let mut daemon = env.daemon_command();
    daemon.env("KUBECONFIG", c.kubeconfig());
    let pid = env.spawn_daemon_cmd(daemon);
    env.wait_daemon_ready(pid);

    must(&env, &["up"]);
    let s = status(&env, "site");
    assert_eq!(s["ready"], true, "{s}");
    let d = get(&c, &["deployment", "site"]).expect("the deployment");
    assert_eq!(d["status"]["availableReplicas"], 2, "{d}");
    let image = d["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(image.starts_with("devctl-example/site:"), "{image}");
    assert_eq!(image.len(), "devctl-example/site:".len() + 12, "{image}");
    assert!(get(&c, &["service", "site"]).is_some());
    assert!(get(&c, &["configmap", "site-settings"]).is_some());

    must(&env, &["down"]);
    assert!(get(&c, &["deployment", "site"]).is_none());
    assert!(get(&c, &["service", "site"]).is_none());
    assert!(get(&c, &["configmap", "site-settings"]).is_none());
    let _ = std::process::Command::new("docker")
        .args(["rmi", &image])
        .output();
}

/// Lines of the unit's log that a container wrote, as `[pod/container] text`.
fn pod_lines(env: &TestEnv, unit: &str) -> Vec<String> {
    env.devctl(&["logs", "-n", "500", unit])
        .stdout
        .lines()
        .filter_map(|l| l.split_once(" | ").map(|(_, t)| t.to_owned()))
        .filter(|t| t.starts_with('['))
        .collect()
}

/// The unit's port-forward status line (the status' `notify_status`).
fn forward_status(env: &TestEnv, unit: &str) -> String {
    field(&status(env, unit), "notify_status")
}

/// Every pod of a 3-replica Deployment streams its log into the unit's log
/// tagged with pod and container (kwok serves a file the test writes); the
/// unit's port-forward carries bytes to a 127.0.0.1 server the test runs,
/// shows its state in `status`, and moves to another pod when its pod is
/// deleted; a taken local port fails a start before anything is applied;
/// `stop` closes the forward.
#[test]
fn pod_logs_are_tagged_and_a_port_forward_survives_its_pod_simulated_by_kwok() {
    use devctl_tests::k8s_stream::{LogFile, deployment, echo_server, forward_port, serve_logs};
    use std::io::{BufRead, BufReader, Write};

    let c = start_cluster();
    let log = LogFile::create(&c, "web.log");
    log.append(&["booting", "listening on 8080"]);
    serve_logs(&c, "web-logs", "default", "web", &log);
    let (echo_port, seen) = echo_server();
    forward_port(&c, "web-forward", "default", 8080, echo_port);

    let local = free_port();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let held_port = held.local_addr().unwrap().port();
    let mut env = env_with(&[
        ("web.yaml", &deployment("web", 3, 8080)),
        ("other.yaml", &deployment("other", 1, 8080)),
    ]);
    env.write_manifest(&format!(
        "project \"streams\"\n{}{}",
        kube_unit(
            &c,
            "web",
            &["web.yaml"],
            &format!("port-forward \"deployment/web\" {local} remote=8080")
        ),
        kube_unit(
            &c,
            "taken",
            &["other.yaml"],
            &format!("port-forward \"deployment/other\" {held_port} remote=8080")
        )
    ));
    env.start_daemon();
    must(&env, &["start", "web"]);

    let pods = wait_until("a line from every pod", K8S_CEILING, || {
        let lines = pod_lines(&env, "web");
        let pods: std::collections::BTreeSet<String> = lines
            .iter()
            .filter(|l| l.ends_with("] listening on 8080"))
            .filter_map(|l| {
                l.strip_prefix('[')?
                    .split_once("/web]")
                    .map(|(p, _)| p.to_owned())
            })
            .collect();
        (pods.len() == 3).then_some(pods)
    });
    assert!(pods.iter().all(|p| p.starts_with("web-")), "{pods:?}");
    log.append(&["request served"]);
    wait_until("a line written later, from every pod", K8S_CEILING, || {
        let n = pod_lines(&env, "web")
            .iter()
            .filter(|l| l.ends_with("] request served"))
            .count();
        (n == 3).then_some(())
    });

    let exchange = |what: &str| -> Option<String> {
        let conn = std::net::TcpStream::connect(("127.0.0.1", local)).ok()?;
        conn.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        let mut w = conn.try_clone().ok()?;
        w.write_all(format!("{what}\n").as_bytes()).ok()?;
        let mut answer = String::new();
        BufReader::new(conn).read_line(&mut answer).ok()?;
        Some(answer)
    };
    assert_eq!(exchange("ping").as_deref(), Some("echo: ping\n"));
    assert_eq!(seen.recv_timeout(CEILING).unwrap(), "ping");
    let first = wait_until("the forward's state", CEILING, || {
        let s = forward_status(&env, "web");
        s.split("forwarding to pod ").nth(1).map(str::to_owned)
    });
    assert!(pods.contains(&first), "{first} of {pods:?}");

    kubectl(&c, &["delete", "pod", &first, "--wait=false"]);
    let second = wait_until("the forward to move to another pod", K8S_CEILING, || {
        let s = forward_status(&env, "web");
        s.split("forwarding to pod ")
            .nth(1)
            .filter(|p| *p != first)
            .map(str::to_owned)
    });
    assert_ne!(second, first);
    assert_eq!(exchange("again").as_deref(), Some("echo: again\n"));
    let log_text = logs(&env, "web");
    assert!(
        log_text.contains(&format!("forwarding to pod {second}")),
        "{log_text}"
    );

    let r = env.devctl(&["start", "taken"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    let s = status(&env, "taken");
    assert_eq!(field(&s, "result"), "port-in-use", "{s}");
    let msg = field(&s, "message");
    assert!(
        msg.contains(&format!("127.0.0.1:{held_port}")) && msg.contains("pid"),
        "{msg}"
    );
    assert!(
        get(&c, &["deployment", "other"]).is_none(),
        "nothing applied"
    );
    drop(held);

    must(&env, &["stop", "web"]);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", local)).is_err(),
        "the forward is closed"
    );
}

/// A changed definition (`reload` after the unit's manifests changed)
/// updates the unit in place: its Deployment is applied again, never
/// deleted (same uid, a later generation), and rolls to the new template,
/// while its port-forward keeps its port; `devctl restart` replaces the
/// objects afresh.
#[test]
fn a_changed_definition_rolls_the_deployment_in_place_and_restart_replaces_it_simulated_by_kwok() {
    let c = start_cluster();
    let local = free_port();
    let mut env = env_with(&[
        ("web.yaml", WEB),
        ("web2.yaml", &WEB.replace("web:1", "web:2")),
        ("bad.yaml", &WEB.replace("replicas: 2", "replicas: -1")),
    ]);
    let write = |env: &TestEnv, file: &str| {
        env.write_manifest(&format!(
            "project \"roll\"\n{}",
            kube_unit(
                &c,
                "app",
                &[file],
                &format!("port-forward \"deployment/web\" {local} remote=8080")
            )
        ))
    };
    write(&env, "web.yaml");
    env.start_daemon();
    must(&env, &["start", "app"]);
    let deployment = |c: &Cluster| get(c, &["deployment", "web"]).expect("deployment");
    let first = deployment(&c);
    let first_uid = first["metadata"]["uid"].as_str().unwrap().to_owned();
    let first_generation = first["metadata"]["generation"].as_i64().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", local)).is_ok());

    write(&env, "web2.yaml");
    env.devctl(&["reload"]).expect_code(0);
    let rolled = wait_until("the Deployment to roll to web:2", K8S_CEILING, || {
        let d = deployment(&c);
        let s = status(&env, "app");
        (d["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.invalid/web:2"
            && field(&s, "active") == "active"
            && s["ready"] == true)
            .then_some(d)
    });
    assert_eq!(rolled["metadata"]["uid"], first_uid.as_str(), "not deleted");
    assert!(rolled["metadata"]["generation"].as_i64().unwrap() > first_generation);
    let text = logs(&env, "app");
    assert!(text.contains("updating in place"), "{text}");
    assert!(!text.contains("deleting deployment"), "{text}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", local)).is_ok(),
        "the forward still listens"
    );
    wait_until("the forward's state in status", K8S_CEILING, || {
        let s = status(&env, "app");
        field(&s, "notify_status")
            .contains("forwarding to pod web-")
            .then_some(())
    });

    must(&env, &["restart", "app"]);
    let again = deployment(&c);
    assert_ne!(
        again["metadata"]["uid"],
        first_uid.as_str(),
        "replaced afresh"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", local)).is_ok());

    // An update the server refuses fails the unit and, as any failed
    // start, leaves nothing behind.
    write(&env, "bad.yaml");
    env.devctl(&["reload"]).expect_code(0);
    let s = wait_until("the refused update to fail the unit", K8S_CEILING, || {
        let s = status(&env, "app");
        (field(&s, "active") == "failed").then_some(s)
    });
    assert!(field(&s, "message").contains("replicas"), "{s}");
    wait_until("the previous objects to go", K8S_CEILING, || {
        get(&c, &["deployment", "web"]).is_none().then_some(())
    });
    assert!(get(&c, &["service", "web"]).is_none());
    assert!(std::net::TcpStream::connect(("127.0.0.1", local)).is_err());
}
