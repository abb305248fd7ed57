//! Phase 1: text → KDL document. The `kdl` parser is recursive, so it runs
//! on a helper thread with a large fixed stack (the pre-scan has already
//! bounded the nesting depth, so this is deterministic), and a panic inside
//! it becomes a problem instead of unwinding into the caller. Its
//! diagnostics are re-wrapped with the manifest's file name (a `KdlError`
//! carries an unnamed source).

use std::sync::Arc;

use kdl::KdlDocument;
use miette::SourceSpan;

use crate::error::{Problem, Source};

/// Stack for the parser thread: about 50 KiB per nesting level in debug
/// builds, so 32 MiB is ample for the depth limit of 32.
const PARSE_STACK: usize = 32 << 20;

/// Parse `text` as KDL v2; on failure push every syntax error.
pub fn parse(text: &Arc<String>, src: &Source, out: &mut Vec<Problem>) -> Option<KdlDocument> {
    let t = Arc::clone(text);
    let spawned = std::thread::Builder::new()
        .name("devctl-kdl-parse".into())
        .stack_size(PARSE_STACK)
        .spawn(move || KdlDocument::parse(&t));
    let handle = match spawned {
        Ok(h) => h,
        Err(err) => {
            out.push(
                Problem::bare(
                    "devctl::manifest::internal",
                    format!("cannot start the parser thread: {err}"),
                )
                .with_help("the system is out of threads or memory; try again"),
            );
            return None;
        }
    };
    match handle.join() {
        Ok(Ok(doc)) => Some(doc),
        Ok(Err(err)) => {
            let len = text.len();
            for d in err.diagnostics {
                let offset = d.span.offset().min(len);
                let span = narrow(
                    text,
                    SourceSpan::new(offset.into(), d.span.len().min(len - offset)),
                );
                let message = d.message.unwrap_or_else(|| "syntax error".to_owned());
                let label = d.label.unwrap_or_else(|| "here".to_owned());
                let help = d.help.or_else(|| {
                    Some(
                        "see https://kdl.dev for KDL v2 syntax; devctl.kdl(5) has examples"
                            .to_owned(),
                    )
                });
                out.push(
                    Problem::at("devctl::manifest::syntax", message, src, span, label)
                        .with_help_opt(help),
                );
            }
            if out.is_empty() {
                out.push(Problem::bare(
                    "devctl::manifest::syntax",
                    "the manifest is not valid KDL",
                ));
            }
            None
        }
        Err(_) => {
            out.push(
                Problem::bare(
                    "devctl::manifest::internal",
                    "the KDL parser crashed on this manifest",
                )
                .with_help(
                    "this is a bug in the parser; please report it with the manifest attached",
                ),
            );
            None
        }
    }
}

/// The parser sometimes reports a span running from the start of the
/// document to the point of failure; underline just the last character
/// before that point when a span covers several lines.
fn narrow(text: &str, span: SourceSpan) -> SourceSpan {
    let end = span.offset() + span.len();
    let covered = &text[span.offset()..end];
    if !covered.contains('\n') {
        return span;
    }
    match covered.trim_end().char_indices().last() {
        Some((i, c)) => SourceSpan::new((span.offset() + i).into(), c.len_utf8()),
        None => SourceSpan::new(end.into(), 0),
    }
}
