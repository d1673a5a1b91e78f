import XCTest
@testable import ArcCore

/// The expected bytes were produced once by the reference serializer (Python protobuf
/// 6 / upb with opentelemetry-proto 1.45.2), the message named beside each, and pasted in.
final class ProtobufWriterTests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    private func written(_ body: (inout ProtobufWriter) -> Void) -> String {
        var w = ProtobufWriter(capacity: 16)
        body(&w)
        return hex(w.bytes)
    }

    /// ExportTracePartialSuccess(rejected_spans = v): an int64 as field 1.
    func testVarintsAtTheSevenBitBoundariesAndNegativeInt64() {
        let cases: [(Int64, String)] = [
            (1, "0801"), (127, "087f"), (128, "088001"), (300, "08ac02"), (16383, "08ff7f"), (16384, "08808001"),
            (2_097_151, "08ffff7f"), (2_097_152, "0880808001"), (Int64.max, "08ffffffffffffffff7f"),
            // Negative int64: two's complement, always ten bytes.
            (-1, "08ffffffffffffffffff01"), (-300, "08d4fdffffffffffffff01"), (Int64.min, "0880808080808080808001"),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(written { $0.int64(1, value) }, expected, "\(value)")
        }
        XCTAssertEqual(written { $0.int64(1, 0) }, "", "proto3 default left out")
        XCTAssertEqual(written { $0.uint64(1, UInt64.max) }, "08ffffffffffffffffff01")
        for value: UInt64 in [0, 1, 127, 128, 16383, 16384, 1 << 35, UInt64.max] {
            var w = ProtobufWriter()
            w.varint(value)
            XCTAssertEqual(w.bytes.count, ProtobufWriter.varintSize(value), "\(value)")
        }
    }

    /// Span(start_time_unix_nano = t): fixed64 field 7; AnyValue(double_value = d): field 4.
    func testFixed64AndDoubles() {
        XCTAssertEqual(written { $0.fixed64(7, 1_700_000_000_123_456_789) }, "3915cd853dfe9c9717")
        XCTAssertEqual(written { $0.fixed64(7, UInt64.max) }, "39ffffffffffffffff")
        XCTAssertEqual(written { $0.fixed64(7, 0) }, "")
        XCTAssertEqual(written { $0.double(4, 0.25) }, "21000000000000d03f")
        XCTAssertEqual(written { $0.double(4, -1.5e300) }, "21355800662deb41fe")
        XCTAssertEqual(written { $0.double(4, -0.0) }, "210000000000000080", "-0.0 is not the default")
        XCTAssertEqual(written { $0.double(4, 0.0) }, "")
        XCTAssertEqual(written { $0.double(4, 0.0, always: true) }, "210000000000000000", "a oneof member")
    }

    /// AnyValue's oneof members keep their zero values: bool_value false, int_value 0, "".
    func testOneofMembersAreWrittenWhenZero() {
        XCTAssertEqual(written { $0.bool(2, false, always: true) }, "1000")
        XCTAssertEqual(written { $0.int64(3, 0, always: true) }, "1800")
        XCTAssertEqual(written { $0.string(1, "", always: true) }, "0a00")
        XCTAssertEqual(written { $0.bool(2, false) }, "")
        XCTAssertEqual(written { $0.string(1, "") }, "")
    }

    /// KeyValue(key = "k", value = AnyValue(string_value = "x" * n)): the nested AnyValue's
    /// length takes two bytes at n = 200, three at n = 20,000; contents move up intact.
    func testNestedMessagesLongerThan127Bytes() {
        for (n, prefix, total) in [(200, "0a016b12cb010ac801", 209), (20_000, "0a016b12a49c010aa09c01", 20_011)] {
            let text = String(repeating: "x", count: n)
            var w = ProtobufWriter()
            w.string(1, "k")
            w.message(2) { $0.string(1, text) }
            XCTAssertEqual(w.bytes.count, total)
            XCTAssertEqual(hex(Array(w.bytes.prefix(prefix.count / 2))), prefix)
            XCTAssertEqual(Array(w.bytes.suffix(n)), Array(text.utf8))
        }
        // Nested twice, both over 127: the outer length counts the inner's grown prefix.
        var w = ProtobufWriter()
        let outer = w.beginMessage(1)
        w.message(2) { $0.string(1, String(repeating: "z", count: 150)) }
        w.endMessage(outer)
        // 1 + 2 + (1 + 2 + 150) = inner message 153 bytes, outer 156.
        XCTAssertEqual(hex(Array(w.bytes.prefix(6))), "0a9c01129901")
        XCTAssertEqual(w.bytes.count, 3 + 156)
    }

    /// Span { status = Status(code = 2, message = "bad"), name = "n" }: fields in number
    /// order (message = 2 before code = 3), an empty Status still written (`7a00`).
    func testMessagesAndStatusOrder() {
        XCTAssertEqual(written { w in
            w.string(5, "n")
            w.message(15) { $0.string(2, "bad"); $0.int64(3, 2) }
        }, "2a016e7a0712036261641802")
        XCTAssertEqual(written { w in w.message(15) { _ in } }, "7a00")
    }

    func testHexIdsAsBytes() {
        XCTAssertEqual(written { w in
            w.hexBytes(1, "0AF7651916cd43dd8448eb211c80319c")
            w.hexBytes(2, "b7ad6b7169203331")
        }, "0a100af7651916cd43dd8448eb211c80319c1208b7ad6b7169203331")
        var w = ProtobufWriter()
        w.string(5, "x")
        XCTAssertFalse(w.hexBytes(1, "0g"))
        XCTAssertFalse(w.hexBytes(1, "abc"))
        XCTAssertTrue(w.hexBytes(1, ""))
        XCTAssertEqual(hex(w.bytes), "2a0178", "nothing written for bad or empty ids")
    }

    /// ExportTraceServiceResponse { partial_success { rejected_spans = 3, error_message = "no" } },
    /// and google.rpc.Status { code = 3, message = "bad" }.
    func testScanReadsNestedFields() {
        let answer: [UInt8] = [0x0a, 0x06, 0x08, 0x03, 0x12, 0x02, 0x6e, 0x6f]
        XCTAssertEqual(ProtobufScan.varint([1, 1], in: answer), 3)
        XCTAssertEqual(ProtobufScan.string([1, 2], in: answer), "no")
        XCTAssertNil(ProtobufScan.varint([1, 1], in: []))
        XCTAssertNil(ProtobufScan.varint([1, 1], in: [0x0a, 0x09, 0x08]), "cut short")
        let status: [UInt8] = [0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64]
        XCTAssertEqual(ProtobufScan.string([2], in: status), "bad")
        // Fields of other wire types are stepped over: fixed64 7, fixed32 16, then field 1.
        var w = ProtobufWriter()
        w.fixed64(7, 99)
        w.tag(16, .fixed32)
        w.varint(0) // not a valid fixed32 alone: four bytes follow
        w.varint(0); w.varint(0); w.varint(0)
        w.message(1) { $0.int64(1, -1) }
        XCTAssertEqual(ProtobufScan.varint([1, 1], in: w.bytes), UInt64.max)
        XCTAssertEqual(ProtobufScan.field([7], in: w.bytes[...]), .fixed64(99))
    }

    /// One log record: the fields in LogRecord's number order, observed time (11) last.
    func testALogRecordIsInFieldOrder() {
        let body = OTLPProtobuf.logs([OTLPLogRecord(timeNanos: 5, level: .warn, message: "m", fields: [("n", .int(0))],
                                                    traceID: "0af7651916cd43dd8448eb211c80319c", spanID: "b7ad6b7169203331")],
                                     service: "s")
        guard case .bytes(let resourceLogs) = ProtobufScan.field([1], in: body[...]),
              case .bytes(let scopeLogs) = ProtobufScan.field([2], in: resourceLogs),
              case .bytes(let record) = ProtobufScan.field([2], in: scopeLogs) else { return XCTFail("no log record") }
        // LogRecord(time_unix_nano=5, severity_number=13, severity_text="WARN", body={string_value "m"},
        //           attributes=[{key "n", value {int_value 0}}], trace_id, span_id, observed_time_unix_nano=5)
        XCTAssertEqual(hex(Array(record)),
                       "090500000000000000100d1a045741524e2a030a016d32070a016e12021800"
                       + "4a100af7651916cd43dd8448eb211c80319c5208b7ad6b7169203331590500000000000000")
    }
}
