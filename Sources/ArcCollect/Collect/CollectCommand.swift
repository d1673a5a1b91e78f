import ArcCore

/// arc-collect: run collection tasks: download, verify, store, record in the ledger.
public enum CollectCommand {
    public static let spec = CommandSpec(
        name: "arc-collect",
        summary: "download, verify and store archives, recording them in the ledger",
        usage: ["[-j N] [OPTIONS] [FILE...]"],
        description: """
        Reads task records (from arc-plan) on stdin or from FILEs and runs them, up to N at \
        once, starting before the input ends. For each task it fetches the archive (and its \
        CHECKSUM file, when it has one) together, hashes the archive as the bytes arrive, \
        writes it to a temporary name beside dest, and only when it verifies renames it to \
        dest, once its bytes are on disk. How an archive is verified is its record's \
        checksum: a SHA-256 or MD5 sidecar, a hash, an ETag, a size or nothing (the section \
        Verification of the man page has the kinds). Verified files are flushed a batch at a \
        time (group commit: one syncfs before their renames and one after; on FUSE, an \
        fdatasync per file). The ledger in the state database is updated after the renames \
        are durable, then one result record per task is written to stdout: the task's \
        fields plus status (ok, skipped, failed), bytes, sha256 (of the bytes, whatever the \
        kind), verified (true only when a hash matched: sha256, md5, etag-md5), \
        verification (the kind checked), attempts, duration_ms and, on failure, error \
        {code, message}.

        An archive whose hash does not match its CHECKSUM (or a CHECKSUM file that is not \
        one) is most often a copy damaged on the way, by a proxy or a CDN edge: the archive \
        and its CHECKSUM are fetched again, from byte 0, within the attempts --retries allows \
        each request (all rounds together). The task fails with checksum_mismatch only when \
        two downloads bring the same wrong hash (the file upstream does not match its \
        CHECKSUM) or no attempts are left; nothing is stored, and the next run retries it.

        Error codes include checksum_mismatch, size_mismatch, bad_checksum_file, \
        checksum_missing, empty_archive, not_found, forbidden, server_error, connection_failed, connection_lost, timeout, \
        disk_full and interrupted. When every failure is connection_failed and nothing was \
        stored, the host is down or wrong: exit status 3. Each retry is logged as a warning \
        (it may still succeed); each task that fails for good, as an error.

        Tasks for one dest run one after the other, never at once (an archive listed twice, \
        or two archives a --layout puts at one path): the second finds the first's file and \
        verifies it.

        Transient failures (5xx, 403 outage pages, resets, timeouts, bodies cut short) are \
        retried with jittered exponential backoff, resuming with a Range request from the \
        bytes already received. A download cut by a crash or Ctrl-C is resumed by the next \
        run from its partial file. A transfer that stalls (no byte for --stall-timeout) is \
        cut and retried. A file already at dest with the listed size is verified against \
        the CHECKSUM instead of downloaded again (status skipped).

        SIGINT or SIGTERM stops cleanly: no new tasks start, transfers in flight are \
        abandoned (their partial files kept for resumption; result status failed, code \
        interrupted), finished ones are recorded, and nothing incomplete ever appears at a \
        final name. A second signal exits at once, equally safely.

        On a terminal a progress line shows files, bytes, rate and ETA, and a summary line \
        ends the run; elsewhere the summary is a log record on stderr.

        With --queue NAME (and a PostgreSQL state, ARC_STATE=postgres://...) tasks come from \
        the work queue arc-plan --queue filled, not from stdin: any number of workers on any \
        number of machines claim batches of them (FOR UPDATE SKIP LOCKED, so they never wait \
        for each other) under a lease the worker renews while it lives. A worker killed or \
        cut off stops renewing; after --lease its tasks go to the others. A worker that \
        cannot renew its leases in time stores nothing more (code lease_lost), so no file is \
        put at its final name by a worker that may have lost the task. Each task is settled \
        in the same transaction that records it in the ledger, exactly once: done, failed \
        for good (not_found, checksum_mismatch, ...; or after --max-attempts claims), or, \
        failed for now (network, server, disk), back in the queue after a backoff of 5 s \
        doubling to 5 min for any worker to try again. Result records gain queue {name, id, \
        attempt, settled}. The worker ends when the queue is drained (nothing pending or \
        leased anywhere) with the usual exit status, or keeps waiting with --follow; on \
        SIGINT or SIGTERM the tasks it holds go back to the queue at once. arc-queue shows \
        the queue's depth and its workers.
        """,
        options: [
            OptionSpec("jobs", short: "j", valueName: "N", help: "tasks in flight at once", defaultValue: "16"),
            OptionSpec("retries", valueName: "N", help: "attempts per request, the first included", defaultValue: "5"),
            OptionSpec("rate", valueName: "N",
                       help: "requests a second per host at most (default: no limit but for hosts known to ban: public.bybit.com 20)"),
            OptionSpec("retry-delay", valueName: "DURATION", help: "first backoff delay; doubles each retry, with jitter",
                       defaultValue: "500ms"),
            OptionSpec("stall-timeout", valueName: "DURATION", help: "cut and retry a transfer that receives nothing for this long; 0 never cuts",
                       defaultValue: "30s"),
            OptionSpec("connect-timeout", valueName: "DURATION", help: "give up connecting after this long", defaultValue: "10s"),
            .flag("dry-run", short: "n", help: "fetch and change nothing; write what would be done (status skipped, dry_run true)"),
            .flag("fail-fast", help: "stop at the first failed task (default: keep going)"),
            .flag("require-checksum", help: "fail tasks whose checksum kind is size or none (no hash to verify) instead of storing them unverified"),
            .flag("strict", help: "stop at the first bad record instead of skipping it"),
        ] + QueueWorkerOptions.specs,
        arguments: [ArgumentSpec("FILE", help: "files of task records; stdin when none or -", repeating: true,
                                 optional: true, completion: .file)],
        examples: [
            Example("The whole pipeline, 64 downloads at once:",
                    "arc-discover binance --market um --type klines --interval 1m --symbol BTCUSDT --since 2024-01-01 | arc-plan --dest ./data | arc-collect -j 64"),
            Example("A queue worker (start as many as you like, on any machine), until the queue is drained:",
                    "ARC_STATE=postgres://arc@db/arc arc-collect --queue binance -j 32"),
            Example("Show what failed in a run:",
                    "arc-collect -j 32 < tasks.ndjson | jq -c 'select(.status == \"failed\") | {key, error}'"),
        ],
        environment: [
            EnvironmentSpec("ARC_STATE", "the state database holding the ledger: a SQLite file or postgres://USER:PASSWORD@HOST/DB (--state)"),
            EnvironmentSpec("ARC_LOG_LEVEL", "the lowest log level written (--log-level)"),
            EnvironmentSpec("ARC_LOG_FORMAT", "human or json (--log-format)"),
        ],
        sections: [("Verification", """
        A task's checksum object says how its archive is verified; arc-collect hashes the \
        bytes as they arrive (SHA-256 always, MD5 besides when the kind is md5 or etag-md5), \
        also when a partial file is resumed or a file already at dest is checked (it is \
        hashed from byte 0). The kinds:

        sha256 with url: a sidecar file whose first token is 64 hex digits (Binance). A record \
        without checksum but with checksum_url means this; when a record has both, \
        checksum_url says where the sidecar is (null: none).

        md5 with url: a sidecar whose first token is 32 hex digits (KuCoin).

        sha256 or md5 with value: the hash itself, given in the record.

        etag-md5 with value: the listing's ETag of a single-part object, which is the MD5 of \
        its bytes (Bybit). A value that is not 32 hex digits, such as a multipart ETag \
        (HEX-N), is a bad field: the line is reported and skipped.

        size: only the byte count is compared with the record's size (size_mismatch). \
        none: stored unverified. Without checksum or checksum_url the kind is size when \
        the record has a size, else none. --require-checksum fails tasks of these two kinds \
        (checksum_missing).

        A mismatch names the kind (MD5 mismatch: expected X, got Y (etag-md5, ...)); as for \
        SHA-256, the archive is fetched again before the task fails with checksum_mismatch.

        A .gz archive of at most 128 bytes that verifies but inflates to nothing (Bybit \
        publishes some empty 44-byte gzips) is not stored: status failed, code empty_archive. \
        arc-plan does not plan it again while its etag and size are unchanged.
        """)],
        seeAlso: ["arc-discover(1)", "arc-plan(1)"])

    public static func main() -> Never {
        Tool.main(spec) { context in try run(context) }
    }

    static func run(_ context: ToolContext) throws -> ExitStatus {
        let p = context.parsed
        let log = context.log
        var options = CollectOptions()
        options.jobs = try p.int("jobs", range: 1...4096) ?? 16
        // Two connections and a file a job, and some to spare (state database, logs, pipes).
        let needed = options.jobs * 3 + 64, limit = OpenFileLimit.raise()
        if needed > limit {
            throw UsageError("-j \(options.jobs) needs about \(needed) open files; the limit is \(limit) "
                             + "(raise it with ulimit -n, or lower -j to \(max(1, (limit - 64) / 3)))")
        }
        options.retry = RetryPolicy(maxAttempts: try p.int("retries", range: 1...100) ?? 5,
                                    baseDelay: try p.duration("retry-delay") ?? 0.5, retryForbidden: true)
        options.stallTimeout = try p.duration("stall-timeout") ?? 30
        options.connectTimeout = try p.duration("connect-timeout") ?? 10
        options.dryRun = p.flag("dry-run")
        options.failFast = p.flag("fail-fast")
        options.requireChecksum = p.flag("require-checksum")
        if let rate = try p.rate("rate") { options.hostRates = HostRateLimits.forTool(rate: rate) }

        let queueOptions = try QueueWorkerOptions.parse(p, statePath: context.statePath)
        let stop = StopSignal.shared
        stop.install()
        let state = options.dryRun ? nil : try StateStore.openShared(context.statePath)
        let ledger = state.map { Ledger($0) }
        var queue: CollectQueue?
        if let queueOptions, let state {
            queue = try CollectQueue(worker: try QueueWorker(statePath: context.statePath, options: queueOptions, log: log),
                                     ledgerState: state)
        }
        // However the run ends, what the worker still holds goes back to the queue at once.
        defer { queue?.worker.close() }
        let output = BufferedOutput.stdout
        let collector = Collector(options: options, ledger: ledger, queue: queue, output: output, log: log,
                                  telemetry: context.telemetry)
        stop.onStop { sig in
            log.warn("stopping on \(sig == 15 ? "SIGTERM" : "SIGINT"): finishing what is done, keeping partial files")
            collector.stop()
        }
        let input = queue == nil ? RecordInput(paths: p.positionals, strict: p.flag("strict"), log: log) : nil
        try input?.checkSources()

        let started = MonotonicClock.nanos()
        let engine = collector.engine
        let progress = ProgressLine(enabled: !context.quiet) {
            let s = collector.progress
            let elapsed = Double(MonotonicClock.nanos() - started) / 1e9
            let bytes = engine.stats.bytesReceived
            let rate = elapsed > 0 ? Double(bytes) / elapsed : 0
            let done = s.ok + s.skipped + s.failed
            // Tasks arrive as a stream: the total, and so an ETA, is known only once it ends.
            var line = "collect: \(done)" + (s.inputComplete ? "/\(s.read)" : "") + " files"
            line += ", \(s.read - done) in flight, \(HumanFormat.bytes(bytes)), \(HumanFormat.rate(rate))"
            if s.inputComplete && done > 0 && s.read > done {
                line += ", ETA \(HumanFormat.duration(elapsed / Double(done) * Double(s.read - done)))"
            }
            if s.failed > 0 { line += ", \(s.failed) failed" }
            return line
        }
        // The summary is written however the run ends: a run stopped by a bad record
        // (--strict) or a broken state database has done work worth knowing about.
        var summary: CollectSummary
        var fatal: Error?
        do {
            summary = try collector.run(input)
        } catch {
            fatal = error
            summary = collector.progress
            summary.seconds = Double(MonotonicClock.nanos() - started) / 1e9
        }
        progress.stop()

        let rate = summary.seconds > 0 ? Double(summary.bytes) / summary.seconds : 0
        let badLines = input?.badLines ?? 0
        log.info("\(summary.read) tasks: \(summary.ok) ok, \(summary.skipped) skipped, \(summary.failed) failed"
                 + (summary.interrupted > 0 ? ", \(summary.interrupted) interrupted" : "")
                 + (summary.requeued > 0 ? ", \(summary.requeued) back in the queue" : "")
                 + "; \(HumanFormat.bytes(summary.bytes)) in \(HumanFormat.duration(summary.seconds)) (\(HumanFormat.rate(rate)))", [
            "tasks": .int(Int64(summary.read)), "ok": .int(Int64(summary.ok)), "skipped": .int(Int64(summary.skipped)),
            "failed": .int(Int64(summary.failed)), "interrupted": .int(Int64(summary.interrupted)),
            "bytes": .int(summary.bytes), "duration_ms": .int(Int64(summary.seconds * 1000)),
            "retries": .int(Int64(engine.stats.retries)), "bad_lines": .int(Int64(badLines)),
            "requeued": .int(Int64(summary.requeued)),
        ])
        let metrics = context.telemetry.metrics
        metrics.add("arc_collect_retries_total", Double(engine.stats.retries))
        metrics.add("arc_collect_bad_lines_total", Double(badLines))
        let root = context.telemetry.root
        for (key, value) in [("tasks", summary.read), ("ok", summary.ok), ("skipped", summary.skipped),
                             ("failed", summary.failed)] {
            root.set("arc.\(key)", .int(Int64(value)))
        }
        root.set("arc.bytes", .int(summary.bytes))
        if let fatal { throw fatal }
        if stop.requested { return stop.exitStatus }
        // Nothing could even be reached: the archive host is down or wrong, not the archives.
        if summary.unreachable > 0 && summary.unreachable == summary.failed && summary.ok + summary.skipped == 0 {
            return .unavailable
        }
        return summary.failed > 0 || badLines > 0 ? .failures : .ok
    }
}
