//! Procfiles (foreman, honcho, overmind): each `name: command` line is a
//! service run with `sh -c`, as those tools do. Like them, every process
//! type gets `PORT` = base + 100 × its position in the file (base 5000
//! unless `--base-port` says otherwise), and `.env` beside the Procfile is
//! loaded when it exists. The `web` process type, the one Heroku routes
//! traffic to, also gets the port check and a TCP readiness probe on its
//! port when its command uses `$PORT`, so `devctl start web` waits until
//! it listens; other types may mention `$PORT` without listening on it.

use super::model::{Check, Cmd, Draft, Kind, ProbeDraft, UnitDraft, unit_name};
use super::paths::Rebase;

/// foreman's and honcho's default base port.
pub const DEFAULT_BASE_PORT: u16 = 5000;
/// Port step between process types (foreman, honcho, overmind).
const STEP: u32 = 100;

fn uses_port(cmd: &str) -> bool {
    cmd.contains("$PORT") || cmd.contains("${PORT}") || cmd.contains("${PORT:")
}

/// Translate a Procfile's text.
pub fn import(text: &str, source: &str, base_port: u16, rebase: &Rebase) -> Draft {
    let mut d = Draft::new("Procfile");
    let mut index: u32 = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((name, command)) = trimmed.split_once(':') else {
            d.warn(
                line,
                None,
                format!("{trimmed:?} is not a `name: command` line; skipped"),
            );
            continue;
        };
        let (name, command) = (name.trim(), command.trim());
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid || command.is_empty() {
            d.warn(
                line,
                None,
                format!("{trimmed:?} is not a `name: command` line (names are letters, digits, _ and -); skipped"),
            );
            continue;
        }
        let Some(unit) = unit_name(name) else {
            d.warn(
                line,
                None,
                format!("{name:?} cannot be a unit name; skipped"),
            );
            continue;
        };
        if d.units.iter().any(|u| u.name == unit) {
            d.warn(
                line,
                Some(&unit),
                format!("process type {name:?} appears again; this later line is skipped"),
            );
            continue;
        }
        let port = u32::from(base_port) + STEP * index;
        index += 1;
        let mut u = UnitDraft::new(Kind::Service, &unit, format!("{source} line {line}"));
        u.command = Some(Cmd::Shell(command.to_owned()));
        u.dir = rebase.source_dir();
        u.env_files.push((rebase.path(".env"), true));
        match u16::try_from(port) {
            Ok(port) => {
                u.env.push(("PORT".into(), port.to_string()));
                if unit == "web" && uses_port(command) {
                    u.ports.push(port);
                    let mut ready = ProbeDraft::new(Check::Tcp { port, host: None });
                    ready.period = Some("200ms".into());
                    u.ready = Some(ready);
                }
            }
            Err(_) => {
                let msg = format!("PORT would be {port}, past 65535: not set (lower --base-port)");
                d.warn(line, Some(&unit), msg);
            }
        }
        d.units.push(u);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn import(text: &str, source: &str, base_port: u16) -> Draft {
        super::import(
            text,
            source,
            base_port,
            &Rebase::new(Path::new("/p"), Path::new("/p")),
        )
    }

    #[test]
    fn ports_follow_foreman() {
        let d = import(
            "web: bundle exec puma -p ${PORT}\n# comment\n\nworker: rake jobs:work $PORT\napi: ./api\n",
            "Procfile",
            5000,
        );
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        let ports: Vec<_> = d.units.iter().map(|u| u.env[0].1.clone()).collect();
        assert_eq!(ports, ["5000", "5100", "5200"]);
        assert_eq!(d.units[0].ports, [5000]);
        assert!(d.units[1].ports.is_empty() && d.units[1].ready.is_none());
        assert!(d.units[2].ports.is_empty());
        assert_eq!(d.units[0].origin, "Procfile line 1");
        assert_eq!(d.units[1].origin, "Procfile line 4");
        assert_eq!(
            d.units[1].command,
            Some(Cmd::Shell("rake jobs:work $PORT".into()))
        );
    }

    #[test]
    fn bad_lines_and_duplicates_are_warnings_with_lines() {
        let d = import(
            "web: a\nnot a process\nweb: b\nbad name!: c\n",
            "Procfile",
            5000,
        );
        assert_eq!(d.units.len(), 1);
        let lines: Vec<usize> = d.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [2, 3, 4]);
        assert!(d.warnings[1].message.contains("appears again"));
    }

    #[test]
    fn a_port_past_the_range_is_a_warning() {
        let d = import("web: x $PORT\nb: y $PORT\n", "Procfile", 65500);
        assert_eq!(d.units[0].ports, [65500]);
        assert!(d.units[1].env.is_empty());
        assert_eq!(d.warnings[0].line, 2);
    }
}
