import ArcCore

/// Bybit's markets as the archive's trees hold them: `trading/` has the derivatives
/// (USDT and USDC perpetuals and inverse contracts alike), `spot/` the spot pairs.
public enum BybitMarket: String, CaseIterable, Sendable {
    case linear, spot

    public var folder: String { self == .linear ? "trading/" : "spot/" }

    /// The periods each publishes: derivatives daily only; spot daily and monthly.
    public var periods: [ArchivePeriod] { self == .linear ? [.daily] : [.daily, .monthly] }
}

/// Reads Bybit's file names (SOURCES.md, "Bybit"):
///   trading/{SYM}/{SYM}{YYYY-MM-DD}.csv.gz
///   spot/{SYM}/{SYM}_{YYYY-MM-DD}.csv.gz   daily
///   spot/{SYM}/{SYM}-{YYYY-MM}.csv.gz      monthly
public enum BybitKeys {
    public static let suffix = ".csv.gz"

    public struct FileName: Equatable, Sendable {
        /// The symbol the name carries (not always its folder's: `DATAOLD01USDT/DATAUSDT…`).
        public var symbol: String
        public var period: ArchivePeriod
        public var date: String
    }

    /// The symbol, period and date a file's name says, nil when it is no archive name.
    public static func parse(fileName name: Substring, market: BybitMarket) -> FileName? {
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        switch market {
        case .linear:
            let date = stem.suffix(10)
            guard stem.count > 10, Day(date) != nil else { return nil }
            return FileName(symbol: String(stem.dropLast(10)), period: .daily, date: String(date))
        case .spot:
            if stem.count > 11, Day(stem.suffix(10)) != nil, stem.dropLast(10).hasSuffix("_") {
                return FileName(symbol: String(stem.dropLast(11)), period: .daily, date: String(stem.suffix(10)))
            }
            if stem.count > 8, Month(stem.suffix(7)) != nil, stem.dropLast(7).hasSuffix("-") {
                return FileName(symbol: String(stem.dropLast(8)), period: .monthly, date: String(stem.suffix(7)))
            }
            return nil
        }
    }

    public static func symbolFolder(_ market: BybitMarket, _ symbol: String) -> String {
        market.folder + symbol + "/"
    }

    /// What a leaf listing covers: a derivatives folder whole; in a spot folder, the daily
    /// files (`SYM_…`) or the monthly ones (`SYM-…`). Spot's two periods are listed apart
    /// because `-` sorts before `_`: one folder-wide mark for --incremental would skip the
    /// monthly files published after the last daily one.
    public static func leafPrefix(_ market: BybitMarket, _ symbol: String, _ period: ArchivePeriod) -> String {
        let folder = symbolFolder(market, symbol)
        switch market {
        case .linear: return folder
        case .spot: return folder + symbol + (period == .daily ? "_" : "-")
        }
    }

    /// A marker just before the first file dated --since in a leaf (`BTCUSDT2024-01-01`
    /// sorts just before `BTCUSDT2024-01-01.csv.gz`).
    public static func sinceMarker(_ market: BybitMarket, _ symbol: String, _ period: ArchivePeriod, since: Day) -> String {
        let date = period == .daily ? since.description : since.month.description
        switch market {
        case .linear: return symbolFolder(market, symbol) + symbol + date
        case .spot: return leafPrefix(market, symbol, period) + date
        }
    }

    /// How a record is verified from its listing (the record contract): an ETag of 32 hex
    /// digits is the MD5 of a single-part object; a multipart ETag (with a `-`), a missing
    /// one or anything else leaves only the size, and without a size nothing.
    public static func checksum(etag: String?, size: Int64?) -> ArchiveChecksum {
        let checksum = ArchiveChecksum.fromETag(etag ?? "")
        return checksum.kind == .size && size == nil ? ArchiveChecksum(kind: .none) : checksum
    }
}

/// Where Bybit's archive answers: the bucket's S3 listing (undocumented, so the CDN's HTML
/// index is the fallback) and the CDN files are downloaded from. All settable.
public struct BybitEndpoints: Sendable {
    public static let defaultListURL = "https://s3.ap-southeast-1.amazonaws.com/public.bybit.com/"
    public static let defaultDownloadURL = "https://public.bybit.com/"
    public static let defaultIndexURL = "https://public.bybit.com/"

    public var listURL: String
    public var downloadURL: String
    public var indexURL: String

    public init(listURL: String = defaultListURL, downloadURL: String = defaultDownloadURL, indexURL: String = defaultIndexURL) {
        self.listURL = BinanceEndpoints.trimSlash(listURL)
        self.downloadURL = BinanceEndpoints.trimSlash(downloadURL)
        self.indexURL = BinanceEndpoints.trimSlash(indexURL)
    }

    public func downloadURL(key: String) -> String { downloadURL + "/" + URLEncoding.path(key) }
}

/// What the user asked for. Empty filters mean everything listed.
public struct BybitSelection: SymbolSelecting, Sendable {
    public var markets: [BybitMarket] = BybitMarket.allCases
    public var periods: [ArchivePeriod] = ArchivePeriod.allCases
    /// Exact names or globs; empty: every symbol listed.
    public var symbols: [Glob] = []
    public var dates = ArchiveDateRange()

    public init() {}
}
