//! The daemon's life: resolve paths, take the instance lock, bind (or
//! inherit) the API socket, start the core, serve, and stop cleanly on
//! SIGTERM/SIGINT or `POST /v1/daemon/stop` — every unit stopped, then the
//! socket removed. systemd readiness (`READY=1`, `STATUS=`, `STOPPING=1`,
//! watchdog pings) is reported when `NOTIFY_SOCKET` is set; under systemd
//! with a delegated cgroup each run gets its own cgroup; the D-Bus
//! interface is served when a session bus answers. `POST
//! /v1/daemon/reexec` replaces the image in place (`reexec.rs`): serving
//! stops, the core freezes, and the same pid executes the binary again
//! with the listener, the lock and every unit's pipes kept open.

mod control;
pub mod history_env;
mod lifecycle;
pub mod log_env;
pub mod reexec;
mod systemd;

use std::future::Future;
use std::os::fd::FromRawFd;
use std::path::PathBuf;

use devctl_units::api::Hosting;
use devctl_units::paths::{Paths, PathsError, ensure_private_dir};
use futures_util::FutureExt;
use sd_notify::NotifyState;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::api::{ServeError, ServerLimits, serve};
use crate::core::handle::{CoreError, CoreOptions, Supervisor};
use crate::dashboard::{Dashboard, DashboardConfig, DashboardError};
use control::{Control, Phase, request_stop};
use lifecycle::{bind_socket, lock_instance};

/// How to run the daemon. `Default` is what `devctld` does.
#[derive(Debug, Clone, Default)]
pub struct DaemonOptions {
    /// Where devctl's files live; `None` resolves them from the environment.
    pub paths: Option<Paths>,
    /// Connection limits and timeouts of the API server.
    pub limits: ServerLimits,
    /// Extra environment given to every child (tests mark their processes).
    pub extra_env: Vec<(String, String)>,
    /// Do not serve the D-Bus interface.
    pub no_dbus: bool,
    /// What a previous image of this process left (`devctld
    /// --reexec-state`): the listener, the lock and the carried session.
    pub reexec: Option<reexec::Inherited>,
}

/// Why the daemon could not start or run.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DaemonError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Paths(#[from] PathsError),
    #[error("devctld is already running (pid {})", pid.map_or_else(|| "unknown".to_owned(), |p| p.to_string()))]
    #[diagnostic(
        code(devctld::already_running),
        help(
            "use the running daemon (`devctl daemon status`), or stop it first with `devctl daemon stop`"
        )
    )]
    AlreadyRunning { pid: Option<u32> },
    #[error("{path} exists and is not a socket; refusing to replace it")]
    #[diagnostic(
        code(devctld::not_a_socket),
        help("move that file out of the way, then start devctld again")
    )]
    NotASocket { path: PathBuf },
    #[error("cannot take the daemon lock {path}: {source}")]
    #[diagnostic(
        code(devctld::lock),
        help("check that the runtime directory is yours and writable")
    )]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot bind the API socket {path}: {source}")]
    #[diagnostic(
        code(devctld::bind),
        help("check that the runtime directory is yours and writable")
    )]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot use the socket passed by systemd: {0}")]
    #[diagnostic(
        code(devctld::socket_activation),
        help("check devctld.socket: it must be one ListenStream= socket")
    )]
    Inherited(#[source] std::io::Error),
    #[error("cannot re-execute devctld: {0}")]
    #[diagnostic(
        code(devctld::reexec),
        help(
            "the units keep running; start devctld again (the session continues as after a crash)"
        )
    )]
    Reexec(#[source] std::io::Error),
    #[error("DEVCTL_DEFAULT_START_TIMEOUT={value} is not a usable duration: {reason}")]
    #[diagnostic(
        code(devctld::default_start_timeout),
        help(
            "give a positive duration such as `90s`, `2m` or `500ms`, or unset it for the default (90s)"
        )
    )]
    DefaultStartTimeout { value: String, reason: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    History(#[from] history_env::HistorySettingError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Logs(#[from] log_env::LogSettingError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Dashboard(#[from] DashboardError),
    #[error("cannot install signal handlers: {0}")]
    #[diagnostic(code(devctld::signals))]
    Signals(#[source] std::io::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Core(#[from] CoreError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Serve(#[from] ServeError),
}

impl DaemonError {
    /// The process exit code: 69 when the daemon could not start, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            DaemonError::Serve(_) => 1,
            _ => 69,
        }
    }
}

/// Run the daemon until SIGTERM/SIGINT or `POST /v1/daemon/stop`.
pub async fn run(opts: DaemonOptions) -> Result<(), DaemonError> {
    if let Some(d) = default_start_timeout_from_env()? {
        crate::probe::set_default_start_timeout(d);
    }
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    let mut hup = signal(SignalKind::hangup()).map_err(DaemonError::Signals)?;
    let signals = async move {
        loop {
            tokio::select! {
                _ = term.recv() => { tracing::info!("SIGTERM: stopping cleanly"); return; }
                _ = int.recv() => { tracing::info!("SIGINT: stopping cleanly"); return; }
                _ = hup.recv() => tracing::info!("SIGHUP ignored: devctld has no configuration to reload (use `devctl reload`)"),
            }
        }
    };
    run_until(opts, signals).await
}

/// The variable setting the default start timeout of units with a
/// readiness check and no `start-timeout` of their own.
pub const DEFAULT_START_TIMEOUT_VAR: &str = "DEVCTL_DEFAULT_START_TIMEOUT";

/// `DEVCTL_DEFAULT_START_TIMEOUT`, when set: a positive duration.
fn default_start_timeout_from_env() -> Result<Option<std::time::Duration>, DaemonError> {
    let Some(raw) = std::env::var_os(DEFAULT_START_TIMEOUT_VAR) else {
        return Ok(None);
    };
    let value = raw.to_string_lossy().into_owned();
    let bad = |reason: String| DaemonError::DefaultStartTimeout {
        value: value.clone(),
        reason,
    };
    match humantime::parse_duration(value.trim()) {
        Ok(d) if d.is_zero() => Err(bad("it must be longer than zero".into())),
        Ok(d) => Ok(Some(d)),
        Err(e) => Err(bad(e.to_string())),
    }
}

/// Run the daemon until `stop` resolves or a client asks it to stop.
pub async fn run_until(
    opts: DaemonOptions,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    let (history_on, run_retention) = history_env::history_settings(|k| std::env::var(k).ok())?;
    let log_retention = log_env::log_settings(|k| std::env::var(k).ok())?;
    let paths = match opts.paths {
        Some(p) => p,
        None => Paths::from_env()?,
    };
    ensure_private_dir(&paths.runtime)?;
    ensure_private_dir(&paths.state)?;
    let dashboard_config = DashboardConfig::from_env(&paths.runtime)?;
    let inherited = opts.reexec;
    let lock = match inherited
        .as_ref()
        .and_then(|i| lifecycle::InstanceLock::inherit(i.lock))
    {
        Some(l) => l,
        None => lock_instance(&paths.lock())?,
    };
    let carried = inherited.as_ref().and_then(|i| {
        reexec::listener_from(i.listener)
            .inspect_err(|e| tracing::warn!(error = %e, "the inherited API listener is unusable"))
            .ok()
    });
    // A re-executed image never reads LISTEN_FDS again: the fd systemd
    // passed was closed at the exec and its number may be reused.
    let activated =
        || std::env::var("LISTEN_PID").is_ok_and(|p| p == std::process::id().to_string());
    let from_systemd = match inherited {
        None => inherited_listener()?,
        Some(_) => None,
    };
    let (listener, bound, hosting) = match carried {
        Some(l) => {
            let (bound, hosting) = match inherited.as_ref().and_then(|i| i.carry.as_ref()) {
                Some(c) => (c.bound, c.hosting),
                None if activated() => (false, Hosting::SocketActivated),
                None if std::env::var_os("NOTIFY_SOCKET").is_some() => (true, Hosting::Systemd),
                None => (true, Hosting::Standalone),
            };
            let bound = bound
                .then(|| lifecycle::BoundSocket::existing(&paths.socket()))
                .flatten();
            (l, bound, hosting)
        }
        None => match from_systemd {
            Some(l) => (l, None, Hosting::SocketActivated),
            None => {
                let (l, b) = bind_socket(&paths.socket())?;
                let hosting = if std::env::var_os("NOTIFY_SOCKET").is_some() {
                    Hosting::Systemd
                } else {
                    Hosting::Standalone
                };
                (l, Some(b), hosting)
            }
        },
    };
    let cleanup = |bound: Option<lifecycle::BoundSocket>| {
        if let Some(b) = bound {
            b.remove();
        }
    };
    // Kept to hand the listening socket to a re-executed image.
    let listen_dup = listener
        .try_clone()
        .map(std::os::fd::OwnedFd::from)
        .inspect_err(|e| tracing::warn!(error = %e, "cannot duplicate the API listener; re-exec is unavailable"))
        .ok();
    let listener = match listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::UnixListener::from_std(listener))
    {
        Ok(l) => l,
        Err(e) => {
            cleanup(bound);
            return Err(DaemonError::Bind {
                path: paths.socket(),
                source: e,
            });
        }
    };
    let mut core_opts = CoreOptions::new(paths.clone(), hosting);
    core_opts.history = history_on;
    core_opts.run_retention = run_retention;
    core_opts.log_retention = log_retention;
    core_opts.extra_env = opts.extra_env;
    core_opts.cgroup = systemd::delegated_cgroup(hosting);
    core_opts.reexec = inherited.and_then(|i| i.carry).map(|c| c.core);
    let sup = match Supervisor::start(core_opts).await {
        Ok(s) => s,
        Err(e) => {
            cleanup(bound);
            return Err(e.into());
        }
    };
    let (phase, _) = watch::channel(Phase::Running);
    let dashboard = Dashboard::new(sup.clone(), dashboard_config);
    let control = Control {
        core: sup.info(),
        hosting,
        phase: phase.clone(),
        can_reexec: listen_dup.is_some(),
        dashboard: dashboard.clone(),
    };
    if dashboard.config().at_start {
        // On by configuration; a port already taken is the user's to fix,
        // not a reason to leave every project unsupervised.
        if let Err(e) = dashboard.open(control.clone()).await {
            tracing::warn!("{e}; the dashboard is off");
        }
    }
    let mut stopped = phase.subscribe();
    let server = tokio::spawn(serve(
        listener,
        sup.clone(),
        control.clone(),
        opts.limits,
        async move {
            let _ = stopped.wait_for(|p| *p == Phase::Stopped).await;
        },
    ));
    let info = sup.info();
    tracing::info!(
        socket = %paths.socket().display(), pid = std::process::id(), ?hosting, session = %info.session_id,
        recovered = info.recovered, reexecuted = info.reexecuted, "devctld ready"
    );
    notify(&[NotifyState::Ready, NotifyState::Status("serving")]);
    let helpers: Vec<_> = [
        systemd::watchdog(sup.clone()),
        systemd::status_lines(sup.clone()),
        (!opts.no_dbus).then(|| tokio::spawn(serve_dbus(sup.clone(), phase.subscribe()))),
    ]
    .into_iter()
    .flatten()
    .collect();

    let stop_phase = phase.clone();
    let stop_task = tokio::spawn(async move {
        stop.await;
        request_stop(&stop_phase);
    });
    let mut watch_phase = phase.subscribe();
    let mut server = server;
    let early = tokio::select! {
        () = watch_phase.wait_for(|p| *p != Phase::Running).map(|_| ()) => None,
        r = &mut server => Some(r),
    };
    stop_task.abort();
    dashboard.close();
    if *phase.borrow() == Phase::Reexecuting
        && let Some(listen_dup) = listen_dup
    {
        tracing::info!("re-executing: serving stops, every unit keeps running");
        phase.send_replace(Phase::Stopped);
        if early.is_none() {
            let _ = server.await;
        }
        let Some(mut frozen) = sup.freeze().await else {
            return Err(DaemonError::Reexec(std::io::Error::other(
                "the core stopped before it could be frozen",
            )));
        };
        let _no_reaping = frozen.seal();
        let carry = reexec::DaemonCarry {
            version: reexec::STATE_VERSION,
            hosting,
            bound: bound.is_some(),
            core: frozen.carry.clone(),
        };
        let state = paths.reexec_state();
        let err = reexec::exec(&state, &carry, &listen_dup, lock.raw_fd(), &frozen.fds);
        tracing::error!(error = %err, "re-exec failed; the units keep running unsupervised");
        return Err(DaemonError::Reexec(err));
    }
    if early.is_some() {
        tracing::error!("the API server stopped on its own; stopping every unit");
    }
    notify(&[
        NotifyState::Stopping,
        NotifyState::Status("stopping every unit"),
    ]);
    tracing::info!("stopping every unit; the session ends");
    sup.shutdown().await;
    for h in helpers {
        h.abort();
    }
    phase.send_replace(Phase::Stopped);
    let served = match early {
        Some(r) => r,
        None => server.await,
    };
    cleanup(bound);
    tracing::info!("devctld stopped");
    match served {
        Ok(r) => r.map_err(DaemonError::from),
        Err(e) => {
            tracing::error!(error = %e, "the API server task panicked");
            Ok(())
        }
    }
}

/// Serve the D-Bus interface until the daemon stops; without a session bus,
/// say so once and carry on.
async fn serve_dbus(sup: Supervisor, mut phase: watch::Receiver<Phase>) {
    let served =
        tokio::time::timeout(std::time::Duration::from_secs(5), crate::dbus::start(sup)).await;
    let service = match served {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::warn!("{e}; D-Bus interface not served");
            return;
        }
        Err(_) => {
            tracing::warn!("the session bus did not answer within 5s; D-Bus interface not served");
            return;
        }
    };
    tracing::info!(name = crate::dbus::BUS_NAME, unique = ?service.unique_name(), "D-Bus interface served");
    // Signals keep flowing while units stop; released once every unit is down.
    let _ = phase.wait_for(|p| *p == Phase::Stopped).await;
    drop(service);
}

/// The listening socket systemd passed (socket activation), if any.
fn inherited_listener() -> Result<Option<std::os::unix::net::UnixListener>, DaemonError> {
    let mut fds = sd_notify::listen_fds().map_err(DaemonError::Inherited)?;
    Ok(fds.next().map(|fd| {
        // SAFETY: systemd passed this fd to this pid (LISTEN_PID checked) and
        // nothing else in the process owns it.
        unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) }
    }))
}

fn notify(state: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!(error = %e, "cannot notify systemd (NOTIFY_SOCKET)");
    }
}
