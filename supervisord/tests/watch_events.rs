//! The project watcher with real files and a real inotify: edits, atomic
//! saves, new directories, symlinked files, ignored paths, a recreated
//! directory and a 5 000-file burst. Every wait has a generous ceiling;
//! "nothing else arrived" is checked by sending a sentinel change after
//! the one that must be ignored (the batch then holds the sentinel only),
//! or, for the burst, by a documented quiet period of 3 quiet windows.

use std::path::{Path, PathBuf};
use std::time::Duration;

use devctl_supervisord::watch::{Changed, ProjectWatcher, WatchConfig, WatchMsg, WatchedUnit};
use devctl_units::{ProjectName, TriggerMode, UnitName, WatchSpec};
use tokio::sync::mpsc;
use tokio::time::timeout;

const CEILING: Duration = Duration::from_secs(20);

fn unit(root: &Path, name: &str, paths: &[&str], ignore: &[&str]) -> WatchedUnit {
    WatchedUnit {
        name: UnitName::new(name).unwrap(),
        root: root.to_path_buf(),
        spec: WatchSpec {
            paths: paths.iter().map(|s| s.to_string()).collect(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            trigger: TriggerMode::Auto,
        },
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    rx: mpsc::UnboundedReceiver<WatchMsg>,
    watcher: ProjectWatcher,
}

fn start(setup: impl FnOnce(&Path), units: impl FnOnce(&Path) -> Vec<WatchedUnit>) -> Fixture {
    start_quiet(setup, units, None)
}

/// [`start`] with another quiet window.
fn start_quiet(
    setup: impl FnOnce(&Path),
    units: impl FnOnce(&Path) -> Vec<WatchedUnit>,
    quiet: Option<Duration>,
) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    setup(&root);
    let (tx, rx) = mpsc::unbounded_channel();
    let mut cfg = WatchConfig::new(ProjectName::new("p").unwrap(), root.clone(), units(&root));
    cfg.ignore_dirs = vec![root.join("state")];
    if let Some(q) = quiet {
        cfg.quiet = q;
    }
    let watcher = ProjectWatcher::start(cfg, tx).unwrap();
    Fixture {
        _dir: dir,
        root,
        rx,
        watcher,
    }
}

impl Fixture {
    async fn next(&mut self) -> Changed {
        match timeout(CEILING, self.rx.recv()).await {
            Ok(Some(WatchMsg::Changed(c))) => c,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => panic!("no change within {CEILING:?}"),
        }
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn rels(c: &Changed) -> Vec<String> {
    c.paths.iter().map(|p| p.display().to_string()).collect()
}

fn src_dir(root: &Path) {
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/main.rs"), "fn main() {}").unwrap();
}

#[tokio::test]
async fn an_edit_is_reported_once_with_its_path() {
    let mut f = start(src_dir, |r| vec![unit(r, "app", &["src/**"], &[])]);
    assert!(f.watcher.watched_dirs() >= 1);
    f.write("src/main.rs", "fn main() { println!(); }");
    let c = f.next().await;
    assert_eq!(c.unit.as_ref(), "app");
    assert_eq!(rels(&c), vec!["src/main.rs"]);
    assert_eq!(c.count, 1);
    assert_eq!(c.describe(), "src/main.rs");
}

#[tokio::test]
async fn an_atomic_save_is_detected() {
    let mut f = start(src_dir, |r| vec![unit(r, "app", &["src/*.rs"], &[])]);
    // What editors do: write a temporary file, then rename it over the original.
    f.write("src/.main.rs.swp", "new contents");
    std::fs::rename(f.root.join("src/.main.rs.swp"), f.root.join("src/main.rs")).unwrap();
    let c = f.next().await;
    assert!(rels(&c).contains(&"src/main.rs".to_string()), "{c:?}");
    assert!(
        !rels(&c).iter().any(|p| p.ends_with(".swp")),
        "temp file does not match the glob"
    );
    // The watch survives the inode swap: a second atomic save is seen too.
    f.write("src/.main.rs.swp", "newer contents");
    std::fs::rename(f.root.join("src/.main.rs.swp"), f.root.join("src/main.rs")).unwrap();
    let c = f.next().await;
    assert!(rels(&c).contains(&"src/main.rs".to_string()), "{c:?}");
}

/// An editor's temporary file matching the globs, written and renamed
/// over the original within one batch, is not listed: only the file
/// that stays changed. A file that existed before and was removed is.
#[tokio::test]
async fn a_temporary_file_gone_within_the_batch_is_not_listed() {
    // A 2 s quiet window keeps the steps in one batch on a slow machine.
    let mut f = start_quiet(
        |r| {
            src_dir(r);
            std::fs::write(r.join("src/old.rs"), "x").unwrap();
        },
        |r| vec![unit(r, "app", &["src/**"], &[])],
        Some(Duration::from_secs(2)),
    );
    f.write("src/main.rs.tmp", "new contents");
    std::fs::rename(f.root.join("src/main.rs.tmp"), f.root.join("src/main.rs")).unwrap();
    f.write("src/scratch.rs", "gone soon");
    std::fs::remove_file(f.root.join("src/scratch.rs")).unwrap();
    std::fs::remove_file(f.root.join("src/old.rs")).unwrap();
    let c = f.next().await;
    assert_eq!(rels(&c), vec!["src/main.rs", "src/old.rs"], "{c:?}");
    assert_eq!(c.count, 2);
}

#[tokio::test]
async fn ignored_paths_are_ignored() {
    let mut f = start(
        |r| {
            src_dir(r);
            std::fs::create_dir_all(r.join("src/node_modules/x")).unwrap();
            std::fs::create_dir_all(r.join("state/logs")).unwrap();
            std::fs::write(r.join(".gitignore"), "*.log\nsrc/generated/\n").unwrap();
        },
        |r| vec![unit(r, "app", &["src/**", "state/**"], &["**/*.tmp"])],
    );
    // Unit ignore glob, .gitignore (file and directory), default dirs, state dir.
    f.write("src/a.tmp", "x");
    f.write("src/debug.log", "x");
    f.write("src/generated/out.rs", "x");
    f.write("src/node_modules/x/index.js", "x");
    f.write("state/logs/u.log", "x");
    // The sentinel, written last.
    f.write("src/lib.rs", "x");
    let c = f.next().await;
    assert_eq!(rels(&c), vec!["src/lib.rs"], "{c:?}");
}

#[tokio::test]
async fn new_directories_are_picked_up() {
    let mut f = start(src_dir, |r| vec![unit(r, "app", &["src/**/*.rs"], &[])]);
    std::fs::create_dir_all(f.root.join("src/new/deeper")).unwrap();
    f.write("src/new/deeper/a.rs", "x");
    let c = f.next().await;
    assert!(
        rels(&c).contains(&"src/new/deeper/a.rs".to_string()),
        "{c:?}"
    );
    // Later writes inside the new directory are watched directly.
    f.write("src/new/deeper/b.rs", "x");
    let c = f.next().await;
    assert_eq!(rels(&c), vec!["src/new/deeper/b.rs"]);
}

#[tokio::test]
async fn a_directory_deleted_and_recreated_is_watched_again() {
    let mut f = start(
        |r| {
            src_dir(r);
            std::fs::create_dir_all(r.join("src/mod")).unwrap();
        },
        |r| vec![unit(r, "app", &["src/**"], &[])],
    );
    std::fs::remove_dir_all(f.root.join("src/mod")).unwrap();
    let c = f.next().await;
    assert!(rels(&c).contains(&"src/mod".to_string()), "{c:?}");
    std::fs::create_dir(f.root.join("src/mod")).unwrap();
    let _ = f.next().await;
    f.write("src/mod/x.rs", "x");
    let c = f.next().await;
    assert_eq!(rels(&c), vec!["src/mod/x.rs"]);
}

#[tokio::test]
async fn a_symlinked_file_is_watched_through_its_link() {
    let mut f = start(
        |r| {
            src_dir(r);
            std::fs::create_dir_all(r.join("shared")).unwrap();
            std::fs::write(r.join("shared/config.toml"), "a = 1").unwrap();
            std::os::unix::fs::symlink(r.join("shared/config.toml"), r.join("src/config.toml"))
                .unwrap();
        },
        |r| vec![unit(r, "app", &["src/**"], &[])],
    );
    // The target lives outside the watched tree; writing it is seen via the link.
    f.write("shared/config.toml", "a = 2");
    let c = f.next().await;
    assert_eq!(rels(&c), vec!["src/config.toml"]);
}

#[tokio::test]
async fn a_change_concerning_two_units_reaches_both() {
    let mut f = start(src_dir, |r| {
        vec![
            unit(r, "build", &["src/**"], &[]),
            unit(r, "lint", &["src/*.rs"], &[]),
        ]
    });
    f.write("src/main.rs", "y");
    let a = f.next().await;
    let b = f.next().await;
    let mut names = vec![a.unit.to_string(), b.unit.to_string()];
    names.sort();
    assert_eq!(names, vec!["build", "lint"]);
}

#[tokio::test]
async fn a_burst_of_5000_files_is_one_batch() {
    let mut f = start(src_dir, |r| vec![unit(r, "app", &["src/**"], &[])]);
    let root = f.root.clone();
    tokio::task::spawn_blocking(move || {
        for d in 0..50 {
            let dir = root.join(format!("src/pkg{d}"));
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..100 {
                std::fs::write(dir.join(format!("f{i}.rs")), "x").unwrap();
            }
        }
    })
    .await
    .unwrap();
    let c = f.next().await;
    assert!(c.count >= 5000, "count {}", c.count);
    assert_eq!(
        c.paths.len(),
        devctl_supervisord::watch::watcher::MAX_LISTED
    );
    assert!(c.describe().contains("more)"), "{}", c.describe());
    // Quiet period (3 quiet windows of 200 ms): no second batch follows.
    let more = timeout(Duration::from_millis(600), f.rx.recv()).await;
    assert!(more.is_err(), "a second batch arrived: {more:?}");
}

#[tokio::test]
async fn a_bad_glob_stops_the_start_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, _rx) = mpsc::unbounded_channel();
    let cfg = WatchConfig::new(
        ProjectName::new("p").unwrap(),
        dir.path().to_path_buf(),
        vec![unit(dir.path(), "app", &["src/[x"], &[])],
    );
    let e = ProjectWatcher::start(cfg, tx).unwrap_err();
    assert!(
        matches!(e, devctl_supervisord::watch::WatchError::BadGlob { .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_watch_root_deleted_and_recreated_is_watched_again() {
    let mut f = start(src_dir, |r| vec![unit(r, "app", &["src/**"], &[])]);
    std::fs::remove_dir_all(f.root.join("src")).unwrap();
    let c = f.next().await;
    assert!(rels(&c).contains(&"src".to_string()), "{c:?}");
    // An empty directory is no change for `src/**`; it is watched again.
    std::fs::create_dir(f.root.join("src")).unwrap();
    f.write("src/again.rs", "x");
    let c = f.next().await;
    assert_eq!(rels(&c), vec!["src/again.rs"]);
    // Directories outside the roots are not watched: a file in a new
    // sibling directory is neither reported nor watched.
    std::fs::create_dir(f.root.join("other")).unwrap();
    f.write("other/x.rs", "x");
    f.write("src/sentinel.rs", "x");
    let c = f.next().await;
    assert_eq!(rels(&c), vec!["src/sentinel.rs"]);
}
