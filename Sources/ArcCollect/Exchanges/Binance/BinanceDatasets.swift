import ArcCore

/// Binance's markets, as users name them and as the archive's folders do.
public enum BinanceMarket: String, ArchiveMarket {
    case spot, um, cm, option

    /// The folder under `data/`.
    public var path: String {
        switch self {
        case .spot: return "spot"
        case .um: return "futures/um"
        case .cm: return "futures/cm"
        case .option: return "option"
        }
    }
}

/// One market x type combination the archive publishes, and in which periods.
public struct BinanceDataset: Sendable {
    public let market: BinanceMarket
    public let type: String
    public let periods: [ArchivePeriod]

    /// Kline-like types have an interval folder and `SYMBOL-INTERVAL-DATE.zip` names.
    public var hasInterval: Bool { BinanceDataset.intervalTypes.contains(type) }

    static let intervalTypes: Set<String> = ["klines", "indexPriceKlines", "markPriceKlines", "premiumIndexKlines"]
}

/// What the archive publishes, kept as data (BINANCE.md, "Which types exist"): types
/// start and stop, so discovery lists what is actually there and uses this table only to
/// check what users ask for and to skip folders that cannot exist.
public enum BinanceDatasets {
    private static let both: [ArchivePeriod] = [.daily, .monthly]

    public static let all: [BinanceDataset] = {
        var rows: [BinanceDataset] = []
        func add(_ market: BinanceMarket, _ types: [String], _ periods: [ArchivePeriod]) {
            rows += types.map { BinanceDataset(market: market, type: $0, periods: periods) }
        }
        add(.spot, ["klines", "aggTrades", "trades"], both)
        for futures in [BinanceMarket.um, .cm] {
            add(futures, ["klines", "aggTrades", "trades", "indexPriceKlines", "markPriceKlines",
                          "premiumIndexKlines", "bookTicker"], both)
            add(futures, ["fundingRate"], [.monthly])
            add(futures, ["bookDepth", "metrics"], [.daily])
        }
        add(.cm, ["liquidationSnapshot"], [.daily])
        add(.option, ["BVOLIndex", "EOHSummary"], [.daily])
        return rows
    }()

    public static func dataset(_ market: BinanceMarket, _ type: String) -> BinanceDataset? {
        all.first { $0.market == market && $0.type == type }
    }

    /// Every type name, for `--type` and its completions.
    public static var typeNames: [String] {
        var seen = Set<String>()
        return all.map { $0.type }.filter { seen.insert($0).inserted }
    }

    /// Kline intervals: `1s` is spot only; `3d`, `1w` and `1mo` are monthly only.
    public static let intervals = ["1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
                                   "1d", "3d", "1w", "1mo"]

    public static func isKlineLike(_ type: String) -> Bool { BinanceDataset.intervalTypes.contains(type) }
}
