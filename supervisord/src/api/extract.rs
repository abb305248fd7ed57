//! Turning untrusted request parts into typed values: bounded JSON bodies
//! (size checked before any allocation, read under a deadline), names in
//! paths and queries checked against the name grammar, query strings.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use devctl_units::api::runs::RunId;
use devctl_units::api::{ApiError, ErrorKind, LogStream, MAX_BODY_BYTES};
use devctl_units::name::{ProjectName, UnitName};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::{DeserializeOwned, IgnoredAny};

use super::error::api_error;

/// Longest piece of hostile input quoted back in an error message.
const QUOTE_MAX: usize = 80;

/// Quote untrusted text for an error message, shortened.
pub fn quote(s: &str) -> String {
    if s.chars().count() <= QUOTE_MAX {
        format!("{s:?}")
    } else {
        let short: String = s.chars().take(QUOTE_MAX).collect();
        format!("{short:?}…")
    }
}

/// A project name from a path or query.
pub fn project_name(s: &str) -> Result<ProjectName, ApiError> {
    ProjectName::new(s).map_err(|e| {
        api_error(
            ErrorKind::BadRequest,
            format!("invalid project name {}: {e}", quote(s)),
            Some("names are letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64 bytes"),
        )
    })
}

/// A unit name from a path or query.
pub fn unit_name(s: &str) -> Result<UnitName, ApiError> {
    UnitName::new(s).map_err(|e| {
        api_error(
            ErrorKind::BadRequest,
            format!("invalid unit name {}: {e}", quote(s)),
            Some("names are letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64 bytes"),
        )
    })
}

/// The declared `Content-Length`, refusing one above [`MAX_BODY_BYTES`].
pub fn check_length(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_LENGTH) else {
        return Ok(());
    };
    let declared = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            api_error(
                ErrorKind::BadRequest,
                "unreadable Content-Length header",
                None,
            )
        })?;
    if declared > MAX_BODY_BYTES as u64 {
        return Err(too_large(Some(declared)));
    }
    Ok(())
}

fn too_large(declared: Option<u64>) -> ApiError {
    let what = declared.map_or_else(
        || "the request body".to_owned(),
        |n| format!("a {n}-byte request body"),
    );
    api_error(
        ErrorKind::TooLarge,
        format!("{what} is larger than the {MAX_BODY_BYTES} bytes devctld accepts"),
        Some("split the request; unit files of one project together must stay under the limit"),
    )
}

/// Read the whole body: at most [`MAX_BODY_BYTES`], within `deadline`.
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    deadline: Duration,
) -> Result<bytes::Bytes, ApiError> {
    check_length(headers)?;
    let collected =
        tokio::time::timeout(deadline, Limited::new(body, MAX_BODY_BYTES).collect()).await;
    match collected {
        Err(_) => Err(api_error(
            ErrorKind::Timeout,
            format!(
                "the request body did not arrive within {} s",
                deadline.as_secs()
            ),
            None,
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(None)),
        Ok(Err(e)) => Err(api_error(
            ErrorKind::BadRequest,
            format!("could not read the request body: {e}"),
            None,
        )),
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

/// Read and decode a JSON body (serde_json caps nesting at 128 levels).
pub async fn read_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    deadline: Duration,
) -> Result<T, ApiError> {
    let bytes = read_body(headers, body, deadline).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        api_error(
            ErrorKind::BadRequest,
            format!("invalid JSON body: {e}"),
            Some("see supervisord/openapi.yaml for the request shapes"),
        )
    })
}

/// Read a body that carries nothing (`POST /v1/daemon/stop`, `…/reexec`):
/// empty, or a JSON object whose members are ignored; anything else is
/// refused before the request acts.
pub async fn read_empty_object(
    headers: &HeaderMap,
    body: Body,
    deadline: Duration,
) -> Result<(), ApiError> {
    let bytes = read_body(headers, body, deadline).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    serde_json::from_slice::<BTreeMap<String, IgnoredAny>>(&bytes)
        .map(drop)
        .map_err(|e| {
            api_error(
                ErrorKind::BadRequest,
                format!("the body must be empty or a JSON object: {e}"),
                Some("send no body, or {}"),
            )
        })
}

/// Parsed query pairs, in order, repeated keys kept.
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    /// Values of every occurrence of `key`.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + use<'a> {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The single value of `key`; repeating it is an error.
    pub fn one<'a>(&'a self, key: &'a str) -> Result<Option<&'a str>, ApiError> {
        let mut it = self.all(key);
        let first = it.next();
        if it.next().is_some() {
            return Err(api_error(
                ErrorKind::BadRequest,
                format!("query parameter {key:?} given twice"),
                None,
            ));
        }
        Ok(first)
    }

    /// Refuse keys outside `known`.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((k, _)) => Err(api_error(
                ErrorKind::BadRequest,
                format!(
                    "unknown query parameter {}; expected one of {}",
                    quote(k),
                    known.join(", ")
                ),
                None,
            )),
            None => Ok(()),
        }
    }

    /// A parsed value of `key`.
    pub fn parse<T: std::str::FromStr>(
        &self,
        key: &str,
        what: &str,
    ) -> Result<Option<T>, ApiError> {
        self.one(key)?
            .map(|v| {
                v.parse::<T>().map_err(|_| {
                    api_error(
                        ErrorKind::BadRequest,
                        format!("query parameter {key}={} is not {what}", quote(v)),
                        None,
                    )
                })
            })
            .transpose()
    }

    /// A boolean (`true`/`false`/`1`/`0`).
    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.one(key)? {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1" | "") => Ok(true),
            Some(v) => Err(api_error(
                ErrorKind::BadRequest,
                format!("query parameter {key}={} is not true or false", quote(v)),
                None,
            )),
        }
    }
}

/// A run id from a path or query.
pub fn run_id(s: &str) -> Result<RunId, ApiError> {
    RunId::parse(s).map_err(|e| {
        api_error(
            ErrorKind::BadRequest,
            e.to_string(),
            Some("run ids are 10 characters of 0-9 and a-z, as `devctl history` prints them"),
        )
    })
}

/// A log filter's regular expression (size-bounded: the daemon runs it on
/// every line).
pub fn grep_pattern(s: &str) -> Result<regex::Regex, ApiError> {
    regex::RegexBuilder::new(s)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            api_error(
                ErrorKind::BadRequest,
                format!("grep={} is not a valid regular expression: {e}", quote(s)),
                Some("the syntax is Rust's regex crate's (no look-around or backreferences)"),
            )
        })
}

/// `stdout` or `stderr`.
pub fn log_stream(s: &str) -> Result<LogStream, ApiError> {
    match s {
        "stdout" => Ok(LogStream::Stdout),
        "stderr" => Ok(LogStream::Stderr),
        _ => Err(api_error(
            ErrorKind::BadRequest,
            format!("stream={} is not stdout or stderr", quote(s)),
            None,
        )),
    }
}

/// Map an axum extractor rejection (path or query) to a 400.
pub fn rejected(what: &str, detail: impl std::fmt::Display) -> ApiError {
    api_error(
        ErrorKind::BadRequest,
        format!("malformed {what}: {detail}"),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(len: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_str(len).unwrap());
        h
    }

    #[test]
    fn hostile_names_are_bad_requests() {
        for bad in [
            "..",
            ".",
            "-rf",
            "a b",
            "x;rm -rf ~",
            "$(id)",
            "`id`",
            "a\nb",
            "foo.service",
            "%n",
            "",
            "a/b",
        ] {
            assert_eq!(
                project_name(bad).unwrap_err().kind,
                ErrorKind::BadRequest,
                "{bad:?}"
            );
            assert_eq!(
                unit_name(bad).unwrap_err().kind,
                ErrorKind::BadRequest,
                "{bad:?}"
            );
        }
        let long = "a".repeat(300);
        let err = unit_name(&long).unwrap_err();
        assert!(
            err.message.len() < 200,
            "hostile input is shortened: {}",
            err.message
        );
        assert!(project_name("pizzeria").is_ok() && unit_name("web-1").is_ok());
    }

    #[test]
    fn declared_length_is_checked_before_reading() {
        assert_eq!(
            check_length(&headers("4294967296")).unwrap_err().kind,
            ErrorKind::TooLarge
        );
        assert_eq!(
            check_length(&headers("nope")).unwrap_err().kind,
            ErrorKind::BadRequest
        );
        assert!(check_length(&headers("12")).is_ok());
        assert!(check_length(&HeaderMap::new()).is_ok());
    }

    #[tokio::test]
    async fn undeclared_oversized_body_is_too_large() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        let err = read_body(&HeaderMap::new(), Body::from(big), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::TooLarge);
    }

    #[tokio::test]
    async fn json_errors_are_bad_requests() {
        let deep = "[".repeat(10_000);
        for text in [deep.as_str(), "{\"a\":", "\u{7f}nope", ""] {
            let err = read_json::<serde_json::Value>(
                &HeaderMap::new(),
                Body::from(text.to_owned()),
                Duration::from_secs(5),
            )
            .await
            .unwrap_err();
            assert_eq!(err.kind, ErrorKind::BadRequest, "{text:.20}");
        }
        let ok: serde_json::Value = read_json(
            &HeaderMap::new(),
            Body::from("{\"a\":1}"),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(ok["a"], 1);
    }

    #[tokio::test(start_paused = true)]
    async fn stalled_body_times_out() {
        let (_tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
        let stream =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|x| (x, rx)) },
            );
        let err = read_body(
            &HeaderMap::new(),
            Body::from_stream(stream),
            Duration::from_secs(10),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Timeout);
    }

    #[test]
    fn query_pairs() {
        let q = QueryPairs(vec![
            ("unit".into(), "a".into()),
            ("unit".into(), "b".into()),
            ("n".into(), "x".into()),
            ("follow".into(), "maybe".into()),
        ]);
        assert_eq!(q.all("unit").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(q.one("unit").unwrap_err().kind, ErrorKind::BadRequest);
        assert_eq!(
            q.parse::<usize>("n", "a number").unwrap_err().kind,
            ErrorKind::BadRequest
        );
        assert_eq!(q.flag("follow").unwrap_err().kind, ErrorKind::BadRequest);
        assert!(!q.flag("absent").unwrap());
        assert_eq!(
            q.only(&["unit", "n"]).unwrap_err().kind,
            ErrorKind::BadRequest
        );
        assert!(q.only(&["unit", "n", "follow"]).is_ok());
    }
}
