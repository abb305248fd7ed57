//! The compiler's diagnostics: one [`Problem`] per thing wrong with a
//! manifest (message, code, labelled span, help), gathered into a single
//! [`CompileError`] whose `#[related]` list holds every problem in source
//! order; and [`Warning`]s for valid input that does not do everything the
//! user may expect (mostly settings the systemd target cannot express).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};

/// The source a problem points into: the manifest's text, named by its path.
pub type Source = NamedSource<Arc<String>>;

/// One error in a manifest.
#[derive(Debug, Clone)]
pub struct Problem {
    code: &'static str,
    message: String,
    src: Option<Source>,
    span: Option<(SourceSpan, String)>,
    secondary: Vec<(SourceSpan, String)>,
    help: Option<String>,
}

impl Problem {
    /// A problem with no position (an unreadable file, a size limit).
    pub fn bare(code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            code,
            message: message.into(),
            src: None,
            span: None,
            secondary: Vec::new(),
            help: None,
        }
    }

    /// A problem underlining `span` in `src` with `label`.
    pub fn at(
        code: &'static str,
        message: impl Into<String>,
        src: &Source,
        span: SourceSpan,
        label: impl Into<String>,
    ) -> Problem {
        Problem {
            code,
            message: message.into(),
            src: Some(src.clone()),
            span: Some((span, label.into())),
            secondary: Vec::new(),
            help: None,
        }
    }

    /// Add help text telling the user what to do.
    pub fn with_help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    /// Add help only when there is some.
    pub fn with_help_opt(mut self, help: Option<String>) -> Problem {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Add a secondary label (e.g. "first defined here").
    pub fn with_label(mut self, span: SourceSpan, label: impl Into<String>) -> Problem {
        self.secondary.push((span, label.into()));
        self
    }

    /// Stable machine-readable code, e.g. `devctl::manifest::unknown-node`.
    pub fn code_str(&self) -> &'static str {
        self.code
    }

    /// The one-line message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The primary span (byte offsets into the manifest), if any.
    pub fn span(&self) -> Option<SourceSpan> {
        self.span.as_ref().map(|(s, _)| *s)
    }

    /// The help text, if any.
    pub fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }

    fn sort_key(&self) -> usize {
        self.span().map_or(0, |s| s.offset())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.src.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (span, label) = self.span.as_ref()?;
        let primary = LabeledSpan::new_primary_with_span(Some(label.clone()), *span);
        let rest = self
            .secondary
            .iter()
            .map(|(s, l)| LabeledSpan::new_with_span(Some(l.clone()), *s));
        Some(Box::new(std::iter::once(primary).chain(rest)))
    }
}

/// Why compilation failed, for the CLI's exit-code table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The manifest is invalid (syntax, semantics, limits, encoding): exit 65.
    Invalid,
    /// The manifest could not be read (missing, permission denied).
    Io,
    /// Compilation did not finish before the deadline.
    Timeout,
}

/// Compilation failed: every problem found, in source order.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}: {}", summary(self.kind, self.errors.len(), self.deadline))]
pub struct CompileError {
    /// The manifest path as given.
    pub file: String,
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// Every problem, in source order.
    pub errors: Vec<Problem>,
    deadline: Option<Duration>,
}

fn summary(kind: ErrorKind, n: usize, deadline: Option<Duration>) -> String {
    match kind {
        ErrorKind::Io => "cannot read the manifest".to_owned(),
        ErrorKind::Timeout => {
            format!(
                "compiling took longer than {}; gave up",
                crate::reader::fmt_duration(deadline.unwrap_or_default())
            )
        }
        ErrorKind::Invalid if n == 1 => "1 error; nothing was compiled".to_owned(),
        ErrorKind::Invalid => format!("{n} errors; nothing was compiled"),
    }
}

impl CompileError {
    /// An invalid manifest with these problems (sorted into source order).
    pub fn invalid(file: impl Into<String>, mut errors: Vec<Problem>) -> CompileError {
        errors.sort_by_key(Problem::sort_key);
        CompileError {
            file: file.into(),
            kind: ErrorKind::Invalid,
            errors,
            deadline: None,
        }
    }

    /// The manifest could not be read.
    pub fn io(path: &std::path::Path, err: &std::io::Error) -> CompileError {
        let help = match err.kind() {
            std::io::ErrorKind::NotFound => {
                "check the path, or run devctl where a devctl.kdl exists"
            }
            std::io::ErrorKind::PermissionDenied => "make the file readable by your user",
            _ => "check that the path is a readable regular file",
        };
        let p = Problem::bare(
            "devctl::manifest::io",
            format!("cannot read {}: {err}", path.display()),
        )
        .with_help(help);
        CompileError {
            file: path.display().to_string(),
            kind: ErrorKind::Io,
            errors: vec![p],
            deadline: None,
        }
    }

    /// Compilation did not finish within `after`.
    pub fn timeout(path: &std::path::Path, after: Duration) -> CompileError {
        let p = Problem::bare(
            "devctl::manifest::timeout",
            format!(
                "compiling {} did not finish within {}",
                path.display(),
                crate::reader::fmt_duration(after)
            ),
        )
        .with_help(
            "the manifest is probably pathological (very large or deeply nested); simplify it",
        );
        CompileError {
            file: path.display().to_string(),
            kind: ErrorKind::Timeout,
            errors: vec![p],
            deadline: Some(after),
        }
    }

    /// The path the error is about.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(&self.file)
    }
}

impl Diagnostic for CompileError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let code = match self.kind {
            ErrorKind::Invalid => "devctl::manifest::invalid",
            ErrorKind::Io => "devctl::manifest::io",
            ErrorKind::Timeout => "devctl::manifest::timeout",
        };
        Some(Box::new(code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self.kind {
            ErrorKind::Invalid => Some(Box::new(
                "fix every error listed; no unit file was written or changed",
            )),
            _ => None,
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.errors.iter().map(|p| p as &dyn Diagnostic)))
    }
}

/// Something valid but worth telling the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The unit it is about, when it is about one.
    pub unit: Option<String>,
    /// What is wrong and what happens instead.
    pub message: String,
    /// Where in the manifest, when known.
    pub span: Option<SourceSpan>,
}

impl Warning {
    /// A warning about one unit.
    pub fn unit(unit: &str, message: impl Into<String>, span: Option<SourceSpan>) -> Warning {
        Warning {
            unit: Some(unit.to_owned()),
            message: message.into(),
            span,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.unit {
            Some(u) => write!(f, "{u}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}
