//! The directories to watch: the smallest set of existing directories that
//! covers every glob (each glob's literal prefix, or its nearest existing
//! ancestor inside the root), then every non-ignored directory below them.
//! Directories are watched one by one (non-recursively) so ignored trees
//! (`node_modules/`, `target/`) never cost an inotify watch, and watching
//! directories rather than files keeps editors' atomic saves (write a temp
//! file, rename it over the original) visible. Symlinked files are listed
//! so the watcher can also watch their targets.

use std::path::{Path, PathBuf};

use crate::watch::filter::ProjectIgnore;

/// The existing directories (absolute) covering the relative `prefixes`.
/// A prefix that is an existing directory is itself a root; otherwise its
/// nearest existing ancestor is (never above `root`). Nested roots are
/// folded into their ancestors.
pub fn watch_roots(root: &Path, prefixes: &[PathBuf]) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = prefixes
        .iter()
        .map(|p| {
            let mut d = root.join(p);
            while !d.is_dir() && d != root {
                match d.parent() {
                    Some(parent) if parent.starts_with(root) => d = parent.to_path_buf(),
                    _ => return root.to_path_buf(),
                }
            }
            d
        })
        .collect();
    roots.sort();
    roots.dedup();
    let mut out: Vec<PathBuf> = Vec::new();
    for r in roots {
        if !out.iter().any(|o| r.starts_with(o)) {
            out.push(r);
        }
    }
    out
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walk {
    /// Directories to watch, `dir` first.
    pub dirs: Vec<PathBuf>,
    /// Regular files (only when asked for: a directory that appeared
    /// after its parent was watched may already hold files).
    pub files: Vec<PathBuf>,
    /// Symlinks that point at regular files.
    pub links: Vec<PathBuf>,
    /// With [`walk_stat`], each of `files`' metadata, in the same order.
    pub metas: Vec<std::fs::Metadata>,
}

/// Walk `dir` (absolute, under `root`) without following directory
/// symlinks, skipping ignored directories. Unreadable directories are
/// skipped (they cannot be watched either).
pub fn walk(dir: &Path, root: &Path, ignore: &ProjectIgnore, files: bool) -> Walk {
    walk_with(dir, root, ignore, files, false)
}

/// [`walk`] listing the files with their metadata, read relative to the
/// open directory (cheaper than a stat of each full path). A file gone
/// before it could be read is left out.
pub fn walk_stat(dir: &Path, root: &Path, ignore: &ProjectIgnore) -> Walk {
    walk_with(dir, root, ignore, true, true)
}

fn walk_with(dir: &Path, root: &Path, ignore: &ProjectIgnore, files: bool, stat: bool) -> Walk {
    let mut w = Walk::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rel = d.strip_prefix(root).unwrap_or(&d);
        if ignore.is_ignored(rel, true) {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        w.dirs.push(d);
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            let p = e.path();
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_symlink() {
                if std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
                    w.links.push(p);
                }
            } else if files {
                let rel = p.strip_prefix(root).unwrap_or(&p);
                if ignore.is_ignored(rel, false) {
                    continue;
                }
                if stat {
                    let Ok(m) = e.metadata() else { continue };
                    w.metas.push(m);
                }
                w.files.push(p);
            }
        }
    }
    w
}
