//! The Kubernetes provider (cargo feature `kubernetes`): every kube-rs and
//! k8s-openapi type stays in this folder; the core sees only its
//! `Provider` implementation and its registration ([`Kubernetes`]).

pub mod apply;
pub mod cluster;
pub mod error;
pub mod images;
pub mod kind;
pub mod live;
pub mod manifests;
pub mod provider;
pub mod ready;
pub mod stream;

pub use error::KubeError;
pub use kind::Kubernetes;
pub use provider::{KubeProvider, effective_unit};
