//! The scripting example (`examples/Makefile`) runs against the real
//! binaries: `devctl start db && make migrate`, `devctl wait api --for ready
//! --timeout 30s || exit 1`, `devctl is-active api`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use devctl_tests::{TestEnv, devctl_bin, run_with_ceiling};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        // run output of a previous `devctl up` in the source tree
        if name == "data" || name == "public" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn makefile_scripts_start_wait_and_is_active() {
    let env = TestEnv::new();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let work = env.home.path().join("examples");
    copy_dir(&examples.join("webapp"), &work.join("webapp"));
    std::fs::copy(examples.join("Makefile"), work.join("Makefile")).unwrap();

    let make = |target: &str| {
        let mut cmd = Command::new("make");
        cmd.arg("-C")
            .arg(&work)
            .arg(target)
            .arg(format!("DEVCTL={}", devctl_bin().display()));
        env.apply_env(&mut cmd);
        run_with_ceiling(cmd, Duration::from_secs(120))
    };

    let smoke = make("smoke");
    smoke.expect_code(0);
    assert!(
        smoke.stdout.contains("smoke: db migrated, api ready"),
        "{}",
        smoke.stdout
    );
    assert!(
        work.join("webapp/data/migrated").exists(),
        "migration marker missing"
    );
    // is-active printed the state of both units
    let active_lines = smoke.stdout.lines().filter(|l| *l == "active").count();
    assert_eq!(active_lines, 2, "is-active api and db: {}", smoke.stdout);

    // A failing check fails the recipe with is-active's exit code.
    let stop = env.devctl_in(&work.join("webapp"), &["stop", "api"]);
    stop.expect_code(0);
    let check = make("check");
    assert_ne!(
        check.code,
        Some(0),
        "check must fail once api is stopped: {}",
        check.stdout
    );
    assert!(check.stdout.contains("inactive"), "{}", check.stdout);

    make("down").expect_code(0);
    let stopped = env.devctl_in(&work.join("webapp"), &["daemon", "stop"]);
    stopped.expect_code(0);
    env.assert_no_orphans();
}
