//! The commit a project root is at: `HEAD` read from the repository's files
//! (`.git/HEAD`, loose refs, `packed-refs`), worktrees' `.git` files and
//! their common directory included. No `git` binary is run: this is called
//! on every run's start.

use std::fs;
use std::path::{Path, PathBuf};

/// `HEAD`'s commit id of the repository holding `root` (searched upwards),
/// or `None` outside a repository, on an unborn branch, or for anything
/// unreadable.
pub fn head_commit(root: &Path) -> Option<String> {
    let git_dir = find_git_dir(root)?;
    let common = common_dir(&git_dir);
    let head = fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    match head.strip_prefix("ref:") {
        Some(name) => resolve_ref(&git_dir, &common, name.trim(), 0),
        None => is_object_id(head).then(|| head.to_owned()),
    }
}

/// The git directory of the repository holding `start`: a `.git`
/// directory, or the one a `.git` file (`gitdir: …`, worktrees and
/// submodules) points to.
pub(crate) fn find_git_dir(start: &Path) -> Option<PathBuf> {
    for dir in start.ancestors() {
        let dot_git = dir.join(".git");
        let Ok(meta) = fs::metadata(&dot_git) else {
            continue;
        };
        if meta.is_dir() {
            return Some(dot_git);
        }
        let text = fs::read_to_string(&dot_git).ok()?;
        let target = text.trim().strip_prefix("gitdir:")?.trim();
        return Some(dir.join(target));
    }
    None
}

/// Where shared refs live: a worktree's git dir names it in `commondir`.
pub(crate) fn common_dir(git_dir: &Path) -> PathBuf {
    match fs::read_to_string(git_dir.join("commondir")) {
        Ok(text) => git_dir.join(text.trim()),
        Err(_) => git_dir.to_owned(),
    }
}

/// A ref's commit: loose in the worktree's dir (per-worktree refs), loose
/// in the common dir, then in `packed-refs`; symbolic refs followed a few
/// levels deep.
fn resolve_ref(git_dir: &Path, common: &Path, name: &str, depth: u32) -> Option<String> {
    if depth > 5 || name.contains("..") {
        return None;
    }
    for dir in [git_dir, common] {
        if let Ok(text) = fs::read_to_string(dir.join(name)) {
            let text = text.trim();
            if let Some(target) = text.strip_prefix("ref:") {
                return resolve_ref(git_dir, common, target.trim(), depth + 1);
            }
            return is_object_id(text).then(|| text.to_owned());
        }
    }
    let packed = fs::read_to_string(common.join("packed-refs")).ok()?;
    packed
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('^'))
        .find_map(|l| {
            let (id, r) = l.split_once(' ')?;
            (r.trim() == name && is_object_id(id)).then(|| id.to_owned())
        })
}

/// 40 (SHA-1) or 64 (SHA-256) hex digits.
fn is_object_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn reads_loose_packed_and_detached_heads() {
        let d = tempfile::tempdir().unwrap();
        let git = d.path().join(".git");
        write(&git.join("HEAD"), "ref: refs/heads/main\n");
        write(&git.join("refs/heads/main"), &format!("{A}\n"));
        let sub = d.path().join("services/api");
        fs::create_dir_all(&sub).unwrap();
        assert_eq!(
            head_commit(&sub).as_deref(),
            Some(A),
            "found from a subdirectory"
        );

        fs::remove_file(git.join("refs/heads/main")).unwrap();
        write(
            &git.join("packed-refs"),
            &format!("# pack-refs with: peeled fully-peeled sorted\n{B} refs/heads/main\n^{A}\n"),
        );
        assert_eq!(head_commit(d.path()).as_deref(), Some(B));

        write(&git.join("HEAD"), &format!("{A}\n"));
        assert_eq!(head_commit(d.path()).as_deref(), Some(A), "detached");

        write(&git.join("HEAD"), "ref: refs/heads/unborn\n");
        assert_eq!(head_commit(d.path()), None);
        write(&git.join("HEAD"), "garbage\n");
        assert_eq!(head_commit(d.path()), None);
    }

    #[test]
    fn follows_a_worktrees_git_file_to_the_common_dir() {
        let d = tempfile::tempdir().unwrap();
        let main_git = d.path().join("main/.git");
        write(&main_git.join("refs/heads/feature"), &format!("{B}\n"));
        let wt_git = main_git.join("worktrees/wt");
        write(&wt_git.join("HEAD"), "ref: refs/heads/feature\n");
        write(&wt_git.join("commondir"), "../..\n");
        write(
            &d.path().join("wt/.git"),
            &format!("gitdir: {}\n", wt_git.display()),
        );
        assert_eq!(head_commit(&d.path().join("wt")).as_deref(), Some(B));
    }

    #[test]
    fn outside_a_repository_there_is_no_commit() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(head_commit(d.path()), None);
    }

    /// Against the real `git`: a commit, a packed ref, a linked worktree.
    #[test]
    fn agrees_with_git_rev_parse() {
        let d = tempfile::tempdir().unwrap();
        let repo = d.path().join("repo");
        let git = |dir: &Path, args: &[&str]| {
            let out = Command::new("git")
                .args(args)
                .current_dir(dir)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
                .output()
                .expect("git is installed");
            assert!(out.status.success(), "git {args:?}: {out:?}");
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        };
        fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["commit", "-q", "--allow-empty", "-m", "one"]);
        assert_eq!(head_commit(&repo), Some(git(&repo, &["rev-parse", "HEAD"])));
        git(&repo, &["pack-refs", "--all"]);
        assert_eq!(head_commit(&repo), Some(git(&repo, &["rev-parse", "HEAD"])));
        git(&repo, &["worktree", "add", "-q", "-b", "side", "../wt"]);
        let wt = d.path().join("wt");
        git(&wt, &["commit", "-q", "--allow-empty", "-m", "two"]);
        let wt_head = git(&wt, &["rev-parse", "HEAD"]);
        assert_eq!(head_commit(&wt), Some(wt_head.clone()));
        assert_ne!(head_commit(&repo), Some(wt_head));
    }
}
