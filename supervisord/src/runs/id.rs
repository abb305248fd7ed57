//! Fresh run ids, derived from a process-unique invocation id.

use devctl_units::api::runs::RunId;

use crate::process::invocation_id;

/// A new run id: the FNV-1a hash of a fresh invocation id (clock, pid,
/// counter and kernel randomness), cut to [`RunId::LEN`] characters.
pub fn new_run_id() -> RunId {
    RunId::from_bits(fnv1a(invocation_id().as_bytes()))
}

/// The id of the run whose process tree carries `invocation`: the same
/// invocation always names the same run.
pub fn run_id_of_invocation(invocation: &str) -> RunId {
    RunId::from_bits(fnv1a(invocation.as_bytes()))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn fresh_run_ids_do_not_repeat() {
        let ids: HashSet<RunId> = (0..10_000).map(|_| new_run_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| RunId::parse(id.as_str()).is_ok()));
    }

    #[test]
    fn an_invocation_always_names_the_same_run() {
        let inv = invocation_id();
        assert_eq!(run_id_of_invocation(&inv), run_id_of_invocation(&inv));
        assert_ne!(run_id_of_invocation(&inv), run_id_of_invocation("other"));
    }
}
