
use builtin;
use str;

set edit:completion:arg-completer[devctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'devctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'devctl'= {
            cand -f 'Use this manifest instead of searching for devctl.kdl upwards (give it before the verb)'
            cand --file 'Use this manifest instead of searching for devctl.kdl upwards (give it before the verb)'
            cand -C 'Run as if devctl was started in DIR (give it before the verb)'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand up 'Bring the project up: every enabled unit, or exactly the named ones (stopping the others)'
            cand down 'Stop every unit of the project (enablement is unchanged)'
            cand start 'Start units now, with what they require; waits until ready'
            cand stop 'Stop units now; waits until stopped'
            cand restart 'Stop then start units'
            cand enable 'Make units part of the project''s default set, persistently'
            cand disable 'Remove units from the project''s default set, persistently'
            cand status 'Show what runs, what is ready, what failed and why'
            cand list 'List units of this project, or of every project with --all'
            cand logs 'Print units'' logs, merged by time'
            cand history 'List past and current runs of units, newest first: id, unit, trigger, start, duration, result and peak memory'
            cand wait 'Wait until units reach a condition'
            cand run 'Run a build in the foreground, stream its output, exit with its exit code'
            cand trigger 'Re-run builds / restart services now, as a file change would'
            cand is-active 'Print each unit''s active state; exit 0 if all are active, 3 otherwise'
            cand is-enabled 'Print each unit''s enablement; exit 0 if all are enabled, 3 otherwise'
            cand is-failed 'Print each unit''s active state; exit 0 if any has failed, 3 otherwise'
            cand show 'Print units'' properties as KEY=VALUE lines'
            cand cat 'Print the compiled unit file of a unit'
            cand check 'Check the manifest; exit 65 with every problem if it is invalid'
            cand compile 'Compile the manifest to unit files (stdout, or files in DIR)'
            cand export 'Compile the manifest for systemd (like `compile --target systemd`); with --install, write the units into the user unit directory and reload the user manager'
            cand reload 'Load the edited manifest into the daemon and apply the difference'
            cand events 'Print the daemon''s events (state changes, spawns, exits) as they happen, until interrupted'
            cand ui 'A full-screen terminal view: units, their logs, and the actions of the CLI, live'
            cand dashboard 'Open the web dashboard: turn it on in devctld (127.0.0.1, a one-time login link), print the link and open a browser when there is a display'
            cand forget 'Stop a project''s units and make the daemon forget it'
            cand daemon 'Control the daemon itself'
            cand completions 'Print a shell completion script'
            cand import 'Write a devctl.kdl from a Procfile, a docker-compose.yml/compose.yaml or a process-compose.yaml; what devctl cannot express is listed as warnings'
            cand mcp 'Serve the Model Context Protocol on stdin/stdout: tools that list, start, stop, restart, trigger, enable and disable units, read logs and check the manifest'
            cand probe 'Run one readiness check until it passes or times out (ExecStartPost= helper for --target systemd)'
            cand man 'Print the devctl(1) manual page (roff)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'devctl;up'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --force 'Run builds even when they are up to date'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;down'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;start'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --force 'Run builds even when they are up to date'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;stop'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;restart'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;enable'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --now 'Also start (enable) or stop (disable) the units now'
            cand --boot 'Change whether the whole project comes up when the daemon starts'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;disable'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --now 'Also start (enable) or stop (disable) the units now'
            cand --boot 'Change whether the whole project comes up when the daemon starts'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;status'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;list'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand -a 'Every project the daemon knows'
            cand --all 'Every project the daemon knows'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;logs'= {
            cand -n 'Print the last N lines'
            cand --lines 'Print the last N lines'
            cand --since 'Only lines newer than DURATION ago (10m) or a TIME (2026-01-02T10:00:00)'
            cand --run 'Only the lines of run ID (as `devctl history` lists it)'
            cand --grep 'Only lines matching REGEX (filtered by the daemon; works with -f)'
            cand --stream 'Only lines of one output stream'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand -f 'Keep printing new lines'
            cand --follow 'Keep printing new lines'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;history'= {
            cand --since 'Only runs started less than DURATION ago (1h) or since a TIME (2026-01-02T10:00:00)'
            cand -n 'At most N runs (default 50, at most 1000)'
            cand --limit 'At most N runs (default 50, at most 1000)'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --failed 'Only runs that ended with another result than success'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;wait'= {
            cand --for 'The condition'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;run'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;trigger'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;is-active'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;is-enabled'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;is-failed'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;show'= {
            cand -P 'Only these properties'
            cand --property 'Only these properties'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;cat'= {
            cand --target 'Print the systemd form instead of devctl''s'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;check'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;compile'= {
            cand -o 'Write the unit files into DIR (created if missing); nothing is written if the manifest is invalid'
            cand --output 'Write the unit files into DIR (created if missing); nothing is written if the manifest is invalid'
            cand --target 'Which unit-file dialect to emit'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;export'= {
            cand -o 'Write the unit files into DIR instead of printing them'
            cand --output 'Write the unit files into DIR instead of printing them'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --install 'Install into $XDG_CONFIG_HOME/systemd/user and reload the user manager over D-Bus (never overwrites a unit file devctl did not generate)'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;reload'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;events'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand -f 'Keep printing new events (always the case: the daemon keeps no event history)'
            cand --follow 'Keep printing new events (always the case: the daemon keeps no event history)'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;ui'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand -a 'Every project the daemon knows (adds a PROJECT column)'
            cand --all 'Every project the daemon knows (adds a PROJECT column)'
            cand --mouse 'Capture the mouse (the wheel scrolls); off by default so text can be selected and copied'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;dashboard'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --no-open 'Print the link only; do not start a browser'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;forget'= {
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;daemon'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run devctld in the foreground'
            cand stop 'Stop the daemon cleanly: every unit is stopped and the session ends'
            cand status 'Print the daemon''s pid, version, hosting (standalone, systemd unit, socket-activated) and session, and the systemd units when installed'
            cand reexec 'Re-execute devctld in place (same pid): its units keep running and are re-adopted, so an upgraded binary takes over without a restart'
            cand install 'Install devctld as a systemd user service (devctld.service, Type=notify, with a watchdog and delegated cgroups, plus devctld.socket) through the user manager''s D-Bus API, and enable it'
            cand uninstall 'Stop, disable and remove the devctld user units (ends the session)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'devctl;daemon;run'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;daemon;stop'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;daemon;status'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;daemon;reexec'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;daemon;install'= {
            cand --watchdog 'The service''s WatchdogSec= (0 disables it); devctld pings at half of it'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --now 'Also start it now'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;daemon;uninstall'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;daemon;help'= {
            cand run 'Run devctld in the foreground'
            cand stop 'Stop the daemon cleanly: every unit is stopped and the session ends'
            cand status 'Print the daemon''s pid, version, hosting (standalone, systemd unit, socket-activated) and session, and the systemd units when installed'
            cand reexec 'Re-execute devctld in place (same pid): its units keep running and are re-adopted, so an upgraded binary takes over without a restart'
            cand install 'Install devctld as a systemd user service (devctld.service, Type=notify, with a watchdog and delegated cgroups, plus devctld.socket) through the user manager''s D-Bus API, and enable it'
            cand uninstall 'Stop, disable and remove the devctld user units (ends the session)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'devctl;daemon;help;run'= {
        }
        &'devctl;daemon;help;stop'= {
        }
        &'devctl;daemon;help;status'= {
        }
        &'devctl;daemon;help;reexec'= {
        }
        &'devctl;daemon;help;install'= {
        }
        &'devctl;daemon;help;uninstall'= {
        }
        &'devctl;daemon;help;help'= {
        }
        &'devctl;completions'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;import'= {
            cand -o 'Where to write the manifest (- prints it)'
            cand --output 'Where to write the manifest (- prints it)'
            cand --format 'The file''s format (default: from its name, then its content)'
            cand --base-port 'Procfile: PORT of the first process type; each next one gets 100 more (as foreman)'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --force 'Replace PATH if it exists'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;mcp'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;probe'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand tcp 'Ready when a TCP connection succeeds (HOST PORT, HOST:PORT or PORT)'
            cand http 'Ready when GET URL answers STATUS (default: any 2xx or 3xx)'
            cand exec 'Ready when the command exits 0'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'devctl;probe;tcp'= {
            cand --period 'Time between attempts'
            cand --initial-delay 'Wait this long before the first attempt'
            cand --success-threshold 'Consecutive successes needed'
            cand --deadline 'Give up (exit 1) after this long; without it, retry until killed'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;probe;http'= {
            cand --status 'The expected status'
            cand --period 'Time between attempts'
            cand --initial-delay 'Wait this long before the first attempt'
            cand --success-threshold 'Consecutive successes needed'
            cand --deadline 'Give up (exit 1) after this long; without it, retry until killed'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;probe;exec'= {
            cand --period 'Time between attempts'
            cand --initial-delay 'Wait this long before the first attempt'
            cand --success-threshold 'Consecutive successes needed'
            cand --deadline 'Give up (exit 1) after this long; without it, retry until killed'
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;probe;help'= {
            cand tcp 'Ready when a TCP connection succeeds (HOST PORT, HOST:PORT or PORT)'
            cand http 'Ready when GET URL answers STATUS (default: any 2xx or 3xx)'
            cand exec 'Ready when the command exits 0'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'devctl;probe;help;tcp'= {
        }
        &'devctl;probe;help;http'= {
        }
        &'devctl;probe;help;exec'= {
        }
        &'devctl;probe;help;help'= {
        }
        &'devctl;man'= {
            cand -p 'Address this project instead of the current directory''s'
            cand --project 'Address this project instead of the current directory''s'
            cand --timeout 'Give up waiting after this long (e.g. 30s, 2m); exit 124'
            cand --json 'Print machine-readable JSON (results and errors)'
            cand --no-block 'Do not wait for units to become ready or stopped'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'devctl;help'= {
            cand up 'Bring the project up: every enabled unit, or exactly the named ones (stopping the others)'
            cand down 'Stop every unit of the project (enablement is unchanged)'
            cand start 'Start units now, with what they require; waits until ready'
            cand stop 'Stop units now; waits until stopped'
            cand restart 'Stop then start units'
            cand enable 'Make units part of the project''s default set, persistently'
            cand disable 'Remove units from the project''s default set, persistently'
            cand status 'Show what runs, what is ready, what failed and why'
            cand list 'List units of this project, or of every project with --all'
            cand logs 'Print units'' logs, merged by time'
            cand history 'List past and current runs of units, newest first: id, unit, trigger, start, duration, result and peak memory'
            cand wait 'Wait until units reach a condition'
            cand run 'Run a build in the foreground, stream its output, exit with its exit code'
            cand trigger 'Re-run builds / restart services now, as a file change would'
            cand is-active 'Print each unit''s active state; exit 0 if all are active, 3 otherwise'
            cand is-enabled 'Print each unit''s enablement; exit 0 if all are enabled, 3 otherwise'
            cand is-failed 'Print each unit''s active state; exit 0 if any has failed, 3 otherwise'
            cand show 'Print units'' properties as KEY=VALUE lines'
            cand cat 'Print the compiled unit file of a unit'
            cand check 'Check the manifest; exit 65 with every problem if it is invalid'
            cand compile 'Compile the manifest to unit files (stdout, or files in DIR)'
            cand export 'Compile the manifest for systemd (like `compile --target systemd`); with --install, write the units into the user unit directory and reload the user manager'
            cand reload 'Load the edited manifest into the daemon and apply the difference'
            cand events 'Print the daemon''s events (state changes, spawns, exits) as they happen, until interrupted'
            cand ui 'A full-screen terminal view: units, their logs, and the actions of the CLI, live'
            cand dashboard 'Open the web dashboard: turn it on in devctld (127.0.0.1, a one-time login link), print the link and open a browser when there is a display'
            cand forget 'Stop a project''s units and make the daemon forget it'
            cand daemon 'Control the daemon itself'
            cand completions 'Print a shell completion script'
            cand import 'Write a devctl.kdl from a Procfile, a docker-compose.yml/compose.yaml or a process-compose.yaml; what devctl cannot express is listed as warnings'
            cand mcp 'Serve the Model Context Protocol on stdin/stdout: tools that list, start, stop, restart, trigger, enable and disable units, read logs and check the manifest'
            cand probe 'Run one readiness check until it passes or times out (ExecStartPost= helper for --target systemd)'
            cand man 'Print the devctl(1) manual page (roff)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'devctl;help;up'= {
        }
        &'devctl;help;down'= {
        }
        &'devctl;help;start'= {
        }
        &'devctl;help;stop'= {
        }
        &'devctl;help;restart'= {
        }
        &'devctl;help;enable'= {
        }
        &'devctl;help;disable'= {
        }
        &'devctl;help;status'= {
        }
        &'devctl;help;list'= {
        }
        &'devctl;help;logs'= {
        }
        &'devctl;help;history'= {
        }
        &'devctl;help;wait'= {
        }
        &'devctl;help;run'= {
        }
        &'devctl;help;trigger'= {
        }
        &'devctl;help;is-active'= {
        }
        &'devctl;help;is-enabled'= {
        }
        &'devctl;help;is-failed'= {
        }
        &'devctl;help;show'= {
        }
        &'devctl;help;cat'= {
        }
        &'devctl;help;check'= {
        }
        &'devctl;help;compile'= {
        }
        &'devctl;help;export'= {
        }
        &'devctl;help;reload'= {
        }
        &'devctl;help;events'= {
        }
        &'devctl;help;ui'= {
        }
        &'devctl;help;dashboard'= {
        }
        &'devctl;help;forget'= {
        }
        &'devctl;help;daemon'= {
            cand run 'Run devctld in the foreground'
            cand stop 'Stop the daemon cleanly: every unit is stopped and the session ends'
            cand status 'Print the daemon''s pid, version, hosting (standalone, systemd unit, socket-activated) and session, and the systemd units when installed'
            cand reexec 'Re-execute devctld in place (same pid): its units keep running and are re-adopted, so an upgraded binary takes over without a restart'
            cand install 'Install devctld as a systemd user service (devctld.service, Type=notify, with a watchdog and delegated cgroups, plus devctld.socket) through the user manager''s D-Bus API, and enable it'
            cand uninstall 'Stop, disable and remove the devctld user units (ends the session)'
        }
        &'devctl;help;daemon;run'= {
        }
        &'devctl;help;daemon;stop'= {
        }
        &'devctl;help;daemon;status'= {
        }
        &'devctl;help;daemon;reexec'= {
        }
        &'devctl;help;daemon;install'= {
        }
        &'devctl;help;daemon;uninstall'= {
        }
        &'devctl;help;completions'= {
        }
        &'devctl;help;import'= {
        }
        &'devctl;help;mcp'= {
        }
        &'devctl;help;probe'= {
            cand tcp 'Ready when a TCP connection succeeds (HOST PORT, HOST:PORT or PORT)'
            cand http 'Ready when GET URL answers STATUS (default: any 2xx or 3xx)'
            cand exec 'Ready when the command exits 0'
        }
        &'devctl;help;probe;tcp'= {
        }
        &'devctl;help;probe;http'= {
        }
        &'devctl;help;probe;exec'= {
        }
        &'devctl;help;man'= {
        }
        &'devctl;help;help'= {
        }
    ]
    $completions[$command]
}
