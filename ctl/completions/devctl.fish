# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_devctl_global_optspecs
    string join \n f/file= C= p/project= json no-block timeout= q/quiet h/help V/version
end

function __fish_devctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_devctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_devctl_using_subcommand
    set -l cmd (__fish_devctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c devctl -n "__fish_devctl_needs_command" -s f -l file -d 'Use this manifest instead of searching for devctl.kdl upwards (give it before the verb)' -r -F
complete -c devctl -n "__fish_devctl_needs_command" -s C -d 'Run as if devctl was started in DIR (give it before the verb)' -r -F
complete -c devctl -n "__fish_devctl_needs_command" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_needs_command" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_needs_command" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_needs_command" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_needs_command" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c devctl -n "__fish_devctl_needs_command" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "up" -d 'Bring the project up: every enabled unit, or exactly the named ones (stopping the others)'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "down" -d 'Stop every unit of the project (enablement is unchanged)'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "start" -d 'Start units now, with what they require; waits until ready'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "stop" -d 'Stop units now; waits until stopped'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "restart" -d 'Stop then start units'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "enable" -d 'Make units part of the project\'s default set, persistently'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "disable" -d 'Remove units from the project\'s default set, persistently'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "status" -d 'Show what runs, what is ready, what failed and why'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "list" -d 'List units of this project, or of every project with --all'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "logs" -d 'Print units\' logs, merged by time'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "history" -d 'List past and current runs of units, newest first: id, unit, trigger, start, duration, result and peak memory'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "wait" -d 'Wait until units reach a condition'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "run" -d 'Run a build in the foreground, stream its output, exit with its exit code'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "trigger" -d 'Re-run builds / restart services now, as a file change would'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "is-active" -d 'Print each unit\'s active state; exit 0 if all are active, 3 otherwise'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "is-enabled" -d 'Print each unit\'s enablement; exit 0 if all are enabled, 3 otherwise'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "is-failed" -d 'Print each unit\'s active state; exit 0 if any has failed, 3 otherwise'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "show" -d 'Print units\' properties as KEY=VALUE lines'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "cat" -d 'Print the compiled unit file of a unit'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "check" -d 'Check the manifest; exit 65 with every problem if it is invalid'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "compile" -d 'Compile the manifest to unit files (stdout, or files in DIR)'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "export" -d 'Compile the manifest for systemd (like `compile --target systemd`); with --install, write the units into the user unit directory and reload the user manager'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "reload" -d 'Load the edited manifest into the daemon and apply the difference'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "events" -d 'Print the daemon\'s events (state changes, spawns, exits) as they happen, until interrupted'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "ui" -d 'A full-screen terminal view: units, their logs, and the actions of the CLI, live'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "dashboard" -d 'Open the web dashboard: turn it on in devctld (127.0.0.1, a one-time login link), print the link and open a browser when there is a display'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "forget" -d 'Stop a project\'s units and make the daemon forget it'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "daemon" -d 'Control the daemon itself'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "import" -d 'Write a devctl.kdl from a Procfile, a docker-compose.yml/compose.yaml or a process-compose.yaml; what devctl cannot express is listed as warnings'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "mcp" -d 'Serve the Model Context Protocol on stdin/stdout: tools that list, start, stop, restart, trigger, enable and disable units, read logs and check the manifest'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "probe" -d 'Run one readiness check until it passes or times out (ExecStartPost= helper for --target systemd)'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "man" -d 'Print the devctl(1) manual page (roff)'
complete -c devctl -n "__fish_devctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c devctl -n "__fish_devctl_using_subcommand up" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand up" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand up" -l force -d 'Run builds even when they are up to date'
complete -c devctl -n "__fish_devctl_using_subcommand up" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand up" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand up" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand up" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand up" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand down" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand down" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand down" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand down" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand down" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand down" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand down" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand start" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand start" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand start" -l force -d 'Run builds even when they are up to date'
complete -c devctl -n "__fish_devctl_using_subcommand start" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand start" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand start" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand start" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand start" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand stop" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand stop" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand stop" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand stop" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand stop" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand stop" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand stop" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand restart" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand restart" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand restart" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand restart" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand restart" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand restart" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand restart" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand enable" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand enable" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand enable" -l now -d 'Also start (enable) or stop (disable) the units now'
complete -c devctl -n "__fish_devctl_using_subcommand enable" -l boot -d 'Change whether the whole project comes up when the daemon starts'
complete -c devctl -n "__fish_devctl_using_subcommand enable" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand enable" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand enable" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand enable" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand enable" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand disable" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand disable" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand disable" -l now -d 'Also start (enable) or stop (disable) the units now'
complete -c devctl -n "__fish_devctl_using_subcommand disable" -l boot -d 'Change whether the whole project comes up when the daemon starts'
complete -c devctl -n "__fish_devctl_using_subcommand disable" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand disable" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand disable" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand disable" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand disable" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand status" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand status" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand status" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand status" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand status" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand status" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand status" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand list" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand list" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand list" -s a -l all -d 'Every project the daemon knows'
complete -c devctl -n "__fish_devctl_using_subcommand list" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand list" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand list" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand list" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand list" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand logs" -s n -l lines -d 'Print the last N lines' -r
complete -c devctl -n "__fish_devctl_using_subcommand logs" -l since -d 'Only lines newer than DURATION ago (10m) or a TIME (2026-01-02T10:00:00)' -r
complete -c devctl -n "__fish_devctl_using_subcommand logs" -l run -d 'Only the lines of run ID (as `devctl history` lists it)' -r
complete -c devctl -n "__fish_devctl_using_subcommand logs" -l grep -d 'Only lines matching REGEX (filtered by the daemon; works with -f)' -r
complete -c devctl -n "__fish_devctl_using_subcommand logs" -l stream -d 'Only lines of one output stream' -r -f -a "stdout\t''
stderr\t''"
complete -c devctl -n "__fish_devctl_using_subcommand logs" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand logs" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand logs" -s f -l follow -d 'Keep printing new lines'
complete -c devctl -n "__fish_devctl_using_subcommand logs" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand logs" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand logs" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c devctl -n "__fish_devctl_using_subcommand logs" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand history" -l since -d 'Only runs started less than DURATION ago (1h) or since a TIME (2026-01-02T10:00:00)' -r
complete -c devctl -n "__fish_devctl_using_subcommand history" -s n -l limit -d 'At most N runs (default 50, at most 1000)' -r
complete -c devctl -n "__fish_devctl_using_subcommand history" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand history" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand history" -l failed -d 'Only runs that ended with another result than success'
complete -c devctl -n "__fish_devctl_using_subcommand history" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand history" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand history" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand history" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand history" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand wait" -l for -d 'The condition' -r -f -a "ready\t''
active\t''
inactive\t''
succeeded\t''
failed\t''"
complete -c devctl -n "__fish_devctl_using_subcommand wait" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand wait" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand wait" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand wait" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand wait" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand wait" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand wait" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand run" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand run" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand run" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand run" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand run" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand run" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand run" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand trigger" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand trigger" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand trigger" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand trigger" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand trigger" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand trigger" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand trigger" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand is-active" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand is-active" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand is-active" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand is-active" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand is-active" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand is-active" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand is-active" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand is-enabled" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand is-enabled" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand is-enabled" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand is-enabled" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand is-enabled" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand is-enabled" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand is-enabled" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand is-failed" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand is-failed" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand is-failed" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand is-failed" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand is-failed" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand is-failed" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand is-failed" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand show" -s P -l property -d 'Only these properties' -r
complete -c devctl -n "__fish_devctl_using_subcommand show" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand show" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand show" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand show" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand show" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand show" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand show" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand cat" -l target -d 'Print the systemd form instead of devctl\'s' -r -f -a "devctl\t'devctl\'s unit files (what devctld loads)'
systemd\t'Plain systemd user units (for systemctl --user)'"
complete -c devctl -n "__fish_devctl_using_subcommand cat" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand cat" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand cat" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand cat" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand cat" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand cat" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c devctl -n "__fish_devctl_using_subcommand cat" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand check" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand check" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand check" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand check" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand check" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand check" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand check" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand compile" -s o -l output -d 'Write the unit files into DIR (created if missing); nothing is written if the manifest is invalid' -r -F
complete -c devctl -n "__fish_devctl_using_subcommand compile" -l target -d 'Which unit-file dialect to emit' -r -f -a "devctl\t'devctl\'s unit files (what devctld loads)'
systemd\t'Plain systemd user units (for systemctl --user)'"
complete -c devctl -n "__fish_devctl_using_subcommand compile" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand compile" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand compile" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand compile" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand compile" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand compile" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c devctl -n "__fish_devctl_using_subcommand compile" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand export" -s o -l output -d 'Write the unit files into DIR instead of printing them' -r -F
complete -c devctl -n "__fish_devctl_using_subcommand export" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand export" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand export" -l install -d 'Install into $XDG_CONFIG_HOME/systemd/user and reload the user manager over D-Bus (never overwrites a unit file devctl did not generate)'
complete -c devctl -n "__fish_devctl_using_subcommand export" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand export" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand export" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand export" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand export" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand reload" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand reload" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand reload" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand reload" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand reload" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand reload" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand reload" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand events" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand events" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand events" -s f -l follow -d 'Keep printing new events (always the case: the daemon keeps no event history)'
complete -c devctl -n "__fish_devctl_using_subcommand events" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand events" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand events" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand events" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand events" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand ui" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand ui" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand ui" -s a -l all -d 'Every project the daemon knows (adds a PROJECT column)'
complete -c devctl -n "__fish_devctl_using_subcommand ui" -l mouse -d 'Capture the mouse (the wheel scrolls); off by default so text can be selected and copied'
complete -c devctl -n "__fish_devctl_using_subcommand ui" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand ui" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand ui" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand ui" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c devctl -n "__fish_devctl_using_subcommand ui" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand dashboard" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand dashboard" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand dashboard" -l no-open -d 'Print the link only; do not start a browser'
complete -c devctl -n "__fish_devctl_using_subcommand dashboard" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand dashboard" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand dashboard" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand dashboard" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c devctl -n "__fish_devctl_using_subcommand dashboard" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand forget" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand forget" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand forget" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand forget" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand forget" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand forget" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -f -a "run" -d 'Run devctld in the foreground'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -f -a "stop" -d 'Stop the daemon cleanly: every unit is stopped and the session ends'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -f -a "status" -d 'Print the daemon\'s pid, version, hosting (standalone, systemd unit, socket-activated) and session, and the systemd units when installed'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -f -a "reexec" -d 'Re-execute devctld in place (same pid): its units keep running and are re-adopted, so an upgraded binary takes over without a restart'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -f -a "install" -d 'Install devctld as a systemd user service (devctld.service, Type=notify, with a watchdog and delegated cgroups, plus devctld.socket) through the user manager\'s D-Bus API, and enable it'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -f -a "uninstall" -d 'Stop, disable and remove the devctld user units (ends the session)'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and not __fish_seen_subcommand_from run stop status reexec install uninstall help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from run" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from run" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from run" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from run" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from reexec" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from reexec" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from reexec" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from reexec" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from reexec" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from reexec" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from reexec" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from install" -l watchdog -d 'The service\'s WatchdogSec= (0 disables it); devctld pings at half of it' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from install" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from install" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from install" -l now -d 'Also start it now'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from install" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from install" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from install" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run devctld in the foreground'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Stop the daemon cleanly: every unit is stopped and the session ends'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "status" -d 'Print the daemon\'s pid, version, hosting (standalone, systemd unit, socket-activated) and session, and the systemd units when installed'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "reexec" -d 'Re-execute devctld in place (same pid): its units keep running and are re-adopted, so an upgraded binary takes over without a restart'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "install" -d 'Install devctld as a systemd user service (devctld.service, Type=notify, with a watchdog and delegated cgroups, plus devctld.socket) through the user manager\'s D-Bus API, and enable it'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "uninstall" -d 'Stop, disable and remove the devctld user units (ends the session)'
complete -c devctl -n "__fish_devctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c devctl -n "__fish_devctl_using_subcommand completions" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand completions" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand completions" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand completions" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand completions" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand import" -s o -l output -d 'Where to write the manifest (- prints it)' -r -F
complete -c devctl -n "__fish_devctl_using_subcommand import" -l format -d 'The file\'s format (default: from its name, then its content)' -r -f -a "procfile\t'foreman / honcho / overmind `name: command` lines'
compose\t'docker-compose.yml / compose.yaml'
process-compose\t'process-compose.yaml'"
complete -c devctl -n "__fish_devctl_using_subcommand import" -l base-port -d 'Procfile: PORT of the first process type; each next one gets 100 more (as foreman)' -r
complete -c devctl -n "__fish_devctl_using_subcommand import" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand import" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand import" -l force -d 'Replace PATH if it exists'
complete -c devctl -n "__fish_devctl_using_subcommand import" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand import" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand import" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c devctl -n "__fish_devctl_using_subcommand import" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand mcp" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand mcp" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand mcp" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand mcp" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand mcp" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand mcp" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand mcp" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and not __fish_seen_subcommand_from tcp http exec help" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and not __fish_seen_subcommand_from tcp http exec help" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and not __fish_seen_subcommand_from tcp http exec help" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and not __fish_seen_subcommand_from tcp http exec help" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and not __fish_seen_subcommand_from tcp http exec help" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and not __fish_seen_subcommand_from tcp http exec help" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and not __fish_seen_subcommand_from tcp http exec help" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and not __fish_seen_subcommand_from tcp http exec help" -f -a "tcp" -d 'Ready when a TCP connection succeeds (HOST PORT, HOST:PORT or PORT)'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and not __fish_seen_subcommand_from tcp http exec help" -f -a "http" -d 'Ready when GET URL answers STATUS (default: any 2xx or 3xx)'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and not __fish_seen_subcommand_from tcp http exec help" -f -a "exec" -d 'Ready when the command exits 0'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and not __fish_seen_subcommand_from tcp http exec help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from tcp" -l period -d 'Time between attempts' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from tcp" -l initial-delay -d 'Wait this long before the first attempt' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from tcp" -l success-threshold -d 'Consecutive successes needed' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from tcp" -l deadline -d 'Give up (exit 1) after this long; without it, retry until killed' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from tcp" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from tcp" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from tcp" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from tcp" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from tcp" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from tcp" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from tcp" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from http" -l status -d 'The expected status' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from http" -l period -d 'Time between attempts' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from http" -l initial-delay -d 'Wait this long before the first attempt' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from http" -l success-threshold -d 'Consecutive successes needed' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from http" -l deadline -d 'Give up (exit 1) after this long; without it, retry until killed' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from http" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from http" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from http" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from http" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from http" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from http" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from http" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from exec" -l period -d 'Time between attempts' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from exec" -l initial-delay -d 'Wait this long before the first attempt' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from exec" -l success-threshold -d 'Consecutive successes needed' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from exec" -l deadline -d 'Give up (exit 1) after this long; without it, retry until killed' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from exec" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from exec" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from exec" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from exec" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from exec" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from exec" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from exec" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from help" -f -a "tcp" -d 'Ready when a TCP connection succeeds (HOST PORT, HOST:PORT or PORT)'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from help" -f -a "http" -d 'Ready when GET URL answers STATUS (default: any 2xx or 3xx)'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from help" -f -a "exec" -d 'Ready when the command exits 0'
complete -c devctl -n "__fish_devctl_using_subcommand probe; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c devctl -n "__fish_devctl_using_subcommand man" -s p -l project -d 'Address this project instead of the current directory\'s' -r
complete -c devctl -n "__fish_devctl_using_subcommand man" -l timeout -d 'Give up waiting after this long (e.g. 30s, 2m); exit 124' -r
complete -c devctl -n "__fish_devctl_using_subcommand man" -l json -d 'Print machine-readable JSON (results and errors)'
complete -c devctl -n "__fish_devctl_using_subcommand man" -l no-block -d 'Do not wait for units to become ready or stopped'
complete -c devctl -n "__fish_devctl_using_subcommand man" -s q -l quiet -d 'Print only errors'
complete -c devctl -n "__fish_devctl_using_subcommand man" -s h -l help -d 'Print help'
complete -c devctl -n "__fish_devctl_using_subcommand man" -s V -l version -d 'Print version'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "up" -d 'Bring the project up: every enabled unit, or exactly the named ones (stopping the others)'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "down" -d 'Stop every unit of the project (enablement is unchanged)'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "start" -d 'Start units now, with what they require; waits until ready'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "stop" -d 'Stop units now; waits until stopped'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "restart" -d 'Stop then start units'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "enable" -d 'Make units part of the project\'s default set, persistently'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "disable" -d 'Remove units from the project\'s default set, persistently'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "status" -d 'Show what runs, what is ready, what failed and why'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "list" -d 'List units of this project, or of every project with --all'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "logs" -d 'Print units\' logs, merged by time'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "history" -d 'List past and current runs of units, newest first: id, unit, trigger, start, duration, result and peak memory'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "wait" -d 'Wait until units reach a condition'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "run" -d 'Run a build in the foreground, stream its output, exit with its exit code'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "trigger" -d 'Re-run builds / restart services now, as a file change would'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "is-active" -d 'Print each unit\'s active state; exit 0 if all are active, 3 otherwise'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "is-enabled" -d 'Print each unit\'s enablement; exit 0 if all are enabled, 3 otherwise'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "is-failed" -d 'Print each unit\'s active state; exit 0 if any has failed, 3 otherwise'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "show" -d 'Print units\' properties as KEY=VALUE lines'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "cat" -d 'Print the compiled unit file of a unit'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "check" -d 'Check the manifest; exit 65 with every problem if it is invalid'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "compile" -d 'Compile the manifest to unit files (stdout, or files in DIR)'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "export" -d 'Compile the manifest for systemd (like `compile --target systemd`); with --install, write the units into the user unit directory and reload the user manager'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "reload" -d 'Load the edited manifest into the daemon and apply the difference'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "events" -d 'Print the daemon\'s events (state changes, spawns, exits) as they happen, until interrupted'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "ui" -d 'A full-screen terminal view: units, their logs, and the actions of the CLI, live'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "dashboard" -d 'Open the web dashboard: turn it on in devctld (127.0.0.1, a one-time login link), print the link and open a browser when there is a display'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "forget" -d 'Stop a project\'s units and make the daemon forget it'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "daemon" -d 'Control the daemon itself'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "completions" -d 'Print a shell completion script'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "import" -d 'Write a devctl.kdl from a Procfile, a docker-compose.yml/compose.yaml or a process-compose.yaml; what devctl cannot express is listed as warnings'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "mcp" -d 'Serve the Model Context Protocol on stdin/stdout: tools that list, start, stop, restart, trigger, enable and disable units, read logs and check the manifest'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "probe" -d 'Run one readiness check until it passes or times out (ExecStartPost= helper for --target systemd)'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "man" -d 'Print the devctl(1) manual page (roff)'
complete -c devctl -n "__fish_devctl_using_subcommand help; and not __fish_seen_subcommand_from up down start stop restart enable disable status list logs history wait run trigger is-active is-enabled is-failed show cat check compile export reload events ui dashboard forget daemon completions import mcp probe man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c devctl -n "__fish_devctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "run" -d 'Run devctld in the foreground'
complete -c devctl -n "__fish_devctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "stop" -d 'Stop the daemon cleanly: every unit is stopped and the session ends'
complete -c devctl -n "__fish_devctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "status" -d 'Print the daemon\'s pid, version, hosting (standalone, systemd unit, socket-activated) and session, and the systemd units when installed'
complete -c devctl -n "__fish_devctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "reexec" -d 'Re-execute devctld in place (same pid): its units keep running and are re-adopted, so an upgraded binary takes over without a restart'
complete -c devctl -n "__fish_devctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "install" -d 'Install devctld as a systemd user service (devctld.service, Type=notify, with a watchdog and delegated cgroups, plus devctld.socket) through the user manager\'s D-Bus API, and enable it'
complete -c devctl -n "__fish_devctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "uninstall" -d 'Stop, disable and remove the devctld user units (ends the session)'
complete -c devctl -n "__fish_devctl_using_subcommand help; and __fish_seen_subcommand_from probe" -f -a "tcp" -d 'Ready when a TCP connection succeeds (HOST PORT, HOST:PORT or PORT)'
complete -c devctl -n "__fish_devctl_using_subcommand help; and __fish_seen_subcommand_from probe" -f -a "http" -d 'Ready when GET URL answers STATUS (default: any 2xx or 3xx)'
complete -c devctl -n "__fish_devctl_using_subcommand help; and __fish_seen_subcommand_from probe" -f -a "exec" -d 'Ready when the command exits 0'
