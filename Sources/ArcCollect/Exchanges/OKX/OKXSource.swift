import ArcCore

/// `arc-discover okx`: lists OKX's daily archive files (static.okx.com) through the
/// market-data-history endpoint of OKX's public API, which answers a JSON manifest.
public enum OKXSource: ArchiveSource {
    public static let defaultListURL = "https://www.okx.com/"
    /// OKX allows this endpoint 5 requests per 2 seconds per address.
    public static let defaultRate = 2.0
    public static let defaultDays = 30

    public static let spec = CommandSpec(
        name: "okx",
        summary: "list OKX's daily archive (static.okx.com) through its market-data-history API",
        usage: ["--symbol INSTID[,INSTID...] [--type T] [--market M] [--since DATE] [--until DATE]"],
        description: """
        Lists the daily files OKX publishes at static.okx.com (trades in \
        cdn/okex/traderecords/trades/daily/ and a folder per day, YYYYMMDD, named \
        INSTID-trades-YYYY-MM-DD.zip; funding rates in .../swaprates/daily/, named \
        allswap-fundingrates-YYYY-MM-DD.zip) by asking the public API's manifest endpoint \
        (GET api/v5/public/market-data-history), one archive record per file.

        The endpoint wants the instruments named (instIdList): --symbol takes OKX instrument \
        ids, exactly (BTC-USDT spot, BTC-USDT-SWAP swap, BTC-USD-250926 futures); globs \
        cannot be expanded, as there is no list to match them against. It answers at most 5 \
        instruments and 10 days a call: the range is cut into such calls, sent -j at a time \
        and spaced to --rate per host (OKX allows 5 calls per 2 s); an answer of error 50011 \
        (too many requests) is waited out and asked again, up to --retries times. Without \
        --since and --until the last 30 days are listed.

        OKX's days are UTC+8 days: a file's date (and --since, --until) is the day as OKX \
        names it, which starts at 16:00 UTC the day before. Every record says so in \
        day_timezone: "+08:00".

        OKX publishes no checksums, and the manifest gives sizes only in rounded megabytes \
        (sizeMB), which cannot verify a download: records carry size null, checksum \
        {"kind":"none"}, the manifest's size_mb as written and size_approx_bytes (size_mb \
        taken as MiB). Record keys are the file URL's path; --download-url sends downloads \
        to a mirror of static.okx.com instead of the manifest's host.

        With --incremental, the state database's catalog remembers the last day listed for \
        each instrument, and the next run starts the day after (unless --since is given).
        """,
        options: [
            OptionSpec("type", short: "t", valueName: "TYPE",
                       help: "data type: trades (module 1) or fundingRates (module 3, swap instruments)",
                       choices: OKXDataset.allCases.map { $0.rawValue }, defaultValue: "trades"),
            OptionSpec("market", short: "m", kind: .list, valueName: "MARKET",
                       help: "markets the instruments must be in: spot, swap, futures (default: as each id says)",
                       choices: OKXMarket.allCases.map { $0.rawValue }),
            OptionSpec("symbol", short: "s", kind: .list, valueName: "INSTID",
                       help: "instrument ids, exactly (no globs): BTC-USDT, BTC-USDT-SWAP, BTC-USD-250926"),
            OptionSpec("since", valueName: "DATE", help: "first day wanted, a UTC+8 day (YYYY-MM-DD or YYYY-MM); default: 30 days before --until"),
            OptionSpec("until", valueName: "DATE", help: "last day wanted, a UTC+8 day (YYYY-MM-DD or YYYY-MM); default: yesterday in UTC+8"),
            .flag("incremental", help: "start each instrument the day after the last one listed by an earlier run (catalog in the state database)"),
            OptionSpec("jobs", short: "j", valueName: "N", help: "API calls in flight at once", defaultValue: "4"),
            OptionSpec("retries", valueName: "N", help: "attempts per call, the first included", defaultValue: "5"),
            OptionSpec("rate", valueName: "N", help: "API calls a second per host at most (OKX allows 5 per 2 s)",
                       defaultValue: "2"),
            OptionSpec("list-url", valueName: "URL", help: "base URL of OKX's API",
                       defaultValue: defaultListURL, environment: "ARC_OKX_LIST_URL"),
            OptionSpec("download-url", valueName: "URL",
                       help: "base URL archives are downloaded from (default: the manifest's URLs)",
                       environment: "ARC_OKX_DOWNLOAD_URL"),
        ],
        examples: [
            Example("BTC-USDT's spot and perpetual trades of January 2024 (UTC+8 days), into the pipeline:",
                    "arc-discover okx --symbol BTC-USDT,BTC-USDT-SWAP --since 2024-01-01 --until 2024-01-31 | arc-plan --dest ./data | arc-collect"),
            Example("A daily run listing only the days published since the last one:",
                    "arc-discover okx --incremental --symbol BTC-USDT-SWAP,ETH-USDT-SWAP"),
        ],
        environment: [
            EnvironmentSpec("ARC_OKX_LIST_URL", "the API base URL (--list-url)"),
            EnvironmentSpec("ARC_OKX_DOWNLOAD_URL", "the download base URL (--download-url)"),
        ])

    public static func run(_ context: ToolContext, output: BufferedOutput) throws -> ExitStatus {
        let p = context.parsed
        let log = context.log
        let dataset = OKXDataset(rawValue: p.value("type") ?? "trades") ?? .trades
        let instruments = try instruments(p, dataset: dataset)
        let jobs = try p.int("jobs", range: 1...64) ?? 4
        let retries = try p.int("retries", range: 1...100) ?? 5
        let rate = try rate(p)
        for name in ["list-url", "download-url"] {
            if let url = p.value(name), !url.isHTTPURL {
                throw UsageError("--\(name): expected an http:// or https:// URL, got '\(url)'")
            }
        }
        var listURL = p.value("list-url") ?? defaultListURL
        if !listURL.hasSuffix("/") { listURL += "/" }
        let downloadURL = p.value("download-url").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }

        let range = try ArchiveDateRange(p)
        let until = range.until ?? OKXRequest.utc8Today().adding(days: -1)
        let since = range.since ?? until.adding(days: -(defaultDays - 1))
        if since > until { throw UsageError("--since \(since) is after --until \(until)") }

        let catalog = p.flag("incremental") ? Catalog(try StateStore.openShared(context.statePath)) : nil
        var starts: [(id: String, market: OKXMarket, since: Day)] = []
        for (id, market) in instruments {
            var first = since
            if let catalog, range.since == nil,
               let last = try catalog.lastKey(prefix: catalogPrefix(dataset, market, id)).flatMap(Day.init) {
                first = last.adding(days: 1)
            }
            starts.append((id, market, first))
        }
        let requests = OKXRequest.plan(dataset: dataset, instruments: starts, until: until)

        var configuration = TransferConfiguration(maxConcurrent: jobs)
        configuration.hostRates = HostRateLimits(everyHost: rate)
        let engine = TransferEngine(configuration)
        engine.onRetry = { log.log(.warn, $0.message, fields: $0.logFields) }
        let stop = StopSignal.shared
        stop.install()
        stop.onStop { _ in engine.cancelAll() }

        let lister = OKXLister(engine: engine, listURL: listURL, retry: RetryPolicy(maxAttempts: retries, baseDelay: 1),
                               log: log)
        let started = MonotonicClock.nanos()
        let progress = ProgressLine(enabled: !context.quiet) {
            let t = lister.totals
            return "listing: \(t.requests) of \(requests.count) calls, \(t.files) files"
        }
        engine.submitOnLoop { lister.start(requests) }
        engine.start()
        engine.wait()
        progress.stop()
        if stop.requested { return stop.exitStatus }

        let found = lister.results
        var builder = RecordBuilder()
        var lastDay: [String: Day] = [:] // catalog prefix -> last day listed
        var written = 0
        for f in found {
            guard let record = record(for: f, dataset: dataset, downloadURL: downloadURL) else {
                log.warn("skipping a manifest entry whose day cannot be read", ["url": .string(f.file.url), "filename": .string(f.file.filename)])
                continue
            }
            let day = Day(record.date)!
            guard day >= f.request.first, day <= f.request.last else { continue }
            let prefix = catalogPrefix(dataset, f.request.market, f.file.instrument)
            if f.request.instruments.contains(f.file.instrument) { lastDay[prefix] = max(lastDay[prefix] ?? day, day) }
            builder.begin()
            record.encode(into: &builder)
            builder.string("day_timezone", "+08:00")
            builder.stringOrNull("size_mb", f.file.sizeMB)
            builder.intOrNull("size_approx_bytes", f.file.sizeMB.flatMap(OKXManifest.approximateBytes))
            builder.end()
            try output.write(builder.bytes)
            written += 1
        }
        try output.flush()

        let t = lister.totals
        // Only instruments whose every call answered: a failed window must be asked again.
        let failed = lister.failedPrefixes(dataset)
        try catalog?.record(marks: lastDay.filter { !failed.contains($0.key) }.map { ($0.key, $0.value.description) })
        var summary = ListingSummary()
        (summary.archives, summary.requests, summary.failedRequests, summary.retries)
            = (written, t.requests, t.failed, engine.stats.retries + t.retries)
        return summary.report(context, startedAt: started)
    }

    static func catalogPrefix(_ dataset: OKXDataset, _ market: OKXMarket, _ instrument: String) -> String {
        "okx/\(dataset.rawValue)/\(market.rawValue)/\(instrument)"
    }

    /// The archive record for a manifest entry; nil when its day cannot be read.
    static func record(for found: OKXLister.Found, dataset: OKXDataset, downloadURL: String?) -> Archive? {
        let f = found.file
        guard let day = OKXManifest.day(inFilename: f.filename) ?? f.dateTs.map(OKXRequest.utc8Day(millis:)) else { return nil }
        let key = path(of: f.url)
        let url = downloadURL.map { $0 + "/" + key } ?? f.url
        return Archive(source: "okx", market: found.request.market.rawValue, period: ArchivePeriod.daily.rawValue,
                       type: dataset.rawValue, symbol: symbol(in: f.filename) ?? f.instrument, interval: nil,
                       date: day.description, key: key, url: url, checksumURL: nil, size: nil, etag: nil,
                       lastModified: nil, checksum: ArchiveChecksum(kind: .none))
    }

    /// A URL's path without its leading slash (and without a query).
    static func path(of url: String) -> String {
        var rest = Substring(url)
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") { rest = rest[rest.index(colon, offsetBy: 3)...] }
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        let path = rest[rest.index(after: slash)...]
        return String(path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// The name's part before `-{what}-YYYY-MM-DD.zip`: the instrument for trades
    /// (BTC-USDT-SWAP), `allswap` for the funding rates of all swaps.
    static func symbol(in filename: String) -> String? {
        guard OKXManifest.day(inFilename: filename) != nil else { return nil }
        let stem = filename.dropLast(15) // "-YYYY-MM-DD.zip"
        guard let dash = stem.lastIndex(of: "-"), dash > stem.startIndex else { return nil }
        return String(stem[..<dash])
    }

    static func instruments(_ p: ParsedCommand, dataset: OKXDataset) throws -> [(String, OKXMarket)] {
        let ids = p.list("symbol")
        guard !ids.isEmpty else {
            throw UsageError("--symbol: OKX's manifest needs the instrument ids (e.g. BTC-USDT, BTC-USDT-SWAP); it has no list to expand globs from")
        }
        let markets = Set(p.list("market").compactMap(OKXMarket.init(rawValue:)))
        var out: [(String, OKXMarket)] = []
        for id in ids {
            if !Glob(id).isLiteral {
                throw UsageError("--symbol \(id): globs cannot be expanded (OKX's manifest lists only instruments it is given); name each instrument")
            }
            guard let market = OKXMarket(instrument: id) else {
                throw UsageError("--symbol \(id): not an OKX spot, swap or futures instrument id (BTC-USDT, BTC-USDT-SWAP, BTC-USD-250926)")
            }
            if !markets.isEmpty && !markets.contains(market) {
                throw UsageError("--symbol \(id) is a \(market.rawValue) instrument; --market asks for \(markets.sorted().map(\.rawValue).joined(separator: ","))")
            }
            if dataset == .fundingRates && market != .swap {
                throw UsageError("--type fundingRates: OKX publishes funding rates for swap instruments only; \(id) is \(market.rawValue)")
            }
            if !out.contains(where: { $0.0 == id }) { out.append((id, market)) }
        }
        return out
    }

    static func rate(_ p: ParsedCommand) throws -> Double { try p.rate("rate") ?? defaultRate }
}
