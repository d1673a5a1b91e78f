import XCTest
@testable import ArcCore
@testable import ArcTraces

private let t0: Int64 = 1_704_164_400_000_000_000 // 2024-01-02T03:00:00Z
private let ms: Int64 = 1_000_000

/// A span of `trace` in `service`, times in milliseconds after t0; ids padded to 16 digits.
private func span(_ id: String, _ service: String?, _ startMs: Int64, _ endMs: Int64, parent: String? = nil,
                  trace: String = "4bf92f3577b34da6a3ce929d0e0e4736", status: SpanStatus = .ok,
                  attributes: String? = nil) -> StoredSpan {
    func pad(_ s: String) -> String { String(repeating: "0", count: 16 - s.count) + s }
    return StoredSpan(traceID: trace, spanID: pad(id), parentSpanID: parent.map(pad), name: "op \(id)", service: service,
                      startNanos: t0 + startMs * ms, endNanos: t0 + endMs * ms, status: status, attributesJSON: attributes)
}

private func edges(_ traces: [StoredSpan]..., since: Int64? = nil) -> [ServiceEdge] {
    var map = DependencyMap()
    for t in traces { map.add(trace: t, since: since) }
    return map.edges()
}

private func edge(_ caller: String, _ callee: String, calls: Int, errors: Int = 0,
                  _ p50: Int64, _ p95: Int64, _ p99: Int64, total: Int64) -> ServiceEdge {
    ServiceEdge(caller: caller, callee: callee, calls: calls, errors: errors, p50: p50 * ms, p95: p95 * ms,
                p99: p99 * ms, total: total * ms)
}

final class DependencyMapTests: XCTestCase {
    func testAChildInAnotherServiceIsACallAndLinksWithinAServiceAreNot() {
        let t = [span("1", "web", 0, 100),
                 span("2", "web", 1, 90, parent: "1"),                       // web -> web: not a call
                 span("3", "api", 10, 50, parent: "2", status: .error),       // web -> api, failed
                 span("4", "api", 12, 20, parent: "3"),                       // api -> api: not a call
                 span("5", "db", 20, 25, parent: "4"),                        // api -> db
                 span("6", "db", 30, 34, parent: "3"),                        // api -> db
                 span("7", "db", 40, 40, parent: "99")]                       // parent not in the trace: no call
        XCTAssertEqual(edges(t), [edge("web", "api", calls: 1, errors: 1, 40, 40, 40, total: 40),
                                  edge("api", "db", calls: 2, 4, 5, 5, total: 9)])
    }

    func testAClientSpanWithPeerServiceIsACallUnlessItsCalleeWasTraced() {
        let client = #"{"span.kind":"client","peer.service":"payments","http.method":"POST"}"#
        let t = [span("1", "shop", 0, 100),
                 span("2", "shop", 5, 35, parent: "1", attributes: client),                   // untraced callee
                 span("3", "shop", 40, 60, parent: "1", attributes: client),                  // traced: child below
                 span("4", "payments", 42, 58, parent: "3"),
                 span("5", "shop", 60, 61, parent: "1",
                      attributes: #"{"span.kind":"SPAN_KIND_PRODUCER","peer.service":"queue"}"#),
                 span("6", "shop", 62, 70, parent: "1", attributes: #"{"span.kind":"server","peer.service":"x"}"#),
                 span("7", "shop", 70, 71, parent: "1", attributes: #"{"peer.service":"y"}"#),       // no kind
                 span("8", "shop", 71, 72, parent: "1", attributes: #"{"span.kind":"client","peer.service":"shop"}"#),
                 span("9", "shop", 72, 73, parent: "1", attributes: #"{"span.kind":"client","peer.service":""}"#)]
        // payments: the untraced call (30 ms, the client span) and the traced one (16 ms, the child).
        XCTAssertEqual(edges(t), [edge("shop", "payments", calls: 2, 16, 30, 30, total: 46),
                                  edge("shop", "queue", calls: 1, 1, 1, 1, total: 1)])
    }

    func testSpansWithoutAServiceAreUnknownService() {
        let t = [span("1", nil, 0, 10), span("2", "api", 1, 9, parent: "1"), span("3", "", 2, 5, parent: "2"),
                 span("4", nil, 3, 4, parent: "3")]
        XCTAssertEqual(edges(t), [edge("unknown_service", "api", calls: 1, 8, 8, 8, total: 8),
                                  edge("api", "unknown_service", calls: 1, 3, 3, 3, total: 3)])
    }

    func testPercentilesAreNearestRankOverEveryTracesCalls() {
        // 20 traces, one call each of 1..20 ms, shuffled: p50 = 10th, p95 = 19th, p99 = 20th.
        let order: [Int64] = [7, 3, 19, 1, 20, 12, 5, 16, 9, 2, 14, 11, 18, 4, 13, 6, 17, 8, 15, 10]
        let traces = order.enumerated().map { i, d in
            let id = String(repeating: "0", count: 30) + String(format2: i + 1)
            return [span("1", "a", 0, 100, trace: id), span("2", "b", 0, d, parent: "1", trace: id)]
        }
        var map = DependencyMap()
        for t in traces { map.add(trace: t) }
        XCTAssertEqual(map.edges(), [edge("a", "b", calls: 20, 10, 19, 20, total: 210)])
        XCTAssertEqual([map.traces, map.spans], [20, 40])
    }

    func testSinceCountsLateCallsWhoseParentsStartedEarlier() {
        let t = [span("1", "a", 0, 100), span("2", "b", 10, 20, parent: "1"), span("3", "b", 50, 60, parent: "1")]
        XCTAssertEqual(edges(t, since: t0 + 30 * ms), [edge("a", "b", calls: 1, 10, 10, 10, total: 10)])
    }

    func testEdgesSortByTotalTimeThenCallsThenNames() {
        let t = [span("1", "a", 0, 100), span("2", "c", 0, 10, parent: "1"), span("3", "b", 0, 10, parent: "1"),
                 span("4", "d", 0, 5, parent: "1"), span("5", "d", 0, 5, parent: "1"), span("6", "e", 0, 50, parent: "1")]
        XCTAssertEqual(edges(t).map(\.callee), ["e", "d", "b", "c"])
    }

    func testHugeDurationsSaturateTheTotal() {
        let far = (Int64.max - t0) / ms - 1 // each call about 7.5e18 ns: two overflow Int64
        let t = [span("1", "a", 0, far + 1), span("2", "b", 0, far, parent: "1"), span("3", "b", 1, far, parent: "1")]
        XCTAssertEqual(edges(t).first?.total, .max)
    }

    func testRecordFieldsAreWholeMilliseconds() {
        var b = RecordBuilder()
        ServiceEdge(caller: "a \"x\"", callee: "b", calls: 3, errors: 1, p50: 1_999_999, p95: 2 * ms, p99: 3 * ms,
                    total: 7_500_000).write(into: &b)
        XCTAssertEqual(String(decoding: b.bytes, as: UTF8.self),
                       #"{"caller":"a \"x\"","callee":"b","calls":3,"errors":1,"p50_ms":1,"p95_ms":2,"p99_ms":3,"total_ms":7}"# + "\n")
    }

    func testDotQuotesNamesAndMarksErrorEdgesRed() {
        let dot = DependencyDot.render([edge("web \"front\"", #"C:\db\N"#, calls: 2, errors: 1, 1, 3, 3, total: 4),
                                        edge("web \"front\"", "line\nbreak\u{1}", calls: 1, 1, 1, 1, total: 1)])
        XCTAssertEqual(dot, #"""
            digraph services {
              rankdir=LR;
              node [shape=box, style=rounded];
              "C:\\db\\N";
              "line\nbreak�";
              "web \"front\"";
              "web \"front\"" -> "C:\\db\\N" [label="2 calls, 1 error\np95 3.00ms", color=red, fontcolor=red];
              "web \"front\"" -> "line\nbreak�" [label="1 call\np95 1.00ms"];
            }

            """#)
    }
}

final class TraceStoreForEachTraceTests: XCTestCase {
    func testTracesComeWholeOneAtATimeAndSinceKeepsTracesWithALateSpan() throws {
        let a = "a" + String(repeating: "0", count: 31), b = "b" + String(repeating: "0", count: 31)
        let store = try TraceStore.inMemory()
        try store.insert([span("1", "x", 0, 10, trace: b), span("1", "x", 0, 100, trace: a),
                          span("2", "y", 50, 60, parent: "1", trace: a), span("2", "y", 1, 2, parent: "1", trace: b)])
        var seen: [[String]] = []
        try store.forEachTrace(id: nil, since: nil) { seen.append($0.map { "\($0.traceID.prefix(1))\($0.spanID.suffix(1))" }) }
        XCTAssertEqual(seen.map { $0.sorted() }, [["a1", "a2"], ["b1", "b2"]])
        // Since 30 ms: trace a has a span after it and comes whole, its root included; b does not.
        seen = []
        try store.forEachTrace(id: nil, since: t0 + 30 * ms) { seen.append($0.map { "\($0.traceID.prefix(1))\($0.spanID.suffix(1))" }) }
        XCTAssertEqual(seen.map { $0.sorted() }, [["a1", "a2"]])
        seen = []
        try store.forEachTrace(id: b, since: nil) { seen.append($0.map { "\($0.traceID.prefix(1))\($0.spanID.suffix(1))" }) }
        XCTAssertEqual(seen.map { $0.sorted() }, [["b1", "b2"]])
    }
}

private extension String {
    /// Two decimal digits, zero-padded (a trace id's tail).
    init(format2 n: Int) { self = (n < 10 ? "0" : "") + String(n) }
}
