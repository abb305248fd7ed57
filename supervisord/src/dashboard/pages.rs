//! What the dashboard serves besides the API: the page (with the session
//! token in a `<meta>` for the page's API calls), its embedded files, and
//! `/events`, the core's event stream as server-sent events. The stream
//! waits on the core's broadcast channel: an open page on an idle daemon
//! costs nothing. A page that falls behind gets a `lagged` event saying how
//! many events it missed, then the stream ends and the page re-reads the state.
//!
//! The stream opens with a `hello` event naming it; the page then says
//! which running units it shows (`POST /events/{stream}/watch`) and gets
//! their CPU and memory as `usage` events while it shows them (`usage.rs`).

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use tokio::sync::{broadcast, watch};

use super::security::{Gate, refuse};
use super::usage::{UsageHub, Watch, WatchError, WatchRequest};
use crate::api::extract::read_json;
use crate::api::reply_error;
use crate::core::handle::CoreApi;

const INDEX: &str = include_str!("assets/index.html");

/// Every embedded file: name, content type, bytes.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    ),
    (
        "view.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/view.js"),
    ),
    (
        "graph.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/graph.js"),
    ),
    (
        "logs.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/logs.js"),
    ),
    (
        "usage.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/usage.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("assets/favicon.svg"),
    ),
];

/// What the page handlers see.
#[derive(Clone)]
pub struct PageState<C> {
    pub core: C,
    pub gate: Gate,
    pub stop: watch::Receiver<bool>,
    pub usage: UsageHub<C>,
}

fn typed(body: impl Into<Body>, content_type: &'static str) -> Response {
    let mut r = Response::new(body.into());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// `GET /`: the page, carrying the token its API calls send in a header.
pub async fn index<C: CoreApi>(State(st): State<PageState<C>>) -> Response {
    let html = INDEX.replace("{{TOKEN}}", &st.gate.secret);
    typed(html, "text/html; charset=utf-8")
}

/// `GET /assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, ty, body)) => typed(*body, ty),
        None => refuse(StatusCode::NOT_FOUND, &format!("no such file: {file}")),
    }
}

fn sse(event: Option<&str>, data: &str) -> Bytes {
    let mut s = String::with_capacity(data.len() + 16);
    if let Some(e) = event {
        s.push_str("event: ");
        s.push_str(e);
        s.push('\n');
    }
    s.push_str("data: ");
    s.push_str(data);
    s.push_str("\n\n");
    Bytes::from(s)
}

/// What one page's event stream waits on.
struct Feed {
    events: broadcast::Receiver<devctl_units::api::Event>,
    stop: watch::Receiver<bool>,
    usage: Watch,
}

/// `GET /events`: `hello` with the stream's id, then every core event as
/// `data: <Event JSON>`, and `usage` events while the page watches units.
pub async fn events<C: CoreApi>(State(st): State<PageState<C>>) -> Response {
    let usage = st.usage.register();
    let hello = stream::iter([
        Bytes::from_static(b"retry: 1000\n: connected\n\n"),
        sse(Some("hello"), &format!("{{\"stream\":{}}}", usage.id)),
    ]);
    let feed = Feed {
        events: st.core.subscribe_events(),
        stop: st.stop,
        usage,
    };
    let live = stream::unfold(Some(feed), |state| async move {
        let mut f = state?;
        let next = loop {
            let usage = tokio::select! {
                biased;
                _ = f.stop.wait_for(|s| *s) => return None,
                r = f.events.recv() => break r,
                changed = f.usage.frames.changed() => {
                    changed.ok()?;
                    f.usage.frames.borrow_and_update().clone()
                }
            };
            if let Some(frame) = usage {
                let data = sse(Some("usage"), &String::from_utf8_lossy(&frame));
                return Some((data, Some(f)));
            }
        };
        match next {
            Ok(e) => {
                let json = serde_json::to_string(&e).unwrap_or_else(|_| "{}".into());
                Some((sse(None, &json), Some(f)))
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                Some((sse(Some("lagged"), &format!("{{\"missed\":{n}}}")), None))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    });
    let body = Body::from_stream(hello.chain(live).map(Ok::<_, Infallible>));
    let mut r = typed(body, "text/event-stream");
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.into_response()
}

/// `POST /events/{stream}/watch`: the running units page `stream` shows.
pub async fn watch_units<C: CoreApi>(
    State(st): State<PageState<C>>,
    Path(stream): Path<u64>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let req: WatchRequest = match read_json(&headers, body, BODY_TIMEOUT).await {
        Ok(r) => r,
        Err(e) => return reply_error(e),
    };
    match st.usage.set(stream, req.units) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => reply_error(watch_error(e)),
    }
}

/// How long a watch request's body may take to arrive.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn watch_error(e: WatchError) -> devctl_units::api::ApiError {
    use devctl_units::api::ErrorKind;
    let kind = match e {
        WatchError::UnknownStream { .. } => ErrorKind::NotFound,
        WatchError::TooMany { .. } => ErrorKind::TooLarge,
    };
    devctl_units::api::ApiError {
        kind,
        message: e.to_string(),
        help: miette::Diagnostic::help(&e).map(|h| h.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_frames() {
        assert_eq!(&sse(None, "{}")[..], b"data: {}\n\n");
        assert_eq!(
            &sse(Some("lagged"), "{\"missed\":3}")[..],
            b"event: lagged\ndata: {\"missed\":3}\n\n"
        );
    }

    #[test]
    fn every_module_a_script_imports_is_embedded() {
        for (name, _, body) in ASSETS {
            for import in body.split("from \"./").skip(1) {
                let file = import.split('"').next().unwrap();
                assert!(
                    ASSETS.iter().any(|(n, _, _)| *n == file),
                    "{name} imports ./{file}, which is not embedded"
                );
            }
        }
    }

    #[test]
    fn every_script_the_page_names_is_embedded() {
        for (name, _, body) in ASSETS {
            assert!(!body.is_empty(), "{name}");
        }
        for src in INDEX.split("/assets/").skip(1) {
            let name = src.split('"').next().unwrap();
            assert!(
                ASSETS.iter().any(|(n, _, _)| *n == name),
                "the page names /assets/{name}, which is not embedded"
            );
        }
    }
}
