//! `devctl daemon install|uninstall` and the systemd part of `daemon
//! status`: write `devctld.service` and `devctld.socket` into the user unit
//! directory, then reload, enable and (with `--now`) start them through the
//! user manager's D-Bus API; uninstall stops, disables and removes them.
//! Also [`start_installed`], the CLI's autostart under systemd.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use devctl_units::api::Hosting;
use devctl_units::paths::Paths;

use super::error::SystemdError;
use super::manager::{UnitState, UserManager};
use super::units::{self, CARRIED_ENV, MARKER, SERVICE, SOCKET, UnitSpec};
use crate::daemon;
use crate::error::CtlError;
use crate::exit::Exit;
use crate::opts::Context;
use crate::output::Out;

fn env_path(k: &str) -> Option<PathBuf> {
    std::env::var_os(k)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The user unit directory from the environment.
pub fn unit_dir() -> Result<PathBuf, SystemdError> {
    units::user_unit_dir(env_path).ok_or(SystemdError::NoUnitDir)
}

/// Is `path` a file devctl wrote (first line is the marker)?
/// `Ok(None)` when it does not exist.
pub fn ours(path: &Path) -> Result<Option<bool>, SystemdError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.lines().next() == Some(MARKER))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SystemdError::Write {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Is devctld installed as a user service by devctl?
pub fn installed() -> bool {
    unit_dir()
        .ok()
        .and_then(|d| ours(&d.join(SERVICE)).ok().flatten())
        .unwrap_or(false)
}

/// Write `text` to `path` atomically (temp file, fsync, rename).
fn write_atomic(path: &Path, text: &str) -> Result<(), SystemdError> {
    let err = |source| SystemdError::Write {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("devctl-tmp");
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// The spec from this process's view: devctld's absolute path, the API
/// socket, the watchdog and the path-affecting environment.
pub fn current_spec(watchdog: Duration) -> Result<UnitSpec, CtlError> {
    let program = daemon::devctld_program()?;
    let program = std::fs::canonicalize(&program).unwrap_or(program);
    if !program.is_absolute() || !program.is_file() {
        return Err(SystemdError::Program { path: program }.into());
    }
    let paths = Paths::from_env()?;
    let env = CARRIED_ENV
        .iter()
        .filter_map(|k| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| (k.to_string(), v))
        })
        .collect();
    Ok(UnitSpec {
        devctld: program,
        socket: paths.socket(),
        watchdog,
        env,
    })
}

/// `daemon install [--now] [--watchdog D]`.
pub async fn install(
    ctx: &Context,
    now: bool,
    watchdog: Duration,
    out: &mut Out,
) -> Result<Exit, CtlError> {
    let spec = current_spec(watchdog)?;
    let dir = unit_dir()?;
    let files = [
        (dir.join(SERVICE), units::service_text(&spec)),
        (dir.join(SOCKET), units::socket_text(&spec)),
    ];
    for (path, _) in &files {
        if ours(path)? == Some(false) {
            return Err(SystemdError::ForeignUnit { path: path.clone() }.into());
        }
    }
    if now {
        let paths = Paths::from_env()?;
        if let Ok((_, info)) = daemon::existing(&paths).await
            && info.hosting == Hosting::Standalone
        {
            return Err(SystemdError::StandaloneRunning { pid: info.pid }.into());
        }
    }
    std::fs::create_dir_all(&dir).map_err(|source| SystemdError::Write {
        path: dir.clone(),
        source,
    })?;
    let mgr = UserManager::connect().await?;
    for (path, text) in &files {
        write_atomic(path, text)?;
    }
    mgr.reload().await?;
    mgr.enable(&[SERVICE, SOCKET]).await?;
    if now {
        mgr.reset_failed(SERVICE).await;
        mgr.start(SOCKET).await?;
        mgr.start(SERVICE).await?;
    }
    if ctx.json {
        out.json(&serde_json::json!({
            "installed": files.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            "started": now,
        }))?;
    } else if !ctx.quiet {
        for (path, _) in &files {
            out.line(&format!("wrote {}", path.display()))?;
        }
        out.line(&format!(
            "enabled {SERVICE} and {SOCKET}{}",
            if now { "; started" } else { "" }
        ))?;
    }
    Ok(Exit::Ok)
}

/// `daemon uninstall`: stop, disable, remove; idempotent.
pub async fn uninstall(ctx: &Context, out: &mut Out) -> Result<Exit, CtlError> {
    let dir = unit_dir()?;
    let paths = [dir.join(SERVICE), dir.join(SOCKET)];
    let mut present = Vec::new();
    for path in &paths {
        match ours(path)? {
            Some(false) => return Err(SystemdError::ForeignUnit { path: path.clone() }.into()),
            Some(true) => present.push(path.clone()),
            None => {}
        }
    }
    if present.is_empty() {
        if !ctx.quiet && !ctx.json {
            out.line("devctld is not installed as a user service")?;
        } else if ctx.json {
            out.json(&serde_json::json!({"removed": []}))?;
        }
        return Ok(Exit::Ok);
    }
    let mgr = UserManager::connect().await?;
    // The service first (a clean stop ends the session), then its socket.
    for unit in [SERVICE, SOCKET] {
        if mgr.state(unit).await.is_ok_and(|s| s.active != "inactive") {
            mgr.stop(unit).await?;
        }
    }
    mgr.disable(&[SERVICE, SOCKET]).await?;
    for path in &present {
        std::fs::remove_file(path).map_err(|source| SystemdError::Write {
            path: path.clone(),
            source,
        })?;
    }
    mgr.reload().await?;
    mgr.reset_failed(SERVICE).await;
    mgr.reset_failed(SOCKET).await;
    if ctx.json {
        out.json(&serde_json::json!({"removed": present}))?;
    } else if !ctx.quiet {
        for path in &present {
            out.line(&format!("removed {}", path.display()))?;
        }
    }
    Ok(Exit::Ok)
}

/// The installed units' states, when devctld is installed and the user
/// manager answers.
pub async fn unit_states() -> Option<Vec<UnitState>> {
    if !installed() {
        return None;
    }
    let mgr = UserManager::connect().await.ok()?;
    let mut states = Vec::new();
    for unit in [SERVICE, SOCKET] {
        states.push(mgr.state(unit).await.ok()?);
    }
    Some(states)
}

/// One human line per unit state.
pub fn state_line(s: &UnitState) -> String {
    let pid = if s.main_pid > 0 {
        format!(", main pid {}", s.main_pid)
    } else {
        String::new()
    };
    format!(
        "{:>8}: {} ({}), {} ({}){pid}",
        "systemd", s.name, s.file, s.active, s.sub
    )
}

/// The CLI's autostart under systemd: start the installed service through
/// the user manager and wait for the API socket to answer.
pub async fn start_installed(
    paths: &Paths,
    quiet: bool,
) -> Result<crate::client::Client, CtlError> {
    let mgr = UserManager::connect().await?;
    mgr.reset_failed(SERVICE).await;
    mgr.start(SOCKET).await?;
    mgr.start(SERVICE).await?;
    let (client, info) = daemon::existing(paths).await?;
    if !quiet {
        eprintln!(
            "devctl: started {SERVICE} through systemd (pid {})",
            info.pid
        );
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_decides_ownership() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.service");
        assert_eq!(ours(&p).unwrap(), None);
        std::fs::write(&p, "[Unit]\n").unwrap();
        assert_eq!(ours(&p).unwrap(), Some(false));
        write_atomic(&p, &format!("{MARKER}\n[Unit]\n")).unwrap();
        assert_eq!(ours(&p).unwrap(), Some(true));
        // A directory where the file should be is an error, not "foreign".
        let d = dir.path().join("d.service");
        std::fs::create_dir(&d).unwrap();
        assert!(matches!(ours(&d), Err(SystemdError::Write { .. })));
        assert!(matches!(
            write_atomic(&dir.path().join("missing/x.service"), "x"),
            Err(SystemdError::Write { .. })
        ));
    }

    #[test]
    fn state_lines() {
        let s = UnitState {
            name: SERVICE.into(),
            load: "loaded".into(),
            active: "active".into(),
            sub: "running".into(),
            file: "enabled".into(),
            main_pid: 42,
        };
        assert_eq!(
            state_line(&s),
            " systemd: devctld.service (enabled), active (running), main pid 42"
        );
    }
}
