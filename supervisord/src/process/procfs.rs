//! Reading `/proc`: a process's stat line (state, ppid, pgid, start time),
//! its command line, and the invocation-marker scan that finds every
//! process a unit started, wherever it was re-parented. A process whose
//! environment no longer shows its marker (a process title written over
//! it) is placed by its spawn record and lineage: [`lineage`] for one pid,
//! [`forked_for`] for a daemon's pid file.
//!
//! [`table_after`] is the shared form of the scan for whole-tree stops:
//! one pass records every live process's group and marker, and every stop
//! in flight that only needs a pass started after a given moment reuses it,
//! so stopping N units costs one pass per wake-up, not N.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::reaper::Reaper;

/// The environment variable carrying a process tree's invocation marker.
pub const MARKER_VAR: &str = "DEVCTL_INVOCATION_ID";

/// What `/proc/<pid>/stat` says about a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// One-letter state: `R`, `S`, `D`, `Z`, `T`, …
    pub state: char,
    pub ppid: i32,
    pub pgid: i32,
    pub sid: i32,
    /// Start time in clock ticks since boot; with the pid, a process identity
    /// that survives pid reuse.
    pub start_time: u64,
}

impl ProcStat {
    /// A zombie has exited; it only waits to be reaped.
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// A process found by [`find_marked`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    pub start_time: u64,
    /// Arguments joined by spaces (empty for kernel threads and zombies).
    pub cmdline: String,
}

/// Parse the content of `/proc/<pid>/stat`. The command name may contain
/// spaces and parentheses, so fields are counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    // rest starts at field 3 (state); start_time is field 22.
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgid = fields.next()?.parse().ok()?;
    let sid = fields.next()?.parse().ok()?;
    let start_time = fields.nth(15)?.parse().ok()?;
    Some(ProcStat {
        state,
        ppid,
        pgid,
        sid,
        start_time,
    })
}

/// Reads `/proc/<pid>/<file>` into buffers it keeps, so a pass over every
/// process allocates nothing per process.
#[derive(Default)]
struct ProcReader {
    path: String,
    buf: Vec<u8>,
}

impl ProcReader {
    /// The whole file; `None` when it cannot be opened or read.
    fn read(&mut self, pid: i32, file: &str) -> Option<&[u8]> {
        use std::fmt::Write as _;
        use std::io::Read as _;
        self.path.clear();
        let _ = write!(self.path, "/proc/{pid}/{file}");
        self.buf.clear();
        let mut f = fs::File::open(&self.path).ok()?;
        f.read_to_end(&mut self.buf).ok()?;
        Some(&self.buf)
    }

    fn stat(&mut self, pid: i32) -> Option<ProcStat> {
        let text = self.read(pid, "stat")?;
        parse_stat(std::str::from_utf8(&text[text.iter().rposition(|b| *b == b')')?..]).ok()?)
    }
}

/// Read `/proc/<pid>/stat`; `None` when the process does not exist.
pub fn stat(pid: i32) -> Option<ProcStat> {
    ProcReader::default().stat(pid)
}

/// The process's start time, if it exists.
pub fn start_time(pid: i32) -> Option<u64> {
    stat(pid).map(|s| s.start_time)
}

/// True when `pid` exists, is not a zombie, and started at `start_time`:
/// the same process we recorded, not a recycled pid.
pub fn is_same_live_process(pid: i32, start_time: u64) -> bool {
    matches!(stat(pid), Some(s) if s.start_time == start_time && !s.is_zombie())
}

/// `/proc/<pid>/cmdline`, NUL separators turned into spaces.
pub fn cmdline(pid: i32) -> String {
    match fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(bytes) => {
            let trimmed = bytes.strip_suffix(b"\0").unwrap_or(&bytes);
            String::from_utf8_lossy(trimmed).replace('\0', " ")
        }
        Err(_) => String::new(),
    }
}

/// Every numeric entry of `/proc`.
pub fn all_pids() -> io::Result<Vec<i32>> {
    let mut pids = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        if let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        {
            pids.push(pid);
        }
    }
    Ok(pids)
}

/// This process's children (every thread's), from
/// `/proc/self/task/<tid>/children`; `None` where the kernel does not
/// offer that file.
pub fn own_children() -> Option<Vec<i32>> {
    let mut pids = Vec::new();
    for entry in fs::read_dir("/proc/self/task").ok()? {
        let Ok(entry) = entry else { continue };
        let text = match fs::read_to_string(entry.path().join("children")) {
            Ok(t) => t,
            // A thread that ended meanwhile has no children to list.
            Err(e) if e.kind() == io::ErrorKind::NotFound && entry.path().exists() => return None,
            Err(_) => continue,
        };
        pids.extend(
            text.split_ascii_whitespace()
                .filter_map(|p| p.parse::<i32>().ok()),
        );
    }
    Some(pids)
}

/// True when an environ block (NUL-separated `KEY=VALUE`) holds exactly
/// `MARKER_VAR=<value>`.
pub fn environ_has_marker(environ: &[u8], value: &str) -> bool {
    let mut needle = Vec::with_capacity(MARKER_VAR.len() + 1 + value.len());
    needle.extend_from_slice(MARKER_VAR.as_bytes());
    needle.push(b'=');
    needle.extend_from_slice(value.as_bytes());
    environ
        .split(|b| *b == 0)
        .any(|entry| entry == needle.as_slice())
}

/// The value of `MARKER_VAR` in an environ block.
pub fn environ_marker(environ: &[u8]) -> Option<&[u8]> {
    environ.split(|b| *b == 0).find_map(|entry| {
        entry
            .strip_prefix(MARKER_VAR.as_bytes())?
            .strip_prefix(b"=")
    })
}

/// One live process of a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableEntry {
    pub pid: i32,
    pub pgid: i32,
    pub start_time: u64,
    /// Its `MARKER_VAR` value, if it carries one.
    pub marker: Option<Arc<str>>,
}

/// Every live (non-zombie) process, from one pass over `/proc` that
/// started at `started`, indexed by marker and by process group.
#[derive(Debug)]
pub struct Table {
    pub started: Instant,
    pub procs: Vec<TableEntry>,
    by_marker: HashMap<Arc<str>, Vec<usize>>,
    by_pgid: HashMap<i32, Vec<usize>>,
}

impl Table {
    /// One pass over `/proc` (this process excluded).
    pub fn scan() -> Table {
        let started = Instant::now();
        let procs: Vec<TableEntry> = live_processes()
            .into_iter()
            .map(|(pid, st, marker)| TableEntry {
                pid,
                pgid: st.pgid,
                start_time: st.start_time,
                marker,
            })
            .collect();
        let mut by_marker: HashMap<Arc<str>, Vec<usize>> = HashMap::new();
        let mut by_pgid: HashMap<i32, Vec<usize>> = HashMap::new();
        for (i, p) in procs.iter().enumerate() {
            if let Some(m) = &p.marker {
                by_marker.entry(m.clone()).or_default().push(i);
            }
            by_pgid.entry(p.pgid).or_default().push(i);
        }
        Table {
            started,
            procs,
            by_marker,
            by_pgid,
        }
    }

    /// The processes carrying `marker`.
    pub fn marked<'a>(&'a self, marker: &str) -> impl Iterator<Item = &'a TableEntry> + 'a {
        self.by_marker
            .get(marker)
            .into_iter()
            .flatten()
            .map(|&i| &self.procs[i])
    }

    /// The processes in group `pgid`.
    pub fn group(&self, pgid: i32) -> impl Iterator<Item = &TableEntry> + '_ {
        self.by_pgid
            .get(&pgid)
            .into_iter()
            .flatten()
            .map(|&i| &self.procs[i])
    }
}

/// What earlier passes learnt of each process's marker, by pid, for the
/// process that started at the recorded time. A process's environment is
/// fixed when it execs, so a pass reads `/proc/<pid>/environ` (the costly
/// part: it reads the other process's memory) only for processes it has
/// not seen. Not remembered: an unreadable or empty environment (a process
/// in the middle of `exec` shows none), and "no marker" for our own
/// children, which may still be between fork and exec with the marker.
type MarkerCache = HashMap<i32, (u64, Option<Arc<str>>)>;

static MARKERS: Mutex<Option<MarkerCache>> = Mutex::new(None);

/// Every live (non-zombie) process but this one, with its stat line and
/// marker; forgets what it knew of processes that are gone.
fn live_processes() -> Vec<(i32, ProcStat, Option<Arc<str>>)> {
    let me = std::process::id() as i32;
    let pids = all_pids().unwrap_or_default();
    let mut guard = MARKERS.lock().unwrap_or_else(|p| p.into_inner());
    let cache = guard.get_or_insert_with(HashMap::new);
    let mut seen = HashMap::with_capacity(pids.len());
    let mut out = Vec::with_capacity(pids.len());
    let mut reader = ProcReader::default();
    for pid in pids {
        if pid == me {
            continue;
        }
        let Some(st) = reader.stat(pid) else { continue };
        if st.is_zombie() {
            continue;
        }
        let marker = match cache.remove(&pid) {
            Some((start, m)) if start == st.start_time => Some(m),
            _ => None,
        };
        let marker = match marker {
            Some(m) => {
                seen.insert(pid, (st.start_time, m.clone()));
                m
            }
            None => {
                let env = reader.read(pid, "environ").unwrap_or_default();
                let m: Option<Arc<str>> =
                    environ_marker(env).map(|m| String::from_utf8_lossy(m).into());
                if worth_remembering(m.is_some(), env.is_empty(), st.ppid == me) {
                    seen.insert(pid, (st.start_time, m.clone()));
                }
                m
            }
        };
        // Our child's marker is the one it was spawned with, whatever its
        // environment shows now (a program that sets its process title
        // overwrites the block `/proc/<pid>/environ` reads).
        let marker = match marker {
            None if st.ppid == me => {
                let spawned = Reaper::marker_of(pid);
                if spawned.is_some() {
                    seen.insert(pid, (st.start_time, spawned.clone()));
                }
                spawned
            }
            m => m,
        };
        out.push((pid, st, marker));
    }
    inherit_markers(&mut out, &mut seen);
    *cache = seen;
    out
}

/// How many parents up a process without a marker looks for one.
const INHERIT_DEPTH: usize = 32;

/// A process showing no marker belongs to the tree of its nearest marked
/// ancestor in the same pass: it was forked inside that tree, and only its
/// environment lost the marker (a process title written over it, an
/// `env -i`). Remembered, so it stays the tree's once re-parented to us.
fn inherit_markers(procs: &mut [(i32, ProcStat, Option<Arc<str>>)], seen: &mut MarkerCache) {
    let index: HashMap<i32, usize> = procs
        .iter()
        .enumerate()
        .map(|(i, (pid, _, _))| (*pid, i))
        .collect();
    for i in 0..procs.len() {
        if procs[i].2.is_some() {
            continue;
        }
        let mut parent = procs[i].1.ppid;
        let mut found = None;
        for _ in 0..INHERIT_DEPTH {
            let Some(&j) = index.get(&parent) else { break };
            if let Some(m) = &procs[j].2 {
                found = Some(m.clone());
                break;
            }
            parent = procs[j].1.ppid;
        }
        if let Some(m) = found {
            seen.insert(procs[i].0, (procs[i].1.start_time, Some(m.clone())));
            procs[i].2 = Some(m);
        }
    }
}

/// Remember that the process `pid`, started at `start_time`, belongs to
/// the tree `marker` (a daemon's forked main process, attributed by its
/// pid file and lineage when its environment no longer shows the marker):
/// later passes count it and the processes it forks.
pub fn remember_marker(pid: i32, start_time: u64, marker: &str) {
    let mut guard = MARKERS.lock().unwrap_or_else(|p| p.into_inner());
    guard
        .get_or_insert_with(HashMap::new)
        .insert(pid, (start_time, Some(marker.into())));
}

/// The marker an earlier pass established for `pid` started at
/// `start_time`, if any (no `/proc` read).
pub fn remembered_marker(pid: i32, start_time: u64) -> Option<Arc<str>> {
    let guard = MARKERS.lock().unwrap_or_else(|p| p.into_inner());
    match guard.as_ref()?.get(&pid)? {
        (start, Some(m)) if *start == start_time => Some(m.clone()),
        _ => None,
    }
}

/// Whether a marker read from `/proc/<pid>/environ` may be remembered for
/// the process's lifetime: a marker always (it only changes by an exec
/// dropping it, and then the process was the unit's anyway); "none" only
/// from a non-empty environment (not in the middle of an exec) of a
/// process that is not our child (ours may not have exec'd yet).
fn worth_remembering(marked: bool, empty_env: bool, our_child: bool) -> bool {
    marked || (!empty_env && !our_child)
}

static LATEST_TABLE: Mutex<Option<Arc<Table>>> = Mutex::new(None);
/// Held while a pass runs: a caller that needs a new table while another
/// caller's pass is under way waits for it and takes it if it qualifies.
static SCANNING: Mutex<()> = Mutex::new(());

/// A process table whose pass started strictly after `after`: the latest
/// one when it qualifies (shared by every concurrent caller), else a new
/// pass, which then becomes the latest.
pub fn table_after(after: Instant) -> Arc<Table> {
    let latest = || LATEST_TABLE.lock().unwrap_or_else(|p| p.into_inner());
    let qualifying = || latest().as_ref().filter(|t| t.started > after).cloned();
    if let Some(t) = qualifying() {
        return t;
    }
    let _scanning = SCANNING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(t) = qualifying() {
        return t;
    }
    let fresh = Arc::new(Table::scan());
    let mut slot = latest();
    if slot.as_ref().is_none_or(|t| t.started < fresh.started) {
        *slot = Some(fresh.clone());
    }
    fresh
}

/// True when `/proc/<pid>/environ` reads as a non-empty block (not in the
/// middle of an exec).
pub fn environ_readable(pid: i32) -> bool {
    fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| !env.is_empty())
}

/// Every live (non-zombie) process of the tree `marker_value`: whose
/// environment carries `DEVCTL_INVOCATION_ID=<marker_value>`, that was
/// spawned with it, or that descends from such a process (see
/// [`inherit_markers`]). Unreadable entries are skipped.
pub fn find_marked(marker_value: &str) -> Vec<ProcInfo> {
    live_processes()
        .into_iter()
        .filter(|(_, _, m)| m.as_deref() == Some(marker_value))
        .map(|(pid, st, _)| ProcInfo {
            pid,
            ppid: st.ppid,
            pgid: st.pgid,
            start_time: st.start_time,
            cmdline: cmdline(pid),
        })
        .collect()
}

/// Where a process stands with respect to one run's tree, from its own
/// and its ancestors' `/proc` entries (no pass over every process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lineage {
    /// One of the run's roots, in a root's process group, or below a
    /// process of the tree (by marker, spawn record or lineage).
    Ours,
    /// Not alive (exited, zombie): cannot be checked.
    Gone,
    /// Alive, and nothing ties it to the tree yet.
    Unknown,
}

/// How many parents up [`lineage`] looks.
const LINEAGE_DEPTH: usize = 64;

/// Whether the live process `pid` belongs to the tree `marker` whose
/// known roots (the pids the daemon spawned for it, group leaders, and
/// main pids it was told of) are `roots`: it or an ancestor is a root,
/// in a root's group, spawned with the marker, remembered with it or
/// still showing it. Reads a few `/proc` files per ancestor, so it can
/// run for every sd_notify datagram however many processes exist.
pub fn lineage(pid: i32, marker: &str, roots: &[i32]) -> Lineage {
    let me = std::process::id() as i32;
    let mut reader = ProcReader::default();
    let mut cur = pid;
    for depth in 0..LINEAGE_DEPTH {
        let Some(st) = reader.stat(cur).filter(|s| !s.is_zombie()) else {
            return if depth == 0 {
                Lineage::Gone
            } else {
                Lineage::Unknown
            };
        };
        let ours = roots.contains(&cur)
            || roots.contains(&st.pgid)
            || remembered_marker(cur, st.start_time).is_some_and(|m| &*m == marker)
            || (st.ppid == me && Reaper::marker_of(cur).is_some_and(|m| &*m == marker))
            || reader
                .read(cur, "environ")
                .is_some_and(|env| environ_has_marker(env, marker));
        if ours {
            return Lineage::Ours;
        }
        if st.ppid <= 1 || st.ppid == me {
            return Lineage::Unknown;
        }
        cur = st.ppid;
    }
    Lineage::Unknown
}

/// Whether the live process `pid`, named by a daemon's pid file, is the
/// daemon the run's start command (spawned as `roots`, started at clock
/// tick `spawned_at`) forked: of its lineage ([`lineage`]) or in a fresh
/// table as the run's; or an orphan re-parented to us (the daemon is a
/// subreaper, so a double fork's survivor lands here) that we did not
/// spawn, started no earlier than the start command and showing no other
/// run's marker. A stale file naming a recycled pid names none of these.
pub fn forked_for(pid: i32, marker: &str, roots: &[i32], spawned_at: u64) -> bool {
    match lineage(pid, marker, roots) {
        Lineage::Ours => return true,
        Lineage::Gone => return false,
        Lineage::Unknown => {}
    }
    let me = std::process::id() as i32;
    let mut reader = ProcReader::default();
    let Some(st) = reader.stat(pid) else {
        return false;
    };
    let orphan = st.ppid == me
        && Reaper::marker_of(pid).is_none()
        && st.start_time >= spawned_at
        && reader
            .read(pid, "environ")
            .is_some_and(|env| environ_marker(env).is_none_or(|m| m == marker.as_bytes()));
    orphan
        || table_after(Instant::now())
            .marked(marker)
            .any(|p| p.pid == pid)
}

/// A fresh, process-unique invocation id: 32 hex digits from the clock,
/// the pid, a counter and the kernel's random source.
pub fn invocation_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = fs::read("/proc/sys/kernel/random/uuid")
        .ok()
        .map(|b| {
            b.iter()
                .filter(|c| c.is_ascii_hexdigit())
                .take(16)
                .fold(0u64, |acc, c| {
                    (acc << 4) | u64::from((*c as char).to_digit(16).unwrap_or(0))
                })
        })
        .unwrap_or(0);
    let high = nanos ^ random.rotate_left(17);
    let low = (u64::from(std::process::id()) << 40) ^ count ^ random;
    format!("{high:016x}{low:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn marker_value_from_environ() {
        let env = format!("A=1\0{MARKER_VAR}=abc\0B=2\0");
        assert_eq!(environ_marker(env.as_bytes()), Some(&b"abc"[..]));
        assert_eq!(environ_marker(b"A=1\0"), None);
    }

    #[test]
    fn tables_are_shared_only_when_new_enough() {
        let before = Instant::now();
        // Two reads of a coarse monotonic clock can be equal; make the next
        // scan's start strictly later than `before`, as it is in the daemon.
        std::thread::sleep(std::time::Duration::from_millis(2));
        let t1 = table_after(before);
        assert!(t1.started > before);
        assert!(t1.procs.iter().all(|p| p.pid != std::process::id() as i32));
        // A table that started after `before` is reused...
        assert!(Arc::ptr_eq(&t1, &table_after(before)));
        // ...one that did not is replaced by a new pass.
        let t2 = table_after(t1.started);
        assert!(t2.started > t1.started);
    }

    #[test]
    fn only_settled_markers_are_remembered() {
        assert!(worth_remembering(true, false, true));
        assert!(worth_remembering(false, false, false));
        assert!(
            !worth_remembering(false, true, false),
            "mid-exec: ask again"
        );
        assert!(
            !worth_remembering(false, false, true),
            "our child may still be between fork and exec"
        );
    }

    #[test]
    fn tables_index_processes_by_marker_and_group() {
        let marker = invocation_id();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .env(MARKER_VAR, &marker)
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        // Until the exec, the child shows our environment (no marker), as
        // `spawn` knows: wait for it the same way.
        let visible = Instant::now() + std::time::Duration::from_secs(5);
        let has_marker = |pid: i32, value: &str| {
            fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| environ_has_marker(&env, value))
        };
        while !has_marker(pid, &marker) && Instant::now() < visible {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        // Twice: the second pass answers from what the first remembered.
        for _ in 0..2 {
            let t = table_after(Instant::now());
            let marked: Vec<i32> = t.marked(&marker).map(|p| p.pid).collect();
            assert_eq!(marked, vec![pid]);
            let group: Vec<i32> = t.group(pid).map(|p| p.pid).collect();
            assert_eq!(group, vec![pid]);
            assert_eq!(t.marked("no-such-marker").count(), 0);
            assert_eq!(find_marked(&marker).len(), 1);
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let t = table_after(Instant::now());
        assert_eq!(t.marked(&marker).count(), 0, "gone once reaped");
    }

    #[test]
    fn parses_stat_with_odd_comm() {
        let line = "1234 (we ird) (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 100";
        let st = parse_stat(line).unwrap();
        assert_eq!(st.state, 'S');
        assert_eq!(st.ppid, 1);
        assert_eq!(st.pgid, 1234);
        assert_eq!(st.sid, 1234);
        assert_eq!(st.start_time, 98765);
        assert!(!st.is_zombie());
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1"), None);
    }

    #[test]
    fn reads_own_stat_and_cmdline() {
        let me = std::process::id() as i32;
        let st = stat(me).unwrap();
        assert!(st.start_time > 0);
        assert_eq!(start_time(me), Some(st.start_time));
        assert!(is_same_live_process(me, st.start_time));
        assert!(!is_same_live_process(me, st.start_time + 1));
        assert!(!cmdline(me).is_empty());
        assert_eq!(stat(i32::MAX), None);
        assert_eq!(cmdline(i32::MAX), "");
    }

    #[test]
    fn marker_matching_is_exact() {
        let env = b"A=1\0DEVCTL_INVOCATION_ID=abc\0B=2\0";
        assert!(environ_has_marker(env, "abc"));
        assert!(!environ_has_marker(env, "ab"));
        assert!(!environ_has_marker(env, "abcd"));
        assert!(!environ_has_marker(b"XDEVCTL_INVOCATION_ID=abc\0", "abc"));
    }

    #[test]
    fn invocation_ids_are_unique() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| invocation_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(
            ids.iter()
                .all(|id| id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()))
        );
        assert!(find_marked(&invocation_id()).is_empty());
    }
}
