//! In-process re-exec of the core: freeze a running core, boot a new one
//! on the carry (as the re-executed image does) and check that every run
//! is adopted; a carry naming another session falls back to crash
//! recovery (leftovers stopped, units restarted once).

use std::os::fd::IntoRawFd;

use devctl_units::UnitKind;
use devctl_units::api::{JobVerb, Origin};
use devctl_units::state::{ActiveState, SubState};

use crate::core::handle::{CoreApi, CoreOptions, Supervisor};
use crate::core::reexec::CoreCarry;
use crate::core::tests::kit::{Kit, MARK_VAR, sh, until};

async fn boot_with(kit: &mut Kit, carry: CoreCarry) {
    let mut opts = CoreOptions::new(kit.paths.clone(), devctl_units::api::Hosting::Standalone);
    opts.extra_env.push((MARK_VAR.into(), kit.mark.clone()));
    opts.reexec = Some(carry);
    kit.sup = Supervisor::start(opts).await.unwrap();
}

/// Up two services (one printing), freeze the core; the carried fds are
/// released to the next core like an exec would.
async fn frozen_kit() -> (Kit, CoreCarry, Vec<Option<u32>>) {
    let kit = Kit::new().await;
    kit.load(&[
        sh(
            "talker",
            UnitKind::Service,
            "while true; do echo tick; sleep 0.05; done",
        ),
        sh("quiet", UnitKind::Service, "exec sleep 300"),
    ])
    .await;
    kit.job(JobVerb::Up, &[]).await;
    let mut pids = Vec::new();
    for u in ["talker", "quiet"] {
        pids.push(
            kit.wait_state(u, ActiveState::Active, SubState::Running)
                .await
                .main_pid,
        );
    }
    let frozen = kit.sup.freeze().await.expect("a running core freezes");
    assert!(
        kit.sup.units(None).await.is_err(),
        "a frozen core answers nothing"
    );
    assert_eq!(frozen.carry.units.len(), 2);
    assert_eq!(frozen.carry.fds().len(), 4, "stdout and stderr of each run");
    let carry = frozen.carry.clone();
    for fd in frozen.fds {
        let _ = fd.into_raw_fd();
    }
    (kit, carry, pids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_carry_is_resumed_with_every_run_adopted() {
    let (mut kit, carry, pids) = frozen_kit().await;
    let session = carry.session_id.clone();
    boot_with(&mut kit, carry).await;
    let info = kit.sup.info();
    assert!(info.reexecuted && !info.recovered);
    assert_eq!(info.session_id, session);
    for (u, pid) in ["talker", "quiet"].into_iter().zip(&pids) {
        let s = kit.status(u).await;
        assert_eq!(s.main_pid, *pid, "{u} keeps its pid");
        assert_eq!(s.origin, Some(Origin::Adopted));
        assert_eq!(s.active, ActiveState::Active);
    }
    let resumed_us = crate::core::actor::now_ms() * 1000;
    until(10, "talker's output after the resume", async || {
        let tail = kit.status("talker").await.log_tail;
        tail.iter()
            .any(|l| l.text.as_str() == "tick" && l.time_us > resumed_us)
    })
    .await;
    kit.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_carry_of_another_session_is_recovered_like_a_crash() {
    let (mut kit, mut carry, pids) = frozen_kit().await;
    carry.session_id = "another-session".into();
    boot_with(&mut kit, carry).await;
    let info = kit.sup.info();
    assert!(info.recovered && !info.reexecuted);
    for (u, pid) in ["talker", "quiet"].into_iter().zip(&pids) {
        let s = kit
            .wait_state(u, ActiveState::Active, SubState::Running)
            .await;
        assert_ne!(s.main_pid, *pid, "{u} was restarted");
        assert_eq!(s.origin, Some(Origin::Restarted));
    }
    for pid in pids.into_iter().flatten() {
        until(10, "the old tree to be stopped", async || {
            crate::process::stat(pid as i32).is_none_or(|s| s.is_zombie())
        })
        .await;
    }
    kit.finish().await;
}
