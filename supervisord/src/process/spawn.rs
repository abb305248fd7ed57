//! Spawning a unit's process: `std::process::Command` in its own process
//! group with exactly the environment given plus the invocation marker,
//! registered with the [`Reaper`] under a spawn permit, with a pidfd and a
//! start time taken before anyone could reap it. Forks run on one thread
//! of their own, in the order asked. Exec failures are classified by errno
//! and name the resolved path.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock, mpsc};

use nix::unistd::{AccessFlags, access};
use tokio::net::unix::pipe;
use tokio::sync::oneshot;
use tracing::warn;

use super::cgroup::{CgroupParent, InvocationCgroup};
use super::pidfd::{PidFd, raw_killpg};
use super::procfs::{self, MARKER_VAR};
use super::reaper::{ExitCell, ExitStatus, Reaper};
use super::stop::TreeRef;

/// How many 1 ms waits `spawn` allows for the marker to become visible.
const MARKER_VISIBLE_TRIES: u32 = 50;

/// What the child's stdin is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StdinMode {
    /// `/dev/null`.
    #[default]
    Null,
    /// The daemon's own stdin.
    Inherit,
}

/// Everything needed to start one process.
#[derive(Debug, Clone, Default)]
pub struct SpawnSpec {
    /// Program and arguments; a program without `/` is looked up in the
    /// `PATH` of `env`.
    pub argv: Vec<String>,
    /// Working directory.
    pub dir: PathBuf,
    /// The complete environment; nothing is inherited from the daemon.
    pub env: Vec<(String, String)>,
    pub stdin: StdinMode,
    /// Pipe stdout and stderr (otherwise both go to `/dev/null`).
    pub capture: bool,
    /// Set as `DEVCTL_INVOCATION_ID` (overriding any value in `env`); the
    /// marker every process of the tree inherits. Use [`procfs::invocation_id`].
    pub invocation_id: String,
    /// Put the process in its own cgroup under this parent, if given.
    pub cgroup: Option<CgroupParent>,
}

/// Why a process could not be started. Everything except `Other` is
/// permanent: retrying cannot heal it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SpawnError {
    #[error("exec-failed: No such file or directory: {path}")]
    #[diagnostic(code(devctl::exec::not_found))]
    NotFound {
        path: PathBuf,
        #[help]
        help: Option<String>,
    },
    #[error("exec-failed: Permission denied: {path}")]
    #[diagnostic(code(devctl::exec::permission_denied), help("make it executable: chmod +x {}", path.display()))]
    PermissionDenied { path: PathBuf },
    #[error("exec-failed: Exec format error: {path}")]
    #[diagnostic(
        code(devctl::exec::format),
        help("a script needs a `#!` line naming its interpreter")
    )]
    ExecFormat { path: PathBuf },
    #[error("exec-failed: bad interpreter {interpreter}: No such file or directory: {path}")]
    #[diagnostic(code(devctl::exec::bad_interpreter), help("fix the `#!` line of {}", path.display()))]
    BadInterpreter { path: PathBuf, interpreter: String },
    #[error("exec-failed: working directory {dir}: {source}")]
    #[diagnostic(code(devctl::exec::bad_dir))]
    BadDir { dir: PathBuf, source: io::Error },
    #[error("exec-failed: {path}: {source}")]
    #[diagnostic(code(devctl::exec::other))]
    Other { path: PathBuf, source: io::Error },
    #[error("invalid spawn request: {0}")]
    #[diagnostic(code(devctl::exec::invalid))]
    InvalidSpec(&'static str),
}

impl SpawnError {
    /// Retrying cannot help (missing or unusable executable or directory).
    pub fn is_permanent(&self) -> bool {
        !matches!(self, SpawnError::Other { .. })
    }
}

/// A spawned process. Its exit is observed through the reaper only.
#[derive(Debug)]
pub struct Child {
    pub pid: i32,
    /// `None` only on kernels without `pidfd_open` (then start times guard signals).
    pub pidfd: Option<Arc<PidFd>>,
    /// From `/proc/<pid>/stat`, read before the process could be reaped.
    pub start_time: u64,
    pub stdout: Option<pipe::Receiver>,
    pub stderr: Option<pipe::Receiver>,
    pub invocation_id: String,
    pub cgroup: Option<Arc<InvocationCgroup>>,
    exit: Arc<ExitCell>,
}

impl Child {
    /// Wait for the exit status. Cancel-safe; any number of callers.
    pub async fn wait(&self) -> ExitStatus {
        self.exit.wait().await
    }

    /// The exit status if already reaped.
    pub fn try_status(&self) -> Option<ExitStatus> {
        self.exit.get()
    }

    /// Everything [`super::stop::stop_tree`] needs to stop this tree.
    pub fn tree(&self) -> TreeRef {
        TreeRef {
            pid: self.pid,
            start_time: self.start_time,
            pidfd: self.pidfd.clone(),
            pgid: self.pid,
            marker: self.invocation_id.clone(),
            cgroup: self.cgroup.clone(),
            exit: Some(self.exit.clone()),
        }
    }
}

/// Resolve the program like `execvp` would, against the child's `PATH`
/// and working directory. A found-but-not-executable file is returned so
/// that exec reports `EACCES` for it.
pub fn resolve_program(
    program: &str,
    dir: &Path,
    env: &[(String, String)],
) -> Result<PathBuf, SpawnError> {
    if program.contains('/') {
        return Ok(dir.join(program));
    }
    let path_var = env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map_or("/usr/local/bin:/usr/bin:/bin", |(_, v)| v);
    let mut non_exec = None;
    for entry in path_var.split(':') {
        let candidate = dir
            .join(if entry.is_empty() { "." } else { entry })
            .join(program);
        if candidate.is_file() {
            if access(&candidate, AccessFlags::X_OK).is_ok() {
                return Ok(candidate);
            }
            non_exec.get_or_insert(candidate);
        }
    }
    non_exec.ok_or_else(|| SpawnError::NotFound {
        path: PathBuf::from(program),
        help: Some(format!(
            "not found in the unit's PATH={path_var}; give an absolute path or fix PATH"
        )),
    })
}

fn check_dir(dir: &Path) -> Result<(), SpawnError> {
    let bad = |source| SpawnError::BadDir {
        dir: dir.to_path_buf(),
        source,
    };
    let meta = fs::metadata(dir).map_err(bad)?;
    if !meta.is_dir() {
        return Err(bad(io::Error::from_raw_os_error(libc::ENOTDIR)));
    }
    access(dir, AccessFlags::X_OK).map_err(|e| bad(io::Error::from(e)))
}

/// The interpreter named by a script's `#!` line.
fn shebang(path: &Path) -> Option<String> {
    let mut head = [0u8; 256];
    let n = fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .ok()?;
    let line = head[..n]
        .strip_prefix(b"#!")?
        .split(|b| *b == b'\n')
        .next()?;
    let text = String::from_utf8_lossy(line);
    text.split_whitespace().next().map(str::to_string)
}

fn classify(err: io::Error, program: PathBuf, dir: &Path) -> SpawnError {
    match err.raw_os_error() {
        Some(libc::ENOENT) if !dir.is_dir() => SpawnError::BadDir {
            dir: dir.to_path_buf(),
            source: err,
        },
        Some(libc::ENOENT) => match shebang(&program) {
            Some(interpreter) if program.is_file() => SpawnError::BadInterpreter {
                path: program,
                interpreter,
            },
            _ => SpawnError::NotFound {
                path: program,
                help: None,
            },
        },
        Some(libc::EACCES) => SpawnError::PermissionDenied { path: program },
        Some(libc::ENOEXEC) => SpawnError::ExecFormat { path: program },
        _ => SpawnError::Other {
            path: program,
            source: err,
        },
    }
}

fn into_receiver(fd: Option<impl Into<OwnedFd>>) -> io::Result<Option<pipe::Receiver>> {
    fd.map(|fd| pipe::Receiver::from_owned_fd(fd.into()))
        .transpose()
}

/// Start a process as described by `spec`. Must run inside a tokio runtime.
///
/// The fork and exec run on a thread of their own (see [`start_off_workers`]):
/// a fork returns only once the child has exec'd, and a thousand units
/// starting at once would otherwise keep the runtime's workers from every
/// other unit's events (readiness, output, exits) until the last one is up.
pub async fn spawn(reaper: &Arc<Reaper>, spec: SpawnSpec) -> Result<Child, SpawnError> {
    spawn_with(reaper, move || spec).await
}

/// [`spawn`] with the spec built on the spawning thread, right before its
/// fork: a thousand spawns waiting in its queue then hold no environment
/// copies, which, freed one by one in between longer-lived allocations,
/// would leave the heap fragmented.
pub async fn spawn_with(
    reaper: &Arc<Reaper>,
    spec: impl FnOnce() -> SpawnSpec + Send + 'static,
) -> Result<Child, SpawnError> {
    let child = start_off_workers(reaper.clone(), spec)
        .await?
        .into_child()?;
    // Right after exec the new image's environment is briefly unreadable;
    // return once it can be read (or the process has exited). A program
    // that sets its process title may already have written over the
    // marker: scans know our child's marker from its spawn record anyway.
    for _ in 0..MARKER_VISIBLE_TRIES {
        if procfs::environ_readable(child.pid)
            || !procfs::is_same_live_process(child.pid, child.start_time)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    Ok(child)
}

type SpawnJob = Box<dyn FnOnce() + Send>;

/// The spawning thread's queue; `None` if the thread could not start (then
/// spawns run where they are asked for). The thread waits on its queue,
/// never on a timer: an idle daemon does not wake up.
static SPAWNER: OnceLock<Option<mpsc::Sender<SpawnJob>>> = OnceLock::new();

fn spawner() -> Option<&'static mpsc::Sender<SpawnJob>> {
    SPAWNER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<SpawnJob>();
            std::thread::Builder::new()
                .name("devctl-spawn".into())
                .stack_size(256 << 10)
                .spawn(move || rx.into_iter().for_each(|job| job()))
                .map_err(|e| {
                    warn!("cannot start the spawning thread ({e}); spawning on the runtime's")
                })
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

/// [`start`] on the spawning thread, in the order asked. A child whose
/// spawn was cancelled meanwhile (nobody awaits it any more) is killed
/// when its unclaimed [`Started`] is dropped: it would otherwise run
/// untracked.
async fn start_off_workers(
    reaper: Arc<Reaper>,
    spec: impl FnOnce() -> SpawnSpec + Send + 'static,
) -> Result<Started, SpawnError> {
    let (tx, rx) = oneshot::channel();
    let job: SpawnJob = Box::new(move || {
        let _ = tx.send(start(&reaper, spec()));
    });
    match spawner() {
        Some(queue) => {
            if let Err(mpsc::SendError(job)) = queue.send(job) {
                job();
            }
        }
        None => job(),
    }
    rx.await.unwrap_or_else(|_| {
        Err(SpawnError::Other {
            path: PathBuf::from("devctl-spawn"),
            source: io::Error::other("the spawning thread stopped"),
        })
    })
}

/// A started child whose pipes are not yet the runtime's (the spawning
/// thread is not one of its workers). Dropped unclaimed, it kills the
/// child.
struct Started {
    program: PathBuf,
    pid: i32,
    pidfd: Option<Arc<PidFd>>,
    start_time: u64,
    stdout: Option<std::process::ChildStdout>,
    stderr: Option<std::process::ChildStderr>,
    invocation_id: String,
    cgroup: Option<Arc<InvocationCgroup>>,
    exit: Arc<ExitCell>,
    claimed: bool,
}

impl Started {
    /// Kill the child and whatever it has started meanwhile: its process
    /// group (it leads one of its own) and its cgroup, if any. Killing the
    /// leader alone would leave behind a program a shell forked before the
    /// signal arrived, still carrying the marker and tracked by no one.
    fn kill(&self) {
        if let Some(cg) = &self.cgroup {
            let _ = cg.kill();
        }
        // The group's id is the leader's pid, which stays its own until the
        // reaper takes its exit; after that the group is left alone.
        if self.exit.get().is_none() {
            let _ = raw_killpg(self.pid, libc::SIGKILL);
        }
        match &self.pidfd {
            Some(fd) => {
                let _ = fd.send_signal(libc::SIGKILL);
            }
            None => {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(self.pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }

    /// The child, its pipes registered with the runtime.
    fn into_child(mut self) -> Result<Child, SpawnError> {
        let pipes = into_receiver(self.stdout.take())
            .and_then(|o| Ok((o, into_receiver(self.stderr.take())?)));
        let (stdout, stderr) = match pipes {
            Ok(p) => p,
            Err(e) => {
                // Unreachable in practice (fresh pipes); the drop kills the
                // child, never left behind.
                return Err(SpawnError::Other {
                    path: std::mem::take(&mut self.program),
                    source: e,
                });
            }
        };
        self.claimed = true;
        Ok(Child {
            pid: self.pid,
            pidfd: self.pidfd.take(),
            start_time: self.start_time,
            stdout,
            stderr,
            invocation_id: std::mem::take(&mut self.invocation_id),
            cgroup: self.cgroup.take(),
            exit: std::mem::take(&mut self.exit),
        })
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if !self.claimed {
            self.kill();
        }
    }
}

/// The synchronous part of [`spawn`]: fork, exec and register. The spec
/// and the command are gone when it returns (with many units starting at
/// once, their environment copies are not held across awaits, where they
/// would be freed late, in between longer-lived allocations, and leave the
/// heap fragmented).
fn start(reaper: &Reaper, spec: SpawnSpec) -> Result<Started, SpawnError> {
    let Some(argv0) = spec.argv.first() else {
        return Err(SpawnError::InvalidSpec("empty argv"));
    };
    if spec.invocation_id.is_empty() || spec.invocation_id.contains(['\0', '=']) {
        return Err(SpawnError::InvalidSpec(
            "invocation id must be non-empty without NUL or '='",
        ));
    }
    check_dir(&spec.dir)?;
    let program = resolve_program(argv0, &spec.dir, &spec.env)?;

    let mut cmd = Command::new(&program);
    cmd.arg0(argv0)
        .args(&spec.argv[1..])
        .current_dir(&spec.dir)
        .env_clear()
        .envs(
            spec.env
                .iter()
                .filter(|(k, _)| k != MARKER_VAR)
                .map(|(k, v)| (OsStr::new(k), OsStr::new(v))),
        )
        .env(MARKER_VAR, &spec.invocation_id)
        .process_group(0)
        .stdin(match spec.stdin {
            StdinMode::Null => Stdio::null(),
            StdinMode::Inherit => Stdio::inherit(),
        });
    if spec.capture {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    }
    let cgroup = match &spec.cgroup {
        Some(parent) => match parent.create(&spec.invocation_id) {
            Ok(cg) => Some(Arc::new(cg)),
            Err(e) => {
                warn!(parent = %parent.path().display(), error = %e, "cannot create invocation cgroup; using the marker only");
                None
            }
        },
        None => None,
    };

    // Spawn and register under a spawn permit: the child cannot be reaped
    // (nor its pid recycled) before its pidfd, start time and waiter exist.
    let permit = reaper.begin_spawn();
    let mut std_child = cmd
        .spawn()
        .map_err(|e| classify(e, program.clone(), &spec.dir))?;
    let pid = std_child.id() as i32;
    let pidfd = match PidFd::open(pid) {
        Ok(fd) => Some(Arc::new(fd)),
        Err(e) => {
            warn!(pid, error = %e, "pidfd_open unavailable; falling back to start-time checks");
            None
        }
    };
    let start_time = procfs::start_time(pid).unwrap_or(0);
    let exit = permit.register_marked(pid, &spec.invocation_id);
    if let Some(cg) = &cgroup
        && let Err(e) = cg.add(pid)
    {
        warn!(pid, cgroup = %cg.path().display(), error = %e, "cannot move process into its cgroup");
    }
    Ok(Started {
        program,
        pid,
        pidfd,
        start_time,
        stdout: std_child.stdout.take(),
        stderr: std_child.stderr.take(),
        invocation_id: spec.invocation_id,
        cgroup,
        exit,
        claimed: false,
    })
}
