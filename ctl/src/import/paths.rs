//! Relative paths of the source file (working directories, env files,
//! build contexts, bind mounts) are relative to the source's directory;
//! devctl resolves them against the manifest's. [`Rebase`] rewrites them
//! when the two differ, lexically (nothing is looked up on disk).

use std::path::{Component, Path, PathBuf};

/// From the source file's directory to the manifest's.
#[derive(Debug, Clone)]
pub struct Rebase {
    source_dir: PathBuf,
    manifest_dir: PathBuf,
}

/// `.` and `..` folded, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `to` relative to `from` (both absolute and normalized).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let (f, t): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    out
}

impl Rebase {
    /// Both directories absolute.
    pub fn new(source_dir: &Path, manifest_dir: &Path) -> Rebase {
        Rebase {
            source_dir: normalize(source_dir),
            manifest_dir: normalize(manifest_dir),
        }
    }

    /// Whether paths need rewriting at all.
    pub fn same_dir(&self) -> bool {
        self.source_dir == self.manifest_dir
    }

    /// The source directory as seen from the manifest's (`None` if the same).
    pub fn source_dir(&self) -> Option<String> {
        (!self.same_dir()).then(|| {
            let r = relative(&self.manifest_dir, &self.source_dir);
            if r.as_os_str().is_empty() {
                ".".into()
            } else {
                r.display().to_string()
            }
        })
    }

    /// A path of the source file, as the manifest must say it.
    pub fn path(&self, p: &str) -> String {
        if p.starts_with('/') || self.same_dir() {
            return p.to_owned();
        }
        let abs = normalize(&self.source_dir.join(p));
        let r = relative(&self.manifest_dir, &abs);
        if r.as_os_str().is_empty() {
            ".".into()
        } else {
            r.display().to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_manifest() {
        let same = Rebase::new(Path::new("/p"), Path::new("/p/."));
        assert!(same.same_dir());
        assert_eq!(same.path("./data"), "./data");
        let down = Rebase::new(Path::new("/p/deploy"), Path::new("/p"));
        assert_eq!(down.path("./data"), "deploy/data");
        assert_eq!(down.path("../web"), "web");
        assert_eq!(down.path("."), "deploy");
        assert_eq!(down.path("/abs"), "/abs");
        assert_eq!(down.source_dir().as_deref(), Some("deploy"));
        let up = Rebase::new(Path::new("/p"), Path::new("/p/out"));
        assert_eq!(up.path("src"), "../src");
        assert_eq!(up.path("."), "..");
    }
}
