//! Optional cgroup v2 containment. When the daemon runs in a delegated,
//! writable cgroup v2 subtree (systemd `Delegate=yes`), each invocation gets
//! a child cgroup: membership cannot be escaped by `setsid` or by clearing
//! the environment, `cgroup.kill` kills the whole tree at once, and
//! `cgroup.events` says when it is empty. Without one (cgroup v1 or hybrid
//! hosts, or the daemon in the hierarchy's root) nothing here is used and
//! the invocation marker does the job.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use nix::unistd::{AccessFlags, access};

/// The delegated cgroup under which invocation cgroups are created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupParent {
    path: PathBuf,
}

/// The cgroup v2 mount point in a `/proc/self/mountinfo` text.
pub fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let fstype = right.split_whitespace().next()?;
        let mount_point = left.split_whitespace().nth(4)?;
        (fstype == "cgroup2").then(|| PathBuf::from(mount_point))
    })
}

/// Our cgroup v2 path (the `0::` line) in a `/proc/self/cgroup` text.
pub fn own_cgroup_path(proc_cgroup: &str) -> Option<String> {
    proc_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_string)
}

impl CgroupParent {
    /// Detect a usable delegated subtree: a cgroup2 mount, our own cgroup
    /// below its root (the root of a hierarchy is never ours to carve), and
    /// write access to it with `cgroup.kill` support.
    pub fn detect() -> Option<CgroupParent> {
        let mount = cgroup2_mount(&fs::read_to_string("/proc/self/mountinfo").ok()?)?;
        let own = own_cgroup_path(&fs::read_to_string("/proc/self/cgroup").ok()?)?;
        let rel = own.trim_start_matches('/');
        if rel.is_empty() {
            return None;
        }
        CgroupParent::at(mount.join(rel))
    }

    /// Use `path` as the parent if it is a writable cgroup v2 directory
    /// whose children support `cgroup.kill`.
    pub fn at(path: PathBuf) -> Option<CgroupParent> {
        let usable = path.join("cgroup.procs").is_file()
            && path.join("cgroup.kill").is_file()
            && access(&path, AccessFlags::W_OK).is_ok()
            && access(&path.join("cgroup.procs"), AccessFlags::W_OK).is_ok();
        usable.then_some(CgroupParent { path })
    }

    /// The parent directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Create the child cgroup for one invocation.
    pub fn create(&self, invocation_id: &str) -> io::Result<InvocationCgroup> {
        let path = self.path.join(format!("devctl-{invocation_id}"));
        match fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        Ok(InvocationCgroup { path })
    }
}

/// One invocation's cgroup; removed (if empty) on drop.
#[derive(Debug)]
pub struct InvocationCgroup {
    path: PathBuf,
}

impl InvocationCgroup {
    /// The cgroup directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Move `pid` into this cgroup.
    pub fn add(&self, pid: i32) -> io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .open(self.path.join("cgroup.procs"))?;
        f.write_all(pid.to_string().as_bytes())
    }

    /// Pids currently in the cgroup.
    pub fn procs(&self) -> Vec<i32> {
        fs::read_to_string(self.path.join("cgroup.procs"))
            .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    /// `cgroup.events` says `populated 1`. A missing cgroup is empty.
    pub fn populated(&self) -> bool {
        fs::read_to_string(self.path.join("cgroup.events"))
            .map(|s| parse_populated(&s))
            .unwrap_or(false)
    }

    /// SIGKILL every process in the cgroup (`cgroup.kill`).
    pub fn kill(&self) -> io::Result<()> {
        fs::write(self.path.join("cgroup.kill"), b"1")
    }

    /// Remove the (empty) cgroup directory.
    pub fn remove(&self) -> io::Result<()> {
        match fs::remove_dir(&self.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

impl Drop for InvocationCgroup {
    fn drop(&mut self) {
        if let Err(e) = self.remove() {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove invocation cgroup");
        }
    }
}

/// `populated 1` in a `cgroup.events` text.
pub fn parse_populated(events: &str) -> bool {
    events.lines().any(|l| l.trim() == "populated 1")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
25 30 0:22 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
27 25 0:24 / /sys/fs/cgroup/cpu rw shared:11 - cgroup cgroup rw,cpu";

    #[test]
    fn parses_mountinfo_and_proc_cgroup() {
        assert_eq!(
            cgroup2_mount(MOUNTINFO),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        assert_eq!(cgroup2_mount("27 25 0:24 / /x rw - cgroup cgroup rw"), None);
        let pc = "4:memory:/a\n0::/user.slice/user-1000.slice/user@1000.service/app.slice/devctld.service\n";
        assert_eq!(
            own_cgroup_path(pc).as_deref(),
            Some("/user.slice/user-1000.slice/user@1000.service/app.slice/devctld.service")
        );
        assert_eq!(own_cgroup_path("4:memory:/a\n"), None);
        assert!(parse_populated("populated 1\nfrozen 0\n"));
        assert!(!parse_populated("populated 0\nfrozen 0\n"));
    }

    #[test]
    fn detection_agrees_with_the_host() {
        // Recompute independently: usable only below the root of a cgroup2 mount.
        let mount = cgroup2_mount(&fs::read_to_string("/proc/self/mountinfo").unwrap());
        let own = own_cgroup_path(&fs::read_to_string("/proc/self/cgroup").unwrap());
        let detected = CgroupParent::detect();
        match (mount, own.as_deref()) {
            (Some(_), Some(own)) if own != "/" => {
                if let Some(p) = &detected {
                    assert!(p.path().ends_with(own.trim_start_matches('/')));
                }
            }
            _ => assert_eq!(detected, None, "no delegated cgroup v2 subtree here"),
        }
        // A directory that is not a cgroup is refused.
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(CgroupParent::at(tmp.path().to_path_buf()), None);
    }
}
