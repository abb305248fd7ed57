//! Listening TCP sockets through netlink `sock_diag`, asking the kernel for
//! LISTEN sockets only: it walks just the listening hash, so a query costs
//! microseconds where reading `/proc/net/tcp` walks every socket bucket
//! (milliseconds on large-memory hosts). `/proc/net/tcp{,6}` stays the
//! fallback when netlink is unavailable. A query for one port
//! ([`tcp_listeners_on`]) or for ranges of ports (the listen watcher's
//! scans) also carries a bytecode filter, so the kernel reports only those
//! ports' sockets: it still walks every listener, but describing one to us
//! costs several times more than skipping it.

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
/// `INET_DIAG_REQ_BYTECODE` attribute type and the bytecode ops used.
const INET_DIAG_REQ_BYTECODE: u16 = 1;
const INET_DIAG_BC_JMP: u8 = 1;
const INET_DIAG_BC_S_GE: u8 = 2;
const INET_DIAG_BC_S_LE: u8 = 3;
const INET_DIAG_BC_S_EQ: u8 = 11;
/// Bytes of one port range in a filter: `S_GE`, `S_LE` (each with the
/// port in a follow-on op) and an accepting `JMP`.
const RANGE_OPS: usize = 20;

/// Which LISTEN sockets a dump asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ports<'a> {
    One(u16),
    /// Local ports in any of these inclusive ranges.
    In(&'a [(u16, u16)]),
}

/// Append one bytecode op: code, "yes" jump (u8), "no" jump (u16), in
/// bytes from the op. A program accepts a socket when a jump lands exactly
/// on its end, and rejects it when one lands past it.
fn op(bc: &mut Vec<u8>, code: u8, yes: u8, no: usize) {
    let no = u16::try_from(no).expect("filters are a few hundred bytes");
    bc.extend_from_slice(&[code, yes]);
    bc.extend_from_slice(&no.to_ne_bytes());
}

/// Append the follow-on op of a port comparison: the port in its "no".
fn port_op(bc: &mut Vec<u8>, port: u16) {
    bc.extend_from_slice(&[0, 0]);
    bc.extend_from_slice(&port.to_ne_bytes());
}

/// The filter program for `ports`. One port is an `S_EQ`
/// (as `ss sport = :P`). A range is `S_GE lo` (no: next range), `S_LE hi`
/// (no: next range) and a `JMP` to the end (accept); the program ends
/// with a `JMP` past the end (reject). The accepting jumps are `JMP`s
/// because only an op's "no" jump (u16) reaches that far; the kernel
/// checks that every jump lands on an op of the chain of "yes" jumps.
fn program(ports: Ports) -> Vec<u8> {
    let mut bc = Vec::new();
    match ports {
        Ports::One(port) => {
            op(&mut bc, INET_DIAG_BC_S_EQ, 8, 12);
            port_op(&mut bc, port);
        }
        Ports::In(ranges) => {
            let len = ranges.len() * RANGE_OPS + 4;
            for (i, &(lo, hi)) in ranges.iter().enumerate() {
                let (at, next) = (i * RANGE_OPS, (i + 1) * RANGE_OPS);
                op(&mut bc, INET_DIAG_BC_S_GE, 8, next - at);
                port_op(&mut bc, lo);
                op(&mut bc, INET_DIAG_BC_S_LE, 8, next - (at + 8));
                port_op(&mut bc, hi);
                op(&mut bc, INET_DIAG_BC_JMP, 4, len - (at + 16));
            }
            op(&mut bc, INET_DIAG_BC_JMP, 4, 8);
        }
    }
    bc
}

/// The dump request for one address family, the kernel reporting only
/// the sockets `ports` asks for.
fn request(family: u8, ports: Ports) -> Vec<u8> {
    let bc = program(ports);
    let len = REQ_LEN + 4 + bc.len();
    let mut req = vec![0u8; len];
    req[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    // inet_diag_req_v2: family, protocol, ext, pad, states, id (zeroed).
    req[16] = family;
    req[17] = libc::IPPROTO_TCP as u8;
    req[20..24].copy_from_slice(&(1u32 << TCP_LISTEN).to_ne_bytes());
    if let Ports::One(port) = ports {
        // id.idiag_sport: the kernel skips other ports' listeners before
        // running the bytecode (which older kernels need for dumps).
        req[24..26].copy_from_slice(&port.to_be_bytes());
    }
    let a = REQ_LEN;
    req[a..a + 2].copy_from_slice(&((4 + bc.len()) as u16).to_ne_bytes());
    req[a + 2..a + 4].copy_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
    req[a + 4..].copy_from_slice(&bc);
    req
}

/// Ranges covering `ports`, at most `max` of them (at least one): runs of
/// consecutive ports become one range, and while there are too many the
/// ranges with the smallest gaps between them are merged (a merged range
/// may take in ports that were not asked for; callers filter the answer).
pub fn covering_ranges(ports: &[u16], max: usize) -> Vec<(u16, u16)> {
    let mut sorted = ports.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<(u16, u16)> = Vec::new();
    for p in sorted {
        match runs.last_mut() {
            Some((_, hi)) if u32::from(*hi) + 1 == u32::from(p) => *hi = p,
            _ => runs.push((p, p)),
        }
    }
    let excess = runs.len().saturating_sub(max.max(1));
    if excess == 0 {
        return runs;
    }
    // Close the `excess` smallest gaps (ties: the earlier one).
    let mut gaps: Vec<(u16, usize)> = runs
        .windows(2)
        .enumerate()
        .map(|(i, w)| (w[1].0 - w[0].1, i))
        .collect();
    gaps.sort_unstable();
    let mut close = vec![false; runs.len()];
    for &(_, i) in &gaps[..excess] {
        close[i] = true;
    }
    let mut merged: Vec<(u16, u16)> = Vec::with_capacity(runs.len() - excess);
    let mut extend = false;
    for (i, run) in runs.into_iter().enumerate() {
        match merged.last_mut() {
            Some((_, hi)) if extend => *hi = run.1,
            _ => merged.push(run),
        }
        extend = close[i];
    }
    merged
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
    let mut v = dump(Ports::One(port))?;
    // Kernels that ignore the filter still give the right answer.
    v.retain(|(p, _)| *p == port);
    Ok(v)
}

fn dump(ports: Ports) -> io::Result<Vec<(u16, u64)>> {
    let mut out = Vec::new();
    Diag::open()?.listeners(ports, &mut out)?;
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

    /// Append the TCP LISTEN sockets on `ports` (IPv4 and IPv6) to `out`
    /// as `(port, inode)`.
    pub fn listeners(&mut self, ports: Ports, out: &mut Vec<(u16, u64)>) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let kernel = NetlinkAddr::new(0, 0);
        for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
            sendto(
                self.fd.as_raw_fd(),
                &request(family, ports),
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
    fn covering_ranges_merge_runs_then_the_closest_ranges() {
        assert_eq!(covering_ranges(&[], 4), vec![]);
        assert_eq!(
            covering_ranges(&[5, 3, 4, 10, 4, 65535, 65534], 4),
            vec![(3, 5), (10, 10), (65534, 65535)]
        );
        // Gaps 10-5=5, 20-10=10, 22-20=2: the two smallest close.
        assert_eq!(
            covering_ranges(&[5, 10, 20, 22], 2),
            vec![(5, 10), (20, 22)]
        );
        assert_eq!(covering_ranges(&[5, 10, 20, 22], 1), vec![(5, 22)]);
        assert_eq!(covering_ranges(&[5, 10], 0), vec![(5, 10)], "at least one");
        // Whatever the input: within the cap, sorted, disjoint, covering.
        let mut x = 12345u32;
        for round in 0..200 {
            let ports: Vec<u16> = (0..round % 40)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u16 % 300
                })
                .collect();
            let max = 1 + round % 7;
            let r = covering_ranges(&ports, max);
            assert!(r.len() <= max);
            assert!(r.windows(2).all(|w| w[0].1 + 1 < w[1].0), "{r:?}");
            assert!(r.iter().all(|(lo, hi)| lo <= hi));
            for p in &ports {
                assert!(r.iter().any(|(lo, hi)| lo <= p && p <= hi), "{p} in {r:?}");
            }
            for (lo, hi) in &r {
                assert!(
                    ports.contains(lo) && ports.contains(hi),
                    "ends are asked for"
                );
            }
        }
    }

    /// The kernel accepts the range programs and applies them exactly.
    #[test]
    fn range_filters_report_only_the_ports_in_range() {
        let ls: Vec<_> = (0..8)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let mut ours: Vec<u16> = ls.iter().map(|l| l.local_addr().unwrap().port()).collect();
        ours.sort_unstable();
        let in_any =
            |ranges: &[(u16, u16)], p: u16| ranges.iter().any(|&(lo, hi)| lo <= p && p <= hi);
        let many: Vec<(u16, u16)> = (0..16).map(|i| (ours[i % 8], ours[i % 8])).collect();
        for ranges in [
            vec![(ours[0], ours[0]), (ours[2], ours[4])],
            vec![(ours[7], u16::MAX)],
            vec![(0, ours[1]), (ours[6], ours[6])],
            many,
            vec![],
        ] {
            let got = dump(Ports::In(&ranges)).unwrap();
            assert!(
                got.iter().all(|(p, _)| in_any(&ranges, *p)),
                "{ranges:?}: {got:?}"
            );
            for p in &ours {
                assert_eq!(
                    got.iter().any(|(q, _)| q == p),
                    in_any(&ranges, *p),
                    "port {p} with {ranges:?}"
                );
            }
        }
    }

    #[test]
    fn sees_our_listener_and_rejects_garbage() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let all = dump(Ports::In(&[(0, u16::MAX)])).unwrap();
        assert!(all.iter().any(|(p, inode)| *p == port && *inode != 0));
        // The kernel filters by port: only that listener comes back.
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mine = dump(Ports::One(port)).unwrap();
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0].0, port);
        assert_eq!(tcp_listeners_on(port).unwrap(), mine);
        let other_port = other.local_addr().unwrap().port();
        assert!(
            dump(Ports::One(other_port))
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
