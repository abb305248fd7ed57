//! `devctld`: parse the (few) arguments, set up logging, build the runtime,
//! call [`devctl_supervisord::run`], and map the outcome to an exit code
//! (0 stopped cleanly, 69 could not start or already running, 1 otherwise).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use devctl_supervisord::daemon::DaemonOptions;

/// devctld — the devctl supervisor daemon. Usually started by `devctl`
/// or by systemd (`devctl daemon install`); see devctld(8).
#[derive(Parser, Debug)]
#[command(name = "devctld", version, about, long_about = None)]
struct Args {}

fn main() -> ExitCode {
    let Args {} = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DEVCTL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
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
    match runtime.block_on(devctl_supervisord::run(DaemonOptions::default())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = u8::try_from(e.exit_code()).unwrap_or(1);
            eprintln!("{:?}", miette::Report::new(e));
            ExitCode::from(code)
        }
    }
}
