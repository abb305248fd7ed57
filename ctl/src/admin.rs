//! Verbs about the daemon and projects as a whole: `daemon run|stop|status|reexec`
//! and `forget PROJECT`.

use std::time::{Duration, Instant};

use devctl_units::ProjectName;
use devctl_units::api::{DaemonInfo, Hosting, JobResponse};
use devctl_units::paths::Paths;

use crate::daemon;
use crate::error::CtlError;
use crate::exit::Exit;
use crate::opts::Context;
use crate::output::Out;
use crate::systemd::install;

/// How long `daemon stop` waits for the socket to go away by default.
pub const STOP_WAIT: Duration = Duration::from_secs(60);

fn hosting(h: Hosting) -> &'static str {
    match h {
        Hosting::Standalone => "standalone",
        Hosting::Systemd => "systemd",
        Hosting::SocketActivated => "systemd (socket-activated)",
    }
}

/// Human lines of `daemon status`.
pub fn info_lines(info: &DaemonInfo) -> Vec<String> {
    vec![
        format!("devctld {} (API v{})", info.version, info.api),
        format!("     pid: {}", info.pid),
        format!(" hosting: {}", hosting(info.hosting)),
        format!(
            " session: {}{}",
            info.session_id,
            if info.recovered {
                " (recovered after a crash)"
            } else {
                ""
            }
        ),
        format!(
            " started: {}",
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + Duration::from_millis(info.started_at_ms)
            )
        ),
    ]
}

/// `daemon status`: exit 3 when no daemon runs.
pub async fn status(ctx: &Context, out: &mut Out) -> Result<Exit, CtlError> {
    let paths = Paths::from_env()?;
    match daemon::existing(&paths).await {
        Ok((_, info)) => {
            let units = install::unit_states().await;
            if ctx.json {
                let mut v = serde_json::to_value(&info).map_err(|e| CtlError::Protocol {
                    message: e.to_string(),
                })?;
                v["systemd"] = serde_json::json!(units);
                out.json(&v)?;
            } else {
                for l in info_lines(&info) {
                    out.line(&l)?;
                }
                for s in units.iter().flatten() {
                    out.line(&install::state_line(s))?;
                }
            }
            Ok(Exit::Ok)
        }
        Err(CtlError::Unreachable { source, .. }) if daemon::is_absent(&source) => {
            let units = install::unit_states().await;
            if ctx.json {
                out.json(&serde_json::json!({"running": false, "systemd": units}))?;
            } else if !ctx.quiet {
                out.line("devctld is not running")?;
                for s in units.iter().flatten() {
                    out.line(&install::state_line(s))?;
                }
            }
            Ok(Exit::NotActive)
        }
        Err(e) => Err(e),
    }
}

/// `daemon stop`: clean stop, waits until the daemon is gone; idempotent.
pub async fn stop(ctx: &Context, out: &mut Out) -> Result<Exit, CtlError> {
    let paths = Paths::from_env()?;
    let (client, info) = match daemon::existing(&paths).await {
        Ok(c) => c,
        Err(CtlError::Unreachable { source, .. }) if daemon::is_absent(&source) => {
            if !ctx.quiet && !ctx.json {
                out.line("devctld is not running")?;
            }
            return Ok(Exit::Ok);
        }
        Err(e) => return Err(e),
    };
    let _: serde_json::Value = client
        .post("/v1/daemon/stop", &serde_json::json!({}))
        .await?;
    if ctx.block {
        let limit = ctx.timeout.unwrap_or(STOP_WAIT);
        let begun = Instant::now();
        loop {
            match daemon::existing(&paths).await {
                Err(CtlError::Unreachable { source, .. }) if daemon::is_absent(&source) => break,
                _ if begun.elapsed() > limit => {
                    return Err(CtlError::TimedOut {
                        what: format!("devctld (pid {}) to stop", info.pid),
                    });
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
    if ctx.json {
        out.json(&serde_json::json!({"stopped": info.pid}))?;
    } else if !ctx.quiet {
        out.line(&format!("stopped devctld (pid {})", info.pid))?;
    }
    Ok(Exit::Ok)
}

/// How long `daemon reexec` waits for the new image to answer by default.
pub const REEXEC_WAIT: Duration = Duration::from_secs(30);

/// `daemon reexec`: the daemon re-executes its binary in place; waits
/// until the same pid answers with a new start time.
pub async fn reexec(ctx: &Context, out: &mut Out) -> Result<Exit, CtlError> {
    let paths = Paths::from_env()?;
    let (client, before) = daemon::existing(&paths).await?;
    let _: serde_json::Value = client
        .post("/v1/daemon/reexec", &serde_json::json!({}))
        .await?;
    let limit = ctx.timeout.unwrap_or(REEXEC_WAIT);
    let begun = Instant::now();
    let after = loop {
        match daemon::existing(&paths).await {
            Ok((_, info)) if info.started_at_ms != before.started_at_ms => break info,
            _ if begun.elapsed() > limit => {
                return Err(CtlError::TimedOut {
                    what: format!("devctld (pid {}) to re-execute", before.pid),
                });
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    if after.pid != before.pid {
        return Err(CtlError::Failed {
            message: format!(
                "devctld came back with pid {} instead of {}: it was restarted, not re-executed",
                after.pid, before.pid
            ),
        });
    }
    if ctx.json {
        out.json(&after)?;
    } else if !ctx.quiet {
        out.line(&format!(
            "re-executed devctld {} (pid {})",
            after.version, after.pid
        ))?;
    }
    Ok(Exit::Ok)
}

/// `forget PROJECT`.
pub async fn forget(ctx: &Context, project: &str, out: &mut Out) -> Result<Exit, CtlError> {
    let project = ProjectName::new(project).map_err(|reason| CtlError::BadName {
        name: project.to_string(),
        what: "project",
        reason,
    })?;
    let paths = Paths::from_env()?;
    let client = daemon::connect(&paths, ctx.quiet).await?;
    let r: JobResponse = client.delete(&format!("/v1/projects/{project}")).await?;
    if ctx.json {
        out.json(&r)?;
    } else if !ctx.quiet {
        out.line(&format!("forgot {project}"))?;
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_rendering() {
        let info = DaemonInfo {
            version: "0.1.0".into(),
            api: 1,
            pid: 42,
            started_at_ms: 0,
            hosting: Hosting::Standalone,
            session_id: "s1".into(),
            recovered: true,
        };
        let l = info_lines(&info);
        assert_eq!(l[1], "     pid: 42");
        assert!(l[3].contains("recovered"));
        assert_eq!(
            hosting(Hosting::SocketActivated),
            "systemd (socket-activated)"
        );
    }
}
