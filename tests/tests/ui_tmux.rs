//! End-to-end tests of `devctl ui` against the real daemon, driven the way
//! a person would: the UI runs in a tmux pane of 80×24, keys are typed with
//! `send-keys` and the screen is read with `capture-pane`. Effects are
//! checked outside the UI: processes in /proc, `devctl is-enabled`, the
//! terminal's modes after quitting. tmux is required (installed by
//! `.ci/setup-machine`): without it these tests fail.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use devctl_tests::{CEILING, TestEnv, alive, devctl_bin, marked_pids, wait_until};

const MANIFEST: &str = r#"project "uitest"

service "api" {
    run "sleep" "1000"
}

service "web" {
    sh "sleep 1001 & sleep 1002 & exec sleep 1003"
}

service "talker" {
    sh "echo hello-from-talker; echo needle-42; echo complaint-on-stderr >&2; exec sleep 1004"
}

service "worker" {
    run "sleep" "1005"
    enabled #false
}
"#;

/// A private tmux server (its own socket) with one session.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Start `argv` in a detached 80×24 session, in the project directory,
    /// with the test's environment.
    fn start(env: &TestEnv, argv: &[&str]) -> Tmux {
        let socket = env.home.path().join("tmux.sock");
        let mut cmd = Command::new("tmux");
        env.apply_env(&mut cmd)
            .arg("-S")
            .arg(&socket)
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "ui"])
            .args(["-x", "80", "-y", "24", "-c"])
            .arg(&env.project_dir)
            .args(argv)
            .env_remove("TMUX")
            .stdin(Stdio::null());
        let out = cmd.output().unwrap_or_else(|e| {
            panic!(
                "tmux is required for the terminal UI tests (.ci/setup-machine installs it): {e}"
            )
        });
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmux { socket }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The visible screen as text.
    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "ui"])
    }

    /// Type keys (tmux key names: `Enter`, `Space`, `Escape`, or letters).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "ui"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Type text literally.
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "ui", "-l", text]);
    }

    /// A tmux format of the pane (`#{alternate_on}` …).
    fn pane(&self, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", "ui", format])
            .trim()
            .to_string()
    }

    /// Wait until the screen satisfies `pred`; the last screen on timeout.
    fn wait_screen(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_until(what, CEILING, || {
                last = self.screen();
                pred(&last).then(|| last.clone())
            })
        }));
        match found {
            Ok(s) => s,
            Err(_) => panic!("timed out waiting for {what}; the screen was:\n{last}"),
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn env_up() -> TestEnv {
    let mut env = TestEnv::new();
    env.write_manifest(MANIFEST);
    env.start_daemon();
    env.devctl(&["up"]).expect_code(0);
    env
}

fn devctl_ui(env: &TestEnv) -> Tmux {
    let bin = devctl_bin();
    Tmux::start(env, &[bin.to_str().unwrap(), "ui"])
}

/// The table row of `unit` on the screen (after the cursor and
/// selection marks, if any).
fn row<'a>(screen: &'a str, unit: &str) -> &'a str {
    screen
        .lines()
        .find(|l| {
            let mut words = l.split_whitespace();
            match words.next() {
                Some(">" | "●" | ">●") => words.next() == Some(unit),
                first => first == Some(unit),
            }
        })
        .unwrap_or("")
}

/// Processes of this test whose command line contains `needle`.
fn pids_running(env: &TestEnv, needle: &str) -> Vec<u32> {
    marked_pids(&env.marker)
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(needle)
                })
                .unwrap_or(false)
        })
        .filter(|pid| alive(*pid))
        .collect()
}

#[test]
fn the_table_shows_the_units_and_follows_the_daemon_live() {
    let env = env_up();
    let ui = devctl_ui(&env);
    let s = ui.wait_screen("the unit table", |s| {
        ["api", "talker", "web", "worker"]
            .iter()
            .all(|u| row(s, u).contains(u))
            && row(s, "api").contains("active running")
    });
    assert!(s.contains("uitest"), "{s}");
    assert!(
        s.contains("UNIT") && s.contains("STATE") && s.contains("PID"),
        "{s}"
    );
    assert!(row(&s, "worker").contains("inactive"), "{s}");
    assert!(s.contains("4/5 active"), "the progress line: {s}");
    assert!(
        row(&s, "uitest").contains("project"),
        "the project target: {s}"
    );
    assert!(s.contains("q quit"), "the footer: {s}");
    // A resize redraws for the new size: wider shows more columns.
    ui.tmux(&["resize-window", "-t", "ui", "-x", "160", "-y", "48"]);
    let wide = ui.wait_screen("the wide layout", |s| {
        s.lines().count() >= 48 && row(s, "api").contains("active running")
    });
    assert!(
        wide.lines().nth(1).unwrap_or("").contains("PORTS"),
        "{wide}"
    );
    ui.tmux(&["resize-window", "-t", "ui", "-x", "80", "-y", "24"]);
    ui.wait_screen("the narrow layout again", |s| {
        s.lines().count() == 24 && s.contains("q quit") && row(s, "api").contains("active")
    });
    // A change made elsewhere shows up without a key press.
    env.devctl(&["start", "worker"]).expect_code(0);
    let s = ui.wait_screen("worker active", |s| {
        row(s, "worker").contains("active running") && s.contains("5/5 active")
    });
    let pid = devctl_tests::status(&env, "worker")["main_pid"]
        .as_u64()
        .unwrap();
    assert!(row(&s, "worker").contains(&pid.to_string()), "{s}");
}

#[test]
fn x_stops_the_units_process_tree() {
    let env = env_up();
    let tree = wait_until("web's three sleeps", CEILING, || {
        let p: Vec<u32> = ["sleep 1001", "sleep 1002", "sleep 1003"]
            .iter()
            .flat_map(|n| pids_running(&env, n))
            .collect();
        (p.len() == 3).then_some(p)
    });
    let api = pids_running(&env, "sleep 1000");
    assert_eq!(api.len(), 1);
    let ui = devctl_ui(&env);
    ui.wait_screen("web active", |s| row(s, "web").contains("active running"));
    // Units are sorted: api, talker, uitest (the project target), web, worker.
    ui.keys(&["j", "j", "j"]);
    ui.wait_screen("the log pane on web", |s| s.contains(" logs  web "));
    ui.keys(&["x"]);
    ui.wait_screen("the stop's result", |s| s.contains("stopped: uitest/web"));
    wait_until("web's tree gone from /proc", CEILING, || {
        tree.iter().all(|p| !alive(*p)).then_some(())
    });
    assert!(alive(api[0]), "api keeps running");
    let s = ui.wait_screen("web inactive", |s| row(s, "web").contains("inactive"));
    assert!(row(&s, "api").contains("active"), "{s}");
    assert_eq!(
        env.devctl(&["is-active", "web"]).expect_code(3).stdout,
        "inactive\n"
    );
}

#[test]
fn e_toggles_enablement() {
    let env = env_up();
    env.devctl(&["is-enabled", "worker"]).expect_code(3);
    let ui = devctl_ui(&env);
    ui.wait_screen("the table", |s| row(s, "worker").contains("worker"));
    ui.keys(&["G"]);
    ui.wait_screen("the log pane on worker", |s| s.contains(" logs  worker "));
    ui.keys(&["e"]);
    ui.wait_screen("enabled", |s| s.contains("uitest/worker: enabled"));
    env.devctl(&["is-enabled", "worker"]).expect_code(0);
    assert_eq!(
        env.devctl(&["is-active", "worker"]).expect_code(3).stdout,
        "inactive\n",
        "enabling does not start"
    );
    ui.keys(&["e"]);
    ui.wait_screen("disabled", |s| s.contains("uitest/worker: disabled"));
    env.devctl(&["is-enabled", "worker"]).expect_code(3);
}

#[test]
fn a_services_output_appears_in_the_log_pane_and_search_finds_a_line() {
    let env = env_up();
    let ui = devctl_ui(&env);
    ui.wait_screen("the table", |s| row(s, "talker").contains("talker"));
    ui.keys(&["j"]);
    let s = ui.wait_screen("talker's output", |s| {
        s.contains("talker │ hello-from-talker") && s.contains("complaint-on-stderr")
    });
    assert!(s.contains("-- spawned pid"), "lifecycle markers: {s}");
    ui.keys(&["/"]);
    ui.type_text("needle-\\d+");
    ui.keys(&["Enter"]);
    let s = ui.wait_screen("the search result", |s| s.contains("1 matching line"));
    assert!(s.contains("/needle-\\d+/ 1"), "{s}");
    assert!(s.contains("paused"), "a match stops following: {s}");
    ui.keys(&["/"]);
    ui.type_text("no-such-line");
    ui.keys(&["Enter"]);
    ui.wait_screen("not found", |s| {
        s.contains("pattern not found: no-such-line")
    });
    ui.keys(&["/"]);
    ui.type_text("(");
    ui.keys(&["Enter"]);
    ui.wait_screen("a bad pattern", |s| {
        s.contains("error: invalid search pattern")
    });
}

/// How the UI is left.
enum Leave {
    Quit,
    Terminate,
}

/// Run `devctl ui` from a shell in the pane, leave it, and check that the
/// screen, the terminal modes (`stty -g`), the cursor and the mouse are as
/// they were.
fn leaves_the_terminal_as_it_was(how: Leave) {
    let env = env_up();
    let ui = Tmux::start(&env, &["sh"]);
    ui.wait_screen("a shell prompt", |s| !s.trim().is_empty());
    ui.type_text("PS1='ui> '; clear; stty -g > before.txt; echo first-screen");
    ui.keys(&["Enter"]);
    ui.wait_screen("the echo", |s| s.contains("first-screen\nui>"));
    let before = ui.screen();
    ui.type_text(&format!("{} ui", devctl_bin().display()));
    ui.keys(&["Enter"]);
    ui.wait_screen("the UI", |s| {
        s.contains("q quit") && row(s, "api").contains("active")
    });
    assert_eq!(ui.pane("#{alternate_on}"), "1");
    match how {
        Leave::Quit => ui.keys(&["q"]),
        Leave::Terminate => {
            let pid = wait_until("the devctl ui process", CEILING, || {
                pids_running(&env, " ui").into_iter().find(|p| {
                    std::fs::read_link(format!("/proc/{p}/exe"))
                        .is_ok_and(|e| e.ends_with("devctl"))
                })
            });
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            )
            .expect("SIGTERM devctl ui");
        }
    }
    let after = ui.wait_screen("the prompt again", |s| {
        s.contains(" ui\nui>") && s.trim_end().ends_with("ui>")
    });
    assert_eq!(ui.pane("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(ui.pane("#{cursor_flag}"), "1", "cursor shown");
    assert_eq!(ui.pane("#{mouse_any_flag}"), "0", "mouse not captured");
    assert!(
        after.starts_with(before.trim_end()),
        "the screen before the UI is intact:\nbefore:\n{before}\nafter:\n{after}"
    );
    assert!(!after.contains("UNIT"), "no UI left behind:\n{after}");
    ui.type_text("stty -g > after.txt; echo checked");
    ui.keys(&["Enter"]);
    ui.wait_screen("the second echo", |s| s.contains("\nchecked"));
    let read = |f: &str| std::fs::read_to_string(env.project_dir.join(f)).unwrap();
    assert_eq!(
        read("before.txt"),
        read("after.txt"),
        "terminal modes restored"
    );
}

#[test]
fn q_leaves_the_terminal_as_it_was() {
    leaves_the_terminal_as_it_was(Leave::Quit);
}

#[test]
fn sigterm_leaves_the_terminal_as_it_was() {
    leaves_the_terminal_as_it_was(Leave::Terminate);
}

#[test]
fn a_stopped_daemon_is_shown_and_actions_fail_as_the_cli_says() {
    let env = env_up();
    let ui = devctl_ui(&env);
    ui.wait_screen("the table", |s| row(s, "api").contains("active running"));
    env.devctl(&["daemon", "stop"]).expect_code(0);
    ui.wait_screen("the daemon gone", |s| s.contains("devctld unreachable"));
    ui.keys(&["s"]);
    let s = ui.wait_screen("the start's error", |s| {
        s.contains("error: cannot reach devctld")
    });
    assert!(s.contains("help: start it with"), "the CLI's help too: {s}");
}

#[test]
fn ui_without_a_terminal_is_a_usage_error() {
    let env = env_up();
    let r = env.devctl(&["ui"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("devctl ui needs a terminal"),
        "{}",
        r.stderr
    );
    let r = env.devctl(&["ui", "--all", "-p", "uitest"]);
    r.expect_code(2);
    assert!(r.stderr.contains("not both"), "{}", r.stderr);
}
