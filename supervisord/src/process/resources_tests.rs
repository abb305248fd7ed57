//! Tests of the tree sampler: the accounting on made-up readings, the
//! `/proc` parsers, and real process trees (python3) of known size and CPU.

use super::*;
use crate::process::{MARKER_VAR, invocation_id};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};

fn usage(ppid: i32, own: u64, reaped: u64, rss_mib: u64) -> ProcUse {
    ProcUse {
        ppid,
        own_ticks: own,
        reaped_ticks: reaped,
        rss_bytes: rss_mib << 20,
        hwm_bytes: rss_mib << 20,
    }
}

#[test]
fn cpu_of_reaped_and_departed_processes_is_counted_once() {
    let hz = clock_ticks_per_sec();
    let mut s = TreeSampler::new("m");
    let t0 = Instant::now();
    // Root 10 with children 11 and 12.
    let first = HashMap::from([
        ((10, 1), usage(1, hz, 0, 10)),
        ((11, 1), usage(10, hz, 0, 20)),
        ((12, 1), usage(10, hz, 0, 30)),
    ]);
    let a = s.account(first, t0);
    assert_eq!(a.cpu, Duration::from_secs(3));
    assert_eq!(a.rss_bytes, 60 << 20);
    assert_eq!(a.cpu_percent, None);
    // 11 exited and the root reaped it (its time moved into the root's
    // cutime); 12 was re-parented away and then vanished: the root's reaped
    // time grew by 11's only, so 12 counts as last seen.
    let second = HashMap::from([((10, 1), usage(1, 2 * hz, hz, 10))]);
    let b = s.account(second, t0 + Duration::from_secs(1));
    assert_eq!(
        b.cpu,
        Duration::from_secs(4),
        "2 own + 1 reaped + 1 departed"
    );
    assert_eq!(b.procs, 1);
    assert!((b.cpu_percent.unwrap() - 100.0).abs() < 1e-6);
    assert_eq!(s.peak_rss_bytes(), 60 << 20, "the peak stays");
    // The root goes too, reaped by the daemon: its last reading stays counted.
    let c = s.account(HashMap::new(), t0 + Duration::from_secs(2));
    assert_eq!(c.cpu, Duration::from_secs(4));
    assert_eq!(c.rss_bytes, 0);
}

#[test]
fn a_child_reaped_by_its_parent_is_not_counted_twice() {
    let hz = clock_ticks_per_sec();
    let mut s = TreeSampler::new("m");
    let t0 = Instant::now();
    s.account(
        HashMap::from([
            ((10, 1), usage(1, hz, 0, 1)),
            ((11, 1), usage(10, hz, 0, 1)),
        ]),
        t0,
    );
    // 11 used one more second before exiting; the root's cutime has all 2 s.
    let b = s.account(HashMap::from([((10, 1), usage(1, hz, 2 * hz, 1))]), t0);
    assert_eq!(b.cpu, Duration::from_secs(3));
}

#[test]
fn a_spike_between_samples_shows_through_the_high_water_mark() {
    let mut s = TreeSampler::new("m");
    let mut u = usage(1, 0, 0, 5);
    u.hwm_bytes = 300 << 20;
    s.account(HashMap::from([((10, 1), u)]), Instant::now());
    assert_eq!(s.peak_rss_bytes(), 300 << 20);
}

#[test]
fn parses_stat_times_and_status_memory() {
    let stat = "42 (a) b) c) S 7 42 42 0 -1 0 0 0 0 0 150 50 30 20 20 0 1 0 999 0 0";
    assert_eq!(parse_stat_times(stat), Some((7, 200, 50)));
    assert_eq!(parse_stat_times("42 (x) S 7"), None);
    let status = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
    assert_eq!(parse_status_memory(status), (1 << 20, 2 << 20));
    assert_eq!(parse_status_memory("Name:\tkthread\n"), (0, 0));
}

/// `sh` running `python3 -c SCRIPT ARG…` in its own group, marked.
fn spawn_tree(marker: &str, sh: &str, args: &[&str]) -> Child {
    Command::new("sh")
        .arg("-c")
        .arg(sh)
        .arg("sh")
        .args(args)
        .env(MARKER_VAR, marker)
        .process_group(0)
        .spawn()
        .expect("sh runs")
}

fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill_tree(mut child: Child) {
    // SAFETY: signalling the child's own process group.
    unsafe { libc::killpg(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
}

#[test]
fn peak_memory_of_a_tree_that_holds_200_mib_is_within_ten_percent() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let marker = invocation_id();
    // A python3 child of sh fills 200 MiB (every page written), says so, waits.
    let script = "import sys, time\nb = b'x' * (200 << 20)\nopen(sys.argv[1], 'w').close()\ntime.sleep(120)\n";
    let child = spawn_tree(
        &marker,
        "python3 -c \"$1\" \"$2\" & wait",
        &[script, ready.to_str().unwrap()],
    );
    wait_for_file(&ready);
    let mut sampler = TreeSampler::new(marker.clone());
    let sample = sampler.sample();
    assert_eq!(sample.procs, 2, "sh and python3");
    let mib = sampler.peak_rss_bytes() as f64 / f64::from(1 << 20);
    kill_tree(child);
    eprintln!("peak resident set of sh + python3 holding 200 MiB: {mib:.1} MiB");
    assert!(
        (180.0..=220.0).contains(&mib),
        "peak {mib:.1} MiB is not within 10% of 200 MiB"
    );
    // After the end, the final reading keeps the peak.
    match sampler.finish() {
        RunResources::Measured { peak_rss_bytes, .. } => {
            assert_eq!(peak_rss_bytes as f64 / f64::from(1 << 20), mib)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cpu_time_includes_a_child_the_tree_already_reaped() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let marker = invocation_id();
    // The python3 child burns 0.5 s of CPU and exits; sh reaps it, then waits.
    let burn = "import time\nwhile time.process_time() < 0.5:\n    pass\n";
    let child = spawn_tree(
        &marker,
        "python3 -c \"$1\"; : > \"$2\"; sleep 120",
        &[burn, ready.to_str().unwrap()],
    );
    wait_for_file(&ready);
    let mut sampler = TreeSampler::new(marker);
    // The marker shows once sleep has exec'd; wait for sh and sleep both.
    let deadline = Instant::now() + Duration::from_secs(30);
    let sample = loop {
        let s = sampler.sample();
        if s.procs == 2 || Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    kill_tree(child);
    assert_eq!(sample.procs, 2);
    let cpu = sample.cpu.as_secs_f64();
    assert!(
        (0.5..3.0).contains(&cpu),
        "tree CPU {cpu:.2}s; the reaped child alone used 0.5 s"
    );
}
