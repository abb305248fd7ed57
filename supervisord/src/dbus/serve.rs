//! Serving the D-Bus interface: connect to the session bus, own
//! [`BUS_NAME`], serve the object, and forward every `StateChanged` event of
//! the core as a `UnitStateChanged` signal. The daemon runs without it when
//! there is no session bus (a warning, not a failure).

use devctl_units::api::EventKind;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use zbus::object_server::SignalEmitter;

use super::iface::{BUS_NAME, Devctld, OBJECT_PATH};
use crate::core::handle::{CoreApi, Supervisor};

/// Why the D-Bus interface could not be served.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DbusError {
    #[error("cannot serve {BUS_NAME} on the session bus: {0}")]
    #[diagnostic(
        code(devctld::dbus),
        help(
            "devctld keeps running without D-Bus; a session bus needs DBUS_SESSION_BUS_ADDRESS \
             or $XDG_RUNTIME_DIR/bus, and another devctld may own the name"
        )
    )]
    Connect(#[source] zbus::Error),
}

/// The served interface; dropping it releases the name and stops the signals.
pub struct DbusService {
    conn: zbus::Connection,
    forward: JoinHandle<()>,
}

impl DbusService {
    /// The unique name of devctld's connection.
    pub fn unique_name(&self) -> Option<String> {
        self.conn.unique_name().map(|n| n.to_string())
    }
}

impl Drop for DbusService {
    fn drop(&mut self) {
        self.forward.abort();
    }
}

/// Connect to the session bus, own the name, serve the object, forward events.
pub async fn start(sup: Supervisor) -> Result<DbusService, DbusError> {
    start_on(zbus::connection::Builder::session(), sup).await
}

/// Like [`start`] on a given bus (tests use a private `dbus-daemon`).
pub async fn start_on(
    builder: zbus::connection::Builder<'_>,
    sup: Supervisor,
) -> Result<DbusService, DbusError> {
    // Subscribe before serving so no change after the first call is missed.
    let mut events = sup.subscribe_events();
    let conn = builder
        .name(BUS_NAME)
        .serve_at(OBJECT_PATH, Devctld { sup })
        .build()
        .await
        .map_err(DbusError::Connect)?;
    let emitter = SignalEmitter::new(&conn, OBJECT_PATH)
        .map_err(DbusError::Connect)?
        .into_owned();
    let forward = tokio::spawn(async move {
        loop {
            let ev = match events.recv().await {
                Ok(ev) => ev,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(
                        lost = n,
                        "D-Bus signal forwarding fell behind; signals lost"
                    );
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let EventKind::StateChanged {
                active,
                sub,
                result,
                ..
            } = ev.kind
            else {
                continue;
            };
            let (Some(project), Some(unit)) = (ev.project, ev.unit) else {
                continue;
            };
            let result = result.map(|r| r.to_string()).unwrap_or_default();
            let run = ev.run.map(|r| r.to_string()).unwrap_or_default();
            if let Err(e) = Devctld::run_state_changed(
                &emitter,
                project.as_str(),
                unit.as_str(),
                &run,
                active.as_str(),
                sub.as_str(),
                &result,
            )
            .await
            {
                tracing::warn!(error = %e, "cannot emit RunStateChanged");
            }
            if let Err(e) = Devctld::unit_state_changed(
                &emitter,
                project.as_str(),
                unit.as_str(),
                active.as_str(),
                sub.as_str(),
                &result,
            )
            .await
            {
                tracing::warn!(error = %e, "cannot emit UnitStateChanged");
            }
        }
    });
    Ok(DbusService { conn, forward })
}
