//! The generic systemd-syntax layer: a [`UnitFile`] is a list of
//! `[Section]`s holding `Key=Value` entries, in file order. This layer
//! knows nothing of devctl's keys (see `convert` for that); it parses
//! comments (`#`, `;`), blank lines, headers, entries and trailing-backslash
//! continuations, reports errors with line and column, and serializes
//! deterministically.
//!
//! Values are kept raw (quotes and escapes untouched): `escape` reads them.

use std::fmt;

use crate::error::{ErrorKind, UnitFileError};

/// One `Key=Value` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    /// The raw value, whitespace-trimmed, continuations joined by a space.
    pub value: String,
    /// 1-based line of the key (0 for entries built in memory).
    pub line: usize,
    /// Byte offset of the key's first character in the source.
    pub key_offset: usize,
    /// Byte offset of the value's first character in the source.
    pub offset: usize,
}

impl Entry {
    /// An entry built in memory, with no source position.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Entry {
        Entry {
            key: key.into(),
            value: value.into(),
            line: 0,
            key_offset: 0,
            offset: 0,
        }
    }
}

/// One `[Name]` section and its entries, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// 1-based line of the header (0 for sections built in memory).
    pub line: usize,
    /// Byte offset of the header's `[` in the source.
    pub offset: usize,
    pub entries: Vec<Entry>,
}

impl Section {
    /// An empty section built in memory.
    pub fn new(name: impl Into<String>) -> Section {
        Section {
            name: name.into(),
            line: 0,
            offset: 0,
            entries: Vec::new(),
        }
    }

    /// Append `key=value`.
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.entries.push(Entry::new(key, value));
    }
}

/// A parsed (or to-be-written) unit file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitFile {
    pub sections: Vec<Section>,
}

/// Is `s` a valid section or key name?
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

/// Does `line` end with an odd number of backslashes (a continuation)?
fn continues(line: &str) -> bool {
    line.bytes().rev().take_while(|b| *b == b'\\').count() % 2 == 1
}

const BLANKS: [char; 2] = [' ', '\t'];

/// An entry being assembled across continuation lines.
struct Pending {
    entry: Entry,
}

impl UnitFile {
    /// An empty file.
    pub fn new() -> UnitFile {
        UnitFile::default()
    }

    /// Append a new, empty section and return it.
    pub fn push_section(&mut self, name: impl Into<String>) -> &mut Section {
        self.sections.push(Section::new(name));
        let last = self.sections.len() - 1;
        &mut self.sections[last]
    }

    /// The first section called `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// Parse systemd syntax. `file` names the file in errors.
    pub fn parse(file: &str, text: &str) -> Result<UnitFile, UnitFileError> {
        let err =
            |offset: usize, len: usize, kind| UnitFileError::at(file, text, offset, len, kind);
        let body_start = if text.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        };
        let mut out = UnitFile::new();
        let mut pending: Option<Pending> = None;
        let mut line_start = body_start;
        for raw in text[body_start..].split_inclusive('\n') {
            let start = line_start;
            line_start += raw.len();
            let line = raw.strip_suffix('\n').unwrap_or(raw);
            let line = line.strip_suffix('\r').unwrap_or(line);
            if let Some((i, ch)) = line
                .char_indices()
                .find(|(_, c)| c.is_control() && *c != '\t')
            {
                return Err(err(
                    start + i,
                    ch.len_utf8(),
                    ErrorKind::ControlCharacter { ch },
                ));
            }
            let trimmed = line.trim_start_matches(BLANKS);
            let indent = line.len() - trimmed.len();
            if trimmed.starts_with(['#', ';']) {
                continue;
            }
            if let Some(mut p) = pending.take() {
                // A continued value: the backslash became a space.
                let part = trimmed.trim_end_matches(BLANKS);
                p.entry.value.push_str(part);
                if continues(part) {
                    p.entry.value.pop();
                    p.entry.value.push(' ');
                    pending = Some(p);
                } else {
                    // Trimmed at both ends, like a one-line value: a first
                    // line holding only the backslash leaves a leading space.
                    let v = p.entry.value.trim_matches(BLANKS);
                    if v.len() != p.entry.value.len() {
                        p.entry.value = v.to_string();
                    }
                    push_entry(&mut out, p.entry);
                }
                continue;
            }
            if trimmed.is_empty() {
                continue;
            }
            let at = start + indent;
            if trimmed.starts_with('[') {
                let header = trimmed.trim_end_matches(BLANKS);
                let name = header.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
                let Some(name) = name.filter(|n| is_name(n)) else {
                    let kind = ErrorKind::BadSectionHeader {
                        header: header.to_string(),
                    };
                    return Err(err(at, header.len(), kind));
                };
                let line_no = text[..start].matches('\n').count() + 1;
                out.sections.push(Section {
                    name: name.to_string(),
                    line: line_no,
                    offset: at,
                    entries: vec![],
                });
                continue;
            }
            let Some(eq) = trimmed.find('=') else {
                let text_part = trimmed.trim_end_matches(BLANKS).to_string();
                return Err(err(
                    at,
                    text_part.len(),
                    ErrorKind::MissingEquals { text: text_part },
                ));
            };
            let key = trimmed[..eq].trim_end_matches(BLANKS);
            if !is_name(key) {
                return Err(err(
                    at,
                    eq,
                    ErrorKind::BadKey {
                        key: key.to_string(),
                    },
                ));
            }
            if out.sections.is_empty() {
                return Err(err(
                    at,
                    key.len(),
                    ErrorKind::EntryOutsideSection {
                        key: key.to_string(),
                    },
                ));
            }
            let after = &trimmed[eq + 1..];
            let value = after.trim_start_matches(BLANKS);
            let offset = at + eq + 1 + (after.len() - value.len());
            let value = value.trim_end_matches(BLANKS);
            let line_no = text[..start].matches('\n').count() + 1;
            let mut entry = Entry {
                key: key.to_string(),
                value: value.to_string(),
                line: line_no,
                key_offset: at,
                offset,
            };
            if continues(value) {
                entry.value.pop();
                entry.value.push(' ');
                pending = Some(Pending { entry });
            } else {
                push_entry(&mut out, entry);
            }
        }
        if let Some(p) = pending {
            let len = p.entry.value.len();
            return Err(err(
                p.entry.offset + len.saturating_sub(1),
                1,
                ErrorKind::ContinuationAtEnd,
            ));
        }
        Ok(out)
    }
}

/// Add `entry` to the last section (the caller checked there is one).
fn push_entry(out: &mut UnitFile, entry: Entry) {
    if let Some(section) = out.sections.last_mut() {
        section.entries.push(entry);
    }
}

/// Write `s` with any raw control character escaped, so a value built in
/// memory can never inject a line.
fn write_clean(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    for c in s.chars() {
        if c.is_control() && c != '\t' {
            write!(f, "\\x{:02x}", u32::from(c).min(0xff))?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

/// Deterministic serialization: sections in order separated by one blank
/// line, `Key=Value` lines in order, no trailing blank line.
impl fmt::Display for UnitFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, section) in self.sections.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "[")?;
            write_clean(f, &section.name)?;
            writeln!(f, "]")?;
            for entry in &section.entries {
                write_clean(f, &entry.key)?;
                write!(f, "=")?;
                write_clean(f, &entry.value)?;
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(file: &UnitFile) -> Vec<(String, Vec<(String, String)>)> {
        file.sections
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    s.entries
                        .iter()
                        .map(|e| (e.key.clone(), e.value.clone()))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_value_starting_on_a_continuation_line_is_trimmed() {
        let f = UnitFile::parse("t", "[a]\nA=\\\n  B  \nC= \\\n\\\n x\n").unwrap();
        assert_eq!(
            kv(&f),
            [(
                "a".into(),
                vec![("A".into(), "B".into()), ("C".into(), "x".into())]
            )]
        );
        let again = UnitFile::parse("t", &f.to_string()).unwrap();
        assert_eq!(kv(&again), kv(&f));
    }

    #[test]
    fn parses_sections_comments_and_continuations() {
        let text = "\u{feff}# header comment\n; another\n\n[Unit]\r\nDescription = hello world  \n\
                    After=a \\\n  # comment inside\n   b\\\\\n[Service]\nExecStart=/bin/x \\\n  y\n\n";
        let file = UnitFile::parse("x.service", text).unwrap();
        assert_eq!(
            kv(&file),
            vec![
                (
                    "Unit".to_string(),
                    vec![
                        ("Description".to_string(), "hello world".to_string()),
                        ("After".to_string(), "a  b\\\\".to_string()),
                    ]
                ),
                (
                    "Service".to_string(),
                    vec![("ExecStart".to_string(), "/bin/x  y".to_string())]
                ),
            ]
        );
        let unit = &file.sections[0];
        assert_eq!(
            (unit.line, unit.entries[0].line, unit.entries[1].line),
            (4, 5, 6)
        );
        assert_eq!(
            &text[unit.entries[0].offset..unit.entries[0].offset + 5],
            "hello"
        );
        assert_eq!(file.section("Service").unwrap().entries.len(), 1);
        assert!(file.section("Install").is_none());
    }

    #[test]
    fn serializes_deterministically() {
        let mut file = UnitFile::new();
        file.push_section("Unit").push("Description", "x");
        let s = file.push_section("Service");
        s.push("ExecStart", "a b");
        s.push("Bad", "line\nbreak\u{0}");
        assert_eq!(
            file.to_string(),
            "[Unit]\nDescription=x\n\n[Service]\nExecStart=a b\nBad=line\\x0abreak\\x00\n"
        );
        let again = UnitFile::parse("f", &file.to_string()).unwrap();
        assert_eq!(again.to_string(), file.to_string());
    }

    #[test]
    fn empty_input_and_empty_values() {
        assert_eq!(UnitFile::parse("f", "").unwrap(), UnitFile::new());
        let file = UnitFile::parse("f", "[A]\nK=\n").unwrap();
        assert_eq!(file.sections[0].entries[0].value, "");
        assert_eq!(file.to_string(), "[A]\nK=\n");
    }

    fn error(text: &str) -> UnitFileError {
        UnitFile::parse("f.service", text).unwrap_err()
    }

    #[test]
    fn error_positions() {
        let e = error("[Unit]\n  Description\n");
        assert_eq!((e.line, e.column), (2, 3));
        assert_eq!(
            e.kind,
            ErrorKind::MissingEquals {
                text: "Description".into()
            }
        );

        let e = error("Key=v\n");
        assert_eq!((e.line, e.column), (1, 1));
        assert_eq!(e.kind, ErrorKind::EntryOutsideSection { key: "Key".into() });

        let e = error("[Unit]\n[Unit\n");
        assert_eq!((e.line, e.column), (2, 1));
        assert_eq!(
            e.kind,
            ErrorKind::BadSectionHeader {
                header: "[Unit".into()
            }
        );

        let e = error("[Unit]\n [Un it] x\n");
        assert_eq!((e.line, e.column), (2, 2));
        assert_eq!(
            e.kind,
            ErrorKind::BadSectionHeader {
                header: "[Un it] x".into()
            }
        );

        let e = error("[]\n");
        assert_eq!(
            e.kind,
            ErrorKind::BadSectionHeader {
                header: "[]".into()
            }
        );

        let e = error("[Unit]\nBad Key=1\n");
        assert_eq!((e.line, e.column), (2, 1));
        assert_eq!(
            e.kind,
            ErrorKind::BadKey {
                key: "Bad Key".into()
            }
        );

        let e = error("[Unit]\n=1\n");
        assert_eq!(e.kind, ErrorKind::BadKey { key: String::new() });

        let e = error("[Unit]\nDescription=a\u{1b}b\n");
        assert_eq!((e.line, e.column), (2, 14));
        assert_eq!(e.kind, ErrorKind::ControlCharacter { ch: '\u{1b}' });

        let e = error("[Unit]\nA=x\r\rb\n");
        assert_eq!((e.line, e.column), (2, 4));
        assert_eq!(e.kind, ErrorKind::ControlCharacter { ch: '\r' });

        let e = error("[Unit]\nAfter=a \\\n# only a comment follows\n");
        assert_eq!((e.line, e.column), (2, 9));
        assert_eq!(e.kind, ErrorKind::ContinuationAtEnd);
    }

    #[test]
    fn parse_serialize_parse_is_stable() {
        let text = "[Unit]\nA = 1 \\\n 2\n[S]\n;c\nB=\"q \\\" x\"\nC=tab\there\n";
        let once = UnitFile::parse("f", text).unwrap();
        let twice = UnitFile::parse("f", &once.to_string()).unwrap();
        assert_eq!(kv(&once), kv(&twice));
        assert_eq!(once.to_string(), twice.to_string());
    }
}
