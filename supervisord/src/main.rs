//! `devctld`: parse the (few) arguments, set up logging, build the runtime,
//! call [`devctl_supervisord::run`], and map the outcome to an exit code
//! (0 stopped cleanly, 69 could not start or already running, 1 otherwise).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use devctl_supervisord::daemon::{DaemonOptions, reexec};

/// devctld — the devctl supervisor daemon. Usually started by `devctl`
/// or by systemd (`devctl daemon install`); see devctld(8).
#[derive(Parser, Debug)]
#[command(name = "devctld", version, about, long_about = None)]
struct Args {
    /// Set by a previous image of this process re-executing itself: the
    /// state file it left (see devctld(8), REEXEC).
    #[arg(
        long = "reexec-state",
        value_name = "PATH",
        hide = true,
        requires = "reexec_fds"
    )]
    reexec_state: Option<std::path::PathBuf>,
    /// With --reexec-state: the inherited listener and lock fds, `LISTEN,LOCK`.
    #[arg(
        long = "reexec-fds",
        value_name = "FDS",
        hide = true,
        requires = "reexec_state"
    )]
    reexec_fds: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DEVCTL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
    let mut opts = DaemonOptions::default();
    if let (Some(state), Some(fds)) = (&args.reexec_state, &args.reexec_fds) {
        // Before the runtime exists: stray inherited fds are closed here.
        match reexec::parse_fds(fds) {
            Some(fds) => {
                let (inherited, problem) = reexec::take_inherited(state, fds);
                if let Some(p) = problem {
                    tracing::warn!(
                        "re-exec state unusable ({p}); continuing the session as after a crash"
                    );
                }
                opts.reexec = Some(inherited);
            }
            None => tracing::warn!(fds, "ignoring a malformed --reexec-fds"),
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("devctld: cannot start the async runtime: {e}");
            return ExitCode::from(69);
        }
    };
    match runtime.block_on(devctl_supervisord::run(opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = u8::try_from(e.exit_code()).unwrap_or(1);
            eprintln!("{:?}", miette::Report::new(e));
            ExitCode::from(code)
        }
    }
}
