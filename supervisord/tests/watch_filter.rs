//! Module-level tests of the watch filters: unit globs and ignores, the
//! project ignore list (.gitignore with negation, default directories,
//! devctl's own state dir), watch roots, and the typed errors.

use std::path::{Path, PathBuf};

use devctl_supervisord::watch::error::WatchError;
use devctl_supervisord::watch::filter::{ProjectIgnore, UnitFilter, literal_prefix};
use devctl_supervisord::watch::tree::{walk, watch_roots};
use devctl_units::{TriggerMode, WatchSpec};
use miette::Diagnostic;

fn spec(paths: &[&str], ignore: &[&str]) -> WatchSpec {
    WatchSpec {
        paths: paths.iter().map(|s| s.to_string()).collect(),
        ignore: ignore.iter().map(|s| s.to_string()).collect(),
        trigger: TriggerMode::Auto,
    }
}

#[test]
fn globs_match_relative_paths_and_ignores_win() {
    let f = UnitFilter::new(
        "api",
        &spec(&["src/**/*.rs", "Cargo.toml"], &["*.tmp", "src/gen/**"]),
    )
    .unwrap();
    assert!(f.matches(Path::new("src/main.rs")));
    assert!(f.matches(Path::new("src/a/b/c.rs")));
    assert!(f.matches(Path::new("Cargo.toml")));
    assert!(!f.matches(Path::new("src/main.py")));
    assert!(!f.matches(Path::new("other/x.rs")));
    // `*` does not cross `/`.
    let g = UnitFilter::new("api", &spec(&["*.toml"], &[])).unwrap();
    assert!(g.matches(Path::new("Cargo.toml")));
    assert!(!g.matches(Path::new("sub/Cargo.toml")));
    // An ignore glob without `/` matches a name at any depth.
    assert!(!f.matches(Path::new("src/x.rs.tmp")));
    assert!(!f.matches(Path::new("src/deep/a.tmp")));
    assert!(!f.matches(Path::new("src/gen/out.rs")));
}

#[test]
fn a_removed_directory_concerns_the_globs_reaching_into_it() {
    let f = UnitFilter::new("b", &spec(&["src/app/**/*.rs"], &["src/app/gen"])).unwrap();
    assert!(!f.matches(Path::new("src")));
    assert!(f.matches_dir(Path::new("src")), "on the way to the prefix");
    assert!(f.matches_dir(Path::new("src/app/x")), "below the prefix");
    assert!(!f.matches_dir(Path::new("docs")));
    assert!(!f.matches_dir(Path::new("src/app/gen")), "ignored");
}

#[test]
fn a_directory_glob_covers_its_subtree() {
    let f = UnitFilter::new("b", &spec(&["schema"], &[])).unwrap();
    assert!(f.matches(Path::new("schema")));
    assert!(f.matches(Path::new("schema/a/b.json")));
    assert!(!f.matches(Path::new("schemas/x")));
}

#[test]
fn a_bad_glob_is_a_typed_error_naming_unit_and_glob() {
    let e = UnitFilter::new("api", &spec(&["src/[a"], &[])).unwrap_err();
    match &e {
        WatchError::BadGlob { unit, glob, .. } => {
            assert_eq!(unit, "api");
            assert_eq!(glob, "src/[a");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.help().is_some());
    let e = UnitFilter::new("api", &spec(&["ok/**"], &["{a,"])).unwrap_err();
    assert!(matches!(e, WatchError::BadGlob { .. }), "{e:?}");
}

#[test]
fn literal_prefixes() {
    assert_eq!(literal_prefix("src/**/*.rs"), PathBuf::from("src"));
    assert_eq!(literal_prefix("*.toml"), PathBuf::new());
    assert_eq!(
        literal_prefix("./docs/index.md"),
        PathBuf::from("docs/index.md")
    );
    assert_eq!(literal_prefix("a/b{c,d}/e"), PathBuf::from("a"));
    assert_eq!(literal_prefix("a/[xy]/e"), PathBuf::from("a"));
}

#[test]
fn roots_are_the_smallest_existing_covering_directories() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    std::fs::create_dir_all(root.join("src/inner")).unwrap();
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(root.join("docs/index.md"), "x").unwrap();
    let r = watch_roots(
        root,
        &[
            PathBuf::from("src"),
            PathBuf::from("src/inner"),
            PathBuf::from("docs/index.md"),
            PathBuf::from("missing/deeper"),
        ],
    );
    // `missing/deeper` falls back to the root, which covers everything.
    assert_eq!(r, vec![root.to_path_buf()]);
    let r = watch_roots(
        root,
        &[
            PathBuf::from("src/inner"),
            PathBuf::from("src"),
            PathBuf::from("docs/index.md"),
        ],
    );
    assert_eq!(r, vec![root.join("docs"), root.join("src")]);
}

#[test]
fn gitignore_with_negation_and_default_dirs() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    std::fs::write(root.join(".gitignore"), "*.log\n!keep.log\nbuild/\n/dist\n").unwrap();
    let state = root.join("devctl-home/state");
    let ig = ProjectIgnore::load(root, std::slice::from_ref(&state));
    assert!(ig.is_ignored(Path::new("a.log"), false));
    assert!(ig.is_ignored(Path::new("src/deep/a.log"), false));
    assert!(!ig.is_ignored(Path::new("keep.log"), false));
    assert!(ig.is_ignored(Path::new("build/x.rs"), false));
    assert!(ig.is_ignored(Path::new("src/build/x.rs"), false));
    assert!(ig.is_ignored(Path::new("dist/x"), false));
    assert!(!ig.is_ignored(Path::new("src/dist/x"), false));
    assert!(!ig.is_ignored(Path::new("src/main.rs"), false));
    for p in [".git/index", "target/debug/x", "web/node_modules/a/b.js"] {
        assert!(ig.is_ignored(Path::new(p), false), "{p}");
    }
    assert!(ig.is_ignored(Path::new("devctl-home/state/logs/p/u.log"), false));
    assert!(!ig.is_ignored(Path::new("devctl-home/config"), true));
}

#[test]
fn a_missing_or_odd_gitignore_is_harmless() {
    let d = tempfile::tempdir().unwrap();
    let ig = ProjectIgnore::load(d.path(), &[]);
    assert!(!ig.is_ignored(Path::new("a.log"), false));
    // A .gitignore that is a directory cannot be read: nothing ignored, no panic.
    std::fs::create_dir(d.path().join(".gitignore")).unwrap();
    let ig = ProjectIgnore::load(d.path(), &[]);
    assert!(!ig.is_ignored(Path::new("a.log"), false));
}

#[test]
fn walking_skips_ignored_trees_and_lists_file_symlinks() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    for dir in ["src/a", "node_modules/x/y", "target/debug", "src/ignored"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::write(root.join(".gitignore"), "src/ignored/\n").unwrap();
    std::fs::write(root.join("shared.toml"), "x").unwrap();
    std::fs::write(root.join("src/a/f.rs"), "x").unwrap();
    std::os::unix::fs::symlink(root.join("shared.toml"), root.join("src/link.toml")).unwrap();
    std::os::unix::fs::symlink(root.join("src"), root.join("src/a/loop")).unwrap();
    let ig = ProjectIgnore::load(root, &[]);
    let w = walk(root, root, &ig, true);
    let mut dirs: Vec<_> = w
        .dirs
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().to_path_buf())
        .collect();
    dirs.sort();
    assert_eq!(
        dirs,
        vec![PathBuf::new(), PathBuf::from("src"), PathBuf::from("src/a")]
    );
    assert_eq!(w.links, vec![root.join("src/link.toml")]);
    assert!(w.files.contains(&root.join("src/a/f.rs")));
    assert!(
        !w.files
            .iter()
            .any(|f| f.starts_with(root.join("node_modules")))
    );
}

#[test]
fn inotify_limits_name_the_sysctl() {
    let e = WatchError::from_notify(
        notify::Error::new(notify::ErrorKind::MaxFilesWatch).add_path("/p/src".into()),
    );
    assert!(e.is_limit());
    assert!(e.to_string().contains("fs.inotify.max_user_watches"), "{e}");
    let help = e.help().unwrap().to_string();
    assert!(
        help.contains("sysctl -w fs.inotify.max_user_watches="),
        "{help}"
    );
    let e = WatchError::from_notify(notify::Error::io(std::io::Error::from_raw_os_error(
        libc::EMFILE,
    )));
    assert!(matches!(e, WatchError::InstanceLimit));
    assert!(
        e.help()
            .unwrap()
            .to_string()
            .contains("sysctl -w fs.inotify.max_user_instances=")
    );
    let e = WatchError::from_io(
        std::io::Error::from_raw_os_error(libc::ENOSPC),
        Some("/x".into()),
    );
    assert!(matches!(e, WatchError::WatchLimit { .. }));
}

#[test]
fn other_watch_errors_are_typed_too() {
    let e = WatchError::from_io(
        std::io::Error::from_raw_os_error(libc::EACCES),
        Some("/x".into()),
    );
    assert!(matches!(e, WatchError::Io { .. }) && !e.is_limit());
    assert!(e.help().is_some());
    let e = WatchError::from_notify(notify::Error::path_not_found().add_path("/gone".into()));
    assert!(matches!(e, WatchError::Io { ref path, .. } if path == Path::new("/gone")));
    let e = WatchError::from_notify(notify::Error::generic("boom"));
    assert!(matches!(e, WatchError::Backend { .. }));
    assert!(e.to_string().contains("boom"));
    let e = WatchError::from_notify(notify::Error::watch_not_found());
    assert!(matches!(e, WatchError::Backend { .. }));
}
