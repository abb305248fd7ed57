//! A compiled manifest kept between runs of the CLI. Every verb that loads
//! (`up`, `start`, `restart`, …) compiles `devctl.kdl` first, and the `kdl`
//! parser alone takes about 0.17 ms per unit: 150 ms of every command for a
//! thousand units. What the compiler makes of a manifest follows from its
//! absolute path, its bytes and the compiler itself, unless it warned or
//! looked at anything else (see [`devctl_compiler::Loadable::pure`]); only
//! such results are kept. An entry is used only when the manifest's bytes
//! and path, and the running devctl executable (device, inode, size,
//! modification time), are exactly those it was made from. Entries live in
//! the runtime directory (the user's own, 0700, gone at logout), one file
//! per manifest; one that cannot be read or written is ignored.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use devctl_units::ProjectName;

use crate::manifest::Manifest;

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    /// The devctl executable that compiled it: device, inode, size, mtime (ns).
    exe: (u64, u64, u64, i128),
    path: PathBuf,
    manifest: String,
    project: ProjectName,
    root: PathBuf,
    units: BTreeMap<String, String>,
}

fn exe_identity() -> Option<(u64, u64, u64, i128)> {
    let m = std::fs::metadata(std::env::current_exe().ok()?).ok()?;
    let mtime = i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec());
    Some((m.dev(), m.ino(), m.size(), mtime))
}

fn entry_file(dir: &Path, manifest: &Path) -> PathBuf {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    manifest.hash(&mut h);
    dir.join("compiled")
        .join(format!("{:016x}.json", h.finish()))
}

/// The manifest at `path` (absolute) whose content is `bytes`, as compiled
/// before by this executable, if an entry in `dir` says so.
pub fn lookup(dir: &Path, path: &Path, bytes: &[u8]) -> Option<Manifest> {
    let text = std::fs::read(entry_file(dir, path)).ok()?;
    let e: Entry = serde_json::from_slice(&text).ok()?;
    let same = Some(e.exe) == exe_identity() && e.path == path && e.manifest.as_bytes() == bytes;
    same.then(|| Manifest {
        path: e.path,
        root: e.root,
        project: e.project,
        files: e.units,
        warnings: Vec::new(),
    })
}

/// Keep `m`, compiled from `bytes` at `path` (absolute), for the next run.
/// Best effort: nothing is kept when `dir` does not exist yet.
pub fn keep(dir: &Path, path: &Path, bytes: &[u8], m: &Manifest) {
    let (Some(exe), Ok(manifest)) = (exe_identity(), std::str::from_utf8(bytes)) else {
        return;
    };
    if !dir.is_dir() {
        return;
    }
    let e = Entry {
        exe,
        path: path.to_path_buf(),
        manifest: manifest.to_owned(),
        project: m.project.clone(),
        root: m.root.clone(),
        units: m.files.clone(),
    };
    let file = entry_file(dir, path);
    let Some(parent) = file.parent() else { return };
    let _ = std::fs::create_dir_all(parent);
    let Ok(json) = serde_json::to_vec(&e) else {
        return;
    };
    // Written aside and renamed: a concurrent reader sees the old entry or
    // the new one, never half of one.
    let tmp = file.with_extension(format!("tmp-{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut f| f.write_all(&json));
    if written.is_err() || std::fs::rename(&tmp, &file).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::compile_kept;

    const MANIFEST: &str = "project \"kept\"\n\nservice \"web\" {\n    run \"sleep\" \"100\"\n}\n";

    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        let run = root.join("run");
        std::fs::create_dir(&run).unwrap();
        let path = root.join("project/devctl.kdl");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, MANIFEST).unwrap();
        (d, run, path)
    }

    #[test]
    fn the_same_bytes_reuse_the_kept_result_and_other_bytes_compile_again() {
        let (_d, run, path) = setup();
        let first = compile_kept(&path, &run).unwrap();
        let file = entry_file(&run, &path);
        assert!(file.is_file(), "nothing kept");
        // Doctor the entry: a second run that returns the doctored units
        // read it instead of compiling.
        let mut e: Entry = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let (name, text) = e
            .units
            .iter()
            .next()
            .map(|(n, t)| (n.clone(), t.clone()))
            .unwrap();
        e.units.insert(name.clone(), format!("{text}\n# kept\n"));
        std::fs::write(&file, serde_json::to_vec(&e).unwrap()).unwrap();
        let second = compile_kept(&path, &run).unwrap();
        assert!(second.files[&name].ends_with("# kept\n"), "compiled again");
        assert_eq!(second.project, first.project);
        // One byte more: compiled afresh, and kept in its place.
        std::fs::write(&path, format!("{MANIFEST}\n")).unwrap();
        let third = compile_kept(&path, &run).unwrap();
        assert_eq!(third.files, first.files);
        assert!(lookup(&run, &path, format!("{MANIFEST}\n").as_bytes()).is_some());
        assert!(lookup(&run, &path, MANIFEST.as_bytes()).is_none());
    }

    #[test]
    fn another_path_a_damaged_entry_or_no_directory_means_compiling() {
        let (d, run, path) = setup();
        let m = compile_kept(&path, &run).unwrap();
        let other = d
            .path()
            .canonicalize()
            .unwrap()
            .join("elsewhere/devctl.kdl");
        assert!(lookup(&run, &other, MANIFEST.as_bytes()).is_none());
        std::fs::write(entry_file(&run, &path), b"{not json").unwrap();
        assert!(lookup(&run, &path, MANIFEST.as_bytes()).is_none());
        assert_eq!(compile_kept(&path, &run).unwrap().files, m.files);
        // No runtime directory yet (the daemon never ran): nothing is kept.
        let missing = run.join("absent");
        compile_kept(&path, &missing).unwrap();
        assert!(!missing.exists());
    }

    #[test]
    fn a_result_with_warnings_or_a_repository_check_is_not_kept() {
        let (_d, run, path) = setup();
        // A build following the repository's HEAD: the compiler looked for `.git`.
        let root = path.parent().unwrap();
        std::process::Command::new("git")
            .args(["init", "-q"])
            .current_dir(root)
            .status()
            .unwrap();
        std::fs::write(
            &path,
            "project \"kept\"\n\nbuild \"gen\" {\n    sh \"true\"\n    on-commit\n}\n",
        )
        .unwrap();
        compile_kept(&path, &run).unwrap();
        assert!(
            !entry_file(&run, &path).exists(),
            "an on-commit result was kept"
        );
        // A warning is printed on every run: the result is not kept.
        std::fs::write(
            &path,
            "project \"kept\"\nservice \"a\" { run \"x\"; alive { tcp 1; }; restart \"no\"; }\n",
        )
        .unwrap();
        let warned = compile_kept(&path, &run).unwrap();
        assert_eq!(warned.warnings.len(), 1, "{:?}", warned.warnings);
        assert!(
            !entry_file(&run, &path).exists(),
            "a result with a warning was kept"
        );
        // An invalid manifest is an error, kept nowhere.
        std::fs::write(&path, "project \"kept\"\nservice \"web\" {\n").unwrap();
        assert!(compile_kept(&path, &run).is_err());
        assert!(!entry_file(&run, &path).exists());
    }
}
