//! The manager's error answers: how a refusal and a storage failure read
//! to an API caller.

use devctl_units::api::{ApiError, ErrorKind};

use crate::state::store::StateError;

/// An error answer.
pub fn api_err(kind: ErrorKind, message: impl Into<String>) -> ApiError {
    ApiError {
        kind,
        message: message.into(),
        help: None,
    }
}

/// A storage failure as an API error.
pub fn storage_err(e: &StateError) -> ApiError {
    ApiError {
        kind: ErrorKind::Storage,
        message: format!("change not persisted: {e}"),
        help: Some(
            "free some disk space or fix the state directory's permissions, then retry".into(),
        ),
    }
}
