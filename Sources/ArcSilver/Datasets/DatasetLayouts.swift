/// SILVER.md's table of CSV layouts, as data: one entry per type (and per market where
/// markets differ). Names are the header's; the silver schema keeps them (snake_case).
enum DatasetLayouts {
    struct Layout {
        let columns: [(name: String, kind: FieldKind, optional: Bool)]
        let time: String
        let key: String?
        let series: SeriesKind
        let prices: [String]
        let cutShortAfter: Int64?
        /// The CSV header's names where they are not the silver names (Bybit's camelCase):
        /// one per column, in order.
        var headerNames: [String]? = nil
        /// How many of the last columns a file may lack altogether (Bybit's `RPI`, added in
        /// recent files): header and rows both without them. They are optional columns.
        var trailingOptional = 0
        /// A text column that identifies a row (Bybit's trdMatchID, KuCoin's trade_id):
        /// repeats are looked for among rows of the same time.
        var textKey: String? = nil
    }

    static let hour: Int64 = 3_600_000_000

    static func required(_ list: [(String, FieldKind)]) -> [(name: String, kind: FieldKind, optional: Bool)] {
        list.map { ($0.0, $0.1, false) }
    }

    private static let klineColumns = required([
        ("open_time", .epochTime), ("open", .double), ("high", .double), ("low", .double), ("close", .double),
        ("volume", .double), ("close_time", .epochTime), ("quote_volume", .double), ("count", .int64),
        ("taker_buy_volume", .double), ("taker_buy_quote_volume", .double), ("ignore", .ignored),
    ])

    private static func klines(prices: Bool) -> Layout {
        Layout(columns: klineColumns, time: "open_time", key: "open_time", series: .klines,
               prices: prices ? ["open", "high", "low", "close"] : [], cutShortAfter: nil)
    }

    private static func trades(_ third: String, bestMatch: Bool) -> Layout {
        Layout(columns: required([("id", .int64), ("price", .double), ("qty", .double), (third, .double),
                                  ("time", .epochTime), ("is_buyer_maker", .boolean)]
                                 + (bestMatch ? [("is_best_match", .boolean)] : [])),
               time: "time", key: "id", series: .trades, prices: ["price"], cutShortAfter: hour)
    }

    private static func aggTrades(bestMatch: Bool) -> Layout {
        Layout(columns: required([("agg_trade_id", .int64), ("price", .double), ("quantity", .double),
                                  ("first_trade_id", .int64), ("last_trade_id", .int64), ("transact_time", .epochTime),
                                  ("is_buyer_maker", .boolean)] + (bestMatch ? [("is_best_match", .boolean)] : [])),
               time: "transact_time", key: "agg_trade_id", series: .aggTrades, prices: ["price"], cutShortAfter: hour)
    }

    // Fundings come every 8 hours at most: the last one of a month is at 16:00 on its last day.
    private static let fundingRate = Layout(
        columns: required([("calc_time", .epochTime), ("funding_interval_hours", .int64), ("last_funding_rate", .double)]),
        time: "calc_time", key: nil, series: .other, prices: [], cutShortAfter: 9 * hour)

    private static let bookTicker = Layout(
        columns: required([("update_id", .int64), ("best_bid_price", .double), ("best_bid_qty", .double),
                           ("best_ask_price", .double), ("best_ask_qty", .double), ("transaction_time", .epochTime),
                           ("event_time", .epochTime)]),
        time: "transaction_time", key: nil, series: .other, prices: [], cutShortAfter: hour)

    private static let metrics = Layout(
        columns: required([("create_time", .textTime), ("symbol", .string), ("sum_open_interest", .double),
                           ("sum_open_interest_value", .double), ("count_toptrader_long_short_ratio", .double),
                           ("sum_toptrader_long_short_ratio", .double), ("count_long_short_ratio", .double),
                           ("sum_taker_long_short_vol_ratio", .double)]),
        time: "create_time", key: nil, series: .other, prices: [], cutShortAfter: hour)

    private static let bookDepth = Layout(
        columns: required([("timestamp", .textTime), ("percentage", .double), ("depth", .double), ("notional", .double)]),
        time: "timestamp", key: nil, series: .other, prices: [], cutShortAfter: hour)

    // Liquidations come when they come: no row in the last hour says nothing.
    private static let liquidationSnapshot = Layout(
        columns: required([("time", .epochTime), ("side", .string), ("order_type", .string), ("time_in_force", .string),
                           ("original_quantity", .double), ("price", .double), ("average_price", .double),
                           ("order_status", .string), ("last_fill_quantity", .double),
                           ("accumulated_fill_quantity", .double)]),
        time: "time", key: nil, series: .other, prices: ["price"], cutShortAfter: nil)

    private static let bvolIndex = Layout(
        columns: required([("calc_time", .epochTime), ("symbol", .string), ("base_asset", .string),
                           ("quote_asset", .string), ("index_value", .double)]),
        time: "calc_time", key: nil, series: .other, prices: [], cutShortAfter: hour)

    // One row per option per hour; `date` is the day (its time is midnight), `hour` the hour.
    // Prices, quotes and greeks are empty where there were none: the columns after the
    // strike (which names the contract, and is always there) are optional.
    private static let eohSummary = Layout(
        columns: required([("date", .textTime), ("hour", .int64), ("symbol", .string), ("underlying", .string),
                           ("type", .string), ("strike", .double)])
            + ["open", "high", "low", "close", "volume_contracts", "volume_usdt", "best_bid_price",
               "best_ask_price", "best_bid_qty", "best_ask_qty", "best_buy_iv", "best_sell_iv", "mark_price",
               "mark_iv", "delta", "gamma", "vega", "theta", "openinterest_contracts", "openinterest_usdt"]
                .map { ($0, FieldKind.double, true) },
        time: "date", key: nil, series: .other, prices: [], cutShortAfter: nil)

    static func layout(market: String, type: String) -> Layout? {
        let futures = market == "futures/um" || market == "futures/cm"
        switch (type, market) {
        case ("klines", _) where market != "option",
             ("markPriceKlines", _) where futures, ("indexPriceKlines", _) where futures:
            return klines(prices: true)
        case ("premiumIndexKlines", _) where futures:
            return klines(prices: false) // a premium is negative as often as not
        case ("trades", "spot"): return trades("quote_qty", bestMatch: true)
        case ("trades", "futures/um"): return trades("quote_qty", bestMatch: false)
        case ("trades", "futures/cm"): return trades("base_qty", bestMatch: false)
        case ("aggTrades", "spot"): return aggTrades(bestMatch: true)
        case ("aggTrades", _) where futures: return aggTrades(bestMatch: false)
        case ("fundingRate", _) where futures: return fundingRate
        case ("bookTicker", _) where futures: return bookTicker
        case ("metrics", _) where futures: return metrics
        case ("bookDepth", _) where futures: return bookDepth
        case ("liquidationSnapshot", _) where futures: return liquidationSnapshot
        case ("BVOLIndex", "option"): return bvolIndex
        case ("EOHSummary", "option"): return eohSummary
        default: return nil
        }
    }
}
