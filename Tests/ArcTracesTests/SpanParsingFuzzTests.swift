import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcTraces

/// Span records (`telem-trace ingest`) and OTLP bodies (`telem-trace serve`) the fuzzer
/// (Fuzz/, fuzz-span-record and fuzz-otlp-traces) found crashing or not round-tripping.
final class SpanParsingFuzzTests: XCTestCase {
    private func line(start: String, end: String, name: String = "x") -> String {
        #"{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","name":"\#(name)","start":"\#(start)","end":"\#(end)"}"#
    }

    /// Year 2601 overflowed Int64 nanoseconds (a trap in ingest); now it is a bad line.
    func testTimesPastInt64NanosecondsAreBadFields() throws {
        XCTAssertNil(WallClock.parseRFC3339Nanos("2601-12-06T01:33:54.183853Z"))
        XCTAssertNil(WallClock.parseRFC3339Nanos("9999-12-31T23:59:59Z"))
        XCTAssertEqual(WallClock.parseRFC3339Nanos("2262-04-11T23:47:16.854775807Z"), Int64.max)
        XCTAssertEqual(WallClock.parseRFC3339Nanos("2262-04-11T23:47:16.854775Z"), 9_223_372_036_854_775_000)
        let e = assertThrows(FieldError.self, try StoredSpan(record: try Record(parsing: line(start: "2601-12-06T01:33:54Z",
                                                                                               end: "2602-01-01T00:00:00Z"))))
        XCTAssertEqual(e?.field, "start")
    }

    /// A span from 1728 to 2026 lasts longer than Int64 nanoseconds hold: durationNanos trapped.
    func testTimesBefore1970AreBadFields() throws {
        let e = assertThrows(FieldError.self, try StoredSpan(record: try Record(parsing: line(start: "1728-12-06T01:33:54Z",
                                                                                               end: "2026-12-06T01:33:54Z"))))
        XCTAssertEqual(e?.field, "start")
        let ok = try StoredSpan(record: try Record(parsing: line(start: "1970-01-01T00:00:00Z", end: "2262-04-11T00:00:00Z")))
        XCTAssertGreaterThan(ok.durationNanos, 0)
    }

    private func otlp(_ span: String) -> [UInt8] {
        Array(#"{"resourceSpans":[{"scopeSpans":[{"spans":[\#(span)]}]}]}"#.utf8)
    }

    /// A nameless span was stored, and `show --json` then wrote a record ingest refuses.
    func testOTLPSpanWithoutANameIsRejected() throws {
        let ids = #""traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","startTimeUnixNano":"1","endTimeUnixNano":"2""#
        for span in ["{\(ids)}", #"{\#(ids),"name":""}"#, #"{\#(ids),"name":7}"#] {
            let r = try OTLPTraceDecoder.decode(otlp(span))
            XCTAssertEqual(r.spans.count, 0)
            XCTAssertEqual(r.firstProblem, "span without a name")
        }
        XCTAssertEqual(try OTLPTraceDecoder.decode(otlp(#"{\#(ids),"name":"n"}"#)).spans.count, 1)
    }

    /// OTLP times are fixed64: negative ones overflowed durations and event times.
    func testOTLPNegativeTimesAreRejected() throws {
        let span = #"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"n","startTimeUnixNano":"-9223372036854775808","endTimeUnixNano":"9223372036854775807"}"#
        let r = try OTLPTraceDecoder.decode(otlp(span))
        XCTAssertEqual(r.spans.count, 0)
        XCTAssertEqual(r.firstProblem, "span with a negative time")
        let event = #"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"n","startTimeUnixNano":"1","endTimeUnixNano":"2","events":[{"name":"e","timeUnixNano":"-9223372036854775808"},{"name":"f","timeUnixNano":"1"}]}"#
        let s = try XCTUnwrap(try OTLPTraceDecoder.decode(otlp(event)).spans.first)
        XCTAssertEqual(s.eventsJSON, #"[{"name":"f","time":"1970-01-01T00:00:00.000000Z"}]"#)
    }
}
