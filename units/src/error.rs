//! The error type of the unit-file layer: [`UnitFileError`] carries the
//! file name, line, column, a source span for miette and an [`ErrorKind`]
//! to match on; every kind knows its help text.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};

use crate::escape::EscapeError;
use crate::name::NameError;

/// What went wrong; match on this, never on the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// A `Key=Value` line before the first `[Section]` header.
    #[error("`{key}=` appears before any [Section] header")]
    EntryOutsideSection { key: String },
    /// A line starting with `[` that is not a well-formed header.
    #[error("malformed section header `{header}`")]
    BadSectionHeader { header: String },
    /// A line that is neither a comment, a header nor `Key=Value`.
    #[error("expected `Key=Value`, found `{text}`")]
    MissingEquals { text: String },
    /// A key with characters outside `[A-Za-z0-9_-]`.
    #[error("invalid key `{key}`")]
    BadKey { key: String },
    /// A raw control character (other than tab).
    #[error("raw control character {ch:?}")]
    ControlCharacter { ch: char },
    /// The last line ends with a continuation backslash.
    #[error("the last line ends with `\\`, continuing past the end of the file")]
    ContinuationAtEnd,
    /// The file name is not `<unit name>.<suffix>` for a known suffix.
    #[error("bad unit file name `{file}`: {reason}")]
    BadFileName { file: String, reason: String },
    /// A section devctl does not know, or one not valid for this kind.
    #[error("unknown section [{section}] in a .{suffix} file")]
    UnknownSection {
        section: String,
        suffix: &'static str,
        allowed: Vec<&'static str>,
    },
    /// A key not valid in its section (or for this kind).
    #[error("unknown key `{key}=` in [{section}]")]
    UnknownKey {
        section: String,
        key: String,
        suggestion: Option<&'static str>,
    },
    /// A single-valued key given twice.
    #[error("`{key}=` is given twice in [{section}] (first on line {first_line})")]
    DuplicateKey {
        section: String,
        key: String,
        first_line: usize,
    },
    /// A key the unit cannot do without.
    #[error("missing `{key}=` in [{section}]")]
    MissingKey {
        section: &'static str,
        key: &'static str,
    },
    /// A value of the wrong shape.
    #[error("bad value `{value}` for `{key}=`: expected {expected}")]
    BadValue {
        key: String,
        value: String,
        expected: String,
    },
    /// A value whose quoting or escaping is broken.
    #[error("bad quoting in `{key}=`: {error}")]
    BadQuoting { key: String, error: EscapeError },
    /// A unit or project name that breaks the name grammar.
    #[error("bad name `{value}` in `{key}=`: {error}")]
    BadName {
        key: String,
        value: String,
        error: NameError,
    },
}

impl ErrorKind {
    /// Stable diagnostic code suffix.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::EntryOutsideSection { .. } => "entry_outside_section",
            ErrorKind::BadSectionHeader { .. } => "bad_section_header",
            ErrorKind::MissingEquals { .. } => "missing_equals",
            ErrorKind::BadKey { .. } => "bad_key",
            ErrorKind::ControlCharacter { .. } => "control_character",
            ErrorKind::ContinuationAtEnd => "continuation_at_end",
            ErrorKind::BadFileName { .. } => "bad_file_name",
            ErrorKind::UnknownSection { .. } => "unknown_section",
            ErrorKind::UnknownKey { .. } => "unknown_key",
            ErrorKind::DuplicateKey { .. } => "duplicate_key",
            ErrorKind::MissingKey { .. } => "missing_key",
            ErrorKind::BadValue { .. } => "bad_value",
            ErrorKind::BadQuoting { .. } => "bad_quoting",
            ErrorKind::BadName { .. } => "bad_name",
        }
    }

    /// What the user should do about it.
    pub fn help(&self) -> String {
        match self {
            ErrorKind::EntryOutsideSection { .. } => {
                "put the setting under a section header such as [Unit]".into()
            }
            ErrorKind::BadSectionHeader { .. } => {
                "a section header is `[Name]` alone on its line; names use letters, digits, '-' and '_'"
                    .into()
            }
            ErrorKind::MissingEquals { .. } => {
                "settings are `Key=Value`; comments start with `#` or `;`".into()
            }
            ErrorKind::BadKey { .. } => "keys use letters, digits, '-' and '_' only".into(),
            ErrorKind::ControlCharacter { .. } => {
                "write control characters escaped inside a quoted value, e.g. \"a\\tb\"".into()
            }
            ErrorKind::ContinuationAtEnd => {
                "remove the trailing backslash or add the continued line".into()
            }
            ErrorKind::BadFileName { .. } => {
                "unit files are named `<name>.service`, `.container`, `.kube` or `.target`".into()
            }
            ErrorKind::UnknownSection { allowed, suffix, .. } => {
                format!("sections allowed in a .{suffix} file: [{}]", allowed.join("], ["))
            }
            ErrorKind::UnknownKey { suggestion: Some(s), .. } => format!("did you mean `{s}=`?"),
            ErrorKind::UnknownKey { section, .. } => {
                format!("see the unit-file key table in ARCHITECTURE.md for the keys of [{section}]")
            }
            ErrorKind::DuplicateKey { .. } => "keep one of the two settings".into(),
            ErrorKind::MissingKey { section, key } => format!("add `{key}=` to the [{section}] section"),
            ErrorKind::BadValue { expected, .. } => format!("write {expected}"),
            ErrorKind::BadQuoting { error, .. } => {
                error.help().map(|h| h.to_string()).unwrap_or_else(|| "fix the quoting".into())
            }
            ErrorKind::BadName { .. } => {
                "names match [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 bytes".into()
            }
        }
    }
}

/// An error in a unit file, with its place in the text.
#[derive(Debug)]
pub struct UnitFileError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub kind: ErrorKind,
    src: Box<NamedSource<String>>,
    span: SourceSpan,
}

impl UnitFileError {
    /// An error at byte `offset` (spanning `len` bytes) of `text`.
    pub fn at(file: &str, text: &str, offset: usize, len: usize, kind: ErrorKind) -> UnitFileError {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let end = floor_char_boundary(text, offset.saturating_add(len).min(text.len()));
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        UnitFileError {
            line,
            column,
            kind,
            src: Box::new(NamedSource::new(file, text.to_string())),
            span: SourceSpan::new(offset.into(), end - offset),
        }
    }

    /// The file name given to the parser.
    pub fn file(&self) -> &str {
        self.src.name()
    }

    /// The source span (byte offset and length) of the problem.
    pub fn span(&self) -> SourceSpan {
        self.span
    }
}

/// The largest char boundary at or below `i`.
fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for UnitFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file(),
            self.line,
            self.column,
            self.kind
        )
    }
}

impl std::error::Error for UnitFileError {}

impl Diagnostic for UnitFileError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("devctl::unit_file::{}", self.kind.code())))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.kind.help()))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&*self.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = LabeledSpan::new_primary_with_span(Some("here".into()), self.span);
        Some(Box::new(std::iter::once(label)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_is_line_and_char_column() {
        let text = "[Unit]\nDescription=é x\n";
        let offset = text.find('x').unwrap();
        let err = UnitFileError::at("a.service", text, offset, 1, ErrorKind::ContinuationAtEnd);
        assert_eq!((err.line, err.column), (2, 15));
        assert_eq!(err.span(), SourceSpan::new(offset.into(), 1));
        assert!(err.to_string().starts_with("a.service:2:15: "));
        assert_eq!(err.file(), "a.service");
        assert_eq!(
            err.code().unwrap().to_string(),
            "devctl::unit_file::continuation_at_end"
        );
        assert!(err.help().is_some() && err.source_code().is_some());
        assert_eq!(err.labels().unwrap().count(), 1);
    }

    #[test]
    fn offsets_are_clamped_to_char_boundaries() {
        let err = UnitFileError::at("f", "é", 1, 99, ErrorKind::ContinuationAtEnd);
        assert_eq!((err.line, err.column), (1, 1));
        assert_eq!(err.span(), SourceSpan::new(0.into(), 2));
    }

    #[test]
    fn every_kind_has_help() {
        let kinds = [
            ErrorKind::UnknownKey {
                section: "Unit".into(),
                key: "X".into(),
                suggestion: Some("After"),
            },
            ErrorKind::UnknownKey {
                section: "Unit".into(),
                key: "X".into(),
                suggestion: None,
            },
            ErrorKind::BadQuoting {
                key: "K".into(),
                error: EscapeError::Dollar { offset: 0 },
            },
            ErrorKind::UnknownSection {
                section: "S".into(),
                suffix: "service",
                allowed: vec!["Unit"],
            },
        ];
        for k in kinds {
            assert!(!k.help().is_empty());
        }
    }
}
