//! The text of the two user units `devctl daemon install` writes —
//! `devctld.service` (Type=notify, watchdog, delegated cgroup, restart on
//! failure) and `devctld.socket` (the API socket, for socket activation) —
//! and where the user manager looks for them. Pure functions: no I/O but
//! reading the environment passed in.

use std::path::{Path, PathBuf};
use std::time::Duration;

use devctl_units::escape::{self, Context};

/// The service unit's name.
pub const SERVICE: &str = "devctld.service";
/// The socket unit's name.
pub const SOCKET: &str = "devctld.socket";
/// First line of every file we write; uninstall only removes files carrying it.
pub const MARKER: &str =
    "# Written by `devctl daemon install`; `devctl daemon uninstall` removes it.";
/// Default `WatchdogSec=`: devctld pings at half of it.
pub const DEFAULT_WATCHDOG: Duration = Duration::from_secs(30);

/// What goes into the units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSpec {
    /// Absolute path of the devctld program.
    pub devctld: PathBuf,
    /// The API socket path (`Paths::socket()`), bound by systemd.
    pub socket: PathBuf,
    /// `WatchdogSec=`; zero disables the watchdog.
    pub watchdog: Duration,
    /// Environment devctld must see to agree with the CLI on its files
    /// (`DEVCTL_HOME`, `XDG_STATE_HOME`, …).
    pub env: Vec<(String, String)>,
}

/// Environment variables carried into the service when the CLI has them,
/// so the daemon resolves the same paths as the CLI that installed it.
pub const CARRIED_ENV: &[&str] = &[
    "DEVCTL_HOME",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "DEVCTL_LOG",
];

/// The user unit directory: `$XDG_CONFIG_HOME/systemd/user`, else
/// `$HOME/.config/systemd/user`; `None` when neither is set.
pub fn user_unit_dir(get: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    let base = get("XDG_CONFIG_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| {
            get("HOME")
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".config"))
        })?;
    Some(base.join("systemd").join("user"))
}

fn path_value(p: &Path) -> String {
    escape::quote_value(&p.to_string_lossy(), Context::Plain)
}

/// `WatchdogSec=` value in whole milliseconds (systemd accepts `ms`).
fn watchdog_value(d: Duration) -> String {
    if d.is_zero() {
        "0".into()
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// The text of `devctld.service`.
pub fn service_text(spec: &UnitSpec) -> String {
    let mut s = String::new();
    s.push_str(MARKER);
    s.push_str("\n[Unit]\n");
    s.push_str("Description=devctl supervisor daemon\n");
    s.push_str("Documentation=man:devctld(8)\n");
    s.push_str(&format!("Requires={SOCKET}\nAfter={SOCKET}\n"));
    s.push_str("\n[Service]\n");
    s.push_str("Type=notify\n");
    s.push_str("NotifyAccess=main\n");
    s.push_str(&format!(
        "ExecStart={}\n",
        escape::join_command(&[spec.devctld.to_string_lossy()])
    ));
    for (k, v) in &spec.env {
        s.push_str(&format!(
            "Environment={}\n",
            escape::quote_word(&format!("{k}={v}"), Context::Plain)
        ));
    }
    s.push_str("# devctld gives each unit its own child cgroup.\n");
    s.push_str("Delegate=yes\n");
    s.push_str("# SIGTERM to devctld alone: it stops every unit in order; SIGKILL to leftovers.\n");
    s.push_str("KillMode=mixed\n");
    s.push_str("TimeoutStopSec=90s\n");
    s.push_str("Restart=on-failure\n");
    s.push_str("RestartSec=500ms\n");
    s.push_str(&format!("WatchdogSec={}\n", watchdog_value(spec.watchdog)));
    s.push_str("\n[Install]\nWantedBy=default.target\n");
    s
}

/// The text of `devctld.socket`.
pub fn socket_text(spec: &UnitSpec) -> String {
    let mut s = String::new();
    s.push_str(MARKER);
    s.push_str("\n[Unit]\n");
    s.push_str("Description=devctl supervisor API socket\n");
    s.push_str("Documentation=man:devctld(8)\n");
    s.push_str("\n[Socket]\n");
    s.push_str(&format!("ListenStream={}\n", path_value(&spec.socket)));
    s.push_str("SocketMode=0600\n");
    s.push_str("DirectoryMode=0700\n");
    s.push_str("RemoveOnStop=yes\n");
    s.push_str(&format!("Service={SERVICE}\n"));
    s.push_str("\n[Install]\nWantedBy=sockets.target\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> UnitSpec {
        UnitSpec {
            devctld: "/opt/dev ctl/devctld".into(),
            socket: "/run/user/1000/devctl/devctld.sock".into(),
            watchdog: Duration::from_secs(2),
            env: vec![("DEVCTL_HOME".into(), "/tmp/h 1".into())],
        }
    }

    #[test]
    fn service_has_the_contract_settings() {
        let t = service_text(&spec());
        assert!(t.starts_with(MARKER));
        for line in [
            "Type=notify",
            "Delegate=yes",
            "KillMode=mixed",
            "Restart=on-failure",
            "WatchdogSec=2000ms",
            "Requires=devctld.socket",
            "ExecStart=\"/opt/dev ctl/devctld\"",
            "Environment=\"DEVCTL_HOME=/tmp/h 1\"",
            "WantedBy=default.target",
        ] {
            assert!(t.lines().any(|l| l == line), "missing {line:?} in\n{t}");
        }
        let mut no_dog = spec();
        no_dog.watchdog = Duration::ZERO;
        assert!(service_text(&no_dog).contains("\nWatchdogSec=0\n"));
    }

    #[test]
    fn socket_listens_on_the_api_path() {
        let t = socket_text(&spec());
        assert!(t.contains("\nListenStream=/run/user/1000/devctl/devctld.sock\n"));
        assert!(t.contains("\nSocketMode=0600\n"));
        assert!(t.contains("\nService=devctld.service\n"));
    }

    #[test]
    fn unit_dir_prefers_xdg_config_home() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| PathBuf::from(v))
            }
        };
        assert_eq!(
            user_unit_dir(env(&[("XDG_CONFIG_HOME", "/c"), ("HOME", "/h")])),
            Some(PathBuf::from("/c/systemd/user"))
        );
        assert_eq!(
            user_unit_dir(env(&[("XDG_CONFIG_HOME", "rel"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.config/systemd/user"))
        );
        assert_eq!(user_unit_dir(env(&[])), None);
    }
}
