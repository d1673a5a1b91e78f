import XCTest
@testable import ArcTraces
@testable import ArcCore

/// The protobuf decoders against the JSON ones: the same request in both encodings must
/// give the same spans and the same log lines (the rules are written once).
final class OTLPProtobufDecoderTests: XCTestCase {
    let trace: [UInt8] = (1...16).map { UInt8($0) }
    let spanID: [UInt8] = [0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31]
    let parent: [UInt8] = [0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
    let t0: UInt64 = 1_700_000_000_000_000_000

    func anyString(_ s: String) -> [UInt8] { PB.string(1, s) }

    var attributesPB: [UInt8] {
        let array = PB.bytes(5, PB.bytes(1, anyString("a")) + PB.bytes(1, PB.int(3, 2)) + PB.bytes(1, [])
                             + PB.bytes(1, PB.bytes(6, PB.bytes(1, PB.kv("k", anyString("v"))))))
        let kvlist = PB.bytes(6, PB.bytes(1, PB.kv("region", anyString("eu"))) + PB.bytes(1, PB.kv("zone", PB.int(3, 3))))
        return PB.bytes(9, PB.kv("s", anyString("x"))) + PB.bytes(9, PB.kv("b", PB.int(2, 1)))
            + PB.bytes(9, PB.kv("i", PB.int(3, UInt64(bitPattern: -5))))
            + PB.bytes(9, PB.kv("d", PB.fixed64(4, (0.25).bitPattern)))
            + PB.bytes(9, PB.kv("raw", PB.bytes(7, [0, 1, 0xff])))
            + PB.bytes(9, PB.kv("arr", array)) + PB.bytes(9, PB.kv("cloud", kvlist)) + PB.bytes(9, PB.kv("unset", []))
    }

    let attributesJSON = """
        [{"key":"s","value":{"stringValue":"x"}},{"key":"b","value":{"boolValue":true}},
         {"key":"i","value":{"intValue":"-5"}},{"key":"d","value":{"doubleValue":0.25}},
         {"key":"raw","value":{"bytesValue":"AAH/"}},
         {"key":"arr","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":2},{},
            {"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}}]}}]}}},
         {"key":"cloud","value":{"kvlistValue":{"values":[{"key":"region","value":{"stringValue":"eu"}},
            {"key":"zone","value":{"intValue":3}}]}}},{"key":"unset","value":{}}]
        """

    func span(name: String = "GET /cart", trace: [UInt8]? = nil) -> [UInt8] {
        PB.bytes(1, trace ?? self.trace) + PB.bytes(2, spanID) + PB.bytes(4, parent) + PB.string(5, name) + PB.int(6, 2)
            + PB.fixed64(7, t0) + PB.fixed64(8, t0 + 250_000_000) + attributesPB
            + PB.bytes(11, PB.fixed64(1, t0 + 1000) + PB.string(2, "retry") + PB.bytes(3, PB.kv("attempt", PB.int(3, 2))))
            + PB.bytes(15, PB.string(2, "deadlock") + PB.int(3, 2)) + PB.unknown
    }

    func request(_ spans: [[UInt8]]) -> [UInt8] {
        let scope = PB.bytes(1, PB.string(1, "scope")) + spans.map { PB.bytes(2, $0) }.joined()
        // The resource after the spans: the decoder must not depend on the order.
        let rs = PB.bytes(2, scope) + PB.bytes(1, PB.bytes(1, PB.kv("service.name", anyString("checkout"))))
        return PB.bytes(1, rs) + PB.unknown
    }

    var jsonRequest: [UInt8] {
        Array("""
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
         "scopeSpans":[{"spans":[{"traceId":"\(Hex.encode(trace))","spanId":"\(Hex.encode(spanID))",
          "parentSpanId":"\(Hex.encode(parent))","name":"GET /cart","kind":2,"startTimeUnixNano":"\(t0)",
          "endTimeUnixNano":"\(t0 + 250_000_000)","attributes":\(attributesJSON),
          "events":[{"timeUnixNano":"\(t0 + 1000)","name":"retry","attributes":[{"key":"attempt","value":{"intValue":2}}]}],
          "status":{"code":2,"message":"deadlock"}}]}]}]}
        """.utf8)
    }

    func testProtobufSpansEqualTheJSONOnes() throws {
        let fromPB = try OTLPTraceDecoder.decodeProtobuf(request([span()]))
        let fromJSON = try OTLPTraceDecoder.decode(jsonRequest)
        XCTAssertEqual(fromPB.rejected, 0)
        XCTAssertEqual(fromPB.spans, fromJSON.spans)
        let s = try XCTUnwrap(fromPB.spans.first)
        XCTAssertEqual(s.service, "checkout")
        XCTAssertEqual(s.parentSpanID, "00f067aa0ba902b7")
        XCTAssertEqual(s.status, .error)
        XCTAssertEqual(s.attributesJSON, #"{"span.kind":"server","s":"x","b":true,"i":-5,"d":0.25,"raw":"AAH/","#
                       + #""arr":["a",2,{"k":"v"}],"cloud.region":"eu","cloud.zone":3}"#)
        XCTAssertEqual(s.eventsJSON, #"[{"name":"retry","time":"2023-11-14T22:13:20.000001Z","attributes":{"attempt":2}}]"#)
    }

    func testBadSpansAreRejectedAndCountedTheRestKept() throws {
        let r = try OTLPTraceDecoder.decodeProtobuf(request([span(), span(trace: [1, 2, 3]), span(name: ""),
                                                              span(trace: [UInt8](repeating: 0, count: 16))]))
        XCTAssertEqual(r.spans.count, 1)
        XCTAssertEqual(r.rejected, 3)
        XCTAssertEqual(r.firstProblem, "span with a bad traceId")
        // A time past Int64 (year 2262) is no time.
        var late = PB.bytes(1, trace) + PB.bytes(2, spanID) + PB.string(5, "n") + PB.fixed64(7, UInt64.max)
        late += PB.fixed64(8, 1)
        XCTAssertEqual(try OTLPTraceDecoder.decodeProtobuf(request([late])).firstProblem, "span with a negative time")
    }

    func testMalformedBodiesNameTheFieldPath() {
        func reason(_ body: [UInt8]) -> String {
            do { _ = try OTLPTraceDecoder.decodeProtobuf(body); return "no error" } catch { return "\(error)" }
        }
        var cut = span()
        cut.removeLast(PB.unknown.count + 3)
        XCTAssertEqual(reason(request([span(), cut])),
                       "resource_spans[0].scope_spans[0].spans[1].status: truncated length-delimited field (declares 12 bytes, 9 left)")
        let badValue = PB.bytes(1, trace) + PB.key(9, 2) + PB.varint(6) + PB.string(1, "k") + PB.key(2, 2) + PB.varint(1 << 62)
        XCTAssertTrue(reason(request([badValue])).hasPrefix("resource_spans[0].scope_spans[0].spans[0].attributes[0]"))
        XCTAssertEqual(reason(PB.int(1, 1)), "resource_spans[0]: resource_spans: wire type 0, expected 2")
        XCTAssertEqual(reason(PB.bytes(1, PB.bytes(2, PB.bytes(2, PB.int(5, 1))))),
                       "resource_spans[0].scope_spans[0].spans[0].name: name: wire type 0, expected 2")
        XCTAssertEqual(reason([]), "no error")
    }

    // MARK: logs

    func logRecord(_ extra: [UInt8] = []) -> [UInt8] {
        PB.fixed64(1, t0 + 5_000_000) + PB.int(2, 17) + PB.string(3, "ERROR") + PB.bytes(5, anyString("payment failed"))
            + PB.bytes(6, PB.kv("items", PB.int(3, 3))) + PB.bytes(6, PB.kv("level", anyString("mine")))
            + PB.bytes(9, trace) + PB.bytes(10, spanID) + extra
    }

    func logsRequest(_ records: [[UInt8]]) -> [UInt8] {
        let scope = records.map { PB.bytes(2, $0) }.joined()
        return PB.bytes(1, PB.bytes(1, PB.bytes(1, PB.kv("service.name", anyString("shop")))) + PB.bytes(2, Array(scope)))
    }

    func testLogRecordsBecomeArcLogLines() throws {
        let r = try OTLPLogDecoder.decodeProtobuf(logsRequest([logRecord()]), receivedNanos: 7)
        let row = try XCTUnwrap(r.rows.first)
        XCTAssertEqual(row.line, #"{"ts":"2023-11-14T22:13:20.005000Z","level":"error","tool":"shop","msg":"payment failed","#
                       + #""trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"b7ad6b7169203331","items":3,"attr.level":"mine"}"#)
        XCTAssertEqual(row.tsMillis, Int64(t0 / 1_000_000) + 5)
        XCTAssertEqual(row.level, "error")
        XCTAssertEqual(row.tool, "shop")
        XCTAssertEqual(row.traceID, Hex.encode(trace))
        let json = """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
             "scopeLogs":[{"logRecords":[{"timeUnixNano":"\(t0 + 5_000_000)","severityNumber":"SEVERITY_NUMBER_ERROR",
              "body":{"stringValue":"payment failed"},"attributes":[{"key":"items","value":{"intValue":"3"}},
              {"key":"level","value":{"stringValue":"mine"}}],"traceId":"\(Hex.encode(trace))","spanId":"\(Hex.encode(spanID))"}]}]}]}
            """
        XCTAssertEqual(try OTLPLogDecoder.decode(Array(json.utf8), receivedNanos: 7).rows.first?.line, row.line)
    }

    func testLogTimesSeveritiesBodiesAndIds() throws {
        func line(_ record: [UInt8]) throws -> String {
            try XCTUnwrap(try OTLPLogDecoder.decodeProtobuf(logsRequest([record]), receivedNanos: 3_000_000_000).rows.first).line
        }
        // No time: the observed time, else when it came.
        XCTAssertTrue(try line(PB.fixed64(11, 2_000_000_000)).hasPrefix(#"{"ts":"1970-01-01T00:00:02.000000Z","tool""#))
        XCTAssertTrue(try line([]).hasPrefix(#"{"ts":"1970-01-01T00:00:03.000000Z","tool":"shop","msg":""}"#))
        for (number, level) in [(1, "trace"), (4, "trace"), (5, "debug"), (9, "info"), (13, "warn"), (16, "warn"),
                                (20, "error"), (21, "fatal"), (24, "fatal")] {
            XCTAssertEqual(OTLPLogFields.level(number: number, text: nil), level)
        }
        XCTAssertEqual(OTLPLogFields.level(number: 0, text: "WARNING"), "warn")
        XCTAssertNil(OTLPLogFields.level(number: 0, text: "loud"))
        XCTAssertTrue(try line(PB.bytes(5, PB.int(3, 42))).contains(#""msg":"42""#))
        XCTAssertTrue(try line(PB.bytes(5, PB.bytes(6, PB.bytes(1, PB.kv("k", PB.int(2, 1)))))).contains(#""msg":"{\"k\":true}""#))
        // All-zero ids on a record outside any span mean none; a wrong length is rejected.
        XCTAssertFalse(try line(PB.bytes(9, [UInt8](repeating: 0, count: 16))).contains("trace_id"))
        let bad = try OTLPLogDecoder.decodeProtobuf(logsRequest([logRecord(PB.bytes(10, [1, 2])), logRecord()]), receivedNanos: 0)
        XCTAssertEqual(bad.rows.count, 1)
        XCTAssertEqual(bad.rejected, 1)
        XCTAssertEqual(bad.firstProblem, "log record with a bad spanId")
    }

    func testStoredLogLinesAreInTheFullTextIndex() throws {
        let db = try StateStore.open(":memory:")
        let r = try OTLPLogDecoder.decodeProtobuf(logsRequest([logRecord(), logRecord()]), receivedNanos: 0)
        try LogTable.insert(r.rows, into: db)
        let s = try db.statement("SELECT count(*) FROM logs_fts WHERE logs_fts MATCH 'payment'")
        XCTAssertTrue(try s.step())
        XCTAssertEqual(s.int(0), 2)
        s.reset()
        let src = try db.statement("SELECT DISTINCT source, tool, level FROM logs")
        XCTAssertTrue(try src.step())
        XCTAssertEqual([src.text(0), src.text(1), src.text(2)], ["otlp", "shop", "error"])
        src.reset()
    }
}
