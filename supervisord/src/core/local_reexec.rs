//! Local runs across a re-exec. Freezing pauses the run's output pumps
//! (their pipes come back, a partial line is logged first), drops the exit
//! and notify watchers and describes the tree as data; the processes are
//! not touched. Adopting re-attaches in the new image: pumps on the
//! inherited pipes, the notify socket bound again at the path the run's
//! `NOTIFY_SOCKET` names, and the main process watched through the
//! reaper (our child, registered before the first reap) or a pidfd after
//! a start-time check (a daemon unit's forked pid). A main process that
//! is gone is reported as exited right away.

use std::os::fd::AsRawFd;
use std::sync::Arc;

use tokio::net::unix::pipe;
use tokio::task::JoinHandle;

use devctl_units::ProbeCheck;

use super::{LocalProvider, Pump, Run, drain_all, drainers, notify_loop, watch_pid};
use crate::core::provider::{Fact, RunCtx, StartFailure};
use crate::core::reexec::{AdoptRun, FrozenExit, FrozenRun, HeldRun};
use crate::logs::{Stream, UnitLog, drain_channel, pump_pausable};
use crate::probe::NotifySocket;
use crate::process::{self, PidFd, TreeRef};

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
                start_time: tree.start_time,
                pgid: tree.pgid,
                child: tree.exit.is_some(),
                cgroup: tree.cgroup.as_ref().map(|c| c.path().to_path_buf()),
                stdout_fd: stdout,
                stderr_fd: stderr,
                env: run.env.to_vec(),
                dir: run.dir,
                was_ready: false,
                start_left_ms: None,
                run_left_ms: None,
                idle_left_ms: None,
                exited: tree.exit.as_ref().and_then(|e| e.get()).map(FrozenExit::of),
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
        self.forget();
        let f = a.frozen;
        let mut tasks: Vec<JoinHandle<()>> = Vec::new();
        if ctx
            .unit
            .ready
            .as_ref()
            .is_some_and(|p| p.check == ProbeCheck::Notify)
        {
            let path = LocalProvider::notify_path(&self.notify_dir, &f.invocation);
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
        let cgroup = match (&f.cgroup, &self.cgroup) {
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
            process::remember_marker(f.pid, f.start_time, &f.invocation);
        }
        match (f.exited, a.exit.filter(|_| f.child)) {
            (Some(st), _) => gone(&mut tasks, Some(st.status())),
            (None, Some(exit)) => {
                // Our unreaped child (or reaped by this image's reaper into
                // `exit`): its pid cannot have been reused.
                tree.pid = f.pid;
                tree.start_time = f.start_time;
                tree.pgid = f.pgid;
                tree.pidfd = PidFd::open(f.pid).ok().map(Arc::new);
                tree.exit = Some(exit.clone());
                let (facts, drains) = (facts.clone(), drainers(&pumps));
                tasks.push(tokio::spawn(async move {
                    let st = exit.wait().await;
                    drain_all(&drains).await;
                    let _ = facts.send((run, Fact::Exited(Some(st))));
                }));
            }
            (None, None) => match TreeRef::adopt(f.pid, f.start_time, &f.invocation) {
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
