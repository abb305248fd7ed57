//! Who holds a TCP port: LISTEN sockets (netlink sock_diag, or
//! `/proc/net/tcp{,6}`), mapped
//! from socket inode to pid through `/proc/*/fd`. Also used by the probe
//! layer's listen watcher.

use std::collections::HashSet;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

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

/// Every LISTEN socket as `(port, inode)`: netlink `sock_diag` (cheap),
/// else `/proc/net/tcp{,6}`.
fn all_listeners() -> Vec<(u16, u64)> {
    match sockdiag::tcp_listeners() {
        Ok(v) => v,
        Err(e) => {
            tracing::debug!(error = %e, "sock_diag unavailable; reading /proc/net/tcp");
            proc_listeners()
        }
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

/// Ports with a LISTEN socket in this network namespace.
pub fn listening_ports() -> HashSet<u16> {
    all_listeners().into_iter().map(|(port, _)| port).collect()
}

/// The process holding a LISTEN socket on `port`, if visible.
pub fn port_holder(port: u16) -> Option<PortHolder> {
    let inodes: HashSet<u64> = all_listeners()
        .into_iter()
        .filter(|(p, i)| *p == port && *i != 0)
        .map(|(_, i)| i)
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let wanted: HashSet<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    procfs::all_pids().ok()?.into_iter().find_map(|pid| {
        let fds = fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        let holds = fds.filter_map(Result::ok).any(|fd| {
            fs::read_link(fd.path())
                .is_ok_and(|target| target.to_str().is_some_and(|t| wanted.contains(t)))
        });
        holds.then(|| PortHolder {
            pid,
            cmdline: procfs::cmdline(pid),
        })
    })
}

/// True when something listens on `port`, or binding it on 127.0.0.1 or
/// 0.0.0.0 fails (e.g. a listener in a namespace we cannot see).
pub fn port_in_use(port: u16) -> bool {
    if listening_ports().contains(&port) {
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
        assert!(listening_ports().contains(&port));
        assert!(
            proc_listeners().iter().any(|(p, _)| *p == port),
            "the /proc fallback agrees"
        );
        let holder = port_holder(port).expect("holder found");
        assert_eq!(holder.pid, std::process::id() as i32);
        assert!(!holder.cmdline.is_empty());
        assert!(port_in_use(port));
        drop(listener);
        assert_eq!(port_holder(port), None);
        assert!(!port_in_use(port));
    }
}
