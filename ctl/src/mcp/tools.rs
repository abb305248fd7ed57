//! The MCP tools: each is a devctl verb run in-process with `--json`
//! (through the same code, and so the same daemon client, as the command
//! line), its output returned as the tool's text. A verb's error comes
//! back as a tool error worded as the CLI words it (`error: …` and
//! `help: …`, or the full manifest report). Knows nothing of the protocol:
//! [`super::server`] adapts it to rmcp.

use std::path::PathBuf;

use devctl_units::ProjectName;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cli::{Command, EnableArgs, MaybeUnits, Units, parse_duration, parse_since};
use crate::error::CtlError;
use crate::exit::Exit;
use crate::opts::Context;
use crate::output::{Out, Style};
use devctl_units::api::LogRecord;

/// How a tool may affect the project, for the protocol's annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only.
    ReadOnly,
    /// Changes state, never stops anything.
    Additive,
    /// May stop units (or their processes).
    Destructive,
}

/// One tool's public description.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub schema: Value,
    pub effect: Effect,
    /// Calling it twice has the effect of calling it once.
    pub idempotent: bool,
}

/// What a tool call produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutcome {
    pub is_error: bool,
    pub text: String,
}

/// How many lines the logs tool searches when given a pattern.
const GREP_WINDOW: u64 = 10_000;
/// Default number of log lines returned.
const DEFAULT_LOG_LINES: u64 = 100;

fn where_props() -> Value {
    json!({
        "directory": {"type": "string", "description": "The project's directory (devctl.kdl is looked up from there, as `devctl -C DIR`). Default: the directory `devctl mcp` was started in."},
        "project": {"type": "string", "description": "Address this project by name instead of by directory (as `devctl -p PROJECT`)."}
    })
}

fn schema(extra: Value, required: &[&str]) -> Value {
    let mut props = where_props();
    if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    json!({"type": "object", "properties": props, "required": required})
}

fn units_prop(what: &str) -> Value {
    json!({"units": {"type": "array", "items": {"type": "string"}, "description": what}})
}

fn job_schema() -> Value {
    let mut extra = units_prop("Units: NAME, PROJECT/NAME or a glob such as 'api-*'.");
    extra["timeout"] = json!({"type": "string", "description": "Give up waiting after this long (30s, 2m); the units keep going."});
    extra["no_block"] = json!({"type": "boolean", "description": "Return at once instead of waiting until the units are ready or stopped."});
    schema(extra, &["units"])
}

/// Every tool, in the order `tools/list` gives them.
pub fn catalogue() -> Vec<ToolSpec> {
    let mut enable_extra = units_prop("Units: NAME, PROJECT/NAME or a glob.");
    enable_extra["now"] = json!({"type": "boolean", "description": "Also start (enable) or stop (disable) them now."});
    let mut up_extra = units_prop(
        "Exactly these units (and what they require) should run; the project's others are stopped. Empty: every enabled unit.",
    );
    up_extra["timeout"] =
        json!({"type": "string", "description": "Give up waiting after this long (30s, 2m)."});
    let mut logs_extra = units_prop("Units whose logs to read; empty: every unit of the project.");
    logs_extra["lines"] = json!({"type": "integer", "minimum": 1, "description": "Return at most this many lines, the newest (default 100)."});
    logs_extra["since"] = json!({"type": "string", "description": "Only lines newer than a duration ago (10m) or a time (2026-01-02T10:00:00Z)."});
    logs_extra["grep"] = json!({"type": "string", "description": "Only lines whose text matches this regular expression (Rust regex syntax), searched in the last 10000 lines."});
    let status_extra = units_prop("Units to show; empty: every unit of the project.");
    let check_extra = json!({"file": {"type": "string", "description": "The manifest to check instead of the directory's devctl.kdl."}});
    vec![
        ToolSpec {
            name: "list_projects",
            title: "List projects and units",
            description: "List every project the devctl daemon knows, with each unit's kind, load state, enablement, active state, sub-state and result (`devctl list --all --json`). Returns JSON.",
            schema: json!({"type": "object", "properties": {}}),
            effect: Effect::ReadOnly,
            idempotent: true,
        },
        ToolSpec {
            name: "status",
            title: "Unit status",
            description: "Show units of one project: active state and sub-state, result of the last run, enablement, main pid, readiness, ports, links, why a unit failed (`devctl status --json`). Returns JSON.",
            schema: schema(status_extra, &[]),
            effect: Effect::ReadOnly,
            idempotent: true,
        },
        ToolSpec {
            name: "start",
            title: "Start units",
            description: "Start units now, with what they require, and wait until they are ready (`devctl start`). Starting a running unit does nothing. Returns each unit's outcome as JSON; a unit that fails makes it a tool error.",
            schema: job_schema(),
            effect: Effect::Additive,
            idempotent: true,
        },
        ToolSpec {
            name: "stop",
            title: "Stop units",
            description: "Stop units now (the whole process tree, or the container) and wait until they are stopped (`devctl stop`); units that require them stop too. Enablement is unchanged. Returns each unit's outcome as JSON.",
            schema: job_schema(),
            effect: Effect::Destructive,
            idempotent: true,
        },
        ToolSpec {
            name: "restart",
            title: "Restart units",
            description: "Stop then start units, waiting until they are ready again (`devctl restart`). Returns each unit's outcome as JSON.",
            schema: job_schema(),
            effect: Effect::Destructive,
            idempotent: false,
        },
        ToolSpec {
            name: "trigger",
            title: "Trigger units",
            description: "Re-run builds and restart services now, as a change of their watched files would (`devctl trigger`). Returns each unit's outcome as JSON.",
            schema: job_schema(),
            effect: Effect::Destructive,
            idempotent: false,
        },
        ToolSpec {
            name: "enable",
            title: "Enable units",
            description: "Make units part of the project's default set, persistently (`devctl enable`); with now=true also start them. Returns JSON.",
            schema: schema(enable_extra.clone(), &["units"]),
            effect: Effect::Additive,
            idempotent: true,
        },
        ToolSpec {
            name: "disable",
            title: "Disable units",
            description: "Remove units from the project's default set, persistently (`devctl disable`); with now=true also stop them. Returns JSON.",
            schema: schema(enable_extra, &["units"]),
            effect: Effect::Destructive,
            idempotent: true,
        },
        ToolSpec {
            name: "up",
            title: "Bring the project up",
            description: "Bring the project up (`devctl up`): every enabled unit, dependencies first; with units, exactly those (and what they require) run and the project's other units are stopped. Returns each unit's outcome as JSON.",
            schema: schema(up_extra, &[]),
            effect: Effect::Destructive,
            idempotent: true,
        },
        ToolSpec {
            name: "down",
            title: "Bring the project down",
            description: "Stop every unit of the project (`devctl down`); enablement is unchanged. Returns each unit's outcome as JSON.",
            schema: schema(json!({}), &[]),
            effect: Effect::Destructive,
            idempotent: true,
        },
        ToolSpec {
            name: "logs",
            title: "Read logs",
            description: "Read units' logs, merged by time, one line each: `TIME UNIT: TEXT` (stderr lines marked), including devctl's lifecycle lines (spawned, exited, restarting, ready). Filter by age with since and by a regular expression with grep. Returns text.",
            schema: schema(logs_extra, &[]),
            effect: Effect::ReadOnly,
            idempotent: true,
        },
        ToolSpec {
            name: "check",
            title: "Check the manifest",
            description: "Compile the project's devctl.kdl without running anything (`devctl check`). Returns JSON with the unit files it defines and its warnings, or a tool error listing every problem with its line.",
            schema: json!({"type": "object", "properties": check_extra}),
            effect: Effect::ReadOnly,
            idempotent: true,
        },
    ]
}

/// Arguments every tool may take.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    directory: Option<PathBuf>,
    project: Option<String>,
    #[serde(default)]
    units: Vec<String>,
    timeout: Option<String>,
    #[serde(default)]
    no_block: bool,
    #[serde(default)]
    now: bool,
    lines: Option<u64>,
    since: Option<String>,
    grep: Option<String>,
    file: Option<PathBuf>,
}

/// The tool server's fixed context: where it was started.
#[derive(Debug, Clone)]
pub struct Tools {
    pub base: Context,
}

fn usage(message: impl Into<String>) -> CtlError {
    CtlError::Usage {
        message: message.into(),
    }
}

impl Tools {
    fn context(&self, a: &Args) -> Result<Context, CtlError> {
        let mut ctx = self.base.clone();
        ctx.json = true;
        ctx.quiet = true;
        ctx.color_out = false;
        ctx.color_err = false;
        ctx.block = !a.no_block;
        if let Some(dir) = &a.directory {
            let dir = ctx.cwd.join(dir);
            if !dir.is_dir() {
                return Err(usage(format!("{}: not a directory", dir.display())));
            }
            ctx.cwd = dir;
            ctx.file = None;
        }
        if let Some(f) = &a.file {
            ctx.file = Some(ctx.cwd.join(f));
        }
        if let Some(p) = &a.project {
            ctx.project =
                Some(
                    ProjectName::new(p.as_str()).map_err(|reason| CtlError::BadName {
                        name: p.clone(),
                        what: "project",
                        reason,
                    })?,
                );
        }
        if let Some(t) = &a.timeout {
            ctx.timeout = Some(parse_duration(t).map_err(|e| usage(format!("timeout: {e}")))?);
        }
        Ok(ctx)
    }

    fn command(name: &str, a: &Args) -> Result<Command, CtlError> {
        let need_units = || {
            if a.units.is_empty() {
                Err(usage(format!("{name}: give at least one unit")))
            } else {
                Ok(Units {
                    names: a.units.clone(),
                })
            }
        };
        let maybe = || MaybeUnits {
            names: a.units.clone(),
        };
        let enable = || EnableArgs {
            now: a.now,
            boot: false,
            names: a.units.clone(),
        };
        Ok(match name {
            "list_projects" => Command::List { all: true },
            "status" => Command::Status(maybe()),
            "start" => Command::Start {
                units: need_units()?,
                force: false,
            },
            "stop" => Command::Stop(need_units()?),
            "restart" => Command::Restart(need_units()?),
            "trigger" => Command::Trigger(need_units()?),
            "enable" => {
                need_units()?;
                Command::Enable(enable())
            }
            "disable" => {
                need_units()?;
                Command::Disable(enable())
            }
            "up" => Command::Up {
                units: maybe(),
                force: false,
            },
            "down" => Command::Down,
            "check" => Command::Check,
            "logs" => {
                let since = match &a.since {
                    Some(s) => Some(parse_since(s).map_err(|e| usage(format!("since: {e}")))?),
                    None => None,
                };
                let lines = match (&a.grep, a.lines) {
                    (Some(_), _) => Some(GREP_WINDOW),
                    (None, Some(n)) => Some(n),
                    (None, None) if since.is_some() => None,
                    (None, None) => Some(DEFAULT_LOG_LINES),
                };
                Command::Logs {
                    follow: false,
                    lines,
                    since,
                    run: None,
                    grep: None,
                    stream: None,
                    units: maybe(),
                }
            }
            other => return Err(usage(format!("no tool {other:?}"))),
        })
    }

    /// Run tool `name` with JSON `arguments`.
    pub async fn call(&self, name: &str, arguments: Value) -> ToolOutcome {
        let args: Args = match serde_json::from_value(arguments) {
            Ok(a) => a,
            Err(e) => return failure(&usage(format!("{name}: bad arguments: {e}"))),
        };
        let prepared = self
            .context(&args)
            .and_then(|ctx| Ok((ctx, Self::command(name, &args)?)));
        let (ctx, command) = match prepared {
            Ok(p) => p,
            Err(e) => return failure(&e),
        };
        let grep = match args.grep.as_deref().map(regex::Regex::new).transpose() {
            Ok(g) => g,
            Err(e) => return failure(&usage(format!("grep: {e}"))),
        };
        let keep = args.lines.unwrap_or(DEFAULT_LOG_LINES) as usize;
        let is_logs = name == "logs";
        // The verbs' futures need not be Send: each call gets its own
        // current-thread runtime on a blocking thread.
        let ran = tokio::task::spawn_blocking(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| CtlError::Failed {
                    message: format!("cannot start a runtime: {e}"),
                })?;
            let mut out = Out::memory();
            let exit = rt.block_on(crate::verbs::dispatch(&ctx, &command, &mut out))?;
            Ok::<_, CtlError>((exit, String::from_utf8_lossy(out.captured()).into_owned()))
        })
        .await;
        match ran {
            Err(e) => failure(&CtlError::Failed {
                message: format!("the tool panicked: {e}"),
            }),
            Ok(Err(e)) => failure(&e),
            Ok(Ok((exit, text))) => {
                let text = if is_logs {
                    log_lines(&text, grep.as_ref(), keep)
                } else {
                    text
                };
                ToolOutcome {
                    is_error: exit != Exit::Ok,
                    text,
                }
            }
        }
    }
}

/// An error as the CLI prints it.
fn failure(e: &CtlError) -> ToolOutcome {
    ToolOutcome {
        is_error: true,
        text: e.render_human(false),
    }
}

/// NDJSON log records as text lines, filtered by `grep`, the newest `keep`.
fn log_lines(ndjson: &str, grep: Option<&regex::Regex>, keep: usize) -> String {
    let mut lines: Vec<String> = ndjson
        .lines()
        .filter_map(|l| serde_json::from_str::<LogRecord>(l).ok())
        .filter(|r| grep.is_none_or(|g| g.is_match(&r.text)))
        .map(|r| crate::stream::format_record(&r, None, Style { on: false }))
        .collect();
    if lines.len() > keep {
        lines.drain(..lines.len() - keep);
    }
    if lines.is_empty() {
        return "(no log lines)".into();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_maps_to_a_verb_and_destructive_ones_say_so() {
        let args = Args {
            units: vec!["web".into()],
            ..Args::default()
        };
        for t in catalogue() {
            assert!(Tools::command(t.name, &args).is_ok(), "{}", t.name);
            assert!(t.description.len() > 40, "{}", t.name);
            assert_eq!(t.schema["type"], "object", "{}", t.name);
        }
        let destructive: Vec<&str> = catalogue()
            .iter()
            .filter(|t| t.effect == Effect::Destructive)
            .map(|t| t.name)
            .collect();
        assert_eq!(
            destructive,
            ["stop", "restart", "trigger", "disable", "up", "down"]
        );
        let none = Args::default();
        assert!(Tools::command("start", &none).is_err());
        assert!(Tools::command("nope", &none).is_err());
    }
}
