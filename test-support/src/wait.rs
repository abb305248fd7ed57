//! Waiting on a condition in async tests: poll it with a ceiling, never a
//! fixed sleep.

use std::time::{Duration, Instant};

/// Poll `cond` every 5 ms until it holds or `ceiling` passes; whether it
/// held (checked once more at the ceiling).
pub async fn until(ceiling: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + ceiling;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cond()
}
