//! The one escaping module for values written into unit files, compatible
//! with systemd's quoting rules (systemd.syntax(7), systemd.service(5)).
//!
//! Two shapes of value exist:
//!
//! - **word lists** (`ExecStart=`, `Environment=`, probe commands…): words
//!   separated by blanks; a word that needs it is written double-quoted with
//!   C escapes. [`join`] / [`join_command`] write them, [`split`] /
//!   [`split_command`] read them back.
//! - **single values** (`Description=`, `WorkingDirectory=`, paths…): written
//!   bare when that is unambiguous, otherwise as one double-quoted word.
//!   [`quote_value`] writes them, [`unquote`] reads them back.
//!
//! Rules shared by both shapes:
//!
//! - `%` is always written `%%` (systemd expands `%` specifiers everywhere).
//! - `$` is written `$$` in [`Context::Command`] (systemd expands `$VAR` in
//!   command lines) and stays `$` in [`Context::Plain`] (`Environment=`,
//!   paths, descriptions: systemd does not expand there).
//! - Inside quotes: `\\`, `\"`, `\n`, `\t`, `\r`, `\xNN` for other ASCII
//!   control characters and `\uXXXX` for non-ASCII control characters and
//!   line/paragraph separators. No raw newline or control character is ever
//!   written.
//!
//! Reading accepts everything systemd's `extract_first_word` with
//! unquoting and C-unescaping accepts (both quote kinds, quotes in the
//! middle of a word, `\a \b \f \v \s \' \NNN \uXXXX \UXXXXXXXX`), and
//! rejects what devctl cannot honour: `%` specifiers and `$` expansion.

use std::fmt::Write as _;

/// Where a value is used; decides whether `$` must be doubled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// `Environment=`, paths, descriptions: `$` is literal.
    Plain,
    /// `ExecStart=`, `ExecStop=`, probe and container commands: systemd
    /// would expand `$VAR`, so a literal `$` is written `$$`.
    Command,
}

/// Why a value could not be read back into words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum EscapeError {
    /// A `"` or `'` was opened and never closed.
    #[error("the quote opened here is never closed")]
    #[diagnostic(
        code(devctl::escape::unterminated_quote),
        help("close the quote, or escape it as `\\\"`")
    )]
    UnterminatedQuote { offset: usize },
    /// An escape sequence systemd does not define, or one that encodes an
    /// invalid character.
    #[error("invalid escape sequence `{found}`")]
    #[diagnostic(
        code(devctl::escape::bad_escape),
        help(
            "valid escapes: \\\\ \\\" \\' \\n \\t \\r \\a \\b \\f \\v \\s \\xNN (ASCII) \\NNN \\uXXXX \\UXXXXXXXX"
        )
    )]
    BadEscape { offset: usize, found: String },
    /// The value ends with a lone backslash.
    #[error("the value ends with a lone backslash")]
    #[diagnostic(
        code(devctl::escape::trailing_backslash),
        help("write a literal backslash as `\\\\`")
    )]
    TrailingBackslash { offset: usize },
    /// A `%` specifier; devctl does not expand them.
    #[error("`%{found}` is a systemd specifier, which devctl does not expand")]
    #[diagnostic(code(devctl::escape::specifier), help("write a literal `%` as `%%`"))]
    Specifier { offset: usize, found: String },
    /// A lone `$` in a command line; devctl does not expand variables there.
    #[error("`$` in a command line would expand a variable, which devctl does not do")]
    #[diagnostic(code(devctl::escape::dollar), help("write a literal `$` as `$$`"))]
    Dollar { offset: usize },
    /// A single value was expected, several words were found.
    #[error("expected one value, found {count} words")]
    #[diagnostic(
        code(devctl::escape::not_one_word),
        help("quote the whole value: \"a b\"")
    )]
    NotOneWord { offset: usize, count: usize },
    /// A command starts with a systemd exec prefix (`-`, `@`, `:`, `+`, `!`, `|`).
    #[error("`{prefix}` is a systemd command prefix, which devctl does not support")]
    #[diagnostic(
        code(devctl::escape::exec_prefix),
        help("quote the program name if it really starts with `{prefix}`")
    )]
    ExecPrefix { offset: usize, prefix: char },
}

impl EscapeError {
    /// Byte offset of the problem inside the value.
    pub fn offset(&self) -> usize {
        match self {
            EscapeError::UnterminatedQuote { offset }
            | EscapeError::BadEscape { offset, .. }
            | EscapeError::TrailingBackslash { offset }
            | EscapeError::Specifier { offset, .. }
            | EscapeError::Dollar { offset }
            | EscapeError::NotOneWord { offset, .. }
            | EscapeError::ExecPrefix { offset, .. } => *offset,
        }
    }
}

/// Characters systemd treats as word separators.
const SEPARATORS: [char; 4] = [' ', '\t', '\n', '\r'];

/// Prefixes systemd interprets at the start of `ExecStart=`-like values.
const EXEC_PREFIXES: [char; 6] = ['-', '@', ':', '+', '!', '|'];

/// A character that may never appear raw in a unit file.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Push `c` escaped for use inside double quotes.
fn push_quoted_char(out: &mut String, c: char, ctx: Context) {
    match c {
        '\\' => out.push_str("\\\\"),
        '"' => out.push_str("\\\""),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if is_unsafe(c) && c.is_ascii() => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if is_unsafe(c) => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => push_bare_char(out, c, ctx),
    }
}

/// Push `c` with only the specifier / variable escaping.
fn push_bare_char(out: &mut String, c: char, ctx: Context) {
    match c {
        '%' => out.push_str("%%"),
        '$' if ctx == Context::Command => out.push_str("$$"),
        c => out.push(c),
    }
}

/// `s` as one double-quoted word, whatever it contains.
pub fn quoted(s: &str, ctx: Context) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_quoted_char(&mut out, c, ctx);
    }
    out.push('"');
    out
}

/// One word of a word list: bare when it can be, quoted otherwise.
pub fn quote_word(word: &str, ctx: Context) -> String {
    if ctx == Context::Command && word == ";" {
        // systemd reads a lone `;` as a command separator; `\;` is literal.
        return "\\;".to_string();
    }
    let needs_quotes = word.is_empty()
        || word
            .chars()
            .any(|c| SEPARATORS.contains(&c) || matches!(c, '"' | '\'' | '\\') || is_unsafe(c));
    if needs_quotes {
        return quoted(word, ctx);
    }
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        push_bare_char(&mut out, c, ctx);
    }
    out
}

/// Write a word list, words separated by one space.
pub fn join<S: AsRef<str>>(words: &[S], ctx: Context) -> String {
    let parts: Vec<String> = words.iter().map(|w| quote_word(w.as_ref(), ctx)).collect();
    parts.join(" ")
}

/// Write a command line (`ExecStart=`, `ExecStop=`): like [`join`] in
/// [`Context::Command`], and a program name starting with a systemd exec
/// prefix character is quoted so it is not read as that prefix.
pub fn join_command<S: AsRef<str>>(argv: &[S]) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(argv.len());
    for (i, w) in argv.iter().enumerate() {
        let w = w.as_ref();
        if i == 0 && w.starts_with(EXEC_PREFIXES) {
            parts.push(quoted(w, Context::Command));
        } else {
            parts.push(quote_word(w, Context::Command));
        }
    }
    parts.join(" ")
}

/// Write a single value: bare when unambiguous, else one quoted word.
pub fn quote_value(value: &str, ctx: Context) -> String {
    let needs_quotes = value.is_empty()
        || value.starts_with(char::is_whitespace)
        || value.ends_with(char::is_whitespace)
        || value.starts_with(['"', '\''])
        || value.chars().any(|c| c == '\\' || is_unsafe(c));
    if needs_quotes {
        return quoted(value, ctx);
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        push_bare_char(&mut out, c, ctx);
    }
    out
}

/// A cursor over a value, tracking byte offsets for errors.
struct Reader<'a> {
    s: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Read exactly `n` hex digits as a number.
    fn hex(&mut self, n: usize, start: usize) -> Result<u32, EscapeError> {
        let digits = self
            .s
            .get(self.pos..self.pos + n)
            .filter(|d| d.chars().all(|c| c.is_ascii_hexdigit()));
        let Some(digits) = digits else {
            return Err(self.bad_escape(start));
        };
        self.pos += n;
        u32::from_str_radix(digits, 16).map_err(|_| self.bad_escape(start))
    }

    fn bad_escape(&self, start: usize) -> EscapeError {
        let end = self.s[start..]
            .char_indices()
            .nth(4)
            .map_or(self.s.len(), |(i, _)| start + i);
        EscapeError::BadEscape {
            offset: start,
            found: self.s[start..end.max(self.pos)].to_string(),
        }
    }

    /// Read the escape sequence after a backslash at `start`.
    fn escape(&mut self, start: usize) -> Result<char, EscapeError> {
        let Some(c) = self.bump() else {
            return Err(EscapeError::TrailingBackslash { offset: start });
        };
        let decoded = match c {
            '\\' => '\\',
            '"' => '"',
            '\'' => '\'',
            ';' => ';',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            's' => ' ',
            'x' => {
                let n = self.hex(2, start)?;
                if n >= 0x80 {
                    return Err(self.bad_escape(start));
                }
                char::from_u32(n).ok_or_else(|| self.bad_escape(start))?
            }
            'u' => {
                let n = self.hex(4, start)?;
                char::from_u32(n).ok_or_else(|| self.bad_escape(start))?
            }
            'U' => {
                let n = self.hex(8, start)?;
                char::from_u32(n).ok_or_else(|| self.bad_escape(start))?
            }
            '0'..='7' => {
                let rest = self
                    .s
                    .get(self.pos..self.pos + 2)
                    .filter(|d| d.chars().all(|c| matches!(c, '0'..='7')));
                let Some(rest) = rest else {
                    return Err(self.bad_escape(start));
                };
                self.pos += 2;
                let n = (c as u32 - '0' as u32) * 64 + u32::from_str_radix(rest, 8).unwrap_or(0);
                if n >= 0x80 {
                    return Err(self.bad_escape(start));
                }
                char::from_u32(n).ok_or_else(|| self.bad_escape(start))?
            }
            _ => return Err(self.bad_escape(start)),
        };
        Ok(decoded)
    }

    /// Handle `%` or `$` at `start` (already consumed).
    fn doubled(&mut self, c: char, start: usize) -> Result<char, EscapeError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            return Ok(c);
        }
        if c == '$' {
            return Err(EscapeError::Dollar { offset: start });
        }
        let found = self.peek().map(String::from).unwrap_or_default();
        Err(EscapeError::Specifier {
            offset: start,
            found,
        })
    }
}

/// Read a word list written by [`join`] (or by hand, systemd-style).
pub fn split(value: &str, ctx: Context) -> Result<Vec<String>, EscapeError> {
    let mut r = Reader { s: value, pos: 0 };
    let mut words = Vec::new();
    loop {
        while r.peek().is_some_and(|c| SEPARATORS.contains(&c)) {
            r.pos += 1;
        }
        if r.peek().is_none() {
            return Ok(words);
        }
        let mut word = String::new();
        let mut quote: Option<(char, usize)> = None;
        loop {
            let start = r.pos;
            let Some(c) = r.bump() else {
                if let Some((_, offset)) = quote {
                    return Err(EscapeError::UnterminatedQuote { offset });
                }
                break;
            };
            match (c, quote) {
                (c, None) if SEPARATORS.contains(&c) => break,
                ('"' | '\'', None) => quote = Some((c, start)),
                (c, Some((q, _))) if c == q => quote = None,
                ('\\', _) => word.push(r.escape(start)?),
                ('%', _) => word.push(r.doubled('%', start)?),
                ('$', _) if ctx == Context::Command => word.push(r.doubled('$', start)?),
                (c, _) => word.push(c),
            }
        }
        words.push(word);
    }
}

/// Read a command line written by [`join_command`]; an unquoted systemd
/// exec prefix is an error.
pub fn split_command(value: &str) -> Result<Vec<String>, EscapeError> {
    let trimmed = value.trim_start_matches(SEPARATORS);
    if let Some(prefix) = trimmed.chars().next().filter(|c| EXEC_PREFIXES.contains(c)) {
        return Err(EscapeError::ExecPrefix {
            offset: value.len() - trimmed.len(),
            prefix,
        });
    }
    split(value, Context::Command)
}

/// Read a single value written by [`quote_value`]: a quoted value must be
/// exactly one word; a bare value is taken literally except for `%%`
/// (and `$$` in [`Context::Command`]).
pub fn unquote(value: &str, ctx: Context) -> Result<String, EscapeError> {
    if value.starts_with(['"', '\'']) {
        let mut words = split(value, ctx)?;
        if words.len() != 1 {
            let second = second_word_offset(value);
            return Err(EscapeError::NotOneWord {
                offset: second,
                count: words.len(),
            });
        }
        return Ok(words.remove(0));
    }
    let mut r = Reader { s: value, pos: 0 };
    let mut out = String::with_capacity(value.len());
    while let Some(c) = r.bump() {
        let start = r.pos - c.len_utf8();
        match c {
            '%' => out.push(r.doubled('%', start)?),
            '$' if ctx == Context::Command => out.push(r.doubled('$', start)?),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Offset of the first separator after the first word (for errors).
fn second_word_offset(value: &str) -> usize {
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match (c, quote) {
            _ if escaped => escaped = false,
            ('\\', _) => escaped = true,
            ('"' | '\'', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            (c, None) if SEPARATORS.contains(&c) => return i,
            _ => {}
        }
    }
    value.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bare_words_stay_bare() {
        assert_eq!(
            join(&["cargo", "run", "--bin", "paulie"], Context::Command),
            "cargo run --bin paulie"
        );
        assert_eq!(join(&["PORT=8080"], Context::Plain), "PORT=8080");
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(quote_word("a b", Context::Plain), "\"a b\"");
        assert_eq!(quote_word("", Context::Plain), "\"\"");
        assert_eq!(quote_word("a\"b", Context::Plain), "\"a\\\"b\"");
        assert_eq!(quote_word("a\\b", Context::Plain), "\"a\\\\b\"");
        assert_eq!(
            quote_word("l1\nl2\t\r", Context::Plain),
            "\"l1\\nl2\\t\\r\""
        );
        assert_eq!(quote_word("\u{1b}[0m", Context::Plain), "\"\\x1b[0m\"");
        assert_eq!(
            quote_word("\u{85}\u{2028}", Context::Plain),
            "\"\\u0085\\u2028\""
        );
        assert_eq!(quote_word("it's", Context::Plain), "\"it's\"");
    }

    #[test]
    fn percent_and_dollar() {
        assert_eq!(quote_word("100%", Context::Plain), "100%%");
        assert_eq!(quote_word("$HOME", Context::Plain), "$HOME");
        assert_eq!(quote_word("$HOME", Context::Command), "$$HOME");
        assert_eq!(quote_word("a $b%", Context::Command), "\"a $$b%%\"");
        assert_eq!(quote_word(";", Context::Command), "\\;");
        assert_eq!(quote_word(";", Context::Plain), ";");
    }

    #[test]
    fn command_prefix_is_quoted() {
        assert_eq!(join_command(&["-x", "-y"]), "\"-x\" -y");
        assert_eq!(split_command("\"-x\" -y").unwrap(), vec!["-x", "-y"]);
        assert_eq!(
            split_command("  -x").unwrap_err(),
            EscapeError::ExecPrefix {
                offset: 2,
                prefix: '-'
            }
        );
    }

    #[test]
    fn reads_systemd_forms() {
        let words = split(
            r#"a"b c"d 'x y' \s \101\x41\u00e9\U0001F600 \a\b\f\v"#,
            Context::Plain,
        )
        .unwrap();
        assert_eq!(
            words,
            vec![
                "ab cd",
                "x y",
                " ",
                "AA\u{e9}\u{1F600}",
                "\u{7}\u{8}\u{c}\u{b}"
            ]
        );
        assert_eq!(split("  a\t b  ", Context::Plain).unwrap(), vec!["a", "b"]);
        assert_eq!(split("", Context::Plain).unwrap(), Vec::<String>::new());
        assert_eq!(split("\\;", Context::Command).unwrap(), vec![";"]);
    }

    #[test]
    fn split_errors() {
        let cases: &[(&str, Context, EscapeError)] = &[
            (
                "a \"b",
                Context::Plain,
                EscapeError::UnterminatedQuote { offset: 2 },
            ),
            (
                "'b",
                Context::Plain,
                EscapeError::UnterminatedQuote { offset: 0 },
            ),
            (
                "a\\",
                Context::Plain,
                EscapeError::TrailingBackslash { offset: 1 },
            ),
            (
                "\\q",
                Context::Plain,
                EscapeError::BadEscape {
                    offset: 0,
                    found: "\\q".into(),
                },
            ),
            (
                "\\x8",
                Context::Plain,
                EscapeError::BadEscape {
                    offset: 0,
                    found: "\\x8".into(),
                },
            ),
            (
                "\\x80",
                Context::Plain,
                EscapeError::BadEscape {
                    offset: 0,
                    found: "\\x80".into(),
                },
            ),
            (
                "\\ud800",
                Context::Plain,
                EscapeError::BadEscape {
                    offset: 0,
                    found: "\\ud800".into(),
                },
            ),
            (
                "\\777",
                Context::Plain,
                EscapeError::BadEscape {
                    offset: 0,
                    found: "\\777".into(),
                },
            ),
            (
                "\\78",
                Context::Plain,
                EscapeError::BadEscape {
                    offset: 0,
                    found: "\\78".into(),
                },
            ),
            (
                "%n",
                Context::Plain,
                EscapeError::Specifier {
                    offset: 0,
                    found: "n".into(),
                },
            ),
            (
                "a%",
                Context::Plain,
                EscapeError::Specifier {
                    offset: 1,
                    found: String::new(),
                },
            ),
            ("$HOME", Context::Command, EscapeError::Dollar { offset: 0 }),
        ];
        for (input, ctx, want) in cases {
            assert_eq!(split(input, *ctx).unwrap_err(), *want, "{input:?}");
            assert_eq!(split(input, *ctx).unwrap_err().offset(), want.offset());
        }
        assert_eq!(split("$HOME", Context::Plain).unwrap(), vec!["$HOME"]);
    }

    #[test]
    fn single_values() {
        assert_eq!(quote_value("Paulie's API", Context::Plain), "Paulie's API");
        assert_eq!(quote_value("50% done", Context::Plain), "50%% done");
        assert_eq!(quote_value(" pad", Context::Plain), "\" pad\"");
        assert_eq!(quote_value("'q", Context::Plain), "\"'q\"");
        assert_eq!(quote_value("", Context::Plain), "\"\"");
        assert_eq!(quote_value("C:\\x", Context::Plain), "\"C:\\\\x\"");
        assert_eq!(
            unquote("Paulie's API", Context::Plain).unwrap(),
            "Paulie's API"
        );
        assert_eq!(unquote("a\\b", Context::Plain).unwrap(), "a\\b");
        assert_eq!(unquote("\"a b\"", Context::Plain).unwrap(), "a b");
        assert_eq!(unquote("$$x", Context::Command).unwrap(), "$x");
    }

    #[test]
    fn unquote_errors() {
        assert_eq!(
            unquote("\"a\" b", Context::Plain).unwrap_err(),
            EscapeError::NotOneWord {
                offset: 3,
                count: 2
            }
        );
        assert_eq!(
            unquote("\"a", Context::Plain).unwrap_err(),
            EscapeError::UnterminatedQuote { offset: 0 }
        );
        assert_eq!(
            unquote("5%", Context::Plain).unwrap_err(),
            EscapeError::Specifier {
                offset: 1,
                found: String::new()
            }
        );
        assert_eq!(
            unquote("x$", Context::Command).unwrap_err(),
            EscapeError::Dollar { offset: 1 }
        );
        assert_eq!(second_word_offset("\"a\\\" b\" c"), 7);
    }

    fn hostile() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            proptest::collection::vec(
                prop_oneof![
                    Just("\"".to_string()),
                    Just("'".to_string()),
                    Just("\\".to_string()),
                    Just("%".to_string()),
                    Just("$".to_string()),
                    Just(";".to_string()),
                    Just("\n".to_string()),
                    Just(" ".to_string()),
                    Just("-".to_string()),
                    Just("\u{0}".to_string()),
                    "[a-z]{1,3}".prop_map(|s| s),
                    any::<char>().prop_map(String::from),
                ],
                0..8
            )
            .prop_map(|v| v.concat()),
        ]
    }

    fn assert_clean(out: &str) {
        assert!(
            !out.chars().any(is_unsafe),
            "raw control character in {out:?}"
        );
    }

    proptest! {
        #[test]
        fn split_inverts_join(words in proptest::collection::vec(hostile(), 0..6)) {
            for ctx in [Context::Plain, Context::Command] {
                let text = join(&words, ctx);
                assert_clean(&text);
                prop_assert_eq!(&split(&text, ctx).unwrap(), &words);
            }
            let text = join_command(&words);
            assert_clean(&text);
            prop_assert_eq!(&split_command(&text).unwrap(), &words);
        }

        #[test]
        fn unquote_inverts_quote_value(value in hostile()) {
            for ctx in [Context::Plain, Context::Command] {
                let text = quote_value(&value, ctx);
                assert_clean(&text);
                prop_assert_eq!(&unquote(&text, ctx).unwrap(), &value);
                prop_assert_eq!(&unquote(&quoted(&value, ctx), ctx).unwrap(), &value);
            }
        }

        #[test]
        fn split_never_panics(text in any::<String>()) {
            let _ = split(&text, Context::Command);
            let _ = split_command(&text);
            let _ = unquote(&text, Context::Plain);
        }
    }
}
