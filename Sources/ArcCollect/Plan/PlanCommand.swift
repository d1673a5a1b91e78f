import ArcCore

/// arc-plan: turn archive records into collection tasks, against the ledger.
public enum PlanCommand {
    public static let spec = CommandSpec(
        name: "arc-plan",
        summary: "turn archive records into collection tasks, against the ledger",
        usage: ["--dest DIR [OPTIONS] [FILE...]", "--gaps [OPTIONS] [FILE...]"],
        description: """
        Reads archive records (from arc-discover, or any program writing them) on stdin or \
        from FILEs and writes a task record for each archive that must be fetched: the \
        archive's fields (unknown ones pass through) plus task_id, dest and reason.

        An archive is planned when the ledger does not hold it at its destination (reason \
        new), holds it with a different ETag or size because the source republished it \
        (changed), or saw its last attempt fail (retry). Archives held unchanged are not \
        planned unless --force (forced). task_id is stable: the same archive version to the \
        same destination always gets the same id.

        The destination is DIR plus the --layout template, by default the source's own key \
        path. Placeholders: {source} {market} {period} {type} {symbol} {interval} {date} \
        {file} {key} {year} {month} {day}. For example:

          --layout '{market}/{type}/{symbol}/{interval}/{file}'
          --layout 'type={type}/symbol={symbol}/date={date}/{file}'

        With --shard K/N, only the archives of shard K of N are planned (K from 0 to N-1): \
        each archive's key (its url when it has none) is hashed with a fixed function, so N \
        machines given the same listing split it exactly (every archive in one shard) with \
        nothing shared between them, the same way on every machine and every day. Keep N \
        the same from day to day: each machine's ledger then holds the archives of its own \
        shard. --prefer-monthly still sees the whole listing. --shard auto takes K and N \
        from a Slurm array job (SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, renumbered \
        from 0 by SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_STEP) or a Kubernetes Indexed \
        Job (JOB_COMPLETION_INDEX, and ARC_SHARD_COUNT, which the Job spec sets to its \
        .spec.completions).

        A line that is not a JSON object, or lacks a field the layout needs, is reported on \
        stderr with its line number and skipped (--strict stops instead).

        With --queue NAME (and a PostgreSQL state, ARC_STATE=postgres://...) the tasks go into \
        work queue NAME instead of stdout, for arc-collect --queue NAME workers on any number \
        of machines. Enqueueing is idempotent: a task is identified by its dest, and one \
        already pending or claimed is left as it is; one done or failed before (a \
        republished archive, a failure planned again) is pending again. Nothing is written \
        to stdout; the log says how many tasks went in. arc-queue shows the queue.

        With --gaps, no tasks are written: instead one record per series (source, market, \
        period, type, symbol, interval) with the days or months missing between the first \
        and last archive listed. Where arc-check or arc-convert has checked the archives, \
        the record also lists the holes inside them (holes: [{date, key, code, count, \
        ranges}] for missing_intervals, cut_short and id_gaps), and a series whose files \
        are all there but not whole is reported too.
        """,
        options: [
            OptionSpec("dest", short: "d", valueName: "DIR", help: "directory, or s3://bucket/prefix, to store archives under", completion: .directory),
            OptionSpec("layout", short: "l", valueName: "TEMPLATE", help: "path of each archive under DIR",
                       defaultValue: Layout.defaultTemplate),
            .flag("force", short: "f", help: "plan archives already held and unchanged too (reason forced)"),
            OptionSpec("shard", valueName: "K/N", help: "plan only shard K of N (from 0), or auto from Slurm's or Kubernetes' environment"),
            OptionSpec("queue", valueName: "NAME", help: "put the tasks into work queue NAME in the PostgreSQL state instead of stdout"),
            .flag("prefer-monthly", help: "skip daily archives of a month that a monthly archive in the input covers"),
            .flag("gaps", help: "report missing dates per series instead of planning"),
            .flag("strict", help: "stop at the first bad record instead of skipping it"),
        ],
        arguments: [ArgumentSpec("FILE", help: "files of archive records; stdin when none or -", repeating: true,
                                 optional: true, completion: .file)],
        examples: [
            Example("Plan the archives of a listing into ./data, in Binance's own layout:",
                    "arc-discover binance --market spot --type klines --interval 1d | arc-plan --dest ./data"),
            Example("Which days are missing from Binance's 1m klines of BTCUSDT:",
                    "arc-discover binance --market spot --type klines --interval 1m --symbol BTCUSDT | arc-plan --gaps"),
            Example("Fill a work queue in PostgreSQL (ARC_STATE=postgres://...) for arc-collect --queue workers:",
                    "arc-discover binance --market um | arc-plan --dest s3://lake/bronze --queue binance"),
            Example("The third of eight machines plans shard 2 of 8 (shards count from 0):",
                    "arc-discover binance --market um --type trades | arc-plan --dest /data --shard 2/8 | arc-collect"),
        ],
        environment: [
            EnvironmentSpec("ARC_STATE", "the state database holding the ledger: a SQLite file or postgres://USER:PASSWORD@HOST/DB (--state)"),
            EnvironmentSpec("SLURM_ARRAY_TASK_ID", "with SLURM_ARRAY_TASK_COUNT (and _MIN, _MAX, _STEP): the shard of --shard auto in a Slurm array job"),
            EnvironmentSpec("JOB_COMPLETION_INDEX", "the shard of --shard auto in a Kubernetes Indexed Job"),
            EnvironmentSpec("ARC_SHARD_COUNT", "the shard count for JOB_COMPLETION_INDEX: the Job's .spec.completions"),
            EnvironmentSpec("ARC_LOG_LEVEL", "the lowest log level written (--log-level)"),
            EnvironmentSpec("ARC_LOG_FORMAT", "human or json (--log-format)"),
        ],
        seeAlso: ["arc-discover(1)", "arc-collect(1)"])

    public static func main() -> Never {
        Tool.main(spec) { context in try run(context) }
    }

    static func run(_ context: ToolContext) throws -> ExitStatus {
        let p = context.parsed
        let log = context.log
        // Read before anything else, so a bad shard is a usage error with nothing done.
        let shard = try p.value("shard").map { try Shard(parsing: $0, environment: ProcessEnvironment.all) }
        let output = BufferedOutput.stdout
        let input = RecordInput(paths: p.positionals, strict: p.flag("strict"), log: log)
        try input.checkSources()
        input.willBlock = { try output.flush() }

        if p.flag("gaps") {
            if shard != nil {
                throw UsageError("--shard with --gaps: a gap report needs every archive of a series, not a shard")
            }
            if p.flag("queue") { throw UsageError("--queue with --gaps: a gap report plans no tasks") }
            // Holes inside archives come from the quality ledger, when there is a state
            // database (--gaps never creates a SQLite one).
            let hasState = PostgresConnection.isURL(context.statePath) || FileSystem.exists(context.statePath)
            let holes = hasState ? try QualityHoles(try StateStore.openShared(context.statePath)) : nil
            let report = GapReport(holes: holes)
            while let (record, line) = try input.next() {
                _ = try input.decode(record, line: line) { try report.add($0) }
            }
            let totals = try report.write(to: output)
            log.info("\(totals.withGaps) of \(totals.series) series have gaps", [
                "series": .int(Int64(totals.series)), "series_with_gaps": .int(Int64(totals.withGaps)),
                "missing": .int(Int64(totals.missing)), "bad_lines": .int(Int64(input.badLines)),
            ])
            return input.badLines > 0 ? .failures : .ok
        }

        guard let destText = p.value("dest") else { throw UsageError("missing --dest DIR (or --gaps)") }
        var destRoot = FileSystem.absolute(destText)
        if S3URL.isS3(destText) {
            let url = try S3URL(parsing: destText)
            guard !url.hasWildcard else { throw UsageError("--dest \(destText): no wildcards in a destination") }
            destRoot = "s3://" + url.bucket + (url.key.isEmpty ? "" : "/" + url.key)
            while destRoot.hasSuffix("/") { destRoot.removeLast() }
        } else if destText.contains("://") {
            throw UsageError("--dest \(destText): expected a directory or s3://bucket[/prefix]")
        }
        let layout = try Layout(p.value("layout") ?? Layout.defaultTemplate)
        let queueName = p.value("queue")
        if let queueName {
            try WorkQueue.check(name: queueName)
            if !PostgresConnection.isURL(context.statePath) { throw UsageError(WorkQueue.needsPostgres) }
        }
        let state = try StateStore.openShared(context.statePath)
        let ledger = Ledger(state)
        let queue = try queueName.map { QueueWriter(try WorkQueue(state, name: $0)) }
        let planner = Planner(destRoot: destRoot, layout: layout, ledger: ledger, force: p.flag("force"))
        let monthly = p.flag("prefer-monthly") ? try MonthlyPreference() : nil

        var shardSeen = 0, shardKept = 0
        /// Before the ledger lookup: another shard's archives cost a hash, not a query.
        func inShard(_ record: Record, line: Int) throws -> Bool {
            guard let shard else { return true }
            guard let mine = try input.decode(record, line: line, { try shard.contains($0) }) else { return false }
            shardSeen += 1
            if mine { shardKept += 1 }
            return mine
        }
        func plan(_ record: Record, line: Int, dest: String?) throws {
            guard let task = try input.decode(record, line: line, { try planner.plan($0, dest: dest) }), let task else { return }
            if let queue {
                try queue.add(identity: planner.lastDest, task: String(decoding: task.dropLast(), as: UTF8.self))
            } else {
                try output.write(task)
            }
        }
        // On a PostgreSQL state the shard's archives wait in `batch` while their ledger
        // entries are read in one query (a round trip per archive would be most of the
        // work); the batch is planned before every read of the input, so tasks still stream.
        var batch: [(record: Record, line: Int, dest: String?)] = []
        func flushBatch() throws {
            guard !batch.isEmpty else { return }
            let pending = batch
            batch.removeAll(keepingCapacity: true)
            try ledger.prefetch(pending.compactMap(\.dest))
            for item in pending { try plan(item.record, line: item.line, dest: item.dest) }
        }
        func planSoon(_ record: Record, line: Int) throws {
            guard try inShard(record, line: line) else { return }
            guard ledger.prefetches else { return try plan(record, line: line, dest: nil) }
            // A record whose dest cannot be made is reported by plan, in its turn.
            batch.append((record, line, try? planner.destination(for: record)))
            if batch.count >= 1000 { try flushBatch() }
        }
        // Waiting for input must not hold a ledger snapshot open.
        input.willBlock = {
            try flushBatch()
            try ledger.endLookups()
            try output.flush()
        }
        while let (record, line) = try input.next() {
            if let monthly {
                guard try input.decode(record, line: line, { try monthly.admit($0) }) == true else { continue }
            }
            try planSoon(record, line: line)
        }
        try flushBatch()
        try monthly?.replay { try planSoon($0, line: 0) }
        try flushBatch()
        try queue?.flush()

        if let shard {
            log.info("shard \(shard) kept \(shardKept) of \(shardSeen) archives", [
                "shard": .string(shard.description), "shard_index": .int(Int64(shard.index)),
                "shard_count": .int(Int64(shard.count)), "kept": .int(Int64(shardKept)),
                "archives": .int(Int64(shardSeen)),
            ])
        }
        let c = planner.counts
        let planned = c.values.reduce(0, +)
        log.info("planned \(planned) tasks", [
            "new": .int(Int64(c[.new] ?? 0)), "changed": .int(Int64(c[.changed] ?? 0)),
            "retry": .int(Int64(c[.retry] ?? 0)), "forced": .int(Int64(c[.forced] ?? 0)),
            "held": .int(Int64(planner.held)), "duplicates": .int(Int64(planner.duplicates)),
            "daily_covered_by_monthly": .int(Int64(monthly?.skippedDaily ?? 0)),
            "bad_lines": .int(Int64(input.badLines)),
        ])
        if let queue {
            log.info("queued " + queue.summary, [
                "queue": .string(queue.queue.name), "added": .int(Int64(queue.counts.added)),
                "requeued": .int(Int64(queue.counts.requeued)), "kept": .int(Int64(queue.counts.kept)),
            ])
        }
        let m = context.telemetry.metrics
        m.declare("arc_plan_tasks_total", .counter, help: "tasks planned, by reason (new, changed, retry, forced)")
        for reason in [PlanReason.new, .changed, .retry, .forced] {
            m.add("arc_plan_tasks_total", Double(c[reason] ?? 0), MetricsRegistry.Labels(["reason": reason.rawValue]))
        }
        m.declare("arc_plan_held_total", .counter, help: "archives already held as listed (no task)")
        m.add("arc_plan_held_total", Double(planner.held))
        m.declare("arc_plan_bad_lines_total", .counter, help: "input lines that were not valid archive records")
        m.add("arc_plan_bad_lines_total", Double(input.badLines))
        context.telemetry.root.set("arc.tasks", .int(Int64(planned)))
        return input.badLines > 0 ? .failures : .ok
    }
}
