//! The orphan oracle's eyes: find processes by an environment marker in
//! `/proc/*/environ`, and describe them for failure messages.

/// Every live process but this one (of any parent) whose environment has
/// `key=value`. Zombies are not counted: they have no environment.
pub fn marked_pids(key: &str, value: &str) -> Vec<u32> {
    let me = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me && process_env_has(pid, key, value))
        .collect()
}

/// Whether process `pid` has `key=value` in its initial environment.
/// Zombies and vanished processes have none.
pub fn process_env_has(pid: u32, key: &str, value: &str) -> bool {
    let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let want = format!("{key}={value}");
    env.split(|b| *b == 0).any(|kv| kv == want.as_bytes())
}

/// Whether `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|s| s != "Z"),
        Err(_) => false,
    }
}

/// `pid (cmdline)` for each pid.
pub fn describe(pids: &[u32]) -> String {
    pids.iter()
        .map(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd: Vec<String> = cmd
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            format!("{pid} ({})", cmd.join(" ").trim())
        })
        .collect::<Vec<_>>()
        .join(", ")
}
