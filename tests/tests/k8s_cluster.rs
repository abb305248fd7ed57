//! The ground the Kubernetes provider stands on: a real control plane
//! (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) with
//! container execution simulated by kwok, driven here through kubectl.
//! Fails, never skips, when the control plane cannot be built or started.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use devctl_tests::k8s::{Cluster, NODE};
use devctl_tests::{last_resort_cleanup, marked_pids, wait_until};

const CEILING: Duration = Duration::from_secs(120);

fn start() -> Cluster {
    Cluster::start().unwrap_or_else(|e| panic!("{e}"))
}

fn kubectl(c: &Cluster, args: &[&str]) -> String {
    c.kubectl(args).unwrap_or_else(|e| panic!("{e}"))
}

fn kubectl_json(c: &Cluster, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let out = kubectl(c, &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("kubectl {args:?} -o json ({e}): {out}"))
}

/// Apply `yaml` (written to a file in the cluster's directory) server-side.
fn apply(c: &Cluster, name: &str, yaml: &str) {
    let file = c.dir().join(name);
    std::fs::write(&file, yaml).expect("write manifest");
    kubectl(
        c,
        &[
            "apply",
            "--server-side",
            "--field-manager=devctl-tests",
            "-f",
            &file.display().to_string(),
        ],
    );
}

/// A one-line-at-a-time echo server on 127.0.0.1 standing in for the
/// container's listening socket; it reports each line it answered.
fn echo_server() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind echo server");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut writer = conn.try_clone().expect("clone stream");
                for line in BufReader::new(conn).lines().map_while(Result::ok) {
                    if writer
                        .write_all(format!("echo: {line}\n").as_bytes())
                        .is_err()
                    {
                        break;
                    }
                    let _ = tx.send(line);
                }
            });
        }
    });
    (port, rx)
}

/// `kubectl port-forward` to `pod`'s port 8080 on a free local port; the
/// child (killed by the caller) and the local port it printed.
fn port_forward(c: &Cluster, pod: &str) -> (Child, u16) {
    let mut cmd: Command = c.kubectl_command();
    cmd.args([
        "port-forward",
        "--address=127.0.0.1",
        &format!("pod/{pod}"),
        ":8080",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    last_resort_cleanup(&mut cmd);
    let mut child = cmd.spawn().expect("spawn kubectl port-forward");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    // "Forwarding from 127.0.0.1:PORT -> 8080"; EOF means kubectl failed.
    if out.read_line(&mut line).expect("read port-forward") == 0 {
        let mut err = String::new();
        let _ = child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err);
        let _ = child.wait();
        panic!("kubectl port-forward printed nothing; stderr: {err}");
    }
    let port = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("127.0.0.1:"))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no local port in {line:?}"));
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, port)
}

#[test]
fn a_control_plane_that_cannot_be_built_fails_with_the_build_scripts_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").expect("write");
    let cache = file.join("cache");

    let err = devctl_tests::k8s::build_in(&cache).expect_err("a cache under a file cannot be made");
    assert_eq!(err.step, "build");
    let shown = err.to_string();
    assert!(shown.contains("k8s-build exited with"), "{shown}");
    assert!(
        shown.contains(&cache.display().to_string()),
        "the reason names the cache: {shown}"
    );
    assert!(
        shown.contains("Not a directory"),
        "the reason is the script's: {shown}"
    );
}

#[test]
fn deployment_rolls_out_and_streams_logs_and_port_forwards_through_a_real_control_plane_with_containers_simulated_by_kwok()
 {
    let cluster = start();
    let c = &cluster;

    // The container's log is a file the test writes (CRI log format); kwok
    // serves it for every pod of the namespace.
    let log = c.dir().join("web.log");
    std::fs::write(
        &log,
        "2026-01-01T00:00:00.000000001Z stdout F first line from the test's file\n\
         2026-01-01T00:00:00.000000002Z stderr F second line, on stderr\n",
    )
    .expect("write log file");
    let (echo_port, answered) = echo_server();
    apply(
        c,
        "kwok-streams.yaml",
        &format!(
            "apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: web-logs
spec:
  selector:
    matchNamespaces: [default]
  logs:
  - containers: [web]
    logsFile: {log}
    follow: true
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata:
  name: web-forward
spec:
  selector:
    matchNamespaces: [default]
  forwards:
  - ports: [8080]
    target:
      address: 127.0.0.1
      port: {echo_port}
",
            log = log.display()
        ),
    );

    apply(
        c,
        "web.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
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
",
    );
    kubectl(
        c,
        &[
            "wait",
            "--for=condition=Available",
            "deployment/web",
            "--timeout=120s",
        ],
    );

    let deployment = kubectl_json(c, &["get", "deployment", "web"]);
    assert_eq!(
        deployment["status"]["availableReplicas"], 3,
        "{deployment:#}"
    );
    assert_eq!(deployment["status"]["updatedReplicas"], 3, "{deployment:#}");

    // The controller manager made one ReplicaSet owned by the Deployment…
    let sets = kubectl_json(c, &["get", "replicasets", "-l", "app=web"]);
    let sets = sets["items"].as_array().expect("items");
    assert_eq!(sets.len(), 1, "{sets:#?}");
    assert_eq!(
        sets[0]["metadata"]["ownerReferences"][0]["kind"],
        "Deployment"
    );
    assert_eq!(sets[0]["status"]["readyReplicas"], 3, "{:#}", sets[0]);
    let set_name = sets[0]["metadata"]["name"]
        .as_str()
        .expect("name")
        .to_owned();

    // …whose three pods the scheduler bound to kwok's node, where kwok's
    // stages made them Running and Ready.
    let pods = wait_until("three Ready pods of web", CEILING, || {
        let pods = kubectl_json(c, &["get", "pods", "-l", "app=web"]);
        let pods = pods["items"].as_array().cloned().unwrap_or_default();
        let ready = |p: &serde_json::Value| {
            p["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
        };
        (pods.len() == 3 && pods.iter().all(ready)).then_some(pods)
    });
    for pod in &pods {
        assert_eq!(pod["spec"]["nodeName"], NODE, "{pod:#}");
        assert_eq!(pod["status"]["phase"], "Running", "{pod:#}");
        assert_eq!(
            pod["metadata"]["ownerReferences"][0]["name"],
            set_name.as_str()
        );
    }
    let names: Vec<String> = pods
        .iter()
        .map(|p| p["metadata"]["name"].as_str().expect("pod name").to_owned())
        .collect();

    // Logs of every pod come through the API server's log endpoint from
    // kwok's kubelet endpoint, which reads the test's file.
    for name in &names {
        let logs = kubectl(c, &["logs", &format!("pod/{name}"), "-c", "web"]);
        assert_eq!(
            logs, "first line from the test's file\nsecond line, on stderr\n",
            "pod {name}"
        );
    }

    // Following a log streams what is appended to the file afterwards.
    let mut follow = c.kubectl_command();
    follow
        .args([
            "logs",
            "--follow",
            &format!("pod/{}", names[1]),
            "-c",
            "web",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    last_resort_cleanup(&mut follow);
    let mut follow = follow.spawn().expect("spawn kubectl logs --follow");
    let (lines_tx, lines) = mpsc::channel();
    let out = follow.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    for want in ["first line from the test's file", "second line, on stderr"] {
        assert_eq!(lines.recv_timeout(CEILING).expect("a followed line"), want);
    }
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .and_then(|mut f| {
            f.write_all(b"2026-01-01T00:00:01.000000000Z stdout F appended while followed\n")
        })
        .expect("append to the log file");
    assert_eq!(
        lines
            .recv_timeout(CEILING)
            .expect("the appended line, followed"),
        "appended while followed"
    );
    let _ = follow.kill();
    let _ = follow.wait();

    // A port-forward through the API server ends at the test's server.
    let (mut forward, local) = port_forward(c, &names[0]);
    let mut conn = TcpStream::connect(("127.0.0.1", local)).expect("connect to the forwarded port");
    conn.set_read_timeout(Some(CEILING)).expect("timeout");
    conn.write_all(b"ping through the API server\n")
        .expect("write");
    let mut reply = String::new();
    BufReader::new(&conn)
        .read_line(&mut reply)
        .expect("read the reply");
    assert_eq!(reply, "echo: ping through the API server\n");
    assert_eq!(
        answered
            .recv_timeout(CEILING)
            .expect("the test's server saw the line"),
        "ping through the API server"
    );
    let _ = forward.kill();
    let _ = forward.wait();

    // Tearing the cluster down leaves none of its processes behind.
    let marker = cluster.marker().to_owned();
    drop(cluster);
    let left = marked_pids(&marker);
    assert!(
        left.is_empty(),
        "control plane processes left after drop: {left:?}"
    );
}
