/// Bybit's and KuCoin's CSV layouts (SOURCES.md), as data beside Binance's. Silver names
/// are snake_case (Bybit's header is camelCase: the header names are kept for the check).
extension DatasetLayouts {
    /// Bybit derivatives trades (`trading/`): `timestamp` is seconds with a fraction;
    /// `trdMatchID` a UUID, so the rows' id is text; recent files add `RPI` at the end.
    private static let bybitDerivativesTrades = Layout(
        columns: required([("timestamp", .seconds), ("symbol", .string), ("side", .string), ("size", .double),
                           ("price", .double), ("tick_direction", .string), ("trd_match_id", .string),
                           ("gross_value", .double), ("home_notional", .double), ("foreign_notional", .double)])
            // RPI's values are not documented: kept as the text the file has.
            + [("rpi", .string, true)],
        time: "timestamp", key: nil, series: .other, prices: ["price"], cutShortAfter: hour,
        headerNames: ["timestamp", "symbol", "side", "size", "price", "tickDirection", "trdMatchID", "grossValue",
                      "homeNotional", "foreignNotional", "RPI"],
        trailingOptional: 1, textKey: "trd_match_id")

    /// Bybit spot trades (`spot/`): a numeric id, milliseconds; recent files add `rpi`.
    private static let bybitSpotTrades = Layout(
        columns: required([("id", .int64), ("timestamp", .epochTime), ("price", .double), ("volume", .double),
                           ("side", .string)]) + [("rpi", .string, true)],
        time: "timestamp", key: "id", series: .trades, prices: ["price"], cutShortAfter: hour,
        trailingOptional: 1)

    static func bybit(market: String, type: String) -> Layout? {
        switch (market, type) {
        case ("linear", "trades"): return bybitDerivativesTrades
        case ("spot", "trades"): return bybitSpotTrades
        default: return nil
        }
    }

    /// KuCoin spot klines: `time` in seconds, and open, close, high, low in that order
    /// (not Binance's): kept in the file's order, under the file's names.
    private static let kucoinKlines = Layout(
        columns: required([("time", .seconds), ("open", .double), ("close", .double), ("high", .double),
                           ("low", .double), ("volume", .double), ("turnover", .double)]),
        time: "time", key: "time", series: .klines, prices: ["open", "close", "high", "low"], cutShortAfter: nil)

    /// KuCoin spot trades: `trade_time` in milliseconds (unconfirmed: the unit is decided
    /// per file, as Binance's); `trade_id` kept as text (KuCoin's API ids are not numbers).
    private static let kucoinTrades = Layout(
        columns: required([("trade_id", .string), ("trade_time", .epochTime), ("price", .double), ("size", .double),
                           ("side", .string)]),
        time: "trade_time", key: nil, series: .other, prices: ["price"], cutShortAfter: hour,
        textKey: "trade_id")

    static func kucoin(market: String, type: String) -> Layout? {
        switch (market, type) {
        case ("spot", "klines"): return kucoinKlines
        case ("spot", "trades"): return kucoinTrades
        default: return nil
        }
    }
}
