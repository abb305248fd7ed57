//! The local-process provider: services (simple and sd_notify), daemons
//! (start command, pid file, tracked by pidfd while they live, stop
//! command then whole-tree stop) and builds (one-shot). Spawning, reaping,
//! pidfds and tree stops are the process layer's, output goes through
//! `logs::pump`, sd_notify through `probe::NotifySocket`; this file wires
//! them to facts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::task::JoinHandle;

use devctl_units::state::UnitResult;
use devctl_units::{ProbeCheck, StopSpec, UnitKind};

use crate::core::env::{RunEnv, notify_path};
use crate::core::provider::{Fact, Provider, RunCtx, StartFailure, StopReport};
use crate::logs::Stream;
use crate::probe::{NotifyMessage, NotifySocket, RunRoots};
use crate::process::{self, PidFd, Reaper, SpawnSpec, StopOutcome, TreeRef};

/// Bounded wait after the final SIGKILL.
pub const KILL_WAIT: Duration = Duration::from_secs(5);
/// How long a daemon's pid file may take to appear when no start timeout is set.
pub const PID_FILE_WAIT: Duration = Duration::from_secs(30);

struct Run {
    tree: TreeRef,
    /// Output pumps, pausable for a re-exec (`local_reexec.rs`).
    pumps: Vec<Pump>,
    /// Exit, pid and notify watchers (the notify socket's file goes with
    /// its task).
    tasks: Vec<JoinHandle<()>>,
    env: RunEnv,
    dir: PathBuf,
}

/// One output pump: pausing it hands its pipe back.
struct Pump {
    stream: Stream,
    pause: tokio::sync::oneshot::Sender<()>,
    drain: crate::logs::Drainer,
    task: JoinHandle<Option<tokio::net::unix::pipe::Receiver>>,
}

mod reexec;

/// Runs one unit as local processes.
pub struct LocalProvider {
    reaper: Arc<Reaper>,
    notify_dir: PathBuf,
    cgroup: Option<process::CgroupParent>,
    run: Option<Run>,
}

impl LocalProvider {
    /// A provider spawning through `reaper`; sd_notify sockets go in `notify_dir`.
    pub fn new(reaper: Arc<Reaper>, notify_dir: PathBuf) -> LocalProvider {
        LocalProvider {
            reaper,
            notify_dir,
            cgroup: None,
            run: None,
        }
    }

    /// Give every run its own cgroup under `parent` (when delegated).
    pub fn with_cgroup(mut self, parent: Option<process::CgroupParent>) -> LocalProvider {
        self.cgroup = parent;
        self
    }
}

fn spawn_failure(e: process::SpawnError) -> StartFailure {
    if e.is_permanent() {
        StartFailure::Permanent {
            result: UnitResult::ExecFailed,
            message: e.to_string(),
        }
    } else {
        StartFailure::Transient {
            result: UnitResult::ExecFailed,
            message: e.to_string(),
        }
    }
}

/// What an sd_notify message means for the actor; `None` for messages it
/// does not act on (watchdog, reloading…). A rejected message is logged
/// by the caller.
pub fn notify_fact(msg: NotifyMessage) -> Option<Fact> {
    match msg {
        NotifyMessage::Ready => Some(Fact::Ready),
        NotifyMessage::Status(s) => Some(Fact::Status(s)),
        NotifyMessage::MainPid(pid) => u32::try_from(pid).ok().map(Fact::MainPid),
        NotifyMessage::Reloading
        | NotifyMessage::Stopping
        | NotifyMessage::Watchdog
        | NotifyMessage::WatchdogTrigger
        | NotifyMessage::ExtendTimeout(_)
        | NotifyMessage::Errno(_)
        | NotifyMessage::Rejected(_) => None,
    }
}

/// A live (not zombie) process's start time.
fn live_start_time(pid: i32) -> Option<u64> {
    process::stat(pid)
        .filter(|s| !s.is_zombie())
        .map(|s| s.start_time)
}

/// Resolves when `pid` (not our child) has exited.
fn watch_pid(pid: i32) -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    // SAFETY: the pidfd is owned by the `PidFd` the AsyncFd holds, so it
    // stays open and names the same process for as long as it is registered.
    let fd = unsafe { AsyncFd::register(PidFd::open(pid)?) }
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(async move {
        // A pidfd turns readable once its process exits.
        let _ = fd.readable().await;
    })
}

impl LocalProvider {
    async fn spawn_captured(
        &self,
        ctx: &RunCtx,
        argv: Vec<String>,
    ) -> Result<(process::Child, Vec<Pump>), StartFailure> {
        let (unit, env) = (ctx.unit.clone(), ctx.env.clone());
        let (invocation_id, cgroup) = (ctx.invocation.clone(), self.cgroup.clone());
        let spec = move || SpawnSpec {
            argv,
            dir: unit.working_dir().to_path_buf(),
            env: env.to_vec(),
            capture: true,
            invocation_id,
            cgroup,
            ..SpawnSpec::default()
        };
        let mut child = process::spawn_with(&self.reaper, spec)
            .await
            .map_err(spawn_failure)?;
        let mut pumps = Vec::new();
        for (pipe, stream) in [
            (child.stdout.take(), Stream::Stdout),
            (child.stderr.take(), Stream::Stderr),
        ] {
            if let Some(pipe) = pipe {
                // Pumps end at EOF on their own (never aborted: no lost lines).
                pumps.push(Pump::spawn(pipe, stream, ctx.log.clone()));
            }
        }
        Ok((child, pumps))
    }

    async fn start_daemon(
        &mut self,
        ctx: &RunCtx,
        mut tasks: Vec<JoinHandle<()>>,
        roots: Option<RunRoots>,
    ) -> Result<u32, StartFailure> {
        let unit = &ctx.unit;
        let argv = unit
            .command
            .as_ref()
            .map(|c| c.to_argv())
            .unwrap_or_default();
        let (child, pumps) = self.spawn_captured(ctx, argv).await?;
        if let Some(r) = &roots {
            r.add(child.pid);
        }
        let starter = child.tree();
        let status = child.wait().await;
        let pid_file = unit.pid_file.clone();
        let fail = |tasks: Vec<JoinHandle<()>>, message: String| {
            for t in tasks {
                t.abort();
            }
            StartFailure::Transient {
                result: UnitResult::ExitCode,
                message,
            }
        };
        if !status.success() {
            let _ =
                process::stop_tree(&starter, unit.stop.signal, unit.stop.timeout, KILL_WAIT).await;
            return Err(fail(tasks, format!("start command {status}")));
        }
        let Some(pid_file) = pid_file else {
            return Err(fail(tasks, "daemon has no pid-file".into()));
        };
        let wait = unit.start_timeout.unwrap_or(PID_FILE_WAIT);
        let deadline = tokio::time::Instant::now() + wait;
        // A pid the unit did not start (a stale file naming a reused pid,
        // a wrong path) is never adopted, so never signalled.
        let mut foreign = None;
        let pid = loop {
            if let Ok(text) = tokio::fs::read_to_string(&pid_file).await
                && let Some(pid) = text
                    .lines()
                    .next()
                    .and_then(|l| l.trim().parse::<i32>().ok())
                && pid > 0
                && live_start_time(pid).is_some()
            {
                if process::forked_for(pid, &ctx.invocation, &[starter.pid], starter.start_time) {
                    break pid;
                }
                foreign = Some(pid);
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = process::stop_tree(
                    &TreeRef::marker_only(&ctx.invocation),
                    unit.stop.signal,
                    unit.stop.timeout,
                    KILL_WAIT,
                )
                .await;
                let what = match foreign {
                    Some(pid) => format!("a live process of the unit (it names pid {pid})"),
                    None => "a live process".to_string(),
                };
                return Err(fail(
                    tasks,
                    format!(
                        "pid file {} did not name {what} within {}",
                        pid_file.display(),
                        humantime::format_duration(wait)
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let start_time = live_start_time(pid).unwrap_or(0);
        // Its forks belong to the run even if its environment stops
        // showing the marker (a process title written over it).
        process::remember_marker(pid, start_time, &ctx.invocation);
        if let Some(r) = &roots {
            r.add(pid);
        }
        let tree = TreeRef::adopt(pid, start_time, &ctx.invocation)
            .unwrap_or_else(|| TreeRef::marker_only(&ctx.invocation));
        let (facts, run, drains) = (ctx.facts.clone(), ctx.run, drainers(&pumps));
        match watch_pid(pid) {
            Ok(exited) => tasks.push(tokio::spawn(async move {
                exited.await;
                drain_all(&drains).await;
                let _ = facts.send((run, Fact::Exited(None)));
            })),
            Err(e) => tracing::warn!(pid, "cannot watch daemon pid: {e}"),
        }
        self.run = Some(Run {
            tree,
            pumps,
            tasks,
            env: ctx.env.clone(),
            dir: unit.working_dir().to_path_buf(),
        });
        Ok(pid as u32)
    }
}

impl Provider for LocalProvider {
    async fn start(&mut self, ctx: RunCtx) -> Result<u32, StartFailure> {
        self.forget();
        let mut tasks = Vec::new();
        let mut roots = None;
        if ctx
            .unit
            .ready
            .as_ref()
            .is_some_and(|p| p.check == ProbeCheck::Notify)
        {
            let path = notify_path(&self.notify_dir, &ctx.invocation);
            let sock = std::fs::create_dir_all(&self.notify_dir)
                .and_then(|()| NotifySocket::bind(&path, &ctx.invocation))
                .map_err(|e| StartFailure::Transient {
                    result: UnitResult::ExecFailed,
                    message: format!("notify socket {}: {e}", path.display()),
                })?;
            roots = Some(sock.roots());
            tasks.push(tokio::spawn(notify_loop(sock, ctx.clone())));
        }
        if ctx.unit.kind == UnitKind::Daemon {
            return self.start_daemon(&ctx, tasks, roots).await;
        }
        let argv = ctx
            .unit
            .command
            .as_ref()
            .map(|c| c.to_argv())
            .unwrap_or_default();
        let (child, pumps) = match self.spawn_captured(&ctx, argv).await {
            Ok(c) => c,
            Err(e) => {
                for t in tasks {
                    t.abort();
                }
                return Err(e);
            }
        };
        let pid = child.pid as u32;
        if let Some(r) = &roots {
            r.add(child.pid);
        }
        let tree = child.tree();
        let (facts, run, drains) = (ctx.facts.clone(), ctx.run, drainers(&pumps));
        tasks.push(tokio::spawn(async move {
            let st = child.wait().await;
            // What it wrote before exiting goes before the exit's marker.
            drain_all(&drains).await;
            let _ = facts.send((run, Fact::Exited(Some(st))));
        }));
        self.run = Some(Run {
            tree,
            pumps,
            tasks,
            env: ctx.env.clone(),
            dir: ctx.unit.working_dir().to_path_buf(),
        });
        Ok(pid)
    }

    async fn stop(&mut self, spec: &StopSpec) -> StopReport {
        let Some(run) = self.run.take() else {
            return StopReport::Graceful;
        };
        if let Some(cmd) = &spec.command {
            let sspec = SpawnSpec {
                argv: cmd.clone(),
                dir: run.dir.clone(),
                env: run.env.to_vec(),
                invocation_id: run.tree.marker.clone(),
                ..SpawnSpec::default()
            };
            match process::spawn(&self.reaper, sspec).await {
                Ok(child) => {
                    if tokio::time::timeout(spec.timeout, child.wait())
                        .await
                        .is_err()
                    {
                        tracing::warn!(marker = %run.tree.marker, "stop command timed out");
                    }
                }
                Err(e) => tracing::warn!(marker = %run.tree.marker, "stop command failed: {e}"),
            }
        }
        let outcome = process::stop_tree(&run.tree, spec.signal, spec.timeout, KILL_WAIT).await;
        // The tree's last words go before the stop's marker.
        drain_all(&drainers(&run.pumps)).await;
        // Marked leftovers outside the group (a setsid'd grandchild of a
        // daemon whose leader is gone) are covered by the marker scan.
        let outcome = match outcome {
            StopOutcome::Graceful => StopReport::Graceful,
            StopOutcome::Killed => StopReport::Killed,
            StopOutcome::Unkillable(p) => StopReport::Unkillable(p),
        };
        finish(run);
        outcome
    }

    fn forget(&mut self) {
        if let Some(run) = self.run.take() {
            finish(run);
        }
    }

    async fn freeze(&mut self) -> Option<crate::core::reexec::HeldRun> {
        self.freeze_run().await
    }

    async fn adopt(
        &mut self,
        ctx: RunCtx,
        run: crate::core::reexec::AdoptRun,
    ) -> Result<u32, StartFailure> {
        self.adopt_run(ctx, run).await
    }
}

/// Handles to ask the run's pumps to log what their pipes hold.
fn drainers(pumps: &[Pump]) -> Vec<crate::logs::Drainer> {
    pumps.iter().map(|p| p.drain.clone()).collect()
}

/// Every byte the pumps' pipes hold now is in the log when this returns.
async fn drain_all(drains: &[crate::logs::Drainer]) {
    for d in drains {
        d.drain().await;
    }
}

fn finish(run: Run) {
    for t in run.tasks {
        // Pumps end on their own at EOF; the exit/notify watchers are
        // aborted (dropping the notify socket removes its file).
        t.abort();
    }
}

/// Turn the run's notify messages into facts until the socket fails or the
/// actor is gone; refusals go to the unit's log.
async fn notify_loop(mut sock: NotifySocket, ctx: RunCtx) {
    loop {
        let msg = match sock.recv().await {
            Ok(m) => m,
            Err(e) => {
                ctx.log.marker(format!("notify socket failed: {e}"));
                return;
            }
        };
        if let NotifyMessage::Rejected(why) = &msg {
            ctx.log.marker(format!("notify message ignored: {why}"));
        }
        if let Some(fact) = notify_fact(msg)
            && ctx.facts.send((ctx.run, fact)).is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_messages_to_facts() {
        let facts: Vec<Option<Fact>> = [
            NotifyMessage::Ready,
            NotifyMessage::Status("warming up".into()),
            NotifyMessage::MainPid(42),
            NotifyMessage::Watchdog,
            NotifyMessage::Rejected("sender pid 1 is not part of the unit".into()),
        ]
        .into_iter()
        .map(notify_fact)
        .collect();
        assert_eq!(
            facts,
            vec![
                Some(Fact::Ready),
                Some(Fact::Status("warming up".into())),
                Some(Fact::MainPid(42)),
                None,
                None
            ]
        );
    }
}
