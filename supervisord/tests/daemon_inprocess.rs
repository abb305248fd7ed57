//! The daemon booted in-process through the library (`run_until`): it
//! serves on its socket, refuses a second instance in the same paths, and
//! a clean stop removes the socket.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use devctl_supervisord::daemon::{DaemonError, DaemonOptions, run_until};
use devctl_units::paths::Paths;

fn get(socket: &std::path::Path, path: &str) -> String {
    let mut s = UnixStream::connect(socket).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_daemon_serves_refuses_a_twin_and_stops_cleanly() {
    let home = tempfile::tempdir().unwrap();
    let paths = Paths {
        config: home.path().join("config"),
        state: home.path().join("state"),
        runtime: home.path().join("run"),
    };
    let socket = paths.socket();
    let opts = DaemonOptions {
        paths: Some(paths.clone()),
        ..DaemonOptions::default()
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(run_until(opts.clone(), async move {
        let _ = stop_rx.await;
    }));
    let start = std::time::Instant::now();
    let answer = loop {
        let s = socket.clone();
        if let Ok(a) = tokio::task::spawn_blocking(move || {
            UnixStream::connect(&s).ok().map(|_| get(&s, "/v1/version"))
        })
        .await
        .unwrap()
        .ok_or(())
        {
            break a;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the daemon never served"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(&format!("\"pid\":{}", std::process::id())),
        "{answer}"
    );

    let twin = run_until(opts, std::future::pending()).await;
    match twin {
        Err(e @ DaemonError::AlreadyRunning { pid: Some(pid) }) => {
            assert_eq!(pid, std::process::id());
            assert_eq!(e.exit_code(), 69);
        }
        other => panic!("expected AlreadyRunning, got {other:?}"),
    }
    assert!(socket.exists(), "the twin left the live socket alone");

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), daemon)
        .await
        .expect("stops")
        .unwrap()
        .unwrap();
    assert!(!socket.exists(), "a clean stop removes the socket");
}
