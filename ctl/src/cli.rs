//! The command line, as pure clap definitions: every verb of product.md §5,
//! its arguments and the global options. Nothing here touches the file
//! system or the daemon; [`crate::opts`] turns the parsed [`Cli`] into a
//! resolved context (phase two, like ripgrep's raw → derived arguments).
//!
//! `-f/--file` and `-C` are given before the verb (as with `git -C` and
//! `docker compose -f`), because `logs -f` and `events -f` mean "follow".
//! The other global options are accepted anywhere.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Control a project's local services like systemctl controls a machine.
#[derive(Debug, Parser)]
#[command(
    name = "devctl",
    version,
    about = "Run a project's local services, builds and containers from a devctl.kdl manifest",
    long_about = "devctl compiles a devctl.kdl manifest into unit files and drives the user daemon \
                  devctld, which runs them: start/stop change what runs now, enable/disable change \
                  what comes up by default, persistently.",
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Use this manifest instead of searching for devctl.kdl upwards (give it before the verb).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Run as if devctl was started in DIR (give it before the verb).
    #[arg(short = 'C', value_name = "DIR")]
    pub directory: Option<PathBuf>,

    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after the verb.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Address this project instead of the current directory's.
    #[arg(short = 'p', long = "project", value_name = "PROJECT", global = true)]
    pub project: Option<String>,

    /// Print machine-readable JSON (results and errors).
    #[arg(long, global = true)]
    pub json: bool,

    /// Do not wait for units to become ready or stopped.
    #[arg(long = "no-block", global = true)]
    pub no_block: bool,

    /// Give up waiting after this long (e.g. 30s, 2m); exit 124.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub timeout: Option<Duration>,

    /// Print only errors.
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
}

/// Unit names, `PROJECT/NAME`, or globs such as 'api-*'.
#[derive(Debug, Clone, Args)]
pub struct Units {
    /// Units: NAME, PROJECT/NAME or a glob ('api-*').
    #[arg(value_name = "UNIT", required = true)]
    pub names: Vec<String>,
}

/// Optional unit names.
#[derive(Debug, Clone, Args)]
pub struct MaybeUnits {
    /// Units: NAME, PROJECT/NAME or a glob ('api-*'); none means every unit.
    #[arg(value_name = "UNIT")]
    pub names: Vec<String>,
}

/// `enable` and `disable`.
#[derive(Debug, Clone, Args)]
pub struct EnableArgs {
    /// Also start (enable) or stop (disable) the units now.
    #[arg(long)]
    pub now: bool,
    /// Change whether the whole project comes up when the daemon starts.
    #[arg(long)]
    pub boot: bool,
    /// Units: NAME, PROJECT/NAME or a glob.
    #[arg(value_name = "UNIT", required_unless_present = "boot")]
    pub names: Vec<String>,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bring the project up: every enabled unit, or exactly the named ones (stopping the others).
    Up {
        #[command(flatten)]
        units: MaybeUnits,
        /// Run builds even when they are up to date.
        #[arg(long)]
        force: bool,
    },
    /// Stop every unit of the project (enablement is unchanged).
    Down,
    /// Start units now, with what they require; waits until ready.
    Start {
        #[command(flatten)]
        units: Units,
        /// Run builds even when they are up to date.
        #[arg(long)]
        force: bool,
    },
    /// Stop units now; waits until stopped.
    Stop(Units),
    /// Stop then start units.
    Restart(Units),
    /// Make units part of the project's default set, persistently.
    Enable(EnableArgs),
    /// Remove units from the project's default set, persistently.
    Disable(EnableArgs),
    /// Show what runs, what is ready, what failed and why.
    Status(MaybeUnits),
    /// List units of this project, or of every project with --all.
    List {
        /// Every project the daemon knows.
        #[arg(short = 'a', long)]
        all: bool,
    },
    /// Print units' logs, merged by time.
    Logs {
        /// Keep printing new lines.
        ///
        /// Lines of a burst the daemon could not queue are read back from the log files, in
        /// order; any it cannot read back (over 50000 behind, rotated away) are counted in a
        /// `-- N lines of UNIT missing here: ... --` line, and following goes on.
        #[arg(short = 'f', long)]
        follow: bool,
        /// Print the last N lines.
        #[arg(short = 'n', long = "lines", value_name = "N")]
        lines: Option<u64>,
        /// Only lines newer than DURATION ago (10m) or a TIME (2026-01-02T10:00:00).
        #[arg(long, value_name = "DURATION|TIME", value_parser = parse_since)]
        since: Option<Since>,
        /// Only the lines of run ID (as `devctl history` lists it).
        #[arg(long = "run", value_name = "ID", conflicts_with = "since")]
        run: Option<String>,
        /// Only lines matching REGEX (filtered by the daemon; works with -f).
        #[arg(long, value_name = "REGEX")]
        grep: Option<String>,
        /// Only lines of one output stream.
        #[arg(long, value_enum, value_name = "STREAM")]
        stream: Option<StreamArg>,
        #[command(flatten)]
        units: MaybeUnits,
    },
    /// List past and current runs of units, newest first: id, unit, trigger, start, duration,
    /// result and peak memory.
    History {
        /// Only runs started less than DURATION ago (1h) or since a TIME (2026-01-02T10:00:00).
        #[arg(long, value_name = "DURATION|TIME", value_parser = parse_since)]
        since: Option<Since>,
        /// Only runs that ended with another result than success.
        #[arg(long)]
        failed: bool,
        /// At most N runs (default 50, at most 1000).
        #[arg(short = 'n', long = "limit", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: Option<u32>,
        #[command(flatten)]
        units: MaybeUnits,
    },
    /// Wait until units reach a condition.
    Wait {
        /// The condition.
        #[arg(long = "for", value_enum, value_name = "CONDITION")]
        condition: WaitCondition,
        #[command(flatten)]
        units: Units,
    },
    /// Run a build in the foreground, stream its output, exit with its exit code.
    Run {
        /// The build unit.
        #[arg(value_name = "BUILD")]
        build: String,
    },
    /// Re-run builds / restart services now, as a file change would.
    Trigger(Units),
    /// Print each unit's active state; exit 0 if all are active, 3 otherwise.
    IsActive(Units),
    /// Print each unit's enablement; exit 0 if all are enabled, 3 otherwise.
    IsEnabled(Units),
    /// Print each unit's active state; exit 0 if any has failed, 3 otherwise.
    IsFailed(Units),
    /// Print units' properties as KEY=VALUE lines.
    Show {
        /// Only these properties.
        #[arg(short = 'P', long = "property", value_name = "NAME")]
        property: Vec<String>,
        #[command(flatten)]
        units: MaybeUnits,
    },
    /// Print the compiled unit file of a unit.
    Cat {
        /// The unit.
        #[arg(value_name = "UNIT")]
        name: String,
        /// Print the systemd form instead of devctl's.
        #[arg(long, value_enum, default_value_t = Target::Devctl)]
        target: Target,
    },
    /// Check the manifest; exit 65 with every problem if it is invalid.
    Check,
    /// Compile the manifest to unit files (stdout, or files in DIR).
    Compile {
        /// Write the unit files into DIR (created if missing); nothing is written if the manifest is invalid.
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<PathBuf>,
        /// Which unit-file dialect to emit.
        #[arg(long, value_enum, default_value_t = Target::Devctl)]
        target: Target,
    },
    /// Compile the manifest for systemd (like `compile --target systemd`); with --install, write
    /// the units into the user unit directory and reload the user manager.
    Export {
        /// Install into $XDG_CONFIG_HOME/systemd/user and reload the user manager over D-Bus
        /// (never overwrites a unit file devctl did not generate).
        #[arg(long, conflicts_with = "output")]
        install: bool,
        /// Write the unit files into DIR instead of printing them.
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<PathBuf>,
    },
    /// Load the edited manifest into the daemon and apply the difference.
    Reload,
    /// Print the daemon's events (state changes, spawns, exits) as they happen, until interrupted.
    Events {
        /// Keep printing new events (always the case: the daemon keeps no event history).
        #[arg(short = 'f', long)]
        follow: bool,
    },
    /// A full-screen terminal view: units, their logs, and the actions of the CLI, live.
    ///
    /// Keys: arrows or j/k move, space selects several units, s start, x stop, r restart,
    /// t trigger, e enable/disable, Enter detail, / search the log pane (n/N next), f follow,
    /// w wrap, Tab switch pane, ? help, q quit.
    Ui {
        /// Every project the daemon knows (adds a PROJECT column).
        #[arg(short = 'a', long)]
        all: bool,
        /// Capture the mouse (the wheel scrolls); off by default so text can be selected and copied.
        #[arg(long)]
        mouse: bool,
    },
    /// Open the web dashboard: turn it on in devctld (127.0.0.1, a one-time login link), print
    /// the link and open a browser when there is a display.
    ///
    /// The link carries a one-time token; the page then keeps a session cookie. The port is
    /// devctld's DEVCTL_DASHBOARD_PORT (7717 by default). See devctld(8), DASHBOARD.
    Dashboard {
        /// Print the link only; do not start a browser.
        #[arg(long = "no-open")]
        no_open: bool,
    },
    /// Stop a project's units and make the daemon forget it.
    Forget {
        /// The project.
        #[arg(value_name = "PROJECT")]
        project: String,
    },
    /// Control the daemon itself.
    #[command(subcommand)]
    Daemon(DaemonCommand),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write a devctl.kdl from a Procfile, a docker-compose.yml/compose.yaml or a
    /// process-compose.yaml; what devctl cannot express is listed as warnings.
    Import {
        /// The file to import.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Where to write the manifest (- prints it).
        #[arg(
            short = 'o',
            long = "output",
            value_name = "PATH",
            default_value = "devctl.kdl"
        )]
        output: PathBuf,
        /// Replace PATH if it exists.
        #[arg(long)]
        force: bool,
        /// The file's format (default: from its name, then its content).
        #[arg(long, value_enum)]
        format: Option<ImportFormat>,
        /// Procfile: PORT of the first process type; each next one gets 100 more (as foreman).
        #[arg(long = "base-port", value_name = "PORT", default_value_t = 5000)]
        base_port: u16,
    },
    /// Serve the Model Context Protocol on stdin/stdout: tools that list, start, stop,
    /// restart, trigger, enable and disable units, read logs and check the manifest.
    Mcp,
    /// Run one readiness check until it passes or times out (ExecStartPost= helper for --target systemd).
    Probe(ProbeArgs),
    /// Print the devctl(1) manual page (roff).
    #[command(hide = true)]
    Man,
}

/// A log stream to keep (`logs --stream`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StreamArg {
    Stdout,
    Stderr,
}

/// `devctl daemon …`.
#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Run devctld in the foreground.
    Run,
    /// Stop the daemon cleanly: every unit is stopped and the session ends.
    Stop,
    /// Print the daemon's pid, version, hosting (standalone, systemd unit,
    /// socket-activated) and session, and the systemd units when installed.
    Status,
    /// Re-execute devctld in place (same pid): its units keep running and
    /// are re-adopted, so an upgraded binary takes over without a restart.
    Reexec,
    /// Install devctld as a systemd user service (devctld.service, Type=notify,
    /// with a watchdog and delegated cgroups, plus devctld.socket) through the
    /// user manager's D-Bus API, and enable it.
    Install {
        /// Also start it now.
        #[arg(long)]
        now: bool,
        /// The service's WatchdogSec= (0 disables it); devctld pings at half of it.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
        watchdog: Duration,
    },
    /// Stop, disable and remove the devctld user units (ends the session).
    Uninstall,
}

/// `devctl probe CHECK …`: the grammar `devctl_compiler::probe_argv` emits
/// (`tcp HOST PORT`, `http URL [--status CODE]`, `exec [OPTIONS] -- ARGV`),
/// with the options after the check. `--timeout` (global) bounds one attempt.
#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    #[command(subcommand)]
    pub check: ProbeCheckArgs,
}

/// Timing options of `devctl probe`.
#[derive(Debug, Clone, Args)]
pub struct ProbeTiming {
    /// Time between attempts.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1s")]
    pub period: Duration,
    /// Wait this long before the first attempt.
    #[arg(long = "initial-delay", value_name = "DURATION", value_parser = parse_duration, default_value = "0s")]
    pub initial_delay: Duration,
    /// Consecutive successes needed.
    #[arg(long = "success-threshold", value_name = "N", default_value_t = 1)]
    pub success_threshold: u32,
    /// Give up (exit 1) after this long; without it, retry until killed.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub deadline: Option<Duration>,
}

/// The check a probe runs.
#[derive(Debug, Clone, Subcommand)]
pub enum ProbeCheckArgs {
    /// Ready when a TCP connection succeeds (HOST PORT, HOST:PORT or PORT).
    Tcp {
        /// HOST, HOST:PORT or PORT.
        #[arg(value_name = "HOST")]
        host: String,
        /// The port, when HOST is a bare host.
        #[arg(value_name = "PORT")]
        port: Option<u16>,
        #[command(flatten)]
        timing: ProbeTiming,
    },
    /// Ready when GET URL answers STATUS (default: any 2xx or 3xx).
    Http {
        /// An http:// URL.
        #[arg(value_name = "URL")]
        url: String,
        /// The expected status.
        #[arg(long, value_name = "CODE")]
        status: Option<u16>,
        #[command(flatten)]
        timing: ProbeTiming,
    },
    /// Ready when the command exits 0.
    Exec {
        #[command(flatten)]
        timing: ProbeTiming,
        /// The command and its arguments (after `--`).
        #[arg(
            value_name = "ARGV",
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        argv: Vec<String>,
    },
}

impl ProbeCheckArgs {
    /// The timing options of whichever check this is.
    pub fn timing(&self) -> &ProbeTiming {
        match self {
            ProbeCheckArgs::Tcp { timing, .. }
            | ProbeCheckArgs::Http { timing, .. }
            | ProbeCheckArgs::Exec { timing, .. } => timing,
        }
    }
}

/// Formats `devctl import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// foreman / honcho / overmind `name: command` lines.
    Procfile,
    /// docker-compose.yml / compose.yaml.
    Compose,
    /// process-compose.yaml.
    ProcessCompose,
}

impl ImportFormat {
    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::Procfile => "procfile",
            ImportFormat::Compose => "compose",
            ImportFormat::ProcessCompose => "process-compose",
        }
    }
}

/// Unit-file dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// devctl's unit files (what devctld loads).
    Devctl,
    /// Plain systemd user units (for systemctl --user).
    Systemd,
}

/// `wait --for`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WaitCondition {
    Ready,
    Active,
    Inactive,
    Succeeded,
    Failed,
}

/// `logs --since`: a duration ago or a point in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    Ago(Duration),
    At(std::time::SystemTime),
}

/// Parse `1s`, `250ms`, `2m 30s` (humantime).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim()).map_err(|e| format!("{e} (expected e.g. 500ms, 30s, 2m)"))
}

/// Parse a `--since` value: a duration (`10m`) or a time (`2026-01-02 10:00:00`, RFC 3339).
pub fn parse_since(s: &str) -> Result<Since, String> {
    let s = s.trim();
    if let Ok(d) = humantime::parse_duration(s) {
        return Ok(Since::Ago(d));
    }
    humantime::parse_rfc3339_weak(s)
        .map(Since::At)
        .map_err(|_| format!("{s:?} is neither a duration (10m) nor a time (2026-01-02T10:00:00Z)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn file_before_verb_and_follow_after() {
        let cli = Cli::try_parse_from(["devctl", "-f", "x.kdl", "logs", "-f", "web"]).unwrap();
        assert_eq!(cli.file, Some(PathBuf::from("x.kdl")));
        match cli.command {
            Command::Logs { follow, units, .. } => {
                assert!(follow);
                assert_eq!(units.names, ["web"]);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn globals_anywhere() {
        let cli = Cli::try_parse_from([
            "devctl",
            "start",
            "web",
            "--json",
            "--timeout",
            "2s",
            "-p",
            "pz",
        ])
        .unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.global.timeout, Some(Duration::from_secs(2)));
        assert_eq!(cli.global.project.as_deref(), Some("pz"));
    }

    #[test]
    fn enable_needs_names_unless_boot() {
        assert!(Cli::try_parse_from(["devctl", "enable"]).is_err());
        assert!(Cli::try_parse_from(["devctl", "enable", "--boot"]).is_ok());
        assert!(Cli::try_parse_from(["devctl", "start"]).is_err());
    }

    #[test]
    fn durations_and_since() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_since("10m"), Ok(Since::Ago(Duration::from_secs(600))));
        assert!(matches!(
            parse_since("2026-01-02T10:00:00Z"),
            Ok(Since::At(_))
        ));
        assert!(parse_since("yesterday-ish").is_err());
    }

    #[test]
    fn wait_requires_condition() {
        assert!(Cli::try_parse_from(["devctl", "wait", "web"]).is_err());
        let cli = Cli::try_parse_from(["devctl", "wait", "web", "--for", "ready"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Wait {
                condition: WaitCondition::Ready,
                ..
            }
        ));
    }

    #[test]
    fn probe_grammar_of_the_compiler() {
        let argv = [
            "devctl",
            "probe",
            "exec",
            "--period",
            "1s",
            "--timeout",
            "2s",
            "--",
            "pg_isready",
            "-h",
            "x",
        ];
        let cli = Cli::try_parse_from(argv).unwrap();
        assert_eq!(cli.global.timeout, Some(Duration::from_secs(2)));
        match cli.command {
            Command::Probe(p) => match p.check {
                ProbeCheckArgs::Exec { argv, timing } => {
                    assert_eq!(argv, ["pg_isready", "-h", "x"]);
                    assert_eq!(timing.period, Duration::from_secs(1));
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        let tcp = [
            "devctl",
            "probe",
            "tcp",
            "127.0.0.1",
            "5432",
            "--success-threshold",
            "2",
            "--initial-delay",
            "0s",
        ];
        let cli = Cli::try_parse_from(tcp).unwrap();
        match cli.command {
            Command::Probe(p) => {
                assert_eq!(p.check.timing().success_threshold, 2);
                assert!(matches!(
                    p.check,
                    ProbeCheckArgs::Tcp {
                        port: Some(5432),
                        ..
                    }
                ));
            }
            other => panic!("{other:?}"),
        }
    }
}
