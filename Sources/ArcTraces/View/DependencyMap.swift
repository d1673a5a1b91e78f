import ArcCore

/// One caller -> callee pair of services: how often the caller called, how often the call
/// failed, and how long the calls took (nearest-rank percentiles and the sum, nanoseconds).
public struct ServiceEdge: Equatable, Sendable {
    public var caller: String
    public var callee: String
    public var calls: Int
    public var errors: Int
    public var p50: Int64
    public var p95: Int64
    public var p99: Int64
    public var total: Int64

    public init(caller: String, callee: String, calls: Int, errors: Int, p50: Int64, p95: Int64, p99: Int64, total: Int64) {
        self.caller = caller
        self.callee = callee
        self.calls = calls
        self.errors = errors
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.total = total
    }

    /// NDJSON: `{"caller","callee","calls","errors","p50_ms","p95_ms","p99_ms","total_ms"}`,
    /// whole milliseconds (truncated) as `stats` writes them.
    public func write(into b: inout RecordBuilder) {
        b.begin()
        b.string("caller", caller)
        b.string("callee", callee)
        b.int("calls", calls)
        b.int("errors", errors)
        b.int("p50_ms", p50 / 1_000_000)
        b.int("p95_ms", p95 / 1_000_000)
        b.int("p99_ms", p99 / 1_000_000)
        b.int("total_ms", total / 1_000_000)
        b.end()
    }
}

/// Which service waits on which: the calls between services found in traces, added one
/// trace at a time (so only that trace's spans need be in memory), summed per edge.
///
/// A call is a span: a span whose parent (in the same trace) belongs to another service is
/// a call from the parent's service to its own; a client or producer span (attribute
/// `span.kind`) naming a `peer.service` is a call to that service when no child of it in
/// another service already made the edge (the callee was not traced, or its spans are not
/// here). Links within one service are not calls. A span without a service counts as
/// `unknown_service`, as OpenTelemetry names it.
public struct DependencyMap {
    public static let unknownService = "unknown_service"

    private struct Pair: Hashable {
        var caller: String
        var callee: String
    }

    private struct Calls {
        var durations: [Int64] = []
        var errors = 0
        var total: Int64 = 0

        mutating func add(_ nanos: Int64, failed: Bool) {
            durations.append(nanos)
            if failed { errors += 1 }
            // Saturating: two spans near the ends of the representable times would overflow.
            let (sum, overflow) = total.addingReportingOverflow(nanos)
            total = overflow ? .max : sum
        }
    }

    private var calls: [Pair: Calls] = [:]
    /// What was read, for the notice when no edge came of it.
    public private(set) var traces = 0
    public private(set) var spans = 0

    public init() {}

    /// Adds the calls in one trace. `spans` must be all of the trace's spans (the parents
    /// of the calls are looked up among them); with `since`, only calls that started at or
    /// after it count, though their parents may have started before.
    public mutating func add(trace spans: [StoredSpan], since: Int64? = nil) {
        traces += 1
        self.spans += spans.count
        // Parents found by binary search in the spans sorted by id: no hashing of every id
        // (most traces are small, and hashing was the largest cost in a profile).
        let byID = spans.indices.sorted { spans[$0].spanID < spans[$1].spanID }
        func position(of id: String) -> Int? {
            var low = 0, high = byID.count
            while low < high {
                let mid = (low + high) / 2
                if spans[byID[mid]].spanID < id { low = mid + 1 } else { high = mid }
            }
            return low < byID.count && spans[byID[low]].spanID == id ? byID[low] : nil
        }
        // Spans with a child in another service: their call is that child, not a guess from peer.service.
        var calledAcross = [Bool](repeating: false, count: spans.count)
        for span in spans {
            guard let parentID = span.parentSpanID, let p = position(of: parentID) else { continue }
            let caller = Self.service(spans[p]), callee = Self.service(span)
            guard caller != callee else { continue }
            calledAcross[p] = true
            record(caller, callee, span, since: since)
        }
        for (i, span) in spans.enumerated() where !calledAcross[i] {
            guard let peer = Self.peerCallee(span) else { continue }
            let caller = Self.service(span)
            if peer != caller { record(caller, peer, span, since: since) }
        }
    }

    private mutating func record(_ caller: String, _ callee: String, _ call: StoredSpan, since: Int64?) {
        if let since, call.startNanos < since { return }
        calls[Pair(caller: caller, callee: callee), default: Calls()].add(call.durationNanos, failed: call.isError)
    }

    /// The edges, the most total time first (then the most calls, then by name, so the
    /// order is the same on every run).
    public func edges() -> [ServiceEdge] {
        calls.map { pair, c in
            let sorted = c.durations.sorted()
            return ServiceEdge(caller: pair.caller, callee: pair.callee, calls: sorted.count, errors: c.errors,
                               p50: Percentile.nearestRank(sorted, 50), p95: Percentile.nearestRank(sorted, 95),
                               p99: Percentile.nearestRank(sorted, 99), total: c.total)
        }.sorted { a, b in
            if a.total != b.total { return a.total > b.total }
            if a.calls != b.calls { return a.calls > b.calls }
            if a.caller != b.caller { return a.caller < b.caller }
            return a.callee < b.callee
        }
    }

    static func service(_ span: StoredSpan) -> String {
        guard let s = span.service, !s.isEmpty else { return unknownService }
        return s
    }

    /// The `peer.service` of a client or producer span; nil for any other span.
    static func peerCallee(_ span: StoredSpan) -> String? {
        // Most spans have no peer.service: a substring test spares parsing their attributes.
        guard let json = span.attributesJSON, mentionsPeerService(json), let r = try? Record(parsing: json),
              let peer = try? r.string("peer.service"), !peer.isEmpty,
              let kind = try? r.string("span.kind") else { return nil }
        // The receiver stores the kind as `client`; other writers may use the enum's name.
        var k = kind.lowercased()
        if k.hasPrefix("span_kind_") { k = String(k.dropFirst(10)) }
        return k == "client" || k == "producer" ? peer : nil
    }

    private static let peerService = Array("peer.service".utf8)

    /// Whether the bytes `peer.service` occur in `json` (a byte search: String's own
    /// `contains` compares Characters, which cost more than the rest of a span's work).
    static func mentionsPeerService(_ json: String) -> Bool {
        var json = json
        return json.withUTF8 { b in
            let key = peerService, n = key.count
            guard b.count >= n else { return false }
            for i in 0...(b.count - n) where b[i] == key[0] {
                var j = 1
                while j < n && b[i + j] == key[j] { j += 1 }
                if j == n { return true }
            }
            return false
        }
    }
}
