//! The CLI's error type and how an error is shown: `error: …` plus `help: …`
//! on stderr, the full miette report for an invalid manifest, or with
//! `--json` the object `{"error": {"kind", "message", "help", "diagnostics"}}`.
//! Which exit code an error gets is decided in [`crate::exit`] alone.

use std::path::PathBuf;

use devctl_compiler::ManifestError;
use devctl_units::api::ApiError;
use miette::Diagnostic;
use serde_json::{Value, json};

/// Everything that can go wrong in `devctl`.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    #[error("{message}")]
    Usage { message: String },
    #[error("{name:?} is not a valid {what} name: {reason}")]
    BadName {
        name: String,
        what: &'static str,
        reason: devctl_units::NameError,
    },
    #[error("no devctl.kdl in {} or any parent directory", start.display())]
    NoManifest { start: PathBuf },
    #[error("{message}")]
    NotFound { message: String },
    #[error("no unit {name:?} in {}", manifest.display())]
    NoUnitFile { name: String, manifest: PathBuf },
    #[error("{0}")]
    InvalidManifest(Box<dyn Diagnostic + Send + Sync + 'static>),
    /// A manifest that could not be compiled in time (an invalid one is
    /// [`CtlError::InvalidManifest`]); worded by the compiler, as devctld's
    /// dashboard words it.
    #[error(transparent)]
    Manifest(ManifestError),
    #[error("cannot read {}: {source}", path.display())]
    ManifestRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot reach devctld at {}: {source}", socket.display())]
    Unreachable {
        socket: PathBuf,
        source: std::io::Error,
    },
    #[error("could not start devctld: {reason}")]
    DaemonStart { reason: String, log: PathBuf },
    #[error("cannot find the devctld program (looked at $DEVCTLD, next to {}, and in $PATH)", exe.display())]
    NoDaemonBinary { exe: PathBuf },
    #[error("cannot name the devctl binary that readiness gates should run: {reason}")]
    NoDevctlBinary { reason: String },
    #[error("devctld (pid {pid}) speaks API v{theirs}; this devctl speaks v{ours}")]
    ApiMismatch { pid: u32, theirs: u32, ours: u32 },
    #[error("{}", .0.message)]
    Api(ApiError),
    #[error("devctld sent an answer devctl does not understand: {message}")]
    Protocol { message: String },
    #[error("timed out waiting for {what}")]
    TimedOut { what: String },
    #[error("{message}")]
    Failed { message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Paths(#[from] devctl_units::paths::PathsError),
    #[error(transparent)]
    Systemd(#[from] crate::systemd::error::SystemdError),
    #[error(transparent)]
    Import(Box<crate::import::ImportError>),
}

impl From<ManifestError> for CtlError {
    fn from(e: ManifestError) -> CtlError {
        match e {
            ManifestError::Invalid(report) => CtlError::InvalidManifest(report),
            other => CtlError::Manifest(other),
        }
    }
}

impl From<crate::import::ImportError> for CtlError {
    /// A YAML syntax error is an invalid manifest (rendered with its span).
    fn from(e: crate::import::ImportError) -> CtlError {
        match e {
            crate::import::ImportError::Yaml(report) => CtlError::InvalidManifest(report),
            e => CtlError::Import(Box::new(e)),
        }
    }
}

impl CtlError {
    /// What the user can do about it.
    pub fn help(&self) -> Option<String> {
        match self {
            CtlError::Usage { .. } => Some("see `devctl --help`".into()),
            CtlError::BadName { .. } => {
                Some("names match [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters".into())
            }
            CtlError::NoManifest { .. } => Some(
                "create a devctl.kdl, run from inside a project, or pass -f FILE / -p PROJECT"
                    .into(),
            ),
            CtlError::NoUnitFile { .. } => Some("`devctl list` shows the project's units".into()),
            CtlError::Manifest(e) => e.help().map(|h| h.to_string()),
            CtlError::Unreachable { .. } => Some(
                "start it with `devctl daemon run`, or check the permissions of the socket".into(),
            ),
            CtlError::DaemonStart { log, .. } => {
                Some(format!("its output is in {}", log.display()))
            }
            CtlError::NoDaemonBinary { .. } => {
                Some("install devctld next to devctl, or set DEVCTLD=/path/to/devctld".into())
            }
            CtlError::NoDevctlBinary { .. } => Some(
                "run `devctl export` (or `compile --target systemd`) with the installed devctl, \
                 e.g. ~/.cargo/bin/devctl, so the units can call it by absolute path"
                    .into(),
            ),
            CtlError::ApiMismatch { .. } => Some(
                "restart it with the matching version: `devctl daemon stop`, then run devctl again"
                    .into(),
            ),
            CtlError::Api(api) => api.help.clone(),
            CtlError::TimedOut { .. } => {
                Some("the units keep going; raise --timeout or check `devctl status`".into())
            }
            CtlError::Paths(p) => p.help().map(|h| h.to_string()),
            CtlError::Systemd(e) => miette::Diagnostic::help(e).map(|h| h.to_string()),
            CtlError::Import(e) => miette::Diagnostic::help(e.as_ref()).map(|h| h.to_string()),
            _ => None,
        }
    }

    /// The `kind` of the JSON error object.
    pub fn kind(&self) -> String {
        match self {
            CtlError::Api(api) => match serde_json::to_value(api.kind) {
                Ok(Value::String(s)) => s,
                _ => "failed".into(),
            },
            CtlError::Usage { .. } | CtlError::BadName { .. } => "usage".into(),
            CtlError::NoManifest { .. }
            | CtlError::NotFound { .. }
            | CtlError::NoUnitFile { .. } => "not-found".into(),
            CtlError::InvalidManifest(_)
            | CtlError::Manifest(_)
            | CtlError::ManifestRead { .. } => "invalid-manifest".into(),
            CtlError::Unreachable { .. }
            | CtlError::DaemonStart { .. }
            | CtlError::NoDaemonBinary { .. }
            | CtlError::ApiMismatch { .. } => "daemon-unreachable".into(),
            CtlError::TimedOut { .. } => "timeout".into(),
            CtlError::Systemd(_) => "systemd".into(),
            CtlError::Import(e) => e.kind().into(),
            CtlError::Protocol { .. } => "protocol".into(),
            CtlError::Failed { .. }
            | CtlError::Io { .. }
            | CtlError::Paths(_)
            | CtlError::NoDevctlBinary { .. } => "failed".into(),
        }
    }

    /// The message and help rendered for a human (no trailing newline).
    pub fn render_human(&self, color: bool) -> String {
        if let CtlError::InvalidManifest(diag) = self {
            return render_report(diag.as_ref(), color);
        }
        let (red, cyan, reset) = if color {
            ("\x1b[1;31m", "\x1b[36m", "\x1b[0m")
        } else {
            ("", "", "")
        };
        let mut s = format!("{red}error{reset}: {self}");
        if let Some(help) = self.help() {
            s.push_str(&format!("\n{cyan}help{reset}: {help}"));
        }
        s
    }

    /// The JSON error object.
    pub fn to_json(&self) -> Value {
        let mut err = json!({ "kind": self.kind(), "message": self.to_string() });
        if let Some(help) = self.help() {
            err["help"] = Value::String(help);
        }
        if let CtlError::InvalidManifest(diag) = self {
            err["diagnostics"] = Value::Array(diagnostics_json(diag.as_ref()));
        }
        json!({ "error": err })
    }
}

/// A miette report as text, coloured or not (the compiler's rendering,
/// which devctld's dashboard shows too).
pub use devctl_compiler::render_report;

/// One JSON object per problem: `{message, line, column, help}` (1-based).
pub fn diagnostics_json(diag: &dyn Diagnostic) -> Vec<Value> {
    let related: Vec<&dyn Diagnostic> = match diag.related() {
        Some(iter) => iter.collect(),
        None => Vec::new(),
    };
    let items: Vec<&dyn Diagnostic> = if related.is_empty() {
        vec![diag]
    } else {
        related
    };
    items
        .into_iter()
        .map(|d| {
            let source = d.source_code().or_else(|| diag.source_code());
            let position = d
                .labels()
                .and_then(|mut labels| labels.next())
                .and_then(|label| source.and_then(|src| src.read_span(label.inner(), 0, 0).ok()))
                .map(|span| (span.line() + 1, span.column() + 1));
            json!({
                "message": d.to_string(),
                "line": position.map(|p| p.0),
                "column": position.map(|p| p.1),
                "help": d.help().map(|h| h.to_string()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::api::ErrorKind;
    use miette::{NamedSource, SourceSpan};

    #[derive(Debug, thiserror::Error, Diagnostic)]
    #[error("unknown node `servce`")]
    #[diagnostic(help("did you mean `service`?"))]
    struct One {
        #[source_code]
        src: NamedSource<String>,
        #[label("here")]
        span: SourceSpan,
    }

    #[derive(Debug, thiserror::Error, Diagnostic)]
    #[error("devctl.kdl is invalid")]
    struct Many {
        #[source_code]
        src: NamedSource<String>,
        #[related]
        all: Vec<One>,
    }

    fn sample() -> Many {
        let text = "project \"p\"\nservce \"a\" {}\n".to_string();
        let one = One {
            src: NamedSource::new("devctl.kdl", text.clone()),
            span: (12, 6).into(),
        };
        Many {
            src: NamedSource::new("devctl.kdl", text),
            all: vec![one],
        }
    }

    #[test]
    fn json_error_shape() {
        let e = CtlError::Api(ApiError {
            kind: ErrorKind::NotFound,
            message: "no unit x".into(),
            help: None,
        });
        assert_eq!(
            e.to_json(),
            json!({"error": {"kind": "not-found", "message": "no unit x"}})
        );
        let u = CtlError::Usage {
            message: "bad".into(),
        };
        assert_eq!(u.to_json()["error"]["kind"], "usage");
        assert!(u.to_json()["error"]["help"].is_string());
    }

    #[test]
    fn manifest_diagnostics_have_positions() {
        let e = CtlError::InvalidManifest(Box::new(sample()));
        let v = e.to_json();
        assert_eq!(v["error"]["kind"], "invalid-manifest");
        let d = &v["error"]["diagnostics"][0];
        assert_eq!(d["message"], "unknown node `servce`");
        assert_eq!(d["line"], 2);
        assert_eq!(d["column"], 1);
        assert_eq!(d["help"], "did you mean `service`?");
    }

    #[test]
    fn human_rendering() {
        let e = CtlError::NoManifest {
            start: PathBuf::from("/x"),
        };
        let s = e.render_human(false);
        assert!(s.starts_with("error: no devctl.kdl in /x"), "{s}");
        assert!(s.contains("\nhelp: "), "{s}");
        assert!(!s.contains('\x1b'));
        assert!(e.render_human(true).contains("\x1b[1;31m"));
        let m = CtlError::InvalidManifest(Box::new(sample())).render_human(false);
        assert!(m.contains("servce"), "{m}");
        assert!(!m.contains('\x1b'), "{m}");
    }
}
