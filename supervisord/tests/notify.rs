//! sd_notify attribution with real processes: a message that arrives before
//! the run's main pid is known is held, not refused, and accepted once it
//! is; a process whose environment no longer shows the run's marker (a
//! program that set its process title) is the run's by lineage; a live
//! outsider and a `MAINPID=` naming one are refused after the hold. The
//! process tables count a marker-less descendant as the tree's, also once
//! it was re-parented to the daemon.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use devctl_supervisord::probe::{HOLD, NotifyMessage, NotifySocket};
use devctl_supervisord::process::{
    Reaper, SpawnSpec, TreeRef, find_marked, invocation_id, spawn, stop_tree, table_after,
};
use devctl_test_support::wait::until;
use devctl_units::Signal;

/// A perl one-liner sending `msgs` (one datagram each) to `$NOTIFY_SOCKET`
/// from the process itself, then from a forked child, then touching
/// `done` and sleeping.
fn notifier(parent_msg: &str, child_msg: &str, done: &Path) -> String {
    format!(
        r#"use IO::Socket::UNIX;
my $send = sub {{
    my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM(), Peer => $ENV{{NOTIFY_SOCKET}}) or die "socket: $!";
    my $m = shift; $m =~ s/CHILD/$$/; $s->send($m) or die "send: $!";
}};
$send->("{parent_msg}");
my $pid = fork();
if ($pid == 0) {{ $send->("{child_msg}"); open(my $f, '>', '{done}') or die; close $f; sleep 1000; exit 0; }}
sleep 1000;"#,
        done = done.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_message_from_an_unmarked_process_is_held_until_the_run_is_known() {
    let dir = tempfile::tempdir().unwrap();
    let marker = invocation_id();
    let path = dir.path().join("n.sock");
    let mut sock = NotifySocket::bind(&path, &marker).unwrap();
    let done = dir.path().join("done");
    // Started outside the daemon's spawn and without the marker: only the
    // root pid added below ties it (and its fork) to the run.
    let main = Command::new("perl")
        .arg("-e")
        .arg(notifier("STATUS=early", "READY=1\nMAINPID=CHILD", &done))
        .env("NOTIFY_SOCKET", &path)
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    assert!(until(Duration::from_secs(20), || done.exists()).await);
    // Both datagrams are in; neither may be judged (let alone refused)
    // before the run's main pid is known.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), sock.recv())
            .await
            .is_err(),
        "a message was judged before the run's main pid was known"
    );
    sock.roots().add(main.id() as i32);
    let mut got = Vec::new();
    while got.len() < 3 {
        got.push(
            tokio::time::timeout(Duration::from_secs(10), sock.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    assert_eq!(got[0], NotifyMessage::Status("early".into()));
    assert_eq!(got[1], NotifyMessage::Ready);
    let NotifyMessage::MainPid(forked) = got[2] else {
        panic!("{got:?}")
    };
    assert_ne!(forked, main.id() as i32);
    // A live outsider (this test process) is refused, after the hold.
    let outsider = std::os::unix::net::UnixDatagram::unbound().unwrap();
    outsider.send_to(b"READY=1", &path).unwrap();
    let asked = Instant::now();
    let msg = tokio::time::timeout(HOLD * 5, sock.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        msg,
        NotifyMessage::Rejected(format!(
            "sender pid {} is not part of the unit",
            std::process::id()
        ))
    );
    assert!(asked.elapsed() >= HOLD, "refused only after the hold");
    // A process of the run naming a process outside it is refused too.
    let child = Command::new("perl")
        .arg("-e")
        .arg(notifier("MAINPID=1", "STATUS=x", &dir.path().join("done2")))
        .env("NOTIFY_SOCKET", &path)
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    sock.roots().add(child.id() as i32);
    let msg = tokio::time::timeout(HOLD * 5, sock.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        msg,
        NotifyMessage::Rejected("MAINPID=1 is not a process of the unit".into())
    );
    // Each was made a group leader: the group takes its fork along.
    for mut c in [main, child] {
        nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(c.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        c.wait().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_descendant_without_the_marker_belongs_to_the_tree_even_when_orphaned() {
    let reaper = Reaper::install().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let marker = invocation_id();
    let pid_file = dir.path().join("child.pid");
    let script = format!(
        "env -u DEVCTL_INVOCATION_ID sleep 300 & echo $! > {}; exec sleep 300",
        pid_file.display()
    );
    let spec = SpawnSpec {
        argv: vec!["/bin/sh".into(), "-c".into(), script],
        dir: PathBuf::from("/"),
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        invocation_id: marker.clone(),
        ..SpawnSpec::default()
    };
    let main = spawn(&reaper, spec).await.unwrap();
    let read_pid = || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
    };
    assert!(until(Duration::from_secs(20), || read_pid().is_some()).await);
    let escapee = read_pid().unwrap();
    // Its own environment has no marker once `env` has exec'd `sleep`.
    assert!(
        until(Duration::from_secs(20), || {
            std::fs::read_link(format!("/proc/{escapee}/exe"))
                .is_ok_and(|e| e.to_string_lossy().contains("sleep"))
        })
        .await
    );
    let environ = std::fs::read(format!("/proc/{escapee}/environ")).unwrap();
    assert!(
        !String::from_utf8_lossy(&environ).contains("DEVCTL_INVOCATION_ID"),
        "the escapee shows no marker"
    );
    let in_tree = |pid: i32| {
        table_after(Instant::now())
            .marked(&marker)
            .any(|p| p.pid == pid)
    };
    assert!(in_tree(escapee), "found by lineage");
    assert!(in_tree(main.pid));
    // Orphaned: its parent is gone and it hangs below us, the subreaper.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(main.pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let tree = main.tree();
    main.wait().await;
    assert!(in_tree(escapee), "still the tree's once re-parented");
    assert!(find_marked(&marker).iter().any(|p| p.pid == escapee));
    stop_tree(
        &TreeRef::marker_only(&marker),
        Signal::SIGTERM,
        Duration::from_secs(5),
        Duration::from_secs(5),
    )
    .await;
    drop(tree);
    assert!(
        until(Duration::from_secs(10), || !Path::new(&format!(
            "/proc/{escapee}"
        ))
        .exists()
            || std::fs::read_to_string(format!("/proc/{escapee}/stat"))
                .is_ok_and(|s| s.contains(") Z ")))
        .await,
        "the marker-less escapee was stopped with its tree"
    );
}
