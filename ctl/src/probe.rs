//! `devctl probe`: one readiness check (tcp / http / exec) retried every
//! period until it passes `success_threshold` times in a row (exit 0) or the
//! deadline passes (exit 1). Used as `ExecStartPost=` by `--target systemd`
//! units, where devctld's own probes are not available.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use crate::cli::{ProbeArgs, ProbeCheckArgs};
use crate::error::CtlError;
use crate::exit::Exit;

/// `HOST PORT` → `HOST:PORT`; `PORT` → `127.0.0.1:PORT`; `HOST:PORT` unchanged.
pub fn tcp_address(s: &str, port: Option<u16>) -> Result<String, CtlError> {
    if let Some(port) = port {
        if s.is_empty() || s.contains(':') && !s.starts_with('[') {
            return Err(CtlError::Usage {
                message: format!("{s:?}: expected a host name or address"),
            });
        }
        return Ok(format!("{s}:{port}"));
    }
    if s.parse::<u16>().is_ok() {
        return Ok(format!("127.0.0.1:{s}"));
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(s.to_string()),
        _ => Err(CtlError::Usage {
            message: format!("{s:?}: expected PORT or HOST:PORT"),
        }),
    }
}

async fn http_once(uri: &hyper::Uri, want: Option<u16>) -> bool {
    let (Some(host), scheme) = (uri.host(), uri.scheme_str()) else {
        return false;
    };
    if scheme != Some("http") {
        return false;
    }
    let port = uri.port_u16().unwrap_or(80);
    let Ok(stream) = TcpStream::connect((host, port)).await else {
        return false;
    };
    let Ok((mut tx, conn)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    else {
        return false;
    };
    tokio::spawn(conn);
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let Ok(req) = Request::get(path)
        .header("host", host)
        .body(Empty::<Bytes>::new())
    else {
        return false;
    };
    match tx.send_request(req).await {
        Ok(resp) => match want {
            Some(code) => resp.status().as_u16() == code,
            None => resp.status().is_success() || resp.status().is_redirection(),
        },
        Err(_) => false,
    }
}

async fn exec_once(argv: &[String]) -> bool {
    let Some((program, args)) = argv.split_first() else {
        return false;
    };
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .status();
    matches!(child.await, Ok(status) if status.success())
}

/// Run the probe: exit 0 once ready, 1 when `--deadline` passes first.
pub async fn run(args: &ProbeArgs, attempt_timeout: Option<Duration>) -> Result<Exit, CtlError> {
    let check = &args.check;
    let timing = check.timing();
    let attempt_timeout = attempt_timeout.unwrap_or(Duration::from_secs(1));
    let uri = match check {
        ProbeCheckArgs::Http { url, .. } => Some(
            url.parse::<hyper::Uri>()
                .ok()
                .filter(|u| u.scheme_str() == Some("http") && u.host().is_some())
                .ok_or_else(|| CtlError::Usage {
                    message: format!("{url:?}: expected an http:// URL"),
                })?,
        ),
        _ => None,
    };
    let addr = match check {
        ProbeCheckArgs::Tcp { host, port, .. } => Some(tcp_address(host, *port)?),
        _ => None,
    };
    let end = timing.deadline.map(|d| Instant::now() + d);
    tokio::time::sleep(timing.initial_delay).await;
    let mut streak = 0;
    loop {
        let attempt = async {
            match check {
                ProbeCheckArgs::Tcp { .. } => {
                    TcpStream::connect(addr.as_deref().unwrap_or_default())
                        .await
                        .is_ok()
                }
                ProbeCheckArgs::Http { status, .. } => match &uri {
                    Some(u) => http_once(u, *status).await,
                    None => false,
                },
                ProbeCheckArgs::Exec { argv, .. } => exec_once(argv).await,
            }
        };
        let ok = timeout(attempt_timeout, attempt).await.unwrap_or(false);
        streak = if ok { streak + 1 } else { 0 };
        if streak >= timing.success_threshold.max(1) {
            return Ok(Exit::Ok);
        }
        if end.is_some_and(|end| Instant::now() + timing.period > end) {
            return Ok(Exit::Failed);
        }
        tokio::time::sleep(timing.period).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ProbeTiming;

    /// A probe with short timings.
    fn quick(check: impl FnOnce(ProbeTiming) -> ProbeCheckArgs, deadline: Duration) -> ProbeArgs {
        let timing = ProbeTiming {
            period: Duration::from_millis(20),
            initial_delay: Duration::ZERO,
            success_threshold: 1,
            deadline: Some(deadline),
        };
        ProbeArgs {
            check: check(timing),
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(tcp_address("8080", None).unwrap(), "127.0.0.1:8080");
        assert_eq!(tcp_address("localhost:1", None).unwrap(), "localhost:1");
        assert_eq!(tcp_address("db", Some(5432)).unwrap(), "db:5432");
        assert!(tcp_address("nope", None).is_err());
        assert!(tcp_address(":80", None).is_err());
        assert!(tcp_address("a:b", Some(1)).is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn tcp_ready_and_not() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let tcp = |port| {
            move |timing| ProbeCheckArgs::Tcp {
                host: "127.0.0.1".into(),
                port: Some(port),
                timing,
            }
        };
        assert_eq!(
            run(&quick(tcp(port), Duration::from_secs(2)), None)
                .await
                .unwrap(),
            Exit::Ok
        );
        // Port 1 (tcpmux) is privileged and unused here; a freed ephemeral
        // port could be taken again by a concurrent test.
        assert_eq!(
            run(&quick(tcp(1), Duration::from_millis(100)), None)
                .await
                .unwrap(),
            Exit::Failed
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn exec_and_http() {
        let exec = |prog: &'static str| {
            move |timing| ProbeCheckArgs::Exec {
                argv: vec![prog.into()],
                timing,
            }
        };
        assert_eq!(
            run(&quick(exec("true"), Duration::from_secs(2)), None)
                .await
                .unwrap(),
            Exit::Ok
        );
        assert_eq!(
            run(&quick(exec("false"), Duration::from_millis(60)), None)
                .await
                .unwrap(),
            Exit::Failed
        );
        let ftp = |timing| ProbeCheckArgs::Http {
            url: "ftp://x".into(),
            status: None,
            timing,
        };
        assert!(matches!(
            run(&quick(ftp, Duration::from_millis(60)), None).await,
            Err(CtlError::Usage { .. })
        ));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut s, _)) = l.accept().await {
                let mut b = [0u8; 1024];
                let _ = s.read(&mut b).await;
                let _ = s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await;
            }
        });
        let http = |status| {
            move |timing| ProbeCheckArgs::Http {
                url: format!("http://127.0.0.1:{port}/h"),
                status: Some(status),
                timing,
            }
        };
        assert_eq!(
            run(&quick(http(204), Duration::from_secs(2)), None)
                .await
                .unwrap(),
            Exit::Ok
        );
        assert_eq!(
            run(&quick(http(200), Duration::from_millis(80)), None)
                .await
                .unwrap(),
            Exit::Failed
        );
    }
}
