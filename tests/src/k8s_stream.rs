//! Additions to the test cluster ([`crate::k8s::Cluster`]) for the log and
//! port-forward streams: manifests applied from text, container logs the
//! test writes (CRI format, served by kwok's `Logs`/`ClusterLogs`), and an
//! echo server on 127.0.0.1 where kwok's `ClusterPortForward` ends a
//! forward.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use crate::k8s::Cluster;

/// Apply `yaml` server-side (written to `name` in the cluster's directory);
/// panics with kubectl's message on failure.
pub fn apply(cluster: &Cluster, name: &str, yaml: &str) {
    let file = cluster.dir().join(name);
    std::fs::write(&file, yaml).expect("write manifest");
    let file = file.display().to_string();
    let args = [
        "apply",
        "--server-side",
        "--field-manager=devctl-tests",
        "-f",
        &file,
    ];
    if let Err(e) = cluster.kubectl(&args) {
        panic!("{e}");
    }
}

/// Run `kubectl ARGS`; panics with its message on failure.
pub fn kubectl(cluster: &Cluster, args: &[&str]) -> String {
    cluster.kubectl(args).unwrap_or_else(|e| panic!("{e}"))
}

/// A container log file the test writes, one CRI line per call.
pub struct LogFile {
    path: PathBuf,
}

/// Distinct, increasing timestamps for written lines (the content of a
/// simulated log is the test's, its clock too).
static STAMP: AtomicU64 = AtomicU64::new(0);

impl LogFile {
    /// An empty log at `name` in the cluster's directory.
    pub fn create(cluster: &Cluster, name: &str) -> LogFile {
        let path = cluster.dir().join(name);
        std::fs::write(&path, "").expect("create log file");
        LogFile { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append `lines`, each as a stdout line of the container.
    pub fn append(&self, lines: &[&str]) {
        let mut text = String::new();
        for line in lines {
            let n = STAMP.fetch_add(1, Ordering::Relaxed);
            let (secs, nanos) = (n / 1000, (n % 1000) * 1_000_000);
            let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
            text.push_str(&format!(
                "2026-01-01T{h:02}:{m:02}:{s:02}.{nanos:09}Z stdout F {line}\n"
            ));
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .expect("append to the log file");
    }
}

/// kwok serves `log` (followed) as container `container`'s log of every pod
/// in `namespace` (a `ClusterLogs` object named `name`).
pub fn serve_logs(cluster: &Cluster, name: &str, namespace: &str, container: &str, log: &LogFile) {
    apply(
        cluster,
        &format!("{name}.yaml"),
        &format!(
            "apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: {name}
spec:
  selector:
    matchNamespaces: [{namespace}]
  logs:
  - containers: [{container}]
    logsFile: {}
    follow: true
",
            log.path().display()
        ),
    );
}

/// kwok serves `log` as the log of every container of the one pod `pod`
/// (a `Logs` object, which may exist before the pod).
pub fn serve_pod_log(cluster: &Cluster, namespace: &str, pod: &str, log: &LogFile) {
    apply(
        cluster,
        &format!("{pod}-logs.yaml"),
        &format!(
            "apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata:
  name: {pod}
  namespace: {namespace}
spec:
  logs:
  - logsFile: {}
    follow: true
",
            log.path().display()
        ),
    );
}

/// kwok ends a forward to `port` of every pod in `namespace` at
/// 127.0.0.1:`to` (a `ClusterPortForward` object named `name`).
pub fn forward_port(cluster: &Cluster, name: &str, namespace: &str, port: u16, to: u16) {
    apply(
        cluster,
        &format!("{name}.yaml"),
        &format!(
            "apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata:
  name: {name}
spec:
  selector:
    matchNamespaces: [{namespace}]
  forwards:
  - ports: [{port}]
    target:
      address: 127.0.0.1
      port: {to}
"
        ),
    );
}

/// A Deployment `name` of `replicas` pods labelled `app: NAME`, one
/// container `NAME` listening on `port`.
pub fn deployment(name: &str, replicas: u32, port: u16) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: {name}
        image: registry.invalid/{name}:1
        ports:
        - name: http
          containerPort: {port}
"
    )
}

/// An echo server on 127.0.0.1 standing in for a container's socket: it
/// answers each line with `echo: LINE` and reports the line.
pub fn echo_server() -> (u16, mpsc::Receiver<String>) {
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

/// A sink server on 127.0.0.1 for throughput: each connection sends a
/// byte count on a line, then that many bytes, which are dropped; the
/// server answers the count once they are all in. (A port-forward carries
/// no half-close, so the length comes first.)
pub fn count_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind count server");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut writer = conn.try_clone().expect("clone stream");
                let mut reader = BufReader::with_capacity(256 * 1024, conn);
                let mut header = String::new();
                if reader.read_line(&mut header).is_err() {
                    return;
                }
                let Ok(want) = header.trim().parse::<u64>() else {
                    return;
                };
                let got = std::io::copy(&mut reader.by_ref().take(want), &mut std::io::sink())
                    .unwrap_or(0);
                let _ = writer.write_all(format!("{got}\n").as_bytes());
            });
        }
    });
    port
}
