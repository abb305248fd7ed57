//! The local provider's part of a daemon start: process trees a previous
//! daemon started under invocations nobody continues (a crashed session's
//! runs, runs a re-exec did not carry over) are found by the invocation
//! marker they inherited, wherever they were re-parented, and stopped.
//! They are not adopted: their stdout/stderr pipes died with the old
//! daemon.

use std::time::Duration;

use crate::process::{self, TreeRef};

/// Grace given to a previous daemon's leftovers before SIGKILL.
pub const LEFTOVER_GRACE: Duration = Duration::from_secs(5);
/// Bounded wait after the leftovers' final SIGKILL.
const LEFTOVER_KILL_WAIT: Duration = Duration::from_secs(5);

/// Stop every process tree carrying one of these invocation markers, all
/// at once; how many markers still named a live process.
pub async fn stop_leftovers(invocations: &[String]) -> usize {
    let mut tasks = Vec::new();
    for inv in invocations {
        if process::find_marked(inv).is_empty() {
            continue;
        }
        let tree = TreeRef::marker_only(inv);
        tasks.push(tokio::spawn(async move {
            process::stop_tree(
                &tree,
                devctl_units::Signal::SIGTERM,
                LEFTOVER_GRACE,
                LEFTOVER_KILL_WAIT,
            )
            .await
        }));
    }
    let found = tasks.len();
    for t in tasks {
        let _ = t.await;
    }
    found
}
