//! Error answers: every failure is `{"error": {"kind", "message", "help"}}`
//! with the status [`ErrorKind::http_status`] gives, both through axum and
//! as canned bytes written before hyper ever sees the connection.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use devctl_units::api::{ApiError, ErrorBody, ErrorKind};

/// Build an [`ApiError`].
pub fn api_error(kind: ErrorKind, message: impl Into<String>, help: Option<&str>) -> ApiError {
    ApiError {
        kind,
        message: message.into(),
        help: help.map(str::to_owned),
    }
}

/// The HTTP response for an error.
pub fn reply_error(err: ApiError) -> Response {
    let status =
        StatusCode::from_u16(err.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&ErrorBody { error: err }).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A complete HTTP/1.1 error response with `Connection: close`, for answers
/// written straight to the socket (peer rejected, daemon busy).
pub fn canned_error(err: ApiError) -> Vec<u8> {
    let status =
        StatusCode::from_u16(err.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(&ErrorBody { error: err }).unwrap_or_else(|_| "{}".into());
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error"),
        body.len(),
        body
    )
    .into_bytes()
}

/// Handler result: a JSON value or an error answer.
pub struct ApiReply(pub Result<Response, ApiError>);

impl IntoResponse for ApiReply {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(r) => r,
            Err(e) => reply_error(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_matches_kind() {
        for kind in [
            ErrorKind::BadRequest,
            ErrorKind::NotFound,
            ErrorKind::TooLarge,
            ErrorKind::Internal,
        ] {
            let r = reply_error(api_error(kind, "x", None));
            assert_eq!(r.status().as_u16(), kind.http_status());
            assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        }
    }

    #[test]
    fn canned_is_a_complete_response() {
        let bytes = canned_error(api_error(
            ErrorKind::Forbidden,
            "uid 7 is not uid 8",
            Some("run as the owner"),
        ));
        let text = String::from_utf8(bytes).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 403 Forbidden\r\n"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let parsed: ErrorBody = serde_json::from_str(body).unwrap();
        assert_eq!(parsed.error.kind, ErrorKind::Forbidden);
        assert_eq!(parsed.error.help.as_deref(), Some("run as the owner"));
    }
}
