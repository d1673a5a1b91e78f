import ArcCore

/// `--gaps`: for each series (source, market, period, type, symbol, interval), the days
/// or months missing between the first and the last archive listed. Holes in Binance's
/// archive are common and users ask for exactly this list. With the quality ledger
/// (arc-check's results), also the holes inside the archives listed: missing klines, days
/// cut short, gaps in trade ids.
final class GapReport {
    private let holes: QualityHoles?
    /// The keys listed per series, to find their holes.
    private var keys: [Series: [String]] = [:]

    init(holes: QualityHoles? = nil) { self.holes = holes }

    private struct Series: Hashable {
        var source, market, period, type, symbol: String
        var interval: String?
    }

    /// Day numbers (daily) or month indices (monthly) seen per series.
    private var seen: [Series: [Int]] = [:]

    func add(_ r: Record) throws {
        let period = try r.requiredString("period")
        let date = try r.requiredString("date")
        let index: Int
        switch period {
        case "daily":
            guard let d = Day(date) else { throw FieldError(field: "date", expected: "a date YYYY-MM-DD", kind: .string) }
            index = d.daysSinceEpoch
        case "monthly":
            guard let m = Month(date) else { throw FieldError(field: "date", expected: "a month YYYY-MM", kind: .string) }
            index = m.index
        default:
            throw FieldError(field: "period", expected: "daily or monthly", kind: .string)
        }
        let s = Series(source: try r.string("source") ?? "", market: try r.string("market") ?? "", period: period,
                       type: try r.string("type") ?? "", symbol: try r.string("symbol") ?? "",
                       interval: try r.string("interval"))
        seen[s, default: []].append(index)
        if holes != nil, let key = try r.string("key") { keys[s, default: []].append(key) }
    }

    /// Writes one record per series with gaps (missing files or holes inside them); returns
    /// (series, series with gaps, missing dates).
    func write(to output: BufferedOutput) throws -> (series: Int, withGaps: Int, missing: Int) {
        var b = RecordBuilder()
        var withGaps = 0, missingTotal = 0
        let ordered = seen.keys.sorted {
            ($0.source, $0.market, $0.type, $0.symbol, $0.interval ?? "", $0.period)
                < ($1.source, $1.market, $1.type, $1.symbol, $1.interval ?? "", $1.period)
        }
        for s in ordered {
            let indices = Array(Set(seen[s]!)).sorted()
            var ranges: [(Int, Int)] = []
            for (a, b) in zip(indices, indices.dropFirst()) where b - a > 1 { ranges.append((a + 1, b - 1)) }
            let inside = (keys[s] ?? []).flatMap { holes?.byKey[$0] ?? [] }.sorted { $0.date < $1.date }
            guard !ranges.isEmpty || !inside.isEmpty else { continue }
            let daily = s.period == "daily"
            let text: (Int) -> String = { daily ? Day(daysSinceEpoch: $0).description : Month(index: $0).description }
            let missing = ranges.reduce(0) { $0 + $1.1 - $1.0 + 1 }
            withGaps += 1
            missingTotal += missing
            b.begin()
            b.string("source", s.source)
            b.string("market", s.market)
            b.string("period", s.period)
            b.string("type", s.type)
            b.string("symbol", s.symbol)
            b.optionalString("interval", s.interval)
            b.string("first", text(indices.first!))
            b.string("last", text(indices.last!))
            b.int("expected", indices.last! - indices.first! + 1)
            b.int("present", indices.count)
            b.int("missing_count", missing)
            b.objects("missing", ranges) { b, r in
                b.string("from", text(r.0))
                b.string("to", text(r.1))
                b.int("count", r.1 - r.0 + 1)
            }
            if holes != nil {
                b.objects("holes", inside) { b, h in
                    b.string("date", h.date)
                    b.string("key", h.key)
                    b.string("code", h.code)
                    if let count = h.count { b.int("count", count) }
                    b.objects("ranges", h.ranges) { b, r in
                        b.string("from", r.0)
                        b.string("to", r.1)
                    }
                }
            }
            b.end()
            try output.write(b.bytes)
        }
        return (seen.count, withGaps, missingTotal)
    }
}
