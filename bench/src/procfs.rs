//! Ground truth from the kernel: the boot-time clock, processes found by a
//! marker in `/proc/<pid>/environ`, and a process's CPU time, resident set
//! and context switches from `/proc/<pid>/{stat,status,task}`. Nothing here
//! asks devctl or systemd anything.

use std::fs;
use std::time::Duration;

/// `CLOCK_BOOTTIME` now, in nanoseconds (the clock every stamp uses).
pub fn boottime_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Clock ticks per second of `/proc/<pid>/stat` times.
pub fn clk_tck() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}

/// Does an `environ` blob (NUL-separated) contain exactly `entry`?
pub fn environ_has(blob: &[u8], entry: &str) -> bool {
    blob.split(|b| *b == 0).any(|e| e == entry.as_bytes())
}

/// Every live pid whose environment contains `entry` (`NAME=value`).
pub fn marked_pids(entry: &str) -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/environ")).is_ok_and(|b| environ_has(&b, entry))
        })
        .filter(|pid| !is_zombie(*pid))
        .collect();
    pids.sort_unstable();
    pids
}

/// The fields of `/proc/<pid>/stat` after the command name (field 3 on).
pub fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let close = stat.rfind(')')?;
    Some(stat.get(close + 1..)?.split_whitespace().collect())
}

fn stat(pid: u32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/stat")).ok()
}

/// A zombie (or gone) process does not count as running.
pub fn is_zombie(pid: u32) -> bool {
    stat(pid)
        .and_then(|s| stat_fields(&s).map(|f| f.first() == Some(&"Z")))
        .unwrap_or(true)
}

/// utime + stime of a stat line, in ticks (fields 14 and 15).
pub fn cpu_ticks_of(stat: &str) -> Option<u64> {
    let f = stat_fields(stat)?;
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// CPU time a process used so far (all threads).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let ticks = cpu_ticks_of(&stat(pid)?)?;
    Some(Duration::from_nanos(ticks * 1_000_000_000 / clk_tck()))
}

/// A `Name:   value kB`-style field of `/proc/<pid>/status`, as a number.
pub fn status_field(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Resident set size in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_field(
        &fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        "VmRSS",
    )
}

/// Context switches (voluntary + involuntary) summed over every thread:
/// each one is a wake-up.
pub fn wakeups(pid: u32) -> u64 {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(|t| fs::read_to_string(t.ok()?.path().join("status")).ok())
        .map(|s| {
            status_field(&s, "voluntary_ctxt_switches").unwrap_or(0)
                + status_field(&s, "nonvoluntary_ctxt_switches").unwrap_or(0)
        })
        .sum()
}

/// Is `pid` alive (and not a zombie)?
pub fn alive(pid: u32) -> bool {
    !is_zombie(pid)
}

/// The machine's 1/5/15-minute load averages, as written in `/proc/loadavg`.
pub fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environ_lookup() {
        let blob = b"A=1\0BENCH_RUN=abc\0BENCH_SVC=s1\0";
        assert!(environ_has(blob, "BENCH_RUN=abc"));
        assert!(!environ_has(blob, "BENCH_RUN=ab"));
    }

    #[test]
    fn stat_parsing_survives_spaces_and_parens_in_comm() {
        let line = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 12345 1000 10";
        let f = stat_fields(line).unwrap();
        assert_eq!(f[0], "S");
        assert_eq!(cpu_ticks_of(line), Some(10));
    }

    #[test]
    fn status_fields() {
        let s = "Name:\tdevctld\nVmRSS:\t   5120 kB\nvoluntary_ctxt_switches:\t7\n";
        assert_eq!(status_field(s, "VmRSS"), Some(5120));
        assert_eq!(status_field(s, "voluntary_ctxt_switches"), Some(7));
        assert_eq!(status_field(s, "VmSize"), None);
    }

    #[test]
    fn own_process_is_visible() {
        assert!(alive(std::process::id()));
        assert!(rss_kib(std::process::id()).unwrap() > 0);
        let a = boottime_ns();
        assert!(boottime_ns() >= a);
    }
}
