//! Atomic file and directory replacement behind a [`FileWriter`] trait, so
//! that tests can inject write errors (e.g. `ENOSPC`) and prove the previous
//! file stays intact.
//!
//! A file is written as: temp file in the same directory → write → fsync →
//! rename over the target → fsync of the directory. A directory of files is
//! written completely into a temp directory first, then swapped in with two
//! renames; a leftover `.old`/`.tmp` from an interrupted swap is cleaned up
//! by the next write.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Writes state files so that a reader sees either the old or the new
/// content, never a mix.
pub trait FileWriter: Send + Sync + std::fmt::Debug {
    /// Replace `path` with `bytes` atomically, durably (on disk when this
    /// returns).
    fn write_file(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Replace `path` with `bytes` atomically without waiting for the disk:
    /// every reader (a restarted daemon included) sees the old or the new
    /// content; only a machine crash can lose the change.
    fn write_file_unsynced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.write_file(path, bytes)
    }
    /// Replace the directory `dir` by one holding exactly `files`.
    fn replace_dir(&self, dir: &Path, files: &[(String, Vec<u8>)]) -> io::Result<()>;
}

/// The real filesystem.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// fsync a directory so that a rename inside it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn write_new_file(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    if sync { f.sync_all() } else { Ok(()) }
}

/// Temp file, write (and fsync), rename over `path` (and fsync the
/// directory).
fn replace_file(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    fs::create_dir_all(dir)?;
    let tmp = sibling(path, &format!(".tmp-{}", std::process::id()));
    if let Err(e) = write_new_file(&tmp, bytes, sync) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    if sync { sync_dir(dir) } else { Ok(()) }
}

impl FileWriter for RealFs {
    fn write_file(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        replace_file(path, bytes, true)
    }

    fn write_file_unsynced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        replace_file(path, bytes, false)
    }

    fn replace_dir(&self, dir: &Path, files: &[(String, Vec<u8>)]) -> io::Result<()> {
        let parent = dir
            .parent()
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        fs::create_dir_all(parent)?;
        let tmp = sibling(dir, ".tmp");
        let old = sibling(dir, ".old");
        let _ = fs::remove_dir_all(&tmp);
        let _ = fs::remove_dir_all(&old);
        let fill = || -> io::Result<()> {
            fs::create_dir(&tmp)?;
            for (name, bytes) in files {
                write_new_file(&tmp.join(name), bytes, true)?;
            }
            sync_dir(&tmp)
        };
        if let Err(e) = fill() {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        let had_old = match fs::rename(dir, &old) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        if let Err(e) = fs::rename(&tmp, dir) {
            if had_old {
                let _ = fs::rename(&old, dir);
            }
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        sync_dir(parent)?;
        if had_old {
            let _ = fs::remove_dir_all(&old);
        }
        Ok(())
    }
}

/// Finish a directory swap that a crash interrupted: if `dir` is missing
/// but `dir.old` exists, the old set is put back; temp leftovers go.
pub fn recover_dir(dir: &Path) {
    let old = sibling(dir, ".old");
    if !dir.exists() && old.exists() {
        let _ = fs::rename(&old, dir);
    }
    let _ = fs::remove_dir_all(sibling(dir, ".tmp"));
    let _ = fs::remove_dir_all(old);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in `dir`.
    fn names(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    }

    #[test]
    fn an_unsynced_write_replaces_too_and_leaves_no_temp() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("s/session.json");
        RealFs.write_file_unsynced(&p, b"one").unwrap();
        RealFs.write_file_unsynced(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(names(p.parent().unwrap()), ["session.json"]);
        // A write that cannot land leaves the old content and no temp.
        let dir = tmp.path().join("s/as-dir");
        fs::create_dir_all(dir.join("x")).unwrap();
        assert!(RealFs.write_file_unsynced(&dir, b"three").is_err());
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let left = names(p.parent().unwrap());
        assert!(left.iter().all(|n| !n.contains(".tmp")), "{left:?}");
    }

    #[test]
    fn write_file_replaces_and_leaves_no_temp() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("a/b.json");
        RealFs.write_file(&p, b"one").unwrap();
        RealFs.write_file(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let left = names(p.parent().unwrap());
        assert_eq!(left.len(), 1, "{left:?}");
    }

    #[test]
    fn write_file_error_keeps_old_file() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("x.json");
        RealFs.write_file(&p, b"old").unwrap();
        // A directory where the temp file should go makes the write fail.
        fs::create_dir(sibling(&p, &format!(".tmp-{}", std::process::id()))).unwrap();
        assert!(RealFs.write_file(&p, b"new").is_err());
        assert_eq!(fs::read(&p).unwrap(), b"old");
    }

    #[test]
    fn replace_dir_swaps_whole_sets() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("units");
        RealFs
            .replace_dir(
                &d,
                &[
                    ("a.service".into(), b"A".to_vec()),
                    ("b.service".into(), b"B".to_vec()),
                ],
            )
            .unwrap();
        RealFs
            .replace_dir(&d, &[("c.service".into(), b"C".to_vec())])
            .unwrap();
        let mut names: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["c.service"]);
        assert!(!sibling(&d, ".old").exists() && !sibling(&d, ".tmp").exists());
    }

    #[test]
    fn replace_dir_error_keeps_old_set() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("units");
        RealFs
            .replace_dir(&d, &[("a.service".into(), b"A".to_vec())])
            .unwrap();
        // A file name with a slash into a missing directory fails mid-fill.
        let err = RealFs
            .replace_dir(&d, &[("no/such".into(), b"X".to_vec())])
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(fs::read(d.join("a.service")).unwrap(), b"A");
        assert!(!sibling(&d, ".tmp").exists());
    }

    #[test]
    fn recover_dir_restores_interrupted_swap() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("units");
        let old = sibling(&d, ".old");
        fs::create_dir(&old).unwrap();
        fs::write(old.join("a.service"), b"A").unwrap();
        fs::create_dir(sibling(&d, ".tmp")).unwrap();
        recover_dir(&d);
        assert_eq!(fs::read(d.join("a.service")).unwrap(), b"A");
        assert!(!sibling(&d, ".tmp").exists());
    }
}
