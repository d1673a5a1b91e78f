import ArcCore

/// Builds and reads the keys of a Binance-shaped tree (`DatedArchiveTree`):
/// `data/{market path}/{period}/{type}/{SYMBOL}/[{interval}/]{SYMBOL}-{INTERVAL|TYPE}-{date}.zip`
public enum TreeKeys<Market: ArchiveMarket> {
    /// The folder holding a dataset's symbols: `data/futures/um/daily/klines/`.
    public static func typeFolder(_ market: Market, _ period: ArchivePeriod, _ type: String) -> String {
        "data/\(market.path)/\(period.rawValue)/\(type)/"
    }

    public static func periodFolder(_ market: Market, _ period: ArchivePeriod) -> String {
        "data/\(market.path)/\(period.rawValue)/"
    }

    /// The file name stem before the date: `BTCUSDT-1m` or `BTCUSDT-trades`; a type inside
    /// a group folder is named by its last part (`depth/orderbooklv50`: `BTC-USDT-orderbooklv50`).
    public static func stem(symbol: String, type: String, interval: String?) -> String {
        symbol + "-" + (interval ?? String(type.split(separator: "/").last ?? Substring(type)))
    }

    /// The date part of an archive's file name, if it is one (`...-2024-01-02.zip`).
    public static func date(ofFile name: Substring, period: ArchivePeriod) -> String? {
        guard name.hasSuffix(".zip") else { return nil }
        let stem = name.dropLast(4)
        let length = period == .daily ? 10 : 7
        guard stem.count > length + 1 else { return nil }
        let date = stem.suffix(length)
        guard stem.dropLast(length).hasSuffix("-") else { return nil }
        if period == .daily { return Day(date) != nil ? String(date) : nil }
        return Month(date) != nil ? String(date) : nil
    }

    /// The last path component of a folder prefix: `data/spot/daily/klines/` -> `klines`.
    public static func lastComponent(_ prefix: String) -> String {
        var p = Substring(prefix)
        if p.hasSuffix("/") { p = p.dropLast() }
        return String(p.split(separator: "/").last ?? "")
    }
}
