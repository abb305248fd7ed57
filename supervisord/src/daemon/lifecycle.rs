//! The daemon's files in the runtime directory: the instance lock
//! (`devctld.lock`, an exclusive `flock` held for the daemon's life, with
//! the owner's pid inside) and the API socket (stale ones reclaimed, live
//! ones and non-sockets refused, bound under umask 0177 so it is 0600 from
//! the moment it exists, removed on a clean stop).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::sys::stat::{Mode, umask};

use super::DaemonError;

/// The held instance lock; released when dropped (or when the process dies).
pub struct InstanceLock {
    _lock: Flock<File>,
}

/// How long a new daemon waits for the lock of one that is exiting (its
/// threads release the lock only once the whole process is gone).
const EXITING_HOLDER_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Take the exclusive lock at `path`, or say who holds it. A holder that is
/// gone, a zombie or being SIGKILLed (a crashed daemon being restarted at
/// once) is waited for, up to [`EXITING_HOLDER_WAIT`]; a live one is not.
pub fn lock_instance(path: &Path) -> Result<InstanceLock, DaemonError> {
    let start = std::time::Instant::now();
    loop {
        let waited = start.elapsed();
        match try_lock_instance(path) {
            // the holder is dying: its lock goes with its last thread
            Err(DaemonError::AlreadyRunning { pid: Some(pid) })
                if holder_is_exiting(pid) && waited < EXITING_HOLDER_WAIT => {}
            // a winner that has not written its pid yet
            Err(DaemonError::AlreadyRunning { pid: None })
                if waited < std::time::Duration::from_millis(250) => {}
            other => return other,
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// True when `pid` no longer runs normally: gone, a zombie, or with a
/// SIGKILL pending (it is dying and will drop the lock).
fn holder_is_exiting(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return true;
    };
    match crate::process::stat(pid) {
        None => true,
        Some(st) if st.is_zombie() || matches!(st.state, 'X' | 'x') => true,
        Some(_) => sigkill_pending(pid),
    }
}

/// SIGKILL (bit 9) in the process's shared or thread-private pending set.
fn sigkill_pending(pid: i32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return true;
    };
    status
        .lines()
        .filter_map(|l| {
            l.strip_prefix("ShdPnd:")
                .or_else(|| l.strip_prefix("SigPnd:"))
        })
        .filter_map(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .any(|mask| mask & (1 << (libc::SIGKILL - 1)) != 0)
}

/// One attempt at the lock.
fn try_lock_instance(path: &Path) -> Result<InstanceLock, DaemonError> {
    let io_err = |source| DaemonError::Lock {
        path: path.to_path_buf(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(io_err)?;
    let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => lock,
        Err((mut file, Errno::EWOULDBLOCK)) => {
            let mut text = String::new();
            let pid = file
                .read_to_string(&mut text)
                .ok()
                .and_then(|_| text.trim().parse().ok());
            return Err(DaemonError::AlreadyRunning { pid });
        }
        Err((_, errno)) => return Err(io_err(io::Error::from(errno))),
    };
    let pid = std::process::id();
    lock.set_len(0)
        .and_then(|()| lock.rewind())
        .and_then(|()| writeln!(&mut *lock, "{pid}"))
        .map_err(io_err)?;
    Ok(InstanceLock { _lock: lock })
}

impl InstanceLock {
    /// The lock's fd (kept open across a re-exec: the lock goes with it).
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self._lock.as_raw_fd()
    }

    /// Re-take the lock through the fd a previous image of this process
    /// kept open (`flock` on the same open file description succeeds).
    pub fn inherit(fd: std::os::fd::RawFd) -> Option<InstanceLock> {
        use std::os::fd::FromRawFd;
        // SAFETY: F_GETFD only reads the fd table.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return None;
        }
        // SAFETY: the fd is open and was handed over for exactly this use;
        // nothing else in this image owns it.
        let file = unsafe { File::from_raw_fd(fd) };
        let lock = Flock::lock(file, FlockArg::LockExclusiveNonblock).ok()?;
        // SAFETY: F_SETFD with FD_CLOEXEC on an fd we own.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        Some(InstanceLock { _lock: lock })
    }
}

/// A socket this process bound; removed by [`BoundSocket::remove`].
pub struct BoundSocket {
    pub path: PathBuf,
    ino: (u64, u64),
}

/// Prepare `path` and bind a listener there, 0600 from the start.
pub fn bind_socket(
    path: &Path,
) -> Result<(std::os::unix::net::UnixListener, BoundSocket), DaemonError> {
    let bind_err = |source| DaemonError::Bind {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            match std::os::unix::net::UnixStream::connect(path) {
                Ok(_) => return Err(DaemonError::AlreadyRunning { pid: None }),
                Err(e) if matches!(e.raw_os_error(), Some(libc::ECONNREFUSED | libc::ENOENT)) => {
                    tracing::info!(socket = %path.display(), "removing a stale API socket left by a daemon that died");
                    match std::fs::remove_file(path) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(bind_err(e)),
                        _ => {}
                    }
                }
                Err(e) => return Err(bind_err(e)),
            }
        }
        Ok(_) => {
            return Err(DaemonError::NotASocket {
                path: path.to_path_buf(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(bind_err(e)),
    }
    // The umask is process-wide: this runs before any other task creates files.
    let old = umask(Mode::from_bits_truncate(0o177));
    let bound = std::os::unix::net::UnixListener::bind(path);
    umask(old);
    let listener = bound.map_err(bind_err)?;
    let meta = std::fs::symlink_metadata(path).map_err(bind_err)?;
    Ok((
        listener,
        BoundSocket {
            path: path.to_path_buf(),
            ino: (meta.dev(), meta.ino()),
        },
    ))
}

impl BoundSocket {
    /// The socket file a previous image of this process bound (re-exec).
    pub fn existing(path: &Path) -> Option<BoundSocket> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        meta.file_type().is_socket().then(|| BoundSocket {
            path: path.to_path_buf(),
            ino: (meta.dev(), meta.ino()),
        })
    }

    /// Remove the socket file if it is still the one this process bound.
    pub fn remove(self) {
        match std::fs::symlink_metadata(&self.path) {
            Ok(meta) if (meta.dev(), meta.ino()) == self.ino => {
                if let Err(e) = std::fs::remove_file(&self.path) {
                    tracing::warn!(socket = %self.path.display(), error = %e, "could not remove the API socket");
                }
            }
            Ok(_) => {
                tracing::warn!(socket = %self.path.display(), "the API socket was replaced; leaving it alone")
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn lock_is_exclusive_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devctld.lock");
        let held = lock_instance(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim(),
            std::process::id().to_string()
        );
        match lock_instance(&path) {
            Err(DaemonError::AlreadyRunning { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected AlreadyRunning, got {:?}", other.map(|_| ())),
        }
        drop(held);
        let again = lock_instance(&path).unwrap();
        drop(again);
        let err = lock_instance(&dir.path().join("missing/devctld.lock"))
            .err()
            .unwrap();
        assert!(matches!(err, DaemonError::Lock { .. }));
    }

    #[test]
    fn a_live_holder_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devctld.lock");
        let _held = lock_instance(&path).unwrap();
        let t = std::time::Instant::now();
        assert!(matches!(
            lock_instance(&path),
            Err(DaemonError::AlreadyRunning { .. })
        ));
        assert!(
            t.elapsed() < EXITING_HOLDER_WAIT,
            "a live holder is not waited for"
        );
    }

    /// The lock of a daemon that is gone (its pid no longer runs) but whose
    /// lock is still held for a moment is waited for, then taken.
    #[test]
    fn the_lock_of_an_exiting_holder_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devctld.lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let mut held = Flock::lock(file, FlockArg::LockExclusiveNonblock).unwrap();
        // a pid that cannot exist (above pid_max)
        writeln!(&mut *held, "{}", i32::MAX).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(held);
        });
        let lock = lock_instance(&path).expect("taken once the exiting holder let go");
        releaser.join().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim(),
            std::process::id().to_string()
        );
        drop(lock);
    }

    #[test]
    fn exiting_holders_are_recognised() {
        assert!(!holder_is_exiting(std::process::id()));
        assert!(holder_is_exiting(i32::MAX as u32));
        assert!(holder_is_exiting(u32::MAX));
        // a zombie: a child that exited and was not waited for yet
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = std::time::Instant::now();
        while !crate::process::stat(pid as i32).is_some_and(|s| s.is_zombie()) {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "child never became a zombie"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(holder_is_exiting(pid));
        child.wait().unwrap();
    }

    #[test]
    fn socket_is_0600_stale_reclaimed_live_and_files_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devctld.sock");
        let (live, bound) = bind_socket(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(matches!(
            bind_socket(&path),
            Err(DaemonError::AlreadyRunning { pid: None })
        ));
        drop(live); // the file stays: a stale socket
        assert!(path.exists());
        let (again, bound2) = bind_socket(&path).unwrap();
        drop(bound); // the first socket's file is gone already
        // Replaced behind our back (the old inode kept alive elsewhere, so
        // the replacement cannot reuse its number): left alone.
        let aside = dir.path().join("aside.sock");
        std::fs::rename(&path, &aside).unwrap();
        std::fs::write(&path, b"someone else's").unwrap();
        bound2.remove();
        assert_eq!(std::fs::read(&path).unwrap(), b"someone else's");
        std::fs::remove_file(&path).unwrap();
        std::fs::rename(&aside, &path).unwrap();
        drop(again); // now a stale socket again
        let (_third, bound3) = bind_socket(&path).unwrap();
        bound3.remove();
        assert!(!path.exists());
        std::fs::write(&path, b"not a socket").unwrap();
        assert!(matches!(
            bind_socket(&path),
            Err(DaemonError::NotASocket { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"not a socket");
        let err = bind_socket(&dir.path().join("missing/devctld.sock"))
            .err()
            .unwrap();
        assert!(matches!(err, DaemonError::Bind { .. }));
    }
}
