//! Reaching devctld: connect to its socket and, when nothing answers, start
//! one in the background (`$DEVCTLD`, else next to this executable, else
//! `$PATH`; detached with `setsid`, output to `<state>/devctld.log`), say so
//! once on stderr, and wait for its socket with a ceiling.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use devctl_units::api::DaemonInfo;
use devctl_units::paths::{self, Paths};

use crate::client::Client;
use crate::error::CtlError;

/// Environment variable naming the devctld program.
pub const DEVCTLD_ENV: &str = "DEVCTLD";
/// How long a freshly started daemon gets to answer.
pub const START_CEILING: Duration = Duration::from_secs(10);

/// True when the socket error means "nobody is listening" (start one),
/// as opposed to e.g. permission denied (report it).
pub fn is_absent(err: &std::io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ENOENT | libc::ECONNREFUSED | libc::ENOTDIR)
    )
}

/// The client of the running daemon, without starting one.
pub async fn existing(paths: &Paths) -> Result<(Client, DaemonInfo), CtlError> {
    let client = Client::new(paths.socket());
    let info = client.get::<DaemonInfo>("/v1/version").await?;
    Ok((client, info))
}

/// The client of the running daemon, starting one if none listens. The
/// connection made to find out is the first request's: a daemon of another
/// API version is refused by that request (see [`Client`]).
pub async fn connect(paths: &Paths, quiet: bool) -> Result<Client, CtlError> {
    let socket = paths.socket();
    match tokio::net::UnixStream::connect(&socket).await {
        Ok(stream) => Ok(Client::with_connection(socket, stream)),
        Err(source) if is_absent(&source) => {
            if crate::systemd::install::installed() {
                crate::systemd::install::start_installed(paths, quiet).await
            } else {
                start(paths, quiet).await
            }
        }
        Err(source) => Err(CtlError::Unreachable { socket, source }),
    }
}

/// Refuse a daemon that speaks another API version (`daemon stop` and
/// `daemon status` still work with it: they use [`existing`]).
pub fn check_api(info: &DaemonInfo) -> Result<(), CtlError> {
    if info.api == devctl_units::api::API_VERSION {
        return Ok(());
    }
    Err(CtlError::ApiMismatch {
        pid: info.pid,
        theirs: info.api,
        ours: devctl_units::api::API_VERSION,
    })
}

/// Find the devctld program.
pub fn find_devctld(
    env_value: Option<OsString>,
    exe: &Path,
    path_var: Option<OsString>,
) -> Option<PathBuf> {
    if let Some(v) = env_value.filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(v));
    }
    let sibling = exe.parent().map(|dir| dir.join("devctld"));
    if let Some(s) = sibling.filter(|s| s.is_file()) {
        return Some(s);
    }
    let path_var = path_var?;
    std::env::split_paths(&path_var)
        .map(|dir| dir.join("devctld"))
        .find(|c| c.is_file())
}

/// The devctld program to run (`$DEVCTLD`, next to devctl, `$PATH`).
pub fn devctld_program() -> Result<PathBuf, CtlError> {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("devctl"));
    find_devctld(
        std::env::var_os(DEVCTLD_ENV),
        &exe,
        std::env::var_os("PATH"),
    )
    .ok_or(CtlError::NoDaemonBinary { exe })
}

/// Replace this process with devctld in the foreground (`devctl daemon run`).
pub fn exec_foreground() -> CtlError {
    match devctld_program() {
        Ok(program) => {
            let err = Command::new(&program).exec();
            CtlError::DaemonStart {
                reason: format!("{}: {err}", program.display()),
                log: program,
            }
        }
        Err(e) => e,
    }
}

async fn start(paths: &Paths, quiet: bool) -> Result<Client, CtlError> {
    let program = devctld_program()?;
    paths::ensure_private_dir(&paths.state)?;
    let log_path = paths.daemon_log();
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|source| CtlError::Io {
            path: log_path.clone(),
            source,
        })?;
    let log_err = log.try_clone().map_err(|source| CtlError::Io {
        path: log_path.clone(),
        source,
    })?;
    let mut cmd = Command::new(&program);
    cmd.stdin(Stdio::null()).stdout(log).stderr(log_err);
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    let mut child = cmd.spawn().map_err(|e| CtlError::DaemonStart {
        reason: format!("{}: {e}", program.display()),
        log: log_path.clone(),
    })?;
    let pid = child.id();
    let begun = Instant::now();
    let mut exited_at: Option<(Instant, std::process::ExitStatus)> = None;
    loop {
        match existing(paths).await {
            Ok((client, info)) => {
                if !quiet {
                    eprintln!("devctl: started devctld (pid {})", info.pid);
                }
                return check_api(&info).map(|()| client);
            }
            Err(CtlError::Unreachable { source, .. }) if is_absent(&source) => {}
            Err(e) => return Err(e),
        }
        if exited_at.is_none()
            && let Ok(Some(status)) = child.try_wait()
        {
            exited_at = Some((Instant::now(), status));
        }
        // Another CLI may have won the race to start the daemon: allow a
        // short grace after our child exits before giving up.
        if let Some((at, status)) = exited_at
            && at.elapsed() > Duration::from_secs(1)
        {
            return Err(CtlError::DaemonStart {
                reason: format!("devctld (pid {pid}) {status}"),
                log: log_path,
            });
        }
        if begun.elapsed() > START_CEILING {
            return Err(CtlError::DaemonStart {
                reason: format!(
                    "devctld (pid {pid}) did not answer within {}s",
                    START_CEILING.as_secs()
                ),
                log: log_path,
            });
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_version_is_checked() {
        let mut info = DaemonInfo {
            version: "0".into(),
            api: devctl_units::api::API_VERSION,
            pid: 7,
            started_at_ms: 0,
            hosting: devctl_units::api::Hosting::Standalone,
            session_id: "s".into(),
            recovered: false,
        };
        assert!(check_api(&info).is_ok());
        info.api += 1;
        let err = check_api(&info).unwrap_err();
        assert_eq!(crate::exit::for_error(&err).code(), 69);
        assert!(err.help().unwrap().contains("daemon stop"));
    }

    #[test]
    fn absent_errnos() {
        for e in [libc::ENOENT, libc::ECONNREFUSED] {
            assert!(is_absent(&std::io::Error::from_raw_os_error(e)));
        }
        assert!(!is_absent(&std::io::Error::from_raw_os_error(libc::EACCES)));
    }

    #[test]
    fn program_lookup_order() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        let other = tmp.path().join("other");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        let exe = bin.join("devctl");
        assert_eq!(
            find_devctld(Some("/x/devctld".into()), &exe, None),
            Some(PathBuf::from("/x/devctld"))
        );
        assert_eq!(find_devctld(None, &exe, None), None);
        std::fs::write(other.join("devctld"), "").unwrap();
        assert_eq!(
            find_devctld(Some("".into()), &exe, Some(other.clone().into())),
            Some(other.join("devctld"))
        );
        std::fs::write(bin.join("devctld"), "").unwrap();
        assert_eq!(
            find_devctld(None, &exe, Some(other.into())),
            Some(bin.join("devctld"))
        );
    }
}
