//! Why talking to the systemd user manager, or installing devctld into
//! it, failed — each with what the user can do about it.

use std::path::PathBuf;
use std::time::Duration;

/// Errors of `devctl daemon install|uninstall` and of asking systemd to
/// start devctld.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SystemdError {
    #[error("cannot connect to the session bus to reach the systemd user manager: {source}")]
    #[diagnostic(
        code(devctl::systemd::no_bus),
        help(
            "is `systemd --user` running for you (`systemctl --user is-system-running`)? \
             It needs DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus; without systemd, \
             devctl starts devctld itself"
        )
    )]
    NoBus { source: zbus::Error },
    #[error("the systemd user manager refused {what}: {source}")]
    #[diagnostic(
        code(devctl::systemd::call),
        help("`journalctl --user -u devctld` and `systemctl --user status devctld` say more")
    )]
    Call {
        what: &'static str,
        source: zbus::Error,
    },
    #[error("systemd could not {verb} {unit}: job result `{result}`")]
    #[diagnostic(
        code(devctl::systemd::job),
        help("`systemctl --user status {unit}` and `journalctl --user -u {unit}` say why")
    )]
    JobFailed {
        unit: String,
        verb: &'static str,
        result: String,
    },
    #[error("systemd did not finish the job for {unit} within {}s", after.as_secs())]
    #[diagnostic(
        code(devctl::systemd::job_timeout),
        help("`systemctl --user list-jobs` shows what it is waiting for")
    )]
    JobTimeout { unit: String, after: Duration },
    #[error("the connection to the systemd user manager closed")]
    #[diagnostic(code(devctl::systemd::disconnected), help("try again"))]
    Disconnected,
    #[error("neither XDG_CONFIG_HOME nor HOME is set: no user unit directory")]
    #[diagnostic(
        code(devctl::systemd::no_unit_dir),
        help("set HOME (systemd reads ~/.config/systemd/user)")
    )]
    NoUnitDir,
    #[error("{} exists and was not written by devctl; refusing to touch it", path.display())]
    #[diagnostic(
        code(devctl::systemd::foreign_unit),
        help("move it out of the way (it may be your own unit), then run the command again")
    )]
    ForeignUnit { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    #[diagnostic(
        code(devctl::systemd::write),
        help("check that the directory is yours and writable")
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("a standalone devctld (pid {pid}) is running; it would hold the API socket")]
    #[diagnostic(
        code(devctl::systemd::standalone_running),
        help(
            "stop it with `devctl daemon stop` (this ends its session), then install; \
             or install without --now and switch over later"
        )
    )]
    StandaloneRunning { pid: u32 },
    #[error("the devctld program {} is not an absolute path to a file", path.display())]
    #[diagnostic(
        code(devctl::systemd::program),
        help("set DEVCTLD=/absolute/path/to/devctld, or install devctld next to devctl")
    )]
    Program { path: PathBuf },
}
