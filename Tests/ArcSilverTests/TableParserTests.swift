import XCTest
@testable import ArcSilver
import ArcCore

/// The parser's rules: header or not, units, spellings, line ends, chunking, parse errors.
final class TableParserTests: XCTestCase {
    let umTrades = "data/futures/um/daily/trades/BTCUSDT/BTCUSDT-trades-2024-03-01.zip"
    let tradesHeader = "id,price,qty,quote_qty,time,is_buyer_maker\n"

    /// A full day of um trades every 10 minutes: a clean file.
    func umTradesRows(_ count: Int = 144, from id: Int64 = 1000) -> String {
        (0..<count).map { i in "\(id + Int64(i)),62000.\(i % 10),0.00\(i % 7 + 1),1.5,\(micros("2024-03-01") / 1000 + Int64(i) * 600_000 + 7),\(i % 2 == 0 ? "true" : "false")\n" }.joined()
    }

    func testACleanFilePasses() throws {
        let t = try parse(tradesHeader + umTradesRows(), key: umTrades)
        XCTAssertEqual(t.report.status, .pass, "\(t.report.findings)")
        XCTAssertEqual(t.rows, 144)
        XCTAssertEqual(t.report.rows, 144)
        XCTAssertEqual(t.report.rowsEmitted, 144)
    }

    func testHeaderPresentOrAbsentGiveTheSameRows() throws {
        let with = try parse(tradesHeader + umTradesRows(), key: umTrades)
        let without = try parse(umTradesRows(), key: umTrades)
        XCTAssertTrue(with.report.header)
        XCTAssertFalse(without.report.header)
        XCTAssertEqual(with.ints("id"), without.ints("id"))
        XCTAssertEqual(with.doubles("price"), without.doubles("price"))
        XCTAssertEqual(with.report.rows, without.report.rows)
    }

    func testAHeaderOfAnotherLayoutStopsTheParse() throws {
        let spotHeader = "id,price,qty,quote_qty,time,is_buyer_maker,is_best_match\n"
        let t = try parse(spotHeader + umTradesRows(3), key: umTrades)
        XCTAssertEqual(t.rows, 0)
        XCTAssertEqual(t.report.rows, 0)
        XCTAssertEqual(t.report.status, .fail)
        XCTAssertEqual(t.codes, ["unknown_layout"])
        let message = t.report.findings[0].message
        XCTAssertTrue(message.contains("found \"id,price,qty,quote_qty,time,is_buyer_maker,is_best_match\""), message)
        XCTAssertTrue(message.contains("expected \"id,price,qty,quote_qty,time,is_buyer_maker\""), message)
        XCTAssertFalse(message.contains("\n"))
    }

    func testMillisecondsAndMicrosecondsAreDecidedPerFile() throws {
        let key = "data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2025-01-01.zip"
        let ms = try parse("1,1.5,2,3,1735689600123,True,True\n", key: key)
        let us = try parse("1,1.5,2,3,1735689600123456,True,True\n", key: key)
        XCTAssertEqual(ms.report.timeUnit, "ms")
        XCTAssertEqual(us.report.timeUnit, "us")
        XCTAssertEqual(ms.ints("time"), [1_735_689_600_123_000])
        XCTAssertEqual(us.ints("time"), [1_735_689_600_123_456])
        // A millisecond value in a microsecond file is not rescaled: it falls outside the day.
        let mixed = try parse("1,1.5,2,3,1735689600123456,True,True\n2,1.5,2,3,1735689600124,True,True\n", key: key)
        XCTAssertEqual(mixed.ints("time"), [1_735_689_600_123_456, 1_735_689_600_124])
        XCTAssertTrue(mixed.codes.contains("outside_period"))
    }

    func testBothBooleanSpellings() throws {
        let key = "data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-03-01.zip"
        let ms = millisText("2024-03-01", 1)
        let t = try parse("1,1,1,1,\(ms),True,False\n2,1,1,1,\(ms),false,true\n3,1,1,1,\(ms),TRUE,x\n", key: key)
        XCTAssertEqual(t.bools("is_buyer_maker"), [true, false])
        XCTAssertEqual(t.bools("is_best_match"), [false, true])
        XCTAssertEqual(t.report.finding(.badField)?.lines, [3])
    }

    func testCRLFAndAMissingFinalNewline() throws {
        let lf = tradesHeader + umTradesRows()
        let crlf = lf.replacingNewlines("\r\n")
        let unterminated = String(crlf.dropLast()) // "\r\n" is one Character
        for text in [crlf, unterminated, String(lf.dropLast())] {
            let t = try parse(text, key: umTrades)
            XCTAssertEqual(t.rows, 144)
            XCTAssertEqual(t.report.status, .pass, "\(t.report.findings)")
            XCTAssertEqual(t.bools("is_buyer_maker").last, false)
        }
    }

    func testChunkBoundariesDoNotChangeTheResult() throws {
        let text = tradesHeader + umTradesRows(300) + "1300,62000,0.1,x,\(millisText("2024-03-01", 23, 59)),true\r\n" + "1301,1,1,1,\(millisText("2024-03-01", 23, 59, 30)),true"
        let whole = try parse(text, key: umTrades, batchRows: 7)
        XCTAssertEqual(whole.rows, 301)
        XCTAssertEqual(whole.batches, 43)
        for feed in [(Int?)(1), 2, 3, 13, 64, 1000] {
            let t = try parse(text, key: umTrades, chunk: feed, batchRows: 7)
            XCTAssertEqual(t.ints("id"), whole.ints("id"), "chunks of \(feed!)")
            XCTAssertEqual(t.doubles("qty"), whole.doubles("qty"))
            XCTAssertEqual(t.ints("time"), whole.ints("time"))
            XCTAssertEqual(t.bools("is_buyer_maker"), whole.bools("is_buyer_maker"))
            XCTAssertEqual(t.report.findings, whole.report.findings)
            XCTAssertEqual(t.report.rows, 302)
        }
        let odd = try parse(text, key: umTrades, sizes: [1, 7, 2, 31, 5, 97], batchRows: 64)
        XCTAssertEqual(odd.ints("id"), whole.ints("id"))
        XCTAssertEqual(odd.report.findings, whole.report.findings)
    }

    func testAFieldThatDoesNotParseNamesLineAndColumn() throws {
        var lines = umTradesRows(10).split(separator: "\n").map(String.init)
        lines[4] = lines[4].replacingOccurrences(of: ",0.00", with: ",0.0o")
        lines[7] = "1007,62000.7,0.001,1.5,notatime,true"
        let t = try parse(tradesHeader + lines.joined(separator: "\n") + "\n", key: umTrades)
        XCTAssertEqual(t.rows, 8)
        XCTAssertEqual(t.report.rows, 10)
        XCTAssertFalse(t.ints("id").contains(1004))
        XCTAssertFalse(t.ints("id").contains(1007))
        let finding = try XCTUnwrap(t.report.finding(.badField))
        XCTAssertEqual(finding.severity, .fail)
        XCTAssertEqual(finding.count, 2)
        XCTAssertEqual(finding.lines, [6, 9]) // the header is line 1
        XCTAssertTrue(finding.message.contains("line 6, column qty: \"0.0o"), finding.message)
        XCTAssertEqual(t.report.status, .fail)
    }

    func testTheWrongNumberOfFieldsIsABadRow() throws {
        let ms = millisText("2024-03-01", 1)
        let t = try parse("1,1,1,1,\(ms),true\n2,1,1,1,\(ms)\n3,1,1,1,\(ms),true,true\n4,1,1,1,\(ms),true\n", key: umTrades)
        XCTAssertEqual(t.ints("id"), [1, 4])
        let finding = try XCTUnwrap(t.report.finding(.badRow))
        XCTAssertEqual(finding.lines, [2, 3])
        XCTAssertTrue(finding.message.contains("line 2 has 5 fields"), finding.message)
    }

    func testEmptyFieldsOnlyWhereOptional() throws {
        let ms = millisText("2024-03-01", 1)
        let t = try parse("1,,1,1,\(ms),true\n", key: umTrades)
        XCTAssertEqual(t.rows, 0)
        XCTAssertTrue(t.report.finding(.badField)!.message.contains("column price: \"\" is empty"), t.report.findings[0].message)
    }

    func testBatchesAreRecycled() throws {
        let identity = try ArchiveIdentity(path: umTrades)
        let parser = TableParser(dataset: try Dataset.of(identity), identity: identity, batchRows: 10)
        var seen: [ObjectIdentifier] = []
        let bytes = Array(umTradesRows(100).utf8)
        try bytes.withUnsafeBytes { raw in
            try parser.consume(raw) { batch in
                XCTAssertEqual(batch.rows, 10)
                seen.append(ObjectIdentifier(batch))
                parser.recycle(batch)
            }
        }
        _ = try parser.finish { _ in XCTFail("no rows left") }
        XCTAssertEqual(seen.count, 10)
        XCTAssertEqual(Set(seen).count, 1) // the same batch, filled again
    }
}

extension String {
    func replacingNewlines(_ with: String) -> String { split(separator: "\n", omittingEmptySubsequences: false).joined(separator: with) }
    func replacingOccurrences(of a: String, with b: String) -> String {
        var out = "", rest = Substring(self)
        while let r = rest.firstRange(of: a) { out += rest[..<r.lowerBound] + b; rest = rest[r.upperBound...] }
        return out + rest
    }
}
