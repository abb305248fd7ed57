//! Typed errors of the Docker adapter, each with the help a user needs to
//! fix it, and their mapping onto the core's [`StartFailure`].

use std::path::PathBuf;

use devctl_units::state::UnitResult;

use crate::core::provider::StartFailure;

/// Why the engine could not be reached (classified from the io error kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// No socket file at that path.
    NoSocket,
    /// The socket exists but nothing listens on it.
    Refused,
    /// The socket is not accessible to this user.
    PermissionDenied,
    /// The engine did not answer in time.
    Timeout,
    /// Another connection-level failure.
    Other,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unreachable::NoSocket => "no socket there",
            Unreachable::Refused => "connection refused (no engine listening)",
            Unreachable::PermissionDenied => "permission denied on the socket",
            Unreachable::Timeout => "no answer in time",
            Unreachable::Other => "connection failed",
        })
    }
}

/// Everything that can go wrong talking to the engine.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DockerError {
    #[error("the Docker engine at {host} cannot be reached: {reason}")]
    #[diagnostic(
        code(devctl::docker::unreachable),
        help(
            "start the engine (`sudo systemctl start docker`, or run `dockerd`), or point \
             DOCKER_HOST at a running engine's socket (DOCKER_HOST=unix:///path/to/docker.sock) \
             in devctld's environment; then start the unit again"
        )
    )]
    Unreachable {
        host: String,
        reason: Unreachable,
        #[source]
        source: Option<bollard::errors::Error>,
    },

    #[error("DOCKER_HOST={host} is not supported: devctld reaches the engine over a Unix socket")]
    #[diagnostic(
        code(devctl::docker::unsupported_host),
        help(
            "set DOCKER_HOST=unix:///path/to/docker.sock, or unset it to use /var/run/docker.sock"
        )
    )]
    UnsupportedHost { host: String },

    #[error("image {image} is not in the local Docker engine (devctl never pulls images)")]
    #[diagnostic(
        code(devctl::docker::image_missing),
        help(
            "pull or load it first (`docker pull {image}`), or let devctl build it: \
             `build \"DIR\"` in the container's image settings"
        )
    )]
    ImageMissing { image: String },

    #[error("building image {image} failed: {message}")]
    #[diagnostic(
        code(devctl::docker::build_failed),
        help("the build output is in the unit's log: `devctl logs UNIT`")
    )]
    BuildFailed { image: String, message: String },

    #[error("cannot read the build context {path}: {source}")]
    #[diagnostic(
        code(devctl::docker::build_context),
        help("the build context must be a readable directory")
    )]
    BuildContext {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("image {image} defines no HEALTHCHECK, so `healthcheck` cannot tell when it is ready")]
    #[diagnostic(
        code(devctl::docker::no_healthcheck),
        help("add a HEALTHCHECK to the image, or replace `healthcheck` with a `ready` probe")
    )]
    NoHealthcheck { image: String },

    #[error("env-file {path}: {source}")]
    #[diagnostic(
        code(devctl::docker::env_file),
        help("create the file, or mark it optional: `env-file \"PATH\" optional=#true`")
    )]
    EnvFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("host port {port} is already in use{}", holder.as_ref().map(|h| format!(" by {h}")).unwrap_or_default())]
    #[diagnostic(
        code(devctl::docker::port_in_use),
        help("stop what holds the port, or publish the container on another host port")
    )]
    PortInUse { port: u16, holder: Option<String> },

    #[error("a container named {name} already exists and was not created by this devctld")]
    #[diagnostic(
        code(devctl::docker::name_taken),
        help("remove or rename it (`docker rm -f {name}`) if it is not needed")
    )]
    NameTaken { name: String },

    #[error("Docker engine: {op} {target}: {source}")]
    #[diagnostic(code(devctl::docker::api))]
    Api {
        op: &'static str,
        target: String,
        #[source]
        source: bollard::errors::Error,
    },
}

impl DockerError {
    /// An API error from operation `op` on `target`.
    pub fn api(op: &'static str, target: &str, source: bollard::errors::Error) -> DockerError {
        DockerError::Api {
            op,
            target: target.to_string(),
            source,
        }
    }

    /// The container runtime failed while setting the container up, before
    /// anything of the image ran (runc's "error during container init",
    /// seen now and then on a loaded machine): starting it again is safe.
    pub fn is_runtime_setup_failure(&self) -> bool {
        matches!(
            self,
            DockerError::Api {
                source: bollard::errors::Error::DockerResponseServerError { status_code: 500, message },
                ..
            } if message.contains("error during container init")
        )
    }

    /// The HTTP status the engine answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            DockerError::Api {
                source: bollard::errors::Error::DockerResponseServerError { status_code, .. },
                ..
            } => Some(*status_code),
            _ => None,
        }
    }

    /// The message a user sees: the error and its help on one line.
    pub fn user_message(&self) -> String {
        use miette::Diagnostic;
        match self.help() {
            Some(h) => format!("{self}; {h}"),
            None => self.to_string(),
        }
    }

    /// How the core treats a start that failed with this error.
    pub fn into_start_failure(self) -> StartFailure {
        let message = self.user_message();
        match self {
            DockerError::Unreachable { .. } | DockerError::UnsupportedHost { .. } => {
                StartFailure::Permanent {
                    result: UnitResult::ProviderUnavailable,
                    message,
                }
            }
            DockerError::PortInUse { .. } => StartFailure::Permanent {
                result: UnitResult::PortInUse,
                message,
            },
            DockerError::ImageMissing { .. }
            | DockerError::BuildFailed { .. }
            | DockerError::BuildContext { .. }
            | DockerError::NoHealthcheck { .. }
            | DockerError::EnvFile { .. }
            | DockerError::NameTaken { .. } => StartFailure::Permanent {
                result: UnitResult::ExecFailed,
                message,
            },
            DockerError::Api { .. } => StartFailure::Transient {
                result: UnitResult::ExecFailed,
                message,
            },
        }
    }
}

/// Classify a connection failure by the io error kind in its source chain.
pub fn classify(err: &(dyn std::error::Error + 'static)) -> Unreachable {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::NotFound => Unreachable::NoSocket,
                std::io::ErrorKind::ConnectionRefused => Unreachable::Refused,
                std::io::ErrorKind::PermissionDenied => Unreachable::PermissionDenied,
                std::io::ErrorKind::TimedOut => Unreachable::Timeout,
                _ => Unreachable::Other,
            };
        }
        match e.downcast_ref::<bollard::errors::Error>() {
            Some(bollard::errors::Error::SocketNotFoundError(_)) => return Unreachable::NoSocket,
            Some(bollard::errors::Error::RequestTimeoutError) => return Unreachable::Timeout,
            // `transparent` errors skip their inner error in `source()`.
            Some(bollard::errors::Error::IOError { err }) => return classify(err),
            _ => {}
        }
        cur = e.source();
    }
    Unreachable::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_by_io_kind() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(classify(&io), Unreachable::Refused);
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(classify(&io), Unreachable::PermissionDenied);
        let e = bollard::errors::Error::SocketNotFoundError("/x".into());
        assert_eq!(classify(&e), Unreachable::NoSocket);
        assert_eq!(
            classify(&bollard::errors::Error::RequestTimeoutError),
            Unreachable::Timeout
        );
        let wrapped = bollard::errors::Error::IOError {
            err: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(classify(&wrapped), Unreachable::NoSocket);
    }

    #[test]
    fn start_failure_mapping() {
        let e = DockerError::Unreachable {
            host: "unix:///nonexistent.sock".into(),
            reason: Unreachable::NoSocket,
            source: None,
        };
        match e.into_start_failure() {
            StartFailure::Permanent { result, message } => {
                assert_eq!(result, UnitResult::ProviderUnavailable);
                assert!(message.contains("unix:///nonexistent.sock"), "{message}");
                assert!(message.contains("DOCKER_HOST"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let e = DockerError::ImageMissing {
            image: "nope:1".into(),
        };
        assert!(matches!(
            e.into_start_failure(),
            StartFailure::Permanent { result: UnitResult::ExecFailed, message } if message.contains("nope:1")
        ));
        let e = DockerError::PortInUse {
            port: 18080,
            holder: Some("pid 42 (nc -l)".into()),
        };
        assert!(matches!(
            e.into_start_failure(),
            StartFailure::Permanent { result: UnitResult::PortInUse, message }
                if message.contains("port 18080 is already in use by pid 42 (nc -l)")
        ));
        let e = DockerError::api(
            "start",
            "c",
            bollard::errors::Error::DockerResponseServerError {
                status_code: 500,
                message: "port is already allocated".into(),
            },
        );
        assert_eq!(e.status(), Some(500));
        assert!(!e.is_runtime_setup_failure());
        assert!(matches!(
            e.into_start_failure(),
            StartFailure::Transient { .. }
        ));
        let init = |status_code: u16| {
            DockerError::api(
                "start container",
                "c",
                bollard::errors::Error::DockerResponseServerError {
                    status_code,
                    message: "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: writing syncT \"procResume\": write init-p: broken pipe: unknown".into(),
                },
            )
        };
        assert!(init(500).is_runtime_setup_failure());
        assert!(!init(404).is_runtime_setup_failure());
        assert!(!DockerError::NameTaken { name: "c".into() }.is_runtime_setup_failure());
    }
}
