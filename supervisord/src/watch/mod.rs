//! File watching: per-project inotify watcher (notify + a quiet-window
//! coalescer) that turns file changes into `Changed { unit, paths }`
//! messages for the core, plus the self-retrigger guard; `git_head`
//! follows the project repository's HEAD for `on-commit` builds; `vouch`
//! tells up-to-date checks when the watch saw nothing change. The core
//! knows nothing of notify types.

pub mod error;
pub mod filter;
pub mod git_head;
pub mod guard;
pub mod inputs;
pub mod tree;
pub mod vouch;
pub mod watcher;

pub use error::WatchError;
pub use filter::{ProjectIgnore, UnitFilter};
pub use guard::{LoopGuard, RunWindow, Verdict};
pub use watcher::{Changed, ProjectWatcher, WatchConfig, WatchMsg, WatchedUnit};
