//! The unit model: one `Unit` per compiled unit file, for every kind
//! (service, daemon, build, container, kubernetes, group, project target).
//!
//! The model is flat on purpose, like a systemd unit: every kind shares the
//! same struct, and the compiler guarantees that only the fields meaningful
//! for a kind are set (see `Unit::check_kind_fields`). The supervisor reads
//! units only through this type; it never sees KDL.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::name::{ProjectName, UnitName};
use crate::signal::Signal;

/// What kind of unit this is. Decides the unit-file suffix and which
/// provider runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitKind {
    /// Long-running foreground process (`Type=simple`/`notify`).
    Service,
    /// Self-backgrounding program tracked by pid file (`Type=forking`).
    Daemon,
    /// One-shot task that runs to completion (`Type=oneshot`).
    Build,
    /// A Docker container.
    Container,
    /// Manifests applied to a Kubernetes cluster.
    Kubernetes,
    /// A named set of units started and stopped together (`.target`).
    Group,
    /// The per-project target: every enabled unit of the project.
    Project,
}

impl UnitKind {
    /// Every kind, in declaration order.
    pub const ALL: [UnitKind; 7] = [
        UnitKind::Service,
        UnitKind::Daemon,
        UnitKind::Build,
        UnitKind::Container,
        UnitKind::Kubernetes,
        UnitKind::Group,
        UnitKind::Project,
    ];

    /// The manifest / `X-Devctl-Kind=` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Service => "service",
            UnitKind::Daemon => "daemon",
            UnitKind::Build => "build",
            UnitKind::Container => "container",
            UnitKind::Kubernetes => "kubernetes",
            UnitKind::Group => "group",
            UnitKind::Project => "project",
        }
    }

    /// Parse the `X-Devctl-Kind=` spelling.
    pub fn parse(s: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The unit-file suffix, without the dot.
    pub fn suffix(self) -> &'static str {
        match self {
            UnitKind::Service | UnitKind::Daemon | UnitKind::Build => "service",
            UnitKind::Container => "container",
            UnitKind::Kubernetes => "kube",
            UnitKind::Group | UnitKind::Project => "target",
        }
    }

    /// Units that own something that runs (process, container, resources).
    pub fn is_runnable(self) -> bool {
        !matches!(self, UnitKind::Group | UnitKind::Project)
    }
}

/// How the main program is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    /// Executed directly, no shell: `run "cargo" "run"`.
    Argv(Vec<String>),
    /// Run through `/bin/sh -c`: `sh "cargo run | tee x"`.
    Shell(String),
}

impl Command {
    /// The argv that will be exec'd (`/bin/sh -c …` for a shell command).
    pub fn to_argv(&self) -> Vec<String> {
        match self {
            Command::Argv(v) => v.clone(),
            Command::Shell(s) => vec!["/bin/sh".into(), "-c".into(), s.clone()],
        }
    }
}

/// An environment file to load before start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvFile {
    /// Absolute path (the compiler resolves it against the manifest dir).
    pub path: PathBuf,
    /// A missing optional file is not an error.
    pub optional: bool,
}

/// Strength of a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DepKind {
    /// Start it first; fail if it fails; stop when it stops (BindsTo-like).
    Requires,
    /// Start it too, best effort.
    Wants,
}

/// How far a dependency must get before the dependent starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DepCondition {
    /// Its process was spawned.
    Started,
    /// Its readiness probe passed (or it is started, when it has none).
    Ready,
    /// It ran to completion with success (builds).
    Succeeded,
}

impl DepCondition {
    /// Manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DepCondition::Started => "started",
            DepCondition::Ready => "ready",
            DepCondition::Succeeded => "succeeded",
        }
    }
}

/// One edge of the dependency graph, within a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub unit: UnitName,
    pub kind: DepKind,
    pub until: DepCondition,
}

/// What a probe checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeCheck {
    /// Run a command; exit 0 = success.
    Exec(Vec<String>),
    /// GET a URL; success when the status matches (`None` = any 2xx/3xx).
    Http { url: String, status: Option<u16> },
    /// Connect to a TCP port.
    Tcp { host: String, port: u16 },
    /// A line of the unit's output matches this regex (readiness only).
    Log { regex: String },
    /// The service sends `READY=1` on its `NOTIFY_SOCKET` (readiness only).
    Notify,
}

impl ProbeCheck {
    /// Manifest spelling of the probe kind.
    pub fn kind_str(&self) -> &'static str {
        match self {
            ProbeCheck::Exec(_) => "exec",
            ProbeCheck::Http { .. } => "http",
            ProbeCheck::Tcp { .. } => "tcp",
            ProbeCheck::Log { .. } => "log",
            ProbeCheck::Notify => "notify",
        }
    }
}

/// A readiness or liveness probe with Kubernetes semantics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub check: ProbeCheck,
    /// Longest time between two checks. Checks may run sooner (readiness
    /// is polled quickly right after start); never two at once.
    pub period: Duration,
    /// A check running longer is killed and counts as a failure.
    pub timeout: Duration,
    /// Wait this long after start before the first check.
    pub initial_delay: Duration,
    /// Consecutive successes needed to pass.
    pub success_threshold: u32,
    /// Consecutive failures needed to fail.
    pub failure_threshold: u32,
}

impl Probe {
    /// Default knobs for a readiness probe.
    pub fn readiness(check: ProbeCheck) -> Probe {
        Probe {
            check,
            period: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            initial_delay: Duration::ZERO,
            success_threshold: 1,
            failure_threshold: 3,
        }
    }

    /// Default knobs for a liveness probe.
    pub fn liveness(check: ProbeCheck) -> Probe {
        Probe {
            period: Duration::from_secs(10),
            ..Probe::readiness(check)
        }
    }
}

/// When a unit is restarted after it exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartMode {
    No,
    OnFailure,
    Always,
}

impl RestartMode {
    /// Manifest / systemd spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartMode::No => "no",
            RestartMode::OnFailure => "on-failure",
            RestartMode::Always => "always",
        }
    }

    /// Parse the manifest / systemd spelling.
    pub fn parse(s: &str) -> Option<RestartMode> {
        [RestartMode::No, RestartMode::OnFailure, RestartMode::Always]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// Restart policy: exponential backoff from `backoff` doubling to
/// `max_delay`, reset after `reset_after` of stable uptime; more than
/// `limit` starts within `within` fails the unit with `start-limit-hit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartPolicy {
    pub mode: RestartMode,
    pub backoff: Duration,
    pub max_delay: Duration,
    pub limit: u32,
    pub within: Duration,
    pub reset_after: Duration,
}

impl RestartPolicy {
    /// The default for a kind: services and daemons restart on failure,
    /// everything else does not.
    pub fn default_for(kind: UnitKind) -> RestartPolicy {
        let mode = match kind {
            UnitKind::Service | UnitKind::Daemon | UnitKind::Container => RestartMode::OnFailure,
            _ => RestartMode::No,
        };
        RestartPolicy {
            mode,
            backoff: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            limit: 10,
            within: Duration::from_secs(600),
            reset_after: Duration::from_secs(60),
        }
    }
}

/// How a unit is stopped: `signal` to the whole tree, wait `timeout`,
/// then SIGKILL to the whole tree. Daemons run `command` first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopSpec {
    pub signal: Signal,
    pub timeout: Duration,
    pub command: Option<Vec<String>>,
}

impl Default for StopSpec {
    fn default() -> Self {
        StopSpec {
            signal: Signal::SIGTERM,
            timeout: Duration::from_secs(10),
            command: None,
        }
    }
}

/// Whether file changes run the unit at once or wait for `devctl trigger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TriggerMode {
    #[default]
    Auto,
    Manual,
}

/// How much of its log a unit keeps on disk (`logs { }` in the manifest).
/// Every field left unset takes the daemon's default (`DEVCTL_LOGS_*`), so
/// a unit that says nothing follows the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LogSpec {
    /// Rotate the current file before it grows past this many bytes.
    pub max_size: Option<u64>,
    /// Files kept, the current one included (at least 1).
    pub files: Option<u32>,
    /// Remove a file once its newest line is older than this.
    pub max_age: Option<Duration>,
}

impl LogSpec {
    /// Smallest `max_size`: smaller files would rotate every few lines.
    pub const MIN_SIZE: u64 = 4 << 10;
    /// Largest `max_size`.
    pub const MAX_SIZE: u64 = 64 << 30;
    /// Most `files` kept.
    pub const MAX_FILES: u32 = 1000;

    /// True when the unit sets nothing of its own.
    pub fn is_empty(&self) -> bool {
        *self == LogSpec::default()
    }
}

/// File watching: globs relative to the project root.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WatchSpec {
    pub paths: Vec<String>,
    pub ignore: Vec<String>,
    pub trigger: TriggerMode,
}

impl WatchSpec {
    /// True when nothing is watched.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

/// A published container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publish {
    pub container_port: u16,
    /// Host port; `None` publishes on the same number.
    pub host_port: Option<u16>,
    /// Host address to bind; `None` means 127.0.0.1.
    pub host_ip: Option<String>,
    /// `tcp` or `udp`.
    pub protocol: String,
}

/// A volume or bind mount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// Absolute host path (bind mount) or a named volume.
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

/// Build an image before the container starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageBuild {
    /// Absolute path of the build context.
    pub context: PathBuf,
    /// Dockerfile path relative to the context.
    pub dockerfile: String,
}

/// Container settings; the default is the empty spec a unit's first
/// container setting fills in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSpec {
    pub image: String,
    pub build: Option<ImageBuild>,
    /// Overrides the image's CMD.
    pub command: Option<Vec<String>>,
    /// Overrides the image's ENTRYPOINT.
    pub entrypoint: Option<Vec<String>>,
    pub publish: Vec<Publish>,
    pub volumes: Vec<Volume>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub network: Option<String>,
    /// Use the image's own HEALTHCHECK as readiness.
    pub healthcheck: bool,
}

/// A local port forwarded to a Kubernetes resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortForward {
    /// `pod/name`, `deployment/name` or `service/name`.
    pub resource: String,
    pub local_port: u16,
    pub remote_port: u16,
}

/// When a `kubernetes` unit counts as ready.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KubeReadiness {
    /// Every workload applied is rolled out (Deployments available with
    /// the new ReplicaSet's pods Ready, StatefulSets and DaemonSets ready,
    /// Jobs complete, Pods Ready); ready when applied if there is none.
    #[default]
    Auto,
    /// Every pod carrying the unit's labels is Ready (at least one).
    Pods,
    /// Ready as soon as every object is applied.
    None,
}

impl KubeReadiness {
    /// Every mode, as written.
    pub const ALL: [KubeReadiness; 3] = [
        KubeReadiness::Auto,
        KubeReadiness::Pods,
        KubeReadiness::None,
    ];

    /// The mode as written in a manifest or unit file.
    pub fn as_str(self) -> &'static str {
        match self {
            KubeReadiness::Auto => "auto",
            KubeReadiness::Pods => "pods",
            KubeReadiness::None => "none",
        }
    }

    /// The mode written `s`.
    pub fn parse(s: &str) -> Option<KubeReadiness> {
        KubeReadiness::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// An image a `kubernetes` unit builds before it applies: references to
/// `name` in its manifests are rewritten to the built, content-tagged image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubeImage {
    /// The repository as the manifests write it (`example/web`), without a tag.
    pub name: String,
    pub build: ImageBuild,
}

/// Kubernetes settings (default: empty, as for containers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubeSpec {
    /// Absolute paths of manifest files or directories.
    pub manifests: Vec<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub port_forwards: Vec<PortForward>,
    /// Absolute path of the kubeconfig; `$KUBECONFIG` or `~/.kube/config`
    /// of the daemon when unset.
    #[serde(default)]
    pub kubeconfig: Option<PathBuf>,
    #[serde(default)]
    pub readiness: KubeReadiness,
    #[serde(default)]
    pub images: Vec<KubeImage>,
}

/// One compiled unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub name: UnitName,
    pub kind: UnitKind,
    pub project: ProjectName,
    pub description: Option<String>,
    /// Where it was declared: `path/to/devctl.kdl:12:1`.
    pub source: Option<String>,
    /// Absolute project root (the manifest's directory).
    pub root: PathBuf,
    /// Default enablement; `devctl enable/disable` overrides it.
    pub enabled: bool,
    pub deps: Vec<Dependency>,
    /// Members of a group, or of the project target.
    pub members: Vec<UnitName>,

    // process: service, daemon, build
    pub command: Option<Command>,
    /// Absolute working directory; defaults to `root`.
    pub dir: Option<PathBuf>,
    /// Environment, in declaration order; later entries win.
    pub env: Vec<(String, String)>,
    pub env_files: Vec<EnvFile>,
    /// Daemons: the pid file the started program writes (absolute).
    pub pid_file: Option<PathBuf>,

    // lifecycle
    pub ports: Vec<u16>,
    pub links: Vec<String>,
    pub ready: Option<Probe>,
    pub alive: Option<Probe>,
    pub restart: RestartPolicy,
    pub stop: StopSpec,
    pub watch: WatchSpec,
    /// Builds: run again on this schedule while the unit should run.
    pub schedule: Option<crate::schedule::Schedule>,
    /// Builds: run again when the project repository's HEAD moves.
    pub on_commit: bool,
    /// Builds: run on every start even when its inputs did not change
    /// since its last success (no up-to-date check).
    pub always_run: bool,
    /// Services/daemons/containers: time allowed to become ready.
    pub start_timeout: Option<Duration>,
    /// Builds: time allowed to run to completion.
    pub run_timeout: Option<Duration>,
    /// Builds: time allowed without an output line.
    pub idle_timeout: Option<Duration>,
    /// Log retention of its own; unset fields follow the daemon.
    #[serde(default)]
    pub logs: LogSpec,

    /// Boxed, like `kubernetes`: most units are processes, and every
    /// loaded unit is held in memory for as long as the daemon runs.
    pub container: Option<Box<ContainerSpec>>,
    pub kubernetes: Option<Box<KubeSpec>>,
}

impl Unit {
    /// An empty unit of a kind with every default filled in.
    pub fn new(project: ProjectName, name: UnitName, kind: UnitKind, root: PathBuf) -> Unit {
        Unit {
            name,
            kind,
            project,
            description: None,
            source: None,
            root,
            enabled: true,
            deps: Vec::new(),
            members: Vec::new(),
            command: None,
            dir: None,
            env: Vec::new(),
            env_files: Vec::new(),
            pid_file: None,
            ports: Vec::new(),
            links: Vec::new(),
            ready: None,
            alive: None,
            restart: RestartPolicy::default_for(kind),
            stop: StopSpec::default(),
            watch: WatchSpec::default(),
            schedule: None,
            on_commit: false,
            always_run: false,
            start_timeout: None,
            run_timeout: None,
            idle_timeout: None,
            logs: LogSpec::default(),
            container: None,
            kubernetes: None,
        }
    }

    /// File name of the unit file: `paulie.service`, `backend.target`.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.name, self.kind.suffix())
    }

    /// The effective working directory.
    pub fn working_dir(&self) -> &std::path::Path {
        self.dir.as_deref().unwrap_or(&self.root)
    }

    /// Units this one requires or wants, in declaration order.
    pub fn dep_names(&self) -> impl Iterator<Item = &UnitName> {
        self.deps.iter().map(|d| &d.unit)
    }
}
