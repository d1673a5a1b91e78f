import XCTest
@testable import ArcSilver

final class ColumnBatchTests: XCTestCase {
    func testStringsSitBackToBack() {
        var column = StringColumn()
        column.append("BUY")
        column.append("")
        column.append("SELL")
        XCTAssertEqual(column.count, 3)
        XCTAssertEqual(column.range(0), 0..<3)
        XCTAssertEqual(column.range(1), 3..<3)
        XCTAssertEqual(Array(column.bytes[column.range(2)]), Array("SELL".utf8))
    }

    func testRemoveAllKeepsTheSchema() {
        let batch = ColumnBatch(schema: [SilverColumn("time", .timestamp), SilverColumn("side", .string)], capacity: 4)
        batch.int64s[0].append(1)
        batch.strings[1].append("BUY")
        batch.rows = 1
        batch.removeAll()
        XCTAssertTrue(batch.rows == 0 && batch.int64s[0].isEmpty && batch.strings[1].count == 0)
        XCTAssertEqual(batch.schema.count, 2)
    }
}
