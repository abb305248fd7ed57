//! Third-party daemons as users run them, through the real binaries:
//! PostgreSQL started by `pg_ctl` as a `daemon` (pid file `postmaster.pid`,
//! stopped by `pg_ctl stop -m fast`, ready when `pg_isready` says so, run as
//! the `postgres` user through `runuser`), Redis with `--supervised systemd`
//! (sd_notify readiness, killed and restarted 200 times in a row) and nginx
//! daemonizing with a pid file. All three write their process title over
//! their environment, so the run's marker is gone from `/proc/<pid>/environ`:
//! attribution must hold by spawn records and lineage. Each scenario: up →
//! ready, kill → restart → ready, stop of a required unit stops its
//! dependent, start of the dependent brings it back, down → none of the
//! program's processes is left. The programs are installed by
//! `.ci/setup-machine`; a missing one fails the test.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use devctl_tests::{CEILING, TestEnv, devctld_bin, status, wait_until};

/// A free TCP port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `program` on PATH (or at its absolute path); fails the test when absent.
fn require(program: &str) -> PathBuf {
    let found = if program.contains('/') {
        Some(PathBuf::from(program)).filter(|p| p.exists())
    } else {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
                .map(|d| d.join(program))
                .find(|p| p.exists())
        })
    };
    found.unwrap_or_else(|| panic!("{program} is not installed: run .ci/setup-machine"))
}

/// The newest PostgreSQL server's bin directory (Debian keeps `pg_ctl`
/// off PATH, under `/usr/lib/postgresql/<major>/bin`).
fn postgres_bin() -> PathBuf {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((major, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin).expect(
        "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/pg_ctl): run .ci/setup-machine",
    )
}

/// Processes, other than daemons, whose working directory or command line
/// lies under `home`: what a unit of the test left (the programs here
/// overwrite their environment, so the harness's marker cannot find them).
fn leftovers(home: &Path) -> Vec<String> {
    let daemon = devctld_bin().canonicalize().ok();
    let home = home.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != std::process::id())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            if stat
                .rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
            {
                return None;
            }
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
            let exe_s = exe.as_ref().map(|e| e.to_string_lossy().into_owned());
            let exe_s = exe_s.unwrap_or_default();
            let exe_clean = exe_s.strip_suffix(" (deleted)").unwrap_or(&exe_s);
            if daemon.as_deref() == Some(Path::new(exe_clean)) {
                return None;
            }
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd"))
                .map(|c| c.to_string_lossy().into_owned())
                .unwrap_or_default();
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            (cwd.starts_with(&home) || cmd.contains(&home))
                .then(|| format!("{pid} ({}) in {cwd}", cmd.trim()))
        })
        .collect()
}

/// Kills, when dropped, whatever the test's units left under its home:
/// these programs overwrite the environment that `TestEnv`'s own cleanup
/// finds processes by, so a test that fails midway would leave them
/// running. Declared before the `TestEnv` so it drops after it.
struct KillLeftovers(PathBuf);

impl Drop for KillLeftovers {
    fn drop(&mut self) {
        for line in leftovers(&self.0) {
            if let Some(pid) = line.split(' ').next().and_then(|p| p.parse::<i32>().ok()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

/// The unit's main pid once it is active and ready with a pid other
/// than `not`.
fn ready_pid(env: &TestEnv, unit: &str, not: Option<u64>, ceiling: Duration) -> u64 {
    let deadline = Instant::now() + ceiling;
    loop {
        let s = status(env, unit);
        if let Some(pid) = s["main_pid"].as_u64()
            && s["active"] == "active"
            && s["ready"] == true
            && Some(pid) != not
        {
            return pid;
        }
        if Instant::now() > deadline {
            let log = env.devctl(&["logs", unit, "-n", "60"]).stdout;
            panic!(
                "timed out after {ceiling:?} waiting for {unit} to be ready again; status: {s}\nlog:\n{log}"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill9(pid: u64) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap_or_else(|e| panic!("kill -9 {pid}: {e}"));
}

/// The common second half: the dependent `app` stops with `unit`, comes
/// back (with `unit`) when started, and `down` leaves nothing behind.
fn dependents_and_down(env: &TestEnv, unit: &str) {
    env.devctl(&["stop", unit]).expect_code(0);
    let app = status(env, "app");
    assert_eq!(app["active"], "inactive", "{app}");
    env.devctl(&["start", "app"]).expect_code(0);
    ready_pid(env, unit, None, CEILING);
    assert_eq!(status(env, "app")["active"], "active");
    env.devctl(&["down"]).expect_code(0);
    wait_until("nothing of the project left", CEILING, || {
        leftovers(env.home.path()).is_empty().then_some(())
    });
    env.assert_no_orphans();
}

/// The test home is traversable by other users (the `postgres` user must
/// reach its data directory inside it).
fn open_home(env: &TestEnv) {
    for dir in [env.home.path(), &env.project_dir] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn postgres_under_pg_ctl_restarts_and_stops_cleanly() {
    let bin = postgres_bin();
    let runuser = require("runuser");
    let _left: KillLeftovers;
    let mut env = TestEnv::new();
    _left = KillLeftovers(env.home.path().to_path_buf());
    open_home(&env);
    let data = env.project_dir.join("pgdata");
    std::fs::create_dir(&data).unwrap();
    let chown = Command::new("chown")
        .args(["postgres:postgres"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(chown.success(), "chown the data directory");
    let initdb = Command::new(&runuser)
        .args(["-u", "postgres", "--"])
        .arg(bin.join("initdb"))
        .args(["-D"])
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "--no-sync"])
        .output()
        .unwrap();
    assert!(initdb.status.success(), "initdb: {initdb:?}");
    let port = free_port();
    let (pg_ctl, pg_isready) = (bin.join("pg_ctl"), bin.join("pg_isready"));
    let (data, pg_ctl, pg_isready) = (data.display(), pg_ctl.display(), pg_isready.display());
    env.write_manifest(&format!(
        r#"project "pg"
daemon "db" {{
    start "runuser" "-u" "postgres" "--" "{pg_ctl}" "start" "-w" "-D" "{data}" "-l" "{data}/server.log" "-o" "-p {port} -k {data} -c listen_addresses=127.0.0.1"
    stop "runuser" "-u" "postgres" "--" "{pg_ctl}" "stop" "-D" "{data}" "-m" "fast" timeout="30s"
    pid-file "{data}/postmaster.pid"
    ready {{
        exec "{pg_isready}" "-h" "127.0.0.1" "-p" "{port}"
        period "100ms"
    }}
    restart "always" backoff="0s"
}}
service "app" {{
    sh "exec sleep 1000"
    requires "db"
}}
"#
    ));
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    let first = ready_pid(&env, "db", None, CEILING);
    let cmd = std::fs::read_to_string(format!("/proc/{first}/cmdline")).unwrap_or_default();
    assert!(
        cmd.contains("postgres"),
        "main pid is the postmaster: {cmd}"
    );
    kill9(first);
    let second = ready_pid(&env, "db", Some(first), CEILING * 2);
    assert_ne!(first, second);
    let log = env.devctl(&["logs", "db", "-n", "200"]).stdout;
    assert!(!log.contains("did not name"), "{log}");
    dependents_and_down(&env, "db");
}

#[test]
fn redis_notify_survives_200_kill_restart_cycles() {
    require("redis-server");
    let _left: KillLeftovers;
    let mut env = TestEnv::new();
    _left = KillLeftovers(env.home.path().to_path_buf());
    let port = free_port();
    env.write_manifest(&format!(
        r#"project "rd"
service "cache" {{
    run "redis-server" "--port" "{port}" "--bind" "127.0.0.1" "--supervised" "systemd" "--save" "" "--appendonly" "no"
    ready {{ notify }}
    restart "always" backoff="0s" limit=1000 within="10m"
}}
service "app" {{
    sh "exec sleep 1000"
    requires "cache"
}}
"#
    ));
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    let mut pid = ready_pid(&env, "cache", None, CEILING);
    const CYCLES: usize = 200;
    let started = Instant::now();
    for _ in 0..CYCLES {
        kill9(pid);
        pid = ready_pid(&env, "cache", Some(pid), CEILING);
    }
    let took = started.elapsed();
    eprintln!(
        "redis: {CYCLES} kill -9 → restart → READY=1 cycles in {:.1} s ({:.0} ms each)",
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / CYCLES as f64
    );
    let log = env.devctl(&["logs", "cache", "-n", "100000"]).stdout;
    assert!(!log.contains("notify message ignored"), "{log}");
    assert!(
        status(&env, "cache")["restarts"].as_u64().unwrap_or(0) >= CYCLES as u64,
        "every kill was a restart"
    );
    dependents_and_down(&env, "cache");
}

#[test]
fn nginx_daemonizing_with_a_pid_file_restarts_and_stops_cleanly() {
    require("nginx");
    let _left: KillLeftovers;
    let mut env = TestEnv::new();
    _left = KillLeftovers(env.home.path().to_path_buf());
    let port = free_port();
    let dir = env.project_dir.join("nginx");
    std::fs::create_dir(&dir).unwrap();
    let d = dir.display();
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "daemon on;
pid {d}/nginx.pid;
error_log {d}/error.log;
worker_processes 2;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 \"ok\\n\"; }}
    }}
}}
"
        ),
    )
    .unwrap();
    env.write_manifest(&format!(
        r#"project "ng"
daemon "web" {{
    start "nginx" "-p" "{d}" "-c" "{d}/nginx.conf" "-e" "{d}/error.log"
    pid-file "{d}/nginx.pid"
    ready {{
        http "http://127.0.0.1:{port}/" status=200
        period "100ms"
    }}
    restart "always" backoff="0s"
}}
service "app" {{
    sh "exec sleep 1000"
    requires "web"
}}
"#
    ));
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    let first = ready_pid(&env, "web", None, CEILING);
    kill9(first);
    let second = ready_pid(&env, "web", Some(first), CEILING * 2);
    assert_ne!(first, second);
    dependents_and_down(&env, "web");
}

/// Copy `from` into `to` (files keep their mode: the scripts stay executable).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "data" {
            continue; // run output of a `devctl up` in the source tree
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `examples/datastores` as shipped: the cluster is created by its build,
/// PostgreSQL and Redis come up ready, the app that needs both runs, and
/// `down` leaves nothing.
#[test]
fn the_datastores_example_runs_postgres_and_redis() {
    postgres_bin();
    require("redis-server");
    require("redis-cli");
    let _left: KillLeftovers;
    let mut env = TestEnv::new();
    _left = KillLeftovers(env.home.path().to_path_buf());
    open_home(&env);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/datastores");
    copy_dir(&example, &env.project_dir);
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    for unit in ["db", "cache"] {
        ready_pid(&env, unit, None, CEILING);
    }
    assert_eq!(status(&env, "pg-init")["result"], "success");
    let app = status(&env, "app");
    assert_eq!(app["active"], "active", "{app}");
    let log = env.devctl(&["logs", "app", "-n", "50"]).stdout;
    wait_until("the app to see Redis answer", CEILING, || {
        env.devctl(&["logs", "app", "-n", "50"])
            .stdout
            .contains("PONG")
            .then_some(())
    });
    assert!(!log.contains("notify message ignored"), "{log}");
    env.devctl(&["down"]).expect_code(0);
    wait_until("nothing of the example left", CEILING, || {
        leftovers(env.home.path()).is_empty().then_some(())
    });
    env.assert_no_orphans();
}

/// Redis adopted across `devctl daemon reexec` (the new image has no spawn
/// record of it and its environment shows no marker) is still the unit's:
/// killed, it is restarted and ready again; `down` leaves nothing.
#[test]
fn redis_adopted_across_reexec_restarts_and_stops_cleanly() {
    require("redis-server");
    let _left: KillLeftovers;
    let mut env = TestEnv::new();
    _left = KillLeftovers(env.home.path().to_path_buf());
    let port = free_port();
    env.write_manifest(&format!(
        r#"project "rx"
service "cache" {{
    run "redis-server" "--port" "{port}" "--bind" "127.0.0.1" "--supervised" "systemd" "--save" "" "--appendonly" "no"
    ready {{ notify }}
    restart "always" backoff="0s"
}}
service "app" {{
    sh "exec sleep 1000"
    requires "cache"
}}
"#
    ));
    let daemon = env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    let first = ready_pid(&env, "cache", None, CEILING);
    env.devctl(&["daemon", "reexec"]).expect_code(0);
    assert!(env.daemon_exit(daemon).is_none(), "devctld exited");
    let s = wait_until("cache to be adopted", CEILING, || {
        let s = status(&env, "cache");
        (s["origin"] == "adopted").then_some(s)
    });
    assert_eq!(s["main_pid"].as_u64(), Some(first), "{s}");
    kill9(first);
    ready_pid(&env, "cache", Some(first), CEILING);
    dependents_and_down(&env, "cache");
}
