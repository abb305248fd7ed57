//! Verbs that change what runs: up, down, start, stop, restart, trigger,
//! enable, disable, reload, wait. Each loads the manifest first (see
//! [`crate::session`]), sends one request per project, prints what happened
//! and turns the outcome into an exit code (failed unit → 1, timeout → 124).

use devctl_units::ProjectName;
use devctl_units::api::{
    EnableRequest, EnableResponse, JobRequest, JobResponse, JobVerb, LoadResponse, UnitOutcome,
    WaitFor, WaitRequest, WaitResponse,
};

use crate::cli::WaitCondition;
use crate::error::CtlError;
use crate::exit::Exit;
use crate::opts::{Context, group_by_project};
use crate::output::Out;
use crate::session::{self, Access, Session};

fn names_list<T: std::fmt::Display>(names: &[T]) -> String {
    names
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Print failed outcomes on stderr and decide the exit code.
fn judge(
    ctx: &Context,
    project: &ProjectName,
    outcomes: &[UnitOutcome],
    timed_out: bool,
) -> Result<Exit, CtlError> {
    let failed: Vec<&UnitOutcome> = outcomes.iter().filter(|o| !o.ok).collect();
    let names = names_list(
        &failed
            .iter()
            .map(|o| format!("{project}/{}", o.unit))
            .collect::<Vec<_>>(),
    );
    if timed_out {
        let what = if names.is_empty() {
            project.to_string()
        } else {
            names
        };
        return Err(CtlError::TimedOut { what });
    }
    if !ctx.json {
        for o in &failed {
            eprintln!("devctl: {}", outcome_line(project, o));
        }
    }
    if failed.is_empty() {
        Ok(Exit::Ok)
    } else {
        Err(CtlError::Failed {
            message: format!("{names}: did not reach the requested state"),
        })
    }
}

/// `pz/web: failed (exec-failed): No such file or directory`, without
/// repeating the result when the message starts with it.
pub fn outcome_line(project: &ProjectName, o: &UnitOutcome) -> String {
    let mut line = format!("{project}/{}: {}", o.unit, o.active);
    if let Some(r) = o.result {
        line.push_str(&format!(" ({r})"));
    }
    if let Some(m) = &o.message {
        let prefix = o.result.map(|r| format!("{r}: ")).unwrap_or_default();
        line.push_str(": ");
        line.push_str(m.strip_prefix(prefix.as_str()).unwrap_or(m));
    }
    line
}

async fn post_job(
    s: &Session,
    project: &ProjectName,
    req: &JobRequest,
) -> Result<JobResponse, CtlError> {
    s.client
        .post(&format!("/v1/projects/{project}/jobs"), req)
        .await
}

/// start / stop / restart / trigger NAMES.
pub async fn units_job(
    ctx: &Context,
    verb: JobVerb,
    names: &[String],
    force: bool,
    out: &mut Out,
) -> Result<Exit, CtlError> {
    let groups = group_by_project(names)?;
    let s = session::open(ctx, Access::Mutating).await?;
    let mut answers = Vec::new();
    for (project, units) in groups {
        let project = s.project_or(&project).clone();
        let req = JobRequest {
            verb,
            units,
            block: ctx.block,
            timeout_ms: ctx.timeout_ms(),
            // Without --json only failures are printed (`judge`): a
            // thousand-unit answer costs milliseconds to encode and decode.
            failed_only: !ctx.json,
            force,
            source: Some(devctl_units::api::runs::VerbSource::Cli),
        };
        answers.push((project.clone(), post_job(&s, &project, &req).await?));
    }
    if ctx.json {
        let v: Vec<_> = answers
            .iter()
            .map(|(p, r)| serde_json::json!({"project": p, "job": r}))
            .collect();
        out.json(&v)?;
    }
    let mut exit = Exit::Ok;
    for (project, r) in &answers {
        exit = judge(ctx, project, &r.outcomes, r.timed_out)?;
    }
    Ok(exit)
}

/// `up [NAMES]` and `down`.
pub async fn up_down(
    ctx: &Context,
    verb: JobVerb,
    names: &[String],
    force: bool,
    out: &mut Out,
) -> Result<Exit, CtlError> {
    for n in names {
        if n.contains('/') {
            return Err(CtlError::Usage {
                message: format!("{n:?}: up works on one project; use -p PROJECT"),
            });
        }
    }
    let s = session::open(ctx, Access::Mutating).await?;
    let req = JobRequest {
        verb,
        units: names.to_vec(),
        block: ctx.block,
        timeout_ms: ctx.timeout_ms(),
        // As in `units_job`: only failures are printed without --json.
        failed_only: !ctx.json,
        force,
        source: Some(devctl_units::api::runs::VerbSource::Cli),
    };
    let r = post_job(&s, &s.project, &req).await?;
    if ctx.json {
        out.json(&serde_json::json!({"project": s.project, "job": r}))?;
    } else if !ctx.quiet && !r.stopped.is_empty() {
        out.line(&format!("stopped: {}", names_list(&r.stopped)))?;
    }
    judge(ctx, &s.project, &r.outcomes, r.timed_out)
}

/// `enable` / `disable` [--now] [--boot] NAMES.
pub async fn enablement(
    ctx: &Context,
    enable: bool,
    now: bool,
    boot: bool,
    names: &[String],
    out: &mut Out,
) -> Result<Exit, CtlError> {
    let groups = if names.is_empty() {
        vec![(None, Vec::new())]
    } else {
        group_by_project(names)?
    };
    let s = session::open(ctx, Access::Mutating).await?;
    let mut answers: Vec<(ProjectName, EnableResponse)> = Vec::new();
    for (project, units) in groups {
        let project = s.project_or(&project).clone();
        let req = EnableRequest {
            units,
            enable,
            now,
            boot,
            block: ctx.block,
            timeout_ms: ctx.timeout_ms(),
        };
        let r: EnableResponse = s
            .client
            .post(&format!("/v1/projects/{project}/enablement"), &req)
            .await?;
        answers.push((project, r));
    }
    if ctx.json {
        let v: Vec<_> = answers
            .iter()
            .map(|(p, r)| serde_json::json!({"project": p, "result": r}))
            .collect();
        out.json(&v)?;
    } else if !ctx.quiet {
        for (project, r) in &answers {
            for (unit, state) in &r.changed {
                out.line(&format!("{project}/{unit}: {state}"))?;
            }
            if boot {
                let word = if r.boot {
                    "comes up"
                } else {
                    "does not come up"
                };
                out.line(&format!("{project}: {word} when devctld starts"))?;
            }
        }
    }
    let mut exit = Exit::Ok;
    for (project, r) in &answers {
        if let Some(job) = &r.job {
            exit = judge(ctx, project, &job.outcomes, job.timed_out)?;
        }
    }
    Ok(exit)
}

/// Human lines for what a load changed.
pub fn load_summary(r: &LoadResponse) -> Vec<String> {
    let mut lines = Vec::new();
    for (label, names) in [
        ("added", &r.added),
        ("removed", &r.removed),
        ("changed", &r.changed),
        ("restarted", &r.restarted),
        ("stopped", &r.stopped),
    ] {
        if !names.is_empty() {
            lines.push(format!("{label}: {}", names_list(names)));
        }
    }
    if lines.is_empty() {
        lines.push(format!("unchanged ({} units)", r.unchanged));
    }
    lines
}

/// `reload`: load the manifest and print the difference.
pub async fn reload(ctx: &Context, out: &mut Out) -> Result<Exit, CtlError> {
    let s = session::open(ctx, Access::Mutating).await?;
    let Some(r) = &s.loaded else {
        return Err(CtlError::NoManifest {
            start: ctx.cwd.clone(),
        });
    };
    if ctx.json {
        out.json(&serde_json::json!({"project": s.project, "load": r}))?;
    } else if !ctx.quiet {
        for line in load_summary(r) {
            out.line(&format!("{}: {line}", s.project))?;
        }
    }
    Ok(Exit::Ok)
}

/// The wire form of `--for`.
pub fn wait_for(c: WaitCondition) -> WaitFor {
    match c {
        WaitCondition::Ready => WaitFor::Ready,
        WaitCondition::Active => WaitFor::Active,
        WaitCondition::Inactive => WaitFor::Inactive,
        WaitCondition::Succeeded => WaitFor::Succeeded,
        WaitCondition::Failed => WaitFor::Failed,
    }
}

/// `wait NAMES --for C`.
pub async fn wait(
    ctx: &Context,
    names: &[String],
    condition: WaitCondition,
    out: &mut Out,
) -> Result<Exit, CtlError> {
    let groups = group_by_project(names)?;
    let s = session::open(ctx, Access::ReadOnly).await?;
    let mut exit = Exit::Ok;
    for (project, units) in groups {
        let project = s.project_or(&project).clone();
        let req = WaitRequest {
            units,
            condition: wait_for(condition),
            timeout_ms: ctx.timeout_ms(),
        };
        let r: WaitResponse = s
            .client
            .post(&format!("/v1/projects/{project}/wait"), &req)
            .await?;
        if ctx.json {
            out.json(&serde_json::json!({"project": project, "wait": r}))?;
        }
        if r.timed_out {
            let mut pending: Vec<String> = r
                .outcomes
                .iter()
                .filter(|o| !o.ok)
                .map(|o| format!("{project}/{}", o.unit))
                .collect();
            if pending.is_empty() {
                pending = req.units.iter().map(|u| format!("{project}/{u}")).collect();
            }
            let word = format!("{condition:?}").to_lowercase();
            return Err(CtlError::TimedOut {
                what: format!("{} to be {word}", pending.join(", ")),
            });
        }
        if !r.ok {
            judge(ctx, &project, &r.outcomes, false)?;
            exit = Exit::Failed;
        }
    }
    Ok(exit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::UnitName;

    #[test]
    fn load_summary_lines() {
        let mut r = LoadResponse {
            unchanged: 3,
            ..Default::default()
        };
        assert_eq!(load_summary(&r), ["unchanged (3 units)"]);
        r.added = vec![UnitName::new("a").unwrap(), UnitName::new("b").unwrap()];
        r.restarted = vec![UnitName::new("c").unwrap()];
        assert_eq!(load_summary(&r), ["added: a, b", "restarted: c"]);
    }

    #[test]
    fn judge_codes() {
        use devctl_units::state::{ActiveState, SubState, UnitResult};
        let ctx = Context {
            cwd: "/".into(),
            file: None,
            project: None,
            json: true,
            quiet: true,
            block: true,
            timeout: None,
            color_out: false,
            color_err: false,
        };
        let p = ProjectName::new("p").unwrap();
        let ok = UnitOutcome {
            unit: UnitName::new("a").unwrap(),
            ok: true,
            active: ActiveState::Active,
            sub: SubState::Running,
            result: None,
            message: None,
        };
        assert_eq!(
            judge(&ctx, &p, std::slice::from_ref(&ok), false).unwrap(),
            Exit::Ok
        );
        let bad = UnitOutcome {
            ok: false,
            active: ActiveState::Failed,
            result: Some(UnitResult::ExitCode),
            ..ok
        };
        assert!(matches!(
            judge(&ctx, &p, std::slice::from_ref(&bad), false),
            Err(CtlError::Failed { .. })
        ));
        let with_msg = UnitOutcome {
            message: Some("exit-code: exited 3".into()),
            ..bad.clone()
        };
        assert_eq!(
            outcome_line(&p, &with_msg),
            "p/a: failed (exit-code): exited 3"
        );
        assert!(matches!(
            judge(&ctx, &p, &[bad], true),
            Err(CtlError::TimedOut { .. })
        ));
        assert_eq!(wait_for(WaitCondition::Succeeded), WaitFor::Succeeded);
    }
}
