//! A small HTTP/1.1 client for devctld's API over its Unix socket (hyper 1,
//! one connection per request). Bodies are bounded by
//! [`api::MAX_BODY_BYTES`]; NDJSON streams are read line by line with a cap
//! on line length. Error answers become [`CtlError::Api`]. Every request
//! names the API version it speaks, so a daemon of another version refuses
//! it ([`CtlError::ApiMismatch`]) without a separate version request.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use devctl_units::api::{self, API_VERSION, API_VERSION_HEADER, DAEMON_PID_HEADER, ErrorBody};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::UnixStream;

use crate::error::CtlError;

/// Longest NDJSON line accepted from a stream.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// How long a connection opened ahead of the first request stays usable.
const OPENED_FRESH: Duration = Duration::from_secs(2);

/// The API client.
#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
    /// A connection opened to find out whether a daemon listens, used by
    /// the first request instead of connecting again (if that comes soon:
    /// the daemon closes a connection that stays silent for 10 s).
    opened: Arc<Mutex<Option<(Instant, UnixStream)>>>,
}

impl Client {
    pub fn new(socket: impl Into<PathBuf>) -> Client {
        Client {
            socket: socket.into(),
            opened: Arc::default(),
        }
    }

    /// A client whose first request goes over `stream`, already connected
    /// to `socket`.
    pub fn with_connection(socket: impl Into<PathBuf>, stream: UnixStream) -> Client {
        Client {
            socket: socket.into(),
            opened: Arc::new(Mutex::new(Some((Instant::now(), stream)))),
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response<Incoming>, CtlError> {
        let unreachable = |source| CtlError::Unreachable {
            socket: self.socket.clone(),
            source,
        };
        let opened = self.opened.lock().ok().and_then(|mut s| s.take());
        let stream = match opened {
            Some((at, s)) if at.elapsed() < OPENED_FRESH => s,
            _ => UnixStream::connect(&self.socket)
                .await
                .map_err(unreachable)?,
        };
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| CtlError::Protocol {
                message: format!("handshake: {e}"),
            })?;
        tokio::spawn(conn);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header(API_VERSION_HEADER, API_VERSION);
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| CtlError::Protocol {
                message: format!("request {path}: {e}"),
            })?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| CtlError::Protocol {
                message: format!("{path}: {e}"),
            })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        if let Some(theirs) = header_u32(&resp, API_VERSION_HEADER)
            && theirs != API_VERSION
        {
            return Err(CtlError::ApiMismatch {
                pid: header_u32(&resp, DAEMON_PID_HEADER).unwrap_or(0),
                theirs,
                ours: API_VERSION,
            });
        }
        let status = resp.status();
        let bytes = collect(resp.into_body()).await?;
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(CtlError::Api(body.error)),
            Err(_) => Err(CtlError::Protocol {
                message: format!("{path}: HTTP {status}"),
            }),
        }
    }

    /// `GET path` → JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CtlError> {
        let resp = self.send(Method::GET, path, None).await?;
        decode(path, &collect(resp.into_body()).await?)
    }

    /// `GET path` → text.
    pub async fn get_text(&self, path: &str) -> Result<String, CtlError> {
        let resp = self.send(Method::GET, path, None).await?;
        let bytes = collect(resp.into_body()).await?;
        String::from_utf8(bytes.to_vec()).map_err(|_| CtlError::Protocol {
            message: format!("{path}: not UTF-8"),
        })
    }

    /// `POST path` with a JSON body → JSON.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CtlError> {
        let bytes = serde_json::to_vec(body).map_err(|e| CtlError::Protocol {
            message: e.to_string(),
        })?;
        let resp = self.send(Method::POST, path, Some(bytes)).await?;
        decode(path, &collect(resp.into_body()).await?)
    }

    /// `DELETE path` → JSON.
    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, CtlError> {
        let resp = self.send(Method::DELETE, path, None).await?;
        decode(path, &collect(resp.into_body()).await?)
    }

    /// `GET path` → an NDJSON stream.
    pub async fn stream(&self, path: &str) -> Result<LineStream, CtlError> {
        let resp = self.send(Method::GET, path, None).await?;
        Ok(LineStream {
            body: resp.into_body(),
            buf: Vec::new(),
            done: false,
        })
    }
}

fn header_u32(resp: &Response<Incoming>, name: &str) -> Option<u32> {
    resp.headers().get(name)?.to_str().ok()?.trim().parse().ok()
}

async fn collect(body: Incoming) -> Result<Bytes, CtlError> {
    Limited::new(body, api::MAX_BODY_BYTES)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| CtlError::Protocol {
            message: format!(
                "reading the answer: {e} (limit {} bytes)",
                api::MAX_BODY_BYTES
            ),
        })
}

fn decode<T: DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T, CtlError> {
    serde_json::from_slice(bytes).map_err(|e| CtlError::Protocol {
        message: format!("{path}: {e}"),
    })
}

/// Lines of an NDJSON answer.
pub struct LineStream {
    body: Incoming,
    buf: Vec<u8>,
    done: bool,
}

impl LineStream {
    /// The next complete line (without its newline), or `None` at the end.
    pub async fn next_line(&mut self) -> Result<Option<Vec<u8>>, CtlError> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
                line.pop();
                return Ok(Some(line));
            }
            if self.done {
                return Ok((!self.buf.is_empty()).then(|| std::mem::take(&mut self.buf)));
            }
            if self.buf.len() > MAX_LINE_BYTES {
                return Err(CtlError::Protocol {
                    message: format!("a streamed line exceeds {MAX_LINE_BYTES} bytes"),
                });
            }
            match self.body.frame().await {
                None => self.done = true,
                Some(Err(e)) => {
                    return Err(CtlError::Protocol {
                        message: format!("stream: {e}"),
                    });
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    /// The next line decoded as JSON; blank lines are skipped.
    pub async fn next_json<T: DeserializeOwned>(&mut self) -> Result<Option<T>, CtlError> {
        while let Some(line) = self.next_line().await? {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            // A stream the daemon ends early (its reader fell behind) says
            // why in a last `{"error": …}` line.
            if line.starts_with(b"{\"error\":")
                && let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(&line)
            {
                return Err(CtlError::Api(error));
            }
            return decode("stream", &line).map(Some);
        }
        Ok(None)
    }
}

/// Percent-encode a query value (everything but unreserved characters).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::UnixListener;

    /// Serve one canned HTTP answer per connection.
    async fn serve(listener: UnixListener, answer: &'static str) {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(answer.as_bytes()).await;
            let _ = s.shutdown().await;
        }
    }

    fn answer_client(answer: &'static str) -> (tempfile::TempDir, Client) {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        tokio::spawn(serve(listener, answer));
        (dir, Client::new(sock))
    }

    #[tokio::test(flavor = "current_thread")]
    async fn error_answer_becomes_api_error() {
        let (_d, c) = answer_client(
            "HTTP/1.1 404 Not Found\r\ncontent-length: 47\r\nconnection: close\r\n\r\n{\"error\":{\"kind\":\"not-found\",\"message\":\"no x\"}}",
        );
        match c.get::<serde_json::Value>("/v1/units").await {
            Err(CtlError::Api(e)) => assert_eq!(
                (e.kind, e.message.as_str()),
                (api::ErrorKind::NotFound, "no x")
            ),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_streams_last_error_line_becomes_an_api_error() {
        let (_d, c) = answer_client(
            "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{\"n\":1}\n{\"error\":{\"kind\":\"failed\",\"message\":\"this log stream fell 7 entries behind and was closed\"}}\n",
        );
        let mut s = c.stream("/v1/logs").await.unwrap();
        let first: serde_json::Value = s.next_json().await.unwrap().unwrap();
        assert_eq!(first["n"], 1);
        match s.next_json::<serde_json::Value>().await {
            Err(CtlError::Api(e)) => assert!(e.message.contains("fell 7 entries behind"), "{e:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_daemon_of_another_api_version_is_a_mismatch() {
        let (_d, c) = answer_client(
            "HTTP/1.1 400 Bad Request\r\ndevctl-api: 99\r\ndevctl-pid: 4242\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
        );
        match c.get::<serde_json::Value>("/v1/units").await {
            Err(CtlError::ApiMismatch { pid, theirs, ours }) => {
                assert_eq!((pid, theirs, ours), (4242, 99, API_VERSION))
            }
            other => panic!("{other:?}"),
        }
    }

    /// The connection opened to find the daemon carries the first request;
    /// later requests connect anew.
    #[tokio::test(flavor = "current_thread")]
    async fn the_first_request_uses_the_connection_already_opened() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let opened = UnixStream::connect(&sock).await.unwrap();
        let (mut first, _) = listener.accept().await.unwrap();
        let c = Client::with_connection(&sock, opened);
        let answer = "HTTP/1.1 200 OK\r\ncontent-length: 1\r\nconnection: close\r\n\r\n7";
        let served = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            let n = first.read(&mut buf).await.unwrap();
            first.write_all(answer.as_bytes()).await.unwrap();
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            let _ = first.shutdown().await;
            head
        });
        assert_eq!(c.get::<u32>("/v1/units").await.unwrap(), 7);
        let head = served.await.unwrap();
        assert!(head.starts_with("GET /v1/units"), "{head}");
        assert!(
            head.contains(&format!("{API_VERSION_HEADER}: {API_VERSION}")),
            "{head}"
        );
        tokio::spawn(serve(listener, answer));
        assert_eq!(c.get::<u32>("/v1/units").await.unwrap(), 7);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn garbage_is_a_protocol_error() {
        let (_d, c) =
            answer_client("HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\nnot");
        assert!(matches!(
            c.get::<serde_json::Value>("/v1/x").await,
            Err(CtlError::Protocol { .. })
        ));
        let (_d2, c2) =
            answer_client("HTTP/1.1 500 Oops\r\ncontent-length: 2\r\nconnection: close\r\n\r\nno");
        assert!(matches!(
            c2.get::<serde_json::Value>("/v1/x").await,
            Err(CtlError::Protocol { .. })
        ));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn ndjson_lines() {
        let (_d, c) = answer_client(
            "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{\"a\":1}\n\n{\"a\":2}\n{\"a\":3}",
        );
        let mut s = c.stream("/v1/events").await.unwrap();
        let mut got = Vec::new();
        while let Some(v) = s.next_json::<serde_json::Value>().await.unwrap() {
            got.push(v["a"].as_i64().unwrap());
        }
        assert_eq!(got, [1, 2, 3]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn no_socket_is_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        let c = Client::new(dir.path().join("none.sock"));
        match c.get::<serde_json::Value>("/v1/version").await {
            Err(CtlError::Unreachable { source, .. }) => {
                assert_eq!(source.raw_os_error(), Some(libc::ENOENT))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(query_escape("api-*"), "api-%2A");
        assert_eq!(query_escape("a b/[x]"), "a%20b%2F%5Bx%5D");
    }
}
