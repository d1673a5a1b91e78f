import ArcCore

/// KuCoin's markets: the folders under `data/`.
public enum KuCoinMarket: String, ArchiveMarket {
    case spot, futures

    public var path: String { rawValue }
}

/// KuCoin's archive (historical-data.kucoin.com) as a `DatedArchiveTree`: laid out like
/// Binance's, daily files only, UTC days, and CHECKSUM sidecars that hold an MD5
/// (SOURCES.md, "KuCoin"). The table is used, as Binance's is, to check what users ask for
/// and to skip folders that cannot exist; what is there comes from the listing.
public enum KuCoinTree: DatedArchiveTree {
    public typealias Market = KuCoinMarket
    public static let source = "kucoin"
    public static let sidecar = SidecarKind.md5
    public static let typeGroups: Set<String> = ["depth"]

    /// Types per market. Order books live one folder down, in `depth/`.
    public static let types: [KuCoinMarket: [String]] = [
        .spot: ["klines", "trades", "depth/orderbooklv50"],
        .futures: ["klines", "trades", "index", "mark", "fundingRates", "depth/orderbooklv50"],
    ]

    /// Every type name, for `--type` and its completions.
    public static var typeNames: [String] {
        var seen = Set<String>()
        return KuCoinMarket.allCases.flatMap { types[$0] ?? [] }.filter { seen.insert($0).inserted }
    }

    public static func periods(_ market: KuCoinMarket, _ type: String) -> [ArchivePeriod]? {
        (types[market] ?? []).contains(type) ? [.daily] : nil
    }

    public static func intervalFolders(_ type: String) -> IntervalFolders {
        switch type {
        case "klines": return .always
        case "trades", "fundingRates": return .never
        // Whether index and mark prices come per interval, and how book files are
        // named, no real file has settled: their symbol folders are listed whole.
        default: return .unknown
        }
    }
}

/// Where KuCoin's archive answers: listings (S3 ListObjects v1) and downloads on one host.
public struct KuCoinEndpoints: BucketEndpoints {
    public static let defaultURL = "https://historical-data.kucoin.com/"

    public var listURL: String
    public var downloadURL: String

    public init(listURL: String = defaultURL, downloadURL: String = defaultURL) {
        self.listURL = KuCoinEndpoints.trimSlash(listURL)
        self.downloadURL = KuCoinEndpoints.trimSlash(downloadURL)
    }
}
