import ArcCore

/// Walks Bybit's archive: the market folders (`trading/`, `spot/`), their symbol folders,
/// the files in each (spot's daily and monthly files as two listings), through a
/// `FolderListing` (the S3 listing or the HTML index). Archive records are emitted page by
/// page. Confined to the engine thread, like the listing, but `totals`.
public final class BybitLister: @unchecked Sendable { // confined to the engine thread, but `counts`, which has its own lock
    public enum Mode: String, CaseIterable, Sendable {
        case archives, types, symbols
    }

    public struct Totals: Sendable {
        public var archives = 0
        public var folders = 0
        /// Files whose name is not an archive name, or names another symbol than its folder.
        public var oddNames = 0
        /// Archives of 44 bytes or less: a gzip of nothing (SOURCES.md, known trouble).
        public var empty = 0
    }

    private let selection: BybitSelection
    private let endpoints: BybitEndpoints
    private let listing: FolderListing
    private let mode: Mode
    private let log: Logger
    private let catalogMark: (String) -> String?
    private let emit: (Archive) -> Void
    private let counts = Locked(Totals())
    public var totals: Totals { counts.current }
    /// Leaf listings read to the end, with the key the next incremental run starts after.
    public private(set) var completedMarks: [(prefix: String, lastKey: String)] = []
    public private(set) var listedSymbols: [String: Set<String>] = [:]
    public private(set) var listedMarkets: Set<String> = []

    /// The largest a gzip holding nothing is (its header and trailer; Bybit's are 44 bytes
    /// with a file name in the header).
    static let emptyGzipSize: Int64 = 44

    public init(selection: BybitSelection, endpoints: BybitEndpoints, listing: FolderListing, mode: Mode, log: Logger,
                catalogMark: @escaping (String) -> String?,
                emit: @escaping (Archive) -> Void) {
        self.selection = selection
        self.endpoints = endpoints
        self.listing = listing
        self.mode = mode
        self.log = log
        self.catalogMark = catalogMark
        self.emit = emit
    }

    /// Submits the first listings; call before starting the engine.
    public func start() {
        for market in selection.markets {
            if mode == .archives, let symbols = selection.literalSymbols {
                for symbol in symbols { enterSymbol(market, symbol) }
                continue
            }
            listing.list(market.folder, marker: nil) { [self] page, _ in
                for folder in page.folders {
                    let symbol = BinanceKeys.lastComponent(folder)
                    guard !symbol.isEmpty, selection.wantsSymbol(symbol) else { continue }
                    switch mode {
                    case .types: listedMarkets.insert(market.rawValue)
                    case .symbols: listedSymbols[market.rawValue, default: []].insert(symbol)
                    case .archives: enterSymbol(market, symbol)
                    }
                }
                return true
            }
        }
        listing.started()
    }

    private func enterSymbol(_ market: BybitMarket, _ symbol: String) {
        for period in market.periods where selection.periods.contains(period) {
            let prefix = BybitKeys.leafPrefix(market, symbol, period)
            var marker = catalogMark(prefix)
            if let since = selection.dates.since {
                let skip = BybitKeys.sinceMarker(market, symbol, period, since: since)
                marker = marker.map { max($0, skip) } ?? skip
            }
            var lastKey: String?
            listing.list(prefix, marker: marker) { [self] page, hasMore in
                let pastUntil = files(page.files, market: market, symbol: symbol, period: period, lastKey: &lastKey)
                if hasMore && !pastUntil { return true }
                counts.withLock { $0.folders += 1 }
                if let lastKey { completedMarks.append((prefix, lastKey)) }
                return false
            }
        }
    }

    /// Emits a page's archives; true once past --until (files sort by date in a leaf).
    private func files(_ files: [ListedFile], market: BybitMarket, symbol: String, period: ArchivePeriod,
                       lastKey: inout String?) -> Bool {
        let folder = BybitKeys.symbolFolder(market, symbol)
        for file in files {
            let name = file.key.dropFirst(folder.count)
            guard file.key.hasPrefix(folder), !name.contains("/") else { continue }
            guard let parsed = BybitKeys.parse(fileName: name, market: market) else {
                // Reported, never guessed at: a name we cannot date is no archive record.
                counts.withLock { $0.oddNames += 1 }
                log.warn("not an archive name, skipped", ["key": .string(file.key)])
                // Not in the catalog mark: `README.txt` sorts after `ETHUSDT2024-…` and would
                // hide the archives published after it.
                continue
            }
            guard parsed.period == period else { continue }
            switch selection.dates.position(of: parsed.date, period: period) {
            case .after: return true
            case .before:
                lastKey = file.key
                continue
            case .within: break
            }
            lastKey = file.key
            if parsed.symbol != symbol {
                // DATAOLD01USDT/ holds DATAUSDT… files. The record keeps its folder's symbol:
                // --symbol selects folders, and the file's own symbol would make its archives
                // collide with those of a real DATAUSDT folder on the same days.
                counts.withLock { $0.oddNames += 1 }
                log.warn("file named for another symbol than its folder; the folder's is kept",
                         ["key": .string(file.key), "folder_symbol": .string(symbol), "file_symbol": .string(parsed.symbol)])
            }
            if let size = file.size, size <= BybitLister.emptyGzipSize {
                counts.withLock { $0.empty += 1 }
                log.warn("empty archive (a \(size)-byte gzip)", ["key": .string(file.key), "size": .int(size)])
            }
            counts.withLock { $0.archives += 1 }
            emit(Archive(source: "bybit", market: market.rawValue, period: period.rawValue, type: "trades",
                         symbol: symbol, interval: nil, date: parsed.date, key: file.key,
                         url: endpoints.downloadURL(key: file.key), checksumURL: nil, size: file.size,
                         etag: file.etag, lastModified: file.lastModified,
                         checksum: BybitKeys.checksum(etag: file.etag, size: file.size)))
        }
        return false
    }
}
