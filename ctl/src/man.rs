//! The devctl(1) manual page: clap_mangen's rendering of the command line
//! followed by hand-written sections (exit status, enablement and sessions,
//! files, environment, examples). `man/devctl.1` is this text, checked by a
//! test so it cannot drift.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::Exit;

const ENABLEMENT: &str = r#".SH "ENABLEMENT AND SESSIONS"
Enablement is not running, exactly as with systemctl:
.B start
and
.B stop
change what runs now and are forgotten when the session ends;
.B enable
and
.B disable
change the project's default set, persistently, and do not start or stop anything unless
.B \-\-now
is given.
.PP
A unit's enablement starts as the manifest's
.B enabled
value (default true) and is overridden by enable/disable until changed again; editing the manifest keeps the override, removing the unit drops it.
.TP
.B devctl up
starts every enabled unit and what it requires.
.TP
.B devctl up A B
makes exactly A, B and what they require run: it starts them, stops the project's other units and prints which it stopped.
.TP
.B devctl down
stops every unit of the project. Neither up nor down touches enablement.
.TP
.B devctl up \-\-force
and
.B devctl start \-\-force
also run builds that are up to date: by default a build whose last run succeeded on exactly its current inputs (its watched files, env files, command, directory and environment) is not run again, and shows
.BR "up to date since TIME" .
.B restart
and
.B trigger
always run it. A build's
.B schedule
or
.B every
runs it again while it is enabled and meant to run;
.B status
shows the next run (see devctl.kdl(5)).
.TP
.B devctl enable \-\-boot
makes the project come up whenever devctld starts (for example at login when devctld runs as a systemd user service);
.B disable \-\-boot
undoes it.
.PP
A session lasts from daemon start to a clean daemon stop
.RB ( "devctl daemon stop" ).
If devctld crashes or is killed and starts again, the session continues: every unit that should run runs again, without duplicates or orphans, and
.B status
tells whether each was adopted or restarted (processes are started again, once, with origin
.BR restarted ;
containers are adopted). A clean stop stops every unit and ends the session; the next start brings up the boot-enabled projects.
.PP
One daemon serves every project of the user. A command addresses the current directory's project;
.B \-p PROJECT
or a
.I PROJECT/UNIT
name addresses another, so two projects may each have a unit called
.IR web ;
.B devctl list \-\-all
shows every project.
.PP
Commands that change what runs block until the units are ready (or stopped) unless
.B \-\-no\-block
is given;
.B \-\-timeout
bounds the wait (exit 124). Starting a running unit or stopping a stopped one succeeds.
"#;

const TERMINAL_UI: &str = r#".SH "TERMINAL UI"
.B devctl ui
shows the project's units (every project with
.BR \-\-all )
in a table \(em project (with \-\-all), unit, kind, state, ready, result, restarts, uptime, PID, CPU, memory, ports \(em
under a progress line, and below it the logs of the selected units, merged by time: stderr lines stand out and lifecycle markers read
.BR "\-\- exited 1 \-\-" .
Everything is live from the daemon's event stream, and an idle screen is not redrawn; only while a unit runs is the list fetched again every 2 seconds, for the CPU (percent of one core) and memory (resident set) of each running unit's whole process tree, which the daemon samples for that answer.
Actions block like the commands they stand for, show their progress in the status line and then their result, worded as the CLI words it.
.TP
.B "Up Down j k"
move in the table, or scroll the log pane when it has the focus
.RB ( PgUp ", " PgDn ", " g ", " G
page and jump).
.TP
.B space
select or unselect the unit (several may be selected; Esc clears); actions apply to the selection, else to the unit under the cursor, and the log pane follows the same units.
.TP
.B "s x r t"
start, stop, restart, trigger.
.TP
.B e
enable a disabled unit, disable an enabled one (persistently; nothing starts or stops).
.TP
.B Enter
detail: what
.B devctl status UNIT
prints, and the dependencies both ways (Requires / Required by, Wants / Wanted by).
.TP
.B /
search the log pane with a regular expression; matches are highlighted and the view jumps to the newest one;
.B n
goes to the next older match,
.B N
to the next newer one.
.TP
.B "f w"
follow the newest line on or off; wrap long lines on or off.
.TP
.B Tab
switch the focus between the table and the log pane.
.TP
.B "? q"
help; quit (also Ctrl\-C).
.PP
Colour follows
.BR NO_COLOR .
The terminal is restored on every exit, including a panic, SIGTERM and a hang-up.
The mouse is not captured unless
.B \-\-mouse
is given, so text can be selected and copied as usual.
.B devctl ui
needs a terminal on stdin and stdout (exit 2 otherwise).

"#;

const HISTORY: &str = r#".SH "RUN HISTORY"
Every start of every unit is a run, recorded by devctld with a short id: why it happened (a verb and where it came from \(em
.BR cli ,
.BR api ,
.B d\-bus
or the dashboard; a file change with the changed paths; a restart after an exit, with the exit and the backoff; a dependency; boot), the git commit of the project root, when it was queued, spawned, ready and ended, its result and exit, and the peak memory and CPU time of its whole process tree (container and Kubernetes runs: not reported).
.B devctl history
lists them newest first;
.B devctl logs \-\-run ID
prints exactly that run's lines, also after the daemon was killed and started again, for as long as the unit's log keeps them (its
.B logs { }
in
.BR devctl.kdl (5)).
When retention removed some of them, a line
.B "\-\- lines of run ID up to TIME were rotated away (UNIT keeps 4 \(mu 8 MiB; ...) \-\-"
comes first (with
.BR \-\-json ,
a
.B {\(dqnotice\(dq: {\(dqtype\(dq: \(dqrotated\-away\(dq, ...}}
object), then what remains; when it removed all of them, the command fails with exit status 4 saying so.
.B devctl status UNIT
shows the current run (for a build still running,
.BR "running 12s, usually 30s" ,
the median of its recent successful runs), the memory and CPU of its process tree, sampled for that answer, and its last runs.
The history lives in
.I runs.db
in the state directory; see
.BR devctld (8)
for how much is kept and how to turn it off.

"#;

const DASHBOARD: &str = r#".SH "WEB DASHBOARD"
.B devctl dashboard
turns on the web dashboard of devctld (on
.BR 127.0.0.1 ,
port
.B DEVCTL_DASHBOARD_PORT
of the daemon, 7717 by default), prints a login link carrying a one\-time token and, when
.B DISPLAY
or
.B WAYLAND_DISPLAY
is set and
.B \-\-no\-open
is not given, opens it with
.BR xdg\-open .
The link works once: it sets a session cookie and leads to the page; run
.B devctl dashboard
again for another.
With
.BR \-\-json ,
the answer is the daemon's: url, login_url, port, token_file, started (and opened).
.PP
The page shows a progress summary per project, the unit table across projects
(kind, state, ready, result, restarts n/limit and the next retry, uptime, PID, CPU and memory of
the whole process tree, ports and links, enablement, what triggered the run), a unit's detail (what
.B devctl status UNIT
prints, the last exit, the current run with its CPU and memory, the
last runs with their triggers and outcomes, dependencies both ways, the compiled unit file), the
dependency graph of a project,
and logs of one unit or several merged by time (following, stderr in red, lifecycle markers highlighted,
a regular expression that filters and highlights, a jump to the first error; a page that reads slower
than a unit writes gets the lines the daemon reads back from the log files, and where some could not be
read back, as
.B devctl logs \-f
is told, it says how many and marks the place; a stream cut because the page read nothing for 10 s
resumes after the last line shown, the place marked).
CPU and memory are sampled every 2 s for the running units whose rows are in the window (and the
open detail), only while the page is visible; containers and Kubernetes units show a dash, their
engine runs their processes.
Its buttons start, stop, restart and trigger units, enable and disable them (with or without
.BR \-\-now ),
bring a project up or down, and reload it (its devctl.kdl, read again by the daemon with the same
compiler as
.BR "devctl reload" ;
a manifest with errors changes nothing and shows the report the CLI prints), showing progress until
the job is done and its failure worded as the CLI words it. Everything is live from the daemon's event stream; nothing polls. Keys: arrows or
.B j k
move, Enter opens the detail,
.B "s x r t e"
act,
.B l
logs,
.B g
graph,
.B /
search,
.B R
reload, Esc closes, ? help. See
.BR devctld (8),
DASHBOARD, for the security model and what is sampled when.

"#;

const IMPORT: &str = r#".SH IMPORT
.B devctl import
.I FILE
writes a devctl.kdl (or
.B \-o
.IR PATH ;
.B \-o \-
prints it) from another tool's file, chosen by its name (Procfile*, docker\-compose*.yml, compose*.yaml, process\-compose*.yaml), then by its content, or by
.BR \-\-format .
An existing PATH is replaced only with
.BR \-\-force .
The result is compiled before it is written, so it passes
.BR "devctl check" ;
each unit is preceded by a comment naming the file and line it came from.
Whatever devctl cannot express is printed as
.IB FILE : LINE : " unit: message"
on stderr and repeated as a comment at the unit; nothing is dropped silently.
.TP
.B Procfile
(foreman, honcho, overmind): each
.I name: command
line becomes a service run with sh \-c, with
.B .env
loaded when present and PORT set as foreman sets it: 5000 (or
.BR \-\-base\-port )
plus 100 for each process type before it. The
.B web
type (the one Heroku routes traffic to) also gets a
.B port
check and a TCP readiness probe on its port when its command uses $PORT.
.TP
.B Compose files
become container units: image, build (context and Dockerfile), command and entrypoint (strings split as compose splits them), ports (published on 127.0.0.1, with a port check), environment, env_file, bind mounts and named volumes, working_dir, user, network_mode, stop_signal and stop_grace_period.
.B depends_on
becomes requires (wants when required is false) until started, or until ready for service_healthy; a healthcheck becomes a readiness probe run with
.B docker exec
in devctl's container (devctl\-PROJECT\-UNIT; the project is written into the manifest), and a service others wait for without one waits for its image's HEALTHCHECK.
.B restart
keeps compose's default of no; unless\-stopped becomes always. Services with
.B profiles
are disabled, and each profile becomes a group that starts them. Networks, deploy, secrets, configs, variables (${VAR}) and the rest are warnings.
.TP
.B process\-compose.yaml
processes become services, or builds when another process waits for them to complete (until succeeded). The command runs with the file's shell (bash \-c by default); working_dir, environment (global and per process), depends_on conditions, readiness_probe and liveness_probe (exec and http_get with their timings), ready_log_line (a log readiness check), availability (restart policy, backoff, max restarts; no restart by default, as process\-compose), shutdown signal and timeout, and disabled are translated.
.PP
Exit status: 0 written; 1 the output exists without
.BR \-\-force ,
or nothing could be imported; 2 the format is unknown; 4 the file cannot be found; 65 the file is not valid YAML (the line is shown).
"#;

const MCP: &str = r#".SH "MCP SERVER"
.B devctl mcp
serves the Model Context Protocol on stdin and stdout, so coding agents can drive devctl. Each tool runs the devctl verb of the same name with
.B \-\-json
against the daemon (started if needed) and returns its output; an error comes back as a tool error worded as the command line prints it.
Tools take
.B directory
(the project's directory; default: where
.B devctl mcp
started) or
.BR project ,
and
.B units
(names, PROJECT/NAME or globs):
.BR list_projects ,
.BR status ,
.BR start ,
.BR stop ,
.BR restart ,
.BR trigger ,
.B enable
and
.B disable
(with
.BR now ),
.B up
and
.BR down ,
.B logs
(with
.BR lines ,
.B since
and
.BR grep ,
a regular expression searched in the last 10000 lines) and
.BR check .
Tools that may stop units are annotated destructive, the reading ones read\-only.
Register it with an agent as a stdio server whose command is
.B devctl
with the argument
.BR mcp .
"#;

const FILES: &str = r#".SH FILES
.TP
.I devctl.kdl
The manifest, searched in the current directory and its parents (see
.BR devctl.kdl (5)).
.TP
.I $XDG_STATE_HOME/devctl/
Compiled units, enablement, session state and logs
.RI ( ~/.local/state/devctl/ ).
.TP
.I $XDG_STATE_HOME/devctl/devctld.log
Output of a daemon started in the background by devctl.
.TP
.I $XDG_STATE_HOME/devctl/runs.db
The run history (SQLite).
.TP
.I $XDG_RUNTIME_DIR/devctl/devctld.sock
The daemon's API socket (HTTP/1.1 + JSON); falls back to
.I /tmp/devctl\-$UID/
when XDG_RUNTIME_DIR is unset.
.TP
.I $XDG_RUNTIME_DIR/devctl/compiled/
A verb that loads the manifest (up, start, restart, reload, …) keeps what
it compiled here, one file per manifest, and uses it again only for the very
same bytes at the same path compiled by the very same devctl executable. A
result with warnings, or from a manifest with an
.B on\-commit
build (whose check looks for the repository), is never kept.
.B devctl check
always compiles. Safe to delete.
.SH ENVIRONMENT
.TP
.B DEVCTL_HOME
Put every devctl file (config, state, runtime) under this directory.
.TP
.B DEVCTLD
The devctld program to start when no daemon answers (default: next to devctl, then $PATH).
.TP
.B NO_COLOR
Disable colour even on a terminal. Output is never coloured when it is not a terminal.
.TP
.B XDG_CONFIG_HOME, XDG_STATE_HOME, XDG_RUNTIME_DIR
Base directories, as in the XDG Base Directory specification.
"#;

const EXAMPLES: &str = r#".SH EXAMPLES
.nf
devctl up                    # every enabled unit, dependencies first
devctl start paulie          # one unit and what it requires; waits until ready
devctl stop 'api\-*'         # globs select units
devctl enable \-\-now roberta  # part of the default set from now on, and started
devctl status                # a table of the project's units
devctl status paulie         # one unit in detail, with its last log lines
devctl logs \-f paulie db     # merged, timestamped
devctl logs \-f \-\-grep 'ERROR|panic' \-\-stream stderr
devctl history \-\-failed \-\-since 1h
devctl logs \-\-run 7hq2m4x9ad  # the lines of one run, as history lists it
devctl run codegen           # run a build in the foreground, exit with its code
devctl wait db \-\-for ready \-\-timeout 30s
devctl is\-active paulie && echo up
devctl \-p pizzeria status    # another project
devctl list \-\-all            # every project
devctl ui                    # the live full-screen view
devctl dashboard             # the same in a browser (a one-time login link)
devctl compile \-\-target systemd \-o ~/.config/systemd/user
.fi
.PP
Enablement, sessions and boot:
.PP
.nf
devctl disable \-\-now paulie   # stopped, and left out of every later \(lqup\(rq
devctl enable roberta         # in the default set; not started
devctl disable roberta        # out of the default set; keeps running
devctl up paulie roberta      # exactly these and what they require; stops the rest
devctl is\-enabled joe         # prints enabled/disabled; exit 0, 3, or 4 if unknown
devctl enable \-\-boot          # this project comes up whenever devctld starts
devctl disable \-\-boot         # ...and no longer does
devctl daemon stop            # clean stop: every unit stops, the session ends
devctl \-p shop status web     # another project's unit...
devctl status shop/web        # ...addressed as PROJECT/UNIT
.fi
.PP
In a Makefile:
.PP
.nf
dev:
\tdevctl up
test: dev
\tdevctl wait paulie \-\-for ready \-\-timeout 60s
\tcargo test
codegen:
\tdevctl run codegen
check:
\tdevctl check
.fi
.SH "SEE ALSO"
.BR devctl.kdl (5),
.BR devctld (8),
.BR systemctl (1)
"#;

fn exit_status() -> String {
    let mut s = String::from(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in Exit::TABLE {
        s.push_str(&format!(".TP\n.B {code}\n{meaning}\n"));
    }
    s.push_str(".PP\n.B devctl run\nexits with the build's own exit code.\n");
    s.push_str(
        ".PP\n.B devctl logs \\-f\nkeeps following when it falls behind a burst: the daemon reads \
         the lines back from the log files, and counts any it cannot (more than 50000 behind, or \
         rotated away) in a\n.B \"\\-\\- N lines of UNIT missing here: ... \\-\\-\"\nline, \
         which is not an error. It exits 0 when the daemon ends the stream.\n",
    );
    s
}

/// The complete roff page.
pub fn page() -> String {
    let mut buf = Vec::new();
    let cmd = Cli::command();
    // Rendering into a Vec cannot fail.
    let _ = clap_mangen::Man::new(cmd).render(&mut buf);
    let mut page = String::from_utf8_lossy(&buf).into_owned();
    page.push_str(&exit_status());
    page.push_str(ENABLEMENT);
    page.push_str(TERMINAL_UI);
    page.push_str(HISTORY);
    page.push_str(DASHBOARD);
    page.push_str(IMPORT);
    page.push_str(MCP);
    page.push_str(FILES);
    page.push_str(EXAMPLES);
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_has_every_section() {
        let p = page();
        for section in [
            "EXIT STATUS",
            "ENABLEMENT AND SESSIONS",
            "TERMINAL UI",
            "RUN HISTORY",
            "FILES",
            "ENVIRONMENT",
            "EXAMPLES",
            ".TH devctl",
        ] {
            assert!(p.contains(section), "missing {section}");
        }
        assert!(p.contains(".B 124"));
    }

    #[test]
    fn committed_page_is_current() {
        let committed =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../man/devctl.1"))
                .unwrap_or_default();
        assert!(
            committed == page(),
            "man/devctl.1 is out of date; regenerate it with `cargo run -p devctl-ctl -- man > man/devctl.1`"
        );
    }
}
