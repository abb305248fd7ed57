//! What can stop `devctl import`, each with what to do about it. A YAML
//! syntax error is rendered with the source line underlined.

use std::path::PathBuf;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// A YAML syntax error, with the source to underline it in.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{} is not valid YAML: {message}", path.display())]
#[diagnostic(help("fix the YAML (the line is underlined) and import again"))]
pub struct YamlReport {
    pub path: PathBuf,
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("here")]
    pub span: SourceSpan,
}

/// Why nothing was written.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ImportError {
    #[error("cannot read {}: {source}", path.display())]
    #[diagnostic(help(
        "give the path of a Procfile, docker-compose.yml/compose.yaml or process-compose.yaml"
    ))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot tell what {} is", path.display())]
    #[diagnostic(help(
        "name it Procfile, compose.yaml or process-compose.yaml, or pass --format procfile|compose|process-compose"
    ))]
    UnknownFormat { path: PathBuf },

    /// Boxed: the report holds the whole source text.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Yaml(Box<YamlReport>),

    #[error("{} defines no {what} devctl could import", path.display())]
    #[diagnostic(help("the warnings above say why each entry was skipped"))]
    Empty { path: PathBuf, what: &'static str },

    #[error("{} already exists", path.display())]
    #[diagnostic(help("pass --force to overwrite it, or -o to write somewhere else"))]
    Exists { path: PathBuf },

    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("the manifest imported from {} does not compile:\n{report}", path.display())]
    #[diagnostic(help(
        "this is a devctl bug; `devctl import -o - FILE` prints what was generated"
    ))]
    Generated { path: PathBuf, report: String },
}

impl ImportError {
    /// The JSON `kind` of the error, which also decides the exit code.
    pub fn kind(&self) -> &'static str {
        match self {
            ImportError::UnknownFormat { .. } => "usage",
            ImportError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                "not-found"
            }
            ImportError::Yaml(_) => "invalid-manifest",
            _ => "failed",
        }
    }
}
