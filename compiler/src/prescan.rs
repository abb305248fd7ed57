//! Hostile-input limits, enforced before the text reaches the KDL parser.
//!
//! The `kdl` crate is recursive (about 50 KiB of stack per nesting level in
//! debug builds) and exponential in the nesting of slashdashed children
//! blocks (`a /-{` repeated: kdl-rs#177, still present in 6.7.1: each extra
//! level doubles the time). A cheap linear scan, which knows just enough KDL
//! to skip strings and comments, rejects before parsing:
//!
//! - forbidden characters anywhere (NUL and other control characters, bidi
//!   overrides, zero-width characters): see [`forbidden_char`];
//! - strings longer than [`MAX_STRING_BYTES`];
//! - nesting deeper than [`MAX_DEPTH`], and slashdashed blocks nested deeper
//!   than [`MAX_SLASHDASH_DEPTH`];
//! - unbalanced braces and unterminated strings or comments (reported here
//!   with a precise position instead of handing them to the parser).

use miette::SourceSpan;

use crate::error::{Problem, Source};

/// Largest manifest accepted, in bytes (checked before reading or parsing).
pub const MAX_FILE_BYTES: usize = 1 << 20;
/// Longest string literal accepted, in bytes.
pub const MAX_STRING_BYTES: usize = 64 << 10;
/// Deepest `{` nesting accepted (devctl.kdl itself needs 3).
pub const MAX_DEPTH: usize = 32;
/// Deepest nesting of slashdashed (commented-out) blocks accepted.
pub const MAX_SLASHDASH_DEPTH: usize = 3;
/// At most this many forbidden-character problems are listed.
const MAX_CHAR_PROBLEMS: usize = 20;

/// Why a character may not appear in a manifest, or `None` if it may.
/// Tab, newline and carriage return are the only control characters
/// allowed; a byte-order mark is allowed only as the very first character
/// (the caller handles that).
pub fn forbidden_char(c: char) -> Option<&'static str> {
    match c {
        '\0' => Some("a NUL byte"),
        '\t' | '\n' | '\r' => None,
        '\u{1}'..='\u{1f}' | '\u{7f}' => Some("a control character"),
        '\u{80}'..='\u{9f}' => Some("a C1 control character"),
        '\u{2028}' | '\u{2029}' => Some("a Unicode line separator"),
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}' => {
            Some("a bidirectional-text control character")
        }
        '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}' => {
            Some("an invisible (zero-width) character")
        }
        _ => None,
    }
}

/// Scan `text`; push problems to `out`. Returns `false` when the text must
/// not be handed to the KDL parser.
pub fn prescan(text: &str, src: &Source, out: &mut Vec<Problem>) -> bool {
    let chars_ok = scan_chars(text, src, out);
    let structure_ok = Scanner {
        b: text.as_bytes(),
        i: 0,
        src,
        out,
    }
    .run();
    chars_ok && structure_ok
}

fn scan_chars(text: &str, src: &Source, out: &mut Vec<Problem>) -> bool {
    let mut found = 0usize;
    for (at, c) in text.char_indices() {
        if at == 0 && c == '\u{feff}' {
            continue;
        }
        let Some(what) = forbidden_char(c) else {
            continue;
        };
        found += 1;
        if found > MAX_CHAR_PROBLEMS {
            continue;
        }
        out.push(
            Problem::at(
                "devctl::manifest::forbidden-char",
                format!("the manifest contains {what} (U+{:04X}) at byte offset {at}", c as u32),
                src,
                SourceSpan::new(at.into(), c.len_utf8()),
                "here",
            )
            .with_help("remove it; write control characters in strings as escapes (\\t, \\n) where they are allowed"),
        );
    }
    if found > MAX_CHAR_PROBLEMS {
        out.push(Problem::bare(
            "devctl::manifest::forbidden-char",
            format!(
                "… and {} more forbidden characters",
                found - MAX_CHAR_PROBLEMS
            ),
        ));
    }
    found == 0
}

struct Open {
    at: usize,
    slashdash: bool,
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    src: &'a Source,
    out: &'a mut Vec<Problem>,
}

impl Scanner<'_> {
    fn peek(&self, k: usize) -> u8 {
        self.b.get(self.i + k).copied().unwrap_or(0)
    }

    fn fail(
        &mut self,
        code: &'static str,
        msg: String,
        at: usize,
        len: usize,
        label: &str,
        help: &str,
    ) -> bool {
        let len = len.min(self.b.len().saturating_sub(at));
        self.out.push(
            Problem::at(code, msg, self.src, SourceSpan::new(at.into(), len), label)
                .with_help(help),
        );
        false
    }

    fn run(mut self) -> bool {
        let mut stack: Vec<Open> = Vec::new();
        let mut sd_depth = 0usize;
        // `/-` seen and not yet resolved: the next `{` before a node
        // terminator opens a commented-out block.
        let mut sd_pending = false;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'/' if self.peek(1) == b'/' => {
                    while self.i < self.b.len() && !matches!(self.b[self.i], b'\n' | b'\r') {
                        self.i += 1;
                    }
                }
                b'/' if self.peek(1) == b'*' => {
                    if !self.block_comment() {
                        return false;
                    }
                }
                b'/' if self.peek(1) == b'-' => {
                    self.i += 2;
                    sd_pending = true;
                }
                b'"' => {
                    if !self.string(0) {
                        return false;
                    }
                }
                b'#' => {
                    let hashes = self.b[self.i..].iter().take_while(|&&c| c == b'#').count();
                    if self.peek(hashes) == b'"' {
                        if !self.string(hashes) {
                            return false;
                        }
                    } else {
                        self.i += hashes;
                    }
                }
                b'{' => {
                    let at = self.i;
                    if stack.len() >= MAX_DEPTH {
                        return self.fail(
                            "devctl::manifest::too-deep",
                            format!("nesting is deeper than {MAX_DEPTH} levels"),
                            at,
                            1,
                            "too deep",
                            "devctl.kdl needs at most 3 levels of `{ }`; flatten the document",
                        );
                    }
                    if sd_pending {
                        sd_depth += 1;
                        if sd_depth > MAX_SLASHDASH_DEPTH {
                            return self.fail(
                                "devctl::manifest::too-deep",
                                format!("commented-out (`/-`) blocks are nested deeper than {MAX_SLASHDASH_DEPTH} levels"),
                                at,
                                1,
                                "too deep",
                                "delete the commented-out blocks, or comment out only the outermost one",
                            );
                        }
                    }
                    stack.push(Open {
                        at,
                        slashdash: sd_pending,
                    });
                    sd_pending = false;
                    self.i += 1;
                }
                b'}' => {
                    let at = self.i;
                    match stack.pop() {
                        Some(open) => sd_depth -= usize::from(open.slashdash),
                        None => {
                            return self.fail(
                                "devctl::manifest::syntax",
                                "unmatched `}`".to_owned(),
                                at,
                                1,
                                "no `{` opens this",
                                "remove it, or add the missing `{` before it",
                            );
                        }
                    }
                    sd_pending = false;
                    self.i += 1;
                }
                b'\n' | b'\r' | b';' => {
                    sd_pending = false;
                    self.i += 1;
                }
                _ => self.i += 1,
            }
        }
        if let Some(open) = stack.first() {
            let at = open.at;
            let n = stack.len();
            return self.fail(
                "devctl::manifest::syntax",
                format!("`{{` is never closed ({n} unclosed at the end of the file)"),
                at,
                1,
                "opened here",
                "add the missing `}`; every `{` needs a matching `}`",
            );
        }
        true
    }

    /// `/* … */`, nested.
    fn block_comment(&mut self) -> bool {
        let start = self.i;
        let mut depth = 0usize;
        while self.i < self.b.len() {
            if self.b[self.i] == b'/' && self.peek(1) == b'*' {
                depth += 1;
                self.i += 2;
            } else if self.b[self.i] == b'*' && self.peek(1) == b'/' {
                depth -= 1;
                self.i += 2;
                if depth == 0 {
                    return true;
                }
            } else {
                self.i += 1;
            }
        }
        self.fail(
            "devctl::manifest::syntax",
            "unterminated `/*` comment".to_owned(),
            start,
            2,
            "starts here",
            "close it with `*/`",
        )
    }

    /// Does the string close at `self.i` (`quotes` quotes, then `hashes` hashes)?
    fn closes(&self, quotes: usize, hashes: usize) -> bool {
        match self.b.get(self.i..self.i + quotes + hashes) {
            Some(s) => {
                s[..quotes].iter().all(|&q| q == b'"') && s[quotes..].iter().all(|&h| h == b'#')
            }
            None => false,
        }
    }

    /// A quoted string (`"…"`, `"""…"""`) or, with `hashes > 0`, a raw string
    /// (`#"…"#`, `##"""…"""##`). `self.i` is at the first `#` or `"`.
    fn string(&mut self, hashes: usize) -> bool {
        let start = self.i;
        self.i += hashes;
        let multi = self.peek(1) == b'"' && self.peek(2) == b'"';
        let quotes = if multi { 3 } else { 1 };
        // `""` (empty string) is not the start of a multi-line string.
        if !multi && self.peek(1) == b'"' && hashes == 0 {
            self.i += 2;
            return true;
        }
        self.i += quotes;
        let body = self.i;
        loop {
            if self.i >= self.b.len() {
                return self.fail(
                    "devctl::manifest::syntax",
                    "unterminated string".to_owned(),
                    start,
                    hashes + quotes,
                    "starts here",
                    "close the string with a matching quote",
                );
            }
            let c = self.b[self.i];
            if c == b'\\' && hashes == 0 {
                self.i += 2;
                continue;
            }
            if c == b'"' && self.closes(quotes, hashes) {
                let len = self.i - body;
                self.i += quotes + hashes;
                if len > MAX_STRING_BYTES {
                    return self.fail(
                        "devctl::manifest::too-long",
                        format!("a string of {len} bytes; at most {MAX_STRING_BYTES} are allowed"),
                        start,
                        (hashes + quotes).max(1),
                        "this string",
                        "keep large data in a file and refer to it (env-file, a script)",
                    );
                }
                return true;
            }
            self.i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn scan(text: &str) -> (bool, Vec<Problem>) {
        let src = Source::new("t.kdl", Arc::new(text.to_owned()));
        let mut out = Vec::new();
        let ok = prescan(text, &src, &mut out);
        (ok, out)
    }

    #[test]
    fn accepts_ordinary_kdl() {
        let text = "// c { \n/* a /* { */ } */ a \"{\" #\"}\"# ##\"\"\"\n}\"#\n\"\"\"## { b /-{ c } }\n\"\" x \"\\\"{\"";
        let (ok, out) = scan(text);
        assert!(ok, "{out:?}");
    }

    #[test]
    fn rejects_deep_nesting() {
        let (ok, out) = scan(&"a {".repeat(10_000));
        assert!(!ok);
        assert_eq!(out[0].code_str(), "devctl::manifest::too-deep");
        assert_eq!(out[0].span().unwrap().offset(), 3 * MAX_DEPTH + 2);
    }

    #[test]
    fn rejects_nested_slashdash_blocks() {
        let text = format!("{}{}", "a /-{\n".repeat(5), "}\n".repeat(5));
        let (ok, out) = scan(&text);
        assert!(!ok);
        assert!(out[0].message().contains("commented-out"), "{out:?}");
        let ok_text = format!("{}{}", "a /-{\n".repeat(3), "}\n".repeat(3));
        assert!(scan(&ok_text).0);
        let nodes = format!("{}{}", "/- a {\n".repeat(4), "}\n".repeat(4));
        assert!(!scan(&nodes).0);
    }

    #[test]
    fn rejects_unbalanced() {
        let (ok, out) = scan("a {\n b {\n");
        assert!(!ok);
        assert_eq!(out[0].span().unwrap().offset(), 2);
        let (ok, out) = scan("a }");
        assert!(!ok);
        assert_eq!(out[0].message(), "unmatched `}`");
    }

    #[test]
    fn rejects_unterminated() {
        for (text, at) in [
            ("a \"x", 2),
            ("a #\"x\"", 2),
            ("a /* x", 2),
            ("a \"\"\"\nx\"\"", 2),
        ] {
            let (ok, out) = scan(text);
            assert!(!ok, "{text}");
            assert_eq!(out[0].span().unwrap().offset(), at, "{text}");
        }
    }

    #[test]
    fn rejects_long_strings() {
        let (ok, out) = scan(&format!("a \"{}\"", "x".repeat(MAX_STRING_BYTES + 1)));
        assert!(!ok);
        assert_eq!(out[0].code_str(), "devctl::manifest::too-long");
    }

    #[test]
    fn rejects_forbidden_chars_but_allows_leading_bom() {
        assert!(scan("\u{feff}a").0);
        let (ok, out) = scan("a \"x\u{202e}y\" \0");
        assert!(!ok);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].span().unwrap().offset(), 4);
        let many = "\u{1}".repeat(30);
        let (_, out) = scan(&many);
        assert_eq!(out.len(), MAX_CHAR_PROBLEMS + 1);
    }
}
