import ArcCore

/// arc-queue's command line, described once: the parser, --help, the man page and the
/// completions all come from here.
extension QueueCommand {
    static let stats = CommandSpec(
        name: "stats", summary: "tasks per state and workers, one record per queue",
        usage: ["[--workers] [NAME]"],
        description: """
        Writes one record per queue (NAME's alone when given): queue, pending (waiting \
        counts those waiting out a failure's backoff), leased (expired counts leases whose \
        worker stopped renewing them: claimable again), done, failed, and workers (those \
        heard from within their lease). With --workers, one record per worker instead: \
        queue, worker, host, pid, started_at, seen_at, stopped_at, alive, leased (tasks it \
        holds now), claimed, done and failed.
        """,
        options: [.flag("workers", help: "one record per worker instead of per queue")],
        arguments: [ArgumentSpec("NAME", help: "the queue; every queue when left out", optional: true)],
        examples: [Example("How far the collection is, as a table:",
                           "arc-queue stats binance | jq -r '[.pending, .leased, .done, .failed] | @tsv'")])

    static let metrics = CommandSpec(
        name: "metrics", summary: "queue depth in Prometheus text format, written or served",
        usage: ["[--listen HOST:PORT] [NAME]"],
        description: """
        Writes the queues' depth in the Prometheus text format: arc_queue_tasks{queue,state} \
        (state pending, leased, done, failed; and waiting and expired, the parts of pending \
        and leased described under stats), arc_queue_workers{queue} (alive), and per worker \
        arc_queue_worker_tasks{queue,worker,state} (leased now; done and failed since it \
        started). Write it to node_exporter's textfile directory from cron, or serve it with \
        --listen at /metrics for Prometheus to scrape (read fresh from the database on each \
        scrape) until SIGINT or SIGTERM. An autoscaler sizes the workers on \
        arc_queue_tasks{state="pending"}.
        """,
        options: [OptionSpec("listen", valueName: "HOST:PORT", help: "serve /metrics here instead of writing once")],
        arguments: [ArgumentSpec("NAME", help: "the queue; every queue when left out", optional: true)],
        examples: [Example("Serve the metrics for Prometheus:", "arc-queue metrics --listen 0.0.0.0:9108"),
                   Example("For node_exporter's textfile collector, every minute from cron:",
                           "arc-queue metrics > /var/lib/node_exporter/arc_queue.prom.tmp && mv /var/lib/node_exporter/arc_queue.prom.tmp /var/lib/node_exporter/arc_queue.prom")])

    static let retry = CommandSpec(
        name: "retry", summary: "make a queue's failed tasks pending again",
        usage: ["NAME"],
        description: """
        Every task of queue NAME that failed for good is pending again with its attempts \
        reset, for the workers to take (when the cause is mended: a host back, a disk \
        cleared). Writes {queue, retried}.
        """,
        arguments: [ArgumentSpec("NAME", help: "the queue")])

    static let push = CommandSpec(
        name: "push", summary: "enqueue records from stdin or FILEs",
        usage: ["[--identity FIELD] NAME [FILE...]"],
        description: """
        Adds each record to queue NAME as a task, identified by its FIELD (dest by default): \
        the same identity twice is one task, as with arc-plan --queue. For records that come \
        from elsewhere than arc-plan. Nothing is written to stdout; a line that is not a \
        JSON object, or lacks FIELD, is reported with its line number and skipped (--strict \
        stops instead).
        """,
        options: [OptionSpec("identity", valueName: "FIELD", help: "the field that identifies a task", defaultValue: "dest"),
                  .flag("strict", help: "stop at the first bad record instead of skipping it")],
        arguments: [ArgumentSpec("NAME", help: "the queue"),
                    ArgumentSpec("FILE", help: "files of records; stdin when none or -", repeating: true, optional: true,
                                 completion: .file)],
        examples: [Example("Queue yesterday's tasks again from a file:", "arc-queue push binance tasks.ndjson")])

    static let wait = CommandSpec(
        name: "wait", summary: "wait until a queue is drained",
        usage: ["[--timeout DURATION] NAME"],
        description: """
        Returns when queue NAME has nothing pending or leased: exit 0 when none of its tasks \
        failed, 1 when some did (its stats record is written either way), 3 after --timeout \
        with tasks still open.
        """,
        options: [OptionSpec("timeout", valueName: "DURATION", help: "give up after this long (default: never)")],
        arguments: [ArgumentSpec("NAME", help: "the queue")],
        examples: [Example("Start 4 workers and wait for the drain:",
                           "for i in 1 2 3 4; do arc-collect --queue binance & done; arc-queue wait binance")])

    public static let spec = CommandSpec(
        name: "arc-queue",
        summary: "show, serve and tend the work queues that arc-collect --queue workers drain",
        usage: ["COMMAND [OPTIONS] [ARGS]"],
        description: """
        The work queues live in the PostgreSQL state (ARC_STATE=postgres://...): arc-plan \
        --queue NAME fills one, arc-collect --queue NAME workers on any number of machines \
        drain it. arc-queue shows how far they are (stats), gives the depth to Prometheus \
        and autoscalers (metrics), puts failed tasks back (retry), enqueues records from \
        elsewhere (push) and waits for a drain (wait).
        """,
        subcommands: [stats, metrics, retry, push, wait],
        environment: [
            EnvironmentSpec("ARC_STATE", "the PostgreSQL state holding the queues: postgres://USER:PASSWORD@HOST/DB (--state)"),
            EnvironmentSpec("ARC_LOG_LEVEL", "the lowest log level written (--log-level)"),
            EnvironmentSpec("ARC_LOG_FORMAT", "human or json (--log-format)"),
        ],
        seeAlso: ["arc-plan(1)", "arc-collect(1)"])
}
