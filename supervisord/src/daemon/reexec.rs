//! `devctl daemon reexec` at the process level: the state file handed to
//! the next image (`<runtime>/devctld.reexec.json`, 0600, written
//! atomically, deleted by the reader), the fds kept open across `execve`
//! (the API listener, the instance lock, every carried pipe: `FD_CLOEXEC`
//! cleared on exactly those), the exec itself, and the new image's side:
//! reading the state, closing any other inherited fd, re-taking the
//! listener and the lock from their fds.
//!
//! The binary executed is the one at the path devctld was started from
//! (an upgrade replaced it: that is the point), else `/proc/self/exe`.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use devctl_units::api::Hosting;
use serde::{Deserialize, Serialize};

use crate::core::reexec::CoreCarry;
use crate::state::atomic::{FileWriter, RealFs};

/// The state file's version; another version is ignored (crash recovery).
pub const STATE_VERSION: u32 = 1;
/// Largest state file read.
const MAX_STATE_BYTES: u64 = 8 << 20;
/// `devctld` flag naming the state file.
pub const STATE_FLAG: &str = "--reexec-state";
/// `devctld` flag naming the listener and lock fds (`LISTEN,LOCK`), kept
/// apart from the file so a corrupt file cannot lose the socket.
pub const FDS_FLAG: &str = "--reexec-fds";

/// Everything the next image needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonCarry {
    pub version: u32,
    pub hosting: Hosting,
    /// The API socket file was bound by devctld (removed on a clean stop);
    /// false when systemd passed the socket.
    pub bound: bool,
    pub core: CoreCarry,
}

/// What the new image found at startup (see [`take_inherited`]).
#[derive(Debug, Clone)]
pub struct Inherited {
    pub listener: RawFd,
    pub lock: RawFd,
    /// `None` when the state file was missing or unreadable: the session
    /// then continues as after a crash.
    pub carry: Option<DaemonCarry>,
}

/// Read and delete the state file. Errors name what was wrong.
pub fn read_state(path: &Path) -> Result<DaemonCarry, String> {
    let read = || -> Result<DaemonCarry, String> {
        let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
        if !meta.is_file() || meta.len() > MAX_STATE_BYTES {
            return Err("not a regular file of at most 8 MiB".into());
        }
        let text = std::fs::read(path).map_err(|e| e.to_string())?;
        let carry: DaemonCarry = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
        if carry.version != STATE_VERSION {
            return Err(format!(
                "version {} (expected {STATE_VERSION})",
                carry.version
            ));
        }
        Ok(carry)
    };
    let out = read();
    let _ = std::fs::remove_file(path);
    out
}

/// Parse `LISTEN,LOCK`.
pub fn parse_fds(s: &str) -> Option<(RawFd, RawFd)> {
    let (a, b) = s.split_once(',')?;
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    (a > 2 && b > 2 && a != b).then_some((a, b))
}

/// In the new image, before anything else opens an fd: read the state and
/// close every inherited fd above stderr that nobody claims.
pub fn take_inherited(state: &Path, fds: (RawFd, RawFd)) -> (Inherited, Option<String>) {
    let (carry, problem) = match read_state(state) {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(format!("{}: {e}", state.display()))),
    };
    let mut keep = vec![fds.0, fds.1];
    if let Some(c) = &carry {
        keep.extend(c.core.fds());
    }
    close_others(&keep);
    (
        Inherited {
            listener: fds.0,
            lock: fds.1,
            carry,
        },
        problem,
    )
}

fn close_others(keep: &[RawFd]) {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let open: Vec<RawFd> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    for fd in open {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: called before the runtime or anything else owns an fd
            // (the directory's own fd is already closed, a stale number
            // then fails with EBADF): these are leftovers of the old image.
            unsafe { libc::close(fd) };
        }
    }
}

/// Take the inherited listener: it must be a listening Unix socket.
pub fn listener_from(fd: RawFd) -> io::Result<std::os::unix::net::UnixListener> {
    // SAFETY: F_GETFD only reads the fd table.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the fd is open and was handed over for exactly this use; it
    // has no other owner in this image.
    let l = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
    l.local_addr()?;
    set_cloexec(fd, true)?;
    Ok(l)
}

fn set_cloexec(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: fcntl on an fd number with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let new = if on {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, new) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The binary to execute: the path devctld was started from when it still
/// names a file (an upgrade replaced it), else the running image.
pub fn exe_path() -> PathBuf {
    match std::fs::read_link("/proc/self/exe") {
        Ok(p) => {
            let s = p.to_string_lossy();
            let path = PathBuf::from(s.strip_suffix(" (deleted)").unwrap_or(&s));
            if path.is_file() {
                path
            } else {
                PathBuf::from("/proc/self/exe")
            }
        }
        Err(_) => PathBuf::from("/proc/self/exe"),
    }
}

/// Check that the binary can be executed (before agreeing to re-exec).
pub fn check_exe() -> Result<PathBuf, String> {
    let p = exe_path();
    nix::unistd::access(&p, nix::unistd::AccessFlags::X_OK)
        .map(|()| p.clone())
        .map_err(|e| format!("cannot execute {}: {e}", p.display()))
}

/// Write the state, keep exactly the carried fds open and exec. Returns
/// only if the exec failed.
pub fn exec(
    state: &Path,
    carry: &DaemonCarry,
    listener: &OwnedFd,
    lock: RawFd,
    pipes: &[OwnedFd],
) -> io::Error {
    match serde_json::to_vec(carry) {
        Ok(bytes) => {
            if let Err(e) = RealFs.write_file(state, &bytes) {
                tracing::error!(path = %state.display(), error = %e, "cannot write the re-exec state; the new image continues the session as after a crash");
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot encode the re-exec state"),
    }
    for fd in [listener.as_raw_fd(), lock]
        .into_iter()
        .chain(pipes.iter().map(|p| p.as_raw_fd()))
    {
        if let Err(e) = set_cloexec(fd, false) {
            return e;
        }
    }
    let exe = exe_path();
    let fds = format!("{},{}", listener.as_raw_fd(), lock);
    let args = [
        "devctld".to_string(),
        STATE_FLAG.to_string(),
        state.to_string_lossy().into_owned(),
        FDS_FLAG.to_string(),
        fds,
    ];
    let (Ok(path), Ok(argv)) = (
        CString::new(exe.as_os_str().as_encoded_bytes()),
        args.iter()
            .map(|a| CString::new(a.as_bytes()))
            .collect::<Result<Vec<_>, _>>(),
    ) else {
        return io::Error::other("a NUL byte in the executable or state path");
    };
    tracing::info!(exe = %exe.display(), "re-executing");
    match nix::unistd::execv(&path, &argv) {
        Err(e) => io::Error::from(e),
        Ok(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_files_are_read_once_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devctld.reexec.json");
        let carry = DaemonCarry {
            version: STATE_VERSION,
            hosting: Hosting::Standalone,
            bound: true,
            core: CoreCarry {
                session_id: "s".into(),
                units: vec![],
            },
        };
        RealFs
            .write_file(&path, &serde_json::to_vec(&carry).unwrap())
            .unwrap();
        assert_eq!(read_state(&path).unwrap(), carry);
        assert!(!path.exists(), "deleted by the reader");
        assert!(read_state(&path).is_err(), "missing");
        std::fs::write(&path, b"{not json").unwrap();
        assert!(read_state(&path).is_err());
        assert!(!path.exists(), "a corrupt file is deleted too");
        let other = DaemonCarry {
            version: 99,
            ..carry
        };
        std::fs::write(&path, serde_json::to_vec(&other).unwrap()).unwrap();
        assert!(read_state(&path).unwrap_err().contains("version 99"));
    }

    #[test]
    fn fd_flags_parse() {
        assert_eq!(parse_fds("3,4"), Some((3, 4)));
        assert_eq!(parse_fds("3,3"), None);
        assert_eq!(parse_fds("1,4"), None);
        assert_eq!(parse_fds("x"), None);
    }

    #[test]
    fn a_listener_fd_must_be_a_socket() {
        let (r, _w) = nix::unistd::pipe().unwrap();
        let n = r.as_raw_fd();
        std::mem::forget(r);
        assert!(listener_from(n).is_err());
        assert!(listener_from(987_654).is_err());
        assert!(check_exe().is_ok());
    }
}
