//! One probe check: exec (spawned through the reaper in its own process
//! group with the unit's directory and environment; its whole tree is
//! killed afterwards, on timeout or not; output read with a small cap and
//! discarded), HTTP (plain `http://`, status match) and TCP (connect).
//! Log and notify probes are event-driven: see `LogMatcher` and
//! `NotifySocket`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use devctl_units::{ProbeCheck, Signal};
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::process::{self, Reaper, SpawnSpec};

/// Output of an exec probe kept for the failure reason.
const OUTPUT_CAP: usize = 512;

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    Success,
    Failure(String),
    /// The check did not finish within its timeout (counts as a failure).
    Timeout,
}

impl ProbeOutcome {
    /// Only `Success` is a success.
    pub fn is_success(&self) -> bool {
        matches!(self, ProbeOutcome::Success)
    }
}

/// What a check needs from its unit.
#[derive(Debug, Clone)]
pub struct ProbeCtx {
    pub reaper: Arc<Reaper>,
    /// The unit's working directory (exec probes run there).
    pub dir: PathBuf,
    /// The unit's environment (exec probes get it, with their own marker).
    pub env: Arc<[(String, String)]>,
    /// The unit's invocation marker: when set, a TCP/HTTP success counts
    /// only if the listener is visibly the unit's (not a foreign process
    /// holding the port).
    pub unit_marker: Option<String>,
}

/// Run one check with a timeout.
pub async fn check(check: &ProbeCheck, timeout: Duration, ctx: &ProbeCtx) -> ProbeOutcome {
    check_seen(check, timeout, ctx, &mut process::Sighting::default()).await
}

/// [`check`] for a caller that keeps `known`, what the listen watcher or
/// an earlier check saw of the probe port's LISTEN sockets (a
/// [`Sighting`](process::Sighting)): confirming that the listener is the
/// unit's starts from it, and a check that had to look the port up leaves
/// the unit's sockets there.
pub async fn check_seen(
    check: &ProbeCheck,
    timeout: Duration,
    ctx: &ProbeCtx,
    known: &mut process::Sighting,
) -> ProbeOutcome {
    let outcome = match check {
        ProbeCheck::Exec(argv) => return exec(argv, timeout, ctx).await,
        ProbeCheck::Http { url, status } => tokio::time::timeout(timeout, http(url, *status)).await,
        ProbeCheck::Tcp { host, port } => tokio::time::timeout(timeout, tcp(host, *port)).await,
        ProbeCheck::Log { .. } => {
            return ProbeOutcome::Failure(
                "log probes are event-driven (LogMatcher), not polled".into(),
            );
        }
        ProbeCheck::Notify => {
            return ProbeOutcome::Failure(
                "notify probes are event-driven (NotifySocket), not polled".into(),
            );
        }
    };
    match outcome {
        Err(_) => ProbeOutcome::Timeout,
        Ok(ProbeOutcome::Success) => match (&ctx.unit_marker, super::listen::listen_port(check)) {
            (Some(marker), Some(port)) => foreign_holder(port, marker, known)
                .map_or(ProbeOutcome::Success, ProbeOutcome::Failure),
            _ => ProbeOutcome::Success,
        },
        Ok(other) => other,
    }
}

/// A reason when `port` is visibly held by a process outside the unit.
/// The common case, the unit's own process holding it, is settled by
/// reading only the unit's processes' fds; only otherwise are every
/// process's fds walked to name the holder.
fn foreign_holder(port: u16, marker: &str, known: &mut process::Sighting) -> Option<String> {
    if process::port_held_by(port, marker, known) {
        return None;
    }
    let holder = process::port_holder(port)?;
    if process::find_marked(marker)
        .iter()
        .any(|p| p.pid == holder.pid)
    {
        return None;
    }
    Some(format!(
        "port {port} in use by pid {} ({}), not by this unit",
        holder.pid, holder.cmdline
    ))
}

/// How long output is still read after an exec probe exited.
const POST_EXIT_DRAIN: Duration = Duration::from_millis(200);

async fn read_capped(reader: Option<impl AsyncRead + Unpin>, keep: &mut Vec<u8>) {
    let Some(mut reader) = reader else { return };
    let mut buf = [0u8; 8192];
    while let Ok(n) = reader.read(&mut buf).await {
        if n == 0 {
            return;
        }
        let room = OUTPUT_CAP.saturating_sub(keep.len());
        keep.extend_from_slice(&buf[..n.min(room)]);
    }
}

async fn exec(argv: &[String], timeout: Duration, ctx: &ProbeCtx) -> ProbeOutcome {
    let spec = SpawnSpec {
        argv: argv.to_vec(),
        dir: ctx.dir.clone(),
        env: ctx.env.to_vec(),
        capture: true,
        invocation_id: process::invocation_id(),
        ..SpawnSpec::default()
    };
    let mut child = match process::spawn(&ctx.reaper, spec).await {
        Ok(c) => c,
        Err(e) => return ProbeOutcome::Failure(e.to_string()),
    };
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let run = async {
        let mut drain = std::pin::pin!(async {
            tokio::join!(read_capped(stdout, &mut out), read_capped(stderr, &mut err));
        });
        tokio::select! {
            status = child.wait() => {
                // The exit can be seen before the last output is read: finish
                // reading, briefly (background children may hold the pipes).
                let _ = tokio::time::timeout(POST_EXIT_DRAIN, &mut drain).await;
                status
            }
            () = &mut drain => child.wait().await,
        }
    };
    let status = tokio::time::timeout(timeout, run).await;
    // Whatever happened, nothing of the probe may outlive it.
    process::stop_tree(
        &child.tree(),
        Signal::SIGKILL,
        Duration::ZERO,
        Duration::from_secs(1),
    )
    .await;
    match status {
        Err(_) => ProbeOutcome::Timeout,
        Ok(s) if s.success() => ProbeOutcome::Success,
        Ok(s) => {
            let text = if out.is_empty() { err } else { out };
            let first = String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            ProbeOutcome::Failure(if first.is_empty() {
                s.to_string()
            } else {
                format!("{s}: {first}")
            })
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

async fn http(url: &str, want: Option<u16>) -> ProbeOutcome {
    let uri: hyper::Uri = match url.parse() {
        Ok(u) => u,
        Err(e) => return ProbeOutcome::Failure(format!("invalid URL {url}: {e}")),
    };
    if uri.scheme_str() != Some("http") {
        return ProbeOutcome::Failure(format!("only http:// URLs can be probed: {url}"));
    }
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build_http();
    let req = match hyper::Request::get(uri)
        .header(hyper::header::USER_AGENT, "devctl-probe")
        .body(Empty::new())
    {
        Ok(r) => r,
        Err(e) => return ProbeOutcome::Failure(format!("invalid request for {url}: {e}")),
    };
    match client.request(req).await {
        Ok(resp) => {
            let code = resp.status().as_u16();
            let ok = match want {
                Some(w) => code == w,
                None => (200..400).contains(&code),
            };
            if ok {
                ProbeOutcome::Success
            } else {
                ProbeOutcome::Failure(format!("HTTP {code} from {url}"))
            }
        }
        Err(e) => ProbeOutcome::Failure(format!("GET {url}: {}", chain(&e))),
    }
}

async fn tcp(host: &str, port: u16) -> ProbeOutcome {
    match tokio::net::TcpStream::connect((host, port)).await {
        Ok(_) => ProbeOutcome::Success,
        Err(e) => ProbeOutcome::Failure(format!("connect {host}:{port}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_success_is_success() {
        assert!(ProbeOutcome::Success.is_success());
        assert!(!ProbeOutcome::Timeout.is_success());
        assert!(!ProbeOutcome::Failure("x".into()).is_success());
    }
}
