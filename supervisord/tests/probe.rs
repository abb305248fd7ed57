//! Real-process tests of the probe layer: exec (success, failure reason,
//! timeout killing the whole probe tree, leftovers killed), HTTP status
//! matching, TCP, foreign listeners, sd_notify parsing and sender checks,
//! and the listen watcher's promptness.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use devctl_supervisord::probe::{
    ListenWatcher, NotifyMessage, NotifySocket, ProbeCtx, ProbeOutcome, SCAN_FAST, check,
    check_seen,
};
use devctl_supervisord::process::{
    ExitStatus, Reaper, Sighting, SpawnSpec, find_marked, invocation_id, spawn,
};
use devctl_test_support::net::free_port;
use devctl_test_support::procs::marked_pids;
use devctl_units::ProbeCheck;

fn ctx(reaper: &Arc<Reaper>, marker: &str) -> ProbeCtx {
    ProbeCtx {
        reaper: reaper.clone(),
        dir: PathBuf::from("/"),
        // The probe's own processes carry this tag so the test can find them.
        env: vec![
            ("PATH".into(), "/usr/bin:/bin".into()),
            ("PROBE_TAG".into(), marker.into()),
        ]
        .into(),
        unit_marker: None,
    }
}

fn exec(script: &str) -> ProbeCheck {
    ProbeCheck::Exec(vec!["/bin/sh".into(), "-c".into(), script.into()])
}

/// Processes whose environment has `PROBE_TAG=<tag>`.
fn tagged(tag: &str) -> usize {
    marked_pids("PROBE_TAG", tag).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_probe_success_failure_and_spawn_error() {
    let reaper = Reaper::install().unwrap();
    let tag = invocation_id();
    let c = ctx(&reaper, &tag);
    assert_eq!(
        check(&exec("exit 0"), Duration::from_secs(5), &c).await,
        ProbeOutcome::Success
    );
    assert_eq!(
        check(
            &exec("echo 'db not up'; exit 3"),
            Duration::from_secs(5),
            &c
        )
        .await,
        ProbeOutcome::Failure("exited 3: db not up".into())
    );
    let missing = ProbeCheck::Exec(vec!["/no/such/probe".into()]);
    assert_eq!(
        check(&missing, Duration::from_secs(5), &c).await,
        ProbeOutcome::Failure("exec-failed: No such file or directory: /no/such/probe".into())
    );
    // A probe printing a lot is read with a cap and still succeeds.
    assert_eq!(
        check(
            &exec("head -c 20000000 /dev/zero; exit 0"),
            Duration::from_secs(10),
            &c
        )
        .await,
        ProbeOutcome::Success
    );
    // Background children left behind by a successful probe are killed.
    assert_eq!(
        check(
            &exec("sleep 1000 & sleep 1000 & exit 0"),
            Duration::from_secs(5),
            &c
        )
        .await,
        ProbeOutcome::Success
    );
    assert_eq!(tagged(&tag), 0);
}

/// T14: a hung probe is killed at its timeout with its whole tree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_probe_timeout_kills_the_probe_tree() {
    let reaper = Reaper::install().unwrap();
    let tag = invocation_id();
    let c = ctx(&reaper, &tag);
    let started = Instant::now();
    let outcome = check(
        &exec("setsid sleep 1000 & sleep 1000 & sleep 1000"),
        Duration::from_millis(300),
        &c,
    )
    .await;
    assert_eq!(outcome, ProbeOutcome::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(tagged(&tag), 0, "nothing of the probe survives");
}

fn serve_http(status: u16) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (port, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_probe_matches_status() {
    let reaper = Reaper::install().unwrap();
    let c = ctx(&reaper, &invocation_id());
    let http = |port: u16, status: Option<u16>| ProbeCheck::Http {
        url: format!("http://127.0.0.1:{port}/health"),
        status,
    };
    let t = Duration::from_secs(5);
    let (port, h) = serve_http(204);
    assert_eq!(check(&http(port, None), t, &c).await, ProbeOutcome::Success);
    h.join().unwrap();
    let (port, h) = serve_http(500);
    assert_eq!(
        check(&http(port, None), t, &c).await,
        ProbeOutcome::Failure(format!("HTTP 500 from http://127.0.0.1:{port}/health"))
    );
    h.join().unwrap();
    let (port, h) = serve_http(418);
    assert_eq!(
        check(&http(port, Some(418)), t, &c).await,
        ProbeOutcome::Success
    );
    h.join().unwrap();
    let (port, h) = serve_http(200);
    assert!(matches!(
        check(&http(port, Some(201)), t, &c).await,
        ProbeOutcome::Failure(_)
    ));
    h.join().unwrap();
    // Nothing listening: a connect error, named.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ProbeOutcome::Failure(reason) = check(&http(closed, None), t, &c).await else {
        panic!("expected failure")
    };
    assert!(reason.contains("Connection refused"), "{reason}");
    // Only plain http, only valid URLs.
    let https = ProbeCheck::Http {
        url: "https://127.0.0.1/".into(),
        status: None,
    };
    assert!(
        matches!(check(&https, t, &c).await, ProbeOutcome::Failure(r) if r.contains("only http://"))
    );
    let bad = ProbeCheck::Http {
        url: "http://bad host/".into(),
        status: None,
    };
    assert!(
        matches!(check(&bad, t, &c).await, ProbeOutcome::Failure(r) if r.contains("invalid URL"))
    );
    // A server that accepts but never answers times out.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    assert_eq!(
        check(&http(port, None), Duration::from_millis(200), &c).await,
        ProbeOutcome::Timeout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_probe_and_foreign_listener() {
    let reaper = Reaper::install().unwrap();
    let mut c = ctx(&reaper, &invocation_id());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let tcp = ProbeCheck::Tcp {
        host: "127.0.0.1".into(),
        port,
    };
    assert_eq!(
        check(&tcp, Duration::from_secs(5), &c).await,
        ProbeOutcome::Success
    );
    // T37: the listener is this test process, not the unit: not ready.
    c.unit_marker = Some(invocation_id());
    let ProbeOutcome::Failure(reason) = check(&tcp, Duration::from_secs(5), &c).await else {
        panic!("foreign listener accepted")
    };
    assert!(
        reason.contains(&format!("port {port} in use by pid {}", std::process::id())),
        "{reason}"
    );
    drop(listener);
    c.unit_marker = None;
    assert!(
        matches!(check(&tcp, Duration::from_secs(5), &c).await, ProbeOutcome::Failure(r) if r.contains("refused"))
    );
    for event_driven in [ProbeCheck::Notify, ProbeCheck::Log { regex: "x".into() }] {
        assert!(
            matches!(check(&event_driven, Duration::from_secs(1), &c).await, ProbeOutcome::Failure(r) if r.contains("event-driven"))
        );
    }
}

/// The inode of the socket behind `fd` of this process.
fn socket_inode(fd: i32) -> u64 {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
    let link = link.to_str().unwrap();
    link.strip_prefix("socket:[")
        .and_then(|s| s.strip_suffix(']'))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a socket: {link}"))
}

/// The sockets the listen watcher hands over settle whose listener it is:
/// the unit's own child holding one is ready; a foreign listener is not,
/// whatever was seen; a stale or missing sighting falls back to a fresh
/// look, which leaves the unit's sockets known for the next check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_seen_by_the_watcher_confirm_the_units_listener() {
    use std::os::fd::AsRawFd;
    let reaper = Reaper::install().unwrap();
    let watcher = ListenWatcher::new();
    let port = free_port();
    let marker = invocation_id();
    // It never accepts: the backlog holds every check's connection.
    let spec = SpawnSpec {
        argv: vec![
            "perl".into(),
            "-MIO::Socket::INET".into(),
            "-e".into(),
            format!(
                "$s = IO::Socket::INET->new(LocalAddr => q(127.0.0.1:{port}), Listen => 64, ReuseAddr => 1) or die; sleep 1000"
            ),
        ],
        dir: PathBuf::from("/"),
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        invocation_id: marker.clone(),
        ..SpawnSpec::default()
    };
    let child = spawn(&reaper, spec).await.unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(10), watcher.wait_listening(port))
        .await
        .expect("the child listens");
    assert_eq!(seen.len(), 1, "one LISTEN socket on {port}: {seen:?}");
    let tcp = ProbeCheck::Tcp {
        host: "127.0.0.1".into(),
        port,
    };
    let mut c = ctx(&reaper, &invocation_id());
    c.unit_marker = Some(marker.clone());
    // The child's fd on its LISTEN socket, as a check finds it.
    let child_fd = std::fs::read_dir(format!("/proc/{}/fd", child.pid))
        .unwrap()
        .filter_map(Result::ok)
        .find(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|t| t.to_str() == Some(&format!("socket:[{}]", seen[0])))
        })
        .and_then(|fd| fd.file_name().to_str()?.parse::<i32>().ok())
        .expect("the child holds its listener");
    // Seen, stale or unknown: ready, and the unit's sockets and the fd
    // holding one are known after.
    for before in [seen.clone(), vec![1], vec![]] {
        let mut known = Sighting::of(before.clone());
        assert_eq!(
            check_seen(&tcp, Duration::from_secs(5), &c, &mut known).await,
            ProbeOutcome::Success,
            "known before: {before:?}"
        );
        assert_eq!(known.sockets(), seen, "known before: {before:?}");
        assert_eq!(known.holder(), Some((child.pid, child_fd)));
        // The next check settles it from that fd, and keeps it.
        let kept = known.clone();
        assert_eq!(
            check_seen(&tcp, Duration::from_secs(5), &c, &mut known).await,
            ProbeOutcome::Success
        );
        assert_eq!(known, kept);
    }
    // Another unit's marker: the same sighting does not make it ready,
    // nor does a holder found for this unit.
    let mut mine = Sighting::of(seen.clone());
    assert_eq!(
        check_seen(&tcp, Duration::from_secs(5), &c, &mut mine).await,
        ProbeOutcome::Success
    );
    c.unit_marker = Some(invocation_id());
    for mut known in [Sighting::of(seen.clone()), mine] {
        assert!(matches!(
            check_seen(&tcp, Duration::from_secs(5), &c, &mut known).await,
            ProbeOutcome::Failure(r) if r.contains(&format!("in use by pid {}", child.pid))
        ));
    }
    let _ = child.pidfd.as_ref().unwrap().send_signal(libc::SIGKILL);
    let _ = child.wait().await;

    // A listener of this test process, seen by the watcher: foreign.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = watcher.wait_listening(port).await;
    assert_eq!(seen, vec![socket_inode(listener.as_raw_fd())]);
    let tcp = ProbeCheck::Tcp {
        host: "127.0.0.1".into(),
        port,
    };
    let mut known = Sighting::of(seen.clone());
    let ProbeOutcome::Failure(reason) =
        check_seen(&tcp, Duration::from_secs(5), &c, &mut known).await
    else {
        panic!("foreign listener accepted")
    };
    assert!(
        reason.contains(&format!("port {port} in use by pid {}", std::process::id())),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_socket_parses_and_validates_senders() {
    let reaper = Reaper::install().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let marker = invocation_id();
    let path = dir.path().join(format!("{marker}.sock"));
    std::fs::write(&path, b"stale").unwrap();
    let mut sock = NotifySocket::bind(&path, &marker).unwrap();
    assert_eq!(sock.path(), path);
    let script = r#"exec perl -MIO::Socket::UNIX -e '
        my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM(), Peer => $ENV{NOTIFY_SOCKET}) or die "socket: $!";
        $s->send("STATUS=warming up\nMAINPID=$$") or die;
        $s->send("MAINPID=1") or die;
        $s->send("READY=1") or die;
        sleep 1000'"#;
    let spec = SpawnSpec {
        argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
        dir: PathBuf::from("/"),
        env: vec![
            ("PATH".into(), "/usr/bin:/bin".into()),
            ("NOTIFY_SOCKET".into(), path.display().to_string()),
        ],
        invocation_id: marker.clone(),
        ..SpawnSpec::default()
    };
    let child = spawn(&reaper, spec).await.unwrap();
    sock.roots().add(child.pid);
    let mut got = Vec::new();
    while got.len() < 4 {
        got.push(
            tokio::time::timeout(Duration::from_secs(10), sock.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    assert_eq!(
        got,
        vec![
            NotifyMessage::Status("warming up".into()),
            NotifyMessage::MainPid(child.pid),
            NotifyMessage::Rejected("MAINPID=1 is not a process of the unit".into()),
            NotifyMessage::Ready,
        ]
    );
    // A live sender outside the unit (this test process) is refused.
    let outsider = std::os::unix::net::UnixDatagram::unbound().unwrap();
    outsider.send_to(b"READY=1", &path).unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(10), sock.recv())
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
    let tree = child.tree();
    devctl_supervisord::process::stop_tree(
        &tree,
        devctl_units::Signal::SIGTERM,
        Duration::from_secs(5),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        child.wait().await,
        ExitStatus::Signaled {
            signal: libc::SIGTERM,
            core_dumped: false
        }
    );
    assert!(find_marked(&marker).is_empty());
    drop(sock);
    assert!(!path.exists(), "socket file removed on drop");
    // Binding where the directory does not exist fails.
    assert!(NotifySocket::bind(dir.path().join("no/such.sock"), &marker).is_err());
}

/// Prompt readiness: a listener that appears 200 ms later is seen within a few ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_watcher_detects_a_late_listener_promptly() {
    let watcher = ListenWatcher::new();
    let port = free_port();
    let (tx, rx) = std::sync::mpsc::channel();
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
        tx.send(Instant::now()).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        drop(l);
    });
    // Several waiters share one scan loop.
    let other_ports: Vec<u16> = (0..20)
        .map(|_| {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .collect();
    let others: Vec<_> = other_ports
        .iter()
        .map(|p| {
            let w = watcher.clone();
            let p = *p;
            tokio::spawn(async move { w.wait_listening(p).await })
        })
        .collect();
    let scans_before = watcher.scans();
    tokio::time::timeout(Duration::from_secs(10), watcher.wait_listening(port))
        .await
        .unwrap();
    let seen = Instant::now();
    let opened = rx.recv().unwrap();
    let latency = seen.saturating_duration_since(opened);
    assert!(
        // the mechanism, not the figure (the bench measures that): one
        // scan loop wakes the waiter long before any probe period
        latency < Duration::from_millis(250),
        "detected after {latency:?}"
    );
    let scans = watcher.scans() - scans_before;
    // At most one scan per SCAN_FAST for the ~200 ms of the wait, however
    // many wait (per-waiter scanning would make 21 times as many).
    let ticks = (latency + Duration::from_millis(250)).as_micros() / SCAN_FAST.as_micros();
    assert!(
        u128::from(scans) <= ticks,
        "one scan per tick for all 21 waiters, not per waiter: {scans} in {ticks} ticks"
    );
    for o in others {
        o.abort();
    }
    opener.join().unwrap();
    // A port already listening resolves at once.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    tokio::time::timeout(
        Duration::from_millis(100),
        watcher.wait_listening(l.local_addr().unwrap().port()),
    )
    .await
    .unwrap();
}
