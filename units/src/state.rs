//! Runtime states, shared by the daemon and the CLI: systemd's vocabulary
//! (load / active / sub-state / result) plus devctl's enablement.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! str_enum {
    ($(#[$doc:meta])* $ty:ident { $($(#[$vdoc:meta])* $var:ident = $s:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $ty { $($(#[$vdoc])* #[serde(rename = $s)] $var),* }

        impl $ty {
            /// Every value.
            pub const ALL: &'static [$ty] = &[$($ty::$var),*];
            /// The wire / display spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$var => $s),* }
            }
            /// Parse the wire spelling.
            pub fn parse(s: &str) -> Option<$ty> {
                $ty::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(
    /// Whether the unit's definition could be loaded.
    LoadState { Loaded = "loaded", NotFound = "not-found", Error = "error" }
);

str_enum!(
    /// Persistent enablement.
    EnableState { Enabled = "enabled", Disabled = "disabled", Static = "static" }
);

str_enum!(
    /// systemd's ActiveState.
    ActiveState {
        Inactive = "inactive",
        Activating = "activating",
        Active = "active",
        Deactivating = "deactivating",
        Failed = "failed",
    }
);

str_enum!(
    /// Finer-grained state within an `ActiveState`.
    SubState {
        Dead = "dead",
        WaitingDeps = "waiting-deps",
        Building = "building",
        Starting = "starting",
        Running = "running",
        Ready = "ready",
        NotReady = "not-ready",
        Exited = "exited",
        Backoff = "backoff",
        Stopping = "stopping",
        StopSigterm = "stop-sigterm",
        StopSigkill = "stop-sigkill",
        Failed = "failed",
    }
);

str_enum!(
    /// Why the unit last stopped or failed (systemd's `Result=`).
    UnitResult {
        Success = "success",
        ExitCode = "exit-code",
        Signal = "signal",
        CoreDump = "core-dump",
        Timeout = "timeout",
        StartLimitHit = "start-limit-hit",
        Dependency = "dependency",
        ProbeTimeout = "probe-timeout",
        Liveness = "liveness",
        ExecFailed = "exec-failed",
        PortInUse = "port-in-use",
        Unkillable = "unkillable",
        Cancelled = "cancelled",
        ProviderUnavailable = "provider-unavailable",
    }
);

impl ActiveState {
    /// `is-active` succeeds for these.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            ActiveState::Active | ActiveState::Activating | ActiveState::Deactivating
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_spellings() {
        for s in SubState::ALL {
            assert_eq!(SubState::parse(s.as_str()), Some(*s));
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(
            UnitResult::parse("start-limit-hit"),
            Some(UnitResult::StartLimitHit)
        );
    }
}
