import ArcCore

/// Percentiles by the nearest-rank method: the p-th percentile of n sorted values is the
/// value at rank ceil(p/100 * n) (1-based), always one of the observed values. For the
/// durations 1..10 ms: p50 = 5, p95 = 10, p99 = 10, max = 10.
public enum Percentile {
    /// `sorted` ascending and not empty; `p` in (0, 100].
    public static func nearestRank(_ sorted: [Int64], _ p: Double) -> Int64 {
        precondition(!sorted.isEmpty)
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// Durations of one span name: how often, how often failed, how long.
public struct SpanNameStats: Equatable {
    public var name: String
    public var count: Int
    public var errors: Int
    public var p50: Int64
    public var p95: Int64
    public var p99: Int64
    public var max: Int64

    /// `sorted` durations in nanoseconds, ascending, not empty.
    public init(name: String, sorted: [Int64], errors: Int) {
        self.name = name
        count = sorted.count
        self.errors = errors
        p50 = Percentile.nearestRank(sorted, 50)
        p95 = Percentile.nearestRank(sorted, 95)
        p99 = Percentile.nearestRank(sorted, 99)
        max = sorted[sorted.count - 1]
    }

    /// NDJSON: `{"name","count","errors","p50_ms","p95_ms","p99_ms","max_ms"}`; the
    /// durations are whole milliseconds (truncated), as every `*_ms` field in arc.
    public func write(into b: inout RecordBuilder) {
        b.begin()
        b.string("name", name)
        b.int("count", count)
        b.int("errors", errors)
        b.int("p50_ms", p50 / 1_000_000)
        b.int("p95_ms", p95 / 1_000_000)
        b.int("p99_ms", p99 / 1_000_000)
        b.int("max_ms", max / 1_000_000)
        b.end()
    }

    /// Per name, from the store, one name's durations in memory at a time.
    public static func compute(_ store: TraceStore, since: Int64?, names: [String]) throws -> [SpanNameStats] {
        var out: [SpanNameStats] = []
        var current: String?
        var durations: [Int64] = []
        var errors = 0
        func close() {
            if let current, !durations.isEmpty { out.append(SpanNameStats(name: current, sorted: durations, errors: errors)) }
            durations.removeAll(keepingCapacity: true)
            errors = 0
        }
        try store.forEachDuration(since: since, names: names) { name, nanos, failed in
            if name != current {
                close()
                current = name
            }
            durations.append(nanos)
            if failed { errors += 1 }
        }
        close()
        return out
    }
}
