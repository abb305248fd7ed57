//! What a project watch vouches for, with real files and a real inotify:
//! a change made before a barrier always moves the epoch the barrier
//! reports (however late notify's thread reads it), reading files does
//! not, a walk counts as covered only where directories are watched, a
//! new directory moves the epoch, and a watch without a barrier directory
//! vouches for nothing. Up-to-date checks rely on exactly this to skip
//! stat'ing inputs (`core/manager/uptodate.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use devctl_supervisord::watch::vouch::Coverage;
use devctl_supervisord::watch::{ProjectWatcher, WatchConfig, WatchedUnit};
use devctl_units::{ProjectName, TriggerMode, UnitName, WatchSpec};

const WAIT: Duration = Duration::from_secs(10);

struct Fixture {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    root: PathBuf,
    watcher: ProjectWatcher,
    _rt: tokio::runtime::Runtime,
}

fn start(barriers: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let run = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("src/deep")).unwrap();
    std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
    std::fs::write(root.join(".gitignore"), "node_modules/\n").unwrap();
    std::fs::write(root.join("src/a.txt"), "a").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    // The receiver is kept alive with the runtime's task: changes go nowhere.
    rt.spawn(async move {
        let mut rx = rx;
        while rx.recv().await.is_some() {}
    });
    let mut cfg = WatchConfig::new(
        ProjectName::new("p").unwrap(),
        root.clone(),
        vec![WatchedUnit {
            name: UnitName::new("gen").unwrap(),
            root: root.clone(),
            spec: WatchSpec {
                paths: vec!["**".into()],
                ignore: vec![],
                trigger: TriggerMode::Auto,
            },
        }],
    );
    cfg.barriers_in = barriers.then(|| run.path().to_path_buf());
    let watcher = rt
        .block_on(async { ProjectWatcher::start(cfg, tx) })
        .unwrap();
    Fixture {
        _dirs: (dir, run),
        root,
        watcher,
        _rt: rt,
    }
}

impl Fixture {
    /// The epoch once everything before now has been seen.
    fn settled(&self) -> u64 {
        let v = self.watcher.vouch();
        v.settled(v.ticket(), WAIT).expect("the barrier came back")
    }
}

#[test]
fn a_change_made_before_the_barrier_always_moves_the_epoch() {
    let f = start(true);
    let mut last = f.settled();
    assert_eq!(f.settled(), last, "nothing changed, yet the epoch moved");
    // Written and checked at once, as `echo x > in; devctl up` would: the
    // barrier must come back after the write's events, every time.
    for i in 0..300 {
        std::fs::write(f.root.join("src/deep/in.txt"), i.to_string()).unwrap();
        let now = f.settled();
        assert_ne!(now, last, "write {i} was not seen before its barrier");
        last = now;
    }
    // Reading changes nothing.
    let _ = std::fs::read(f.root.join("src/deep/in.txt")).unwrap();
    let _ = std::fs::read_dir(f.root.join("src")).unwrap().count();
    assert_eq!(f.settled(), last, "a read moved the epoch");
    // Renames and removals do.
    std::fs::rename(f.root.join("src/a.txt"), f.root.join("src/b.txt")).unwrap();
    let renamed = f.settled();
    assert_ne!(renamed, last);
    std::fs::remove_file(f.root.join("src/b.txt")).unwrap();
    assert_ne!(f.settled(), renamed);
}

#[test]
fn a_walk_is_covered_only_where_directories_are_watched() {
    let f = start(true);
    let v = f.watcher.vouch();
    let covered = |dirs: &[&str], files: &[&str]| {
        v.covers(&Coverage {
            dirs: dirs.iter().map(|d| f.root.join(d)).collect(),
            links: vec![],
            files: files.iter().map(|p| f.root.join(p)).collect(),
        })
    };
    assert!(covered(&["", "src", "src/deep"], &["Cargo.toml"]));
    assert!(
        !covered(&["src", "node_modules/x"], &[]),
        "an ignored directory"
    );
    assert!(!covered(&[], &["node_modules/x/.env"]), "a file in one");
    assert!(!v.covers(&Coverage {
        dirs: vec![Path::new("/").to_path_buf()],
        ..Coverage::default()
    }));
    // A new directory gets its watch, and the epoch moves when it does.
    let before = f.settled();
    std::fs::create_dir(f.root.join("src/new")).unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while !covered(&["src/new"], &[]) {
        assert!(
            std::time::Instant::now() < deadline,
            "src/new never watched"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_ne!(f.settled(), before);
}

#[test]
fn a_watch_without_a_barrier_directory_vouches_for_nothing() {
    let f = start(false);
    let v = f.watcher.vouch();
    assert_eq!(v.epoch(), None);
    assert_eq!(v.settled(v.ticket(), Duration::from_millis(100)), None);
    // Going blind is for good, with barriers too.
    let g = start(true);
    let w = g.watcher.vouch();
    assert!(w.epoch().is_some());
    w.go_blind();
    assert_eq!(w.epoch(), None);
    assert_eq!(w.settled(w.ticket(), Duration::from_millis(100)), None);
}

#[test]
fn the_barrier_directory_goes_with_the_watcher() {
    let f = start(true);
    let dir = f.watcher.vouch().barrier_dir().unwrap().to_path_buf();
    assert!(dir.is_dir());
    let _ = f.settled();
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "a barrier file was left behind"
    );
    drop(f);
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn a_root_on_a_file_system_inotify_may_not_see_makes_the_watch_blind() {
    use devctl_supervisord::watch::vouch::Vouch;
    let run = tempfile::tempdir().unwrap();
    let v = Vouch::new(Some(run.path()));
    v.require_local(&[run.path().to_path_buf()]);
    assert!(v.epoch().is_some(), "{} is local", run.path().display());
    // procfs stands in for a network or FUSE mount: not on the list.
    v.require_local(&[PathBuf::from("/proc/self")]);
    assert_eq!(v.epoch(), None);
}

#[test]
fn a_barrier_nobody_reports_makes_the_watch_blind_for_good() {
    use devctl_supervisord::watch::vouch::Vouch;
    // A barrier directory no inotify instance watches: the barrier is never seen.
    let run = tempfile::tempdir().unwrap();
    let v = Vouch::new(Some(run.path()));
    assert!(v.epoch().is_some());
    let t0 = std::time::Instant::now();
    assert_eq!(v.settled(v.ticket(), Duration::from_millis(200)), None);
    assert!(t0.elapsed() >= Duration::from_millis(200));
    assert_eq!(v.epoch(), None, "still vouching after a lost barrier");
    // Later checks do not wait again.
    let t1 = std::time::Instant::now();
    assert_eq!(v.settled(v.ticket(), Duration::from_secs(5)), None);
    assert!(t1.elapsed() < Duration::from_secs(1));
    let dir = v.barrier_dir().unwrap();
    assert_eq!(
        std::fs::read_dir(dir).unwrap().count(),
        0,
        "barrier file left"
    );
}
