//! The process layer (Linux): reaping, spawning, identity, whole-tree stop,
//! optional cgroup containment, port lookups and a process tree's
//! resource use.

mod cgroup;
mod pidfd;
mod ports;
mod procfs;
mod reaper;
mod resources;
mod sockdiag;
mod spawn;
mod stop;

pub use cgroup::{CgroupParent, InvocationCgroup};
pub use pidfd::PidFd;
pub use ports::{
    ListenScanner, PortHolder, Sighting, is_listening, port_held_by, port_holder, port_in_use,
};
pub use procfs::{
    Lineage, MARKER_VAR, ProcInfo, ProcStat, Table, find_marked, forked_for, invocation_id,
    lineage, remember_marker, start_time, stat, table_after,
};
pub use reaper::{ExitCell, ExitStatus, ReapedUsage, Reaper, Registration};
pub use resources::{TreeSample, TreeSampler};
pub use spawn::{Child, SpawnError, SpawnSpec, StdinMode, resolve_program, spawn, spawn_with};
pub use stop::{StopOutcome, TreeRef, kill_marked, stop_tree};
