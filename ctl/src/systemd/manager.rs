//! The systemd user manager over D-Bus (`org.freedesktop.systemd1` on the
//! session bus, zbus): reload, enable/disable unit files, start/stop a unit
//! and wait for its job's `JobRemoved`, and read unit properties. Nothing
//! here runs `systemctl`.

use std::time::Duration;

use futures_util::StreamExt;
use zbus::OwnedObjectPath;
use zbus::proxy::CacheProperties;

use super::error::SystemdError;

/// How long a start or stop job may take before we give up waiting.
pub const JOB_TIMEOUT: Duration = Duration::from_secs(90);

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
trait SystemdManager {
    fn reload(&self) -> zbus::Result<()>;
    fn subscribe(&self) -> zbus::Result<()>;
    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn load_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;
    fn enable_unit_files(
        &self,
        files: &[&str],
        runtime: bool,
        force: bool,
    ) -> zbus::Result<(bool, Vec<(String, String, String)>)>;
    fn disable_unit_files(
        &self,
        files: &[&str],
        runtime: bool,
    ) -> zbus::Result<Vec<(String, String, String)>>;
    fn reset_failed_unit(&self, name: &str) -> zbus::Result<()>;
    #[zbus(signal)]
    fn job_removed(
        &self,
        id: u32,
        job: OwnedObjectPath,
        unit: String,
        result: String,
    ) -> zbus::Result<()>;
}

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Unit",
    default_service = "org.freedesktop.systemd1"
)]
trait SystemdUnit {
    #[zbus(property)]
    fn load_state(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn active_state(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn sub_state(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn unit_file_state(&self) -> zbus::Result<String>;
}

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Service",
    default_service = "org.freedesktop.systemd1"
)]
trait SystemdService {
    #[zbus(property, name = "MainPID")]
    fn main_pid(&self) -> zbus::Result<u32>;
}

/// A unit's state as the user manager reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnitState {
    pub name: String,
    pub load: String,
    pub active: String,
    pub sub: String,
    pub file: String,
    /// Only for services; 0 when none.
    pub main_pid: u32,
}

/// A connection to the user's systemd manager.
pub struct UserManager {
    conn: zbus::Connection,
    mgr: SystemdManagerProxy<'static>,
}

fn call(what: &'static str) -> impl FnOnce(zbus::Error) -> SystemdError {
    move |source| SystemdError::Call { what, source }
}

impl UserManager {
    /// Connect through the session bus (`DBUS_SESSION_BUS_ADDRESS`, else
    /// `$XDG_RUNTIME_DIR/bus`).
    pub async fn connect() -> Result<UserManager, SystemdError> {
        let conn = zbus::Connection::session()
            .await
            .map_err(|source| SystemdError::NoBus { source })?;
        let mgr = SystemdManagerProxy::new(&conn)
            .await
            .map_err(call("connect to org.freedesktop.systemd1"))?;
        // Job signals are only sent to subscribed clients; once per connection.
        mgr.subscribe().await.map_err(call("Subscribe"))?;
        Ok(UserManager { conn, mgr })
    }

    /// `daemon-reload`.
    pub async fn reload(&self) -> Result<(), SystemdError> {
        self.mgr.reload().await.map_err(call("Reload"))
    }

    /// Enable unit files by name (symlinks in the `WantedBy=` targets).
    pub async fn enable(&self, names: &[&str]) -> Result<(), SystemdError> {
        self.mgr
            .enable_unit_files(names, false, true)
            .await
            .map(|_| ())
            .map_err(call("EnableUnitFiles"))
    }

    /// Disable unit files by name.
    pub async fn disable(&self, names: &[&str]) -> Result<(), SystemdError> {
        self.mgr
            .disable_unit_files(names, false)
            .await
            .map(|_| ())
            .map_err(call("DisableUnitFiles"))
    }

    /// Forget a failed state (ignores "not loaded").
    pub async fn reset_failed(&self, name: &str) {
        let _ = self.mgr.reset_failed_unit(name).await;
    }

    /// Start a unit and wait until its job is done; `Ok` only for `done`.
    pub async fn start(&self, name: &str) -> Result<(), SystemdError> {
        self.job(name, true).await
    }

    /// Stop a unit and wait until its job is done.
    pub async fn stop(&self, name: &str) -> Result<(), SystemdError> {
        self.job(name, false).await
    }

    async fn job(&self, name: &str, start: bool) -> Result<(), SystemdError> {
        // Listen before queuing the job so its JobRemoved cannot be missed.
        let mut removed = self
            .mgr
            .receive_job_removed()
            .await
            .map_err(call("JobRemoved"))?;
        let job = if start {
            self.mgr
                .start_unit(name, "replace")
                .await
                .map_err(call("StartUnit"))?
        } else {
            self.mgr
                .stop_unit(name, "replace")
                .await
                .map_err(call("StopUnit"))?
        };
        let wait = async {
            while let Some(sig) = removed.next().await {
                let Ok(args) = sig.args() else { continue };
                if args.job == job {
                    return Some(args.result);
                }
            }
            None
        };
        match tokio::time::timeout(JOB_TIMEOUT, wait).await {
            Ok(Some(result)) if result == "done" => Ok(()),
            Ok(Some(result)) => Err(SystemdError::JobFailed {
                unit: name.to_string(),
                verb: if start { "start" } else { "stop" },
                result,
            }),
            Ok(None) => Err(SystemdError::Disconnected),
            Err(_) => Err(SystemdError::JobTimeout {
                unit: name.to_string(),
                after: JOB_TIMEOUT,
            }),
        }
    }

    /// The unit's load/active/sub/file states (and main pid for services).
    pub async fn state(&self, name: &str) -> Result<UnitState, SystemdError> {
        let path = self.mgr.load_unit(name).await.map_err(call("LoadUnit"))?;
        let unit = SystemdUnitProxy::builder(&self.conn)
            .path(path.clone())
            .cache_properties(CacheProperties::No)
            .build()
            .await
            .map_err(call("Unit"))?;
        let main_pid = if name.ends_with(".service") {
            let svc = SystemdServiceProxy::builder(&self.conn)
                .path(path)
                .cache_properties(CacheProperties::No)
                .build()
                .await
                .map_err(call("Service"))?;
            svc.main_pid().await.unwrap_or(0)
        } else {
            0
        };
        Ok(UnitState {
            name: name.to_string(),
            load: unit.load_state().await.map_err(call("LoadState"))?,
            active: unit.active_state().await.map_err(call("ActiveState"))?,
            sub: unit.sub_state().await.map_err(call("SubState"))?,
            file: unit.unit_file_state().await.unwrap_or_default(),
            main_pid,
        })
    }
}
