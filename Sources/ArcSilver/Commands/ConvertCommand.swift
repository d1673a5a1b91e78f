import ArcCore

/// arc-convert: bronze archives to silver Parquet, checked in the same pass.
public enum ConvertCommand {
    public static let spec = CommandSpec(
        name: "arc-convert",
        summary: "turn verified archives into typed, checked Parquet files (bronze to silver)",
        usage: ["--dest DIR|s3://BUCKET/PREFIX [OPTIONS] [ARCHIVE...]", "--dest DIR [OPTIONS] [FILE...] < results.ndjson"],
        description: """
        Reads result records (from arc-collect, or check records from arc-check) on stdin or \
        from FILEs, or archives given as arguments (Binance's and KuCoin's zips, Bybit's \
        csv.gz; see arc-check(1) for how each is recognised), and makes one Parquet file per \
        archive in one pass: read (or download), hash, inflate, parse, check (the same checks \
        as arc-check, computed on the way) and write. Conversion starts while later archives \
        are still downloading upstream; memory stays bounded whatever the file's size.

        The silver schema per dataset: snake_case column names; timestamps INT64 \
        TIMESTAMP(MICROS, UTC) whatever the source's unit (microseconds are never lost; \
        milliseconds are multiplied, never divided); ids and counts INT64; prices and \
        quantities DOUBLE; booleans BOOLEAN whichever their case; text UTF-8, dictionary \
        encoded. Header lines and the ignore column are dropped. Row groups carry min, max \
        and null count statistics, so readers skip them by time. The footer's key-value \
        metadata names the source key (arc.source_key), the archive's SHA-256 \
        (arc.archive_sha256), the check status (arc.check_status) and arc's version.

        Files go under --dest (a directory, or an s3:// prefix streamed as a multipart \
        upload with no local temporary file) at the --layout path, by default hive-style \
        folders that DuckDB, polars and pyarrow read as one partitioned dataset:

          MARKET/PERIOD/TYPE/symbol=SYMBOL/interval=INTERVAL/date=DATE/FILE.parquet

        (no interval= folder for types without intervals); other sources' files go under a \
        folder named for the source, bybit/linear/daily/trades/symbol=BTCUSDT/date=... or \
        kucoin/spot/daily/klines/... (a --layout given is used for every source: put \
        {source} in it to keep them apart). A file appears only complete \
        (temporary name, fsync, rename; or CompleteMultipartUpload).

        One record per archive goes to stdout: the input's fields, check (as arc-check \
        writes it) and silver: {dest, rows, bytes, sha256} (reused: true when the file made \
        from the same archive bytes was already there; gate when the check did not pass but \
        --gate let it through). With no silver file written, silver_error: {code, message} \
        says why (check_failed, check_warned); an archive that could not be read at all gets \
        error {code, message}.

        With --merge month, daily archives make one file per series and month instead \
        (date=YYYY-MM in the layout, named SYMBOL-TYPE-YYYY-MM.parquet): the input's days and \
        the days of the same months that arc-collect's ledger holds, each checked (or its \
        check taken from the quality ledger), the days the gate lets through merged in date \
        order, each sorted by time, exact duplicate rows dropped. The records wait for the \
        input to end; each day's record names the month file (silver.days says how many days \
        it holds). A month is remade when one of its days changes or a day is added. Days \
        whose rows are in order stream through; a day with rows out of order is sorted in \
        memory. Keep merged and unmerged runs in different --dest trees.

        A silver ledger in the state database maps each archive's SHA-256 to its silver \
        file: a rerun converts only new or republished archives (a republished archive \
        replaces its silver file), so the daily pipeline does only the new work.

        Exit status 0 when every archive was converted (or skipped as done), 1 when some \
        archive's check kept it out of silver or it could not be read, 3 when none could be \
        read because the store is unreachable.

        With --queue NAME (and a PostgreSQL state, ARC_STATE=postgres://...) archive records \
        come from work queue NAME instead of stdin, for any number of converters on any \
        number of machines: arc-collect's results go in with `arc-queue push NAME`. Claims, \
        leases, --follow and exit statuses are arc-collect --queue's. An archive that cannot \
        be read fails for good (its store out of reach: back in the queue after a backoff); \
        a failed check is a done task whose record says so. Records gain queue {name, id, \
        attempt, settled}. The ledgers are written before the task is settled: a task run \
        again after its worker was killed reuses the Parquet file the ledger holds.
        """,
        options: [
            OptionSpec("dest", short: "d", valueName: "DIR|URL", help: "where silver files go: a directory or s3://BUCKET/PREFIX",
                       completion: .directory),
            OptionSpec("layout", short: "l", valueName: "TEMPLATE", help: "path of each file under --dest",
                       defaultValue: SilverTarget.defaultLayout),
            OptionSpec("gate", valueName: "LEVEL", help: "the check status that keeps an archive out of silver: fail, warn (stricter) or none",
                       choices: GatePolicy.allCases.map(\.rawValue), defaultValue: "fail"),
            OptionSpec("compression", valueName: "CODEC", help: "Parquet page compression",
                       choices: ParquetCompression.allCases.map(\.rawValue), defaultValue: "zstd"),
            OptionSpec("merge", valueName: "PERIOD", help: "one file per series and month from its daily archives (month)",
                       choices: ["month"]),
            OptionSpec("jobs", short: "j", valueName: "N", help: "archives converted at once", defaultValue: "2"),
            SilverCommand.sourceOption,
            .flag("force", help: "convert archives again even when the silver ledger has them"),
            .flag("strict", help: "stop at the first bad record instead of skipping it"),
        ] + QueueWorkerOptions.specs,
        arguments: [ArgumentSpec("ARCHIVE|FILE", help: "archives (.zip, .csv.gz or s3:// URLs) to convert, or files of result records; stdin when none or -",
                                 repeating: true, optional: true, completion: .file)],
        examples: [
            Example("The daily pipeline, with the silver step:",
                    "arc-discover binance --market spot --type aggTrades --symbol BTCUSDT --since 2025-01-01 | arc-plan --dest lake/bronze | arc-collect -j 64 | arc-convert --dest lake/silver"),
            Example("Convert archives on disk, and query them with DuckDB:",
                    "arc-convert --dest lake/silver data/spot/daily/aggTrades/BTCUSDT/*.zip && duckdb -c \"SELECT count(*) FROM read_parquet('lake/silver/spot/daily/aggTrades/**/*.parquet', hive_partitioning = true)\""),
        ],
        environment: SilverCommand.environment,
        seeAlso: ["arc-check(1)", "arc-collect(1)", "s3x(1)"])

    public static func main() -> Never {
        Tool.main(spec) { context in
            let p = context.parsed
            var options = SilverOptions(mode: .convert)
            guard let dest = p.value("dest"), !dest.isEmpty else { throw UsageError("missing --dest DIR or --dest s3://BUCKET/PREFIX") }
            options.target = try SilverTarget(dest: dest, layout: p.value("layout"))
            options.gate = GatePolicy(rawValue: p.value("gate") ?? "fail") ?? .fail
            options.parquet.compression = ParquetCompression(rawValue: p.value("compression") ?? "zstd") ?? .zstd
            options.mergeMonth = p.value("merge") == "month"
            options.queue = try QueueWorkerOptions.parse(p, statePath: context.statePath)
            if options.queue != nil && options.mergeMonth {
                throw UsageError("--queue with --merge month: a month is merged from all its days at the input's end, which a queue has not")
            }
            return try SilverCommand.run(context, options: &options)
        }
    }
}

/// What arc-check and arc-convert share: their options, inputs and exit statuses.
enum SilverCommand {
    /// --source, shared by arc-check and arc-convert.
    static let sourceOption = OptionSpec(
        "source", valueName: "NAME",
        help: "whose archives the arguments (and records without a source field) are: binance, bybit or kucoin; by default told by the key",
        choices: ArchiveIdentity.sources)

    static let environment = [
        EnvironmentSpec("ARC_STATE", "the state database holding the quality and silver ledgers (--state)"),
        EnvironmentSpec("AWS_ACCESS_KEY_ID", "credentials for s3:// archives and destinations (also AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws)"),
        EnvironmentSpec("AWS_ENDPOINT_URL", "an S3-compatible endpoint (also AWS_ENDPOINT_URL_S3)"),
        EnvironmentSpec("ARC_LOG_LEVEL", "the lowest log level written (--log-level)"),
        EnvironmentSpec("ARC_LOG_FORMAT", "human or json (--log-format)"),
    ]

    static func run(_ context: ToolContext, options: inout SilverOptions) throws -> ExitStatus {
        let p = context.parsed
        let log = context.log
        options.jobs = try p.int("jobs", range: 1...256) ?? 2
        options.force = p.flag("force")
        options.strict = p.flag("strict")
        options.parquet.createdBy = "arc version \(Tool.version)"
        // One memory budget shared by the archives in flight (row groups being built, pages
        // being filled, dictionaries, parsed batches), so peak RSS stays under 64 MB at -j 2.
        options.parquet.rowGroupBytes = max(2 << 20, (12 << 20) / options.jobs)
        options.parquet.pageBudget = max(1 << 20, (8 << 20) / options.jobs)
        options.parquet.dictionaryBudget = max(1 << 20, (6 << 20) / options.jobs)
        options.batchRows = max(8_192, 65_536 / options.jobs)
        options.chunksAhead = options.jobs > 1 ? 2 : ArchivePass.chunksAhead
        options.source = p.value("source")
        // Arguments ending in .zip or .gz (or s3:// URLs) are archives; the others are files of records.
        func isArchive(_ argument: String) -> Bool {
            argument.hasSuffix(".zip") || argument.hasSuffix(".gz") || S3URL.isS3(argument)
        }
        let archives = p.positionals.filter(isArchive)
        let recordFiles = p.positionals.filter { !isArchive($0) }
        for path in archives where !S3URL.isS3(path) && !FileSystem.exists(path) {
            throw UnavailableError(path, "no such file")
        }
        let input: RecordInput? = options.queue == nil && (archives.isEmpty || !recordFiles.isEmpty)
            ? RecordInput(paths: recordFiles, strict: options.strict, log: log) : nil
        try input?.checkSources()

        let stop = StopSignal.shared
        stop.install()
        stop.onStop { sig in
            log.warn("stopping on \(sig == 15 ? "SIGTERM" : "SIGINT"): finishing the archives in flight, writing nothing incomplete")
        }
        let state = try StateStore.openShared(context.statePath)
        let queue = try options.queue.map { o in
            try SilverQueue(worker: try QueueWorker(statePath: context.statePath, options: o, log: log), statePath: context.statePath)
        }
        // However the run ends, what the worker still holds goes back to the queue at once.
        defer { queue?.worker.close() }
        let runner = SilverRunner(options: options, state: state, log: log, output: BufferedOutput.stdout, stop: stop,
                                  queue: queue)
        let started = MonotonicClock.nanos()
        let s = try runner.run(arguments: archives, input: input)
        let seconds = Double(MonotonicClock.nanos() - started) / 1e9
        let badLines = input?.badLines ?? 0
        var message = "\(s.read) archives: \(s.passed) passed, \(s.warned) warned, \(s.failed) failed"
        if s.errors > 0 { message += ", \(s.errors) unreadable" }
        if s.cached > 0 { message += " (\(s.cached) known from the ledger)" }
        if options.mode == .convert {
            message += "; \(s.written) silver files written (\(HumanFormat.bytes(s.silverBytes))), \(s.reused) already done"
            if s.gated > 0 { message += ", \(s.gated) held back by the gate" }
        }
        message += "; \(s.rows) rows in \(HumanFormat.duration(seconds))"
        log.info(message, [
            "archives": .int(Int64(s.read)), "passed": .int(Int64(s.passed)), "warned": .int(Int64(s.warned)),
            "failed": .int(Int64(s.failed)), "errors": .int(Int64(s.errors)), "cached": .int(Int64(s.cached)),
            "written": .int(Int64(s.written)), "reused": .int(Int64(s.reused)), "gated": .int(Int64(s.gated)),
            "rows": .int(s.rows), "bad_lines": .int(Int64(badLines)), "duration_ms": .int(Int64(seconds * 1000)),
        ])
        let root = context.telemetry.root
        root.set("arc.archives", .int(Int64(s.read)))
        root.set("arc.failed", .int(Int64(s.failed + s.errors)))
        root.set("arc.rows", .int(s.rows))
        if stop.requested { return stop.exitStatus }
        if s.errors > 0 && s.unreachable == s.errors && s.passed + s.warned + s.failed == 0 { return .unavailable }
        // Warnings count when they were asked to: --fail-on warn, or --gate warn holding them back.
        let warningsCount = options.mode == .check ? options.failOnWarn : options.gate == .warn
        let failing = s.failed + s.errors + (warningsCount ? s.warned : 0)
        return failing > 0 || badLines > 0 ? .failures : .ok
    }
}

