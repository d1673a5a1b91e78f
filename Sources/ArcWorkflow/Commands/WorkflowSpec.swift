import ArcCore

/// wf-run's command line. The parser, --help, the man page (with the workflow file's
/// grammar) and the completions all come from here.
extension WorkflowCommand {
    static let jsonOption = OptionSpec.flag("json", help: "NDJSON records even on a terminal")
    static let fileArgument = ArgumentSpec("FILE", help: "a workflow file (.toml)", completion: .file)
    static let runArgument = ArgumentSpec("RUN", help: "a run id, or a unique start of one [default: the newest run]", optional: true)

    static let runSpec = CommandSpec(
        name: "run", summary: "run a workflow now, in the foreground",
        usage: ["[-p NAME=VALUE]... [--allow-overlap] [--json] FILE"],
        description: """
        Starts a run of FILE: each step starts once its needs are done and its `when` holds, \
        at most `concurrency` at once. The run's events go to the state database (an \
        append-only log, so `status` and `resume` know exactly how far it got, even after \
        wf-run is killed with SIGKILL) and to stdout: NDJSON records `ts run_id workflow \
        event step? attempt? exit_status? duration_ms? reason? message? cache_key? pgid?` \
        when stdout is not a terminal, a line per event on a terminal.

        Events: run_started (run_resumed when `resume` goes on with a run), step_started \
        (pgid: the step's process group), step_retrying, step_succeeded, step_failed, \
        step_skipped (reason need_failed, need_skipped, no_failure or cached), \
        step_cancelled, then run_succeeded, run_failed or run_cancelled.

        One run of a workflow at a time: while one runs, another `wf-run run` of the same \
        workflow exits at once with status 75 (cron's next firing will try again), unless \
        --allow-overlap. So it does while steps of a run whose wf-run was killed (SIGKILL, \
        a crash) still run, naming the run, the steps and their process groups: they are \
        left alone, as they may be in the middle of something; `wf-run resume RUN` or \
        `wf-run cancel RUN` stops them. SIGINT or SIGTERM stops the running steps (each \
        gets the signal; SIGKILL after --grace), records the run as cancelled and exits \
        130 or 143; `wf-run resume` goes on with it.
        """,
        options: [
            OptionSpec("param", short: "p", kind: .list, valueName: "NAME=VALUE",
                       help: "set a parameter the file declares in [params] (repeatable)"),
            .flag("allow-overlap", help: "run even if another run of this workflow, or steps a killed one left, are going"),
            OptionSpec("grace", valueName: "DURATION", help: "how long a stopped or timed-out step has between SIGTERM and SIGKILL",
                       defaultValue: "5s"),
            OptionSpec("scheduled-time", valueName: "TIME", help: "the firing time this run is for (set by the scheduler)", hidden: true),
            jsonOption,
        ],
        arguments: [fileArgument],
        examples: [
            Example("Run the daily update for one day:", "wf-run run examples/binance-daily.toml -p day=2024-01-01"),
            Example("Follow only failures from a cron job's output:",
                    "wf-run run daily.toml | jq -c 'select(.event == \"step_failed\")'"),
        ])

    static let validateSpec = CommandSpec(
        name: "validate", summary: "check workflow files without running them",
        usage: ["FILE..."],
        description: """
        Reads each FILE as `run` would and prints a line `FILE: ok: ...` for it, or each \
        problem as FILE:LINE:COLUMN: message on stderr (syntax, unknown keys, unknown \
        needs, cycles, bad cron expressions and ones that can never fire such as \
        `0 0 30 2 *`, bad durations, unknown time zones, bad lines in \
        env files) and exits 2; exits 3 when an env file cannot be read. The ok line says \
        how many variables the env files set, never their values.
        """,
        arguments: [ArgumentSpec("FILE", help: "workflow files", repeating: true, completion: .file)],
        examples: [Example("Check every workflow before deploying them:", "wf-run validate workflows/*.toml")])

    static let graphSpec = CommandSpec(
        name: "graph", summary: "draw a workflow's steps and needs",
        usage: ["[--format text|dot] FILE"],
        description: """
        text: the steps by level (steps on one level can run together), with their needs \
        and conditions. dot: a Graphviz digraph (failure-only edges in red).
        """,
        options: [OptionSpec("format", valueName: "FORMAT", help: "output format", choices: ["text", "dot"], defaultValue: "text")],
        arguments: [fileArgument],
        examples: [Example("Render the DAG as SVG:", "wf-run graph --format dot daily.toml | dot -Tsvg > daily.svg")])

    static let statusSpec = CommandSpec(
        name: "status", summary: "what a run did: each step's outcome, attempts, exit status and why it failed",
        usage: ["[--workflow NAME] [--json] [RUN]"],
        description: """
        The run's status (running, succeeded, failed, cancelled, or interrupted when its \
        wf-run was killed), parameters, trace id, and a row per step: status, attempts, \
        duration of the last attempt, exit status, and why (the reason and the last line \
        the step wrote to stderr). One NDJSON record with a `steps` array when stdout is not \
        a terminal.
        """,
        options: [OptionSpec("workflow", short: "w", valueName: "NAME", help: "the newest run of this workflow"), jsonOption],
        arguments: [runArgument],
        examples: [Example("Why did last night's run fail?", "wf-run status --workflow binance-daily")])

    static let historySpec = CommandSpec(
        name: "history", summary: "list runs, newest first",
        usage: ["[--workflow NAME] [--limit N] [--json]"],
        description: """
        One row per run: run_id, workflow, status, started, duration, steps succeeded of \
        all, and why it failed. NDJSON when stdout is not a terminal.
        """,
        options: [OptionSpec("workflow", short: "w", valueName: "NAME", help: "only runs of this workflow"),
                  OptionSpec("limit", valueName: "N", help: "at most N runs", defaultValue: "20"), jsonOption],
        examples: [Example("Failed runs this month:", "wf-run history --limit 100 | jq -c 'select(.status == \"failed\")'")])

    static let logsSpec = CommandSpec(
        name: "logs", summary: "print the stdout and stderr a run's steps wrote",
        usage: ["[--stream stdout|stderr] [--attempt N | --all-attempts] RUN [STEP]"],
        description: """
        Each attempt of each step keeps its stdout and stderr in the run's directory \
        (logs/STEP.ATTEMPT.out and .err). Prints the last attempt's, of STEP or of every \
        step; when more than one file is printed each starts with a `==> STEP, attempt N, \
        stream <==` line.
        """,
        options: [OptionSpec("stream", valueName: "STREAM", help: "only this stream", choices: ["stdout", "stderr", "both"], defaultValue: "both"),
                  OptionSpec("attempt", valueName: "N", help: "this attempt instead of the last"),
                  .flag("all-attempts", help: "every attempt, not only the last")],
        arguments: [ArgumentSpec("RUN", help: "a run id, or a unique start of one"),
                    ArgumentSpec("STEP", help: "one step's output", optional: true)],
        examples: [Example("The error output of a failed step:", "wf-run logs 20261125-020000-3f9a collect --stream stderr")])

    static let resumeSpec = CommandSpec(
        name: "resume", summary: "go on with a failed, cancelled or interrupted run",
        usage: ["[--allow-overlap] [--json] [RUN]"],
        description: """
        Runs again, in the same run (same id, directory, parameters and workflow text as \
        when it started, even if the file changed since), every step that did not succeed, \
        then the handlers. Steps that succeeded are kept, and their output directories are \
        what the steps after them see. A step of this run still running from a wf-run that \
        was killed is stopped first (SIGTERM, SIGKILL after --grace); steps another run of \
        the workflow left running make it exit 75, as `run` does.
        """,
        options: [.flag("allow-overlap", help: "resume even if another run of this workflow is going"),
                  OptionSpec("grace", valueName: "DURATION", help: "how long a stopped step has between SIGTERM and SIGKILL", defaultValue: "5s"),
                  jsonOption],
        arguments: [runArgument],
        examples: [Example("After fixing what made a step fail:", "wf-run resume 20261125-020000-3f9a")])

    static let cancelSpec = CommandSpec(
        name: "cancel", summary: "stop a running run (it can be resumed)",
        usage: ["[--wait DURATION] RUN"],
        description: """
        Sends SIGTERM to the wf-run that holds RUN and waits until it has stopped its steps \
        and recorded the run as cancelled. A run whose wf-run was killed is recorded as \
        cancelled, and whatever of its steps still runs is killed.
        """,
        options: [OptionSpec("wait", valueName: "DURATION", help: "how long to wait for the run to stop", defaultValue: "30s")],
        arguments: [ArgumentSpec("RUN", help: "a run id, or a unique start of one")],
        examples: [Example("Stop the run cron started:", "wf-run cancel $(wf-run history -w binance-daily --limit 1 --json | jq -r .run_id)")])

    static let scheduleSpec = CommandSpec(
        name: "schedule", summary: "run workflows on their schedules until stopped",
        usage: ["[--catch-up DURATION] FILE|DIR..."],
        description: """
        A long-running scheduler (run it under systemd or in a container): reads each FILE \
        and every *.toml in each DIR, and starts `wf-run run FILE` for each firing of each \
        workflow's schedule, with WF_SCHEDULED_TIME set to the firing time. Files are \
        checked for changes every 10 seconds. A firing that comes while the workflow's \
        previous run is still going is skipped and logged. With --catch-up, firings missed \
        while the scheduler was down (since the last scheduled run recorded, and within \
        DURATION) are run first, one after another, oldest first.

        SIGTERM or SIGINT: no new runs; the running ones get the signal, record themselves \
        cancelled, and the scheduler exits 143 or 130 when they have stopped.
        """,
        options: [OptionSpec("catch-up", valueName: "DURATION", help: "run firings missed within DURATION (e.g. 2d) before going on"),
                  jsonOption],
        arguments: [ArgumentSpec("PATH", help: "workflow files or directories of them", repeating: true, completion: .file)],
        examples: [Example("Schedule every workflow in a directory, catching up a missed night:",
                           "wf-run schedule --catch-up 1d /etc/arc/workflows")])

    static let nextSpec = CommandSpec(
        name: "next", summary: "print a workflow's next firing times",
        usage: ["[-n N] [--after TIME] FILE"],
        description: """
        One RFC 3339 time per line, in the workflow's time zone. A workflow without a \
        schedule, or with one that can never fire, is an error (exit 2).
        """,
        options: [OptionSpec("count", short: "n", valueName: "N", help: "how many", defaultValue: "5"),
                  OptionSpec("after", valueName: "TIME", help: "firings after TIME (RFC 3339) instead of after now")],
        arguments: [fileArgument],
        examples: [Example("When will it run around the DST change?", "wf-run next -n 3 --after 2026-03-07T00:00:00Z daily.toml")])
}
