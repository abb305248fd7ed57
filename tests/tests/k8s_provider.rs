//! `kubernetes` units end to end: the real `devctl` and `devctld` against
//! a real control plane (etcd, kube-apiserver, kube-controller-manager,
//! kube-scheduler) whose containers are simulated by kwok (pods go Ready
//! and Job pods complete by kwok's stages; nothing is executed).
//!
//! Proven here: a unit is ready once its Deployment has rolled out through
//! the controller manager and scheduler (server-side apply under field
//! manager `devctl`, labels naming project, unit and run), a ConfigMap-only
//! unit is ready once applied, a Job that completes makes a unit ready and
//! one that fails fails it, the API server's rejections (field conflict,
//! validation) fail the unit naming the object and leave nothing
//! half-applied, `stop`/`down`/`disable --now` delete exactly the unit's
//! objects, enablement persists across daemons, a daemon killed with
//! SIGKILL is followed by one that adopts the objects without applying
//! them again (and applies only what changed meanwhile, pruning what was
//! dropped), a re-exec keeps everything, an image rebuilt from changed
//! sources gets a new content tag the Deployment runs, and an unreachable
//! cluster fails only its unit, naming context and server.
//!
//! Tests that start a control plane have names ending in
//! `simulated_by_kwok` (the nextest group `k8s` runs them one at a time);
//! they fail, never skip, when it cannot be built or started.

use std::time::Duration;

use devctl_test_support::net::free_port;
use devctl_tests::k8s::Cluster;
use devctl_tests::{CEILING, TestEnv, field, status, wait_until};

/// Rollouts go through three Go servers on a loaded two-core machine.
const K8S_CEILING: Duration = Duration::from_secs(120);

fn start_cluster() -> Cluster {
    Cluster::start().unwrap_or_else(|e| panic!("{e}"))
}

fn kubectl(c: &Cluster, args: &[&str]) -> String {
    c.kubectl(args).unwrap_or_else(|e| panic!("{e}"))
}

/// `kubectl get ARGS -o json`, or `None` when the object does not exist.
fn get(c: &Cluster, args: &[&str]) -> Option<serde_json::Value> {
    let mut all = vec!["get", "--ignore-not-found"];
    all.extend_from_slice(args);
    all.extend(["-o", "json"]);
    let out = kubectl(c, &all);
    if out.trim().is_empty() {
        return None;
    }
    Some(serde_json::from_str(&out).unwrap_or_else(|e| panic!("kubectl {args:?} ({e}): {out}")))
}

/// Names of the pods carrying the unit's label.
fn unit_pods(c: &Cluster, unit: &str) -> Vec<String> {
    let sel = format!("-l=devctl.dev/unit={unit}");
    let out = kubectl(c, &["get", "pods", "-A", &sel, "-o", "json"]);
    let list: serde_json::Value = serde_json::from_str(&out).expect(&out);
    list["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    p["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A test environment whose daemon reaches the cluster, with `files`
/// written into the project directory.
fn env_with(files: &[(&str, &str)]) -> TestEnv {
    let env = TestEnv::new();
    for (name, text) in files {
        let p = env.project_dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    env
}

/// A `kubernetes` unit reaching the test cluster.
fn kube_unit(c: &Cluster, name: &str, manifests: &[&str], extra: &str) -> String {
    let files: Vec<String> = manifests.iter().map(|m| format!("\"{m}\"")).collect();
    format!(
        r#"kubernetes "{name}" {{
    manifests {files}
    kubeconfig "{kc}"
    context "devctl-test"
    start-timeout "150s"
    stop timeout="60s"
    {extra}
}}
"#,
        files = files.join(" "),
        kc = c.kubeconfig().display()
    )
}

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.invalid/web:1
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings
data:
  greeting: hello
";

const SETTINGS: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: shared-settings
data:
  mode: dev
";

fn logs(env: &TestEnv, unit: &str) -> String {
    env.devctl(&["logs", unit]).stdout.clone()
}

/// `devctl VERB UNITS…` that must succeed; on failure the panic shows the
/// units' logs and the daemon's.
fn must(env: &TestEnv, args: &[&str]) {
    let mut all = args.to_vec();
    all.push("--timeout=100s");
    let r = env.devctl(&all);
    if r.code != Some(0) {
        let units: Vec<&str> = args
            .iter()
            .skip(1)
            .copied()
            .filter(|a| !a.starts_with('-'))
            .collect();
        let logs = env
            .devctl(&[&["logs", "-n", "200"][..], &units].concat())
            .stdout
            .clone();
        panic!(
            "devctl {args:?} exited with {:?}\nstdout:\n{}\nstderr:\n{}\nlogs:\n{logs}\ndaemon:\n{}",
            r.code,
            r.stdout,
            r.stderr,
            env.daemon_log()
        );
    }
}

/// `start` returns once the Deployment is rolled out (both replicas
/// updated and available, Ready by kwok); every object is labelled and
/// applied by field manager `devctl`; a ConfigMap-only unit is ready once
/// applied; `stop` deletes exactly the unit's objects and `down` the rest.
#[test]
fn a_deployment_unit_is_ready_once_rolled_out_and_stop_and_down_delete_its_objects_simulated_by_kwok()
 {
    let c = start_cluster();
    let mut env = env_with(&[("k8s/web.yaml", WEB), ("config/settings.yaml", SETTINGS)]);
    env.write_manifest(&format!(
        "project \"shop\"\n{}{}",
        kube_unit(&c, "app", &["k8s/web.yaml"], ""),
        kube_unit(&c, "config", &["config"], "")
    ));
    env.start_daemon();

    must(&env, &["start", "app"]);
    let s = status(&env, "app");
    assert_eq!(field(&s, "active"), "active", "{s}");
    assert_eq!(s["ready"], true, "{s}");
    let d = get(&c, &["deployment", "web", "--show-managed-fields"]).expect("the deployment");
    assert_eq!(d["status"]["availableReplicas"], 2, "{d}");
    assert_eq!(d["status"]["updatedReplicas"], 2, "{d}");
    let labels = &d["metadata"]["labels"];
    assert_eq!(labels["devctl.dev/project"], "shop", "{d}");
    assert_eq!(labels["devctl.dev/unit"], "app", "{d}");
    let run = labels["devctl.dev/invocation"].as_str().unwrap_or_default();
    assert!(
        run.len() == 32 && run.chars().all(|ch| ch.is_ascii_hexdigit()),
        "the run's invocation id: {d}"
    );
    let managers: Vec<&str> = d["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["operation"] == "Apply")
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert_eq!(managers, ["devctl"], "{d}");
    assert_eq!(
        unit_pods(&c, "app").len(),
        2,
        "the pods carry the unit's label"
    );
    assert!(get(&c, &["service", "web"]).is_some());
    assert!(get(&c, &["configmap", "web-settings"]).is_some());
    let log = logs(&env, "app");
    assert!(log.contains("applied 3 object(s), 0 unchanged"), "{log}");

    must(&env, &["start", "config"]);
    let s = status(&env, "config");
    assert_eq!(s["ready"], true, "{s}");
    let cm = get(&c, &["configmap", "shared-settings"]).expect("the configmap");
    assert_eq!(cm["data"]["mode"], "dev");

    must(&env, &["stop", "app"]);
    assert!(
        get(&c, &["deployment", "web"]).is_none(),
        "stop waits until it is gone"
    );
    assert!(get(&c, &["service", "web"]).is_none());
    assert!(get(&c, &["configmap", "web-settings"]).is_none());
    assert!(
        unit_pods(&c, "app").is_empty(),
        "foreground deletion took the pods"
    );
    assert!(
        get(&c, &["configmap", "shared-settings"]).is_some(),
        "another unit's objects stay"
    );

    must(&env, &["start", "app"]);
    must(&env, &["down"]);
    assert!(get(&c, &["deployment", "web"]).is_none());
    assert!(get(&c, &["configmap", "shared-settings"]).is_none());
    assert!(unit_pods(&c, "app").is_empty());
}

/// A Job that completes (kwok completes Job pods) makes its unit ready; a
/// Job that fails (its pod cannot be scheduled before its deadline) fails
/// its unit with the Job's reason.
#[test]
fn a_completed_job_makes_its_unit_ready_and_a_failed_one_fails_it_simulated_by_kwok() {
    let c = start_cluster();
    let job = |name: &str, extra: &str| {
        format!(
            "apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  backoffLimit: 0
{extra}  template:
    spec:
      restartPolicy: Never
      containers:
      - name: job
        image: registry.invalid/migrate:1
"
        )
    };
    let good = job("migrate", "");
    let bad = job("broken", "  activeDeadlineSeconds: 3\n").replace(
        "      restartPolicy: Never\n",
        "      restartPolicy: Never\n      nodeSelector: {no-such-node: \"true\"}\n",
    );
    let mut env = env_with(&[("migrate.yaml", &good), ("broken.yaml", &bad)]);
    env.write_manifest(&format!(
        "project \"jobs\"\n{}{}",
        kube_unit(&c, "migrate", &["migrate.yaml"], ""),
        kube_unit(&c, "broken", &["broken.yaml"], "")
    ));
    env.start_daemon();

    must(&env, &["start", "migrate"]);
    let s = status(&env, "migrate");
    assert_eq!(s["ready"], true, "{s}");
    let j = get(&c, &["job", "migrate"]).expect("the job");
    assert_eq!(j["status"]["succeeded"], 1, "{j}");

    let r = env.devctl(&["start", "broken"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    let s = status(&env, "broken");
    assert_eq!(field(&s, "active"), "failed", "{s}");
    assert_eq!(field(&s, "result"), "exit-code", "{s}");
    let log = logs(&env, "broken");
    assert!(log.contains("Job broken failed (DeadlineExceeded"), "{log}");
}

/// The API server's rejections fail the unit with its message and the
/// object named, exit 1: a field another manager owns (server-side apply
/// conflict) and an invalid object. Objects the failed start had created
/// are removed again.
#[test]
fn apply_errors_fail_the_unit_with_the_servers_message_and_nothing_half_applied_simulated_by_kwok()
{
    let c = start_cluster();
    let owned = c.dir().join("owned.yaml");
    std::fs::write(
        &owned,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: theirs\n",
    )
    .unwrap();
    kubectl(
        &c,
        &[
            "apply",
            "--server-side",
            "--field-manager=someone-else",
            "-f",
            &owned.display().to_string(),
        ],
    );
    let conflict = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fresh\ndata:\n  a: b\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: ours\n";
    let invalid = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad
spec:
  replicas: -1
  selector:
    matchLabels: {app: bad}
  template:
    metadata:
      labels: {app: bad}
    spec:
      containers:
      - name: bad
        image: registry.invalid/bad:1
";
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n";
    let bad_token = std::fs::read_to_string(c.kubeconfig())
        .unwrap()
        .lines()
        .map(|l| match l.trim_start().strip_prefix("token: ") {
            Some(_) => "    token: not-a-valid-token".to_owned(),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut env = env_with(&[
        ("conflict.yaml", conflict),
        ("invalid.yaml", invalid),
        ("widget.yaml", widget),
        ("stranger.kubeconfig", &bad_token),
    ]);
    let stranger = env.project_dir.join("stranger.kubeconfig");
    env.write_manifest(&format!(
        "project \"errs\"\n{}{}{}kubernetes \"stranger\" {{\n    manifests \"invalid.yaml\"\n    kubeconfig \"{}\"\n}}\n",
        kube_unit(&c, "conflict", &["conflict.yaml"], ""),
        kube_unit(&c, "invalid", &["invalid.yaml"], ""),
        kube_unit(&c, "widget", &["widget.yaml"], ""),
        stranger.display()
    ));
    env.start_daemon();

    let r = env.devctl(&["start", "conflict"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    let s = status(&env, "conflict");
    assert_eq!(field(&s, "active"), "failed", "{s}");
    assert_eq!(field(&s, "result"), "exec-failed", "{s}");
    let msg = field(&s, "message");
    assert!(msg.contains("applying ConfigMap default/settings"), "{msg}");
    assert!(
        msg.contains("conflict") && msg.contains("someone-else"),
        "{msg}"
    );
    let cm = get(&c, &["configmap", "settings"]).unwrap();
    assert_eq!(
        cm["data"]["mode"], "theirs",
        "the other manager's value stays"
    );
    assert!(
        get(&c, &["configmap", "fresh"]).is_none(),
        "what the failed start created is removed"
    );

    let r = env.devctl(&["start", "invalid"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    let msg = field(&status(&env, "invalid"), "message");
    assert!(msg.contains("applying Deployment default/bad"), "{msg}");
    assert!(
        msg.contains("spec.replicas") && msg.contains("Invalid value"),
        "{msg}"
    );

    let r = env.devctl(&["start", "widget"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    let s = status(&env, "widget");
    assert_eq!(field(&s, "result"), "exec-failed", "{s}");
    let msg = field(&s, "message");
    assert!(
        msg.contains("Widget w") && msg.contains("has no such kind"),
        "{msg}"
    );

    let r = env.devctl(&["start", "stranger"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    let s = status(&env, "stranger");
    assert_eq!(field(&s, "result"), "provider-unavailable", "{s}");
    let msg = field(&s, "message");
    assert!(msg.contains("refused devctl's credentials"), "{msg}");
    assert!(
        msg.contains("context `devctl-test`") && msg.contains(c.server()),
        "{msg}"
    );
}

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

/// An unreachable cluster or an unknown context fails only its unit
/// (`provider-unavailable`), naming context and server; a local service of
/// the same project runs. No control plane is needed to show it.
#[test]
fn an_unreachable_cluster_fails_only_its_unit_naming_context_and_server() {
    let port = free_port();
    let kubeconfig = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: gone
  cluster: {{server: 'https://127.0.0.1:{port}'}}
users:
- name: me
  user: {{token: t}}
contexts:
- name: far-away
  context: {{cluster: gone, user: me}}
current-context: far-away
"
    );
    // A server that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for conn in silent.incoming().flatten() {
            keep.lock().unwrap().push(conn);
        }
    });
    let mute = kubeconfig.replace(&format!(":{port}'"), &format!(":{silent_port}'"));
    let mut env = env_with(&[
        ("kubeconfig", &kubeconfig),
        ("mute.kubeconfig", &mute),
        ("settings.yaml", SETTINGS),
    ]);
    let kc = env.project_dir.join("kubeconfig");
    let mute_kc = env.project_dir.join("mute.kubeconfig");
    env.write_manifest(&format!(
        r#"project "far"
kubernetes "remote" {{
    manifests "settings.yaml"
    kubeconfig "{kc}"
}}
kubernetes "nowhere" {{
    manifests "settings.yaml"
    kubeconfig "{kc}"
    context "no-such-context"
}}
kubernetes "mute" {{
    manifests "settings.yaml"
    kubeconfig "{mute}"
}}
service "local" {{
    sh "exec sleep 300"
}}
"#,
        kc = kc.display(),
        mute = mute_kc.display()
    ));
    env.start_daemon();
    let r = env.devctl(&["up"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    let s = status(&env, "remote");
    assert_eq!(field(&s, "active"), "failed", "{s}");
    assert_eq!(field(&s, "result"), "provider-unavailable", "{s}");
    let msg = field(&s, "message");
    assert!(msg.contains("context `far-away`"), "{msg}");
    assert!(msg.contains(&format!("https://127.0.0.1:{port}")), "{msg}");
    let s = status(&env, "nowhere");
    assert_eq!(field(&s, "result"), "provider-unavailable", "{s}");
    assert!(field(&s, "message").contains("no-such-context"), "{s}");
    let s = status(&env, "mute");
    assert_eq!(field(&s, "result"), "provider-unavailable", "{s}");
    let msg = field(&s, "message");
    assert!(
        msg.contains("did not answer") && msg.contains(&format!(":{silent_port}")),
        "{msg}"
    );
    let s = status(&env, "local");
    assert_eq!(field(&s, "active"), "active", "{s}");
    must(&env, &["down"]);
    drop(held);
}

/// An image that does not build fails the unit before anything is
/// applied, with the build's error in its message and output in its log.
#[test]
fn an_image_that_does_not_build_fails_the_unit_before_anything_is_applied() {
    devctl_test_support::docker::require_engine();
    let mut env = env_with(&[
        ("settings.yaml", SETTINGS),
        ("img/Dockerfile", "FROM scratch\nCOPY no-such-file /x\n"),
    ]);
    env.write_manifest(
        r#"project "badimg"
kubernetes "app" {
    manifests "settings.yaml"
    kubeconfig "/nonexistent/kubeconfig"
    image "devctl-test/never" build="img"
}
"#,
    );
    env.start_daemon();
    let r = env.devctl(&["start", "app"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    let s = status(&env, "app");
    assert_eq!(field(&s, "result"), "exec-failed", "{s}");
    let msg = field(&s, "message");
    assert!(
        msg.contains("building the image devctl-test/never failed"),
        "{msg}"
    );
    assert!(
        logs(&env, "app").contains("no-such-file"),
        "{}",
        logs(&env, "app")
    );
}

/// `devctl check` reads a kubernetes unit's YAML offline: a missing file,
/// a YAML syntax error and an object without a name each get a problem
/// pointing into the YAML file; exit 65 as for an invalid manifest.
#[test]
fn check_points_into_the_yaml_files_of_kubernetes_units() {
    let broken = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n---\nkind: [unclosed\n";
    let env = env_with(&[("k8s/app.yaml", broken)]);
    env.write_manifest(
        r#"project "chk"
kubernetes "app" {
    manifests "k8s/app.yaml" "k8s/missing.yaml"
}
"#,
    );
    let r = env.devctl(&["check"]);
    assert_eq!(r.code, Some(65), "{r:?}");
    let err = &r.stderr;
    assert!(err.contains("3 errors"), "{err}");
    assert!(err.contains("missing.yaml"), "{err}");
    assert!(err.contains("document 2 has no `metadata.name`"), "{err}");
    assert!(err.contains("document 3 is not valid YAML"), "{err}");
    assert!(
        err.contains("app.yaml:6:1"),
        "the span names the line: {err}"
    );

    std::fs::write(
        env.project_dir.join("k8s/app.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n",
    )
    .unwrap();
    std::fs::write(env.project_dir.join("k8s/missing.yaml"), SETTINGS).unwrap();
    env.devctl(&["check"]).expect_code(0);
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
