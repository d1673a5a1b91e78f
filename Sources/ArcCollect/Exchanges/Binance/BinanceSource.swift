import ArcCore

/// `arc-discover binance`: lists Binance's public archive (data.binance.vision).
public enum BinanceSource: ArchiveSource {
    public static let spec = CommandSpec(
        name: "binance",
        summary: "list Binance's public archive (data.binance.vision)",
        usage: ["[--market M] [--period P] [--type T] [--symbol S] [--interval I] [--since DATE] [--until DATE]"],
        description: """
        Lists the archives Binance publishes at data.binance.vision, using the bucket's S3 \
        listing (ListObjects v1, every page, many folders at once), and writes one archive \
        record per zip file as the listing goes. Symbols, types and intervals come from the \
        listing itself, never from the trading API, so delisted symbols are found too.

        Filters combine; a filter left out means everything listed. --symbol takes exact \
        names and shell globs ('*USDT'). --since and --until take YYYY-MM-DD or YYYY-MM and \
        keep the archives whose day (or month) overlaps the range; listings start at --since \
        instead of reading the whole folder.

        With --incremental, the state database's catalog remembers the last key seen in each \
        folder and the next run lists only what came after it: new archives, cheaply. A full \
        listing (without --incremental) also notices archives republished in place, so run \
        one now and then.
        """,
        options: [
            OptionSpec("market", short: "m", kind: .list, valueName: "MARKET",
                       help: "markets: spot, um (USD-M futures), cm (COIN-M futures), option",
                       choices: BinanceMarket.allCases.map { $0.rawValue }),
            OptionSpec("period", short: "p", kind: .list, valueName: "PERIOD", help: "daily or monthly archives",
                       choices: ArchivePeriod.allCases.map { $0.rawValue }),
            OptionSpec("type", short: "t", kind: .list, valueName: "TYPE", help: "data types, e.g. klines, trades, aggTrades",
                       choices: BinanceDatasets.typeNames),
            OptionSpec("symbol", short: "s", kind: .list, valueName: "SYMBOL",
                       help: "symbols or globs, e.g. BTCUSDT,ETHUSDT or '*USDT'"),
            OptionSpec("interval", short: "i", kind: .list, valueName: "INTERVAL",
                       help: "kline intervals, e.g. 1m,1h,1d (1mo for months)", choices: BinanceDatasets.intervals),
            OptionSpec("since", valueName: "DATE", help: "first day wanted (YYYY-MM-DD or YYYY-MM)"),
            OptionSpec("until", valueName: "DATE", help: "last day wanted (YYYY-MM-DD or YYYY-MM)"),
            OptionSpec("list", valueName: "WHAT",
                       help: "instead of archives, list the types, symbols or intervals the archive has",
                       choices: ["types", "symbols", "intervals"]),
            .flag("incremental", help: "list only keys after those seen by the last run (catalog in the state database)"),
            OptionSpec("jobs", short: "j", valueName: "N", help: "listing requests in flight at once", defaultValue: "16"),
            OptionSpec("retries", valueName: "N", help: "attempts per request, the first included", defaultValue: "5"),
            OptionSpec("list-url", valueName: "URL", help: "S3 listing endpoint of the bucket (path style)",
                       defaultValue: BinanceEndpoints.defaultListURL, environment: "ARC_BINANCE_LIST_URL"),
            OptionSpec("download-url", valueName: "URL", help: "base URL archives are downloaded from",
                       defaultValue: BinanceEndpoints.defaultDownloadURL, environment: "ARC_BINANCE_DOWNLOAD_URL"),
        ],
        examples: [
            Example("USD-M futures 1m klines of two symbols since 2024, into the pipeline:",
                    "arc-discover binance --market um --type klines --interval 1m --symbol BTCUSDT,ETHUSDT --since 2024-01-01 | arc-plan --dest ./data | arc-collect -j 64"),
            Example("Every spot symbol ending in USDT that has daily trades:",
                    "arc-discover binance --list symbols --market spot --type trades --period daily --symbol '*USDT'"),
            Example("A cheap daily run that lists only what is new since the last one:",
                    "arc-discover binance --incremental --market spot --type klines --interval 1d"),
        ],
        environment: [
            EnvironmentSpec("ARC_BINANCE_LIST_URL", "the S3 listing endpoint (--list-url)"),
            EnvironmentSpec("ARC_BINANCE_DOWNLOAD_URL", "the download base URL (--download-url)"),
        ])

    public static func run(_ context: ToolContext, output: BufferedOutput) throws -> ExitStatus {
        let p = context.parsed
        let log = context.log
        let selection = try selection(from: p)
        let mode = p.value("list").flatMap(BinanceLister.Mode.init(rawValue:)) ?? .archives
        let jobs = try p.int("jobs", range: 1...1024) ?? 16
        let retries = try p.int("retries", range: 1...100) ?? 5
        for name in ["list-url", "download-url"] {
            if let url = p.value(name), !url.isHTTPURL {
                throw UsageError("--\(name): expected an http:// or https:// URL, got '\(url)'")
            }
        }
        let endpoints = BinanceEndpoints(listURL: p.value("list-url") ?? BinanceEndpoints.defaultListURL,
                                         downloadURL: p.value("download-url") ?? BinanceEndpoints.defaultDownloadURL)
        let incremental = p.flag("incremental")
        if incremental && mode != .archives { throw UsageError("--incremental lists archives; it does not go with --list") }

        // The state database is needed only for --incremental.
        let catalog = incremental ? Catalog(try StateStore.openShared(context.statePath)) : nil

        let stop = StopSignal.shared
        stop.install()
        let engine = TransferEngine(TransferConfiguration(maxConcurrent: jobs))
        // A retry may still succeed: a warning. A listing that fails for good is an error (BinanceLister).
        engine.onRetry = { log.log(.warn, $0.message, fields: $0.logFields) }
        stop.onStop { _ in engine.cancelAll() }

        var builder = RecordBuilder()
        var writeError: Error?
        let lister = BinanceLister(
            selection: selection, endpoints: endpoints, engine: engine,
            retry: RetryPolicy(maxAttempts: retries, retryForbidden: true), mode: mode, log: log,
            catalogMark: { prefix in (try? catalog?.lastKey(prefix: prefix)) ?? nil },
            emit: { archive in
                guard writeError == nil else { return }
                builder.begin()
                archive.encode(into: &builder)
                builder.end()
                do { try output.write(builder.bytes) } catch {
                    writeError = error
                    engine.cancelAll()
                }
            },
            pageDone: {
                guard writeError == nil else { return }
                do { try output.flush() } catch {
                    writeError = error
                    engine.cancelAll()
                }
            },
            telemetry: context.telemetry)
        let started = MonotonicClock.nanos()
        let progress = ProgressLine(enabled: !context.quiet) {
            let t = lister.totals
            return "listing: \(t.requests) requests, \(t.folders) folders, \(t.archives) archives"
        }
        lister.start()
        engine.start()
        engine.wait()
        progress.stop()
        if let writeError { throw writeError }
        if stop.requested { return stop.exitStatus }

        try writeListing(lister, mode: mode, output: output)
        if let catalog, !lister.completedMarks.isEmpty {
            let now = WallClock.now()
            try catalog.transaction {
                for mark in lister.completedMarks { try catalog.record(prefix: mark.prefix, lastKey: mark.lastKey, at: now) }
            }
        }
        let t = lister.totals
        let seconds = Double(MonotonicClock.nanos() - started) / 1e9
        log.info("listed \(t.archives) archives in \(t.folders) folders", [
            "archives": .int(Int64(t.archives)), "folders": .int(Int64(t.folders)), "requests": .int(Int64(t.requests)),
            "failed_requests": .int(Int64(t.failedRequests)), "retries": .int(Int64(engine.stats.retries)),
            "duration_ms": .int(Int64(seconds * 1000)),
        ])
        let m = context.telemetry.metrics
        for (name, help, value) in [
            ("arc_discover_archives_total", "archive records written", t.archives),
            ("arc_discover_folders_total", "folders listed", t.folders),
            ("arc_discover_requests_total", "listing requests made", t.requests),
            ("arc_discover_failed_requests_total", "listing requests that failed after their retries", t.failedRequests),
            ("arc_discover_retries_total", "listing requests retried", engine.stats.retries),
        ] {
            m.declare(name, .counter, help: help)
            m.add(name, Double(value))
        }
        context.telemetry.root.set("arc.archives", .int(Int64(t.archives)))
        if t.failedRequests > 0 {
            return t.failedRequests == t.requests ? .unavailable : .failures
        }
        return .ok
    }

    static func selection(from p: ParsedCommand) throws -> BinanceSelection {
        var s = BinanceSelection()
        let markets = p.list("market").compactMap(BinanceMarket.init(rawValue:))
        if !markets.isEmpty { s.markets = markets }
        let periods = p.list("period").compactMap(ArchivePeriod.init(rawValue:))
        if !periods.isEmpty { s.periods = periods }
        let types = p.list("type")
        if !types.isEmpty {
            s.types = types
            let offered = Set(s.markets.flatMap { m in BinanceDatasets.all.filter { $0.market == m }.map { $0.type } })
            let unknown = types.filter { !offered.contains($0) }
            if unknown.count == types.count {
                throw UsageError("--type: \(unknown.joined(separator: ", ")) not published for market \(s.markets.map { $0.rawValue }.joined(separator: ", "))")
            }
        }
        s.symbols = p.list("symbol").map(Glob.init)
        let intervals = p.list("interval")
        if !intervals.isEmpty { s.intervals = intervals }
        s.since = try date(p, "since", endOfMonth: false)
        s.until = try date(p, "until", endOfMonth: true)
        if let a = s.since, let b = s.until, a > b { throw UsageError("--since \(a) is after --until \(b)") }
        return s
    }

    static func date(_ p: ParsedCommand, _ name: String, endOfMonth: Bool) throws -> Day? {
        guard let text = p.value(name) else { return nil }
        if let day = Day(text) { return day }
        if let month = Month(text) { return endOfMonth ? month.lastDay : month.firstDay }
        throw UsageError("--\(name): expected a date YYYY-MM-DD or a month YYYY-MM, got '\(text)'")
    }

    /// The --list answers, gathered over the whole walk and written sorted.
    static func writeListing(_ lister: BinanceLister, mode: BinanceLister.Mode, output: BufferedOutput) throws {
        var b = RecordBuilder()
        func write(_ body: (inout RecordBuilder) -> Void) throws {
            b.begin()
            b.string("source", "binance")
            body(&b)
            b.end()
            try output.write(b.bytes)
        }
        switch mode {
        case .archives:
            return
        case .types:
            for (market, period, type) in lister.listedTypes.sorted(by: { ($0.0.rawValue, $0.1.rawValue, $0.2) < ($1.0.rawValue, $1.1.rawValue, $1.2) }) {
                try write {
                    $0.string("market", market.rawValue)
                    $0.string("period", period.rawValue)
                    $0.string("type", type)
                }
            }
        case .symbols:
            for (key, entry) in lister.listedSymbols.sorted(by: { $0.key < $1.key }) {
                let parts = key.split(separator: "\t").map(String.init)
                try write {
                    $0.string("market", parts[0])
                    $0.string("symbol", parts[1])
                    $0.strings("types", entry.types.sorted())
                    $0.strings("periods", entry.periods.sorted())
                }
            }
        case .intervals:
            for (key, count) in lister.listedIntervals.sorted(by: { $0.key < $1.key }) {
                let parts = key.split(separator: "\t").map(String.init)
                try write {
                    $0.string("market", parts[0])
                    $0.string("period", parts[1])
                    $0.string("type", parts[2])
                    $0.string("interval", parts[3])
                    $0.int("symbols", count)
                }
            }
        }
        try output.flush()
    }
}
