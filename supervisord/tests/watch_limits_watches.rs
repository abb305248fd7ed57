//! A real `ENOSPC` from `inotify_add_watch`: the test re-runs itself in a
//! new user namespace (`unshare -Ur`) whose inotify watch limit
//! (`/proc/sys/user/max_inotify_watches`, per namespace) is lowered to 4,
//! then watches a tree of 12 directories. The watcher must report the
//! typed watch-limit error naming `fs.inotify.max_user_watches` once, keep
//! running with the watches it has, and still report changes there
//! (T34 d: degraded, no crash), and no longer vouch that nothing changed
//! (up-to-date checks then stat every input). Its own test binary,
//! because the inner run is this binary started again.

use std::process::Command;
use std::time::Duration;

use devctl_supervisord::watch::{ProjectWatcher, WatchConfig, WatchError, WatchMsg, WatchedUnit};
use devctl_units::{ProjectName, TriggerMode, UnitName, WatchSpec};
use miette::Diagnostic;

const INNER: &str = "DEVCTL_WATCH_LIMIT_INNER";

#[test]
fn the_watch_limit_degrades_with_the_sysctl_named() {
    if std::env::var_os(INNER).is_some() {
        return inner();
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args([
            "-Ur",
            "sh",
            "-c",
            "echo 4 >/proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\"",
        ])
        .arg(&exe)
        .args([
            "--exact",
            "the_watch_limit_degrades_with_the_sysctl_named",
            "--nocapture",
        ])
        .env(INNER, "1")
        .output()
        .expect("run unshare (util-linux) to get a private inotify limit");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "inner run failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "inner test did not run:\n{stdout}"
    );
}

fn inner() {
    assert_eq!(
        std::fs::read_to_string("/proc/sys/user/max_inotify_watches")
            .unwrap()
            .trim(),
        "4"
    );
    let dir = tempfile::tempdir().unwrap();
    let barriers = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for i in 0..12 {
        std::fs::create_dir(root.join(format!("d{i:02}"))).unwrap();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut cfg = WatchConfig::new(
            ProjectName::new("p").unwrap(),
            root.clone(),
            vec![WatchedUnit {
                name: UnitName::new("app").unwrap(),
                root: root.clone(),
                spec: WatchSpec {
                    paths: vec!["**".into()],
                    ignore: vec![],
                    trigger: TriggerMode::Auto,
                },
            }],
        );
        cfg.barriers_in = Some(barriers.path().to_path_buf());
        let w = ProjectWatcher::start(cfg, tx).expect("a watcher even when limited");
        assert!(w.watched_dirs() < 13, "{} dirs watched", w.watched_dirs());
        let v = w.vouch();
        assert_eq!(v.epoch(), None, "a limited watch vouched for its epoch");
        assert_eq!(v.settled(v.ticket(), Duration::from_secs(1)), None);
        let ceiling = Duration::from_secs(20);
        match tokio::time::timeout(ceiling, rx.recv()).await {
            Ok(Some(WatchMsg::Degraded { error, .. })) => {
                assert!(matches!(error, WatchError::WatchLimit { .. }), "{error:?}");
                assert!(error.to_string().contains("fs.inotify.max_user_watches"));
                let help = error.help().unwrap().to_string();
                assert!(
                    help.contains("sysctl -w fs.inotify.max_user_watches="),
                    "{help}"
                );
            }
            other => panic!("expected a degraded report, got {other:?}"),
        }
        // The root was watched first: changes there are still seen.
        std::fs::write(root.join("top.txt"), "x").unwrap();
        match tokio::time::timeout(ceiling, rx.recv()).await {
            Ok(Some(WatchMsg::Changed(c))) => {
                assert_eq!(c.paths, vec![std::path::PathBuf::from("top.txt")]);
            }
            other => panic!("expected a change, got {other:?}"),
        }
        drop(w);
    });
}
