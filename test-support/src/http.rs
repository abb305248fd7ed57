//! A tiny HTTP/1.1 client over the daemon's Unix socket, on std only, so
//! tests can send well-formed requests and deliberately broken bytes alike.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Ceiling for reading an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// A parsed answer (chunked bodies decoded).
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl HttpReply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    /// `error.kind` of an error body.
    pub fn error_kind(&self) -> String {
        self.json()["error"]["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.body))
            .to_owned()
    }
}

/// The bytes of one request with `Connection: close` (a JSON body when given).
pub fn request_bytes(method: &str, path: &str, body: Option<&str>) -> String {
    match body {
        Some(b) => format!(
            "{method} {path} HTTP/1.1\r\nhost: devctld\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{b}",
            b.len()
        ),
        None => format!("{method} {path} HTTP/1.1\r\nhost: devctld\r\nconnection: close\r\n\r\n"),
    }
}

/// One request with `Connection: close`.
pub fn request(
    socket: &Path,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> io::Result<HttpReply> {
    raw(
        socket,
        request_bytes(method, path, body).as_bytes(),
        READ_TIMEOUT,
    )
}

/// Send raw bytes and read until the server closes (or `read_timeout`).
pub fn raw(socket: &Path, bytes: &[u8], read_timeout: Duration) -> io::Result<HttpReply> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(read_timeout))?;
    // The server may answer and close before reading everything (413).
    let _ = s.write_all(bytes);
    let mut buf = Vec::new();
    match s.read_to_end(&mut buf) {
        Ok(_) => {}
        Err(e) if !buf.is_empty() && e.kind() == io::ErrorKind::ConnectionReset => {}
        Err(e) => return Err(e),
    }
    Ok(parse_reply(&buf))
}

/// Parse an answer read to its end: status, head, body (chunks decoded).
pub fn parse_reply(buf: &[u8]) -> HttpReply {
    let text = String::from_utf8_lossy(buf).into_owned();
    let Some((head, rest)) = text.split_once("\r\n\r\n") else {
        return HttpReply {
            status: 0,
            head: text,
            body: String::new(),
        };
    };
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    HttpReply {
        status,
        head: head.to_owned(),
        body,
    }
}

/// Decode a chunked body (as much as is complete).
pub fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || tail.len() < n {
            out.push_str(&tail[..n.min(tail.len())]);
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].strip_prefix("\r\n").unwrap_or(&tail[n..]);
    }
    out
}

/// An open NDJSON stream, read one JSON value at a time.
pub struct LineStream {
    reader: BufReader<UnixStream>,
    pub status: u16,
}

impl LineStream {
    /// `GET path` and read the head.
    pub fn open(socket: &Path, path: &str) -> io::Result<LineStream> {
        let mut s = UnixStream::connect(socket)?;
        s.set_read_timeout(Some(READ_TIMEOUT))?;
        write!(s, "GET {path} HTTP/1.1\r\nhost: devctld\r\n\r\n")?;
        let mut reader = BufReader::new(s);
        let mut status_line = String::new();
        reader.read_line(&mut status_line)?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        loop {
            let mut l = String::new();
            if reader.read_line(&mut l)? == 0 || l == "\r\n" {
                break;
            }
        }
        Ok(LineStream { reader, status })
    }

    /// The next JSON value, or `None` at the end of the stream.
    pub fn next_value(&mut self, timeout: Duration) -> io::Result<Option<serde_json::Value>> {
        self.reader.get_ref().set_read_timeout(Some(timeout))?;
        loop {
            let mut l = String::new();
            if self.reader.read_line(&mut l)? == 0 {
                return Ok(None);
            }
            // Chunk-size lines and blank separators are not JSON.
            let t = l.trim();
            if t.starts_with('{') {
                return Ok(Some(serde_json::from_str(t).map_err(io::Error::other)?));
            }
            if t == "0" {
                return Ok(None);
            }
        }
    }
}
