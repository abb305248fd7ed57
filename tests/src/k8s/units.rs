//! Helpers for the tests of `kubernetes` units: a project directory with
//! manifests, units that reach the test cluster, objects read back with
//! kubectl, and verbs that must succeed (showing the logs when not).

use std::time::Duration;

use super::Cluster;
use crate::TestEnv;

/// Rollouts go through three Go servers on a loaded two-core machine.
pub const K8S_CEILING: Duration = Duration::from_secs(120);

pub fn start_cluster() -> Cluster {
    Cluster::start().unwrap_or_else(|e| panic!("{e}"))
}

pub fn kubectl_ok(c: &Cluster, args: &[&str]) -> String {
    c.kubectl(args).unwrap_or_else(|e| panic!("{e}"))
}

/// `kubectl get ARGS -o json`, or `None` when the object does not exist.
pub fn get(c: &Cluster, args: &[&str]) -> Option<serde_json::Value> {
    let mut all = vec!["get", "--ignore-not-found"];
    all.extend_from_slice(args);
    all.extend(["-o", "json"]);
    let out = kubectl_ok(c, &all);
    if out.trim().is_empty() {
        return None;
    }
    Some(serde_json::from_str(&out).unwrap_or_else(|e| panic!("kubectl {args:?} ({e}): {out}")))
}

/// Names of the pods carrying the unit's label.
pub fn unit_pods(c: &Cluster, unit: &str) -> Vec<String> {
    let sel = format!("-l=devctl.dev/unit={unit}");
    let out = kubectl_ok(c, &["get", "pods", "-A", &sel, "-o", "json"]);
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
pub fn env_with(files: &[(&str, &str)]) -> TestEnv {
    let env = TestEnv::new();
    for (name, text) in files {
        let p = env.project_dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    env
}

/// A `kubernetes` unit reaching the test cluster.
pub fn kube_unit(c: &Cluster, name: &str, manifests: &[&str], extra: &str) -> String {
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

pub const WEB: &str = "apiVersion: apps/v1
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

pub const SETTINGS: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: shared-settings
data:
  mode: dev
";

pub fn logs(env: &TestEnv, unit: &str) -> String {
    env.devctl(&["logs", unit]).stdout.clone()
}

/// `devctl VERB UNITS…` that must succeed; on failure the panic shows the
/// units' logs and the daemon's.
pub fn must(env: &TestEnv, args: &[&str]) {
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
