//! sd_notify for services: a per-unit datagram socket (given to the service
//! as `NOTIFY_SOCKET`) whose messages are parsed into typed
//! [`NotifyMessage`]s. Senders are identified with `SO_PASSCRED`; a message
//! from a live process outside the unit's tree, or a `MAINPID=` naming one,
//! is rejected (a sender that already exited cannot be checked and is
//! accepted, like `systemd-notify` racing its own exit).

use std::collections::VecDeque;
use std::fs;
use std::io::{self, IoSliceMut};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use tokio::io::Interest;
use tokio::net::UnixDatagram;
use tracing::warn;

use crate::process::{ProcInfo, find_marked};

/// Longest accepted datagram.
const MAX_DATAGRAM: usize = 4096;

/// One parsed notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyMessage {
    /// `READY=1`.
    Ready,
    /// `RELOADING=1`.
    Reloading,
    /// `STOPPING=1`.
    Stopping,
    /// `STATUS=…`.
    Status(String),
    /// `MAINPID=…`, validated to belong to the unit.
    MainPid(i32),
    /// `WATCHDOG=1`.
    Watchdog,
    /// `WATCHDOG=trigger`.
    WatchdogTrigger,
    /// `EXTEND_TIMEOUT_USEC=…`.
    ExtendTimeout(Duration),
    /// `ERRNO=…`.
    Errno(i32),
    /// A message that was refused, and why.
    Rejected(String),
}

/// Parse a datagram's `KEY=VALUE` lines (unknown keys are ignored).
pub fn parse_notify(datagram: &[u8]) -> Vec<NotifyMessage> {
    let text = String::from_utf8_lossy(datagram);
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            Some(match (key, value) {
                ("READY", "1") => NotifyMessage::Ready,
                ("RELOADING", "1") => NotifyMessage::Reloading,
                ("STOPPING", "1") => NotifyMessage::Stopping,
                ("STATUS", v) => NotifyMessage::Status(v.to_string()),
                ("WATCHDOG", "1") => NotifyMessage::Watchdog,
                ("WATCHDOG", "trigger") => NotifyMessage::WatchdogTrigger,
                ("MAINPID", v) => match v.parse::<i32>() {
                    Ok(pid) if pid > 0 => NotifyMessage::MainPid(pid),
                    _ => NotifyMessage::Rejected(format!("invalid MAINPID={v}")),
                },
                ("EXTEND_TIMEOUT_USEC", v) => match v.parse::<u64>() {
                    Ok(us) => NotifyMessage::ExtendTimeout(Duration::from_micros(us)),
                    Err(_) => NotifyMessage::Rejected(format!("invalid EXTEND_TIMEOUT_USEC={v}")),
                },
                ("ERRNO", v) => match v.parse::<i32>() {
                    Ok(n) => NotifyMessage::Errno(n),
                    Err(_) => NotifyMessage::Rejected(format!("invalid ERRNO={v}")),
                },
                _ => return None,
            })
        })
        .collect()
}

/// A unit's notify socket; the file is removed on drop.
#[derive(Debug)]
pub struct NotifySocket {
    sock: UnixDatagram,
    path: PathBuf,
    marker: String,
    pending: VecDeque<NotifyMessage>,
}

impl NotifySocket {
    /// Bind at `path` (a stale file there is replaced) for the unit whose
    /// processes carry `marker`. Must run inside a tokio runtime.
    pub fn bind(path: impl Into<PathBuf>, marker: &str) -> io::Result<NotifySocket> {
        let path = path.into();
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let sock = UnixDatagram::bind(&path)?;
        setsockopt(&sock, sockopt::PassCred, &true).map_err(io::Error::from)?;
        Ok(NotifySocket {
            sock,
            path,
            marker: marker.to_string(),
            pending: VecDeque::new(),
        })
    }

    /// The socket path, to pass as `NOTIFY_SOCKET`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next message. Cancel-safe: a datagram is parsed and queued
    /// without awaiting in between.
    pub async fn recv(&mut self) -> io::Result<NotifyMessage> {
        loop {
            if let Some(m) = self.pending.pop_front() {
                return Ok(m);
            }
            let (data, sender) = self.recv_datagram().await?;
            let tree = find_marked(&self.marker);
            if let Some(pid) = sender
                && crate::process::stat(pid).is_some_and(|s| !s.is_zombie())
                && !in_tree(&tree, pid)
            {
                warn!(pid, socket = %self.path.display(), "notify message from a process outside the unit; ignored");
                self.pending.push_back(NotifyMessage::Rejected(format!(
                    "sender pid {pid} is not part of the unit"
                )));
                continue;
            }
            for m in parse_notify(&data) {
                self.pending.push_back(match m {
                    NotifyMessage::MainPid(pid) if !in_tree(&tree, pid) => NotifyMessage::Rejected(
                        format!("MAINPID={pid} is not a process of the unit"),
                    ),
                    other => other,
                });
            }
        }
    }

    async fn recv_datagram(&self) -> io::Result<(Vec<u8>, Option<i32>)> {
        loop {
            self.sock.readable().await?;
            let res = self.sock.try_io(Interest::READABLE, || {
                let mut buf = vec![0u8; MAX_DATAGRAM];
                let mut cmsg = nix::cmsg_space!(libc::ucred);
                let (len, truncated, pid) = {
                    let mut iov = [IoSliceMut::new(&mut buf)];
                    let msg = recvmsg::<()>(
                        self.sock.as_raw_fd(),
                        &mut iov,
                        Some(&mut cmsg),
                        MsgFlags::MSG_DONTWAIT,
                    )
                    .map_err(io::Error::from)?;
                    let pid = msg.cmsgs().ok().and_then(|mut c| {
                        c.find_map(|m| match m {
                            ControlMessageOwned::ScmCredentials(cred) => Some(cred.pid()),
                            _ => None,
                        })
                    });
                    (msg.bytes, msg.flags.contains(MsgFlags::MSG_TRUNC), pid)
                };
                buf.truncate(len);
                Ok((buf, truncated, pid))
            });
            match res {
                Ok((_, true, pid)) => warn!(?pid, "oversized notify message dropped"),
                Ok((buf, false, pid)) => return Ok((buf, pid)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn in_tree(tree: &[ProcInfo], pid: i32) -> bool {
    tree.iter().any(|p| p.pid == pid)
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_known_key() {
        let msgs = parse_notify(
            b"READY=1\nSTATUS=listening on :80\nMAINPID=42\nWATCHDOG=1\nWATCHDOG=trigger\nSTOPPING=1\nRELOADING=1\n\
EXTEND_TIMEOUT_USEC=1500000\nERRNO=2\nFDSTORE=1\nREADY=0\nMAINPID=-3\nMAINPID=x\nEXTEND_TIMEOUT_USEC=x\nERRNO=x\nnoequals",
        );
        assert_eq!(
            msgs,
            vec![
                NotifyMessage::Ready,
                NotifyMessage::Status("listening on :80".into()),
                NotifyMessage::MainPid(42),
                NotifyMessage::Watchdog,
                NotifyMessage::WatchdogTrigger,
                NotifyMessage::Stopping,
                NotifyMessage::Reloading,
                NotifyMessage::ExtendTimeout(Duration::from_millis(1500)),
                NotifyMessage::Errno(2),
                NotifyMessage::Rejected("invalid MAINPID=-3".into()),
                NotifyMessage::Rejected("invalid MAINPID=x".into()),
                NotifyMessage::Rejected("invalid EXTEND_TIMEOUT_USEC=x".into()),
                NotifyMessage::Rejected("invalid ERRNO=x".into()),
            ]
        );
    }
}
