//! One readiness/liveness check of the kinds the core runs itself: exec
//! (own process tree, killed at the timeout), TCP connect and HTTP GET.
//! `log` and `notify` probes are driven by the unit's own facts instead.
//! A check that runs past its timeout counts as a failure.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use devctl_units::ProbeCheck;

use crate::process::{self, Reaper, SpawnSpec};

/// What an exec probe runs with.
#[derive(Debug, Clone)]
pub struct ProbeEnv {
    pub reaper: Arc<Reaper>,
    pub dir: std::path::PathBuf,
    pub env: Vec<(String, String)>,
}

async fn exec(argv: &[String], ctx: &ProbeEnv, timeout: Duration) -> bool {
    let marker = process::invocation_id();
    let spec = SpawnSpec {
        argv: argv.to_vec(),
        dir: ctx.dir.clone(),
        env: ctx.env.clone(),
        invocation_id: marker.clone(),
        ..SpawnSpec::default()
    };
    let Ok(child) = process::spawn(&ctx.reaper, spec).await else {
        return false;
    };
    let ok = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(st) => st.success(),
        Err(_) => false,
    };
    // Never leave probe processes behind (timeouts, forked helpers).
    let _ = process::stop_tree(
        &child.tree(),
        devctl_units::Signal::SIGKILL,
        Duration::ZERO,
        Duration::from_secs(2),
    )
    .await;
    process::kill_marked(&marker);
    ok
}

/// Split `http://host:port/path` into (host, port, path).
pub fn split_url(url: &str) -> Option<(String, u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (hostport, 80),
    };
    (!host.is_empty()).then(|| {
        (
            host.trim_matches(['[', ']']).to_string(),
            port,
            path.to_string(),
        )
    })
}

/// Parse the status code of an HTTP/1.x status line.
pub fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    let mut parts = text.split_ascii_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

async fn http(url: &str, want: Option<u16>) -> bool {
    let Some((host, port, path)) = split_url(url) else {
        return false;
    };
    let Ok(mut s) = TcpStream::connect((host.as_str(), port)).await else {
        return false;
    };
    let req = format!(
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: devctl-probe\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = vec![0u8; 256];
    let mut got = 0;
    while got < head.len() && !head[..got].contains(&b'\n') {
        match s.read(&mut head[got..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    match (status_code(&head[..got]), want) {
        (Some(code), Some(w)) => code == w,
        (Some(code), None) => (200..400).contains(&code),
        (None, _) => false,
    }
}

/// Run one check; `false` on failure or timeout. `log`/`notify` are not
/// checks the core runs and always return `false` here.
pub async fn check(probe: &ProbeCheck, timeout: Duration, ctx: &ProbeEnv) -> bool {
    let fut = async {
        match probe {
            ProbeCheck::Exec(argv) => exec(argv, ctx, timeout).await,
            ProbeCheck::Tcp { host, port } => {
                TcpStream::connect((host.as_str(), *port)).await.is_ok()
            }
            ProbeCheck::Http { url, status } => http(url, *status).await,
            ProbeCheck::Log { .. } | ProbeCheck::Notify => false,
        }
    };
    tokio::time::timeout(timeout + Duration::from_millis(100), fut)
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_and_status_parsing() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/healthz"),
            Some(("127.0.0.1".into(), 8080, "/healthz".into()))
        );
        assert_eq!(
            split_url("http://localhost"),
            Some(("localhost".into(), 80, "/".into()))
        );
        assert_eq!(split_url("https://x"), None);
        assert_eq!(split_url("http://:80/"), None);
        assert_eq!(status_code(b"HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(status_code(b"garbage"), None);
    }

    #[tokio::test]
    async fn tcp_and_http_against_a_listener() {
        let reaper = Reaper::install().unwrap();
        let ctx = ProbeEnv {
            reaper,
            dir: "/".into(),
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        };
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(b"HTTP/1.1 503 Busy\r\n\r\n").await;
            }
        });
        let t = Duration::from_secs(2);
        assert!(
            check(
                &ProbeCheck::Tcp {
                    host: "127.0.0.1".into(),
                    port
                },
                t,
                &ctx
            )
            .await
        );
        let url = format!("http://127.0.0.1:{port}/");
        assert!(
            check(
                &ProbeCheck::Http {
                    url: url.clone(),
                    status: Some(503)
                },
                t,
                &ctx
            )
            .await
        );
        assert!(!check(&ProbeCheck::Http { url, status: None }, t, &ctx).await);
        assert!(check(&ProbeCheck::Exec(vec!["true".into()]), t, &ctx).await);
        assert!(!check(&ProbeCheck::Exec(vec!["false".into()]), t, &ctx).await);
        let slow = ProbeCheck::Exec(vec!["sleep".into(), "30".into()]);
        assert!(
            !check(&slow, Duration::from_millis(200), &ctx).await,
            "a hung probe is a failure"
        );
        assert!(!check(&ProbeCheck::Notify, t, &ctx).await);
    }
}
