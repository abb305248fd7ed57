//! Headless Chromium for the dashboard tests: `tests/dashboard/driver.mjs`
//! (playwright-core driving Debian's `chromium`) behind one JSON step per
//! line, so a test checks the world (processes, the CLI, the daemon's log)
//! between steps.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use devctl_tests::CEILING;
use serde_json::{Value, json};

/// Headless Chromium behind `tests/dashboard/driver.mjs`.
pub struct Browser {
    child: Child,
    stdin: ChildStdin,
    answers: mpsc::Receiver<String>,
}

fn dashboard_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboard")
}

/// Where screenshots go: `target/dashboard/` (not committed).
fn shots_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/dashboard");
    std::fs::create_dir_all(&d).unwrap();
    d
}

impl Browser {
    pub fn launch() -> Browser {
        let dir = dashboard_dir();
        assert!(
            Path::new("/usr/bin/chromium").exists(),
            "/usr/bin/chromium is missing: run .ci/setup-machine (apt-get install chromium)"
        );
        assert!(
            dir.join("node_modules/playwright-core").is_dir(),
            "{}/node_modules is missing: run .ci/setup-machine (npm ci in tests/dashboard)",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg(dir.join("driver.mjs"))
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("node is required for the dashboard tests (.ci/setup-machine): {e}")
            });
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Browser {
            child,
            stdin,
            answers,
        }
    }

    /// One step; its value, or the driver's error.
    pub fn try_step(&mut self, cmd: Value) -> Result<Value, String> {
        writeln!(self.stdin, "{cmd}").expect("write to the driver");
        let line = self
            .answers
            .recv_timeout(CEILING * 2)
            .unwrap_or_else(|e| panic!("the browser driver did not answer {cmd}: {e}"));
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["ok"] == true {
            Ok(v["value"].clone())
        } else {
            Err(v["error"].as_str().unwrap_or("").to_owned())
        }
    }

    pub fn step(&mut self, cmd: Value) -> Value {
        let c = cmd.to_string();
        self.try_step(cmd).unwrap_or_else(|e| panic!("{c}: {e}"))
    }

    pub fn goto(&mut self, url: &str) -> Value {
        self.step(json!({"cmd": "goto", "url": url}))
    }
    pub fn click(&mut self, selector: &str) {
        self.step(json!({"cmd": "click", "selector": selector}));
    }
    pub fn wait_text(&mut self, selector: &str, text: &str) -> String {
        self.step(json!({"cmd": "wait", "selector": selector, "text": text}))
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
    pub fn text(&mut self, selector: &str) -> String {
        self.step(json!({"cmd": "text", "selector": selector}))
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
    pub fn count(&mut self, selector: &str) -> u64 {
        self.step(json!({"cmd": "count", "selector": selector}))
            .as_u64()
            .unwrap()
    }
    /// The value of a script run in the page.
    pub fn eval(&mut self, js: &str) -> Value {
        self.step(json!({"cmd": "eval", "js": js}))
    }
    pub fn shot(&mut self, name: &str) {
        let path = shots_dir().join(format!("{name}.png"));
        self.step(json!({"cmd": "screenshot", "path": path}));
    }
    /// Script errors the page reported since the last call.
    pub fn page_errors(&mut self) -> Vec<String> {
        serde_json::from_value(self.step(json!({"cmd": "errors"}))).unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({"cmd": "quit"}));
        let ok = wait_until_quiet(&mut self.child);
        if !ok {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn wait_until_quiet(child: &mut Child) -> bool {
    for _ in 0..200 {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}
