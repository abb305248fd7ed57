//! Scenario `k8s`: devctl's Kubernetes streams against `kubectl` on the
//! same real control plane (the test cluster of `devctl-tests`: etcd,
//! kube-apiserver, controller manager, scheduler; containers simulated by
//! kwok, which ends port-forwards at servers on 127.0.0.1 and serves log
//! files, both through the API server's streaming endpoints).
//!
//! Figures, median (min–max) of `--reps` runs, devctl beside kubectl:
//! - port-forward throughput: `--mb` MiB over one connection to a server
//!   that counts them (devctl's [`PortForward`] vs `kubectl port-forward`);
//! - port-forward reconnect: the forwarded pod deleted; time from the
//!   replacement pod being Ready (seen by the harness's own watch) until a
//!   round trip through the same local port succeeds again. kubectl does
//!   not reconnect by itself, so its side is the usual workaround, a shell
//!   loop that restarts `kubectl port-forward`;
//! - log lines/s from `--pods` pods, each serving `--lines` 100-byte lines
//!   ([`PodLogs`] vs `kubectl logs -f -l`), from start until every line is
//!   in;
//! - apply → ready of 10 Deployments of 2 pods: `devctl start` of a
//!   `kubernetes` unit holding them (the real `devctl` and `devctld`; the
//!   start returns once every Deployment is rolled out) against
//!   `kubectl apply --server-side` then `kubectl rollout status` of each.
//!   Between reps both delete the Deployments and wait until their pods
//!   are gone.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader as StdBufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use devctl_supervisord::providers::kubernetes::stream::{
    ForwardSpec, ForwardState, LogRecord, LogsSpec, PodLogs, PortForward, Target,
};
use devctl_tests::k8s::Cluster;
use devctl_tests::k8s_stream::{
    LogFile, apply, count_server, deployment, echo_server, forward_port, serve_logs,
};
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::DeleteParams;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::devctl_side::Devctl;
use crate::report::{fmt_num, median};
use crate::stats;

/// Ceiling for any one wait of the scenario.
const CEILING: Duration = Duration::from_secs(120);
/// Bytes of one log line, newline included (as in the `logs` scenario).
const LINE_BYTES: usize = 100;

/// One figure: samples for devctl and for kubectl.
struct Figure {
    name: &'static str,
    unit: &'static str,
    devctl: Vec<f64>,
    kubectl: Vec<f64>,
}

impl Figure {
    fn new(name: &'static str, unit: &'static str) -> Figure {
        Figure {
            name,
            unit,
            devctl: Vec::new(),
            kubectl: Vec::new(),
        }
    }

    fn cell(xs: &[f64]) -> String {
        let min = xs.iter().copied().reduce(f64::min);
        let max = xs.iter().copied().reduce(f64::max);
        match (median(xs), min, max) {
            (Some(m), Some(lo), Some(hi)) => format!(
                "{} ({}–{})",
                fmt_num(Some(m)),
                fmt_num(Some(lo)),
                fmt_num(Some(hi))
            ),
            _ => "-".into(),
        }
    }

    fn row(&self) -> String {
        let ratio = match (median(&self.devctl), median(&self.kubectl)) {
            (Some(d), Some(k)) if k != 0.0 => format!("{d:.2}×", d = d / k),
            _ => "-".into(),
        };
        format!(
            "| {} ({}) | {} | {} | {} |",
            self.name,
            self.unit,
            Figure::cell(&self.devctl),
            Figure::cell(&self.kubectl),
            ratio
        )
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    let reps = stats::flag(args, "--reps", 5)?;
    let mib = stats::flag(args, "--mb", 64)?;
    let pods = stats::flag(args, "--pods", 10)?;
    let lines = stats::flag(args, "--lines", 20_000)?;
    eprintln!("k8s: starting the control plane");
    let started = Instant::now();
    let cluster = Cluster::start().map_err(|e| e.to_string())?;
    eprintln!("k8s: control plane up in {:.1?}", started.elapsed());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let figures = rt.block_on(measure(&cluster, reps, mib, pods, lines))?;
    println!(
        "\nk8s scenario: {reps} reps, {mib} MiB per transfer, {pods} pods × {lines} log lines\n"
    );
    println!("| figure | devctl | kubectl | devctl/kubectl |");
    println!("|---|---:|---:|---:|");
    for f in &figures {
        println!("{}", f.row());
    }
    Ok(())
}

async fn client(cluster: &Cluster) -> Result<Client, String> {
    let config = kube::config::Kubeconfig::read_from(cluster.kubeconfig())
        .map_err(|e| format!("kubeconfig: {e}"))?;
    let config =
        kube::Config::from_custom_kubeconfig(config, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| format!("kubeconfig: {e}"))?;
    Client::try_from(config).map_err(|e| format!("client: {e}"))
}

fn kubectl(cluster: &Cluster, args: &[&str]) -> Result<String, String> {
    cluster.kubectl(args)
}

async fn measure(
    cluster: &Cluster,
    reps: usize,
    mib: usize,
    pods: usize,
    lines: usize,
) -> Result<Vec<Figure>, String> {
    let client = client(cluster).await?;
    let mut out = Vec::new();

    // Port-forward: one pod, its port 8080 ending at a counting server,
    // port 8081 at an echo server.
    let count = count_server();
    let (echo, _answered) = echo_server();
    forward_port(cluster, "fwd-count", "default", 8080, count);
    forward_port(cluster, "fwd-echo", "default", 8081, echo);
    apply(cluster, "fwd.yaml", &deployment("fwd", 1, 8080));
    kubectl(
        cluster,
        &["rollout", "status", "deployment/fwd", "--timeout=120s"],
    )?;
    out.push(throughput(cluster, &client, reps, mib).await?);
    out.push(reconnect(cluster, &client, reps).await?);

    out.push(logs(cluster, &client, reps, pods, lines).await?);
    out.push(apply_ready(cluster, reps)?);
    Ok(out)
}

/// A devctl forward of `deployment/fwd` port `remote`, once forwarding.
async fn devctl_forward(client: &Client, remote: u16) -> Result<PortForward, String> {
    let forward = PortForward::start(
        client.clone(),
        ForwardSpec {
            namespace: "default".into(),
            target: Target::Deployment("fwd".into()),
            local_port: 0,
            remote_port: remote,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut state = forward.state();
    tokio::time::timeout(
        CEILING,
        state.wait_for(|s| matches!(s, ForwardState::Forwarding { .. })),
    )
    .await
    .map_err(|_| format!("forward never ready: {:?}", *forward.state().borrow()))?
    .map_err(|e| e.to_string())?;
    Ok(forward)
}

/// `kubectl port-forward deployment/fwd :REMOTE`: the child and its port.
fn kubectl_forward(cluster: &Cluster, remote: u16) -> Result<(Child, u16), String> {
    let mut cmd = cluster.kubectl_command();
    cmd.args([
        "port-forward",
        "--address=127.0.0.1",
        "deployment/fwd",
        &format!(":{remote}"),
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .process_group(0);
    let mut child = cmd.spawn().map_err(|e| format!("kubectl: {e}"))?;
    let mut out = StdBufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line)
        .map_err(|e| format!("kubectl port-forward: {e}"))?;
    let port = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("127.0.0.1:"))
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("kubectl port-forward printed {line:?}"))?;
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Ok((child, port))
}

fn kill(mut child: Child) {
    let group = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
}

/// Send `bytes` through 127.0.0.1:`port` to the counting server; MiB/s.
async fn push(port: u16, bytes: usize) -> Result<f64, String> {
    let start = Instant::now();
    let mut conn = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    conn.write_all(format!("{bytes}\n").as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let chunk = vec![0x5a_u8; 256 * 1024];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        conn.write_all(&chunk[..n])
            .await
            .map_err(|e| format!("write: {e}"))?;
        left -= n;
    }
    let mut reply = String::new();
    tokio::time::timeout(CEILING, BufReader::new(&mut conn).read_line(&mut reply))
        .await
        .map_err(|_| "no count back".to_owned())?
        .map_err(|e| format!("read: {e}"))?;
    if reply.trim() != bytes.to_string() {
        return Err(format!("the server counted {reply:?} of {bytes} bytes"));
    }
    Ok(bytes as f64 / (1 << 20) as f64 / start.elapsed().as_secs_f64())
}

async fn throughput(
    cluster: &Cluster,
    client: &Client,
    reps: usize,
    mib: usize,
) -> Result<Figure, String> {
    let mut f = Figure::new("port-forward throughput, one connection", "MiB/s");
    let ours = devctl_forward(client, 8080).await?;
    let (theirs, their_port) = kubectl_forward(cluster, 8080)?;
    let bytes = mib << 20;
    for rep in 0..reps {
        // Alternate who goes first, so neither always meets a warm path.
        for devctl_first in [rep % 2 == 0, rep % 2 != 0] {
            if devctl_first {
                f.devctl.push(push(ours.local_addr().port(), bytes).await?);
            } else {
                f.kubectl.push(push(their_port, bytes).await?);
            }
        }
        eprintln!(
            "k8s: throughput rep {rep}: {:?} {:?}",
            f.devctl.last(),
            f.kubectl.last()
        );
    }
    drop(ours);
    kill(theirs);
    Ok(f)
}

/// One line through 127.0.0.1:`port` and its echo, within `limit`.
async fn round_trip(port: u16, limit: Duration) -> bool {
    let attempt = async {
        let mut conn = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        conn.write_all(b"ping\n").await.ok()?;
        let mut reply = String::new();
        BufReader::new(&mut conn).read_line(&mut reply).await.ok()?;
        (reply == "echo: ping\n").then_some(())
    };
    matches!(tokio::time::timeout(limit, attempt).await, Ok(Some(())))
}

/// Delete the one pod of `deployment/fwd`; the time from its replacement
/// being Ready (by this harness's watch) until a round trip through
/// `port` succeeds again, in ms.
async fn replace_and_time(client: &Client, port: u16) -> Result<f64, String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let up = Instant::now();
    while !round_trip(port, Duration::from_secs(2)).await {
        if up.elapsed() > CEILING {
            return Err("no round trip before the pod was deleted".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let old: BTreeSet<String> = api
        .list(&kube::api::ListParams::default().labels("app=fwd"))
        .await
        .map_err(|e| e.to_string())?
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Instant>();
    let watch_api = api.clone();
    let known = old.clone();
    let watching = tokio::spawn(async move {
        let mut pods = watcher(watch_api, watcher::Config::default().labels("app=fwd"))
            .default_backoff()
            .applied_objects()
            .boxed();
        while let Some(Ok(p)) = pods.next().await {
            let name = p.metadata.name.clone().unwrap_or_default();
            let ready = p.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .flatten()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
            });
            if ready && !known.contains(&name) {
                let _ = ready_tx.send(Instant::now());
                return;
            }
        }
    });
    for name in &old {
        api.delete(name, &DeleteParams::default())
            .await
            .map_err(|e| format!("delete pod {name}: {e}"))?;
    }
    let ready_at = tokio::time::timeout(CEILING, ready_rx)
        .await
        .map_err(|_| "no replacement pod became Ready".to_owned())?
        .map_err(|_| "the pod watch ended".to_owned())?;
    watching.abort();
    // Poll from the moment the replacement is Ready: one attempt at a time.
    let deadline = ready_at + CEILING;
    loop {
        if round_trip(port, Duration::from_secs(2)).await {
            return Ok(ready_at.elapsed().as_secs_f64() * 1e3);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no round trip within {CEILING:?} of the replacement"
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn reconnect(cluster: &Cluster, client: &Client, reps: usize) -> Result<Figure, String> {
    let mut f = Figure::new(
        "port-forward: replacement pod Ready → round trip again",
        "ms",
    );
    let ours = devctl_forward(client, 8081).await?;
    for rep in 0..reps {
        f.devctl
            .push(replace_and_time(client, ours.local_addr().port()).await?);
        eprintln!("k8s: reconnect rep {rep}: devctl {:?}", f.devctl.last());
    }
    drop(ours);

    // kubectl's side: what users run, a loop restarting it on a fixed port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let kubectl_cmd = cluster.kubectl_command();
    let program = kubectl_cmd.get_program().to_string_lossy().into_owned();
    let kube_args: Vec<String> = kubectl_cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let script = format!(
        "while :; do {program} {} port-forward --address=127.0.0.1 deployment/fwd {port}:8081 >/dev/null 2>&1; done",
        kube_args.join(" ")
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script])
        .env("HOME", cluster.dir())
        .stdin(Stdio::null())
        .process_group(0);
    let looped = cmd.spawn().map_err(|e| format!("sh: {e}"))?;
    let result = async {
        for rep in 0..reps {
            f.kubectl.push(replace_and_time(client, port).await?);
            eprintln!(
                "k8s: reconnect rep {rep}: kubectl loop {:?}",
                f.kubectl.last()
            );
        }
        Ok::<(), String>(())
    }
    .await;
    kill(looped);
    result.map(|()| f)
}

async fn logs(
    cluster: &Cluster,
    client: &Client,
    reps: usize,
    pods: usize,
    lines: usize,
) -> Result<Figure, String> {
    let mut f = Figure::new("log lines/s, every pod followed", "lines/s");
    let log = LogFile::create(cluster, "flood.log");
    let filler = "x".repeat(LINE_BYTES - 1 - 6);
    let body: Vec<String> = (0..lines).map(|i| format!("{i:05} {filler}")).collect();
    for batch in body.chunks(1000) {
        let batch: Vec<&str> = batch.iter().map(String::as_str).collect();
        log.append(&batch);
    }
    serve_logs(cluster, "flood-logs", "default", "flood", &log);
    apply(
        cluster,
        "flood.yaml",
        &deployment("flood", pods as u32, 8080),
    );
    kubectl(
        cluster,
        &["rollout", "status", "deployment/flood", "--timeout=120s"],
    )?;
    let want = pods * lines;
    for rep in 0..reps {
        for devctl_first in [rep % 2 == 0, rep % 2 != 0] {
            if devctl_first {
                f.devctl.push(devctl_logs(client, want).await?);
            } else {
                f.kubectl.push(kubectl_logs(cluster, pods, want)?);
            }
        }
        eprintln!(
            "k8s: logs rep {rep}: {:?} {:?}",
            f.devctl.last(),
            f.kubectl.last()
        );
    }
    Ok(f)
}

/// Lines/s until `want` lines of `app=flood` arrived through [`PodLogs`].
async fn devctl_logs(client: &Client, want: usize) -> Result<f64, String> {
    let start = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let logs = PodLogs::start(
        client.clone(),
        LogsSpec {
            namespace: "default".into(),
            selector: "app=flood".into(),
            events_for: Vec::new(),
            events_since: None,
        },
        tx,
    );
    let mut got = 0;
    while got < want {
        match tokio::time::timeout(CEILING, rx.recv()).await {
            Ok(Some(LogRecord::Line { .. })) => got += 1,
            Ok(Some(_)) => {}
            _ => return Err(format!("devctl logs: {got} of {want} lines")),
        }
    }
    let rate = want as f64 / start.elapsed().as_secs_f64();
    drop(logs);
    Ok(rate)
}

/// Lines/s until `want` lines came out of `kubectl logs -f -l app=flood`.
fn kubectl_logs(cluster: &Cluster, pods: usize, want: usize) -> Result<f64, String> {
    let start = Instant::now();
    let mut cmd = cluster.kubectl_command();
    cmd.args([
        "logs",
        "-f",
        "-l",
        "app=flood",
        "-c",
        "flood",
        // With a selector kubectl shows only the last 10 lines unless told.
        "--tail=-1",
        &format!("--max-log-requests={pods}"),
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    let mut child = cmd.spawn().map_err(|e| format!("kubectl: {e}"))?;
    let out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut text);
        text
    });
    let (count_tx, count_rx) = std::sync::mpsc::channel();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = StdBufReader::with_capacity(1 << 20, out);
        let mut line = Vec::new();
        let mut n = 0;
        while reader
            .read_until(b'\n', &mut line)
            .map(|k| k > 0)
            .unwrap_or(false)
        {
            line.clear();
            n += 1;
            if n == want {
                let _ = tx.send(Instant::now());
            }
        }
        let _ = count_tx.send(n);
    });
    let done = rx.recv_timeout(CEILING);
    kill(child);
    let at = done.map_err(|_| {
        format!(
            "kubectl logs: {} of {want} lines; stderr: {}",
            count_rx.recv_timeout(Duration::from_secs(5)).unwrap_or(0),
            stderr.join().unwrap_or_default()
        )
    })?;
    Ok(want as f64 / (at - start).as_secs_f64())
}

/// Apply 10 Deployments of 2 replicas and wait until each is rolled
/// out, with devctl then with kubectl, deleting them between reps and
/// waiting until their pods are gone.
fn apply_ready(cluster: &Cluster, reps: usize) -> Result<Figure, String> {
    let mut f = Figure::new("apply → ready, 10 Deployments × 2 pods", "ms");
    let manifest: String = (0..10)
        .map(|i| deployment(&format!("app-{i}"), 2, 8080))
        .collect::<Vec<_>>()
        .join("---\n");
    let file = cluster.dir().join("ten.yaml");
    std::fs::write(&file, manifest).map_err(|e| e.to_string())?;
    let devctl = Devctl::start()?;
    std::fs::write(
        devctl.project().join("devctl.kdl"),
        format!(
            "project \"bench\"\nkubernetes \"ten\" {{\n    manifests \"{}\"\n    kubeconfig \"{}\"\n    context \"devctl-test\"\n    start-timeout \"120s\"\n    stop timeout=\"60s\"\n}}\n",
            file.display(),
            cluster.kubeconfig().display()
        ),
    )
    .map_err(|e| e.to_string())?;
    crate::side::run(&mut devctl.cmd(&["reload"]))?;
    let file = file.display().to_string();
    for rep in 0..reps {
        let start = Instant::now();
        crate::side::run(&mut devctl.cmd(&["start", "ten"]))?;
        f.devctl.push(start.elapsed().as_secs_f64() * 1e3);
        crate::side::run(&mut devctl.cmd(&["stop", "ten"]))?;
        pods_gone(cluster)?;

        let start = Instant::now();
        kubectl(cluster, &["apply", "--server-side", "-f", &file])?;
        for i in 0..10 {
            kubectl(
                cluster,
                &[
                    "rollout",
                    "status",
                    &format!("deployment/app-{i}"),
                    "--timeout=120s",
                ],
            )?;
        }
        f.kubectl.push(start.elapsed().as_secs_f64() * 1e3);
        eprintln!(
            "k8s: apply → ready rep {rep}: devctl {:?}, kubectl {:?}",
            f.devctl.last(),
            f.kubectl.last()
        );
        kubectl(cluster, &["delete", "--wait=true", "-f", &file])?;
        pods_gone(cluster)?;
    }
    Ok(f)
}

/// Wait until no pod of the 10 Deployments is left.
fn pods_gone(cluster: &Cluster) -> Result<(), String> {
    let selector = format!(
        "app in ({})",
        (0..10)
            .map(|i| format!("app-{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let gone = Instant::now();
    while !kubectl(cluster, &["get", "pods", "-l", &selector, "-o", "name"])?
        .trim()
        .is_empty()
    {
        if gone.elapsed() > CEILING {
            return Err("the 10 Deployments' pods outlived their deletion".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
