import ArcCore

/// What arc-discover lists from a tree: archives, or one of the --list answers.
public enum TreeListMode: String, CaseIterable, Sendable {
    case archives, types, symbols, intervals
}

/// Walks the listing of a Binance-shaped tree (`DatedArchiveTree`): period folders, type
/// folders (some inside a group folder), symbol folders, interval folders, files. Many folders are listed at once through the transfer engine;
/// every page of every folder is read (1000 entries a page), prefixes always end in `/`
/// (so `1m` never matches `1mo/`), and archive records are emitted page by page.
///
/// All state is touched only on the engine's thread (from completion handlers), and so
/// are the `emit` and `pageDone` closures; only `totals`, which the progress line reads
/// from its own thread, is behind a lock.
public final class TreeLister<Tree: DatedArchiveTree>: @unchecked Sendable { // confined to the engine thread, but `counts`, which has its own lock
    public typealias Mode = TreeListMode
    public typealias Market = Tree.Market
    private typealias Keys = TreeKeys<Tree.Market>

    /// What the walk found, for the summary and the exit status.
    public struct Totals: Sendable {
        public var requests = 0
        public var failedRequests = 0
        public var archives = 0
        public var folders = 0
    }

    private enum Level {
        case period(Market, ArchivePeriod)
        case typeGroup(Market, ArchivePeriod, String)
        case type(Market, ArchivePeriod, String)
        case symbol(Market, ArchivePeriod, String, String)
        case interval(Market, ArchivePeriod, String, String, String)
    }

    /// A folder whose files are being listed, across its pages.
    private struct FolderState {
        var pendingZip: String?
        /// A zip without a CHECKSUM was seen: the catalog mark stops before it.
        var blocked = false
        var safeKey: String?
    }

    private let selection: TreeSelection<Market>
    private let endpoints: any BucketEndpoints
    private let engine: TransferEngine
    private let retry: RetryPolicy
    private let mode: Mode
    private let log: Logger
    /// Start markers per leaf folder from the catalog (--incremental).
    private let catalogMark: (String) -> String?
    private let emit: (Archive) -> Void
    private let pageDone: () -> Void
    /// A span per listing request (one page of up to 1,000 keys) when tracing.
    private let telemetry: Telemetry?

    private var outstanding = 0
    private var folders: [String: FolderState] = [:]
    private let counts = Locked(Totals())
    public var totals: Totals { counts.current }
    /// Leaf folders listed to the end, with the key the next incremental listing starts after.
    public private(set) var completedMarks: [(prefix: String, lastKey: String)] = []
    // Aggregates for --list.
    public private(set) var listedTypes: [(Market, ArchivePeriod, String)] = []
    public private(set) var listedSymbols: [String: (types: Set<String>, periods: Set<String>)] = [:]
    public private(set) var listedIntervals: [String: Int] = [:]

    public init(selection: TreeSelection<Market>, endpoints: any BucketEndpoints, engine: TransferEngine, retry: RetryPolicy,
                mode: Mode, log: Logger, catalogMark: @escaping (String) -> String?,
                emit: @escaping (Archive) -> Void, pageDone: @escaping () -> Void, telemetry: Telemetry? = nil) {
        self.telemetry = telemetry?.isTracing == true ? telemetry : nil
        self.selection = selection
        self.endpoints = endpoints
        self.engine = engine
        self.retry = retry
        self.mode = mode
        self.log = log
        self.catalogMark = catalogMark
        self.emit = emit
        self.pageDone = pageDone
    }

    /// Submits the first listings. Call before starting the engine; the engine is told to
    /// finish once the last listing is done.
    public func start() {
        for market in selection.markets {
            for period in selection.periods {
                if let types = selection.types, mode != .types {
                    for type in types {
                        // Skip folders the table says cannot exist (spot has no bookDepth,
                        // fundingRate no daily files).
                        guard let periods = Tree.periods(market, type), periods.contains(period) else { continue }
                        enterType(market, period, type)
                    }
                } else {
                    list(.period(market, period), Keys.periodFolder(market, period), marker: nil)
                }
            }
        }
        if outstanding == 0 { engine.finishWhenIdle() }
    }

    // MARK: walking down

    private func enterType(_ market: Market, _ period: ArchivePeriod, _ type: String) {
        // Exact symbol names need no listing of the type folder, except for --list symbols,
        // which is asked precisely to learn which exist.
        if let symbols = selection.literalSymbols, mode != .symbols {
            for symbol in symbols { enterSymbol(market, period, type, symbol) }
        } else {
            list(.type(market, period, type), Keys.typeFolder(market, period, type), marker: nil)
        }
    }

    private func enterSymbol(_ market: Market, _ period: ArchivePeriod, _ type: String, _ symbol: String) {
        let folder = Keys.typeFolder(market, period, type) + symbol + "/"
        let folders = Tree.intervalFolders(type)
        if folders == .always, let intervals = selection.intervals, mode == .archives {
            for interval in intervals { enterInterval(market, period, type, symbol, interval) }
            return
        }
        // Known non-kline types keep their files right here: start after --since or the catalog.
        var marker: String?
        if mode == .archives && folders == .never && Tree.periods(market, type) != nil {
            marker = startMarker(folder: folder, stem: Keys.stem(symbol: symbol, type: type, interval: nil), period: period)
        }
        list(.symbol(market, period, type, symbol), folder, marker: marker)
    }

    private func enterInterval(_ market: Market, _ period: ArchivePeriod, _ type: String, _ symbol: String, _ interval: String) {
        let folder = Keys.typeFolder(market, period, type) + symbol + "/" + interval + "/"
        let stem = Keys.stem(symbol: symbol, type: type, interval: interval)
        list(.interval(market, period, type, symbol, interval), folder,
             marker: startMarker(folder: folder, stem: stem, period: period))
    }

    private func startMarker(folder: String, stem: String, period: ArchivePeriod) -> String? {
        let since = selection.sinceMarker(folder: folder, stem: stem, period: period)
        let known = catalogMark(folder)
        switch (since, known) {
        case let (a?, b?): return max(a, b)
        case let (a, b): return a ?? b
        }
    }

    // MARK: requests

    private func list(_ level: Level, _ prefix: String, marker: String?) {
        outstanding += 1
        counts.withLock { $0.requests += 1 }
        let sink = MemorySink()
        let request = TransferRequest(url: endpoints.listingURL(prefix: prefix, marker: marker), retry: retry)
        let started = telemetry == nil ? 0 : WallClock.nowNanos()
        engine.submit(Transfer(request, sink: sink) { [self] result, attempts in
            outstanding -= 1
            var failure: Error?
            var keys = 0
            switch result {
            case .success:
                do {
                    let page = try ListObjects.parse(sink.bytes)
                    keys = page.objects.count + page.commonPrefixes.count
                    handle(page, next: try page.continuation(after: marker), level: level, prefix: prefix)
                } catch {
                    failure = error
                    fail(prefix, error)
                }
            case .failure(let error):
                failure = error
                if case .cancelled = error {} else { fail(prefix, error) }
            }
            if let telemetry {
                var attributes: [(String, LogValue)] = [("prefix", .string(prefix)), ("keys", .int(Int64(keys))),
                                                        ("attempts", .int(Int64(attempts)))]
                if let marker { attributes.append(("marker", .string(marker))) }
                if let code = (failure as? ArcError)?.code { attributes.append(("error.code", .string(code.rawValue))) }
                let root = telemetry.root.context
                telemetry.tracer.record("discover.list", context: root.child(), parentSpanID: root.spanID,
                                        startNanos: started, endNanos: WallClock.nowNanos(),
                                        status: failure == nil ? .ok : .error, message: failure.map { "\($0)" },
                                        attributes: attributes)
            }
            pageDone()
            if outstanding == 0 { engine.finishWhenIdle() }
        })
    }

    private func fail(_ prefix: String, _ error: Error) {
        // The folder stays unfinished: no catalog mark is recorded for it.
        counts.withLock { $0.failedRequests += 1 }
        log.listingFailed(prefix, error)
    }

    private func foundType(_ market: Market, _ period: ArchivePeriod, _ type: String) {
        guard selection.wantsType(type) else { return }
        if mode == .types {
            listedTypes.append((market, period, type))
        } else {
            enterType(market, period, type)
        }
    }

    private func handle(_ page: ListPage, next: String?, level: Level, prefix: String) {
        switch level {
        case .period(let market, let period):
            for sub in page.commonPrefixes {
                let type = Keys.lastComponent(sub)
                if Tree.typeGroups.contains(type) {
                    if selection.wantsTypeGroup(type) { list(.typeGroup(market, period, type), sub, marker: nil) }
                    continue
                }
                foundType(market, period, type)
            }
        case .typeGroup(let market, let period, let group):
            for sub in page.commonPrefixes { foundType(market, period, group + "/" + Keys.lastComponent(sub)) }
        case .type(let market, let period, let type):
            for sub in page.commonPrefixes {
                let symbol = Keys.lastComponent(sub)
                guard selection.wantsSymbol(symbol) else { continue }
                if mode == .symbols {
                    let key = market.rawValue + "\t" + symbol
                    var entry = listedSymbols[key] ?? (types: [], periods: [])
                    entry.types.insert(type)
                    entry.periods.insert(period.rawValue)
                    listedSymbols[key] = entry
                } else {
                    enterSymbol(market, period, type, symbol)
                }
            }
        case .symbol(let market, let period, let type, let symbol):
            for sub in page.commonPrefixes {
                let interval = Keys.lastComponent(sub)
                guard selection.wantsInterval(interval) else { continue }
                if mode == .intervals {
                    listedIntervals[[market.rawValue, period.rawValue, type, interval].joined(separator: "\t"), default: 0] += 1
                } else {
                    enterInterval(market, period, type, symbol, interval)
                }
            }
            // Types without intervals keep their files here.
            if mode == .archives, files(page, prefix: prefix, market, period, type, symbol, nil, hasNext: next != nil) {
                return
            }
        case .interval(let market, let period, let type, let symbol, let interval):
            if files(page, prefix: prefix, market, period, type, symbol, interval, hasNext: next != nil) { return }
        }
        if let next { list(level, prefix, marker: next) }
    }

    /// Emits the archives on one page of a leaf folder. Returns true when the folder needs
    /// no further pages (past --until).
    private func files(_ page: ListPage, prefix: String, _ market: Market, _ period: ArchivePeriod, _ type: String,
                       _ symbol: String, _ interval: String?, hasNext: Bool) -> Bool {
        var state = folders[prefix] ?? FolderState()
        var pastUntil = false
        for object in page.objects {
            let name = object.key.dropFirst(prefix.count)
            guard object.key.hasPrefix(prefix), !name.contains("/") else { continue }
            if name.hasSuffix(".CHECKSUM") {
                let zip = object.key.dropLast(".CHECKSUM".count)
                if state.pendingZip.map({ $0 == zip }) ?? false { state.pendingZip = nil }
                if !state.blocked && state.pendingZip == nil { state.safeKey = object.key }
                continue
            }
            guard let date = Keys.date(ofFile: name, period: period) else {
                log.debug("not an archive name, skipped", ["key": .string(object.key)])
                continue
            }
            if state.pendingZip != nil { state.blocked = true }
            switch selection.position(of: date, period: period) {
            case .after:
                pastUntil = true
            case .before:
                state.pendingZip = object.key
            case .within:
                state.pendingZip = object.key
                counts.withLock { $0.archives += 1 }
                let url = endpoints.downloadURL(key: object.key)
                let sidecar = url + ".CHECKSUM"
                emit(Archive(source: Tree.source, market: market.rawValue, period: period.rawValue, type: type,
                             symbol: symbol, interval: interval, date: date, key: object.key,
                             url: url,
                             // checksum_url means a SHA-256 sidecar (the record contract, kept
                             // for older readers); `checksum` says what every sidecar holds.
                             checksumURL: Tree.sidecar == .sha256 ? sidecar : nil,
                             size: object.size, etag: object.etag.isEmpty ? nil : object.etag,
                             lastModified: WallClock.parseRFC3339(object.lastModified).map(WallClock.rfc3339(millis:))
                                ?? (object.lastModified.isEmpty ? nil : object.lastModified),
                             checksum: ArchiveChecksum(kind: Tree.sidecar.kind, url: sidecar)))
            }
            if pastUntil { break }
        }
        if hasNext && !pastUntil {
            folders[prefix] = state
            return false
        }
        folders[prefix] = nil
        counts.withLock { $0.folders += 1 }
        if let key = state.safeKey { completedMarks.append((prefix, key)) }
        return true
    }
}
