//! sd_notify for services: a per-run datagram socket (given to the service
//! as `NOTIFY_SOCKET`) whose messages are parsed into typed
//! [`NotifyMessage`]s. Senders are identified with `SO_PASSCRED` and
//! attributed to the run by lineage ([`process::lineage`]): the run's
//! roots (the pid the daemon spawned, known once the spawn returns, and
//! main pids it was told of), their process groups, and processes spawned
//! with, remembered with or still showing the run's marker, or below one.
//! A message is never judged before the run's main pid is known (a
//! program may send `READY=1` before its spawn has returned); one that
//! cannot be attributed yet is held and checked again, then against a
//! full process table, and only then refused, the stream behind it kept
//! in order. A `MAINPID=` naming a process outside the run is refused the
//! same way. A sender that already exited cannot be checked and is
//! accepted, like `systemd-notify` racing its own exit.

use std::collections::VecDeque;
use std::fs;
use std::io::{self, IoSliceMut};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use tokio::io::Interest;
use tokio::net::UnixDatagram;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::warn;

use crate::process::{self, Lineage};

/// Longest accepted datagram.
const MAX_DATAGRAM: usize = 4096;

/// How long a message whose sender (or `MAINPID=`) cannot be attributed
/// yet is held, once the run's main pid is known, before it is refused.
pub const HOLD: Duration = Duration::from_secs(2);
/// First wait between checks of a held message; doubles up to [`HOLD_STEP_MAX`].
const HOLD_STEP: Duration = Duration::from_millis(1);
const HOLD_STEP_MAX: Duration = Duration::from_millis(100);

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

/// The run's root pids as the provider learns them (the spawned main
/// process, a daemon's pid-file pid); cloneable, shared with the socket.
#[derive(Debug, Clone)]
pub struct RunRoots(Arc<watch::Sender<Vec<i32>>>);

impl RunRoots {
    /// Add a root: messages held for want of one are judged again.
    pub fn add(&self, pid: i32) {
        self.0.send_if_modified(|v| {
            let new = !v.contains(&pid);
            if new {
                v.push(pid);
            }
            new
        });
    }
}

/// A datagram waiting for its sender to be attributed.
#[derive(Debug)]
struct Held {
    data: Vec<u8>,
    sender: Option<i32>,
    /// Refuse at this moment (set once the roots are known).
    until: Option<Instant>,
    step: Duration,
}

/// What the checks said about a datagram.
enum Verdict {
    Accept(Vec<NotifyMessage>),
    /// Not attributable yet.
    Wait,
}

/// A unit's notify socket; the file is removed on drop.
#[derive(Debug)]
pub struct NotifySocket {
    sock: UnixDatagram,
    path: PathBuf,
    marker: String,
    roots_tx: RunRoots,
    roots: watch::Receiver<Vec<i32>>,
    held: Option<Held>,
    pending: VecDeque<NotifyMessage>,
}

impl NotifySocket {
    /// Bind at `path` (a stale file there is replaced) for the unit whose
    /// processes carry `marker`. Must run inside a tokio runtime. Messages
    /// are judged once a root is added through [`NotifySocket::roots`].
    pub fn bind(path: impl Into<PathBuf>, marker: &str) -> io::Result<NotifySocket> {
        let path = path.into();
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let sock = UnixDatagram::bind(&path)?;
        setsockopt(&sock, sockopt::PassCred, &true).map_err(io::Error::from)?;
        let (tx, roots) = watch::channel(Vec::new());
        Ok(NotifySocket {
            sock,
            path,
            marker: marker.to_string(),
            roots_tx: RunRoots(Arc::new(tx)),
            roots,
            held: None,
            pending: VecDeque::new(),
        })
    }

    /// The socket path, to pass as `NOTIFY_SOCKET`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The handle through which the run's root pids are made known.
    pub fn roots(&self) -> RunRoots {
        self.roots_tx.clone()
    }

    /// The next message. Cancel-safe: a datagram is kept (held) or parsed
    /// and queued without awaiting in between.
    pub async fn recv(&mut self) -> io::Result<NotifyMessage> {
        loop {
            if let Some(m) = self.pending.pop_front() {
                return Ok(m);
            }
            if self.held.is_none() {
                let (data, sender) = self.recv_datagram().await?;
                self.held = Some(Held {
                    data,
                    sender,
                    until: None,
                    step: HOLD_STEP,
                });
            }
            self.judge_held().await;
        }
    }

    /// Judge the held datagram: accept it, refuse it, or wait (for the
    /// roots, or one step) and leave it held.
    async fn judge_held(&mut self) {
        let Some(held) = self.held.as_mut() else {
            return;
        };
        let roots = self.roots.borrow().clone();
        if roots.is_empty() {
            // Nothing is judged before the provider knows the main pid (its
            // spawn returned); the socket goes with the run if it never does.
            let _ = self.roots.changed().await;
            return;
        }
        let verdict = judge(&held.data, held.sender, &self.marker, &roots, false);
        if let Verdict::Accept(msgs) = verdict {
            self.accept(msgs);
            return;
        }
        let now = Instant::now();
        let until = *held.until.get_or_insert(now + HOLD);
        if now < until {
            let wait = held.step.min(until - now);
            held.step = (held.step * 2).min(HOLD_STEP_MAX);
            tokio::time::sleep(wait).await;
            return;
        }
        let Some(held) = self.held.take() else { return };
        let msgs = match judge(&held.data, held.sender, &self.marker, &roots, true) {
            Verdict::Accept(msgs) => msgs,
            Verdict::Wait => refuse(&held.data, held.sender, &self.marker, &roots),
        };
        if let Some(NotifyMessage::Rejected(why)) = msgs.first() {
            warn!(sender = ?held.sender, socket = %self.path.display(), "notify message refused: {why}");
        }
        self.pending.extend(msgs);
    }

    fn accept(&mut self, msgs: Vec<NotifyMessage>) {
        self.held = None;
        for m in &msgs {
            if let NotifyMessage::MainPid(pid) = m {
                self.roots_tx.add(*pid);
            }
        }
        self.pending.extend(msgs);
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

/// Whether `pid` is the run's; `full` also asks a fresh process table.
fn attributed(pid: i32, marker: &str, roots: &[i32], full: bool) -> Lineage {
    match process::lineage(pid, marker, roots) {
        Lineage::Unknown
            if full
                && process::table_after(std::time::Instant::now())
                    .marked(marker)
                    .any(|p| p.pid == pid) =>
        {
            Lineage::Ours
        }
        l => l,
    }
}

/// The datagram's messages if its sender and any `MAINPID=` it names are
/// the run's (a sender that is gone counts as the run's; a named main pid
/// must be alive).
fn judge(data: &[u8], sender: Option<i32>, marker: &str, roots: &[i32], full: bool) -> Verdict {
    if let Some(pid) = sender
        && attributed(pid, marker, roots, full) == Lineage::Unknown
    {
        return Verdict::Wait;
    }
    let msgs = parse_notify(data);
    let named_ok = msgs.iter().all(|m| match m {
        NotifyMessage::MainPid(pid) => attributed(*pid, marker, roots, full) == Lineage::Ours,
        _ => true,
    });
    if named_ok {
        Verdict::Accept(msgs)
    } else {
        Verdict::Wait
    }
}

/// The refusal of a datagram that stayed unattributable.
fn refuse(data: &[u8], sender: Option<i32>, marker: &str, roots: &[i32]) -> Vec<NotifyMessage> {
    if let Some(pid) = sender
        && attributed(pid, marker, roots, false) == Lineage::Unknown
    {
        return vec![NotifyMessage::Rejected(format!(
            "sender pid {pid} is not part of the unit"
        ))];
    }
    parse_notify(data)
        .into_iter()
        .map(|m| match m {
            NotifyMessage::MainPid(pid)
                if attributed(pid, marker, roots, false) != Lineage::Ours =>
            {
                NotifyMessage::Rejected(format!("MAINPID={pid} is not a process of the unit"))
            }
            other => other,
        })
        .collect()
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
