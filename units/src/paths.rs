//! Where devctl keeps its files (product.md §7): XDG config, state and
//! runtime directories, with a `DEVCTL_HOME` override so tests and
//! benchmarks run in a temporary directory. Nothing else hard-codes a path.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::name::ProjectName;

/// Environment variable that puts every devctl file under one directory.
pub const HOME_ENV: &str = "DEVCTL_HOME";

/// Why the directories could not be resolved or prepared.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PathsError {
    #[error("cannot find a home directory: neither DEVCTL_HOME, XDG_STATE_HOME nor HOME is set")]
    #[diagnostic(
        code(devctl::paths::no_home),
        help("set HOME, or DEVCTL_HOME to a directory devctl may use")
    )]
    NoHome,
    #[error("{path}: {source}")]
    #[diagnostic(code(devctl::paths::io))]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is owned by uid {owner}, not by you (uid {me})")]
    #[diagnostic(
        code(devctl::paths::foreign_owner),
        help(
            "another user created this directory; remove it or point XDG_RUNTIME_DIR / DEVCTL_HOME elsewhere"
        )
    )]
    ForeignOwner { path: PathBuf, owner: u32, me: u32 },
    #[error("{path} is not a directory")]
    #[diagnostic(code(devctl::paths::not_dir), help("move the file out of the way"))]
    NotADirectory { path: PathBuf },
}

/// The three roots and everything derived from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config: PathBuf,
    pub state: PathBuf,
    pub runtime: PathBuf,
}

/// The current user's uid.
pub fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

impl Paths {
    /// Resolve from the process environment.
    pub fn from_env() -> Result<Paths, PathsError> {
        Paths::resolve(|k| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
    }

    /// Resolve with an explicit environment lookup (for tests).
    pub fn resolve(get: impl Fn(&str) -> Option<PathBuf>) -> Result<Paths, PathsError> {
        if let Some(home) = get(HOME_ENV) {
            return Ok(Paths {
                config: home.join("config"),
                state: home.join("state"),
                runtime: home.join("run"),
            });
        }
        let home = get("HOME");
        let xdg = |var: &str, fallback: &str| -> Result<PathBuf, PathsError> {
            match get(var).filter(|p| p.is_absolute()) {
                Some(p) => Ok(p.join("devctl")),
                None => home
                    .as_ref()
                    .map(|h| h.join(fallback).join("devctl"))
                    .ok_or(PathsError::NoHome),
            }
        };
        let config = xdg("XDG_CONFIG_HOME", ".config")?;
        let state = xdg("XDG_STATE_HOME", ".local/state")?;
        let runtime = match get("XDG_RUNTIME_DIR").filter(|p| p.is_absolute()) {
            Some(p) => p.join("devctl"),
            None => PathBuf::from(format!("/tmp/devctl-{}", current_uid())),
        };
        Ok(Paths {
            config,
            state,
            runtime,
        })
    }

    /// The daemon's API socket.
    pub fn socket(&self) -> PathBuf {
        self.runtime.join("devctld.sock")
    }
    /// The lock file held for the daemon's whole life.
    pub fn lock(&self) -> PathBuf {
        self.runtime.join("devctld.lock")
    }
    /// Per-invocation sd_notify sockets live here.
    pub fn notify_dir(&self) -> PathBuf {
        self.runtime.join("notify")
    }
    /// State handed from one daemon image to the next by `devctl daemon reexec`.
    pub fn reexec_state(&self) -> PathBuf {
        self.runtime.join("devctld.reexec.json")
    }
    /// Log written by a daemon the CLI started in the background.
    pub fn daemon_log(&self) -> PathBuf {
        self.state.join("devctld.log")
    }
    /// All per-project state.
    pub fn projects_dir(&self) -> PathBuf {
        self.state.join("projects")
    }
    /// One project's state directory.
    pub fn project_dir(&self, project: &ProjectName) -> PathBuf {
        self.projects_dir().join(project.as_str())
    }
    /// One project's compiled unit files.
    pub fn units_dir(&self, project: &ProjectName) -> PathBuf {
        self.project_dir(project).join("units")
    }
    /// One project's persistent settings (manifest, boot flag, enablement overrides).
    pub fn project_file(&self, project: &ProjectName) -> PathBuf {
        self.project_dir(project).join("project.json")
    }
    /// What should be running in the current session.
    pub fn session_file(&self) -> PathBuf {
        self.state.join("session.json")
    }
    /// Root of the per-unit logs.
    pub fn logs_dir(&self) -> PathBuf {
        self.state.join("logs")
    }
}

/// Create `dir` (and parents) as 0700 if missing; refuse a directory owned
/// by another user, and tighten a looser mode on one we own.
pub fn ensure_private_dir(dir: &Path) -> Result<(), PathsError> {
    let io_err = |source| PathsError::Io {
        path: dir.to_path_buf(),
        source,
    };
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) => return Err(io_err(e)),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(io_err)?;
    if !meta.is_dir() {
        return Err(PathsError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let me = current_uid();
    if meta.uid() != me {
        return Err(PathsError::ForeignOwner {
            path: dir.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<PathBuf> {
        let map: HashMap<String, PathBuf> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), PathBuf::from(v)))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn devctl_home_wins() {
        let p = Paths::resolve(env(&[("DEVCTL_HOME", "/h"), ("HOME", "/home/u")])).unwrap();
        assert_eq!(p.state, PathBuf::from("/h/state"));
        assert_eq!(p.socket(), PathBuf::from("/h/run/devctld.sock"));
    }

    #[test]
    fn xdg_then_home() {
        let p = Paths::resolve(env(&[
            ("HOME", "/home/u"),
            ("XDG_STATE_HOME", "/s"),
            ("XDG_RUNTIME_DIR", "/run/user/1"),
        ]))
        .unwrap();
        assert_eq!(p.state, PathBuf::from("/s/devctl"));
        assert_eq!(p.config, PathBuf::from("/home/u/.config/devctl"));
        assert_eq!(p.runtime, PathBuf::from("/run/user/1/devctl"));
        let q =
            Paths::resolve(env(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "relative")])).unwrap();
        assert_eq!(q.state, PathBuf::from("/home/u/.local/state/devctl"));
        assert!(q.runtime.starts_with("/tmp"));
    }

    #[test]
    fn no_home_is_an_error() {
        assert!(matches!(Paths::resolve(env(&[])), Err(PathsError::NoHome)));
    }

    #[test]
    fn private_dir_is_created_0700_and_tightened() {
        let tmp = std::env::temp_dir().join(format!("devctl-paths-test-{}", std::process::id()));
        let dir = tmp.join("a/b");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        let file = tmp.join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(
            ensure_private_dir(&file),
            Err(PathsError::Io { .. } | PathsError::NotADirectory { .. })
        ));
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
