//! The [`Dashboard`] handle: turns the dashboard on (bind 127.0.0.1:PORT,
//! write the session token file, serve), mints login URLs, and closes it
//! when the daemon stops. The router is the API's own (the same handlers,
//! the same streams) plus the page, the event stream with its usage
//! watch, and reload, all behind the gate of `security.rs`.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use devctl_units::api::{ApiError, DashboardInfo, ErrorKind};
use tokio::sync::{Mutex, watch};

use super::pages;
use super::reload;
use super::security::{Gate, gate, random_token};
use super::usage::UsageHub;
use crate::api::{DaemonControl, Listen, ServerLimits, accept_loop, router};
use crate::core::handle::CoreApi;

/// The port used when `DEVCTL_DASHBOARD_PORT` is not set.
pub const DEFAULT_PORT: u16 = 7717;
/// The daemon's setting: the dashboard's port; set at start, the dashboard
/// is on from the start (`0` picks a free port).
pub const PORT_VAR: &str = "DEVCTL_DASHBOARD_PORT";
/// How long a request body may take to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open pages get to finish when the daemon stops.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Connections served at once (a browser opens up to six per page).
const MAX_CONNECTIONS: usize = 64;

/// The dashboard's TCP port. Every local user can connect: the token,
/// `Host` and `Origin` gate (`security.rs`) decides what is served.
struct Port(tokio::net::TcpListener);

impl Listen for Port {
    type Stream = tokio::net::TcpStream;

    async fn accept(&self) -> std::io::Result<tokio::net::TcpStream> {
        self.0.accept().await.map(|(s, _)| s)
    }

    fn refuse(&self, _: &tokio::net::TcpStream) -> Option<ApiError> {
        None
    }
}

/// Where the dashboard listens and keeps its token.
#[derive(Debug, Clone)]
pub struct DashboardConfig {
    pub port: u16,
    /// The session token file (mode 0600).
    pub token_file: PathBuf,
    /// Turn it on when the daemon starts.
    pub at_start: bool,
}

impl DashboardConfig {
    /// From `DEVCTL_DASHBOARD_PORT`: set means "on from the start, on this port".
    pub fn from_env(runtime_dir: &Path) -> Result<DashboardConfig, DashboardError> {
        let token_file = runtime_dir.join("dashboard.token");
        match std::env::var_os(PORT_VAR) {
            None => Ok(DashboardConfig {
                port: DEFAULT_PORT,
                token_file,
                at_start: false,
            }),
            Some(raw) => {
                let value = raw.to_string_lossy().into_owned();
                let port = value
                    .trim()
                    .parse::<u16>()
                    .map_err(|_| DashboardError::BadPort { value })?;
                Ok(DashboardConfig {
                    port,
                    token_file,
                    at_start: true,
                })
            }
        }
    }
}

/// Why the dashboard could not be turned on.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DashboardError {
    #[error("{PORT_VAR}={value} is not a port number")]
    #[diagnostic(
        code(devctld::dashboard::port),
        help(
            "give a number from 0 to 65535 (0 picks a free port), or unset it for {DEFAULT_PORT}"
        )
    )]
    BadPort { value: String },
    #[error("cannot listen on 127.0.0.1:{port} for the dashboard: {source}")]
    #[diagnostic(
        code(devctld::dashboard::bind),
        help(
            "another program holds the port; start devctld with {PORT_VAR}=<free port> (0 picks one)"
        )
    )]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot write the dashboard token file {path}: {source}")]
    #[diagnostic(
        code(devctld::dashboard::token),
        help("check that the runtime directory is yours and writable")
    )]
    TokenFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the dashboard is closed: devctld is stopping")]
    #[diagnostic(code(devctld::dashboard::closed))]
    Closed,
}

impl From<DashboardError> for ApiError {
    fn from(e: DashboardError) -> ApiError {
        let help = match &e {
            DashboardError::BadPort { .. } | DashboardError::Bind { .. } => Some(format!(
                "another program holds the port; restart devctld with {PORT_VAR}=<free port> (0 picks one)"
            )),
            DashboardError::TokenFile { .. } => {
                Some("check that the runtime directory is yours and writable".into())
            }
            DashboardError::Closed => None,
        };
        ApiError {
            kind: ErrorKind::Failed,
            message: e.to_string(),
            help,
        }
    }
}

struct On {
    gate: Gate,
}

/// The dashboard of one daemon: off, on, or closed for good.
#[derive(Clone)]
pub struct Dashboard<C> {
    core: C,
    config: DashboardConfig,
    on: Arc<Mutex<Option<On>>>,
    stop: watch::Sender<bool>,
}

impl<C: CoreApi> Dashboard<C> {
    pub fn new(core: C, config: DashboardConfig) -> Dashboard<C> {
        Dashboard {
            core,
            config,
            on: Arc::default(),
            stop: watch::channel(false).0,
        }
    }

    pub fn config(&self) -> &DashboardConfig {
        &self.config
    }

    /// Turn the dashboard on if it is not, and mint a login URL.
    pub async fn open<D: DaemonControl>(&self, daemon: D) -> Result<DashboardInfo, DashboardError> {
        if *self.stop.borrow() {
            return Err(DashboardError::Closed);
        }
        let mut on = self.on.lock().await;
        let started = on.is_none();
        if on.is_none() {
            *on = Some(self.start(daemon).await?);
        }
        let Some(running) = on.as_ref() else {
            return Err(DashboardError::Closed);
        };
        let login = running
            .gate
            .mint_login()
            .map_err(|source| DashboardError::TokenFile {
                path: self.config.token_file.clone(),
                source,
            })?;
        let port = running.gate.port;
        Ok(DashboardInfo {
            url: format!("http://127.0.0.1:{port}/"),
            login_url: format!("http://127.0.0.1:{port}/login?token={login}"),
            port,
            token_file: self.config.token_file.clone(),
            started,
        })
    }

    async fn start<D: DaemonControl>(&self, daemon: D) -> Result<On, DashboardError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.config.port))
            .await
            .map_err(|source| DashboardError::Bind {
                port: self.config.port,
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| DashboardError::Bind {
                port: self.config.port,
                source,
            })?
            .port();
        let token_err = |source| DashboardError::TokenFile {
            path: self.config.token_file.clone(),
            source,
        };
        let secret = random_token().map_err(token_err)?;
        write_private(&self.config.token_file, &secret).map_err(token_err)?;
        let gate_state = Gate::new(secret, port);
        let app = Router::new()
            .route("/", get(pages::index::<C>))
            .route("/assets/{file}", get(pages::asset))
            .route("/events", get(pages::events::<C>))
            .route("/events/{stream}/watch", post(pages::watch_units::<C>))
            .route("/v1/projects/{project}/reload", post(reload::reload::<C>))
            .with_state(pages::PageState {
                core: self.core.clone(),
                gate: gate_state.clone(),
                stop: self.stop.subscribe(),
                usage: UsageHub::new(self.core.clone()),
            })
            .merge(router(
                self.core.clone(),
                daemon,
                BODY_TIMEOUT,
                self.stop.subscribe(),
            ))
            .layer(middleware::from_fn_with_state(gate_state.clone(), gate));
        let stop = self.stop.subscribe();
        tokio::spawn(async move {
            // The API socket's accept loop and limits: a bounded number of
            // connections, a header-read timeout (slow or idle clients are
            // dropped), a bounded head and a write-stall guard.
            let limits = ServerLimits {
                max_connections: MAX_CONNECTIONS,
                shutdown_grace: CLOSE_GRACE,
                ..ServerLimits::default()
            };
            let mut closed = stop.clone();
            let shutdown = async move {
                let _ = closed.wait_for(|s| *s).await;
            };
            let (served, open) = accept_loop(Port(listener), app, &limits, stop, shutdown).await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "the dashboard stopped serving");
            }
            open.finish(&limits).await;
        });
        tracing::info!(port, "dashboard on http://127.0.0.1:{port}/");
        Ok(On { gate: gate_state })
    }

    /// Close the dashboard for good: open pages are ended, the token file removed.
    pub fn close(&self) {
        self.stop.send_replace(true);
        // Removed here, not by the serving task: the process may exit first.
        if let Ok(on) = self.on.try_lock()
            && on.is_some()
        {
            let _ = std::fs::remove_file(&self.config.token_file);
        }
    }
}

/// Write `text` to `path` with mode 0600 (replacing it atomically).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("token.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_token_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dashboard.token");
        std::fs::write(&p, "old").unwrap();
        write_private(&p, "abc").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "abc\n");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
