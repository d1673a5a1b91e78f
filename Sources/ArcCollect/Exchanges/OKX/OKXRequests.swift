import ArcCore

/// What OKX's market-data-history endpoint is asked for: one dataset (`module`), one
/// instrument type, up to five instruments and up to ten days a call. The days are OKX's,
/// which run midnight to midnight in UTC+8.
public enum OKXDataset: String, Sendable, CaseIterable {
    case trades
    case fundingRates

    /// The endpoint's `module` (OKX's docs: 1 trade history, 2 1-minute candles, 3 funding
    /// rates, 4/5/6 order books, 11 borrowing rates).
    public var module: String { self == .trades ? "1" : "3" }
}

public enum OKXMarket: String, Sendable, CaseIterable, Comparable {
    case spot, swap, futures

    /// The endpoint's `instType`.
    public var instType: String { rawValue.uppercased() }

    /// The market an instrument id names: BTC-USDT spot, BTC-USDT-SWAP swap,
    /// BTC-USD-250926 futures (a delivery date last); nil for anything else (options).
    public init?(instrument: String) {
        let parts = instrument.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        if parts.count == 2 { self = .spot; return }
        if parts.count == 3, parts[2] == "SWAP" { self = .swap; return }
        if parts.count == 3, parts[2].count == 6, parts[2].allSatisfy({ $0.isASCII && $0.isNumber }) {
            self = .futures
            return
        }
        return nil
    }

    public static func < (a: OKXMarket, b: OKXMarket) -> Bool { a.rawValue < b.rawValue }
}

/// One call to the endpoint.
public struct OKXRequest: Sendable, Equatable {
    public var dataset: OKXDataset
    public var market: OKXMarket
    public var instruments: [String]
    public var first: Day
    public var last: Day

    public static let maxInstruments = 5
    public static let maxDays = 10

    /// The query after `api/v5/public/market-data-history?`. `begin` and `end` are the
    /// first and last day's midnight in UTC+8, in milliseconds, both inclusive (OKX counts
    /// the days between them in UTC+8: ten at most).
    public var query: String {
        "module=\(dataset.module)&instType=\(market.instType)&instIdList=\(instruments.joined(separator: ","))"
            + "&dateAggrType=daily&begin=\(OKXRequest.utc8Midnight(first))&end=\(OKXRequest.utc8Midnight(last))"
    }

    static let eightHours: Int64 = 8 * 3_600_000

    /// Midnight of `day` in UTC+8, as Unix milliseconds.
    public static func utc8Midnight(_ day: Day) -> Int64 { Int64(day.daysSinceEpoch) * 86_400_000 - eightHours }

    /// The UTC+8 day a Unix-millisecond instant falls on.
    public static func utc8Day(millis: Int64) -> Day {
        let shifted = millis + eightHours
        let days = shifted >= 0 ? shifted / 86_400_000 : (shifted - 86_399_999) / 86_400_000
        return Day(daysSinceEpoch: Int(days))
    }

    /// Today in UTC+8: the day OKX's newest files are named for (or will be).
    public static func utc8Today() -> Day { utc8Day(millis: WallClock.nowMillis()) }

    /// Every call needed for `instruments` (each with the first day wanted) up to `until`:
    /// instruments of a market with the same first day go together, five a call, and
    /// their days are cut into windows of ten.
    public static func plan(dataset: OKXDataset, instruments: [(id: String, market: OKXMarket, since: Day)],
                            until: Day) -> [OKXRequest] {
        var groups: [String: (market: OKXMarket, since: Day, ids: [String])] = [:]
        var order: [String] = []
        for i in instruments where i.since <= until {
            let key = "\(i.market.rawValue) \(i.since.daysSinceEpoch)"
            if groups[key] == nil {
                groups[key] = (i.market, i.since, [])
                order.append(key)
            }
            if !groups[key]!.ids.contains(i.id) { groups[key]!.ids.append(i.id) }
        }
        var requests: [OKXRequest] = []
        for key in order {
            let g = groups[key]!
            var start = 0
            while start < g.ids.count {
                let batch = Array(g.ids[start..<min(start + maxInstruments, g.ids.count)])
                var first = g.since
                while first <= until {
                    let last = min(first.adding(days: maxDays - 1), until)
                    requests.append(OKXRequest(dataset: dataset, market: g.market, instruments: batch, first: first, last: last))
                    first = last.adding(days: 1)
                }
                start += maxInstruments
            }
        }
        return requests
    }
}
