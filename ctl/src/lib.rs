//! The `devctl` command-line interface as a library. [`run`] parses the
//! arguments ([`cli`]), derives the context ([`opts`]), runs the verb
//! ([`verbs`]) and turns the outcome into an exit code ([`exit`]), printing
//! errors as text or JSON ([`error`]). A broken pipe on stdout is success.
//!
//! | module | verbs / role |
//! |---|---|
//! | [`local`], [`manifest`] | check, compile, cat, completions (no daemon); the only compiler caller |
//! | [`session`], [`daemon`], [`client`] | project resolution + manifest load, daemon autostart, the HTTP client |
//! | [`jobs`] | up, down, start, stop, restart, trigger, enable, disable, reload, wait |
//! | [`query`] | status, list, show, is-active, is-enabled, is-failed |
//! | [`stream`] | logs, events, run |
//! | [`history`] | history; the run lines of status |
//! | [`ui`] | ui: the full-screen terminal view (ratatui) |
//! | [`dashboard`] | dashboard: turn on devctld's web dashboard, print its link, open a browser |
//! | [`admin`] | daemon run/stop/status/reexec, forget |
//! | [`probe`], [`man`] | the `ExecStartPost=` readiness helper; devctl(1) |
//! | [`import`] | import: a devctl.kdl from a Procfile, Compose file or process-compose.yaml |
//! | [`mcp`] | mcp: the Model Context Protocol server over the verbs above |
//! | [`output`] | colour (TTY only, `NO_COLOR`), tables, JSON |

pub mod admin;
pub mod cli;
pub mod client;
pub mod compile_cache;
pub mod daemon;
pub mod dashboard;
pub mod error;
pub mod exit;
pub mod history;
pub mod import;
pub mod jobs;
pub mod local;
pub mod man;
pub mod manifest;
pub mod mcp;
pub mod opts;
pub mod output;
pub mod probe;
pub mod query;
pub mod session;
pub mod stream;
pub mod systemd;
pub mod ui;
pub mod verbs;

use std::ffi::OsString;
use std::io::{self, Write};

use clap::Parser;

use crate::cli::Cli;
use crate::error::CtlError;
use crate::exit::Exit;
use crate::opts::Context;
use crate::output::Out;

impl From<io::Error> for CtlError {
    /// Writing to stdout failed.
    fn from(source: io::Error) -> CtlError {
        CtlError::Io {
            path: "<stdout>".into(),
            source,
        }
    }
}

fn is_broken_pipe(e: &CtlError) -> bool {
    matches!(e, CtlError::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
}

/// Run devctl with these arguments; returns the process exit code.
pub async fn run(args: impl IntoIterator<Item = OsString>) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.code()
            } else {
                Exit::Ok.code()
            };
        }
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    let ctx = match Context::from_cli(&cli, &cwd) {
        Ok(ctx) => ctx,
        Err(e) => return report(cli.global.json, output::stderr_color(), &e),
    };
    let mut out = Out::new(ctx.color_out);
    let result = verbs::dispatch(&ctx, &cli.command, &mut out).await;
    let flushed = out.flush().map_err(CtlError::from);
    match result.and_then(|exit| flushed.map(|()| exit)) {
        Ok(exit) => exit.code(),
        Err(e) if is_broken_pipe(&e) => Exit::Ok.code(),
        Err(e) => report(ctx.json, ctx.color_err, &e),
    }
}

/// Print an error (JSON on stdout with `--json`, text on stderr otherwise)
/// and return its exit code.
fn report(json: bool, color: bool, e: &CtlError) -> u8 {
    if json {
        let mut stdout = io::stdout().lock();
        let _ = serde_json::to_writer(&mut stdout, &e.to_json());
        let _ = stdout.write_all(b"\n");
    } else {
        eprintln!("{}", e.render_human(color));
    }
    exit::for_error(e).code()
}
