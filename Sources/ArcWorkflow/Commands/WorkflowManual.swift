import ArcCore
import ArcTOML

/// wf-run's top-level spec and the man page's sections on the workflow file.
extension WorkflowCommand {
    public static let spec = CommandSpec(
        name: "wf-run",
        summary: "run workflows of shell pipelines with retries, state, resume and schedules",
        usage: ["COMMAND [OPTIONS] [ARGS]"],
        description: """
        A workflow is a TOML file of steps, each a shell command line (pipelines welcome) \
        with the steps it needs. wf-run runs them in dependency order, several at once, \
        retries failures with backoff, kills steps that time out (their whole process \
        group), and keeps every run's events in the state database so `status` says what \
        ran and why something failed, and `resume` goes on after a failure, a Ctrl-C or a \
        reboot. Cron can start runs (`wf-run run` exits 75 rather than overlap a run still \
        going), or `wf-run schedule` can.

        Each run has a directory (RUNS_DIR/WORKFLOW/RUN_ID): the workflow text it ran, \
        logs/STEP.ATTEMPT.out and .err, and steps/STEP/, the step's own directory for files \
        it hands to the steps after it.

        With ARC_STATE=postgres://... the runs and their events are kept in PostgreSQL: \
        `status` and `history` on any machine sharing the database show every machine's \
        runs, and a workflow's lock holds across them (a run or a cron firing on a second \
        machine exits 75 while the first runs). Each machine keeps its own run \
        directories, so a run is resumed or cancelled on the machine that has its directory \
        (any machine, when RUNS_DIR is on a filesystem they share).
        """,
        options: [OptionSpec("runs-dir", valueName: "DIR",
                             help: "where run directories and workflow locks live [default: runs/ beside the state database; with a postgres:// state, $XDG_STATE_HOME/arc/runs]",
                             environment: "WF_RUNS_DIR", completion: .directory)],
        subcommands: [runSpec, validateSpec, graphSpec, statusSpec, historySpec, logsSpec, resumeSpec, cancelSpec,
                      scheduleSpec, nextSpec],
        examples: [Example("Validate, look, run, and see what happened:",
                           "wf-run validate daily.toml && wf-run graph daily.toml && wf-run run daily.toml; wf-run status"),
                   Example("A cron line (runs never overlap; a busy workflow exits 75):",
                           "0 2 * * * wf-run run /etc/arc/daily.toml >> /var/log/arc/daily.ndjson 2>&1")],
        exitStatuses: ExitStatus.standard + [.busy],
        environment: [EnvironmentSpec("ARC_STATE", "the state database holding the runs and their events: a SQLite file, or "
                                      + "postgres://USER:PASSWORD@HOST/DB shared by every machine that runs workflows, "
                                      + "whose runs status and history then show (--state)"),
                      EnvironmentSpec("WF_RUNS_DIR", "as --runs-dir")],
        sections: [("The workflow file", fileGrammar), ("Step environment", stepEnvironment), ("Env files", envFileText),
                   ("Schedules", scheduleText)],
        seeAlso: ["arc-discover(1)", "arc-plan(1)", "arc-collect(1)", "s3x(1)", "telem-trace(1)", "crontab(5)"])

    static let fileGrammar = """
        A subset of TOML 1.0: comments, bare, quoted and dotted keys, basic, literal and \
        multi-line strings, integers, floats, booleans, dates, arrays, inline tables, \
        [tables] and [[arrays of tables]]. Errors name the line and column. Unknown keys are \
        errors, so a misspelt key cannot be silently ignored.

          name = "binance-daily"          # default: the file name without .toml
          schedule = "0 2 * * *"          # optional: cron (see Schedules)
          timezone = "Europe/London"      # optional: the schedule's zone [default: UTC]
          concurrency = 4                 # steps running at once, at most [default: 8]
          env_file = "secrets.env"        # or a list; KEY=value lines (see Env files)

          [env]                           # every step's environment
          LAKE = "/data/lake"

          [params]                        # parameters and defaults; -p name=value
          day = "2024-01-01"

          [[step]]
          id = "discover"                 # letters, digits, _ - . (unique)
          run = "arc-discover binance --since $day > $WF_STEP_DIR/archives.ndjson"
          retries = 3                     # attempts after the first [default: 0]
          retry_delay = "10s"             # before the first retry; doubles each time [1s]
          retry_max_delay = "5m"          # the doubling stops here [5m]
          timeout = "30m"                 # per attempt; kills the step's process group

          [[step]]
          id = "collect"
          needs = ["discover"]            # or needs = "discover"
          run = "arc-plan < $WF_DIR_DISCOVER/archives.ndjson | arc-collect"
          when = "success"                # success | failure | always [success]
          continue_on_failure = false     # a failure does not fail the run
          workdir = "/srv/arc"            # relative to the file's directory [that directory]
          env = { ARC_LOG_LEVEL = "debug" }
          env_file = "collect.env"        # this step's; handlers may have one too
          cache_key = "collect-${day}"    # skip when a successful run had this key

          [on_success]                    # handlers: run, retries, retry_delay,
          run = "echo ok"                 # retry_max_delay, timeout, env, env_file, workdir
          [on_failure]
          run = "mail -s \\"$WF_WORKFLOW failed: $WF_FAILED_STEPS\\" ops < /dev/null"
          [on_exit]                       # always, last
          run = "rm -rf /tmp/scratch"

        Durations are strings such as 500ms, 30s, 5m, 2h, 1d, or 1h30m, or numbers of seconds.

        when: success runs the step when every need succeeded (or failed with \
        continue_on_failure); failure when a need failed, or was skipped because a step \
        before it failed; always once every need has an outcome. A step whose condition does \
        not hold is skipped, and so are the success steps after it. Retries wait retry_delay, \
        then twice that, and so on up to retry_max_delay, each scaled by a random factor \
        between 0.5 and 1 so steps failing together do not retry together.

        cache_key is expanded like env values; when an earlier run of the workflow had this \
        step succeed with the same key, the step is skipped (step_skipped, reason cached) and \
        WF_DIR_STEP points at that run's output. The run succeeds (exit 0) when no step \
        failed, except those with continue_on_failure, and no handler failed.
        """

    static let stepEnvironment = """
        A step runs as `sh -c RUN` in a process group of its own, stdin from /dev/null, \
        stdout and stderr kept in the run's directory. Its environment, each layer able to \
        use the ones before it with ${NAME} or $NAME (only in env values, workdir and \
        cache_key; RUN itself is expanded by sh): wf-run's environment, the parameters, \
        the workflow's env_file, [env], the step's env_file, the step's env, then:

          WF_WORKFLOW, WF_RUN_ID     the workflow's name, the run's id
          WF_RUN_DIR                 the run's directory
          WF_STEP_ID, WF_ATTEMPT     the step, and which attempt this is (1, 2, ...)
          WF_STEP_DIR                the step's own directory, for the files it hands on
          WF_DIR_<STEP>              the directory of each step it needs (in handlers:
                                     every step),
                                     the id upper-cased, other characters as _
          WF_SCHEDULED_TIME          the firing time, in runs the scheduler started
          WF_RUN_STATUS              in handlers: succeeded or failed
          WF_FAILED_STEPS            in handlers: the failed steps, space-separated
          TRACEPARENT                the step's span, when tracing (--trace, OTLP): the
                                     arc tools it runs nest under it
        """

    static let envFileText = """
        env_file names dotenv files (a path or a list of them, relative to the workflow \
        file's directory) whose variables the steps get, so that secrets need not be in the \
        workflow file, whose text a run keeps for resume. The files are read when a run \
        starts and again when it resumes, and their values are never stored: not in the \
        state database, the run's directory, its events, logs or spans. Where wf-run writes \
        text that could hold one (a failure's message quoting the step's stderr, a cache \
        key, a span), each value of 4 characters or more is shown as [from env_file] (so a \
        cache key holding one does not change when the value does). What a step itself \
        writes is its own business.

          # comments, and blank lines
          API_TOKEN=abc123          # unquoted: trimmed, ends at a blank then #
          export REGION=eu-west-1   # export is allowed, and ignored
          PASSWORD='p$ss "w"'       # single quotes: exactly as written
          GREETING="hi\\tthere\\n"    # double quotes: \\n \\t \\r \\" \\\\ escapes
          KEY="-----BEGIN KEY-----
          ...
          -----END KEY-----"        # quoted values may span lines

        Values are never expanded ($ is common in secrets); [env] and env values, workdir \
        and cache_key can use them with ${NAME}. A later file, or a later line, sets a key \
        again; [env] wins over env_file, and a step's env_file and env over the workflow's \
        (as docker compose's environment wins over its env_file). A file that cannot be \
        read stops `validate` and `run` with exit status 3, naming it; a bad line with \
        exit status 2, as FILE:LINE:COLUMN (never quoting the line).
        """

    static let scheduleText = """
        Five fields, minute hour day-of-month month day-of-week, or six with seconds first. \
        Each field is *, a number, a range a-b, a step */n or a-b/n or a/n, or a comma list \
        of these; months jan-dec and days sun-sat by name; 0 and 7 are Sunday. When both \
        day-of-month and day-of-week are restricted, a day matching either fires (as in \
        Vixie cron). Macros: @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly. \
        An expression that can never fire (`0 0 30 2 *`: February has no day 30) is an error.

        Times are matched in the workflow's timezone (an IANA name from the system's \
        zoneinfo). Across a DST change: a time that does not exist that day (spring forward) \
        fires once, at the moment the clocks jump; a time that happens twice (fall back) \
        fires once, the first time (so a job every 15 minutes does not fire again during \
        the repeated hour).
        """
}
