//! The two supervisors under test behind one trait, and the service set
//! both run. A [`Svc`] is rendered twice: as a `devctl.kdl` service
//! ([`manifest`]) and as a systemd unit ([`unit_file`]) with the same
//! program, environment, readiness and restart policy. Every service
//! carries `BENCH_RUN=<side's id>` (the leftover oracle), `BENCH_SVC` and
//! `BENCH_STAMPS` in its environment.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::procfs;

/// What a service runs (see [`crate::helper`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prog {
    Sleep,
    Listen {
        port: u16,
        delay_ms: u64,
    },
    /// Sends `READY=1` after a delay, listens on nothing.
    Notify {
        delay_ms: u64,
    },
    Tree,
    Flood {
        secs: u64,
    },
}

/// One benchmark service.
#[derive(Debug, Clone)]
pub struct Svc {
    pub name: String,
    pub prog: Prog,
    pub restart_always: bool,
}

/// `n` services `s0…` running `prog(i)`.
pub fn services(n: usize, prog: impl Fn(usize) -> Prog) -> Vec<Svc> {
    (0..n)
        .map(|i| Svc {
            name: format!("s{i}"),
            prog: prog(i),
            restart_always: false,
        })
        .collect()
}

fn argv(exe: &Path, prog: Prog) -> Vec<String> {
    let mut v = vec![exe.display().to_string(), "helper".into()];
    match prog {
        Prog::Sleep => v.push("sleep".into()),
        Prog::Tree => v.push("tree".into()),
        Prog::Listen { port, delay_ms } => {
            v.extend(["listen".into(), port.to_string(), delay_ms.to_string()])
        }
        Prog::Notify { delay_ms } => v.extend(["notify".into(), delay_ms.to_string()]),
        Prog::Flood { secs } => v.extend(["flood".into(), secs.to_string()]),
    }
    v
}

/// The devctl manifest for `svcs`.
pub fn manifest(exe: &Path, run: &str, stamps: &Path, svcs: &[Svc]) -> String {
    let mut s = String::from("project \"bench\"\n\n");
    for svc in svcs {
        let args: Vec<String> = argv(exe, svc.prog)
            .iter()
            .map(|a| format!("{a:?}"))
            .collect();
        let _ = writeln!(s, "service {:?} {{\n    run {}", svc.name, args.join(" "));
        let _ = writeln!(
            s,
            "    env BENCH_RUN={run:?} BENCH_SVC={:?} BENCH_STAMPS={:?}",
            svc.name,
            stamps.display().to_string()
        );
        if let Prog::Listen { port, .. } = svc.prog {
            let _ = writeln!(
                s,
                "    ready {{ tcp {port}; period \"200ms\"; timeout \"1s\"; }}"
            );
        }
        if let Prog::Notify { .. } = svc.prog {
            s.push_str("    ready { notify }\n");
        }
        if svc.restart_always {
            let _ = writeln!(
                s,
                "    restart \"always\" backoff=\"0\" limit=1000 within=\"1s\""
            );
        }
        s.push_str("}\n\n");
    }
    s
}

/// The systemd unit `bench-<name>.service` for `svc`.
pub fn unit_file(exe: &Path, run: &str, stamps: &Path, svc: &Svc) -> String {
    let ty = if matches!(svc.prog, Prog::Listen { .. } | Prog::Notify { .. }) {
        "notify"
    } else {
        "exec"
    };
    // The start limit is a [Unit] setting: off, like devctl's generous one.
    let limit = if svc.restart_always {
        "StartLimitIntervalSec=0\n"
    } else {
        ""
    };
    let mut s = format!(
        "[Unit]\nDescription=bench {}\n{limit}\n[Service]\nType={ty}\n",
        svc.name
    );
    let _ = writeln!(s, "ExecStart={}", argv(exe, svc.prog).join(" "));
    let _ = writeln!(
        s,
        "Environment=BENCH_RUN={run} BENCH_SVC={} BENCH_STAMPS={}",
        svc.name,
        stamps.display()
    );
    if svc.restart_always {
        s.push_str("Restart=always\nRestartSec=0\n");
    }
    if matches!(svc.prog, Prog::Flood { .. }) {
        s.push_str("LogRateLimitIntervalSec=0\n");
    }
    s
}

/// The target that pulls in (and orders itself after) every service.
pub fn target_file(svcs: &[Svc]) -> String {
    let mut s = String::from("[Unit]\nDescription=bench\n");
    for svc in svcs {
        let _ = writeln!(
            s,
            "Wants=bench-{0}.service\nAfter=bench-{0}.service",
            svc.name
        );
    }
    s
}

/// A supervisor under test.
pub trait Side {
    /// `devctl` or `systemd`.
    fn label(&self) -> &'static str;
    /// The environment entry every service of this side carries.
    fn marker(&self) -> String;
    /// Where this side's services write their stamps.
    fn stamps(&self) -> &Path;
    /// Define `svcs` (replacing the previous set) without starting them.
    fn install(&mut self, svcs: &[Svc]) -> Result<(), String>;
    /// Start every service; returns when the tool's start command returns.
    fn up(&self) -> Result<(), String>;
    /// Stop every service; returns when the tool's stop command returns.
    fn down(&self) -> Result<(), String>;
    /// The status query of one service (`is-active`).
    fn is_active(&self, name: &str) -> Command;
    /// The manager processes whose CPU and memory count.
    fn managers(&self) -> Vec<u32>;
    /// This side's log capture: lines of `svc` (process `pid`) stored so
    /// far (the highest flood sequence number seen + 1).
    fn captured_lines(&self, svc: &str, pid: u32) -> Result<u64, String>;
}

/// A random hex id.
pub fn random_id() -> String {
    let mut b = [0u8; 8];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Run a command to completion; an error carries its stderr.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}

/// Poll `cond` (with a short pause) until it holds or `ceiling` passes.
pub fn wait_for(
    what: &str,
    ceiling: Duration,
    mut cond: impl FnMut() -> bool,
) -> Result<(), String> {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > ceiling {
            return Err(format!("timed out after {ceiling:?} waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// Kill every process carrying `marker`, until none is left (bounded).
pub fn kill_marked(marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pids = procfs::marked_pids(marker);
        if pids.is_empty() || Instant::now() > deadline {
            return;
        }
        for pid in pids {
            // SAFETY: plain kill(2); the pid was just seen carrying our marker.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Terminate a child we spawned: SIGTERM, wait up to `grace`, SIGKILL.
pub fn terminate(child: &mut std::process::Child, grace: Duration) {
    // SAFETY: plain kill(2) of our own unreaped child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The highest flood sequence number in `text` plus one (0 if none).
pub fn max_flood_seq(text: &str) -> u64 {
    text.lines()
        .rev()
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.len() == 12 && w.bytes().all(|b| b.is_ascii_digit()))
        })
        .find_map(|w| w.parse::<u64>().ok())
        .map_or(0, |n| n + 1)
}

/// A scratch directory removed on drop.
pub fn scratch(prefix: &str) -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| format!("tempdir: {e}"))
}

/// A directory for the services' stamps: on tmpfs (`/dev/shm`) when there
/// is one, so that stamping costs the file system as little as possible.
pub fn stamp_dir() -> Result<tempfile::TempDir, String> {
    let b = tempfile::Builder::new()
        .prefix("devctl-bench-stamps-")
        .tempdir_in("/dev/shm");
    b.or_else(|_| {
        tempfile::Builder::new()
            .prefix("devctl-bench-stamps-")
            .tempdir()
    })
    .map_err(|e| format!("tempdir: {e}"))
}

/// This binary, which is also the services' program.
pub fn bench_exe() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("current_exe: {e}"))
}

/// Start `devctld` with `home` as its `DEVCTL_HOME` (stderr to
/// `home/devctld.stderr`, none of the caller's systemd or log settings) and
/// wait (at most `ceiling`) until its socket accepts.
pub fn spawn_devctld(
    devctld: &Path,
    home: &Path,
    ceiling: Duration,
) -> Result<std::process::Child, String> {
    let log = std::fs::File::create(home.join("devctld.stderr")).map_err(|e| e.to_string())?;
    let mut child = Command::new(devctld)
        .env("DEVCTL_HOME", home)
        .env_remove("NOTIFY_SOCKET")
        .env_remove("LISTEN_FDS")
        .env_remove("DEVCTL_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("spawn devctld: {e}"))?;
    let sock = home.join("run/devctld.sock");
    if let Err(e) = wait_for("devctld's socket", ceiling, || {
        std::os::unix::net::UnixStream::connect(&sock).is_ok()
    }) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    Ok(child)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_renderings_carry_the_same_program_and_marker() {
        let svc = Svc {
            name: "s3".into(),
            prog: Prog::Listen {
                port: 20003,
                delay_ms: 200,
            },
            restart_always: true,
        };
        let exe = Path::new("/b/devctl-bench");
        let kdl = manifest(exe, "r1", Path::new("/st"), std::slice::from_ref(&svc));
        assert!(
            kdl.contains("run \"/b/devctl-bench\" \"helper\" \"listen\" \"20003\" \"200\""),
            "{kdl}"
        );
        assert!(kdl.contains("BENCH_RUN=\"r1\" BENCH_SVC=\"s3\""), "{kdl}");
        assert!(kdl.contains("tcp 20003"), "{kdl}");
        assert!(kdl.contains("backoff=\"0\""), "{kdl}");
        let unit = unit_file(exe, "r1", Path::new("/st"), &svc);
        assert!(
            unit.starts_with("[Unit]\nDescription=bench s3\nStartLimitIntervalSec=0\n"),
            "{unit}"
        );
        assert!(
            unit.contains("ExecStart=/b/devctl-bench helper listen 20003 200\n"),
            "{unit}"
        );
        assert!(
            unit.contains("Type=notify\n") && unit.contains("RestartSec=0\n"),
            "{unit}"
        );
        assert!(unit.contains("BENCH_RUN=r1 BENCH_SVC=s3"), "{unit}");
        assert!(target_file(&[svc]).contains("After=bench-s3.service"));
    }

    #[test]
    fn flood_sequence_from_log_lines() {
        let log = "2026-01-01T00:00:00.000001Z out 000000000041 xxxx\n2026-01-01T00:00:00.000002Z out 000000000042 xxxx\n";
        assert_eq!(max_flood_seq(log), 43);
        assert_eq!(max_flood_seq("nothing here\n"), 0);
    }
}
