import ArcCore

/// Binance's archive as a `DatedArchiveTree`: its markets, its dataset table, SHA-256 sidecars.
public enum BinanceTree: DatedArchiveTree {
    public typealias Market = BinanceMarket
    public static let source = "binance"
    public static let sidecar = SidecarKind.sha256

    public static func periods(_ market: BinanceMarket, _ type: String) -> [ArchivePeriod]? {
        BinanceDatasets.dataset(market, type)?.periods
    }

    public static func intervalFolders(_ type: String) -> IntervalFolders {
        if BinanceDatasets.isKlineLike(type) { return .always }
        return BinanceDatasets.typeNames.contains(type) ? .never : .unknown
    }
}

public typealias BinanceKeys = TreeKeys<BinanceMarket>
public typealias BinanceSelection = TreeSelection<BinanceMarket>
public typealias BinanceLister = TreeLister<BinanceTree>
