//! Real-process tests of the process layer: spawn, exec-error
//! classification, reaping, whole-tree stop (T01-T05) and port lookups.
//! Every test gives its processes a unique marker and ends by asserting
//! that no process carries it (the orphan oracle).

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use devctl_supervisord::process::{
    ExitStatus, Reaper, SpawnError, SpawnSpec, StopOutcome, TreeRef, find_marked, forked_for,
    invocation_id, port_holder, spawn, stop_tree,
};
use devctl_test_support::net::free_port;
use devctl_test_support::wait::until;
use devctl_units::Signal;
use tokio::io::AsyncReadExt;

fn env() -> Vec<(String, String)> {
    vec![
        ("PATH".into(), "/usr/bin:/bin".into()),
        ("LC_ALL".into(), "C".into()),
    ]
}

fn sh(script: &str, marker: &str) -> SpawnSpec {
    SpawnSpec {
        argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
        dir: PathBuf::from("/"),
        env: env(),
        capture: true,
        invocation_id: marker.into(),
        ..SpawnSpec::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_sets_exactly_the_environment_and_captures_output() {
    let reaper = Reaper::install().unwrap();
    let marker = invocation_id();
    let mut spec = sh("env; echo err >&2; exit 3", &marker);
    spec.env
        .push(("DEVCTL_INVOCATION_ID".into(), "spoofed".into()));
    let mut child = spawn(&reaper, spec).await.unwrap();
    assert!(child.pid > 0 && child.start_time > 0);
    assert!(child.pidfd.is_some());
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .await
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    assert_eq!(child.wait().await, ExitStatus::Exited(3));
    assert_eq!(child.try_status(), Some(ExitStatus::Exited(3)));
    let mut vars: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with("PWD=") && !l.starts_with("SHLVL=") && !l.starts_with("_="))
        .collect();
    vars.sort();
    assert_eq!(
        vars,
        vec![
            format!("DEVCTL_INVOCATION_ID={marker}").as_str(),
            "LC_ALL=C",
            "PATH=/usr/bin:/bin"
        ]
    );
    assert_eq!(err, "err\n");
    assert!(find_marked(&marker).is_empty());
}

/// A spawn dropped after it was asked for (the fork runs on the spawning
/// thread anyway) leaves no process behind: the child is killed, and so is
/// anything it forked meanwhile (`sh -c` forks its `sleep`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_spawn_kills_its_child() {
    let reaper = Reaper::install().unwrap();
    let marker = invocation_id();
    let before = reaper.reaped_total();
    let mut spawning = Box::pin(spawn(&reaper, sh("sleep 1000", &marker)));
    {
        // Holding the reaper's registry keeps the spawning thread from
        // forking, so the one poll below is surely answered "pending",
        // however late this thread runs; the fork happens once the spawn
        // is dropped.
        let _no_fork_yet = reaper.registration();
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let first = spawning.as_mut().poll(&mut cx);
        assert!(first.is_pending(), "the fork runs on the spawning thread");
        drop(spawning);
    }
    assert!(
        until(Duration::from_secs(10), || reaper.reaped_total() > before
            && find_marked(&marker).is_empty())
        .await,
        "the child was started, killed and reaped, and nothing it forked is left"
    );
    assert!(find_marked(&marker).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_is_cancel_safe_in_select() {
    let reaper = Reaper::install().unwrap();
    let marker = invocation_id();
    let child = spawn(&reaper, sh("sleep 0.2", &marker)).await.unwrap();
    let mut ticks = 0;
    let status = loop {
        tokio::select! {
            s = child.wait() => break s,
            _ = tokio::time::sleep(Duration::from_millis(20)) => ticks += 1,
        }
    };
    assert_eq!(status, ExitStatus::Exited(0));
    assert!(ticks >= 2, "wait was polled and cancelled several times");
    assert!(find_marked(&marker).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_failures_are_classified_with_paths() {
    let reaper = Reaper::install().unwrap();
    let marker = invocation_id();
    let dir = tempfile::tempdir().unwrap();
    let spec = |argv: &[&str]| SpawnSpec {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        dir: dir.path().to_path_buf(),
        env: env(),
        invocation_id: marker.clone(),
        ..SpawnSpec::default()
    };

    let err = spawn(&reaper, spec(&["/usr/bin/nonexistent"]))
        .await
        .unwrap_err();
    assert!(matches!(err, SpawnError::NotFound { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "exec-failed: No such file or directory: /usr/bin/nonexistent"
    );
    assert!(err.is_permanent());

    let err = spawn(&reaper, spec(&["no-such-program-xyz"]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SpawnError::NotFound { help: Some(_), .. }),
        "{err:?}"
    );

    let plain = dir.path().join("plain.sh");
    std::fs::write(&plain, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = spawn(&reaper, spec(&[plain.to_str().unwrap()]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SpawnError::PermissionDenied { path } if *path == plain),
        "{err:?}"
    );

    let garbage = dir.path().join("garbage");
    std::fs::write(
        &garbage,
        [0x7f, b'X', b'Y', b'Z', 0, 1, 2, 3, 4, 5, 6, 7, 8],
    )
    .unwrap();
    std::fs::set_permissions(&garbage, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = spawn(&reaper, spec(&[garbage.to_str().unwrap()]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SpawnError::ExecFormat { path } if *path == garbage),
        "{err:?}"
    );

    let badinterp = dir.path().join("badinterp");
    std::fs::write(&badinterp, "#!/no/such/interpreter\n").unwrap();
    std::fs::set_permissions(&badinterp, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = spawn(&reaper, spec(&["./badinterp"])).await.unwrap_err();
    assert!(
        matches!(&err, SpawnError::BadInterpreter { interpreter, .. } if interpreter == "/no/such/interpreter"),
        "{err:?}"
    );

    let mut missing_dir = spec(&["/bin/true"]);
    missing_dir.dir = dir.path().join("nope");
    let err = spawn(&reaper, missing_dir).await.unwrap_err();
    assert!(
        matches!(&err, SpawnError::BadDir { source, .. } if source.raw_os_error() == Some(libc::ENOENT)),
        "{err:?}"
    );

    let mut file_dir = spec(&["/bin/true"]);
    file_dir.dir = plain.clone();
    let err = spawn(&reaper, file_dir).await.unwrap_err();
    assert!(
        matches!(&err, SpawnError::BadDir { source, .. } if source.raw_os_error() == Some(libc::ENOTDIR)),
        "{err:?}"
    );

    assert!(matches!(
        spawn(&reaper, spec(&[])).await,
        Err(SpawnError::InvalidSpec(_))
    ));
    let mut bad_id = spec(&["/bin/true"]);
    bad_id.invocation_id = "a=b".into();
    assert!(matches!(
        spawn(&reaper, bad_id).await,
        Err(SpawnError::InvalidSpec(_))
    ));

    // The reaper is still healthy after all those failed execs.
    let ok = spawn(&reaper, spec(&["true"])).await.unwrap();
    assert_eq!(ok.wait().await, ExitStatus::Exited(0));
    assert!(find_marked(&marker).is_empty());
}

/// T01: background child, setsid + double-forked grandchild holding a TCP
/// port, and a child in its own process group ignoring SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_removes_the_whole_tree_including_escapees() {
    let reaper = Reaper::install().unwrap();
    let marker = invocation_id();
    let port = free_port();
    let script = format!(
        r#"sleep 1000 &
setsid sh -c '(exec perl -MIO::Socket::INET -e "\$s = IO::Socket::INET->new(LocalAddr => q(127.0.0.1:{port}), Listen => 5, ReuseAddr => 1) or die; sleep 1000" &)' &
perl -e 'setpgrp(0, 0); $SIG{{TERM}} = "IGNORE"; sleep 1000' &
wait"#
    );
    let child = spawn(&reaper, sh(&script, &marker)).await.unwrap();
    let tree = child.tree();
    assert!(
        until(Duration::from_secs(10), || port_holder(port).is_some()
            && find_marked(&marker).len() >= 4)
        .await
    );
    let holder = port_holder(port).unwrap();
    let marked = find_marked(&marker);
    let escapee = marked
        .iter()
        .find(|p| p.pid == holder.pid)
        .expect("the port holder carries the marker");
    assert_ne!(
        escapee.pgid, child.pid,
        "the grandchild escaped the process group"
    );
    assert!(holder.cmdline.contains("perl"));
    assert!(
        marked
            .iter()
            .any(|p| p.pgid != child.pid && p.pid != holder.pid),
        "a child in its own group"
    );

    let started = Instant::now();
    let outcome = stop_tree(
        &tree,
        Signal::SIGTERM,
        Duration::from_millis(500),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        outcome,
        StopOutcome::Killed,
        "the TERM-ignoring child needed SIGKILL"
    );
    // SIGKILL follows the 500 ms timeout, long before the 5 s kill wait
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(find_marked(&marker).is_empty());
    TcpListener::bind(("127.0.0.1", port)).expect("port bindable right after the stop");
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .unwrap();
    assert_eq!(
        status,
        ExitStatus::Signaled {
            signal: libc::SIGTERM,
            core_dumped: false
        }
    );
}

/// T02: a TERM-ignoring process, also while SIGSTOPped, is SIGKILLed at the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn term_ignoring_and_stopped_processes_are_escalated() {
    let reaper = Reaper::install().unwrap();
    for stopped in [false, true] {
        let marker = invocation_id();
        let child = spawn(&reaper, sh("trap '' TERM; sleep 3600", &marker))
            .await
            .unwrap();
        assert!(until(Duration::from_secs(5), || find_marked(&marker).len() == 2).await);
        if stopped {
            for p in find_marked(&marker) {
                nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(p.pid),
                    nix::sys::signal::Signal::SIGSTOP,
                )
                .unwrap();
            }
        }
        let timeout = Duration::from_secs(1);
        let started = Instant::now();
        let outcome = stop_tree(
            &child.tree(),
            Signal::SIGTERM,
            timeout,
            Duration::from_secs(5),
        )
        .await;
        let took = started.elapsed();
        assert_eq!(outcome, StopOutcome::Killed);
        assert!(
            took >= timeout && took < timeout + Duration::from_secs(1),
            "took {took:?}"
        );
        assert_eq!(
            child.wait().await,
            ExitStatus::Signaled {
                signal: libc::SIGKILL,
                core_dumped: false
            }
        );
        assert!(find_marked(&marker).is_empty());
    }
}

/// A process that exits on TERM stops gracefully, well before the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_stop_returns_promptly() {
    let reaper = Reaper::install().unwrap();
    let marker = invocation_id();
    let child = spawn(&reaper, sh("sleep 3600 & wait", &marker))
        .await
        .unwrap();
    assert!(until(Duration::from_secs(5), || find_marked(&marker).len() == 2).await);
    let started = Instant::now();
    let outcome = stop_tree(
        &child.tree(),
        Signal::SIGTERM,
        Duration::from_secs(10),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(outcome, StopOutcome::Graceful);
    // graceful: well before the 10 s stop timeout
    assert!(started.elapsed() < Duration::from_secs(6));
    assert!(find_marked(&marker).is_empty());
    // Stopping an already-stopped tree is a no-op.
    assert_eq!(
        stop_tree(
            &child.tree(),
            Signal::SIGTERM,
            Duration::ZERO,
            Duration::ZERO
        )
        .await,
        StopOutcome::Graceful
    );
}

/// T03: the leader exits on TERM; its child in the same group ignores TERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_exits_but_term_ignoring_child_is_killed() {
    let reaper = Reaper::install().unwrap();
    let marker = invocation_id();
    let child = spawn(
        &reaper,
        sh(
            "trap 'exit 0' TERM; (trap '' TERM; sleep 3600) & wait",
            &marker,
        ),
    )
    .await
    .unwrap();
    assert!(until(Duration::from_secs(5), || find_marked(&marker).len() >= 2).await);
    let tree = child.tree();
    let stop = stop_tree(
        &tree,
        Signal::SIGTERM,
        Duration::from_secs(1),
        Duration::from_secs(5),
    );
    tokio::pin!(stop);
    let leader = tokio::select! {
        s = child.wait() => s,
        _ = &mut stop => panic!("stop finished before the leader exited"),
    };
    assert_eq!(leader, ExitStatus::Exited(0));
    assert!(
        !find_marked(&marker).is_empty(),
        "the child outlives the leader until the timeout"
    );
    assert_eq!(stop.await, StopOutcome::Killed);
    assert!(find_marked(&marker).is_empty());
}

/// Survivors within the kill wait are reported, by pid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survivors_of_a_zero_kill_wait_are_reported() {
    let reaper = Reaper::install().unwrap();
    let marker = invocation_id();
    let child = spawn(&reaper, sh("trap '' TERM; sleep 3600", &marker))
        .await
        .unwrap();
    assert!(until(Duration::from_secs(5), || find_marked(&marker).len() == 2).await);
    let outcome = stop_tree(
        &child.tree(),
        Signal::SIGTERM,
        Duration::ZERO,
        Duration::ZERO,
    )
    .await;
    let StopOutcome::Unkillable(pids) = outcome else {
        panic!("expected survivors, got {outcome:?}")
    };
    assert!(pids.contains(&child.pid));
    // They were SIGKILLed and do go away.
    assert!(until(Duration::from_secs(5), || find_marked(&marker).is_empty()).await);
}

/// T05: double-forked short-lived orphans are re-parented to us and reaped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_are_reaped() {
    let reaper = Reaper::install().unwrap();
    let marker = invocation_id();
    let before = reaper.orphans_reaped();
    let child = spawn(
        &reaper,
        sh(
            "i=0; while [ $i -lt 200 ]; do (sleep 0.05 &); i=$((i+1)); done",
            &marker,
        ),
    )
    .await
    .unwrap();
    assert_eq!(child.wait().await, ExitStatus::Exited(0));
    assert!(
        until(Duration::from_secs(20), || reaper.orphans_reaped()
            >= before + 200)
        .await,
        "orphans reaped: {}",
        reaper.orphans_reaped() - before
    );
    let me = std::process::id() as i32;
    let zombies = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                    let rest = &s[s.rfind(')').unwrap() + 2..];
                    let f: Vec<&str> = rest.split(' ').collect();
                    f[0] == "Z" && f[1] == me.to_string()
                })
            })
            .count()
    };
    assert!(until(Duration::from_secs(5), || zombies() == 0).await);
    assert!(find_marked(&marker).is_empty());
}

/// A pid recorded with the wrong start time is never adopted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopt_checks_identity() {
    let reaper = Reaper::install().unwrap();
    let marker = invocation_id();
    let child = spawn(&reaper, sh("sleep 3600", &marker)).await.unwrap();
    assert!(TreeRef::adopt(child.pid, child.start_time + 1, &marker).is_none());
    let adopted = TreeRef::adopt(child.pid, child.start_time, &marker).expect("same process");
    assert_eq!(adopted.pgid, child.pid);
    let outcome = stop_tree(
        &adopted,
        Signal::SIGTERM,
        Duration::from_secs(5),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(outcome, StopOutcome::Graceful);
    assert_eq!(
        child.wait().await,
        ExitStatus::Signaled {
            signal: libc::SIGTERM,
            core_dumped: false
        }
    );
    // A marker-only reference still finds stragglers.
    let straggler = spawn(&reaper, sh("sleep 3600", &marker)).await.unwrap();
    let only = TreeRef::marker_only(&marker);
    assert_eq!(
        stop_tree(
            &only,
            Signal::SIGKILL,
            Duration::from_secs(5),
            Duration::from_secs(5)
        )
        .await,
        StopOutcome::Killed
    );
    assert!(straggler.wait().await.code().is_none());
    assert!(find_marked(&marker).is_empty());
    let _ = Arc::clone(&reaper);
}

/// After the leader exits, a double-forked escapee is re-parented to the
/// daemon (a child subreaper): the stop must still find and stop it, while
/// the reaped leader of a tree with nothing left (another tree running
/// beside it) is known to be empty at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaped_leader_with_an_orphaned_escapee_is_not_empty() {
    let reaper = Reaper::install().unwrap();
    let other_marker = invocation_id();
    let other = spawn(&reaper, sh("exec sleep 1000", &other_marker))
        .await
        .unwrap();

    let marker = invocation_id();
    let child = spawn(
        &reaper,
        sh("setsid sh -c 'sleep 1000 & exit 0' & wait", &marker),
    )
    .await
    .unwrap();
    let tree = child.tree();
    let _ = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("the leader exits");
    assert!(until(Duration::from_secs(5), || find_marked(&marker).len() == 1).await);
    let orphan = find_marked(&marker)[0].pid;
    // `pid (comm) STATE PPID …`: the state may be R or S under load.
    let stat = std::fs::read_to_string(format!("/proc/{orphan}/stat")).unwrap();
    let ppid = stat.rsplit_once(") ").unwrap().1.split(' ').nth(1).unwrap();
    assert_eq!(
        ppid,
        std::process::id().to_string(),
        "the escapee is now our child: {stat}"
    );
    let outcome = stop_tree(
        &tree,
        Signal::SIGTERM,
        Duration::from_secs(2),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(outcome, StopOutcome::Graceful);
    assert!(find_marked(&marker).is_empty(), "the escapee was stopped");

    // Nothing left of it now: empty at once, the other tree untouched.
    let started = Instant::now();
    let again = stop_tree(
        &tree,
        Signal::SIGTERM,
        Duration::from_secs(2),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(again, StopOutcome::Graceful);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(find_marked(&other_marker).len(), 1);
    let _ = stop_tree(
        &other.tree(),
        Signal::SIGKILL,
        Duration::from_secs(2),
        Duration::from_secs(5),
    )
    .await;
}

/// A daemon's start command forks a process that drops the marker from its
/// environment (as a process title written over it does) and exits: the
/// survivor, re-parented to us, is the run's daemon by its lineage. A
/// process we did not start (a grandchild of this test under a live
/// parent) is not, whatever its start time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_forked_daemon_without_the_marker_is_the_runs() {
    let reaper = Reaper::install().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let marker = invocation_id();
    let pid_file = dir.path().join("d.pid");
    let script = format!(
        "env -u DEVCTL_INVOCATION_ID setsid sh -c 'echo $$ > {}; exec sleep 300' &",
        pid_file.display()
    );
    let starter = spawn(&reaper, sh(&script, &marker)).await.unwrap();
    let (root, since) = (starter.pid, starter.start_time);
    assert!(starter.wait().await.success());
    let read_pid = || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
    };
    assert!(until(Duration::from_secs(20), || read_pid().is_some()).await);
    let daemon = read_pid().unwrap();
    let environ = std::fs::read(format!("/proc/{daemon}/environ")).unwrap();
    assert!(!String::from_utf8_lossy(&environ).contains("DEVCTL_INVOCATION_ID"));
    assert!(forked_for(daemon, &marker, &[root], since));

    let mut foreign = std::process::Command::new("sh")
        .args(["-c", "sleep 300 & echo $!; wait"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(foreign.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let grandchild: i32 = line.trim().parse().unwrap();
    assert!(!forked_for(grandchild, &marker, &[root], since));
    assert!(!forked_for(
        std::process::id() as i32,
        &marker,
        &[root],
        since
    ));

    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(grandchild),
        nix::sys::signal::Signal::SIGKILL,
    );
    let _ = foreign.kill();
    let _ = foreign.wait();
    let tree = TreeRef::adopt(
        daemon,
        devctl_supervisord::process::start_time(daemon).unwrap(),
        &marker,
    )
    .unwrap();
    let outcome = stop_tree(
        &tree,
        Signal::SIGTERM,
        Duration::from_secs(2),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(outcome, StopOutcome::Graceful);
}
