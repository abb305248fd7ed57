//! A real `EMFILE` from `inotify_init`: with the open-file limit lowered
//! to what is already open, starting a watcher fails with the typed
//! instance-limit error naming `fs.inotify.max_user_instances`. Its own
//! test binary, because the limit applies to the whole process.

use devctl_supervisord::watch::{ProjectWatcher, WatchConfig, WatchError, WatchedUnit};
use devctl_units::{ProjectName, TriggerMode, UnitName, WatchSpec};
use miette::Diagnostic;

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").unwrap().count() as u64
}

#[test]
fn emfile_becomes_the_instance_limit_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let cfg = WatchConfig::new(
        ProjectName::new("p").unwrap(),
        dir.path().to_path_buf(),
        vec![WatchedUnit {
            name: UnitName::new("app").unwrap(),
            root: dir.path().to_path_buf(),
            spec: WatchSpec {
                paths: vec!["**".into()],
                ignore: vec![],
                trigger: TriggerMode::Auto,
            },
        }],
    );
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a valid, owned struct.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut old) }, 0);
    // read_dir itself holds one descriptor while counting.
    let low = libc::rlimit {
        rlim_cur: open_fds() - 1,
        rlim_max: old.rlim_max,
    };
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &low) }, 0);
    let r = rt.block_on(async { ProjectWatcher::start(cfg, tx) });
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &old) }, 0);
    let e = r.unwrap_err();
    assert!(matches!(e, WatchError::InstanceLimit), "{e:?}");
    assert!(e.is_limit());
    assert!(
        e.to_string().contains("fs.inotify.max_user_instances"),
        "{e}"
    );
    assert!(
        e.help()
            .unwrap()
            .to_string()
            .contains("sysctl -w fs.inotify.max_user_instances=")
    );
}
