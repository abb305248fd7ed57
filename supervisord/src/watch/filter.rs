//! Which paths matter. [`ProjectIgnore`] is the project-level list applied
//! before any watch is added: `.git/`, `target/`, `node_modules/` at any
//! depth, devctl's own state and runtime directories, and the project's
//! `.gitignore` (plus `.git/info/exclude`), read with the `ignore` crate's
//! gitignore matcher (negation, anchoring and directory-only lines as git
//! has them). [`UnitFilter`] is one unit's `watch` globs minus its `ignore`
//! globs, matched against paths relative to the unit's root.

use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use tracing::warn;

use devctl_units::WatchSpec;

use crate::watch::error::WatchError;

/// Directory names ignored at any depth in every project.
pub const DEFAULT_IGNORED_DIRS: &[&str] = &[".git", "target", "node_modules"];

/// The project-level ignore list.
#[derive(Debug)]
pub struct ProjectIgnore {
    root: PathBuf,
    gitignore: Gitignore,
    /// Absolute directories never watched (devctl's state and runtime dirs).
    dirs: Vec<PathBuf>,
}

impl ProjectIgnore {
    /// Read `root/.gitignore` and `root/.git/info/exclude` (both optional;
    /// unreadable or malformed lines are warned about and skipped).
    pub fn load(root: &Path, extra_dirs: &[PathBuf]) -> ProjectIgnore {
        let mut b = GitignoreBuilder::new(root);
        for f in ProjectIgnore::files(root) {
            if f.is_file()
                && let Some(e) = b.add(&f)
            {
                warn!(file = %f.display(), "part of the ignore file is unusable: {e}");
            }
        }
        let gitignore = b.build().unwrap_or_else(|e| {
            warn!(root = %root.display(), "ignore files unusable, ignoring them: {e}");
            Gitignore::empty()
        });
        ProjectIgnore {
            root: root.to_path_buf(),
            gitignore,
            dirs: extra_dirs.to_vec(),
        }
    }

    /// The ignore files read for `root`.
    pub fn files(root: &Path) -> [PathBuf; 2] {
        [root.join(".gitignore"), root.join(".git/info/exclude")]
    }

    /// Whether `rel` (relative to the project root) is ignored, because
    /// of itself or one of its parent directories.
    pub fn is_ignored(&self, rel: &Path, is_dir: bool) -> bool {
        if rel.components().any(|c| match c {
            Component::Normal(n) => DEFAULT_IGNORED_DIRS.iter().any(|d| n == *d),
            _ => false,
        }) {
            return true;
        }
        if !self.dirs.is_empty() {
            let abs = self.root.join(rel);
            if self.dirs.iter().any(|d| abs.starts_with(d)) {
                return true;
            }
        }
        if rel.as_os_str().is_empty() || rel.has_root() {
            return false;
        }
        self.gitignore
            .matched_path_or_any_parents(rel, is_dir)
            .is_ignore()
    }
}

/// One unit's `watch` globs minus its `ignore` globs.
#[derive(Debug, Clone)]
pub struct UnitFilter {
    include: GlobSet,
    ignore: GlobSet,
    prefixes: Vec<PathBuf>,
}

fn compile(unit: &str, glob: &str) -> Result<globset::Glob, WatchError> {
    GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .map_err(|source| WatchError::BadGlob {
            unit: unit.to_owned(),
            glob: glob.to_owned(),
            source,
        })
}

fn set(b: GlobSetBuilder, unit: &str) -> Result<GlobSet, WatchError> {
    b.build().map_err(|source| WatchError::BadGlob {
        unit: unit.to_owned(),
        glob: String::new(),
        source,
    })
}

/// The literal leading directories of a glob: `src/**/*.rs` → `src`,
/// `*.toml` → ``, `docs/index.md` → `docs/index.md` (may be a file).
pub fn literal_prefix(glob: &str) -> PathBuf {
    let meta = |s: &str| s.contains(['*', '?', '[', '{', '\\']);
    let mut p = PathBuf::new();
    for part in glob.split('/').filter(|s| !s.is_empty() && *s != ".") {
        if meta(part) {
            break;
        }
        p.push(part);
    }
    p
}

impl UnitFilter {
    /// Compile a unit's watch spec. An `ignore` glob without a `/` matches
    /// a file or directory name at any depth (`*.tmp`), as in .gitignore.
    pub fn new(unit: &str, spec: &WatchSpec) -> Result<UnitFilter, WatchError> {
        let mut inc = GlobSetBuilder::new();
        for g in &spec.paths {
            inc.add(compile(unit, g.trim_start_matches("./"))?);
        }
        let mut ign = GlobSetBuilder::new();
        for g in &spec.ignore {
            let g = g.trim_start_matches("./");
            ign.add(compile(unit, g)?);
            if !g.contains('/') {
                ign.add(compile(unit, &format!("**/{g}"))?);
            }
        }
        Ok(UnitFilter {
            include: set(inc, unit)?,
            ignore: set(ign, unit)?,
            prefixes: spec.paths.iter().map(|g| literal_prefix(g)).collect(),
        })
    }

    /// Whether a change to `rel` concerns this unit. A glob naming a
    /// directory covers everything below it.
    pub fn matches(&self, rel: &Path) -> bool {
        let mut hit = false;
        for a in rel.ancestors().filter(|a| !a.as_os_str().is_empty()) {
            if self.ignore.is_match(a) {
                return false;
            }
            hit = hit || self.include.is_match(a);
        }
        hit
    }

    /// Whether something inside directory `rel` may concern this unit:
    /// `rel` is not ignored, and it lies on the way to, or below, one of
    /// the globs' literal prefixes (a removed directory's contents are
    /// unknown).
    pub fn matches_dir(&self, rel: &Path) -> bool {
        if rel
            .ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .any(|a| self.ignore.is_match(a))
        {
            return false;
        }
        self.matches(rel)
            || self
                .prefixes
                .iter()
                .any(|p| p.starts_with(rel) || rel.starts_with(p))
    }

    /// The literal prefixes of the `watch` globs (relative).
    pub fn prefixes(&self) -> &[PathBuf] {
        &self.prefixes
    }
}
