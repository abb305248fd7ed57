//! The accept loop: every connection's peer uid is checked with
//! SO_PEERCRED before a byte is read; connections are bounded by a
//! semaphore (the surplus gets a "busy" answer); hyper serves the rest with
//! a header-read timeout (which is also the keep-alive idle timeout), a
//! bounded read buffer and a write-stall guard.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use devctl_units::api::ErrorKind;
use futures_util::FutureExt;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, watch};

use super::control::DaemonControl;
use super::error::{api_error, canned_error};
use super::routes::router;
use super::stall::StallGuard;
use crate::core::handle::CoreApi;

/// Limits that keep misbehaving clients from hurting the daemon.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Connections served at once; more get a "busy" error.
    pub max_connections: usize,
    /// A request head must arrive within this long, and an idle keep-alive
    /// connection is closed after it.
    pub header_read_timeout: Duration,
    /// A request body must arrive within this long.
    pub body_timeout: Duration,
    /// A write that cannot progress for this long drops the connection.
    pub write_stall_timeout: Duration,
    /// On shutdown, in-flight requests get this long to finish.
    pub shutdown_grace: Duration,
    /// The only uid allowed to talk to the daemon.
    pub allowed_uid: u32,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 256,
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            write_stall_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(3),
            // SAFETY: geteuid has no preconditions and cannot fail.
            allowed_uid: unsafe { libc::geteuid() },
        }
    }
}

/// Why serving stopped before it was asked to.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ServeError {
    #[error("the API socket stopped accepting connections: {0}")]
    #[diagnostic(
        code(devctld::api::accept),
        help("this is a devctl bug; restart the daemon and report it")
    )]
    Accept(#[source] std::io::Error),
}

/// Largest request head (and read buffer) hyper keeps per connection.
const MAX_HEAD_BYTES: usize = 64 << 10;
/// How long a canned answer may take (write and linger) before the peer is dropped.
const CANNED_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// At most this much is discarded from a refused peer before closing.
const LINGER_BYTES: usize = 64 << 10;

/// A listener the accept loop serves: the API's Unix socket, or the
/// dashboard's TCP port.
pub(crate) trait Listen: Send + 'static {
    type Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static;
    /// The next connection.
    fn accept(&self) -> impl Future<Output = std::io::Result<Self::Stream>> + Send;
    /// Why `stream`'s peer may not talk to us, answered before a byte is
    /// read; `None` lets it in.
    fn refuse(&self, stream: &Self::Stream) -> Option<devctl_units::api::ApiError>;
}

/// The API socket: only the daemon's own user is let in.
struct ApiSocket {
    listener: UnixListener,
    allowed_uid: u32,
}

impl Listen for ApiSocket {
    type Stream = UnixStream;

    async fn accept(&self) -> std::io::Result<UnixStream> {
        self.listener.accept().await.map(|(s, _)| s)
    }

    fn refuse(&self, stream: &UnixStream) -> Option<devctl_units::api::ApiError> {
        (!peer_allowed(stream, self.allowed_uid)).then(|| {
            api_error(
                ErrorKind::Forbidden,
                "this devctld belongs to another user",
                Some("talk to your own daemon: each user runs one devctld"),
            )
        })
    }
}

/// Serve the API on `listener` until `shutdown` resolves.
pub async fn serve<C: CoreApi, D: DaemonControl>(
    listener: UnixListener,
    core: C,
    daemon: D,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let app = router(core, daemon, limits.body_timeout, stop_rx.clone());
    let socket = ApiSocket {
        listener,
        allowed_uid: limits.allowed_uid,
    };
    let (result, open) = accept_loop(socket, app, &limits, stop_rx, shutdown).await;
    // Stop streams, let in-flight requests finish, then give up on stragglers.
    let _ = stop_tx.send(true);
    open.finish(&limits).await;
    result
}

/// The connections an accept loop left open.
pub(crate) struct Open {
    slots: Arc<Semaphore>,
}

impl Open {
    /// Wait (bounded by the shutdown grace) until every one has ended;
    /// call once `stop` said so.
    pub(crate) async fn finish(self, limits: &ServerLimits) {
        let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(
            limits.shutdown_grace + Duration::from_secs(1),
            self.slots.acquire_many(all),
        )
        .await;
    }
}

/// Accept and serve `app` until `shutdown` resolves, within `limits`;
/// connections end gracefully once `stop` turns true.
pub(crate) async fn accept_loop<L: Listen>(
    listener: L,
    app: axum::Router,
    limits: &ServerLimits,
    stop_rx: watch::Receiver<bool>,
    shutdown: impl Future<Output = ()>,
) -> (Result<(), ServeError>, Open) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    let result = loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break Ok(()),
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok(stream) => stream,
            Err(e) => match e.raw_os_error() {
                Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
                    tracing::warn!(error = %e, "cannot accept a connection; out of resources, retrying shortly");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Some(libc::ECONNABORTED | libc::EINTR | libc::EAGAIN | libc::EPROTO) => continue,
                _ => break Err(ServeError::Accept(e)),
            },
        };
        if let Some(err) = listener.refuse(&stream) {
            tokio::spawn(answer_and_close(stream, err));
            continue;
        }
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(
                limit = limits.max_connections,
                "connection refused: too many open connections"
            );
            tokio::spawn(answer_and_close(
                stream,
                api_error(
                    ErrorKind::Busy,
                    format!(
                        "devctld is busy: {} connections are already open",
                        limits.max_connections
                    ),
                    Some("retry in a moment; close idle clients (e.g. forgotten `devctl logs -f`)"),
                ),
            ));
            continue;
        };
        let app = app.clone();
        let limits = limits.clone();
        let mut stop_rx = stop_rx.clone();
        tokio::spawn(async move {
            let io = TokioIo::new(StallGuard::new(stream, limits.write_stall_timeout));
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_buf_size(MAX_HEAD_BYTES);
            let conn = builder.serve_connection(io, TowerToHyperService::new(app));
            tokio::pin!(conn);
            let served = tokio::select! {
                r = conn.as_mut() => r,
                _ = stop_rx.wait_for(|s| *s).map(|_| ()) => {
                    conn.as_mut().graceful_shutdown();
                    tokio::time::timeout(limits.shutdown_grace, conn.as_mut()).await.unwrap_or(Ok(()))
                }
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    };
    (result, Open { slots })
}

/// SO_PEERCRED check; logs and refuses any other uid.
fn peer_allowed(stream: &UnixStream, allowed_uid: u32) -> bool {
    match stream.peer_cred() {
        Ok(cred) if cred.uid() == allowed_uid => true,
        Ok(cred) => {
            tracing::warn!(peer_uid = cred.uid(), peer_pid = ?cred.pid(), "API connection from another user refused");
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "API connection refused: cannot read its peer credentials");
            false
        }
    }
}

/// Write a canned error answer, then close. Nothing the peer sent is
/// parsed; whatever it sends meanwhile is discarded (a bounded lingering
/// close, so clients see the answer rather than a reset).
async fn answer_and_close<S>(mut stream: S, err: devctl_units::api::ApiError)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let bytes = canned_error(err);
    let _ = tokio::time::timeout(CANNED_WRITE_TIMEOUT, async {
        stream.write_all(&bytes).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        let mut left = LINGER_BYTES;
        while left > 0 {
            match stream.read(&mut sink).await? {
                0 => break,
                n => left = left.saturating_sub(n),
            }
        }
        Ok::<(), std::io::Error>(())
    })
    .await;
}
