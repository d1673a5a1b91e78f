import XCTest
@testable import ArcSilver

/// The byte-level pieces against bytes worked out by hand from the specifications
/// (thrift-compact-protocol.md, parquet-format's Encodings.md).
final class ParquetEncodingTests: XCTestCase {
    func testThriftFieldHeadersCarryTheIdDelta() {
        var thrift = ThriftCompactWriter()
        thrift.field(1, Int32(1))          // 0x15: delta 1, i32; zigzag(1) = 2
        thrift.field(2, true)              // 0x11: delta 1, bool true
        thrift.field(3, false)             // 0x12: delta 1, bool false
        thrift.field(4, binary: [0x61, 0x62])
        thrift.field(20, Int64(-1))        // delta 16: long form, type 6, zigzag(20) = 40; zigzag(-1) = 1
        thrift.field(21, Int64(300))       // zigzag 600 = 0xD8 0x04
        thrift.field(22, i16: -3)          // i16: zigzag 5
        XCTAssertEqual(thrift.finish(), [0x15, 0x02, 0x11, 0x12, 0x18, 0x02, 0x61, 0x62,
                                         0x06, 0x28, 0x01, 0x16, 0xD8, 0x04, 0x14, 0x05, 0x00])
    }

    func testThriftNestedStructsKeepTheirOwnFieldIds() {
        var thrift = ThriftCompactWriter()
        thrift.beginStruct(3)              // 0x3C
        thrift.field(1, Int32(5))          // 0x15 0x0A
        thrift.emptyStruct(8)              // 0x7C 0x00 (delta 7)
        thrift.endStruct()                 // 0x00
        thrift.field(4, "x")               // delta 1 from 3: 0x18 0x01 0x78
        XCTAssertEqual(thrift.finish(), [0x3C, 0x15, 0x0A, 0x7C, 0x00, 0x00, 0x18, 0x01, 0x78, 0x00])
    }

    func testThriftListsShortAndLongHeaders() {
        var thrift = ThriftCompactWriter()
        thrift.beginList(2, .i32, count: 2) // 0x29; 0x25: 2 elements of i32
        thrift.element(Int32(0))
        thrift.element(Int32(-1))
        thrift.beginList(3, .binary, count: 15) // 0x19; 0xF8 then varint 15
        for _ in 0..<15 { thrift.element(binary: []) }
        thrift.beginList(4, .structure, count: 1) // 0x19; 0x1C
        thrift.beginElementStruct()
        thrift.field(1, Int32(2))          // ids restart inside the element: 0x15 0x04
        thrift.endStruct()
        XCTAssertEqual(thrift.finish(), [0x29, 0x25, 0x00, 0x01, 0x19, 0xF8, 0x0F] + Array(repeating: 0, count: 15)
                       + [0x19, 0x1C, 0x15, 0x04, 0x00, 0x00])
    }

    func testDataPageHeaderBytes() {
        let header = DataPageHeader(uncompressedSize: 100, compressedSize: 50, numValues: 10, encoding: .plain,
                                    statistics: ParquetStatistics(nullCount: 0, minValue: [1], maxValue: [2]))
        XCTAssertEqual(header.encoded(), [
            0x15, 0x00,             // type DATA_PAGE
            0x15, 0xC8, 0x01,       // uncompressed 100
            0x15, 0x64,             // compressed 50
            0x2C,                   // field 5: DataPageHeader
            0x15, 0x14,             //   num_values 10
            0x15, 0x00,             //   encoding PLAIN
            0x15, 0x06,             //   definition levels RLE
            0x15, 0x06,             //   repetition levels RLE
            0x1C,                   //   field 5: Statistics
            0x36, 0x00,             //     null_count 0 (field 3, i64)
            0x28, 0x01, 0x02,       //     max_value (field 5)
            0x18, 0x01, 0x01,       //     min_value (field 6)
            0x00, 0x00, 0x00,
        ])
    }

    func testTimestampSchemaElementHasLogicalAndConvertedType() {
        let footer = FileMetadata(schema: [SilverColumn("t", .timestamp)], numRows: 0, rowGroups: [], keyValues: [],
                                  createdBy: "x").encoded()
        XCTAssertEqual(footer, [
            0x15, 0x02,                   // version 1
            0x19, 0x2C,                   // schema: 2 structs
            0x48, 0x06] + Array("schema".utf8) + [0x15, 0x02, 0x00, // root: name, num_children 1
            0x15, 0x04,                   // leaf: type INT64
            0x25, 0x00,                   //   repetition REQUIRED (field 3)
            0x18, 0x01, 0x74,             //   name "t"
            0x25, 0x14,                   //   converted_type TIMESTAMP_MICROS (10; field 6)
            0x4C,                         //   logicalType (field 10)
            0x8C,                         //     TIMESTAMP (field 8)
            0x11,                         //       isAdjustedToUTC true
            0x1C, 0x2C, 0x00, 0x00,       //       unit: MICROS (field 2), empty
            0x00, 0x00, 0x00,
            0x16, 0x00,                   // num_rows 0
            0x19, 0x0C,                   // row_groups: none
            0x28, 0x01, 0x78,             // created_by (field 6)
            0x19, 0x1C, 0x1C, 0x00, 0x00, // column_orders: TYPE_ORDER
            0x00,
        ])
    }

    func testRleHybridRunsAndBitPackedGroups() {
        XCTAssertEqual(rle([UInt8](repeating: 1, count: 10), width: 1), [0x14, 0x01])
        // Fewer than 8 values: one bit-packed group, padded at the end of the data.
        XCTAssertEqual(rle([0, 1, 0, 1] as [UInt8], width: 1), [0x03, 0x0A])
        // 3 values, then 20 zeros: topped up to 8 from the run, then a run of 15.
        XCTAssertEqual(rle([1, 1, 0] + [UInt8](repeating: 0, count: 20), width: 1), [0x03, 0x03, 0x1E, 0x00])
        // 3 values then 12 zeros: the run cannot keep 8 once topped up, so all is packed.
        XCTAssertEqual(rle([1, 1, 1] + [UInt8](repeating: 0, count: 12), width: 1), [0x05, 0x07, 0x00])
        // A 9-bit value in an RLE run takes 2 bytes.
        XCTAssertEqual(rle([UInt32](repeating: 300, count: 8), width: 9), [0x10, 0x2C, 0x01])
        // Width 3: 8 values 0...7 pack into 3 bytes.
        XCTAssertEqual(rle(Array(0...7) as [UInt32], width: 3), [0x03, 0x88, 0xC6, 0xFA])
    }

    func testDeltaBinaryPackedIncreasingIdsTakeNoBits() {
        XCTAssertEqual(delta([1, 2, 3, 4, 5]), [0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0])
        XCTAssertEqual(delta([]), [0x80, 0x01, 0x04, 0x00, 0x00])
        XCTAssertEqual(delta([-1]), [0x80, 0x01, 0x04, 0x01, 0x01])
    }

    func testDeltaBinaryPackedMiniblockBits() {
        // Deltas -2, -2, 7: minimum -2 (zigzag 3), then 0, 0, 9 in 4 bits, 32 values = 16 bytes.
        XCTAssertEqual(delta([7, 5, 3, 10]), [0x80, 0x01, 0x04, 0x04, 0x0E, 0x03, 4, 0, 0, 0, 0x00, 0x09]
                       + [UInt8](repeating: 0, count: 14))
    }

    func testDeltaBinaryPackedWrapsAtTheExtremes() {
        // Int64.min after Int64.max: the delta wraps to 1 and readers wrap it back.
        let bytes = delta([Int64.max, Int64.min, 0])
        // Deltas 1 and 2^63 (wrapped: Int64.min, the minimum): 1 - Int64.min needs all 64 bits,
        // so the first value and the minimum take 10-byte varints and the miniblock 256 bytes.
        XCTAssertEqual(Array(bytes[0..<4]), [0x80, 0x01, 0x04, 0x03])
        XCTAssertEqual(bytes.count, 4 + 10 + 10 + 4 + 32 * 8)
    }

    func testSnappyLiteralsAndCopies() {
        // Checked against pyarrow.Codec("snappy"): a literal "a", then a 2-byte-offset copy of 19.
        XCTAssertEqual(snappy(Array(repeating: UInt8(ascii: "a"), count: 20)), [0x14, 0x00, 0x61, 0x4A, 0x01, 0x00])
        // Too short to search: one literal, tag (5 - 1) << 2.
        XCTAssertEqual(snappy(Array("hello".utf8)), [0x05, 0x10] + Array("hello".utf8))
        XCTAssertEqual(snappy([]), [0x00])
    }

    private func snappy(_ input: [UInt8]) -> [UInt8] {
        let out = ByteBuffer()
        input.withUnsafeBytes { SnappyEncoder.encode($0, into: out) }
        return Array(out.bytes)
    }

    private func rle<T: FixedWidthInteger & UnsignedInteger>(_ values: [T], width: Int) -> [UInt8] {
        let out = ByteBuffer()
        values.withUnsafeBufferPointer { RleHybridEncoder.encode($0, width: width, into: out) }
        return Array(out.bytes)
    }

    private func delta(_ values: [Int64]) -> [UInt8] {
        let out = ByteBuffer()
        values.withUnsafeBufferPointer { DeltaBinaryPackedEncoder.encode($0, into: out) }
        return Array(out.bytes)
    }
}
