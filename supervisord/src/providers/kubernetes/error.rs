//! Typed errors of the Kubernetes provider, each with the help a user
//! needs to fix it, and their mapping onto the core's [`StartFailure`]:
//! a cluster that cannot be reached or accepts no credentials makes the
//! unit `provider-unavailable`; manifests the provider cannot read, or
//! the API server rejects, make it `exec-failed`. Every message names
//! what it is about: the context and server, the file, or the object.

use std::path::PathBuf;
use std::time::Duration;

use devctl_units::state::UnitResult;

use crate::core::provider::StartFailure;

/// Which cluster a message is about: the kubeconfig context and its
/// API server (as far as they are known).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub context: String,
    pub server: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "context `{}` (server {})", self.context, self.server)
    }
}

/// Everything that can go wrong applying, watching or deleting a unit's
/// objects.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum KubeError {
    #[error("cannot load the kubeconfig {path}: {message}")]
    #[diagnostic(
        code(devctl::kubernetes::kubeconfig),
        help(
            "point the unit at a readable kubeconfig (`kubeconfig \"path\"` in the kubernetes \
             block), or set KUBECONFIG in devctld's environment; `kubectl config view` shows \
             what it holds"
        )
    )]
    Kubeconfig { path: String, message: String },

    #[error("the kubeconfig {path} has no usable context `{context}`: {message}")]
    #[diagnostic(
        code(devctl::kubernetes::context),
        help(
            "pick one of `kubectl config get-contexts` with `context \"NAME\"` in the \
             kubernetes block, or fix the kubeconfig"
        )
    )]
    Context {
        path: String,
        context: String,
        message: String,
    },

    #[error("the cluster of {target} cannot be reached: {message}")]
    #[diagnostic(
        code(devctl::kubernetes::unreachable),
        help(
            "start the cluster or fix its address in the kubeconfig (`kubectl --context \
             CONTEXT cluster-info` shows the same failure); then start the unit again"
        )
    )]
    Unreachable { target: Target, message: String },

    #[error("the cluster of {target} refused devctl's credentials: {message}")]
    #[diagnostic(
        code(devctl::kubernetes::credentials),
        help("renew the credentials of the context in the kubeconfig (a token may have expired)")
    )]
    Credentials { target: Target, message: String },

    #[error("the cluster of {target} did not answer `{op}` within {}", humantime::format_duration(*after))]
    #[diagnostic(
        code(devctl::kubernetes::timeout),
        help(
            "check the API server's health (`kubectl get --raw /readyz`); then start the unit again"
        )
    )]
    Timeout {
        target: Target,
        op: String,
        after: Duration,
    },

    #[error("{path}: {message}")]
    #[diagnostic(
        code(devctl::kubernetes::manifest),
        help("`devctl check` validates the manifests offline and points into the YAML")
    )]
    Manifest { path: PathBuf, message: String },

    #[error("{object}: the cluster of {target} has no such kind: {message}")]
    #[diagnostic(
        code(devctl::kubernetes::unknown_kind),
        help(
            "check apiVersion and kind (`kubectl api-resources`); a custom resource needs its \
             CustomResourceDefinition applied first, in this unit or before it"
        )
    )]
    UnknownKind {
        object: String,
        target: Target,
        message: String,
    },

    #[error("applying {object} failed: {message}")]
    #[diagnostic(
        code(devctl::kubernetes::apply),
        help(
            "the API server's message says what it rejected; a conflict means another field \
             manager owns the field (`kubectl get -o yaml --show-managed-fields`)"
        )
    )]
    Apply { object: String, message: String },

    #[error("{op} in the cluster of {target} failed: {message}")]
    #[diagnostic(code(devctl::kubernetes::api))]
    Api {
        target: Target,
        op: String,
        message: String,
    },

    #[error("building the image {image} failed: {message}")]
    #[diagnostic(
        code(devctl::kubernetes::image),
        help("the build output is in the unit's log (`devctl logs UNIT`)")
    )]
    Image { image: String, message: String },
}

impl KubeError {
    /// The message with its help, as the unit's status shows it.
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
        let result = match self {
            KubeError::Kubeconfig { .. }
            | KubeError::Context { .. }
            | KubeError::Unreachable { .. }
            | KubeError::Credentials { .. }
            | KubeError::Timeout { .. } => UnitResult::ProviderUnavailable,
            KubeError::Manifest { .. }
            | KubeError::UnknownKind { .. }
            | KubeError::Apply { .. }
            | KubeError::Api { .. }
            | KubeError::Image { .. } => UnitResult::ExecFailed,
        };
        StartFailure::Permanent { result, message }
    }
}

impl From<KubeError> for StartFailure {
    fn from(e: KubeError) -> StartFailure {
        e.into_start_failure()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            context: "dev".into(),
            server: "https://127.0.0.1:6443".into(),
        }
    }

    #[test]
    fn cluster_failures_name_context_and_server_and_make_the_provider_unavailable() {
        let e = KubeError::Unreachable {
            target: target(),
            message: "connection refused".into(),
        };
        match e.into_start_failure() {
            StartFailure::Permanent { result, message } => {
                assert_eq!(result, UnitResult::ProviderUnavailable);
                assert!(message.contains("context `dev`"), "{message}");
                assert!(message.contains("https://127.0.0.1:6443"), "{message}");
                assert!(message.contains("connection refused"), "{message}");
            }
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn apply_failures_name_the_object_and_keep_the_servers_message() {
        let e = KubeError::Apply {
            object: "Deployment default/web".into(),
            message: "spec.replicas: Invalid value: -1".into(),
        };
        match e.into_start_failure() {
            StartFailure::Permanent { result, message } => {
                assert_eq!(result, UnitResult::ExecFailed);
                assert!(
                    message.starts_with(
                        "applying Deployment default/web failed: spec.replicas: Invalid value: -1"
                    ),
                    "{message}"
                );
            }
            f => panic!("{f:?}"),
        }
    }
}
