//! What the dashboard serves besides the API: the page (with the session
//! token in a `<meta>` for the page's API calls), its embedded files, and
//! `/events`, the core's event stream as server-sent events. The stream
//! waits on the core's broadcast channel: an open page on an idle daemon
//! costs nothing. A page that falls behind gets a `lagged` event saying how
//! many events it missed, then the stream ends and the page re-reads the state.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use tokio::sync::{broadcast, watch};

use super::security::{Gate, refuse};
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

/// `GET /events`: every core event as `data: <Event JSON>`.
pub async fn events<C: CoreApi>(State(st): State<PageState<C>>) -> Response {
    let rx = st.core.subscribe_events();
    let hello = stream::iter([Bytes::from_static(b"retry: 1000\n: connected\n\n")]);
    let live = stream::unfold(Some((rx, st.stop)), |state| async move {
        let (mut rx, mut stop) = state?;
        let next = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return None,
            r = rx.recv() => r,
        };
        match next {
            Ok(e) => {
                let json = serde_json::to_string(&e).unwrap_or_else(|_| "{}".into());
                Some((sse(None, &json), Some((rx, stop))))
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
