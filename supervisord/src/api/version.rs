//! The API version check carried by every request: a client names the
//! version it speaks in [`API_VERSION_HEADER`], and a daemon that speaks
//! another refuses the request before any handler runs. This spares the
//! CLI a version request before each verb (one round trip per query).
//! Requests without the header (curl, other clients) are served as before.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use devctl_units::api::{API_VERSION, API_VERSION_HEADER, DAEMON_PID_HEADER, ErrorKind};

use super::error::{api_error, reply_error};

/// Refuse a request whose client speaks another API version.
pub async fn check_client_version(req: Request, next: Next) -> Response {
    let theirs = req.headers().get(API_VERSION_HEADER).map(|v| v.to_str());
    match theirs {
        None => next.run(req).await,
        Some(Ok(v)) if v.trim().parse::<u32>() == Ok(API_VERSION) => next.run(req).await,
        Some(v) => {
            let shown = v.unwrap_or("(not text)");
            let mut resp = reply_error(api_error(
                ErrorKind::BadRequest,
                format!(
                    "this daemon speaks API version {API_VERSION}; the request names {API_VERSION_HEADER}: {shown}"
                ),
                Some(
                    "use a client of the daemon's version, or restart the daemon with the client's",
                ),
            ));
            let h = resp.headers_mut();
            h.insert(API_VERSION_HEADER, HeaderValue::from(API_VERSION));
            h.insert(DAEMON_PID_HEADER, HeaderValue::from(std::process::id()));
            resp
        }
    }
}
