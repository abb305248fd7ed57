//! Listening TCP sockets through netlink `sock_diag`, asking the kernel for
//! LISTEN sockets only: it walks just the listening hash, so a query costs
//! microseconds where reading `/proc/net/tcp` walks every socket bucket
//! (milliseconds on large-memory hosts). `/proc/net/tcp{,6}` stays the
//! fallback when netlink is unavailable. A query for one port
//! ([`tcp_listeners_on`]) also carries a bytecode filter for it, so the
//! kernel reports only that port's sockets.

use std::io;

use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, recv, sendto, socket,
};

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const TCP_LISTEN: u32 = 10;
const NLMSG_HDR: usize = 16;
const REQ_LEN: usize = NLMSG_HDR + 56;
const DIAG_MSG_LEN: usize = 72;
/// `INET_DIAG_REQ_BYTECODE` attribute type and `INET_DIAG_BC_S_EQ` op.
const INET_DIAG_REQ_BYTECODE: u16 = 1;
const INET_DIAG_BC_S_EQ: u8 = 11;
/// A request with a one-port filter: the attribute header and two ops.
const FILTERED_LEN: usize = REQ_LEN + 4 + 8;

/// The dump request for one address family; with `port`, the kernel
/// reports only sockets bound to that local port (an `S_EQ` filter: its
/// "yes" jump ends the program exactly, accepting; its "no" jump runs
/// past the end, rejecting — as `ss sport = :P` does).
fn request(family: u8, port: Option<u16>) -> Vec<u8> {
    let len = if port.is_some() {
        FILTERED_LEN
    } else {
        REQ_LEN
    };
    let mut req = vec![0u8; len];
    req[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    // inet_diag_req_v2: family, protocol, ext, pad, states, id (zeroed).
    req[16] = family;
    req[17] = libc::IPPROTO_TCP as u8;
    req[20..24].copy_from_slice(&(1u32 << TCP_LISTEN).to_ne_bytes());
    if let Some(port) = port {
        // id.idiag_sport: the kernel skips other ports' listeners before
        // running the bytecode (which older kernels need for dumps).
        req[24..26].copy_from_slice(&port.to_be_bytes());
        let a = REQ_LEN;
        req[a..a + 2].copy_from_slice(&12u16.to_ne_bytes());
        req[a + 2..a + 4].copy_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
        // op: code, yes (u8), no (u16); then the port in the next op's `no`.
        req[a + 4] = INET_DIAG_BC_S_EQ;
        req[a + 5] = 8;
        req[a + 6..a + 8].copy_from_slice(&12u16.to_ne_bytes());
        req[a + 10..a + 12].copy_from_slice(&port.to_ne_bytes());
    }
    req
}

fn u16_ne(b: &[u8]) -> u16 {
    u16::from_ne_bytes([b[0], b[1]])
}

fn u32_ne(b: &[u8]) -> u32 {
    u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
}

/// Parse a batch of netlink messages: `(port, inode)` per LISTEN socket;
/// `Ok(true)` once the dump is done.
pub fn parse_batch(mut buf: &[u8], out: &mut Vec<(u16, u64)>) -> io::Result<bool> {
    while buf.len() >= NLMSG_HDR {
        let len = u32_ne(&buf[0..4]) as usize;
        let kind = u16_ne(&buf[4..6]);
        if len < NLMSG_HDR || len > buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "truncated netlink message",
            ));
        }
        let body = &buf[NLMSG_HDR..len];
        match kind {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let errno = body
                    .get(0..4)
                    .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                return Err(io::Error::from_raw_os_error(errno.saturating_neg()));
            }
            SOCK_DIAG_BY_FAMILY if body.len() >= DIAG_MSG_LEN => {
                let state = u32::from(body[1]);
                let port = u16::from_be_bytes([body[4], body[5]]);
                let inode = u64::from(u32_ne(&body[68..72]));
                if state == TCP_LISTEN {
                    out.push((port, inode));
                }
            }
            _ => {}
        }
        let aligned = (len + 3) & !3;
        buf = &buf[aligned.min(buf.len())..];
    }
    Ok(false)
}

/// The TCP LISTEN sockets on `port` (IPv4 and IPv6) as `(port, inode)`,
/// filtered by the kernel: the cost does not grow with the number of
/// listeners on the machine.
pub fn tcp_listeners_on(port: u16) -> io::Result<Vec<(u16, u64)>> {
    let mut v = dump(Some(port))?;
    // Kernels that ignore the filter still give the right answer.
    v.retain(|(p, _)| *p == port);
    Ok(v)
}

fn dump(port: Option<u16>) -> io::Result<Vec<(u16, u64)>> {
    let mut out = Vec::new();
    Diag::open()?.listeners(port, &mut out)?;
    Ok(out)
}

/// A netlink socket kept open for repeated queries (the listen watcher's
/// scans), with its receive buffer.
#[derive(Debug)]
pub struct Diag {
    fd: std::os::fd::OwnedFd,
    buf: Vec<u8>,
}

impl Diag {
    /// Open the socket.
    pub fn open() -> io::Result<Diag> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkSockDiag,
        )
        .map_err(io::Error::from)?;
        Ok(Diag {
            fd,
            buf: vec![0u8; 32 << 10],
        })
    }

    /// Append the TCP LISTEN sockets (IPv4 and IPv6; on `port` only, when
    /// given) to `out` as `(port, inode)`.
    pub fn listeners(&mut self, port: Option<u16>, out: &mut Vec<(u16, u64)>) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let kernel = NetlinkAddr::new(0, 0);
        for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
            sendto(
                self.fd.as_raw_fd(),
                &request(family, port),
                &kernel,
                MsgFlags::empty(),
            )
            .map_err(io::Error::from)?;
            loop {
                let n = recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty())
                    .map_err(io::Error::from)?;
                if n == 0 || parse_batch(&self.buf[..n], out)? {
                    break;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_our_listener_and_rejects_garbage() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let all = dump(None).unwrap();
        assert!(all.iter().any(|(p, inode)| *p == port && *inode != 0));
        // The kernel filters by port: only that listener comes back.
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mine = dump(Some(port)).unwrap();
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0].0, port);
        assert_eq!(tcp_listeners_on(port).unwrap(), mine);
        let other_port = other.local_addr().unwrap().port();
        assert!(
            dump(Some(other_port))
                .unwrap()
                .iter()
                .all(|(p, _)| *p == other_port)
        );
        let mut out = Vec::new();
        assert!(
            parse_batch(
                &[20, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                &mut out
            )
            .is_err()
        );
        let mut err = [0u8; 20];
        err[0] = 20;
        err[4] = NLMSG_ERROR as u8;
        err[16..20].copy_from_slice(&(-libc::EPERM).to_ne_bytes());
        assert_eq!(
            parse_batch(&err, &mut out).unwrap_err().raw_os_error(),
            Some(libc::EPERM)
        );
        let mut done = [0u8; 16];
        done[0] = 16;
        done[4] = NLMSG_DONE as u8;
        assert!(parse_batch(&done, &mut out).unwrap());
        assert!(out.is_empty());
    }
}
