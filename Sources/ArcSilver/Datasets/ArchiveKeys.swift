/// Each source's key layout, read from the parts of a path (split at `/`): the identity of
/// the archive whose key the path ends with, or nil when it does not end with one.
enum ArchiveKeys {
    static let binanceMarkets = ["spot", "futures/um", "futures/cm", "option"]
    static let binanceKlineTypes: Set<String> = ["klines", "indexPriceKlines", "markPriceKlines", "premiumIndexKlines"]

    /// `data/<market>/<period>/<type>/<symbol>[/<interval>]/<SYMBOL>-<interval or type>-<date>.zip`,
    /// from the last `data` folder from which the rest reads as a key: a mirror may itself
    /// sit under a folder named data.
    static func binance(_ parts: [String]) -> ArchiveIdentity? {
        for start in parts.indices.reversed() where parts[start] == "data" {
            if let identity = binanceKey(Array(parts[(start + 1)...])) { return identity }
        }
        return nil
    }

    private static func binanceKey(_ parts: [String]) -> ArchiveIdentity? {
        guard let first = parts.first else { return nil }
        let marketLength = first == "futures" ? 2 : 1
        guard parts.count > marketLength else { return nil }
        let market = parts[0..<marketLength].joined(separator: "/")
        let rest = Array(parts[marketLength...])
        guard binanceMarkets.contains(market), rest.count == 4 || rest.count == 5 else { return nil }
        let (period, type, symbol, file) = (rest[0], rest[1], rest[2], rest[rest.count - 1])
        let interval = rest.count == 5 ? rest[3] : nil
        guard (interval != nil) == binanceKlineTypes.contains(type), !symbol.isEmpty,
              interval.map({ !$0.isEmpty }) ?? true else { return nil }
        let prefix = "\(symbol)-\(interval ?? type)-"
        guard file.hasPrefix(prefix), file.hasSuffix(".zip") else { return nil }
        let date = String(file.dropFirst(prefix.count).dropLast(4))
        guard let days = ArchiveIdentity.days(period: period, date: date) else { return nil }
        return ArchiveIdentity(source: "binance", market: market, period: period, type: type, symbol: symbol,
                               interval: interval, date: date, key: (["data"] + parts).joined(separator: "/"),
                               container: .zip, period: days)
    }

    /// KuCoin (SOURCES.md): `data/<spot|futures>/daily/<type>/<SYMBOL>/[<interval>/]
    /// <SYMBOL>-<type or interval>-<YYYY-MM-DD>.zip`, daily only; the type may have several
    /// folders (`depth/orderbooklv50`), so the symbol is the folder whose name starts the file's.
    static func kucoin(_ parts: [String]) -> ArchiveIdentity? {
        for start in parts.indices.reversed() where parts[start] == "data" {
            if let identity = kucoinKey(Array(parts[(start + 1)...])) { return identity }
        }
        return nil
    }

    private static func kucoinKey(_ parts: [String]) -> ArchiveIdentity? {
        // market, period, at least one type folder, symbol, file.
        guard parts.count >= 5, parts[0] == "spot" || parts[0] == "futures", parts[1] == "daily",
              let file = parts.last, file.hasSuffix(".zip") else { return nil }
        let n = parts.count
        let symbol: String, interval: String?, typeEnd: Int
        if file.hasPrefix("\(parts[n - 2])-\(parts[n - 3])-") {
            // <type...>/<SYMBOL>/<SYMBOL>-<type's last folder>-<date>.zip
            (symbol, interval, typeEnd) = (parts[n - 2], nil, n - 2)
        } else if n >= 6, file.hasPrefix("\(parts[n - 3])-\(parts[n - 2])-") {
            // <type...>/<SYMBOL>/<interval>/<SYMBOL>-<interval>-<date>.zip
            (symbol, interval, typeEnd) = (parts[n - 3], parts[n - 2], n - 3)
        } else {
            return nil
        }
        guard !symbol.isEmpty, interval.map({ !$0.isEmpty }) ?? true else { return nil }
        let prefix = "\(symbol)-\(interval ?? parts[typeEnd - 1])-"
        let type = parts[2..<typeEnd].joined(separator: "/")
        let date = String(file.dropFirst(prefix.count).dropLast(4))
        guard let days = ArchiveIdentity.days(period: "daily", date: date) else { return nil }
        return ArchiveIdentity(source: "kucoin", market: parts[0], period: "daily", type: type, symbol: symbol,
                               interval: interval, date: date, key: (["data"] + parts).joined(separator: "/"),
                               container: .zip, period: days)
    }

    /// Bybit (SOURCES.md): derivatives trades `trading/<SYMBOL>/<SYMBOL><YYYY-MM-DD>.csv.gz`
    /// (market `linear`: inverse contracts live there too), spot trades
    /// `spot/<SYMBOL>/<SYMBOL>_<YYYY-MM-DD>.csv.gz` (daily) and `<SYMBOL>-<YYYY-MM>.csv.gz`
    /// (monthly). The symbol is the folder's: a folder may hold files named otherwise
    /// (`DATAOLD01USDT` holds `DATAUSDT…`), so only the file's date part is read from it.
    static func bybit(_ parts: [String]) -> ArchiveIdentity? {
        guard parts.count >= 3 else { return nil }
        let (tree, symbol, file) = (parts[parts.count - 3], parts[parts.count - 2], parts[parts.count - 1])
        guard !symbol.isEmpty, file.hasSuffix(".csv.gz") else { return nil }
        let stem = String(file.dropLast(".csv.gz".count))
        let key = [tree, symbol, file].joined(separator: "/")
        switch tree {
        case "trading":
            // <anything><YYYY-MM-DD>: the date is the last 10 characters.
            guard stem.count > 10 else { return nil }
            let date = String(stem.suffix(10))
            guard let days = ArchiveIdentity.days(period: "daily", date: date) else { return nil }
            return ArchiveIdentity(source: "bybit", market: "linear", period: "daily", type: "trades", symbol: symbol,
                                   interval: nil, date: date, key: key, container: .gzip, period: days)
        case "spot":
            if stem.count > 11, stem.dropLast(10).hasSuffix("_") {
                let date = String(stem.suffix(10))
                guard let days = ArchiveIdentity.days(period: "daily", date: date) else { return nil }
                return ArchiveIdentity(source: "bybit", market: "spot", period: "daily", type: "trades", symbol: symbol,
                                       interval: nil, date: date, key: key, container: .gzip, period: days)
            }
            guard stem.count > 8, stem.dropLast(7).hasSuffix("-") else { return nil }
            let date = String(stem.suffix(7))
            guard let days = ArchiveIdentity.days(period: "monthly", date: date) else { return nil }
            return ArchiveIdentity(source: "bybit", market: "spot", period: "monthly", type: "trades", symbol: symbol,
                                   interval: nil, date: date, key: key, container: .gzip, period: days)
        default:
            return nil
        }
    }
}
