//! Local runs across a re-exec. Freezing pauses the run's output pumps
//! (their pipes come back, a partial line is logged first), drops the exit
//! and notify watchers and describes the tree as data; the processes are
//! not touched. Adopting re-attaches in the new image: pumps on the
//! inherited pipes, the notify socket bound again at the path the run's
//! `NOTIFY_SOCKET` names, and the main process watched through the
//! reaper (our child, registered before the first reap) or a pidfd after
//! a start-time check (a daemon unit's forked pid). A main process that
//! is gone is reported as exited right away. The tree's identity (start
//! time, process group, cgroup) is the provider's own part of the carried
//! run ([`LocalCarry`]); a part that does not read gets the tree stopped
//! instead of adopted.

use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use tokio::net::unix::pipe;
use tokio::task::JoinHandle;

use devctl_units::ProbeCheck;

use super::{LocalProvider, Pump, Run, drain_all, drainers, notify_loop, watch_pid};
use crate::core::env::notify_path;
use crate::core::provider::{Fact, RunCtx, StartFailure};
use crate::core::reexec::{AdoptRun, FrozenExit, FrozenRun, HeldRun};
use crate::logs::{Stream, UnitLog, drain_channel, pump_pausable};
use crate::probe::NotifySocket;
use crate::process::{self, PidFd, TreeRef};

/// What the local provider carries across an exec for itself, beside the
/// core's part of the run: the tree's identity and its cgroup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LocalCarry {
    /// From `/proc/<pid>/stat`; checked again before adopting.
    pub start_time: u64,
    pub pgid: i32,
    pub cgroup: Option<PathBuf>,
}

impl LocalCarry {
    /// As the run's provider part (empty if it cannot be written, e.g. a
    /// cgroup path that is not UTF-8: the run is then started again).
    fn into_map(self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        }
    }

    /// Read back from a carried run's provider part.
    pub(super) fn of(run: &FrozenRun) -> Result<LocalCarry, StartFailure> {
        serde_json::from_value(serde_json::Value::Object(run.provider.clone())).map_err(|e| {
            StartFailure::Transient {
                result: devctl_units::state::UnitResult::ExecFailed,
                message: format!(
                    "cannot adopt pid {} after a re-exec: its carried state does not read ({e}); the run is started again",
                    run.pid
                ),
            }
        })
    }
}

impl Pump {
    /// Drain `pipe` into `log` until its end or until paused.
    pub(super) fn spawn(pipe: pipe::Receiver, stream: Stream, log: UnitLog) -> Pump {
        let (pause, rx) = tokio::sync::oneshot::channel();
        let (drain, drains) = drain_channel();
        let task = tokio::spawn(pump_pausable(pipe, stream, log, rx, drains));
        Pump {
            stream,
            pause,
            drain,
            task,
        }
    }
}

impl LocalProvider {
    /// Hand the current run over, processes untouched.
    pub(super) async fn freeze_run(&mut self) -> Option<HeldRun> {
        let run = self.run.take()?;
        let (mut stdout, mut stderr, mut fds) = (None, None, Vec::new());
        for p in run.pumps {
            let _ = p.pause.send(());
            let Ok(Some(pipe)) = p.task.await else {
                continue; // at its end already: nothing left to read
            };
            match pipe.into_blocking_fd() {
                Ok(fd) => {
                    let n = fd.as_raw_fd();
                    match p.stream {
                        Stream::Stdout => stdout = Some(n),
                        _ => stderr = Some(n),
                    }
                    fds.push(fd);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot detach an output pipe; later output of the run is lost")
                }
            }
        }
        for t in run.tasks {
            t.abort();
        }
        let tree = run.tree;
        // The run's cgroup stays populated: never try to remove it here.
        std::mem::forget(tree.cgroup.clone());
        Some(HeldRun {
            run: FrozenRun {
                invocation: tree.marker.clone(),
                pid: tree.pid,
                child: tree.exit.is_some(),
                stdout_fd: stdout,
                stderr_fd: stderr,
                env: run.env.to_vec(),
                dir: run.dir,
                was_ready: false,
                start_left_ms: None,
                run_left_ms: None,
                idle_left_ms: None,
                exited: tree.exit.as_ref().and_then(|e| e.get()).map(FrozenExit::of),
                provider: LocalCarry {
                    start_time: tree.start_time,
                    pgid: tree.pgid,
                    cgroup: tree.cgroup.as_ref().map(|c| c.path().to_path_buf()),
                }
                .into_map(),
            },
            fds,
            exit: tree.exit.clone(),
        })
    }

    /// Take over a run frozen by the previous image.
    pub(super) async fn adopt_run(
        &mut self,
        ctx: RunCtx,
        a: AdoptRun,
    ) -> Result<u32, StartFailure> {
        use crate::core::provider::Provider;
        let own = match LocalCarry::of(&a.frozen) {
            Ok(own) => own,
            Err(failure) => {
                // Without its identity the tree cannot be adopted: stop it
                // (by its marker) so that the unit starts again alone.
                let tree = TreeRef::marker_only(&a.frozen.invocation);
                let stop = &ctx.unit.stop;
                let _ =
                    process::stop_tree(&tree, stop.signal, stop.timeout, super::KILL_WAIT).await;
                return Err(failure);
            }
        };
        self.forget();
        let f = a.frozen;
        let mut tasks: Vec<JoinHandle<()>> = Vec::new();
        if ctx
            .unit
            .ready
            .as_ref()
            .is_some_and(|p| p.check == ProbeCheck::Notify)
        {
            let path = notify_path(&self.notify_dir, &f.invocation);
            match std::fs::create_dir_all(&self.notify_dir)
                .and_then(|()| NotifySocket::bind(&path, &f.invocation))
            {
                Ok(sock) => {
                    sock.roots().add(f.pid);
                    tasks.push(tokio::spawn(notify_loop(sock, ctx.clone())));
                }
                Err(e) => ctx
                    .log
                    .marker(format!("notify socket {}: {e}", path.display())),
            }
        }
        let mut pumps = Vec::new();
        for (fd, stream) in [(a.stdout, Stream::Stdout), (a.stderr, Stream::Stderr)] {
            let Some(fd) = fd else { continue };
            match pipe::Receiver::from_owned_fd(fd) {
                Ok(p) => pumps.push(Pump::spawn(p, stream, ctx.log.clone())),
                Err(e) => ctx
                    .log
                    .marker(format!("cannot resume reading the {stream:?} pipe: {e}")),
            }
        }
        let cgroup = match (&own.cgroup, &self.cgroup) {
            (Some(path), Some(parent)) => parent
                .create(&f.invocation)
                .ok()
                .filter(|cg| cg.path() == path)
                .map(Arc::new),
            _ => None,
        };
        let (facts, run) = (ctx.facts.clone(), ctx.run);
        let gone = |tasks: &mut Vec<JoinHandle<()>>, st: Option<process::ExitStatus>| {
            let facts = facts.clone();
            tasks.push(tokio::spawn(async move {
                let _ = facts.send((run, Fact::Exited(st)));
            }));
        };
        let mut tree = TreeRef::marker_only(&f.invocation);
        tree.cgroup = cgroup;
        // This image has no spawn record of the main process: it counts as
        // the run's (with what it forks) even if its environment no longer
        // shows the marker.
        if f.exited.is_none() && f.pid > 0 {
            process::remember_marker(f.pid, own.start_time, &f.invocation);
        }
        match (f.exited, a.exit.filter(|_| f.child)) {
            (Some(st), _) => gone(&mut tasks, Some(st.status())),
            (None, Some(exit)) => {
                // Our unreaped child (or reaped by this image's reaper into
                // `exit`): its pid cannot have been reused.
                tree.pid = f.pid;
                tree.start_time = own.start_time;
                tree.pgid = own.pgid;
                tree.pidfd = PidFd::open(f.pid).ok().map(Arc::new);
                tree.exit = Some(exit.clone());
                let (facts, drains) = (facts.clone(), drainers(&pumps));
                tasks.push(tokio::spawn(async move {
                    let st = exit.wait().await;
                    drain_all(&drains).await;
                    let _ = facts.send((run, Fact::Exited(Some(st))));
                }));
            }
            (None, None) => match TreeRef::adopt(f.pid, own.start_time, &f.invocation) {
                Some(live) => {
                    tree = TreeRef {
                        cgroup: tree.cgroup,
                        ..live
                    };
                    let (facts, drains) = (facts.clone(), drainers(&pumps));
                    match watch_pid(f.pid) {
                        Ok(exited) => tasks.push(tokio::spawn(async move {
                            exited.await;
                            drain_all(&drains).await;
                            let _ = facts.send((run, Fact::Exited(None)));
                        })),
                        Err(e) => tracing::warn!(pid = f.pid, "cannot watch the adopted pid: {e}"),
                    }
                }
                None => gone(&mut tasks, None),
            },
        }
        self.run = Some(Run {
            tree,
            pumps,
            tasks,
            env: f.env.into(),
            dir: f.dir,
        });
        Ok(f.pid.max(0) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::provider::Provider;
    use devctl_units::{ProjectName, Unit, UnitKind, UnitName};

    #[test]
    fn the_local_part_round_trips_beside_the_core_part() {
        let own = LocalCarry {
            start_time: 42,
            pgid: 7,
            cgroup: Some("/sys/fs/cgroup/units/devctl-x".into()),
        };
        let run = FrozenRun {
            invocation: "inv".into(),
            pid: 7,
            child: true,
            stdout_fd: Some(5),
            stderr_fd: None,
            env: vec![("A".into(), "1".into())],
            dir: "/tmp".into(),
            was_ready: true,
            start_left_ms: None,
            run_left_ms: Some(10),
            idle_left_ms: None,
            exited: None,
            provider: own.clone().into_map(),
        };
        let json = serde_json::to_value(&run).unwrap();
        // One flat object, as the state file has always had it.
        for key in [
            "invocation",
            "pid",
            "start_time",
            "pgid",
            "cgroup",
            "stdout_fd",
        ] {
            assert!(json.get(key).is_some(), "{key} in {json}");
        }
        let back: FrozenRun = serde_json::from_value(json).unwrap();
        assert_eq!(back, run);
        assert_eq!(LocalCarry::of(&back).unwrap(), own);
    }

    /// A carried run whose local part does not read is not adopted: its
    /// tree is stopped and the start fails saying why (the unit then
    /// starts again under its restart policy).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_carried_run_that_does_not_read_is_stopped_not_adopted() {
        let reaper = process::Reaper::install().unwrap();
        let inv = process::invocation_id();
        // The run's tree, as a previous image left it (marked, running).
        let spec = process::SpawnSpec {
            argv: vec!["/bin/sh".into(), "-c".into(), "sleep 300".into()],
            dir: "/".into(),
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            invocation_id: inv.clone(),
            ..process::SpawnSpec::default()
        };
        let child = process::spawn(&reaper, spec).await.unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while process::find_marked(&inv).is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "marked process never seen"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let tmp = tempfile::tempdir().unwrap();
        let logs =
            crate::logs::LogStore::open(tmp.path().join("logs"), crate::logs::LogLimits::default())
                .unwrap();
        let mut unit = Unit::new(
            ProjectName::new("p").unwrap(),
            UnitName::new("web").unwrap(),
            UnitKind::Service,
            "/tmp".into(),
        );
        unit.stop.timeout = std::time::Duration::from_secs(3);
        let (facts, _rx) = crate::core::notes::channel();
        let ctx = RunCtx {
            unit: Arc::new(unit),
            run: 1,
            invocation: inv.clone(),
            env: Default::default(),
            log: logs.unit("p", "web"),
            facts,
        };
        let mut provider = LocalProvider::new(reaper, tmp.path().join("notify"));
        let mut provider_part = serde_json::Map::new();
        provider_part.insert("pgid".into(), serde_json::json!("not a number"));
        let frozen = FrozenRun {
            invocation: inv.clone(),
            pid: 1,
            child: false,
            stdout_fd: None,
            stderr_fd: None,
            env: vec![],
            dir: "/tmp".into(),
            was_ready: false,
            start_left_ms: None,
            run_left_ms: None,
            idle_left_ms: None,
            exited: None,
            provider: provider_part,
        };
        let adopt = AdoptRun {
            frozen,
            stdout: None,
            stderr: None,
            exit: None,
        };
        match provider.adopt(ctx, adopt).await {
            Err(StartFailure::Transient { message, .. }) => {
                assert!(message.contains("carried state does not read"), "{message}")
            }
            other => panic!("adopted a run it cannot read: {other:?}"),
        }
        assert!(
            process::find_marked(&inv).is_empty(),
            "the run's tree was stopped"
        );
        let status = child.wait().await;
        assert!(
            matches!(status, process::ExitStatus::Signaled { .. }),
            "stopped, not exited by itself: {status}"
        );
    }
}
