import ArcCore

/// The command around a `TreeLister`, shared by the sources whose archives are laid out
/// like Binance's: the filters, the transfer engine, records written page by page, the
/// --list answers, the --incremental catalog, the summary and the exit status.
public enum TreeDiscovery<Tree: DatedArchiveTree> {
    /// Lists the tree with the options every such source shares (--list, --jobs, --retries,
    /// --incremental, --list-url, --download-url); `endpoints` makes the endpoints from the
    /// two URLs (nil: the source's defaults); `symbolNote`, when given, is written on every
    /// `--list symbols` record.
    public static func run(_ context: ToolContext, output: BufferedOutput, selection: TreeSelection<Tree.Market>,
                           endpoints makeEndpoints: (_ listURL: String?, _ downloadURL: String?) -> any BucketEndpoints,
                           symbolNote: String? = nil) throws -> ExitStatus {
        let p = context.parsed
        let log = context.log
        let mode = p.value("list").flatMap(TreeListMode.init(rawValue:)) ?? .archives
        let jobs = try p.int("jobs", range: 1...1024) ?? 16
        let retries = try p.int("retries", range: 1...100) ?? 5
        for name in ["list-url", "download-url"] {
            if let url = p.value(name), !url.isHTTPURL {
                throw UsageError("--\(name): expected an http:// or https:// URL, got '\(url)'")
            }
        }
        let endpoints = makeEndpoints(p.value("list-url"), p.value("download-url"))
        let incremental = p.flag("incremental")
        if incremental && mode != .archives { throw UsageError("--incremental lists archives; it does not go with --list") }

        // The state database is needed only for --incremental.
        let catalog = incremental ? Catalog(try StateStore.openShared(context.statePath)) : nil

        let stop = StopSignal.shared
        stop.install()
        let engine = TransferEngine(TransferConfiguration(maxConcurrent: jobs))
        // A retry may still succeed: a warning. A listing that fails for good is an error (TreeLister).
        engine.onRetry = { log.log(.warn, $0.message, fields: $0.logFields) }
        stop.onStop { _ in engine.cancelAll() }

        let records = ArchiveRecordWriter(output)
        records.cancel = { engine.cancelAll() }
        let lister = TreeLister<Tree>(
            selection: selection, endpoints: endpoints, engine: engine,
            retry: RetryPolicy(maxAttempts: retries, retryForbidden: true), mode: mode, log: log,
            catalogMark: { prefix in (try? catalog?.lastKey(prefix: prefix)) ?? nil },
            emit: records.write, pageDone: records.pageDone,
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
        try records.finish()
        if stop.requested { return stop.exitStatus }

        try writeListing(lister, mode: mode, symbolNote: symbolNote, output: output)
        try catalog?.record(marks: lister.completedMarks)
        let t = lister.totals
        var summary = ListingSummary()
        (summary.archives, summary.folders, summary.requests, summary.failedRequests, summary.retries)
            = (t.archives, t.folders, t.requests, t.failedRequests, engine.stats.retries)
        return summary.report(context, startedAt: started)
    }

    /// The filters every such source shares: --market, --period, --type, --symbol,
    /// --interval, --since, --until.
    public static func selection(from p: ParsedCommand) throws -> TreeSelection<Tree.Market> {
        var s = TreeSelection<Tree.Market>()
        let markets = p.list("market").compactMap(Tree.Market.init(rawValue:))
        if !markets.isEmpty { s.markets = markets }
        let periods = p.list("period").compactMap(ArchivePeriod.init(rawValue:))
        if !periods.isEmpty { s.periods = periods }
        let types = p.list("type")
        if !types.isEmpty {
            s.types = types
            let unknown = types.filter { t in !s.markets.contains { Tree.periods($0, t) != nil } }
            if unknown.count == types.count {
                throw UsageError("--type: \(unknown.joined(separator: ", ")) not published for market \(s.markets.map { $0.rawValue }.joined(separator: ", "))")
            }
        }
        s.symbols = p.list("symbol").map(Glob.init)
        let intervals = p.list("interval")
        if !intervals.isEmpty { s.intervals = intervals }
        let dates = try ArchiveDateRange(p)
        (s.since, s.until) = (dates.since, dates.until)
        return s
    }

    /// The --list answers, gathered over the whole walk and written sorted.
    static func writeListing(_ lister: TreeLister<Tree>, mode: TreeListMode, symbolNote: String?, output: BufferedOutput) throws {
        var b = RecordBuilder()
        func write(_ body: (inout RecordBuilder) -> Void) throws {
            b.begin()
            b.string("source", Tree.source)
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
                    if let symbolNote { $0.string("note", symbolNote) }
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
