
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'devctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'devctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'devctl' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Use this manifest instead of searching for devctl.kdl upwards (give it before the verb)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Use this manifest instead of searching for devctl.kdl upwards (give it before the verb)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if devctl was started in DIR (give it before the verb)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Bring the project up: every enabled unit, or exactly the named ones (stopping the others)')
            [CompletionResult]::new('down', 'down', [CompletionResultType]::ParameterValue, 'Stop every unit of the project (enablement is unchanged)')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start units now, with what they require; waits until ready')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop units now; waits until stopped')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Stop then start units')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Make units part of the project''s default set, persistently')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Remove units from the project''s default set, persistently')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show what runs, what is ready, what failed and why')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List units of this project, or of every project with --all')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print units'' logs, merged by time')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List past and current runs of units, newest first: id, unit, trigger, start, duration, result and peak memory')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until units reach a condition')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a build in the foreground, stream its output, exit with its exit code')
            [CompletionResult]::new('trigger', 'trigger', [CompletionResultType]::ParameterValue, 'Re-run builds / restart services now, as a file change would')
            [CompletionResult]::new('is-active', 'is-active', [CompletionResultType]::ParameterValue, 'Print each unit''s active state; exit 0 if all are active, 3 otherwise')
            [CompletionResult]::new('is-enabled', 'is-enabled', [CompletionResultType]::ParameterValue, 'Print each unit''s enablement; exit 0 if all are enabled, 3 otherwise')
            [CompletionResult]::new('is-failed', 'is-failed', [CompletionResultType]::ParameterValue, 'Print each unit''s active state; exit 0 if any has failed, 3 otherwise')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print units'' properties as KEY=VALUE lines')
            [CompletionResult]::new('cat', 'cat', [CompletionResultType]::ParameterValue, 'Print the compiled unit file of a unit')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the manifest; exit 65 with every problem if it is invalid')
            [CompletionResult]::new('compile', 'compile', [CompletionResultType]::ParameterValue, 'Compile the manifest to unit files (stdout, or files in DIR)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Compile the manifest for systemd (like `compile --target systemd`); with --install, write the units into the user unit directory and reload the user manager')
            [CompletionResult]::new('reload', 'reload', [CompletionResultType]::ParameterValue, 'Load the edited manifest into the daemon and apply the difference')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'Print the daemon''s events (state changes, spawns, exits) as they happen, until interrupted')
            [CompletionResult]::new('ui', 'ui', [CompletionResultType]::ParameterValue, 'A full-screen terminal view: units, their logs, and the actions of the CLI, live')
            [CompletionResult]::new('dashboard', 'dashboard', [CompletionResultType]::ParameterValue, 'Open the web dashboard: turn it on in devctld (127.0.0.1, a one-time login link), print the link and open a browser when there is a display')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Stop a project''s units and make the daemon forget it')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Control the daemon itself')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Write a devctl.kdl from a Procfile, a docker-compose.yml/compose.yaml or a process-compose.yaml; what devctl cannot express is listed as warnings')
            [CompletionResult]::new('mcp', 'mcp', [CompletionResultType]::ParameterValue, 'Serve the Model Context Protocol on stdin/stdout: tools that list, start, stop, restart, trigger, enable and disable units, read logs and check the manifest')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Run one readiness check until it passes or times out (ExecStartPost= helper for --target systemd)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the devctl(1) manual page (roff)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'devctl;up' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Run builds even when they are up to date')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;down' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;start' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Run builds even when they are up to date')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;stop' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;restart' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;enable' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Also start (enable) or stop (disable) the units now')
            [CompletionResult]::new('--boot', '--boot', [CompletionResultType]::ParameterName, 'Change whether the whole project comes up when the daemon starts')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;disable' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Also start (enable) or stop (disable) the units now')
            [CompletionResult]::new('--boot', '--boot', [CompletionResultType]::ParameterName, 'Change whether the whole project comes up when the daemon starts')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;status' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;list' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Every project the daemon knows')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every project the daemon knows')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;logs' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Print the last N lines')
            [CompletionResult]::new('--lines', '--lines', [CompletionResultType]::ParameterName, 'Print the last N lines')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only lines newer than DURATION ago (10m) or a TIME (2026-01-02T10:00:00)')
            [CompletionResult]::new('--run', '--run', [CompletionResultType]::ParameterName, 'Only the lines of run ID (as `devctl history` lists it)')
            [CompletionResult]::new('--grep', '--grep', [CompletionResultType]::ParameterName, 'Only lines matching REGEX (filtered by the daemon; works with -f)')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Only lines of one output stream')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing new lines')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing new lines')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;history' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only runs started less than DURATION ago (1h) or since a TIME (2026-01-02T10:00:00)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'At most N runs (default 50, at most 1000)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most N runs (default 50, at most 1000)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'Only runs that ended with another result than success')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;wait' {
            [CompletionResult]::new('--for', '--for', [CompletionResultType]::ParameterName, 'The condition')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;run' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;trigger' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;is-active' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;is-enabled' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;is-failed' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;show' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Only these properties')
            [CompletionResult]::new('--property', '--property', [CompletionResultType]::ParameterName, 'Only these properties')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;cat' {
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Print the systemd form instead of devctl''s')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;check' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;compile' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the unit files into DIR (created if missing); nothing is written if the manifest is invalid')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the unit files into DIR (created if missing); nothing is written if the manifest is invalid')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Which unit-file dialect to emit')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;export' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the unit files into DIR instead of printing them')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the unit files into DIR instead of printing them')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--install', '--install', [CompletionResultType]::ParameterName, 'Install into $XDG_CONFIG_HOME/systemd/user and reload the user manager over D-Bus (never overwrites a unit file devctl did not generate)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;reload' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;events' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing new events (always the case: the daemon keeps no event history)')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing new events (always the case: the daemon keeps no event history)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;ui' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Every project the daemon knows (adds a PROJECT column)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every project the daemon knows (adds a PROJECT column)')
            [CompletionResult]::new('--mouse', '--mouse', [CompletionResultType]::ParameterName, 'Capture the mouse (the wheel scrolls); off by default so text can be selected and copied')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;dashboard' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--no-open', '--no-open', [CompletionResultType]::ParameterName, 'Print the link only; do not start a browser')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;forget' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;daemon' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run devctld in the foreground')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the daemon cleanly: every unit is stopped and the session ends')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Print the daemon''s pid, version, hosting (standalone, systemd unit, socket-activated) and session, and the systemd units when installed')
            [CompletionResult]::new('reexec', 'reexec', [CompletionResultType]::ParameterValue, 'Re-execute devctld in place (same pid): its units keep running and are re-adopted, so an upgraded binary takes over without a restart')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install devctld as a systemd user service (devctld.service, Type=notify, with a watchdog and delegated cgroups, plus devctld.socket) through the user manager''s D-Bus API, and enable it')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop, disable and remove the devctld user units (ends the session)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'devctl;daemon;run' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;daemon;stop' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;daemon;status' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;daemon;reexec' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;daemon;install' {
            [CompletionResult]::new('--watchdog', '--watchdog', [CompletionResultType]::ParameterName, 'The service''s WatchdogSec= (0 disables it); devctld pings at half of it')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Also start it now')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;daemon;uninstall' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;daemon;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run devctld in the foreground')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the daemon cleanly: every unit is stopped and the session ends')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Print the daemon''s pid, version, hosting (standalone, systemd unit, socket-activated) and session, and the systemd units when installed')
            [CompletionResult]::new('reexec', 'reexec', [CompletionResultType]::ParameterValue, 'Re-execute devctld in place (same pid): its units keep running and are re-adopted, so an upgraded binary takes over without a restart')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install devctld as a systemd user service (devctld.service, Type=notify, with a watchdog and delegated cgroups, plus devctld.socket) through the user manager''s D-Bus API, and enable it')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop, disable and remove the devctld user units (ends the session)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'devctl;daemon;help;run' {
            break
        }
        'devctl;daemon;help;stop' {
            break
        }
        'devctl;daemon;help;status' {
            break
        }
        'devctl;daemon;help;reexec' {
            break
        }
        'devctl;daemon;help;install' {
            break
        }
        'devctl;daemon;help;uninstall' {
            break
        }
        'devctl;daemon;help;help' {
            break
        }
        'devctl;completions' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;import' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write the manifest (- prints it)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Where to write the manifest (- prints it)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The file''s format (default: from its name, then its content)')
            [CompletionResult]::new('--base-port', '--base-port', [CompletionResultType]::ParameterName, 'Procfile: PORT of the first process type; each next one gets 100 more (as foreman)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace PATH if it exists')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;mcp' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;probe' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('tcp', 'tcp', [CompletionResultType]::ParameterValue, 'Ready when a TCP connection succeeds (HOST PORT, HOST:PORT or PORT)')
            [CompletionResult]::new('http', 'http', [CompletionResultType]::ParameterValue, 'Ready when GET URL answers STATUS (default: any 2xx or 3xx)')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Ready when the command exits 0')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'devctl;probe;tcp' {
            [CompletionResult]::new('--period', '--period', [CompletionResultType]::ParameterName, 'Time between attempts')
            [CompletionResult]::new('--initial-delay', '--initial-delay', [CompletionResultType]::ParameterName, 'Wait this long before the first attempt')
            [CompletionResult]::new('--success-threshold', '--success-threshold', [CompletionResultType]::ParameterName, 'Consecutive successes needed')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Give up (exit 1) after this long; without it, retry until killed')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;probe;http' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'The expected status')
            [CompletionResult]::new('--period', '--period', [CompletionResultType]::ParameterName, 'Time between attempts')
            [CompletionResult]::new('--initial-delay', '--initial-delay', [CompletionResultType]::ParameterName, 'Wait this long before the first attempt')
            [CompletionResult]::new('--success-threshold', '--success-threshold', [CompletionResultType]::ParameterName, 'Consecutive successes needed')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Give up (exit 1) after this long; without it, retry until killed')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;probe;exec' {
            [CompletionResult]::new('--period', '--period', [CompletionResultType]::ParameterName, 'Time between attempts')
            [CompletionResult]::new('--initial-delay', '--initial-delay', [CompletionResultType]::ParameterName, 'Wait this long before the first attempt')
            [CompletionResult]::new('--success-threshold', '--success-threshold', [CompletionResultType]::ParameterName, 'Consecutive successes needed')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Give up (exit 1) after this long; without it, retry until killed')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;probe;help' {
            [CompletionResult]::new('tcp', 'tcp', [CompletionResultType]::ParameterValue, 'Ready when a TCP connection succeeds (HOST PORT, HOST:PORT or PORT)')
            [CompletionResult]::new('http', 'http', [CompletionResultType]::ParameterValue, 'Ready when GET URL answers STATUS (default: any 2xx or 3xx)')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Ready when the command exits 0')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'devctl;probe;help;tcp' {
            break
        }
        'devctl;probe;help;http' {
            break
        }
        'devctl;probe;help;exec' {
            break
        }
        'devctl;probe;help;help' {
            break
        }
        'devctl;man' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Address this project instead of the current directory''s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting after this long (e.g. 30s, 2m); exit 124')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON (results and errors)')
            [CompletionResult]::new('--no-block', '--no-block', [CompletionResultType]::ParameterName, 'Do not wait for units to become ready or stopped')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'devctl;help' {
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Bring the project up: every enabled unit, or exactly the named ones (stopping the others)')
            [CompletionResult]::new('down', 'down', [CompletionResultType]::ParameterValue, 'Stop every unit of the project (enablement is unchanged)')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start units now, with what they require; waits until ready')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop units now; waits until stopped')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Stop then start units')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Make units part of the project''s default set, persistently')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Remove units from the project''s default set, persistently')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show what runs, what is ready, what failed and why')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List units of this project, or of every project with --all')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print units'' logs, merged by time')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List past and current runs of units, newest first: id, unit, trigger, start, duration, result and peak memory')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until units reach a condition')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a build in the foreground, stream its output, exit with its exit code')
            [CompletionResult]::new('trigger', 'trigger', [CompletionResultType]::ParameterValue, 'Re-run builds / restart services now, as a file change would')
            [CompletionResult]::new('is-active', 'is-active', [CompletionResultType]::ParameterValue, 'Print each unit''s active state; exit 0 if all are active, 3 otherwise')
            [CompletionResult]::new('is-enabled', 'is-enabled', [CompletionResultType]::ParameterValue, 'Print each unit''s enablement; exit 0 if all are enabled, 3 otherwise')
            [CompletionResult]::new('is-failed', 'is-failed', [CompletionResultType]::ParameterValue, 'Print each unit''s active state; exit 0 if any has failed, 3 otherwise')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print units'' properties as KEY=VALUE lines')
            [CompletionResult]::new('cat', 'cat', [CompletionResultType]::ParameterValue, 'Print the compiled unit file of a unit')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the manifest; exit 65 with every problem if it is invalid')
            [CompletionResult]::new('compile', 'compile', [CompletionResultType]::ParameterValue, 'Compile the manifest to unit files (stdout, or files in DIR)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Compile the manifest for systemd (like `compile --target systemd`); with --install, write the units into the user unit directory and reload the user manager')
            [CompletionResult]::new('reload', 'reload', [CompletionResultType]::ParameterValue, 'Load the edited manifest into the daemon and apply the difference')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'Print the daemon''s events (state changes, spawns, exits) as they happen, until interrupted')
            [CompletionResult]::new('ui', 'ui', [CompletionResultType]::ParameterValue, 'A full-screen terminal view: units, their logs, and the actions of the CLI, live')
            [CompletionResult]::new('dashboard', 'dashboard', [CompletionResultType]::ParameterValue, 'Open the web dashboard: turn it on in devctld (127.0.0.1, a one-time login link), print the link and open a browser when there is a display')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Stop a project''s units and make the daemon forget it')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Control the daemon itself')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Write a devctl.kdl from a Procfile, a docker-compose.yml/compose.yaml or a process-compose.yaml; what devctl cannot express is listed as warnings')
            [CompletionResult]::new('mcp', 'mcp', [CompletionResultType]::ParameterValue, 'Serve the Model Context Protocol on stdin/stdout: tools that list, start, stop, restart, trigger, enable and disable units, read logs and check the manifest')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Run one readiness check until it passes or times out (ExecStartPost= helper for --target systemd)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the devctl(1) manual page (roff)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'devctl;help;up' {
            break
        }
        'devctl;help;down' {
            break
        }
        'devctl;help;start' {
            break
        }
        'devctl;help;stop' {
            break
        }
        'devctl;help;restart' {
            break
        }
        'devctl;help;enable' {
            break
        }
        'devctl;help;disable' {
            break
        }
        'devctl;help;status' {
            break
        }
        'devctl;help;list' {
            break
        }
        'devctl;help;logs' {
            break
        }
        'devctl;help;history' {
            break
        }
        'devctl;help;wait' {
            break
        }
        'devctl;help;run' {
            break
        }
        'devctl;help;trigger' {
            break
        }
        'devctl;help;is-active' {
            break
        }
        'devctl;help;is-enabled' {
            break
        }
        'devctl;help;is-failed' {
            break
        }
        'devctl;help;show' {
            break
        }
        'devctl;help;cat' {
            break
        }
        'devctl;help;check' {
            break
        }
        'devctl;help;compile' {
            break
        }
        'devctl;help;export' {
            break
        }
        'devctl;help;reload' {
            break
        }
        'devctl;help;events' {
            break
        }
        'devctl;help;ui' {
            break
        }
        'devctl;help;dashboard' {
            break
        }
        'devctl;help;forget' {
            break
        }
        'devctl;help;daemon' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run devctld in the foreground')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the daemon cleanly: every unit is stopped and the session ends')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Print the daemon''s pid, version, hosting (standalone, systemd unit, socket-activated) and session, and the systemd units when installed')
            [CompletionResult]::new('reexec', 'reexec', [CompletionResultType]::ParameterValue, 'Re-execute devctld in place (same pid): its units keep running and are re-adopted, so an upgraded binary takes over without a restart')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install devctld as a systemd user service (devctld.service, Type=notify, with a watchdog and delegated cgroups, plus devctld.socket) through the user manager''s D-Bus API, and enable it')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop, disable and remove the devctld user units (ends the session)')
            break
        }
        'devctl;help;daemon;run' {
            break
        }
        'devctl;help;daemon;stop' {
            break
        }
        'devctl;help;daemon;status' {
            break
        }
        'devctl;help;daemon;reexec' {
            break
        }
        'devctl;help;daemon;install' {
            break
        }
        'devctl;help;daemon;uninstall' {
            break
        }
        'devctl;help;completions' {
            break
        }
        'devctl;help;import' {
            break
        }
        'devctl;help;mcp' {
            break
        }
        'devctl;help;probe' {
            [CompletionResult]::new('tcp', 'tcp', [CompletionResultType]::ParameterValue, 'Ready when a TCP connection succeeds (HOST PORT, HOST:PORT or PORT)')
            [CompletionResult]::new('http', 'http', [CompletionResultType]::ParameterValue, 'Ready when GET URL answers STATUS (default: any 2xx or 3xx)')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Ready when the command exits 0')
            break
        }
        'devctl;help;probe;tcp' {
            break
        }
        'devctl;help;probe;http' {
            break
        }
        'devctl;help;probe;exec' {
            break
        }
        'devctl;help;man' {
            break
        }
        'devctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
