import ArcCore

/// What an archive is, read from its key: `data/<market>/<period>/<type>/<symbol>[/<interval>]/
/// <SYMBOL>-<interval or type>-<date>.zip` (BINANCE.md, "Keys"), found at the end of a
/// local path, an s3:// URL or an https URL, so a mirror's files and the bucket's objects
/// are named the same way.
public struct ArchiveIdentity: Sendable, Equatable {
    /// `spot`, `futures/um`, `futures/cm` or `option`.
    public let market: String
    /// `daily` or `monthly`.
    public let period: String
    public let type: String
    public let symbol: String
    /// Kline-like types only (`1m`, `1mo`, ...).
    public let interval: String?
    /// `YYYY-MM-DD` (daily) or `YYYY-MM` (monthly).
    public let date: String
    /// The key from `data/` on.
    public let key: String
    /// The period the archive covers, in microseconds since the epoch (UTC): its first
    /// instant and the first instant after it (midnight after the day or the month).
    public let periodStart: Int64
    public let periodEnd: Int64

    static let markets = ["spot", "futures/um", "futures/cm", "option"]
    static let klineTypes: Set<String> = ["klines", "indexPriceKlines", "markPriceKlines", "premiumIndexKlines"]

    public init(path: String) throws {
        // A URL's query or fragment is not part of the key.
        let trimmed = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
            .split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // The last `data` folder from which the rest reads as a key: a mirror may itself
        // sit under a folder named data.
        for start in parts.indices.reversed() where parts[start] == "data" {
            if let identity = ArchiveIdentity(parts: Array(parts[(start + 1)...])) {
                self = identity
                return
            }
        }
        throw SilverError(.notAnArchive, "\(path): not a Binance archive (expected …/data/<market>/<daily|monthly>/<type>/<symbol>[/<interval>]/<SYMBOL>-<interval or type>-<date>.zip)")
    }

    private init?(parts: [String]) {
        guard let first = parts.first else { return nil }
        let marketLength = first == "futures" ? 2 : 1
        guard parts.count > marketLength else { return nil }
        let market = parts[0..<marketLength].joined(separator: "/")
        let rest = Array(parts[marketLength...])
        guard ArchiveIdentity.markets.contains(market), rest.count == 4 || rest.count == 5 else { return nil }
        let (period, type, symbol, file) = (rest[0], rest[1], rest[2], rest[rest.count - 1])
        let interval = rest.count == 5 ? rest[3] : nil
        guard (interval != nil) == ArchiveIdentity.klineTypes.contains(type), !symbol.isEmpty,
              interval.map({ !$0.isEmpty }) ?? true else { return nil }
        let prefix = "\(symbol)-\(interval ?? type)-"
        guard file.hasPrefix(prefix), file.hasSuffix(".zip") else { return nil }
        let date = String(file.dropFirst(prefix.count).dropLast(4))
        let startDay: Day, endDay: Day
        switch period {
        case "daily":
            guard let day = Day(date) else { return nil }
            (startDay, endDay) = (day, day.adding(days: 1))
        case "monthly":
            guard let month = Month(date) else { return nil }
            (startDay, endDay) = (month.firstDay, month.adding(months: 1).firstDay)
        default:
            return nil
        }
        self.market = market
        self.period = period
        self.type = type
        self.symbol = symbol
        self.interval = interval
        self.date = date
        self.key = (["data"] + parts).joined(separator: "/")
        self.periodStart = Int64(startDay.daysSinceEpoch) * 86_400_000_000
        self.periodEnd = Int64(endDay.daysSinceEpoch) * 86_400_000_000
    }
}
