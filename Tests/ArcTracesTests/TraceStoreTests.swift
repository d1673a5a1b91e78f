import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcTraces

/// Spans with times in milliseconds after a fixed instant, for readable trees.
private let t0: Int64 = 1_704_164_400_000_000_000 // 2024-01-02T03:00:00Z
private let trace = "4bf92f3577b34da6a3ce929d0e0e4736"

private func span(_ id: String, _ name: String, _ startMs: Int64, _ endMs: Int64, parent: String? = nil,
                  status: SpanStatus = .ok, message: String? = nil) -> StoredSpan {
    StoredSpan(traceID: trace, spanID: String(repeating: "0", count: 16 - id.count) + id,
               parentSpanID: parent.map { String(repeating: "0", count: 16 - $0.count) + $0 }, name: name,
               service: "svc", startNanos: t0 + startMs * 1_000_000, endNanos: t0 + endMs * 1_000_000,
               status: status, statusMessage: message)
}

final class SpanRecordParsingTests: XCTestCase {
    func testSpanRecordWriteReadsBackAsTheSameSpan() throws {
        let original = SpanRecord(
            traceID: trace, spanID: "00f067aa0ba902b7", parentSpanID: "00f067aa0ba902b6", name: "collect.task",
            service: "arc-collect", startNanos: t0 + 123_456_000, endNanos: t0 + 1_234_567_000, status: .error,
            statusMessage: "checksum \"mismatch\"\n",
            attributes: [("url", .string("https://x/a b.zip")), ("bytes", .int(-12)), ("ratio", .double(0.25)),
                         ("verified", .bool(false)), ("ünïcode", .string("✓"))],
            events: [SpanEvent(name: "retry", timeNanos: t0 + 500_000_000, attributes: [("attempt", .int(2))]),
                     SpanEvent(name: "resume", timeNanos: t0 + 600_000_000)])
        var b = RecordBuilder()
        original.write(into: &b)
        let line = String(decoding: b.bytes.dropLast(), as: UTF8.self)
        let stored = try StoredSpan(record: Record(parsing: line))
        XCTAssertEqual(stored.traceID, original.traceID)
        XCTAssertEqual(stored.parentSpanID, "00f067aa0ba902b6")
        XCTAssertEqual(stored.startNanos, original.startNanos)
        XCTAssertEqual(stored.endNanos, original.endNanos)
        XCTAssertEqual(stored.status, .error)
        XCTAssertEqual(stored.statusMessage, "checksum \"mismatch\"\n")
        let back = stored.spanRecord()
        XCTAssertEqual(back.attributes.map(\.0), original.attributes.map(\.0))
        XCTAssertEqual(back.attributes.map { "\($0.1)" }, original.attributes.map { "\($0.1)" })
        XCTAssertEqual(back.events.map(\.name), ["retry", "resume"])
        XCTAssertEqual(back.events.map(\.timeNanos), original.events.map(\.timeNanos))
        XCTAssertEqual(back.events[0].attributes.map { "\($0.0)=\($0.1)" }, ["attempt=int(2)"])
        // And written again, byte for byte the same line.
        var again = RecordBuilder()
        stored.write(into: &again)
        XCTAssertEqual(String(decoding: again.bytes, as: UTF8.self), String(decoding: b.bytes, as: UTF8.self))
        XCTAssertEqual(StoredSpan(back), stored)
    }

    func testBadFieldsAreFieldErrors() throws {
        let good = #"{"trace_id":"\#(trace)","span_id":"00f067aa0ba902b7","name":"x","start":"2024-01-02T03:00:00Z","end":"2024-01-02T03:00:01Z"}"#
        let span = try StoredSpan(record: Record(parsing: good))
        XCTAssertEqual(span.status, .unset)
        XCTAssertNil(span.attributesJSON)
        XCTAssertEqual(span.durationNanos, 1_000_000_000)
        for (change, field) in [(("00f067aa0ba902b7", "00F067AA0BA902B7"), "span_id"),
                                ((trace, String(repeating: "0", count: 32)), "trace_id"),
                                (("\"name\":\"x\"", "\"name\":\"\""), "name"),
                                (("03:00:01Z", "02:00:00Z"), "end"),
                                (("2024-01-02T03:00:00Z", "yesterday"), "start"),
                                (("\"name\"", "\"status\":\"fine\",\"name\""), "status"),
                                (("\"name\"", "\"attributes\":[1],\"name\""), "attributes")] {
            let line = good.replacingOccurrences(of: change.0, with: change.1)
            XCTAssertThrowsError(try StoredSpan(record: Record(parsing: line)), field) { error in
                XCTAssertEqual((error as? FieldError)?.field, field)
            }
        }
    }

    func testArrayElementsSplitOnlyAtTheTopLevel() {
        let text = #"[ {"a":[1,2],"b":"x,]}"} , 3,"s\"," ,[] ]"#
        XCTAssertEqual(SpanJSON.elements(ofArray: Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) },
                       [#"{"a":[1,2],"b":"x,]}"}"#, "3", #""s\",""#, "[]"])
        XCTAssertEqual(SpanJSON.elements(ofArray: Array("[]".utf8)).count, 0)
    }
}

final class CriticalPathTests: XCTestCase {
    func testLastFinishingChildThenTheOnesThatEndedBeforeItStarted() {
        // Under root (0-100): a 0-30, b 10-40, c 40-90, d 45-60 (in c's shadow);
        // under c: f 41-49 and e 50-85.
        let spans = [
            span("1", "root", 0, 100),
            span("2", "a", 0, 30, parent: "1"),
            span("3", "b", 10, 40, parent: "1"),
            span("4", "c", 40, 90, parent: "1"),
            span("5", "d", 45, 60, parent: "1"),
            span("6", "e", 50, 85, parent: "4"),
            span("7", "f", 41, 49, parent: "4"),
        ]
        let tree = TraceTree(spans)
        let names = Set(tree.criticalPath().map { tree.spans[$0].name })
        // c ended last; b ended (40) by the time c started (40); a ended after b started: not on it.
        // Inside c: e ended last, f ended (49) before e started (50).
        XCTAssertEqual(names, ["root", "c", "b", "e", "f"])
    }

    func testPipelineStagesRunningTogetherOnlyTheLastToEndCounts() {
        let spans = [span("1", "sh", 0, 100), span("2", "plan", 5, 60, parent: "1"),
                     span("3", "collect", 6, 98, parent: "1"), span("4", "ingest", 7, 99, parent: "1")]
        let tree = TraceTree(spans)
        XCTAssertEqual(Set(tree.criticalPath().map { tree.spans[$0].name }), ["sh", "ingest"])
    }

    func testOrphansAreRootsAndTheMainRootEndsLast() {
        let spans = [span("1", "early", 0, 10), span("2", "orphan", 5, 50, parent: "99"),
                     span("3", "child", 6, 40, parent: "2")]
        let tree = TraceTree(spans)
        XCTAssertEqual(tree.roots.map { tree.spans[$0].name }, ["early", "orphan"])
        XCTAssertEqual(tree.mainRoot.map { tree.spans[$0].name }, "orphan")
        XCTAssertEqual(Set(tree.criticalPath().map { tree.spans[$0].name }), ["orphan", "child"])
        XCTAssertEqual(tree.flattened().map { $0.prefix + tree.spans[$0.index].name }, ["early", "orphan", "└─ child"])
    }
}

final class WaterfallTests: XCTestCase {
    func testRenderingIsExactWithoutColour() {
        let spans = [
            span("1", "nightly", 0, 1000, status: .error, message: "exit status 1"),
            span("2", "arc-plan", 0, 250, parent: "1"),
            span("3", "arc-collect", 250, 1000, parent: "1", status: .error, message: "1 failed"),
            span("4", "task", 500, 750, parent: "3"),
        ]
        let text = Waterfall.render(TraceTree(spans), width: 50, color: false)
        XCTAssertEqual(text, """
            trace \(trace)  nightly  2024-01-02T03:00:00.000000Z  1.00s  4 spans  2 failed
                              0                 1.00s
            * ✗ nightly      │███████████████████████│   1.00s
            * ├─ arc-plan    │██████                 │   250ms
            * └─ ✗ arc-coll… │     ██████████████████│   750ms
            *    └─ task     │           ███████     │   250ms

            ✗ nightly: exit status 1
            ✗ arc-collect: 1 failed

            * critical path

            """)
        let colored = Waterfall.render(TraceTree(spans), width: 50, color: true)
        XCTAssertTrue(colored.contains("\u{1B}[31m\u{1B}[1m✗ nightly"))
        XCTAssertTrue(colored.contains("\u{1B}[1m├─ arc-plan"))
        XCTAssertEqual(colored.replacingOccurrences(of: "\u{1B}[31m", with: "").replacingOccurrences(of: "\u{1B}[1m", with: "")
            .replacingOccurrences(of: "\u{1B}[0m", with: ""), text)
    }

    func testAZeroLengthTraceStillDrawsBars() {
        let text = Waterfall.render(TraceTree([span("1", "instant", 0, 0)]), width: 40, color: false)
        XCTAssertTrue(text.contains("* instant │████████████████████│     0ns\n"), text)
    }

    func testDurations() {
        XCTAssertEqual([0, 999, 1_000, 850_000, 1_250_000, 12_500_000, 123_000_000, 1_200_000_000, 12_340_000_000,
                        125_000_000_000, 3_720_000_000_000].map { DurationText.format($0) },
                       ["0ns", "999ns", "1µs", "850µs", "1.25ms", "12.5ms", "123ms", "1.20s", "12.3s", "2m05s", "1h02m"])
    }
}

final class PercentileTests: XCTestCase {
    func testNearestRank() {
        let ten: [Int64] = Array(1...10)
        XCTAssertEqual(Percentile.nearestRank(ten, 50), 5)
        XCTAssertEqual(Percentile.nearestRank(ten, 95), 10)
        XCTAssertEqual(Percentile.nearestRank(ten, 10), 1)
        XCTAssertEqual(Percentile.nearestRank(ten, 11), 2)
        XCTAssertEqual(Percentile.nearestRank([7], 99), 7)
        let hundred: [Int64] = Array(1...100)
        XCTAssertEqual([50, 95, 99, 100].map { Percentile.nearestRank(hundred, $0) }, [50, 95, 99, 100])
        let stats = SpanNameStats(name: "x", sorted: [1, 2, 3, 4], errors: 1)
        XCTAssertEqual([stats.p50, stats.p95, stats.p99, stats.max, Int64(stats.count)], [2, 4, 4, 4, 4])
    }
}

final class OTLPDecodeTests: XCTestCase {
    func testEveryIdFormAndValueKind() throws {
        let body = """
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
          "scopeSpans":[{"scope":{"name":"s"},"spans":[
            {"traceId":"0AF7651916CD43DD8448EB211C80319C","spanId":"t61rcWkgMzE=","parentSpanId":"",
             "name":"GET /","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":1700000000250000000,
             "status":{"code":"STATUS_CODE_ERROR","message":"boom"},
             "attributes":[{"key":"s","value":{"stringValue":"x"}},{"key":"i","value":{"intValue":"9007199254740993"}},
               {"key":"n","value":{"intValue":7}},{"key":"d","value":{"doubleValue":1.5}},{"key":"b","value":{"boolValue":true}},
               {"key":"y","value":{"bytesValue":"AAH/"}},
               {"key":"a","value":{"arrayValue":{"values":[{"stringValue":"p"},{"boolValue":false},
                 {"arrayValue":{"values":[{"intValue":"1"}]}}]}}},
               {"key":"k","value":{"kvlistValue":{"values":[{"key":"x","value":{"doubleValue":2}},
                 {"key":"deep","value":{"kvlistValue":{"values":[{"key":"z","value":{"stringValue":"q"}}]}}}]}}},
               {"key":"empty","value":{}}],
             "events":[{"timeUnixNano":"1700000000100000000","name":"e","attributes":[{"key":"n","value":{"intValue":"1"}}]}]},
            {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"0000000000000000","name":"bad id",
             "startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}
        """
        let result = try OTLPTraceDecoder.decode(Array(body.utf8))
        XCTAssertEqual(result.rejected, 1)
        XCTAssertEqual(result.firstProblem, "span with a bad spanId")
        let s = try XCTUnwrap(result.spans.first)
        XCTAssertEqual(s.traceID, "0af7651916cd43dd8448eb211c80319c")
        XCTAssertEqual(s.spanID, "b7ad6b7169203331")
        XCTAssertNil(s.parentSpanID)
        XCTAssertEqual(s.service, "shop")
        XCTAssertEqual(s.status, .error)
        XCTAssertEqual(s.statusMessage, "boom")
        XCTAssertEqual(s.durationNanos, 250_000_000)
        XCTAssertEqual(s.attributesJSON, #"{"span.kind":"server","s":"x","i":9007199254740993,"n":7,"d":1.5,"b":true,"y":"AAH/","a":["p",false,[1]],"k.x":2.0,"k.deep.z":"q"}"#)
        XCTAssertEqual(s.eventsJSON, #"[{"name":"e","time":"2023-11-14T22:13:20.100000Z","attributes":{"n":1}}]"#)
        // The stored text reads back as attributes an OTLP encoder can send.
        let record = s.spanRecord()
        XCTAssertEqual(record.attributes.count, 10)
        XCTAssertEqual("\(record.attributes[7].1)", #"string("[\"p\",false,[1]]")"#)
    }

    func testNotJSONAndNotAnObjectAreErrors() {
        XCTAssertThrowsError(try OTLPTraceDecoder.decode(Array("{nope".utf8)))
        XCTAssertThrowsError(try OTLPTraceDecoder.decode(Array("[1]".utf8)))
        XCTAssertEqual(try OTLPTraceDecoder.decode(Array("{}".utf8)).spans.count, 0)
    }
}

final class TraceStoreTests: XCTestCase {
    private var dir: TempDir!
    override func setUp() { dir = TempDir() }
    override func tearDown() { dir.remove() }

    func testInsertIsIdempotentAndQueriesSeeTraces() throws {
        let store = try TraceStore.open(dir.file("state.db"))
        let spans = [span("1", "root", 0, 100), span("2", "child", 10, 50, parent: "1", status: .error)]
        try store.insert(spans)
        try store.insert(spans)
        XCTAssertEqual(try store.spans(ofTrace: trace), spans)
        let summaries = try store.traces(since: nil, limit: 10)
        XCTAssertEqual(summaries, [TraceSummary(traceID: trace, name: "root", service: "svc", status: .ok, startNanos: t0,
                                                endNanos: t0 + 100_000_000, spans: 2, errors: 1)])
        XCTAssertEqual(try store.traces(since: t0 + 1, limit: 10), [])
        XCTAssertEqual(try store.resolve(prefix: "4BF9"), trace)
        XCTAssertNil(try store.resolve(prefix: "4bf8"))
        XCTAssertThrowsError(try store.resolve(prefix: "xyz"))
        XCTAssertEqual(try store.latestTraceID(), trace)
        let stats = try SpanNameStats.compute(store, since: nil, names: ["child"])
        XCTAssertEqual(stats.map(\.name), ["child"])
        XCTAssertEqual(stats.first?.errors, 1)
    }

    /// Inserts go in statements of many rows and the rest one by one: every span of a
    /// batch that is not a multiple of the rows a statement takes is stored, a span sent
    /// twice in one batch (across a statement's boundary) is stored once, the later copy,
    /// and a row refused midway rolls the whole batch back.
    func testLargeBatchesAreStoredWholeAndTheLastCopyWins() throws {
        let store = try TraceStore.open(dir.file("state.db"))
        var spans = (1...70).map { span(String($0, radix: 16), "s\($0 % 5)", Int64($0), Int64($0) + 10) }
        spans[40] = span("1", "again", 7, 9, status: .error, message: "later")
        try store.insert(spans)
        let stored = try store.spans(ofTrace: trace)
        XCTAssertEqual(stored.count, 69)
        XCTAssertEqual(stored.first { $0.spanID == "0000000000000001" }?.name, "again")
        XCTAssertEqual(Set(stored.map(\.spanID)), Set(spans.map(\.spanID)))

        let other = "00000000000000000000000000000abc"
        var rolledBack = (1...40).map { n -> StoredSpan in
            var s = span(String(n, radix: 16), "r", Int64(n), Int64(n) + 1)
            s.traceID = other
            return s
        }
        rolledBack.append(rolledBack[0])
        // A row refused after a whole statement of rows went in (the 39th, among the rows
        // inserted one by one): the transaction is rolled back, nothing of the batch is left.
        try store.db.execute("""
            CREATE TEMP TRIGGER refuse BEFORE INSERT ON spans WHEN NEW.span_id = '0000000000000027'
            BEGIN SELECT RAISE(ABORT, 'refused'); END
            """)
        XCTAssertThrowsError(try store.insert(rolledBack))
        XCTAssertEqual(try store.spans(ofTrace: other).count, 0)
        try store.db.execute("DROP TRIGGER refuse")
        try store.insert(rolledBack)
        XCTAssertEqual(try store.spans(ofTrace: other).count, 40)
    }

    func testIngestCountsBadLinesAndCommitsWhatCameBeforeAStrictStop() throws {
        let store = try TraceStore.open(dir.file("state.db"))
        var b = RecordBuilder()
        span("1", "root", 0, 100).write(into: &b)
        let good = String(decoding: b.bytes, as: UTF8.self)
        let path = dir.write("spans.ndjson", good + "{\"trace_id\":1}\nnot json\n\n")
        let log = CapturedLog(dir)
        let outcome = try SpanIngest(store: store, log: log.logger).run(paths: [path], strict: false)
        XCTAssertEqual(outcome, SpanIngest.Outcome(spans: 1, badLines: 2))
        let fresh = try TraceStore.open(dir.file("other.db"))
        XCTAssertThrowsError(try SpanIngest(store: fresh, log: log.logger).run(paths: [path], strict: true)) { error in
            XCTAssertEqual((error as? InputError)?.line, 2)
        }
        XCTAssertEqual(try fresh.spans(ofTrace: trace).count, 1)
    }
}
