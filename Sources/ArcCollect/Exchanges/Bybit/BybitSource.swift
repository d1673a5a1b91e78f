import ArcCore

/// `arc-discover bybit`: lists Bybit's public archive (public.bybit.com).
public enum BybitSource: ArchiveSource {
    public static let defaultRate = 20.0

    public static let spec = CommandSpec(
        name: "bybit",
        summary: "list Bybit's public archive (public.bybit.com): derivatives and spot trades",
        usage: ["[--market M] [--period P] [--symbol S] [--since DATE] [--until DATE] [--index]"],
        description: """
        Lists the trade archives Bybit publishes at public.bybit.com: derivatives \
        (trading/SYM/SYMYYYY-MM-DD.csv.gz, market linear, daily) and spot \
        (spot/SYM/SYM_YYYY-MM-DD.csv.gz daily, spot/SYM/SYM-YYYY-MM.csv.gz monthly), one \
        archive record per file, as the listing goes.

        The listing is the S3 ListObjects of the bucket behind the CDN (undocumented, so it may \
        go away): when it cannot be reached, refuses (403) or answers something that is not \
        a listing, or with --index, the CDN's HTML index pages are read instead. Those have \
        no ETags: records then carry the size the page shows, if any.

        Bybit publishes no checksums. A record's checksum is the listing's ETag when it is \
        the MD5 of a single-part object ({"kind":"etag-md5","value":...}); a multipart ETag \
        (with a '-') or none leaves only the size ({"kind":"size"}).

        Bybit's CDN bans an address that asks more than about 40 times a second (403 for \
        minutes): requests are spaced to --rate per host, and a 403 from a host that had \
        answered is waited out as a ban (Retry-After, else a doubling backoff from 30 s; \
        ARC_BAN_BACKOFF_MS sets the first wait) and tried again.

        Odd names are logged and counted, never a failure: a file whose name is no archive \
        name is skipped; a file named for another symbol than its folder (DATAOLD01USDT/ \
        holds DATAUSDT... files) keeps its folder's symbol. Archives of 44 bytes or less (a \
        gzip of nothing) are listed with a warning.
        """,
        options: [
            OptionSpec("market", short: "m", kind: .list, valueName: "MARKET",
                       help: "markets: linear (trading/: perpetuals and inverse), spot",
                       choices: BybitMarket.allCases.map { $0.rawValue }),
            OptionSpec("period", short: "p", kind: .list, valueName: "PERIOD", help: "daily or monthly archives (monthly: spot only)",
                       choices: ArchivePeriod.allCases.map { $0.rawValue }),
            OptionSpec("type", short: "t", kind: .list, valueName: "TYPE", help: "data types: trades", choices: ["trades"]),
            OptionSpec("symbol", short: "s", kind: .list, valueName: "SYMBOL",
                       help: "symbols or globs, e.g. BTCUSDT,ETHUSDT or '*USDT'"),
            OptionSpec("since", valueName: "DATE", help: "first day wanted (YYYY-MM-DD or YYYY-MM)"),
            OptionSpec("until", valueName: "DATE", help: "last day wanted (YYYY-MM-DD or YYYY-MM)"),
            OptionSpec("list", valueName: "WHAT", help: "instead of archives, list the types or symbols the archive has",
                       choices: ["types", "symbols"]),
            .flag("incremental", help: "list only keys after those seen by the last run (catalog in the state database)"),
            .flag("index", help: "read the CDN's HTML index pages instead of trying the S3 listing first"),
            OptionSpec("jobs", short: "j", valueName: "N", help: "listing requests in flight at once", defaultValue: "16"),
            OptionSpec("retries", valueName: "N", help: "attempts per request, the first included", defaultValue: "5"),
            OptionSpec("rate", valueName: "N", help: "requests a second per host at most (Bybit bans above about 40)",
                       defaultValue: "20"),
            OptionSpec("page-size", valueName: "N", help: "keys per S3 listing page (max-keys)", defaultValue: "1000"),
            OptionSpec("list-url", valueName: "URL", help: "S3 listing endpoint of the bucket (path style)",
                       defaultValue: BybitEndpoints.defaultListURL, environment: "ARC_BYBIT_LIST_URL"),
            OptionSpec("download-url", valueName: "URL", help: "base URL archives are downloaded from",
                       defaultValue: BybitEndpoints.defaultDownloadURL, environment: "ARC_BYBIT_DOWNLOAD_URL"),
            OptionSpec("index-url", valueName: "URL", help: "base URL of the HTML index read when the S3 listing fails",
                       defaultValue: BybitEndpoints.defaultIndexURL, environment: "ARC_BYBIT_INDEX_URL"),
        ],
        examples: [
            Example("BTCUSDT's derivatives trades of January 2024, into the pipeline:",
                    "arc-discover bybit --market linear --symbol BTCUSDT --since 2024-01-01 --until 2024-01-31 | arc-plan --dest ./data | arc-collect"),
            Example("Every spot symbol ending in USDT:",
                    "arc-discover bybit --list symbols --market spot --symbol '*USDT'"),
            Example("A cheap daily run that lists only what is new since the last one:",
                    "arc-discover bybit --incremental --market linear --symbol 'BTC*'"),
        ],
        environment: [
            EnvironmentSpec("ARC_BYBIT_LIST_URL", "the S3 listing endpoint (--list-url)"),
            EnvironmentSpec("ARC_BYBIT_DOWNLOAD_URL", "the download base URL (--download-url)"),
            EnvironmentSpec("ARC_BYBIT_INDEX_URL", "the HTML index base URL (--index-url)"),
            EnvironmentSpec("ARC_BAN_BACKOFF_MS", "the first wait after a ban (403 from a host that had answered), in ms; 30000"),
        ])

    public static func run(_ context: ToolContext, output: BufferedOutput) throws -> ExitStatus {
        let p = context.parsed
        let log = context.log
        let selection = try selection(from: p)
        let mode = p.value("list").flatMap(BybitLister.Mode.init(rawValue:)) ?? .archives
        let jobs = try p.int("jobs", range: 1...1024) ?? 16
        let retries = try p.int("retries", range: 1...100) ?? 5
        let pageSize = try p.int("page-size", range: 1...1000) ?? 1000
        let rate = try rate(p)
        for name in ["list-url", "download-url", "index-url"] {
            if let url = p.value(name), !url.isHTTPURL {
                throw UsageError("--\(name): expected an http:// or https:// URL, got '\(url)'")
            }
        }
        let endpoints = BybitEndpoints(listURL: p.value("list-url") ?? BybitEndpoints.defaultListURL,
                                       downloadURL: p.value("download-url") ?? BybitEndpoints.defaultDownloadURL,
                                       indexURL: p.value("index-url") ?? BybitEndpoints.defaultIndexURL)
        let incremental = p.flag("incremental")
        if incremental && mode != .archives { throw UsageError("--incremental lists archives; it does not go with --list") }
        let catalog = incremental ? Catalog(try StateStore.openShared(context.statePath)) : nil

        var configuration = TransferConfiguration(maxConcurrent: jobs)
        configuration.hostRates = HostRateLimits(everyHost: rate)
        let retry = RetryPolicy(maxAttempts: retries)
        let stop = StopSignal.shared
        stop.install()

        var backend = FolderListing.Backend.s3(listURL: endpoints.listURL, pageSize: pageSize == 1000 ? nil : pageSize)
        if p.flag("index") {
            backend = .htmlIndex(baseURL: endpoints.indexURL)
        } else if let problem = probe(endpoints, market: selection.markets[0], configuration: configuration, stop: stop) {
            if stop.requested { return stop.exitStatus }
            log.warn("the S3 listing does not answer (\(problem)); reading the HTML index instead",
                     ["list_url": .string(endpoints.listURL), "index_url": .string(endpoints.indexURL)])
            backend = .htmlIndex(baseURL: endpoints.indexURL)
        }

        let usedIndex: Bool
        if case .htmlIndex = backend { usedIndex = true } else { usedIndex = false }
        let engine = TransferEngine(configuration)
        engine.onRetry = { log.log(.warn, $0.message, fields: $0.logFields) }
        stop.onStop { _ in engine.cancelAll() }
        let records = ArchiveRecordWriter(output)
        records.cancel = { engine.cancelAll() }
        let listing = FolderListing(backend: backend, engine: engine, retry: retry, log: log, pageDone: records.pageDone)
        let lister = BybitLister(
            selection: selection, endpoints: endpoints, listing: listing, mode: mode, log: log,
            catalogMark: { prefix in (try? catalog?.lastKey(prefix: prefix)) ?? nil },
            emit: records.write)
        let started = MonotonicClock.nanos()
        let progress = ProgressLine(enabled: !context.quiet) {
            let t = lister.totals
            return "listing: \(listing.totals.requests) requests, \(t.folders) folders, \(t.archives) archives"
        }
        lister.start()
        engine.start()
        engine.wait()
        progress.stop()
        try records.finish()
        if stop.requested { return stop.exitStatus }

        try writeListing(lister, mode: mode, output: output)
        try catalog?.record(marks: lister.completedMarks)
        let t = lister.totals, requests = listing.totals
        var summary = ListingSummary()
        (summary.archives, summary.folders, summary.requests, summary.failedRequests, summary.retries)
            = (t.archives, t.folders, requests.requests, requests.failedRequests, engine.stats.retries)
        summary.fields = [("odd_names", .int(Int64(t.oddNames))), ("empty_archives", .int(Int64(t.empty))),
                          ("listing", .string(usedIndex ? "html-index" : "s3"))]
        return summary.report(context, startedAt: started)
    }

    /// One small listing request: nil when the bucket answers a listing, else why not
    /// (unreachable, refused, not XML), for the fallback to the HTML index. Two attempts
    /// only: a dead endpoint should not hold the fallback up for long.
    static func probe(_ endpoints: BybitEndpoints, market: BybitMarket, configuration: TransferConfiguration,
                      stop: StopSignal) -> String? {
        let engine = TransferEngine(configuration)
        stop.onStop { _ in engine.cancelAll() }
        let sink = MemorySink()
        let problem = Locked<String?>("no answer")
        let url = endpoints.listURL + "?" + ListObjects.query(prefix: market.folder, delimiter: "/", marker: nil, maxKeys: 1)
        engine.submit(Transfer(TransferRequest(url: url, retry: RetryPolicy(maxAttempts: 2)), sink: sink) { result, _ in
            switch result {
            case .success:
                do {
                    _ = try ListObjects.parse(sink.bytes)
                    problem.withLock { $0 = nil }
                } catch { problem.withLock { $0 = "\(error)" } }
            case .failure(let error): problem.withLock { $0 = "\(error)" }
            }
        })
        engine.finishWhenIdle()
        engine.start()
        engine.wait()
        return problem.current
    }

    static func rate(_ p: ParsedCommand) throws -> Double { try p.rate("rate") ?? defaultRate }

    static func selection(from p: ParsedCommand) throws -> BybitSelection {
        var s = BybitSelection()
        let markets = p.list("market").compactMap(BybitMarket.init(rawValue:))
        if !markets.isEmpty { s.markets = markets }
        let periods = p.list("period").compactMap(ArchivePeriod.init(rawValue:))
        if !periods.isEmpty { s.periods = periods }
        if !s.markets.contains(where: { m in m.periods.contains(where: s.periods.contains) }) {
            throw UsageError("--period \(s.periods.map { $0.rawValue }.joined(separator: ",")): not published for market \(s.markets.map { $0.rawValue }.joined(separator: ","))")
        }
        s.symbols = p.list("symbol").map(Glob.init)
        s.dates = try ArchiveDateRange(p)
        return s
    }

    static func writeListing(_ lister: BybitLister, mode: BybitLister.Mode, output: BufferedOutput) throws {
        var b = RecordBuilder()
        switch mode {
        case .archives:
            return
        case .types:
            for market in BybitMarket.allCases where lister.listedMarkets.contains(market.rawValue) {
                b.begin()
                b.string("source", "bybit")
                b.string("market", market.rawValue)
                b.string("type", "trades")
                b.strings("periods", market.periods.map { $0.rawValue })
                b.end()
                try output.write(b.bytes)
            }
        case .symbols:
            for (market, symbols) in lister.listedSymbols.sorted(by: { $0.key < $1.key }) {
                for symbol in symbols.sorted() {
                    b.begin()
                    b.string("source", "bybit")
                    b.string("market", market)
                    b.string("symbol", symbol)
                    b.strings("types", ["trades"])
                    b.end()
                    try output.write(b.bytes)
                }
            }
        }
        try output.flush()
    }
}
