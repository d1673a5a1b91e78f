import ArcCore

/// What an archive is, read from its key, found at the end of a local path, an s3:// URL or
/// an https URL, so a mirror's files and the bucket's objects are named the same way. The
/// source decides how the key reads (ArchiveKeys): Binance's `data/<market>/<period>/<type>/
/// <symbol>[/<interval>]/<SYMBOL>-<interval or type>-<date>.zip` (BINANCE.md, "Keys"),
/// KuCoin's keys of the same shape, Bybit's `trading/` and `spot/` trees of csv.gz.
public struct ArchiveIdentity: Sendable, Equatable {
    /// How the archive wraps its CSV.
    public enum Container: Sendable, Equatable {
        /// A zip holding one CSV (Binance, KuCoin).
        case zip
        /// A gzip of one CSV (Bybit's `.csv.gz`).
        case gzip
    }

    /// `binance`, `bybit` or `kucoin`: the record's `source` field.
    public let source: String
    /// Binance: `spot`, `futures/um`, `futures/cm` or `option`; KuCoin: `spot` or
    /// `futures`; Bybit: `linear` (its `trading/` tree) or `spot`.
    public let market: String
    /// `daily` or `monthly`.
    public let period: String
    public let type: String
    public let symbol: String
    /// Kline-like types only (`1m`, `1mo`, ...).
    public let interval: String?
    /// `YYYY-MM-DD` (daily) or `YYYY-MM` (monthly).
    public let date: String
    /// The key from `data/` on (Binance, KuCoin), or from `trading/` or `spot/` (Bybit).
    public let key: String
    public let container: Container
    /// The period the archive covers, in microseconds since the epoch (UTC): its first
    /// instant and the first instant after it (midnight after the day or the month).
    public let periodStart: Int64
    public let periodEnd: Int64

    /// The sources whose keys are known here.
    public static let sources = ["binance", "bybit", "kucoin"]

    /// `source` is the record's (or --source's); nil reads Binance's layout, then Bybit's
    /// (whose keys have shapes of their own). KuCoin's keys look like Binance's, so they
    /// are read as KuCoin's only when the source says so.
    public init(path: String, source: String? = nil) throws {
        // A URL's query or fragment is not part of the key.
        let trimmed = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
            .split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let found: ArchiveIdentity?
        switch source {
        case nil: found = ArchiveKeys.binance(parts) ?? ArchiveKeys.bybit(parts)
        case "binance": found = ArchiveKeys.binance(parts)
        case "bybit": found = ArchiveKeys.bybit(parts)
        case "kucoin": found = ArchiveKeys.kucoin(parts)
        case let other?:
            throw SilverError(.notAnArchive, "\(path): source \(other) has no known archive layout (known: \(Self.sources.joined(separator: ", ")))")
        }
        if let found {
            self = found
            return
        }
        switch source {
        case "bybit":
            throw SilverError(.notAnArchive, "\(path): not a Bybit archive (expected …/trading/<SYMBOL>/<SYMBOL><YYYY-MM-DD>.csv.gz or …/spot/<SYMBOL>/<SYMBOL>_<YYYY-MM-DD>.csv.gz or <SYMBOL>-<YYYY-MM>.csv.gz)")
        case "kucoin":
            throw SilverError(.notAnArchive, "\(path): not a KuCoin archive (expected …/data/<spot|futures>/daily/<type>/<symbol>[/<interval>]/<SYMBOL>-<interval or type>-<date>.zip)")
        default:
            throw SilverError(.notAnArchive, "\(path): not a Binance archive (expected …/data/<market>/<daily|monthly>/<type>/<symbol>[/<interval>]/<SYMBOL>-<interval or type>-<date>.zip)"
                              + (source == nil ? " nor a Bybit one (…/trading/<SYMBOL>/<SYMBOL><date>.csv.gz, …/spot/<SYMBOL>/<SYMBOL>_<date>.csv.gz)" : ""))
        }
    }

    init(source: String, market: String, period: String, type: String, symbol: String, interval: String?,
         date: String, key: String, container: Container, period range: (start: Day, end: Day)) {
        self.source = source
        self.market = market
        self.period = period
        self.type = type
        self.symbol = symbol
        self.interval = interval
        self.date = date
        self.key = key
        self.container = container
        periodStart = Int64(range.start.daysSinceEpoch) * 86_400_000_000
        periodEnd = Int64(range.end.daysSinceEpoch) * 86_400_000_000
    }

    /// The first day of a period and the day after its last, or nil when `date` is not one.
    static func days(period: String, date: String) -> (start: Day, end: Day)? {
        switch period {
        case "daily":
            guard let day = Day(date) else { return nil }
            return (day, day.adding(days: 1))
        case "monthly":
            guard let month = Month(date) else { return nil }
            return (month.firstDay, month.adding(months: 1).firstDay)
        default:
            return nil
        }
    }
}
