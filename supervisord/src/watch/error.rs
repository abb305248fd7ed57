//! Typed watch errors. inotify limits (`ENOSPC` on `inotify_add_watch`,
//! which notify reports as `MaxFilesWatch`, and `EMFILE` on
//! `inotify_init`) become diagnostics naming the sysctl to raise; the
//! classification matches error kinds and errno values, never strings.

use std::io;
use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

/// Why a project's files cannot be (fully) watched.
#[derive(Debug, Error, Diagnostic)]
pub enum WatchError {
    /// `inotify_add_watch` hit `fs.inotify.max_user_watches`.
    #[error(
        "cannot watch {path}: the inotify watch limit (fs.inotify.max_user_watches) is reached"
    )]
    #[diagnostic(
        code(devctl::watch::max_user_watches),
        help(
            "raise it: `sudo sysctl -w fs.inotify.max_user_watches=524288` (persist in /etc/sysctl.d/), or add ignore globs for large directories"
        )
    )]
    WatchLimit { path: PathBuf },
    /// `inotify_init` hit `fs.inotify.max_user_instances` (or the open-file limit).
    #[error(
        "cannot create an inotify instance: the limit fs.inotify.max_user_instances (or the open-file limit) is reached"
    )]
    #[diagnostic(
        code(devctl::watch::max_user_instances),
        help(
            "raise it: `sudo sysctl -w fs.inotify.max_user_instances=1024` (persist in /etc/sysctl.d/); check `ulimit -n` too"
        )
    )]
    InstanceLimit,
    /// A `watch` or `ignore` glob that does not compile.
    #[error("bad watch glob `{glob}` in unit {unit}: {source}")]
    #[diagnostic(
        code(devctl::watch::bad_glob),
        help("fix the glob in devctl.kdl (paths are relative to the project root)")
    )]
    BadGlob {
        unit: String,
        glob: String,
        #[source]
        source: globset::Error,
    },
    /// Any other I/O problem while adding a watch.
    #[error("cannot watch {path}: {source}")]
    #[diagnostic(
        code(devctl::watch::io),
        help("check that the directory exists and is readable by the daemon's user")
    )]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// notify failed in a way that has no errno (its own internal errors).
    #[error("file watcher error{}: {message}", path_suffix(.path))]
    #[diagnostic(
        code(devctl::watch::backend),
        help("restart the daemon; if it persists, report it")
    )]
    Backend {
        path: Option<PathBuf>,
        message: String,
    },
}

fn path_suffix(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| format!(" on {}", p.display()))
        .unwrap_or_default()
}

impl WatchError {
    /// True for the inotify limit errors (the watcher runs degraded).
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            WatchError::WatchLimit { .. } | WatchError::InstanceLimit
        )
    }

    /// Classify a notify error by its kind and errno.
    pub fn from_notify(e: notify::Error) -> WatchError {
        let path = e.paths.first().cloned();
        match e.kind {
            notify::ErrorKind::MaxFilesWatch => WatchError::WatchLimit {
                path: path.unwrap_or_default(),
            },
            notify::ErrorKind::Io(io) => WatchError::from_io(io, path),
            notify::ErrorKind::PathNotFound => WatchError::Io {
                path: path.unwrap_or_default(),
                source: io::Error::from(io::ErrorKind::NotFound),
            },
            notify::ErrorKind::Generic(message) => WatchError::Backend { path, message },
            notify::ErrorKind::WatchNotFound => WatchError::Backend {
                path,
                message: "watch not found".into(),
            },
            notify::ErrorKind::InvalidConfig(c) => WatchError::Backend {
                path,
                message: format!("invalid configuration {c:?}"),
            },
        }
    }

    /// Classify an I/O error by errno.
    pub fn from_io(io: io::Error, path: Option<PathBuf>) -> WatchError {
        match io.raw_os_error() {
            Some(libc::ENOSPC) => WatchError::WatchLimit {
                path: path.unwrap_or_default(),
            },
            Some(libc::EMFILE) | Some(libc::ENFILE) => WatchError::InstanceLimit,
            _ => WatchError::Io {
                path: path.unwrap_or_default(),
                source: io,
            },
        }
    }
}
