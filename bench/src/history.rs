//! Scenario `history`: what recording runs costs. For a start-all of N
//! units (a queued and an ended record per unit, 2N records), the time the
//! callers spend in `RunStore::record` (the start path's share) and the
//! time until the writer thread has committed all of it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use devctl_supervisord::runs::{RunRetention, RunStore, new_run_id};
use devctl_units::api::runs::{RunRecord, RunTrigger};
use devctl_units::state::UnitResult;
use devctl_units::{ProjectName, UnitKind, UnitName};

use crate::stats::flag;

/// Run the scenario.
pub fn run(args: &[String]) -> Result<(), String> {
    let n = flag(args, "--n", 1000)?;
    let reps = flag(args, "--reps", 7)?.max(1);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!("history: {n} units, 2 records each, {reps} repetitions, {profile} build");
    let project = ProjectName::new("bench").map_err(|e| e.to_string())?;
    let units: Vec<UnitName> = (0..n)
        .map(|i| UnitName::new(format!("u{i}")).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let mut caller = Vec::new();
    let mut committed = Vec::new();
    for _ in 0..reps {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let store = RunStore::open(&dir.path().join("runs.db"), RunRetention::default())
            .map_err(|e| e.to_string())?;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let records: Vec<RunRecord> = units
            .iter()
            .map(|u| {
                RunRecord::queued(
                    new_run_id(),
                    project.clone(),
                    u.clone(),
                    UnitKind::Service,
                    RunTrigger::Boot,
                    now_ms,
                )
            })
            .collect();
        let start = Instant::now();
        let mut in_record = Duration::ZERO;
        for r in &records {
            let r = r.clone();
            let t = Instant::now();
            store.record(r);
            in_record += t.elapsed();
        }
        for r in &records {
            let mut done = r.clone();
            done.spawned_ms = Some(now_ms + 1);
            done.ended_ms = Some(now_ms + 2);
            done.result = Some(UnitResult::Success);
            let t = Instant::now();
            store.record(done);
            in_record += t.elapsed();
        }
        store.flush();
        committed.push(start.elapsed());
        caller.push(in_record);
        if store.dropped() > 0 {
            return Err(format!("{} records dropped", store.dropped()));
        }
    }
    caller.sort();
    committed.sort();
    let med = |v: &[Duration]| v[v.len() / 2];
    let per_call_ns = med(&caller).as_nanos() as f64 / (2 * n) as f64;
    println!(
        "  callers' time in record() for {} records: median {:.2?} (min {:.2?}, max {:.2?}), {per_call_ns:.0} ns per record",
        2 * n,
        med(&caller),
        caller[0],
        caller[caller.len() - 1]
    );
    println!(
        "  until committed by the writer:          median {:.2?} (min {:.2?}, max {:.2?})",
        med(&committed),
        committed[0],
        committed[committed.len() - 1]
    );
    Ok(())
}
