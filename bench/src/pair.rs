//! What the side-by-side scenarios share: both supervisors alive at once
//! ([`Pair`], visited in alternating order, devctl first on even
//! repetitions), per-side sample sets, the services' stamps, and waiting for
//! processes to exit through pidfds (the kernel's word on "gone").

use std::path::Path;
use std::time::{Duration, Instant};

use crate::devctl_side::Devctl;
use crate::procfs;
use crate::report::{self, Row};
use crate::side::{self, Side, Svc};
use crate::systemd_side::Systemd;

/// devctl and systemd --user, both running.
pub struct Pair {
    pub devctl: Devctl,
    pub systemd: Systemd,
}

impl Pair {
    /// Start both (journald too when `journal`).
    pub fn start(journal: bool) -> Result<Pair, String> {
        let systemd = Systemd::start(journal)?;
        let devctl = Devctl::start()?;
        Ok(Pair { devctl, systemd })
    }

    /// Define the same services on both sides.
    pub fn install(&mut self, svcs: &[Svc]) -> Result<(), String> {
        self.devctl.install(svcs)?;
        self.systemd.install(svcs)
    }

    /// Both sides, in the order of repetition `rep`.
    pub fn order(&mut self, rep: usize) -> [&mut dyn Side; 2] {
        if rep.is_multiple_of(2) {
            [&mut self.devctl, &mut self.systemd]
        } else {
            [&mut self.systemd, &mut self.devctl]
        }
    }
}

/// Samples per side.
#[derive(Debug, Default)]
pub struct Samples {
    pub devctl: Vec<f64>,
    pub systemd: Vec<f64>,
}

impl Samples {
    pub fn push(&mut self, side: &str, v: f64) {
        if side == "devctl" {
            self.devctl.push(v)
        } else {
            self.systemd.push(v)
        }
    }
}

/// Remove every stamp in `dir`.
pub fn clear_stamps(dir: &Path) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Stamps whose file name ends with `.suffix`: (name without it, value).
pub fn stamps(dir: &Path, suffix: &str) -> Vec<(String, u64)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let tail = format!(".{suffix}");
    rd.flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stem = name.strip_suffix(&tail)?.to_owned();
            let v = std::fs::read_to_string(e.path())
                .ok()?
                .trim()
                .parse()
                .ok()?;
            Some((stem, v))
        })
        .collect()
}

/// Wait until every one of `n` services stamped `suffix`; the latest stamp.
pub fn wait_stamps(dir: &Path, suffix: &str, n: usize, ceiling: Duration) -> Result<u64, String> {
    let mut latest = 0;
    side::wait_for(&format!("{n} '{suffix}' stamps"), ceiling, || {
        let s = stamps(dir, suffix);
        latest = s.iter().map(|x| x.1).max().unwrap_or(0);
        s.len() >= n
    })?;
    Ok(latest)
}

/// pidfds of `pids` (those still alive).
pub fn pidfds(pids: &[u32]) -> Vec<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    pids.iter()
        .filter_map(|pid| {
            // SAFETY: pidfd_open(2) returns a new fd or -1.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, *pid as libc::c_int, 0) };
            // SAFETY: a fresh fd we now own.
            (fd >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) })
        })
        .collect()
}

/// Wait until every pidfd reports its process exited, or `ceiling`.
/// Returns the `CLOCK_BOOTTIME` of the last exit seen and how many remain.
pub fn wait_exits(mut fds: Vec<std::os::fd::OwnedFd>, ceiling: Duration) -> (u64, usize) {
    use std::os::fd::AsRawFd;
    let start = Instant::now();
    let mut last = procfs::boottime_ns();
    while !fds.is_empty() && start.elapsed() < ceiling {
        let mut polls: Vec<libc::pollfd> = fds
            .iter()
            .map(|f| libc::pollfd {
                fd: f.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: `polls` is a valid array of pollfd for the call's duration.
        let n = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, 50) };
        if n > 0 {
            last = procfs::boottime_ns();
            let done: Vec<bool> = polls.iter().map(|p| p.revents != 0).collect();
            let mut i = 0;
            fds.retain(|_| {
                i += 1;
                !done[i - 1]
            });
        }
    }
    (last, fds.len())
}

/// `reps` rounds of `up` on each side in turn (alternating), each waiting
/// for the `n` services' `suffix` stamps: per side, the time from the last
/// stamp to `up`'s return, and `up`'s whole duration.
pub fn up_until_stamped(
    pair: &mut Pair,
    reps: usize,
    suffix: &str,
    n: usize,
) -> Result<(Samples, Samples), String> {
    let (mut delay, mut total) = (Samples::default(), Samples::default());
    for rep in 0..reps {
        for side in pair.order(rep) {
            clear_stamps(side.stamps());
            let t0 = procfs::boottime_ns();
            side.up()?;
            let t1 = procfs::boottime_ns();
            let last = wait_stamps(side.stamps(), suffix, n, Duration::from_secs(5))?;
            delay.push(side.label(), report::ms(last, t1));
            total.push(side.label(), report::ms(t0, t1));
            settle_down(side)?;
        }
    }
    Ok((delay, total))
}

/// Stop everything on `side` and wait until none of its processes is left.
pub fn settle_down(side: &dyn Side) -> Result<(), String> {
    side.down()?;
    let marker = side.marker();
    side::wait_for(
        &format!("{}'s services to exit", side.label()),
        Duration::from_secs(60),
        || procfs::marked_pids(&marker).is_empty(),
    )
}

/// A side-by-side scenario run alone: `--n 10,100,1000 --reps K`.
pub fn standalone(
    args: &[String],
    default_n: &[usize],
    default_reps: usize,
    measure: fn(usize, usize) -> Result<Vec<Row>, String>,
) -> Result<(), String> {
    let ns = report::list_flag(args, "--n", default_n)?;
    let reps = crate::stats::flag(args, "--reps", default_reps)?;
    for n in ns {
        for row in measure(n, reps)? {
            row.print();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_read_by_suffix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s1.42.exec"), "100").unwrap();
        std::fs::write(dir.path().join("s2.43.exec"), "250\n").unwrap();
        std::fs::write(dir.path().join("s1.listen"), "300").unwrap();
        let mut s = stamps(dir.path(), "exec");
        s.sort();
        assert_eq!(
            s,
            vec![("s1.42".to_string(), 100), ("s2.43".to_string(), 250)]
        );
        assert_eq!(
            wait_stamps(dir.path(), "exec", 2, Duration::from_secs(1)),
            Ok(250)
        );
        clear_stamps(dir.path());
        assert!(stamps(dir.path(), "exec").is_empty());
    }

    #[test]
    fn pidfd_sees_a_child_exit() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let fds = pidfds(&[child.id()]);
        let (_, left) = wait_exits(fds, Duration::from_secs(10));
        assert_eq!(left, 0);
        child.wait().unwrap();
    }
}
