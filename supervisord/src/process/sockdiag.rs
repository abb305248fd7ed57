//! Listening TCP sockets through netlink `sock_diag`, asking the kernel for
//! LISTEN sockets only: it walks just the listening hash, so a query costs
//! microseconds where reading `/proc/net/tcp` walks every socket bucket
//! (milliseconds on large-memory hosts). `/proc/net/tcp{,6}` stays the
//! fallback when netlink is unavailable.

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

/// The dump request for one address family.
fn request(family: u8) -> [u8; REQ_LEN] {
    let mut req = [0u8; REQ_LEN];
    req[0..4].copy_from_slice(&(REQ_LEN as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    // inet_diag_req_v2: family, protocol, ext, pad, states, id (zeroed).
    req[16] = family;
    req[17] = libc::IPPROTO_TCP as u8;
    req[20..24].copy_from_slice(&(1u32 << TCP_LISTEN).to_ne_bytes());
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

/// Every TCP LISTEN socket (IPv4 and IPv6) as `(port, inode)`.
pub fn tcp_listeners() -> io::Result<Vec<(u16, u64)>> {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkSockDiag,
    )
    .map_err(io::Error::from)?;
    let kernel = NetlinkAddr::new(0, 0);
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 << 10];
    for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
        sendto(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            &request(family),
            &kernel,
            MsgFlags::empty(),
        )
        .map_err(io::Error::from)?;
        loop {
            let n = recv(
                std::os::fd::AsRawFd::as_raw_fd(&fd),
                &mut buf,
                MsgFlags::empty(),
            )
            .map_err(io::Error::from)?;
            if n == 0 || parse_batch(&buf[..n], &mut out)? {
                break;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_our_listener_and_rejects_garbage() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let all = tcp_listeners().unwrap();
        assert!(all.iter().any(|(p, inode)| *p == port && *inode != 0));
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
