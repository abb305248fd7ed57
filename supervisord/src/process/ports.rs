//! Who holds a TCP port: LISTEN sockets (netlink sock_diag, or
//! `/proc/net/tcp{,6}`), mapped
//! from socket inode to pid through `/proc/*/fd`. Also used by the probe
//! layer's listen watcher.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use super::reaper::Reaper;
use super::{procfs, sockdiag};

/// A process listening on a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortHolder {
    pub pid: i32,
    pub cmdline: String,
}

const TCP_LISTEN: &str = "0A";
const TABLES: [&str; 2] = ["/proc/net/tcp", "/proc/net/tcp6"];

/// `(port, inode)` of every LISTEN socket in a `/proc/net/tcp{,6}` text.
pub fn parse_listeners(table: &str) -> Vec<(u16, u64)> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.get(3)? != &TCP_LISTEN {
                return None;
            }
            let port = u16::from_str_radix(f.get(1)?.rsplit_once(':')?.1, 16).ok()?;
            let inode = f.get(9)?.parse().ok()?;
            Some((port, inode))
        })
        .collect()
}

/// Repeated scans of the LISTEN sockets on a set of ports (the listen
/// watcher's): one netlink socket kept open across scans, the kernel told
/// which ports to report; `/proc/net/tcp{,6}` when netlink fails (the
/// socket is then opened afresh for the next scan).
#[derive(Debug, Default)]
pub struct ListenScanner {
    diag: Option<sockdiag::Diag>,
    found: Vec<(u16, u64)>,
}

/// Port ranges a scan's filter holds at most: the kernel runs it for every
/// listener, so it stays short (ranges of waited ports merge instead).
const SCAN_RANGES: usize = 16;

impl ListenScanner {
    /// The LISTEN sockets on `ports` now, as `(port, inode)`: those, and
    /// possibly others (when the waited ports are scattered, or from the
    /// `/proc` fallback).
    pub fn scan(&mut self, ports: &[u16]) -> &[(u16, u64)] {
        self.found.clear();
        if ports.is_empty() {
            return &self.found;
        }
        if self.diag.is_none() {
            self.diag = sockdiag::Diag::open().ok();
        }
        let ranges = sockdiag::covering_ranges(ports, SCAN_RANGES);
        let ok = match &mut self.diag {
            Some(d) => d
                .listeners(sockdiag::Ports::In(&ranges), &mut self.found)
                .map_err(|e| tracing::debug!(error = %e, "sock_diag failed; reading /proc/net/tcp"))
                .is_ok(),
            None => false,
        };
        if !ok {
            self.diag = None;
            self.found = proc_listeners();
        }
        &self.found
    }
}

/// LISTEN sockets from `/proc/net/tcp{,6}`.
pub fn proc_listeners() -> Vec<(u16, u64)> {
    TABLES
        .iter()
        .filter_map(|t| fs::read_to_string(t).ok())
        .flat_map(|t| parse_listeners(&t))
        .collect()
}

/// True when a LISTEN socket is bound to `port` (one kernel query for
/// that port, not a dump of every listener).
pub fn is_listening(port: u16) -> bool {
    match sockdiag::tcp_listeners_on(port) {
        Ok(v) => !v.is_empty(),
        Err(_) => proc_listeners().iter().any(|(p, _)| *p == port),
    }
}

/// Inodes of the LISTEN sockets on `port`.
fn listen_inodes(port: u16) -> Vec<u64> {
    sockdiag::tcp_listeners_on(port)
        .unwrap_or_else(|_| proc_listeners())
        .into_iter()
        .filter(|(p, i)| *p == port && *i != 0)
        .map(|(_, i)| i)
        .collect()
}

/// The socket inode an fd link names (`socket:[123]`).
fn socket_inode(target: &std::path::Path) -> Option<u64> {
    target
        .to_str()?
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The fd of `pid` open on one of the sockets `inodes`, if any.
fn held_fd(pid: i32, inodes: &[u64]) -> Option<i32> {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .filter_map(Result::ok)
        .find(|fd| fd_holds(&fd.path(), inodes))?
        .file_name()
        .to_str()?
        .parse()
        .ok()
}

/// Is the fd link at `path` one of the sockets `inodes`?
fn fd_holds(path: &std::path::Path, inodes: &[u64]) -> bool {
    fs::read_link(path)
        .ok()
        .and_then(|t| socket_inode(&t))
        .is_some_and(|i| inodes.contains(&i))
}

/// Does `pid` have an fd open on one of the sockets `inodes`?
fn holds(pid: i32, inodes: &[u64]) -> bool {
    held_fd(pid, inodes).is_some()
}

/// The process holding a LISTEN socket on `port`, if visible. Walks every
/// process's fds: costly with many processes, see [`port_held_by`].
pub fn port_holder(port: u16) -> Option<PortHolder> {
    let wanted = listen_inodes(port);
    if wanted.is_empty() {
        return None;
    }
    procfs::all_pids().ok()?.into_iter().find_map(|pid| {
        holds(pid, &wanted).then(|| PortHolder {
            pid,
            cmdline: procfs::cmdline(pid),
        })
    })
}

/// How old the shared process table may be on the first look for a unit's
/// own listener; a table that does not show the unit's processes yet (it
/// predates them) is followed by a fresh one.
const OWN_TABLE_AGE: Duration = Duration::from_secs(1);

/// What earlier looks established about a unit's listener on one port:
/// the port's LISTEN sockets (from the listen watcher's scan, or a fresh
/// look), and the child of ours and its fd that held one of them. A
/// readiness check follows every period, and with it kept the common case
/// reads one fd link: no query to the kernel (each walks every listener),
/// no walk of the unit's fds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sighting {
    sockets: Vec<u64>,
    /// `(pid, fd)`: a child spawned with the unit's marker, not reaped.
    held_at: Option<(i32, i32)>,
}

impl Sighting {
    /// The port's LISTEN sockets as a scan found them (holder unknown).
    pub fn of(sockets: Vec<u64>) -> Sighting {
        Sighting {
            sockets,
            held_at: None,
        }
    }

    /// Take newly seen sockets; the holder stays if they are the same.
    pub fn see(&mut self, sockets: Vec<u64>) {
        if sockets != self.sockets {
            *self = Sighting::of(sockets);
        }
    }

    /// The LISTEN sockets' inodes.
    pub fn sockets(&self) -> &[u64] {
        &self.sockets
    }

    /// The child and fd last found holding one of them.
    pub fn holder(&self) -> Option<(i32, i32)> {
        self.held_at
    }

    /// One of `children` holds one of the sockets: the last holder if it
    /// still does (one fd link read; an unreaped child's pid cannot name
    /// another process), else the first of them found by its fds.
    fn held_among(&mut self, children: &[i32]) -> bool {
        if self.sockets.is_empty() {
            return false;
        }
        if let Some((pid, fd)) = self.held_at
            && children.contains(&pid)
            && fd_holds(
                std::path::Path::new(&format!("/proc/{pid}/fd/{fd}")),
                &self.sockets,
            )
        {
            return true;
        }
        self.held_at = children
            .iter()
            .find_map(|&pid| Some((pid, held_fd(pid, &self.sockets)?)));
        self.held_at.is_some()
    }
}

/// True when a process carrying the invocation `marker` holds a LISTEN
/// socket on `port`. Only the unit's own processes' fds are read: first
/// our children spawned with the marker (the main process usually
/// listens itself), then the marked processes of a shared process table,
/// so a readiness check stays cheap however many processes run; `false`
/// sends callers to the full [`port_holder`] walk.
///
/// `known`: what an earlier scan or call saw (see [`Sighting`]); when one
/// of our children still holds one of its sockets, the port is settled
/// without asking the kernel: a LISTEN socket keeps its port, and one
/// still held is still the unit's. Otherwise the port is looked up
/// afresh, and when the unit holds it `known` becomes its sockets.
pub fn port_held_by(port: u16, marker: &str, known: &mut Sighting) -> bool {
    let children = Reaper::children_marked(marker);
    if known.held_among(&children) {
        return true;
    }
    let mut fresh = Sighting::of(listen_inodes(port));
    if fresh.sockets.is_empty() {
        return false;
    }
    let by_child = fresh.held_among(&children);
    let now = Instant::now();
    let look = |table: &procfs::Table| {
        let mut ours = table.marked(marker).peekable();
        let seen = ours.peek().is_some();
        (seen, ours.any(|p| holds(p.pid, &fresh.sockets)))
    };
    let held = by_child
        || match look(&procfs::table_after(
            now.checked_sub(OWN_TABLE_AGE).unwrap_or(now),
        )) {
            (_, true) => true,
            (true, false) => false,
            (false, false) => look(&procfs::table_after(now)).1,
        };
    if held {
        *known = fresh;
    }
    held
}

/// True when something listens on `port`, or binding it on 127.0.0.1 or
/// 0.0.0.0 fails (e.g. a listener in a namespace we cannot see).
pub fn port_in_use(port: u16) -> bool {
    if is_listening(port) {
        return true;
    }
    [Ipv4Addr::LOCALHOST, Ipv4Addr::UNSPECIFIED]
        .into_iter()
        .any(|ip| TcpListener::bind(SocketAddr::from((ip, port))).is_err())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F91 0100007F:A000 01 00000000:00000000 00:00000000 00000000  1000        0 12346 1 0000000000000000 20 4 30 10 -1
   2: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 777 1 0 100 0 0 10 0
";

    #[test]
    fn parses_listen_rows_only() {
        assert_eq!(parse_listeners(TABLE), vec![(8080, 12345), (80, 777)]);
        assert!(parse_listeners("header only\n").is_empty());
    }

    #[test]
    fn names_the_holder_and_sees_the_port_in_use() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(is_listening(port));
        assert!(
            proc_listeners().iter().any(|(p, _)| *p == port),
            "the /proc fallback agrees"
        );
        let mut scanner = ListenScanner::default();
        assert!(scanner.scan(&[port]).iter().any(|(p, _)| *p == port));
        assert!(
            scanner.scan(&[port]).iter().all(|(p, _)| *p == port),
            "reused, and filtered"
        );
        assert!(scanner.scan(&[]).is_empty());
        let holder = port_holder(port).expect("holder found");
        assert_eq!(holder.pid, std::process::id() as i32);
        assert!(!holder.cmdline.is_empty());
        assert!(port_in_use(port));
        drop(listener);
        assert_eq!(port_holder(port), None);
        assert!(!is_listening(port));
        assert!(!port_in_use(port));
    }
}
