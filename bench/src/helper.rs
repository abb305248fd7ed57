//! The service programs both supervisors run, as hidden modes of this very
//! binary (`devctl-bench helper MODE`), so that devctl and systemd start
//! byte-identical processes. The first thing each mode does is stamp its
//! exec time (`CLOCK_BOOTTIME`, ns) into `$BENCH_STAMPS/<svc>.<pid>.exec`:
//! `/proc/<pid>/stat` start times only have tick (10 ms) resolution.
//!
//! - `sleep`: stamp, then wait forever;
//! - `listen PORT DELAY_MS`: stamp, sleep, listen on 127.0.0.1:PORT, stamp
//!   `<svc>.listen`, send `READY=1` to `$NOTIFY_SOCKET` when it is set
//!   (what `systemd-notify --ready` sends), accept and drop connections;
//! - `notify DELAY_MS`: stamp, sleep, send `READY=1` to `$NOTIFY_SOCKET`
//!   (what a `Type=notify` service does when it is ready without listening
//!   on anything) and stamp `<svc>.notify` with the moment before the
//!   send, wait forever;
//! - `tree`: stamp, start a child in the same process group and a `setsid`
//!   grandchild that leaves it, wait forever;
//! - `flood SECS`: write 100-byte lines to stdout (40 per write, like a
//!   4 KiB stdio buffer) as fast as the reader
//!   takes them for SECS, stamp the line count in `<svc>.flood`, then wait.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::procfs::boottime_ns;

/// One flood line, newline included.
pub const LINE_BYTES: usize = 100;

fn stamp(suffix: &str, value: u64) {
    let (Some(dir), Some(svc)) = (
        std::env::var_os("BENCH_STAMPS"),
        std::env::var_os("BENCH_SVC"),
    ) else {
        return;
    };
    let mut path = PathBuf::from(dir);
    path.push(format!("{}.{suffix}", svc.to_string_lossy()));
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, value.to_string()).is_ok() {
        let _ = std::fs::rename(tmp, path);
    }
}

fn forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn notify_ready() {
    let Some(sock) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(s) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let _ = s.send_to(b"READY=1", sock);
}

/// A flood line: zero-padded sequence number, filler, newline.
pub fn flood_line(seq: u64) -> [u8; LINE_BYTES] {
    let mut line = [b'x'; LINE_BYTES];
    let head = format!("{seq:012} ");
    line[..head.len()].copy_from_slice(head.as_bytes());
    line[LINE_BYTES - 1] = b'\n';
    line
}

/// Run a helper mode; never returns on success.
pub fn run(args: &[String]) -> Result<(), String> {
    let exec = boottime_ns();
    let pid = std::process::id();
    stamp(&format!("{pid}.exec"), exec);
    let num = |i: usize| -> Result<u64, String> {
        args.get(i)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("helper: argument {i} must be a number"))
    };
    match args.first().map(String::as_str) {
        Some("sleep") => forever(),
        Some("listen") => {
            let (port, delay) = (num(1)?, num(2)?);
            std::thread::sleep(Duration::from_millis(delay));
            let l = std::net::TcpListener::bind(("127.0.0.1", port as u16))
                .map_err(|e| format!("listen {port}: {e}"))?;
            stamp("listen", boottime_ns());
            notify_ready();
            for c in l.incoming() {
                drop(c);
            }
            forever()
        }
        Some("notify") => {
            std::thread::sleep(Duration::from_millis(num(1)?));
            // The moment is taken before the send; the stamp file is
            // written after it, so its cost is not counted against the
            // supervisor that is already handling the datagram.
            let sent = boottime_ns();
            notify_ready();
            stamp("notify", sent);
            forever()
        }
        Some("tree") => {
            let me = std::env::current_exe().map_err(|e| e.to_string())?;
            std::process::Command::new("sleep")
                .arg("100000")
                .spawn()
                .map_err(|e| e.to_string())?;
            std::process::Command::new("setsid")
                .arg("-f")
                .arg(&me)
                .arg("helper")
                .arg("sleep")
                .spawn()
                .map_err(|e| e.to_string())?;
            forever()
        }
        Some("flood") => {
            let secs = num(1)?;
            let mut out = std::io::stdout().lock();
            let until = Instant::now() + Duration::from_secs(secs);
            let mut seq = 0u64;
            let mut buf = Vec::with_capacity(LINE_BYTES * 40);
            while Instant::now() < until {
                buf.clear();
                for _ in 0..40 {
                    buf.extend_from_slice(&flood_line(seq));
                    seq += 1;
                }
                if out.write_all(&buf).is_err() {
                    break;
                }
            }
            let _ = out.flush();
            stamp("flood", seq);
            forever()
        }
        _ => Err("helper: unknown mode".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flood_lines_are_100_bytes_with_their_number() {
        let l = flood_line(1234);
        assert_eq!(l.len(), 100);
        assert!(l.starts_with(b"000000001234 x"));
        assert_eq!(l[99], b'\n');
        assert_eq!(l.iter().filter(|b| **b == b'\n').count(), 1);
    }
}
