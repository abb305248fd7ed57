//! Dispatch: one arm per verb, from the parsed command to the module that
//! implements it.

use devctl_units::api::JobVerb;

use crate::cli::{Command, DaemonCommand};
use crate::error::CtlError;
use crate::exit::Exit;
use crate::opts::Context;
use crate::output::Out;
use crate::query::Question;
use crate::systemd::install;
use crate::{admin, daemon, jobs, local, man, probe, query, stream};

/// Run one verb.
pub async fn dispatch(ctx: &Context, command: &Command, out: &mut Out) -> Result<Exit, CtlError> {
    match command {
        Command::Up { units, force } => {
            jobs::up_down(ctx, JobVerb::Up, &units.names, *force, out).await
        }
        Command::Down => jobs::up_down(ctx, JobVerb::Down, &[], false, out).await,
        Command::Start { units, force } => {
            jobs::units_job(ctx, JobVerb::Start, &units.names, *force, out).await
        }
        Command::Stop(u) => jobs::units_job(ctx, JobVerb::Stop, &u.names, false, out).await,
        Command::Restart(u) => jobs::units_job(ctx, JobVerb::Restart, &u.names, false, out).await,
        Command::Trigger(u) => jobs::units_job(ctx, JobVerb::Trigger, &u.names, false, out).await,
        Command::Enable(a) => jobs::enablement(ctx, true, a.now, a.boot, &a.names, out).await,
        Command::Disable(a) => jobs::enablement(ctx, false, a.now, a.boot, &a.names, out).await,
        Command::Reload => jobs::reload(ctx, out).await,
        Command::Wait { condition, units } => jobs::wait(ctx, &units.names, *condition, out).await,
        Command::Status(u) => query::status(ctx, &u.names, out).await,
        Command::List { all } => query::list(ctx, *all, out).await,
        Command::IsActive(u) => query::is_state(ctx, Question::Active, &u.names, out).await,
        Command::IsEnabled(u) => query::is_state(ctx, Question::Enabled, &u.names, out).await,
        Command::IsFailed(u) => query::is_state(ctx, Question::Failed, &u.names, out).await,
        Command::Show { property, units } => query::show(ctx, &units.names, property, out).await,
        Command::Logs {
            follow,
            lines,
            since,
            run,
            grep,
            stream: which,
            units,
        } => {
            let filter = stream::LogFilter {
                run: run.clone(),
                grep: grep.clone(),
                stream: *which,
            };
            stream::logs(ctx, &units.names, *follow, *lines, *since, &filter, out).await
        }
        Command::History {
            since,
            failed,
            limit,
            units,
        } => crate::history::history(ctx, &units.names, *since, *failed, *limit, out).await,
        Command::Events { .. } => stream::events(ctx, out).await,
        Command::Run { build } => stream::run_build(ctx, build, out).await,
        Command::Ui { all, mouse } => crate::ui::run(ctx, *all, *mouse).await,
        Command::Dashboard { no_open } => crate::dashboard::open(ctx, *no_open, out).await,
        Command::Forget { project } => admin::forget(ctx, project, out).await,
        Command::Daemon(DaemonCommand::Run) => Err(daemon::exec_foreground()),
        Command::Daemon(DaemonCommand::Stop) => admin::stop(ctx, out).await,
        Command::Daemon(DaemonCommand::Status) => admin::status(ctx, out).await,
        Command::Daemon(DaemonCommand::Reexec) => admin::reexec(ctx, out).await,
        Command::Daemon(DaemonCommand::Install { now, watchdog }) => {
            install::install(ctx, *now, *watchdog, out).await
        }
        Command::Daemon(DaemonCommand::Uninstall) => install::uninstall(ctx, out).await,
        Command::Check => local::check(ctx, out),
        Command::Compile { output, target } => local::compile(ctx, output.as_deref(), *target, out),
        Command::Cat { name, target } => local::cat(ctx, name, *target, out),
        Command::Export { install, output } => {
            crate::systemd::export::export(ctx, *install, output.as_deref(), out).await
        }
        Command::Completions { shell } => local::completions(*shell, out),
        Command::Import {
            file,
            output,
            force,
            format,
            base_port,
        } => {
            let args = crate::import::run::ImportArgs {
                file,
                output,
                force: *force,
                format: *format,
                base_port: *base_port,
            };
            crate::import::run::import(ctx, &args, out)
        }
        Command::Mcp => crate::mcp::serve(ctx).await,
        Command::Probe(args) => probe::run(args, ctx.timeout).await,
        Command::Man => {
            out.raw(&man::page())?;
            Ok(Exit::Ok)
        }
    }
}
