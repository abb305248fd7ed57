//! A build's declared inputs, fingerprinted: the files its `watch` globs
//! match (walked like the watcher walks them, ignored directories
//! skipped), its env files, its command, directory and environment. Cheap
//! on purpose: each file is stat'ed, and only one whose size, mtime or
//! inode differs from the previous fingerprint is read and hashed again.
//! A build without `watch` globs has no declared inputs and no
//! fingerprint: it always runs.
//!
//! What does not change between checks is prepared once and may be kept
//! by the caller: a definition's compiled globs and the digest of its
//! declared settings ([`Declared`]), and the project's ignore list
//! ([`Ignores`], kept while its files' stats stay the same).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use devctl_units::Unit;

use crate::state::fingerprints::{FileStamp, Inputs};
use crate::watch::filter::{ProjectIgnore, UnitFilter};
use crate::watch::tree::{walk_stat, watch_roots};
use crate::watch::vouch::Coverage;

/// The fingerprint of `unit`'s inputs now, reusing the hashes of
/// `previous` for files whose stat did not change. `None` when the unit
/// declares no inputs (or its globs do not compile).
pub fn fingerprint(
    unit: &Unit,
    ignore_dirs: &[PathBuf],
    previous: Option<&Inputs>,
) -> Option<Inputs> {
    let declared = Declared::new(unit)?;
    let ignores = Ignores::load(&unit.root, ignore_dirs);
    Some(declared.fingerprint(&ignores, previous))
}

/// What a build declares, prepared for checks: its globs compiled, the
/// paths of its env files, and the digest state after its command,
/// directory, environment, env files and globs.
#[derive(Debug, Clone)]
pub struct Declared {
    filter: UnitFilter,
    root: PathBuf,
    env_files: Vec<PathBuf>,
    head: Sha256,
}

impl Declared {
    /// `None` when the unit declares no inputs (or its globs do not compile).
    pub fn new(unit: &Unit) -> Option<Declared> {
        if unit.watch.is_empty() {
            return None;
        }
        let filter = UnitFilter::new(unit.name.as_str(), &unit.watch).ok()?;
        let declared = serde_json::json!({
            "command": unit.command,
            "dir": unit.working_dir(),
            "env": unit.env,
            "env_files": unit.env_files,
            "watch": unit.watch,
        });
        let mut head = Sha256::new();
        head.update(declared.to_string().as_bytes());
        Some(Declared {
            filter,
            root: unit.root.clone(),
            env_files: unit.env_files.iter().map(|f| f.path.clone()).collect(),
            head,
        })
    }

    /// The root its globs are relative to (its ignore list is that root's).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The inputs now, reusing the hashes of `previous` for files whose
    /// stat did not change.
    pub fn fingerprint(&self, ignores: &Ignores, previous: Option<&Inputs>) -> Inputs {
        self.fingerprint_covered(ignores, previous).0
    }

    /// [`Declared::fingerprint`], and the places it read (for a file
    /// watch to vouch that they stay the same).
    pub fn fingerprint_covered(
        &self,
        ignores: &Ignores,
        previous: Option<&Inputs>,
    ) -> (Inputs, Coverage) {
        let (filter, root) = (&self.filter, &self.root);
        let mut cov = Coverage::default();
        // Key, path, and the metadata when the walk read it already.
        let mut paths: Vec<(String, PathBuf, Option<fs::Metadata>)> = Vec::new();
        for dir in watch_roots(root, filter.prefixes()) {
            let w = walk_stat(&dir, root, &ignores.ignore);
            cov.dirs.extend(w.dirs);
            cov.links.extend(w.links.iter().cloned());
            let files = w.files.into_iter().zip(w.metas.into_iter().map(Some));
            // Links are stat'ed through: their targets are the inputs.
            for (f, meta) in files.chain(w.links.into_iter().map(|l| (l, None))) {
                if let Ok(rel) = f.strip_prefix(root)
                    && filter.matches(rel)
                {
                    paths.push((rel.to_string_lossy().into_owned(), f, meta));
                }
            }
        }
        // A glob naming one file directly (`Cargo.toml`) whose prefix is the file itself.
        for p in filter.prefixes() {
            let f = root.join(p);
            if f.is_file() && filter.matches(p) {
                cov.files.push(f.clone());
                paths.push((p.to_string_lossy().into_owned(), f, None));
            }
        }
        for ef in &self.env_files {
            cov.files.push(root.join(ef));
            paths.push((ef.to_string_lossy().into_owned(), ef.clone(), None));
        }
        paths.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        paths.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        let mut files = BTreeMap::new();
        for (key, path, meta) in paths {
            let old = previous.and_then(|p| p.files.get(&key));
            if let Some(stamp) = stamp(&path, meta, old) {
                files.insert(key, stamp);
            }
        }
        let mut h = self.head.clone();
        for (k, s) in &files {
            h.update(k.as_bytes());
            h.update([0]);
            h.update(s.sha256.as_bytes());
            h.update([0]);
        }
        let inputs = Inputs {
            digest: hex(&h.finalize()),
            files,
        };
        (inputs, cov)
    }
}

/// A root's ignore list (see [`ProjectIgnore`]) and the stats of the
/// files it was read from.
#[derive(Debug)]
pub struct Ignores {
    ignore: ProjectIgnore,
    stamps: Vec<Option<Stat>>,
    /// When it was read: stats are trusted only for files already older
    /// than a second then (an edit in the same mtime tick looks unchanged).
    read_ns: i128,
}

type Stat = (u64, i128, u64);

fn stat_of(path: &Path) -> Option<Stat> {
    let m = fs::metadata(path).ok()?;
    Some((m.len(), mtime_ns(&m), m.ino()))
}

fn mtime_ns(m: &fs::Metadata) -> i128 {
    i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec())
}

impl Ignores {
    /// Read `root`'s ignore files (see [`ProjectIgnore::load`]).
    pub fn load(root: &Path, extra_dirs: &[PathBuf]) -> Ignores {
        let read_ns = jiff::Timestamp::now().as_nanosecond();
        let stamps = ProjectIgnore::files(root)
            .iter()
            .map(|f| stat_of(f))
            .collect();
        Ignores {
            ignore: ProjectIgnore::load(root, extra_dirs),
            stamps,
            read_ns,
        }
    }

    /// Whether `root`'s ignore files are still as read (same stats, and
    /// settled when read), so this list can be used again.
    pub fn still_current(&self, root: &Path) -> bool {
        let now: Vec<Option<Stat>> = ProjectIgnore::files(root)
            .iter()
            .map(|f| stat_of(f))
            .collect();
        now == self.stamps
            && self
                .stamps
                .iter()
                .flatten()
                .all(|(_, mtime, _)| mtime + RACY_NS < self.read_ns)
    }
}

/// A file modified less than this before it was hashed may change again
/// within the same mtime tick: its stat is not trusted next time.
const RACY_NS: i128 = 1_000_000_000;

/// Stat `path` (unless `meta` is its stat already); hash it unless `old`
/// has the same size, mtime and inode and was already settled when
/// hashed. `None` for a file that vanished or cannot be read (it then
/// counts as absent, which changes the digest).
fn stamp(path: &Path, meta: Option<fs::Metadata>, old: Option<&FileStamp>) -> Option<FileStamp> {
    let meta = match meta {
        Some(m) => m,
        None => fs::metadata(path).ok()?,
    };
    let mtime_ns = mtime_ns(&meta);
    if let Some(o) = old
        && o.size == meta.len()
        && o.mtime_ns == mtime_ns
        && o.ino == meta.ino()
        && o.mtime_ns + RACY_NS < o.hashed_ns
    {
        return Some(o.clone());
    }
    let hashed_ns = jiff::Timestamp::now().as_nanosecond();
    Some(FileStamp {
        size: meta.len(),
        mtime_ns,
        ino: meta.ino(),
        sha256: hash_file(path).ok()?,
        hashed_ns,
    })
}

fn hash_file(path: &Path) -> io::Result<String> {
    let mut f = fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::{Command, ProjectName, UnitKind, UnitName};

    fn build(root: &Path, globs: &[&str]) -> Unit {
        let mut u = Unit::new(
            ProjectName::new("p").unwrap(),
            UnitName::new("b").unwrap(),
            UnitKind::Build,
            root.to_path_buf(),
        );
        u.command = Some(Command::Argv(vec!["make".into()]));
        u.watch.paths = globs.iter().map(|g| g.to_string()).collect();
        u
    }

    #[test]
    fn no_declared_inputs_no_fingerprint() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(fingerprint(&build(d.path(), &[]), &[], None), None);
    }

    #[test]
    fn content_command_and_environment_change_the_digest() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("src")).unwrap();
        fs::write(d.path().join("src/a.rs"), "fn a() {}").unwrap();
        fs::write(d.path().join("Cargo.toml"), "[package]").unwrap();
        fs::write(d.path().join("README"), "not an input").unwrap();
        let u = build(d.path(), &["src/**/*.rs", "Cargo.toml"]);
        let first = fingerprint(&u, &[], None).unwrap();
        assert_eq!(
            first.files.keys().collect::<Vec<_>>(),
            ["Cargo.toml", "src/a.rs"]
        );
        // Nothing changed: same digest.
        assert_eq!(
            fingerprint(&u, &[], Some(&first)).unwrap().digest,
            first.digest
        );
        // A file outside the globs does not count.
        fs::write(d.path().join("README"), "still not").unwrap();
        assert_eq!(
            fingerprint(&u, &[], Some(&first)).unwrap().digest,
            first.digest
        );
        // The content does.
        fs::write(d.path().join("src/a.rs"), "fn b() {}").unwrap();
        let second = fingerprint(&u, &[], Some(&first)).unwrap();
        assert_ne!(second.digest, first.digest);
        // A new matching file does.
        fs::write(d.path().join("src/new.rs"), "").unwrap();
        assert_ne!(
            fingerprint(&u, &[], Some(&second)).unwrap().digest,
            second.digest
        );
        // So do the command and the environment.
        let mut v = u.clone();
        v.env.push(("MODE".into(), "release".into()));
        assert_ne!(
            fingerprint(&v, &[], None).unwrap().digest,
            fingerprint(&u, &[], None).unwrap().digest
        );
        let mut w = u.clone();
        w.command = Some(Command::Argv(vec!["make".into(), "all".into()]));
        assert_ne!(
            fingerprint(&w, &[], None).unwrap().digest,
            fingerprint(&u, &[], None).unwrap().digest
        );
    }

    #[test]
    fn an_unchanged_stat_is_not_read_again() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("in.txt");
        fs::write(&path, "one").unwrap();
        let u = build(d.path(), &["*.txt"]);
        // Just written: hashed, and hashed again next time (racy stat).
        let mut first = fingerprint(&u, &[], None).unwrap();
        first.files.get_mut("in.txt").unwrap().sha256 = "remembered".into();
        let again = fingerprint(&u, &[], Some(&first)).unwrap();
        assert_ne!(again.files["in.txt"].sha256, "remembered");
        // Settled long before it was hashed: a stamp claiming another hash
        // for the same stat is trusted, so the file was not read again.
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
        let mut settled = fingerprint(&u, &[], None).unwrap();
        settled.files.get_mut("in.txt").unwrap().sha256 = "remembered".into();
        let again = fingerprint(&u, &[], Some(&settled)).unwrap();
        assert_eq!(again.files["in.txt"].sha256, "remembered");
        // Any change of the stat is read again.
        fs::write(&path, "two").unwrap();
        let changed = fingerprint(&u, &[], Some(&settled)).unwrap();
        assert_ne!(changed.files["in.txt"].sha256, "remembered");
    }

    #[test]
    fn an_ignore_list_is_reused_only_while_its_files_are_unchanged_and_settled() {
        let d = tempfile::tempdir().unwrap();
        let gi = d.path().join(".gitignore");
        fs::write(&gi, "gen/\n").unwrap();
        // Just written: not trusted yet.
        assert!(!Ignores::load(d.path(), &[]).still_current(d.path()));
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let settle = |p: &Path| {
            fs::File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(hour_ago)
                .unwrap()
        };
        settle(&gi);
        let ig = Ignores::load(d.path(), &[]);
        assert!(ig.still_current(d.path()));
        // Edited: stale.
        fs::write(&gi, "out/\n").unwrap();
        assert!(!ig.still_current(d.path()));
        settle(&gi);
        let ig = Ignores::load(d.path(), &[]);
        assert!(ig.still_current(d.path()));
        fs::remove_file(&gi).unwrap();
        assert!(!ig.still_current(d.path()));
        // No ignore file at all is a state like any other.
        assert!(Ignores::load(d.path(), &[]).still_current(d.path()));
    }
}
