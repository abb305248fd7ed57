//! `kubernetes` units end to end, applying and failing: the real `devctl`
//! and `devctld` against a real control plane (etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler) whose containers are simulated
//! by kwok (pods go Ready and Job pods complete by kwok's stages; nothing
//! is executed).
//!
//! Proven here: a unit is ready once its Deployment has rolled out through
//! the controller manager and scheduler (server-side apply under field
//! manager `devctl`, labels naming project, unit and run), a ConfigMap-only
//! unit is ready once applied, a Job that completes makes a unit ready and
//! one that fails fails it, the API server's rejections (field conflict,
//! validation, unknown kind, refused credentials) fail the unit naming the
//! object and leave nothing half-applied, `stop`/`down` delete exactly the
//! unit's objects, an unreachable, unknown or silent cluster fails only its
//! unit naming context and server, a failed image build fails the unit
//! before anything is applied, and `devctl check` points into the YAML.
//! The lifecycle across daemons, images, the example, logs and forwards
//! are in `k8s_provider_lifecycle.rs`.
//!
//! Tests that start a control plane have names ending in
//! `simulated_by_kwok` (the nextest group `k8s` runs them one at a time);
//! they fail, never skip, when it cannot be built or started.

use devctl_test_support::net::free_port;
use devctl_tests::k8s::units::{
    SETTINGS, WEB, env_with, get, kube_unit, kubectl_ok as kubectl, logs, must, start_cluster,
    unit_pods,
};
use devctl_tests::{field, status};

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
