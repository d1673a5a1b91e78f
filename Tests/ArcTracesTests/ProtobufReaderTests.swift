import XCTest
@testable import ArcTraces
@testable import ArcCore

/// Protobuf bytes for the tests, written by hand from the wire format's rules.
enum PB {
    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        return out + [UInt8(v)]
    }
    static func key(_ field: UInt64, _ wire: UInt64) -> [UInt8] { varint(field << 3 | wire) }
    static func int(_ field: UInt64, _ v: UInt64) -> [UInt8] { key(field, 0) + varint(v) }
    static func bytes(_ field: UInt64, _ b: [UInt8]) -> [UInt8] { key(field, 2) + varint(UInt64(b.count)) + b }
    static func string(_ field: UInt64, _ s: String) -> [UInt8] { bytes(field, Array(s.utf8)) }
    static func fixed64(_ field: UInt64, _ v: UInt64) -> [UInt8] {
        key(field, 1) + (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
    }
    static func fixed32(_ field: UInt64, _ v: UInt32) -> [UInt8] {
        key(field, 5) + (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
    }
    static func kv(_ key: String, _ any: [UInt8]) -> [UInt8] { string(1, key) + bytes(2, any) }
    /// Unknown fields of every wire type, as a newer OTLP might add.
    static let unknown = int(100, 7) + fixed64(101, 1) + string(102, "x") + fixed32(103, 2)
}

final class ProtobufReaderTests: XCTestCase {
    func fields(_ bytes: [UInt8]) throws -> [(Int, ProtobufReader.WireType)] {
        var r = ProtobufReader(bytes), out: [(Int, ProtobufReader.WireType)] = []
        while let f = try r.nextField() { out.append(f); try r.skip(f.wire) }
        return out
    }

    func reason(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> String {
        do { _ = try fields(bytes); XCTFail("no error", file: file, line: line); return "" } catch {
            return "\(error)"
        }
    }

    func testEveryWireTypeReadsAndSkips() throws {
        var r = ProtobufReader(PB.int(1, 300) + PB.fixed64(2, 0x0102030405060708) + PB.string(3, "hé") + PB.fixed32(4, 0xDEADBEEF))
        XCTAssertEqual(try r.nextField()?.number, 1)
        XCTAssertEqual(try r.varint(), 300)
        XCTAssertEqual(try r.nextField()?.wire, .fixed64)
        XCTAssertEqual(try r.fixed64(), 0x0102030405060708)
        XCTAssertEqual(try r.nextField()?.wire, .lengthDelimited)
        XCTAssertEqual(try r.string(), "hé")
        XCTAssertEqual(try r.nextField()?.wire, .fixed32)
        XCTAssertEqual(try r.fixed32(), 0xDEADBEEF)
        XCTAssertNil(try r.nextField())
        XCTAssertEqual(try fields(PB.unknown).map(\.0), [100, 101, 102, 103])
    }

    func testVarintBoundaries() throws {
        for v: UInt64 in [0, 1, 127, 128, 16383, 16384, UInt64(Int64.max), UInt64.max] {
            var r = ProtobufReader(PB.varint(v))
            XCTAssertEqual(try r.varint(), v)
            XCTAssertTrue(r.isAtEnd)
        }
        XCTAssertEqual(PB.varint(UInt64.max).count, 10)
        // An 11th byte, or a 10th carrying more than bit 63: not a 64-bit varint.
        var long = ProtobufReader([UInt8](repeating: 0xFF, count: 10) + [0x01])
        XCTAssertThrowsError(try long.varint())
        var over = ProtobufReader([UInt8](repeating: 0xFF, count: 9) + [0x02])
        XCTAssertTrue("\(try XCTUnwrap(Result { try over.varint() }.failure))".contains("overflows 64 bits"))
        // Redundant zero continuation bytes are still one varint, within 10 bytes.
        var padded = ProtobufReader([0x81, 0x80, 0x80, 0x00])
        XCTAssertEqual(try padded.varint(), 1)
        var cut = ProtobufReader([0x80, 0x80])
        XCTAssertThrowsError(try cut.varint())
    }

    func testHostileShapesAreErrorsWithReasons() {
        XCTAssertEqual(reason(PB.key(1, 2) + PB.varint(1 << 62) + [0, 0]),
                       "truncated length-delimited field (declares 4611686018427387904 bytes, 2 left)")
        XCTAssertEqual(reason(PB.key(1, 2) + PB.varint(UInt64.max)),
                       "truncated length-delimited field (declares 18446744073709551615 bytes, 0 left)")
        XCTAssertEqual(reason(PB.key(1, 1) + [1, 2, 3]), "truncated fixed64 field")
        XCTAssertEqual(reason(PB.key(1, 5) + [1, 2, 3]), "truncated fixed32 field")
        XCTAssertEqual(reason(PB.key(1, 0)), "truncated varint")
        XCTAssertEqual(reason(PB.key(1, 3)), "field 1: groups (wire types 3 and 4) are not part of OTLP")
        XCTAssertEqual(reason(PB.key(1, 4)), "field 1: groups (wire types 3 and 4) are not part of OTLP")
        XCTAssertEqual(reason(PB.key(1, 6)), "field 1: unknown wire type 6")
        XCTAssertEqual(reason(PB.key(1, 7)), "field 1: unknown wire type 7")
        XCTAssertEqual(reason([0x02]), "field number 0 out of range")
        XCTAssertEqual(reason(PB.varint(UInt64(1) << 40)), "field number 137438953472 out of range")
        XCTAssertEqual(reason([0x80]), "truncated field key")
    }

    func testSubMessagesAreWindowsAndDepthIsCapped() throws {
        // A nested message ends where its length says, whatever follows it.
        var r = ProtobufReader(PB.bytes(1, PB.int(2, 5)) + PB.int(3, 9))
        _ = try r.nextField()
        var inner = try r.message()
        XCTAssertEqual(inner.depth, 1)
        XCTAssertEqual(try inner.nextField()?.number, 2)
        XCTAssertEqual(try inner.varint(), 5)
        XCTAssertNil(try inner.nextField())
        XCTAssertEqual(try r.nextField()?.number, 3)
        // 33 levels: refused at the 33rd, not a stack overflow.
        var deep: [UInt8] = []
        for _ in 0...ProtobufReader.maxDepth { deep = PB.bytes(1, deep) }
        var d = ProtobufReader(deep)
        var level = 0
        XCTAssertThrowsError(try {
            while try d.nextField() != nil { d = try d.message(); level += 1 }
        }()) { XCTAssertEqual("\($0)", "messages nested deeper than 32 levels") }
        XCTAssertEqual(level, 32)
    }

    func testErrorPathsNameFieldsOutermostFirst() {
        do {
            try ProtobufError.at("spans[3]") {
                try ProtobufError.at("attributes[1]") {
                    try ProtobufError.at("value") { throw ProtobufError("truncated length-delimited field") }
                }
            }
        } catch {
            XCTAssertEqual("\(error)", "spans[3].attributes[1].value: truncated length-delimited field")
        }
    }
}

extension Result {
    var failure: Failure? { if case .failure(let e) = self { return e }; return nil }
}
