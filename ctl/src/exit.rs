//! The one place that owns devctl's exit codes (product.md §5) and maps
//! every error — local ones and the daemon's [`ErrorKind`] — to them.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the operation failed (unit failed, probe failed, build failed) |
//! | 2 | usage error |
//! | 3 | not active / not enabled / not failed (`is-*`, as systemctl) |
//! | 4 | no such unit or project |
//! | 65 | the manifest is invalid |
//! | 69 | the daemon cannot be reached or started |
//! | 124 | timed out waiting |

use devctl_units::api::ErrorKind;

use crate::error::CtlError;
use crate::systemd::error::SystemdError;

/// An exit status of `devctl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    Failed,
    Usage,
    NotActive,
    NotFound,
    InvalidManifest,
    Unavailable,
    TimedOut,
    /// `devctl run BUILD` exits with the build's own code.
    Build(u8),
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::NotActive => 3,
            Exit::NotFound => 4,
            Exit::InvalidManifest => 65,
            Exit::Unavailable => 69,
            Exit::TimedOut => 124,
            Exit::Build(c) => c,
        }
    }

    /// Every documented code with its meaning, for the manual page.
    pub const TABLE: &'static [(u8, &'static str)] = &[
        (0, "success"),
        (1, "the operation failed (a unit, probe or build failed)"),
        (2, "usage error"),
        (
            3,
            "not active, not enabled or not failed (is-active, is-enabled, is-failed)",
        ),
        (4, "no such unit or project"),
        (65, "the manifest is invalid"),
        (69, "the daemon cannot be reached or started"),
        (124, "timed out waiting"),
    ];
}

/// The exit code for an error answer of the daemon.
pub fn for_api_kind(kind: ErrorKind) -> Exit {
    match kind {
        ErrorKind::BadRequest | ErrorKind::MethodNotAllowed | ErrorKind::TooLarge => Exit::Usage,
        ErrorKind::NotFound => Exit::NotFound,
        ErrorKind::InvalidUnits => Exit::InvalidManifest,
        ErrorKind::Failed | ErrorKind::Storage | ErrorKind::Internal => Exit::Failed,
        ErrorKind::Timeout => Exit::TimedOut,
        ErrorKind::Forbidden | ErrorKind::Busy => Exit::Unavailable,
    }
}

/// The exit code for any error of the CLI.
pub fn for_error(err: &CtlError) -> Exit {
    match err {
        CtlError::Usage { .. } | CtlError::BadName { .. } => Exit::Usage,
        CtlError::NoManifest { .. } | CtlError::NotFound { .. } | CtlError::NoUnitFile { .. } => {
            Exit::NotFound
        }
        CtlError::InvalidManifest(_) | CtlError::Manifest(_) | CtlError::ManifestRead { .. } => {
            Exit::InvalidManifest
        }
        CtlError::Unreachable { .. }
        | CtlError::DaemonStart { .. }
        | CtlError::NoDaemonBinary { .. }
        | CtlError::ApiMismatch { .. } => Exit::Unavailable,
        CtlError::Api(api) => for_api_kind(api.kind),
        CtlError::TimedOut { .. } => Exit::TimedOut,
        CtlError::Systemd(SystemdError::NoBus { .. } | SystemdError::Disconnected) => {
            Exit::Unavailable
        }
        CtlError::Systemd(_) => Exit::Failed,
        CtlError::Import(e) => match e.kind() {
            "usage" => Exit::Usage,
            "not-found" => Exit::NotFound,
            "invalid-manifest" => Exit::InvalidManifest,
            _ => Exit::Failed,
        },
        CtlError::Io { .. }
        | CtlError::Protocol { .. }
        | CtlError::Failed { .. }
        | CtlError::NoDevctlBinary { .. }
        | CtlError::Paths(_) => Exit::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::api::ApiError;
    use std::path::PathBuf;

    #[test]
    fn codes_match_the_contract() {
        let pairs = [
            (Exit::Ok, 0),
            (Exit::Failed, 1),
            (Exit::Usage, 2),
            (Exit::NotActive, 3),
            (Exit::NotFound, 4),
            (Exit::InvalidManifest, 65),
            (Exit::Unavailable, 69),
            (Exit::TimedOut, 124),
            (Exit::Build(7), 7),
        ];
        for (exit, code) in pairs {
            assert_eq!(exit.code(), code, "{exit:?}");
        }
        assert_eq!(Exit::TABLE.len(), 8);
    }

    #[test]
    fn every_api_kind_maps() {
        let want = [
            (ErrorKind::BadRequest, 2),
            (ErrorKind::MethodNotAllowed, 2),
            (ErrorKind::NotFound, 4),
            (ErrorKind::InvalidUnits, 65),
            (ErrorKind::Failed, 1),
            (ErrorKind::Timeout, 124),
            (ErrorKind::TooLarge, 2),
            (ErrorKind::Forbidden, 69),
            (ErrorKind::Busy, 69),
            (ErrorKind::Storage, 1),
            (ErrorKind::Internal, 1),
        ];
        for (kind, code) in want {
            assert_eq!(for_api_kind(kind).code(), code, "{kind:?}");
            let err = CtlError::Api(ApiError {
                kind,
                message: "m".into(),
                help: None,
            });
            assert_eq!(for_error(&err).code(), code);
        }
    }

    #[test]
    fn local_errors_map() {
        let io = || std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(
            for_error(&CtlError::Unreachable {
                socket: PathBuf::from("/s"),
                source: io()
            })
            .code(),
            69
        );
        assert_eq!(
            for_error(&CtlError::NoManifest {
                start: PathBuf::from("/")
            })
            .code(),
            4
        );
        assert_eq!(
            for_error(&CtlError::Usage {
                message: "x".into()
            })
            .code(),
            2
        );
        assert_eq!(
            for_error(&CtlError::TimedOut { what: "x".into() }).code(),
            124
        );
        assert_eq!(
            for_error(&CtlError::Manifest(
                devctl_compiler::ManifestError::Timeout {
                    path: PathBuf::from("/m"),
                    limit_ms: 2000
                }
            ))
            .code(),
            65
        );
        assert_eq!(
            for_error(&CtlError::Failed {
                message: "x".into()
            })
            .code(),
            1
        );
    }
}
