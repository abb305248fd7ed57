//! The Kubernetes provider's streams against a real control plane (etcd,
//! kube-apiserver, controller manager, scheduler), container execution
//! simulated by kwok: log content comes from files the test writes, a
//! port-forward ends at an echo server the test runs on 127.0.0.1, both
//! through the API server's streaming endpoints. Fails, never skips, when
//! the control plane cannot be built or started.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use devctl_supervisord::providers::kubernetes::stream::{
    ForwardError, ForwardSpec, ForwardState, LogRecord, LogsSpec, ObjectRef, PodLogs, PortForward,
    Target,
};
use devctl_tests::k8s::Cluster;
use devctl_tests::k8s_stream::{
    LogFile, apply, deployment, echo_server, forward_port, kubectl, serve_logs, serve_pod_log,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, watch};

const CEILING: Duration = Duration::from_secs(120);

fn start() -> Cluster {
    Cluster::start().unwrap_or_else(|e| panic!("{e}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

async fn client(cluster: &Cluster) -> kube::Client {
    let config = kube::config::Kubeconfig::read_from(cluster.kubeconfig()).expect("kubeconfig");
    let config =
        kube::Config::from_custom_kubeconfig(config, &kube::config::KubeConfigOptions::default())
            .await
            .expect("client config");
    kube::Client::try_from(config).expect("client")
}

/// Receive records into `seen` until `done(seen)`; panics naming `what`
/// and what was seen after [`CEILING`].
async fn collect(
    rx: &mut mpsc::Receiver<LogRecord>,
    seen: &mut Vec<LogRecord>,
    what: &str,
    done: impl Fn(&[LogRecord]) -> bool,
) {
    let deadline = tokio::time::Instant::now() + CEILING;
    while !done(seen) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(record)) => seen.push(record),
            Ok(None) => panic!("the log stream closed while waiting for {what}; seen: {seen:#?}"),
            Err(_) => panic!("timed out after {CEILING:?} waiting for {what}; seen: {seen:#?}"),
        }
    }
}

/// Lines per pod (container `container` only).
fn lines_by_pod(seen: &[LogRecord], container: &str) -> BTreeMap<String, Vec<String>> {
    let mut by_pod: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in seen {
        if let LogRecord::Line {
            pod,
            container: c,
            text,
        } = r
            && c == container
        {
            by_pod.entry(pod.clone()).or_default().push(text.clone());
        }
    }
    by_pod
}

fn pod_names(cluster: &Cluster, selector: &str) -> BTreeSet<String> {
    kubectl(cluster, &["get", "pods", "-l", selector, "-o", "name"])
        .lines()
        .filter_map(|l| l.strip_prefix("pod/").map(str::to_owned))
        .collect()
}

#[test]
fn logs_of_every_pod_of_a_rollout_and_of_pods_added_later_arrive_tagged_by_pod_simulated_by_kwok() {
    let cluster = start();
    let c = &cluster;
    let log = LogFile::create(c, "web.log");
    log.append(&["first line", "second line"]);
    serve_logs(c, "web-logs", "default", "web", &log);
    let extra_log = LogFile::create(c, "web-extra.log");
    extra_log.append(&["only web-extra writes this"]);
    serve_pod_log(c, "default", "web-extra", &extra_log);

    runtime().block_on(async {
        let (tx, mut rx) = mpsc::channel(1024);
        let logs = PodLogs::start(
            client(c).await,
            LogsSpec {
                namespace: "default".into(),
                selector: "app=web".into(),
                events_for: vec![ObjectRef::new("Deployment", "web")],
                events_since: None,
            },
            tx,
        );
        let mut seen = Vec::new();

        // Every pod of a 3-replica rollout, each line tagged with its pod.
        apply(c, "web.yaml", &deployment("web", 3, 8080));
        collect(&mut rx, &mut seen, "both lines from three pods", |s| {
            let by_pod = lines_by_pod(s, "web");
            by_pod.len() == 3 && by_pod.values().all(|l| l.len() >= 2)
        })
        .await;
        let rollout = pod_names(c, "app=web");
        let by_pod = lines_by_pod(&seen, "web");
        assert_eq!(by_pod.keys().cloned().collect::<BTreeSet<_>>(), rollout);
        for (pod, lines) in &by_pod {
            assert_eq!(lines, &["first line", "second line"], "pod {pod}");
        }
        // The Deployment's own events come as markers.
        collect(&mut rx, &mut seen, "the Deployment's scaling event", |s| {
            s.iter().any(|r| matches!(r, LogRecord::Event(e)
                if e.reason == "ScalingReplicaSet" && e.object == "deployment/web"))
        })
        .await;

        // Following: a line written now reaches every pod's stream once.
        log.append(&["appended while followed"]);
        collect(&mut rx, &mut seen, "the appended line from three pods", |s| {
            lines_by_pod(s, "web")
                .values()
                .filter(|l| l.last().map(String::as_str) == Some("appended while followed"))
                .count()
                == 3
        })
        .await;

        // A pod that appears later is followed, with its own content.
        apply(
            c,
            "web-extra.yaml",
            "apiVersion: v1
kind: Pod
metadata:
  name: web-extra
  labels: {app: web}
spec:
  containers:
  - name: web
    image: registry.invalid/web:1
",
        );
        collect(&mut rx, &mut seen, "the later pod's own line", |s| {
            lines_by_pod(s, "web").get("web-extra").map(Vec::as_slice)
                == Some(&["only web-extra writes this".to_owned()][..])
        })
        .await;

        // A Job's pod runs and completes at once (kwok's stages): its log
        // still arrives.
        apply(
            c,
            "batch.yaml",
            "apiVersion: batch/v1
kind: Job
metadata:
  name: web-batch
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      restartPolicy: Never
      containers:
      - name: web
        image: registry.invalid/web:1
",
        );
        collect(&mut rx, &mut seen, "the short-lived Job pod's lines", |s| {
            lines_by_pod(s, "web")
                .iter()
                .any(|(pod, lines)| pod.starts_with("web-batch-") && lines.len() >= 3)
        })
        .await;

        // A pod that cannot be scheduled: the scheduler's event is a marker.
        apply(
            c,
            "web-nowhere.yaml",
            "apiVersion: v1
kind: Pod
metadata:
  name: web-nowhere
  labels: {app: web}
spec:
  nodeSelector: {devctl-test/no-such-node: \"true\"}
  containers:
  - name: web
    image: registry.invalid/web:1
",
        );
        collect(&mut rx, &mut seen, "FailedScheduling for web-nowhere", |s| {
            s.iter().any(|r| matches!(r, LogRecord::Event(e)
                if e.reason == "FailedScheduling" && e.object == "pod/web-nowhere"
                    && e.severity == "Warning" && e.to_string().starts_with("Warning FailedScheduling pod/web-nowhere: ")))
        })
        .await;

        // No line was delivered twice: each pod saw each line once.
        for (pod, lines) in lines_by_pod(&seen, "web") {
            let unique: BTreeSet<&String> = lines.iter().collect();
            assert_eq!(unique.len(), lines.len(), "pod {pod} repeated lines: {lines:?}");
        }

        // Dropping stops every stream: the sink closes.
        drop(logs);
        let closed = tokio::time::timeout(CEILING, async {
            while rx.recv().await.is_some() {}
        })
        .await;
        assert!(closed.is_ok(), "the sink stayed open after drop");
    });
}

/// Wait until the forward's state satisfies `want`; the state then.
async fn state_until(
    state: &mut watch::Receiver<ForwardState>,
    what: &str,
    want: impl Fn(&ForwardState) -> bool,
) -> ForwardState {
    let reached = tokio::time::timeout(CEILING, state.wait_for(|s| want(s)))
        .await
        .map(|r| r.map(|s| s.clone()));
    match reached {
        Ok(Ok(s)) => s,
        _ => panic!("timed out waiting for {what}; state: {:?}", *state.borrow()),
    }
}

fn forwarding(s: &ForwardState) -> Option<&str> {
    match s {
        ForwardState::Forwarding { pod } => Some(pod),
        _ => None,
    }
}

/// One line through the forward and its echo back.
async fn round_trip(port: u16, line: &str) {
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to the forwarded port");
    conn.write_all(format!("{line}\n").as_bytes())
        .await
        .expect("write");
    let mut reply = String::new();
    tokio::time::timeout(CEILING, BufReader::new(&mut conn).read_line(&mut reply))
        .await
        .expect("a reply in time")
        .expect("read the reply");
    assert_eq!(reply, format!("echo: {line}\n"));
}

#[test]
fn a_port_forward_carries_bytes_and_moves_to_the_replacement_pod_when_its_pod_is_deleted_simulated_by_kwok()
 {
    let cluster = start();
    let c = &cluster;
    let (echo_port, answered) = echo_server();
    forward_port(c, "web-forward", "default", 8080, echo_port);
    apply(c, "web.yaml", &deployment("web", 1, 8080));
    apply(
        c,
        "web-service.yaml",
        "apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: http
",
    );

    runtime().block_on(async {
        let client = client(c).await;
        let spec = |target: Target, remote_port| ForwardSpec {
            namespace: "default".into(),
            target,
            local_port: 0,
            remote_port,
        };
        let forward =
            PortForward::start(client.clone(), spec(Target::Deployment("web".into()), 8080))
                .await
                .expect("start the forward");
        let port = forward.local_addr().port();
        let mut state = forward.state();
        let first = state_until(&mut state, "forwarding to a pod", |s| {
            forwarding(s).is_some()
        })
        .await;
        let first = forwarding(&first).expect("forwarding").to_owned();
        assert_eq!(pod_names(c, "app=web"), BTreeSet::from([first.clone()]));

        round_trip(port, "through the API server").await;
        assert_eq!(
            answered
                .recv_timeout(CEILING)
                .expect("the echo server saw it"),
            "through the API server"
        );

        // The pod goes away; the ReplicaSet makes another, the forward
        // moves to it by itself, on the same local port.
        kubectl(c, &["delete", "pod", &first, "--wait=false"]);
        let second = state_until(&mut state, "forwarding to the replacement", |s| {
            forwarding(s).is_some_and(|p| p != first)
        })
        .await;
        let second = forwarding(&second).expect("forwarding").to_owned();
        assert!(pod_names(c, "app=web").contains(&second));
        round_trip(port, "after the pod was replaced").await;

        // A Service resolves through its selector, its port through the
        // named target port.
        let by_service =
            PortForward::start(client.clone(), spec(Target::Service("web".into()), 80))
                .await
                .expect("start the service forward");
        let mut service_state = by_service.state();
        state_until(&mut service_state, "the service forward", |s| {
            forwarding(s) == Some(&second)
        })
        .await;
        round_trip(by_service.local_addr().port(), "through the service").await;

        // A Service port that does not exist fails the forward, saying so.
        let no_port = PortForward::start(client.clone(), spec(Target::Service("web".into()), 9999))
            .await
            .expect("start the forward");
        let failed = state_until(&mut no_port.state(), "a failed forward", |s| {
            matches!(s, ForwardState::Failed { .. })
        })
        .await;
        assert_eq!(
            failed,
            ForwardState::Failed {
                reason: "service/web has no port 9999".into()
            }
        );

        // A taken local port is refused, naming the process holding it.
        let taken = PortForward::start(
            client.clone(),
            ForwardSpec {
                local_port: port,
                ..spec(Target::Pod(second.clone()), 8080)
            },
        )
        .await;
        match taken {
            Err(ForwardError::PortInUse { port: p, holder }) => {
                assert_eq!(p, port);
                assert_eq!(holder.map(|h| h.pid), Some(std::process::id() as i32));
            }
            Err(e) => panic!("expected port-in-use, got {e:?}"),
            Ok(_) => panic!("a forward started on a taken port"),
        }

        // Dropping the forward closes its port.
        drop(forward);
        let closed = tokio::time::timeout(CEILING, async {
            while tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(closed.is_ok(), "127.0.0.1:{port} still accepts after drop");
    });
}
