//! Watchers of one running container, each a task reporting to the unit
//! actor: the log stream (stdout/stderr frames split into capped lines
//! through `logs::pump`, written to the unit's log with devctl's
//! timestamps; the actor follows the log for log readiness), the exit watcher
//! ([`Fact::Exited`]) and the HEALTHCHECK poller ([`Fact::Ready`] once the
//! engine reports `healthy`).

use std::time::Duration;

use bollard::container::LogOutput;
use bollard::models::HealthStatusEnum;
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::task::JoinHandle;

use crate::core::notes::NoteTx;
use crate::core::provider::Fact;
use crate::logs::{Stream, UnitLog, pump};
use crate::process::ExitStatus;
use crate::providers::docker::engine::Engine;

/// Buffer between the engine stream and the line splitter.
const PIPE_BYTES: usize = 64 * 1024;
/// How often the health status is read while waiting for `healthy`.
pub const HEALTH_POLL: Duration = Duration::from_millis(250);

/// Docker reports a container killed by signal N as exit code 128+N.
pub fn exit_status(code: i64) -> ExitStatus {
    match code {
        129..=192 => ExitStatus::Signaled {
            signal: (code - 128) as i32,
            core_dumped: false,
        },
        c => ExitStatus::Exited(c.clamp(i32::MIN as i64, i32::MAX as i64) as i32),
    }
}

/// Stream the container's output into `log` until it ends. `since` (Unix
/// seconds) skips older output, for adopted containers.
pub fn stream_logs(engine: Engine, id: String, since: Option<i32>, log: UnitLog) -> JoinHandle<()> {
    tokio::spawn(async move {
        let (mut out_w, out_r) = tokio::io::duplex(PIPE_BYTES);
        let (mut err_w, err_r) = tokio::io::duplex(PIPE_BYTES);
        let pumps = [
            tokio::spawn(pump(out_r, Stream::Stdout, log.clone())),
            tokio::spawn(pump(err_r, Stream::Stderr, log.clone())),
        ];
        let mut opts = LogsOptionsBuilder::default()
            .follow(true)
            .stdout(true)
            .stderr(true);
        if let Some(s) = since {
            opts = opts.since(s);
        }
        let mut stream = engine.docker().logs(&id, Some(opts.build()));
        while let Some(item) = stream.next().await {
            let written = match item {
                Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                    out_w.write_all(&message).await
                }
                Ok(LogOutput::StdErr { message }) => err_w.write_all(&message).await,
                Ok(LogOutput::StdIn { .. }) => Ok(()),
                Err(e) => {
                    tracing::warn!(container = %id, "log stream from the engine ended: {e}");
                    break;
                }
            };
            if written.is_err() {
                break;
            }
        }
        drop((out_w, err_w));
        for p in pumps {
            let _ = p.await;
        }
    })
}

/// Report the container's exit to the actor.
pub fn watch_exit(engine: Engine, id: String, facts: NoteTx<Fact>, run: u64) -> JoinHandle<()> {
    tokio::spawn(async move {
        let status = match engine.wait(&id).await {
            Ok(code) => Some(exit_status(code)),
            Err(e) => {
                tracing::warn!(container = %id, "lost track of the container: {e}");
                None
            }
        };
        let _ = facts.send((run, Fact::Exited(status)));
    })
}

/// Poll the engine's health status; report ready once it is `healthy`.
pub fn watch_health(
    engine: Engine,
    id: String,
    log: UnitLog,
    facts: NoteTx<Fact>,
    run: u64,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = None;
        loop {
            let status = match engine.inspect(&id).await {
                Ok(Some(c)) => c.state.and_then(|s| s.health).and_then(|h| h.status),
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(container = %id, "cannot read the health status: {e}");
                    None
                }
            };
            if status != last {
                if let Some(s) = status {
                    log.marker(format!("health: {s}"));
                }
                last = status;
            }
            if status == Some(HealthStatusEnum::HEALTHY) {
                let _ = facts.send((run, Fact::Ready));
                return;
            }
            tokio::time::sleep(HEALTH_POLL).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_map_to_statuses() {
        assert_eq!(exit_status(0), ExitStatus::Exited(0));
        assert_eq!(exit_status(3), ExitStatus::Exited(3));
        assert_eq!(exit_status(128), ExitStatus::Exited(128));
        assert_eq!(
            exit_status(137),
            ExitStatus::Signaled {
                signal: 9,
                core_dumped: false
            }
        );
        assert_eq!(
            exit_status(143),
            ExitStatus::Signaled {
                signal: 15,
                core_dumped: false
            }
        );
        assert_eq!(exit_status(255), ExitStatus::Exited(255));
    }
}
