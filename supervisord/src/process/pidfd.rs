//! Signalling without pid-reuse races: a pidfd names one process for its
//! whole life, so a signal sent through it can never hit a recycled pid.
//! Where pidfds are unavailable (old kernels) the start time recorded at
//! spawn is re-checked right before signalling.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::procfs;

/// An open pidfd for one process.
#[derive(Debug)]
pub struct PidFd {
    fd: OwnedFd,
    pid: i32,
}

impl PidFd {
    /// `pidfd_open(pid, 0)`.
    pub fn open(pid: i32) -> io::Result<PidFd> {
        // SAFETY: pidfd_open takes two integers and returns a new fd or -1.
        let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this fd to us; nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(ret as i32) };
        Ok(PidFd { fd, pid })
    }

    /// The pid this fd refers to.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// `pidfd_send_signal(fd, sig, NULL, 0)`. `ESRCH` once the process has
    /// been reaped; signal 0 only checks.
    pub fn send_signal(&self, sig: i32) -> io::Result<()> {
        // SAFETY: valid fd owned by self, a plain signal number, a null
        // siginfo pointer (allowed) and no flags.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                sig,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if ret < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

/// The fd becomes readable when the process exits (poll it with
/// `tokio::io::unix::AsyncFd` to await a process that is not our child).
impl AsFd for PidFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PidFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Send `sig` to `pid` only if it is still the process that started at
/// `start_time` (or through `pidfd`, which cannot be fooled). Returns
/// `Ok(false)` when the process is already gone.
pub fn signal_checked(
    pid: i32,
    start_time: u64,
    pidfd: Option<&PidFd>,
    sig: i32,
) -> io::Result<bool> {
    if let Some(fd) = pidfd {
        return match fd.send_signal(sig) {
            Ok(()) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(false),
            Err(e) => Err(e),
        };
    }
    if procfs::start_time(pid) != Some(start_time) {
        return Ok(false);
    }
    raw_kill(pid, sig)
}

/// `kill(pid, sig)` mapping `ESRCH` to `Ok(false)`. Callers check identity.
pub fn raw_kill(pid: i32, sig: i32) -> io::Result<bool> {
    if pid <= 0 {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: kill takes two integers; pid > 0 so it targets one process.
    let ret = unsafe { libc::kill(pid, sig) };
    if ret == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) {
        Ok(false)
    } else {
        Err(err)
    }
}

/// `killpg(pgid, sig)` mapping `ESRCH` (empty group) to `Ok(false)`.
pub fn raw_killpg(pgid: i32, sig: i32) -> io::Result<bool> {
    if pgid <= 1 {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: killpg takes two integers; pgid > 1 never means "every process".
    let ret = unsafe { libc::killpg(pgid, sig) };
    if ret == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) {
        Ok(false)
    } else {
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pidfd_of_self_checks_and_missing_pid_fails() {
        let me = std::process::id() as i32;
        let fd = PidFd::open(me).unwrap();
        assert_eq!(fd.pid(), me);
        fd.send_signal(0).unwrap();
        let err = PidFd::open(i32::MAX).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ESRCH));
    }

    #[test]
    fn start_time_mismatch_is_never_signalled() {
        let me = std::process::id() as i32;
        let st = procfs::start_time(me).unwrap();
        // Wrong start time: treated as gone, no signal sent.
        assert!(!signal_checked(me, st + 1, None, libc::SIGTERM).unwrap());
        assert!(signal_checked(me, st, None, 0).unwrap());
        assert!(!raw_kill(i32::MAX, 0).unwrap());
        assert_eq!(
            raw_kill(0, 0).unwrap_err().raw_os_error(),
            Some(libc::EINVAL)
        );
        assert_eq!(
            raw_killpg(1, 0).unwrap_err().raw_os_error(),
            Some(libc::EINVAL)
        );
        assert!(!raw_killpg(i32::MAX - 1, 0).unwrap());
    }
}
