import XCTest
@testable import ArcSilver
import ArcCore

/// Each finding provoked by a small CSV, and a clean file of each kind passing.
final class CheckFindingTests: XCTestCase {
    let klinesKey = "data/futures/um/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-03-01.zip"
    let aggKey = "data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-03-01.zip"
    let tradesKey = "data/futures/um/daily/trades/BTCUSDT/BTCUSDT-trades-2024-03-01.zip"

    func kline(_ hour: Int, minute: Int = 0, open: String = "100") -> String {
        let t = micros("2024-03-01", hour, minute) / 1000
        return "\(t),\(open),101,99,100.5,10,\(t + 3_599_999),1000,5,4,400,0\n"
    }

    func klines(_ hours: [Int]) -> String { hours.map { kline($0) }.joined() }

    func agg(_ id: Int64, first: Int64, last: Int64, second: Int, price: String = "62000.5") -> String {
        "\(id),\(price),0.5,\(first),\(last),\(micros("2024-03-01") / 1000 + Int64(second) * 1000),true\n"
    }

    /// aggTrades every 10 minutes through the day, ids and trade ids chained.
    func aggDay() -> [String] {
        (0..<144).map { i in agg(Int64(100 + i), first: Int64(1000 + 2 * i), last: Int64(1001 + 2 * i), second: i * 600 + 5) }
    }

    func testCleanKlinesAndAggTradesPass() throws {
        let k = try parse(klines(Array(0..<24)), key: klinesKey)
        XCTAssertEqual(k.report.status, .pass, "\(k.report.findings)")
        let a = try parse(aggDay().joined(), key: aggKey)
        XCTAssertEqual(a.report.status, .pass, "\(a.report.findings)")
    }

    func testMissingKlinesAreRangesMergedIntoRuns() throws {
        let t = try parse(klines([0, 1, 2, 6, 7, 8, 9, 10, 12] + Array(13..<24)), key: klinesKey)
        let f = try XCTUnwrap(t.report.finding(.missingIntervals))
        XCTAssertEqual(f.severity, .warn)
        XCTAssertEqual(f.count, 2)
        XCTAssertEqual(f.ranges, [TimeRange(micros("2024-03-01", 3), micros("2024-03-01", 6)),
                                  TimeRange(micros("2024-03-01", 11), micros("2024-03-01", 12))])
        XCTAssertTrue(f.message.hasPrefix("4 1h klines missing in 2 gaps"), f.message)
        XCTAssertEqual(t.report.status, .warn)
    }

    func testMissingRangesAreCappedAndCounted() throws {
        let key = "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03-01.zip"
        let rows = stride(from: 0, to: 1440, by: 2).map { m -> String in
            let t = micros("2024-03-01", 0, m) / 1000
            return "\(t),1,1,1,1,1,\(t + 59_999),1,1,1,1,0\n"
        }
        let t = try parse(rows.joined(), key: key)
        let f = try XCTUnwrap(t.report.finding(.missingIntervals))
        XCTAssertEqual(f.count, 719)
        XCTAssertEqual(f.ranges.count, 20)
        XCTAssertTrue(f.message.contains("719 1m klines missing in 719 gaps (the first 20 listed)"), f.message)
        XCTAssertEqual(t.report.finding(.cutShort)?.ranges, [TimeRange(micros("2024-03-01", 23, 59), micros("2024-03-02"))])
    }

    func testCalendarGrids() throws {
        func row(_ date: String) -> String { "\(millisText(date)),1,1,1,1,1,\(millisText(date)),1,1,1,1,0\n" }
        let month = try parse(row("2024-02-01"), key: "data/spot/monthly/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-02.zip")
        XCTAssertEqual(month.report.status, .pass, "\(month.report.findings)")
        // Weeks open on Mondays: 2024-02-05, 12, 19, 26.
        let weeks = try parse(["2024-02-05", "2024-02-12", "2024-02-19", "2024-02-26"].map(row).joined(),
                              key: "data/spot/monthly/klines/BTCUSDT/1w/BTCUSDT-1w-2024-02.zip")
        XCTAssertEqual(weeks.report.status, .pass, "\(weeks.report.findings)")
        let gap = try parse(["2024-02-05", "2024-02-19", "2024-02-20"].map(row).joined(),
                            key: "data/spot/monthly/klines/BTCUSDT/1w/BTCUSDT-1w-2024-02.zip")
        XCTAssertEqual(gap.report.finding(.missingIntervals)?.ranges, [TimeRange(micros("2024-02-12"), micros("2024-02-19"))])
        XCTAssertEqual(gap.report.finding(.offGrid)?.lines, [3])
        // The off-grid row of the 20th fills no slot: the week of the 26th is what is missing.
        XCTAssertEqual(gap.report.finding(.cutShort)?.ranges, [TimeRange(micros("2024-02-26"), micros("2024-03-01"))])
        // 3d has no documented anchor: its grid starts at the first row.
        let threeDays = try parse(["2024-01-02", "2024-01-05", "2024-01-11"].map(row).joined(),
                                  key: "data/spot/monthly/klines/BTCUSDT/3d/BTCUSDT-3d-2024-01.zip")
        XCTAssertEqual(threeDays.report.finding(.missingIntervals)?.ranges, [TimeRange(micros("2024-01-08"), micros("2024-01-11"))])
        XCTAssertNil(threeDays.report.finding(.offGrid))
    }

    func testOffGridOpenTimes() throws {
        let t = try parse(klines(Array(0..<5)) + kline(5, minute: 1) + klines(Array(6..<24)), key: klinesKey)
        let f = try XCTUnwrap(t.report.finding(.offGrid))
        XCTAssertEqual(f.severity, .warn)
        XCTAssertEqual(f.lines, [6])
    }

    func testKlinesCutShortAndMissingAtTheStart() throws {
        let t = try parse(klines(Array(2..<20)), key: klinesKey)
        XCTAssertEqual(t.report.finding(.missingIntervals)?.ranges, [TimeRange(micros("2024-03-01"), micros("2024-03-01", 2))])
        let f = try XCTUnwrap(t.report.finding(.cutShort))
        XCTAssertEqual(f.ranges, [TimeRange(micros("2024-03-01", 20), micros("2024-03-02"))])
        XCTAssertTrue(f.message.contains("the last 4 1h klines of 2024-03-01 are missing"), f.message)
    }

    func testTradesCutShortWhenTheLastHourIsEmpty() throws {
        let rows = aggDay().prefix(100) // to 16:30
        let t = try parse(rows.joined(), key: aggKey)
        let f = try XCTUnwrap(t.report.finding(.cutShort))
        XCTAssertTrue(f.message.contains("no row after 2024-03-01T16:30:05.000000Z, 7h29m55s before 2024-03-01 ends"), f.message)
        XCTAssertEqual(t.report.status, .warn)
    }

    func testDuplicateRowsAndDuplicateKeys() throws {
        var rows = klines(Array(0..<24)).split(separator: "\n").map { String($0) + "\n" }
        rows.insert(rows[3], at: 4)                 // an exact repeat
        rows.insert(kline(10, open: "100.25"), at: 12) // the same open time, other values
        let t = try parse(rows.joined(), key: klinesKey)
        XCTAssertEqual(t.report.finding(.duplicateRows)?.lines, [5])
        XCTAssertEqual(t.report.finding(.duplicateKeys)?.lines, [13])
        XCTAssertNil(t.report.finding(.missingIntervals))
        XCTAssertNil(t.report.finding(.outOfOrder))
        XCTAssertEqual(t.rows, 26) // warnings: the rows still go out
    }

    func testDuplicateRowsWithinARunOfEqualTimesAcrossBatches() throws {
        // Trades in the same millisecond; the repeat is not adjacent and crosses a batch.
        let ms = millisText("2024-03-01", 12)
        let a = "10,62000.1,0.5,1,\(ms),true\n", b = "11,62000.2,0.5,1,\(ms),false\n", c = "12,62000.3,0.5,1,\(ms),true\n"
        let t = try parse(a + b + c + b, key: tradesKey, batchRows: 2)
        XCTAssertEqual(t.report.finding(.duplicateRows)?.lines, [4])
        XCTAssertEqual(t.report.finding(.outOfOrder), nil) // an exact repeat is only a repeat
        // Same values at another time are not a duplicate.
        let later = "11,62000.2,0.5,1,\(Int64(ms)! + 1),false\n"
        let u = try parse(a + b + later, key: tradesKey)
        XCTAssertNil(u.report.finding(.duplicateRows))
        XCTAssertEqual(u.report.finding(.duplicateKeys)?.lines, [3])
    }

    func testOutOfOrderRows() throws {
        var rows = aggDay()
        rows.swapAt(50, 51)
        let t = try parse(rows.joined(), key: aggKey)
        let f = try XCTUnwrap(t.report.finding(.outOfOrder))
        XCTAssertEqual(f.severity, .warn)
        XCTAssertEqual(f.lines, [52])
        XCTAssertEqual(t.report.finding(.idGaps)?.count, 1) // 151 came early: one jump, not two
        XCTAssertEqual(t.report.finding(.idGaps)?.ranges, [])
    }

    func testAByteOrderMarkBeforeTheHeaderIsSkipped() throws {
        let t = try parse("\u{FEFF}agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\r\n" + aggDay().joined(),
                          key: aggKey)
        XCTAssertTrue(t.report.header)
        XCTAssertEqual(t.report.status, .pass, "\(t.report.findings)")
    }

    func testIdGapsInTradesAndAggTrades() throws {
        var rows = aggDay()
        rows[60] = agg(100 + 62, first: 1000 + 2 * 60, last: 1001 + 2 * 60, second: 60 * 600 + 5) // agg id jumps by 3
        rows[90] = agg(100 + 90, first: 1000 + 2 * 90 + 5, last: 1001 + 2 * 90, second: 90 * 600 + 5) // trade ids jump
        let t = try parse(rows.joined(), key: aggKey)
        // Both are id_gaps: agg ids that jump, and trade ids that do not follow on.
        let gaps = t.report.findings.filter { $0.code == .idGaps }
        XCTAssertEqual(gaps.count, 2)
        let ids = try XCTUnwrap(gaps.first { $0.message.contains("agg_trade_id") })
        XCTAssertEqual(ids.lines, [61])
        XCTAssertTrue(ids.message.contains("1 jump in agg_trade_id, 2 ids missing"), ids.message)
        XCTAssertEqual(gaps.first { $0.message.contains("first_trade_id") }?.lines, [91])
        XCTAssertTrue(t.report.finding(.duplicateKeys) != nil || t.report.finding(.outOfOrder) != nil) // 162 then 61
        XCTAssertEqual(t.report.status, .warn)

        let ms = micros("2024-03-01", 23, 30) / 1000
        let trades = try parse("1,5,1,5,\(ms),true\n2,5,1,5,\(ms + 1),true\n9,5,1,5,\(ms + 2),true\n", key: tradesKey)
        XCTAssertTrue(trades.report.finding(.idGaps)!.message.contains("6 ids missing"))
    }

    func testTimesOutsideThePeriodFail() throws {
        let t = try parse(aggDay().joined() + agg(244, first: 1288, last: 1288, second: 86_400), key: aggKey)
        let f = try XCTUnwrap(t.report.finding(.outsidePeriod))
        XCTAssertEqual(f.severity, .fail)
        XCTAssertEqual(f.lines, [145])
        XCTAssertTrue(f.message.contains("transact_time outside 2024-03-01 (2024-03-01T00:00:00.000000Z to 2024-03-02T00:00:00.000000Z)"), f.message)
        XCTAssertEqual(t.report.status, .fail)
    }

    func testNonPositivePricesFailZeroVolumeDoesNot() throws {
        var rows = aggDay()
        rows[10] = agg(110, first: 1020, last: 1021, second: 6005, price: "0.00000000")
        rows[20] = agg(120, first: 1040, last: 1041, second: 12_005, price: "-1")
        let t = try parse(rows.joined(), key: aggKey)
        let f = try XCTUnwrap(t.report.finding(.nonPositivePrice))
        XCTAssertEqual(f.severity, .fail)
        XCTAssertEqual(f.lines, [11, 21])
        let zeroVolume = try parse(klines(Array(0..<24)).replacingOccurrences(of: ",10,", with: ",0,"), key: klinesKey)
        XCTAssertEqual(zeroVolume.report.status, .pass, "\(zeroVolume.report.findings)")
        // A premium index is negative as often as not.
        let premium = try parse(klines(Array(0..<24)).replacingOccurrences(of: ",100,101,99,", with: ",-0.0001,0.0002,-0.0003,"),
                                key: "data/futures/um/daily/premiumIndexKlines/BTCUSDT/1h/BTCUSDT-1h-2024-03-01.zip")
        XCTAssertEqual(premium.report.status, .pass, "\(premium.report.findings)")
    }

    func testNoRowsAndBlankLines() throws {
        let empty = try parse("", key: aggKey)
        XCTAssertEqual(empty.codes, ["no_rows"])
        XCTAssertEqual(empty.report.status, .fail)
        let headerOnly = try parse("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n", key: aggKey)
        XCTAssertEqual(headerOnly.codes, ["no_rows"])
        var rows = aggDay()
        rows.insert("\n", at: 30)
        let blank = try parse(rows.joined(), key: aggKey)
        XCTAssertEqual(blank.codes, ["blank_lines"])
        XCTAssertEqual(blank.report.finding(.blankLines)?.lines, [31])
    }

    func testContainerFindingsComeFirst() throws {
        let identity = try ArchiveIdentity(path: aggKey)
        let parser = TableParser(dataset: try Dataset.of(identity), identity: identity)
        parser.addFinding(Finding(code: FailureCode("several_entries"), severity: .warn, message: "the zip holds 2 files; the first was read"))
        let bytes = Array(aggDay().joined().utf8)
        try bytes.withUnsafeBytes { try parser.consume($0) { _ in } }
        let report = try parser.finish { _ in }
        XCTAssertEqual(report.findings.map(\.code.rawValue), ["several_entries"])
        XCTAssertEqual(report.status, .warn)
    }

    func testTheReportsJSONShape() throws {
        var rows = klines(Array(0..<24)).split(separator: "\n").map { String($0) + "\n" }
        rows.remove(at: 5)
        rows[9] = rows[9].replacingOccurrences(of: ",99,", with: ",9x9,")
        let t = try parse("open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\r\n"
                          + rows.joined(), key: klinesKey)
        var builder = RecordBuilder()
        builder.begin()
        t.report.write(into: &builder)
        builder.end()
        let text = String(decoding: builder.bytes, as: UTF8.self)
        let json = try JSONValue(parsing: String(text.dropLast()))
        let check = try XCTUnwrap(json["check"])
        XCTAssertEqual(check["status"]?.stringValue, "fail")
        XCTAssertEqual(check["rows"]?.int64Value, 23)
        XCTAssertEqual(check["columns"]?.int64Value, 12)
        XCTAssertEqual(check["header"]?.boolValue, true)
        XCTAssertEqual(check["time_unit"]?.stringValue, "ms")
        XCTAssertEqual(check["first_time"]?.stringValue, "2024-03-01T00:00:00.000000Z")
        XCTAssertEqual(check["last_time"]?.stringValue, "2024-03-01T23:00:00.000000Z")
        let findings = try XCTUnwrap(check["findings"]?.arrayValue)
        XCTAssertEqual(findings.map { $0["code"]?.stringValue }, ["bad_field", "missing_intervals"])
        XCTAssertEqual(findings[0]["severity"]?.stringValue, "fail")
        XCTAssertEqual(findings[0]["count"]?.int64Value, 1)
        XCTAssertEqual(findings[0]["lines"]?.arrayValue?.compactMap(\.int64Value), [11])
        XCTAssertNil(findings[0]["ranges"])
        XCTAssertTrue(findings[0]["message"]!.stringValue!.contains("line 11, column low: \"9x9\" is not a number"))
        let ranges = try XCTUnwrap(findings[1]["ranges"]?.arrayValue)
        XCTAssertEqual(ranges.map { $0.arrayValue!.compactMap(\.stringValue) },
                       [["2024-03-01T05:00:00.000000Z", "2024-03-01T06:00:00.000000Z"],
                        ["2024-03-01T10:00:00.000000Z", "2024-03-01T11:00:00.000000Z"]]) // hour 10's row did not parse
        XCTAssertFalse(text.dropLast().contains("\n"))
    }

    func testAnUnreadableArchiveReport() throws {
        let report = CheckReport.unreadable("not a zip file (no end of central directory)")
        XCTAssertEqual(report.status, .fail)
        var builder = RecordBuilder()
        builder.begin()
        report.write(into: &builder)
        builder.end()
        let json = try JSONValue(parsing: String(decoding: builder.bytes.dropLast(), as: UTF8.self))
        XCTAssertEqual(json["check"]?["status"]?.stringValue, "fail")
        XCTAssertEqual(json["check"]?["rows"]?.int64Value, 0)
        XCTAssertNil(json["check"]?["first_time"])
        XCTAssertEqual(json["check"]?["findings"]?.arrayValue?.first?["code"]?.stringValue, "unreadable")
    }
}
