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
}
