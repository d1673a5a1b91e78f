import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcCollect

/// An archive record as arc-discover writes it, with fields to override or add.
private func archive(symbol: String = "BTCUSDT", interval: String? = "1m", period: String = "daily",
                     date: String = "2024-01-02", type: String = "klines", size: Int64? = 1234, etag: String? = "e1",
                     extra: String = "") -> Record {
    let stem = symbol + "-" + (interval ?? type)
    let folder = "data/spot/\(period)/\(type)/\(symbol)/" + (interval.map { $0 + "/" } ?? "")
    let key = folder + stem + "-" + date + ".zip"
    var b = RecordBuilder()
    b.begin()
    Archive(source: "binance", market: "spot", period: period, type: type, symbol: symbol, interval: interval, date: date,
            key: key, url: "https://data.binance.vision/" + key, checksumURL: "https://data.binance.vision/" + key + ".CHECKSUM",
            size: size, etag: etag, lastModified: "2024-01-03T00:00:00.000Z").encode(into: &b)
    b.end()
    var text = String(decoding: b.bytes.dropLast(2), as: UTF8.self) // without "}\n"
    if !extra.isEmpty { text += "," + extra }
    return try! Record(parsing: text + "}")
}

final class LayoutTests: XCTestCase {
    func testDefaultKeepsTheSourceKey() throws {
        let layout = try Layout(Layout.defaultTemplate)
        XCTAssertEqual(try layout.path(for: archive()), "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-02.zip")
        XCTAssertEqual(layout.fields, ["key"])
    }

    func testTemplates() throws {
        let r = archive()
        XCTAssertEqual(try Layout("{market}/{type}/{symbol}/{interval}/{file}").path(for: r), "spot/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-02.zip")
        XCTAssertEqual(try Layout("type={type}/symbol={symbol}/date={date}/{file}").path(for: r),
                       "type=klines/symbol=BTCUSDT/date=2024-01-02/BTCUSDT-1m-2024-01-02.zip")
        XCTAssertEqual(try Layout("{source}/{year}/{month}/{day}/{symbol}.zip").path(for: r), "binance/2024/01/02/BTCUSDT.zip")
        XCTAssertEqual(try Layout("{period}-{symbol}").path(for: r), "daily-BTCUSDT")
        XCTAssertEqual(try Layout("{market}/{type}/{symbol}/{interval}/{file}").fields, ["market", "type", "symbol", "interval", "file"])
    }

    func testMissingIntervalCollapsesTheEmptyFolder() throws {
        let r = archive(interval: nil, type: "trades")
        XCTAssertFalse(r.has("interval"))
        XCTAssertEqual(try Layout("{market}/{type}/{symbol}/{interval}/{file}").path(for: r), "spot/trades/BTCUSDT/BTCUSDT-trades-2024-01-02.zip")
        let null = archive(interval: nil, type: "trades", extra: #""interval":null"#)
        XCTAssertEqual(try Layout("{symbol}/{interval}/{file}").path(for: null), "BTCUSDT/BTCUSDT-trades-2024-01-02.zip")
    }

    func testEscapedValuesAreDecoded() throws {
        let r = try Record(parsing: #"{"key":"data\/sp\u006ft\/x.zip","symbol":"caf\u00e9"}"#)
        XCTAssertEqual(try Layout("{key}").path(for: r), "data/spot/x.zip")
        XCTAssertEqual(try Layout("{symbol}/{file}").path(for: r), "café/x.zip")
    }

    func testFileOfAFolderKeyIsAnError() throws {
        let r = try Record(parsing: #"{"key":"data/spot/daily/klines/BTCUSDT/"}"#)
        XCTAssertNotNil(assertThrows(FieldError.self, try Layout("{file}").path(for: r)))
    }

    func testPathsCannotLeaveTheDestination() throws {
        for key in ["../etc/passwd", "data/../../x.zip", "data/./x.zip", "..", "a/b/.."] {
            let r = try Record(parsing: "{\"key\":\"\(key)\"}")
            XCTAssertNotNil(assertThrows(FieldError.self, try Layout("{key}").path(for: r)), key)
        }
        let nul = try Record(parsing: #"{"key":"a\u0000b.zip"}"#)
        XCTAssertNotNil(assertThrows(FieldError.self, try Layout("{key}").path(for: nul)))
        // An absolute key stays under the destination; dotted names that are not . or .. are fine.
        XCTAssertEqual(try Layout("{key}").path(for: try Record(parsing: #"{"key":"/abs//x.zip"}"#)), "abs/x.zip")
        XCTAssertEqual(try Layout("{key}").path(for: try Record(parsing: #"{"key":".hidden/...x/a..b"}"#)), ".hidden/...x/a..b")
    }

    func testMissingOrEmptyFields() throws {
        let layout = try Layout("{symbol}/{file}")
        XCTAssertEqual(assertThrows(FieldError.self, try layout.path(for: try Record(parsing: #"{"key":"k"}"#)))?.field, "symbol")
        XCTAssertEqual(assertThrows(FieldError.self, try layout.path(for: try Record(parsing: #"{"symbol":"","key":"k"}"#)))?.field, "symbol")
        XCTAssertEqual(assertThrows(FieldError.self, try layout.path(for: try Record(parsing: #"{"symbol":5,"key":"k"}"#)))?.field, "symbol")
        XCTAssertEqual(assertThrows(FieldError.self, try layout.path(for: try Record(parsing: #"{"symbol":"s"}"#)))?.field, "key")
        let monthly = archive(period: "monthly", date: "2024-01")
        XCTAssertEqual(assertThrows(FieldError.self, try Layout("{year}/{month}/{day}/{file}").path(for: monthly))?.field, "date")
        XCTAssertEqual(try Layout("{year}/{month}/{file}").path(for: monthly), "2024/01/BTCUSDT-1m-2024-01.zip")
        XCTAssertNotNil(assertThrows(FieldError.self, try Layout("{interval}").path(for: archive(interval: nil))),
                        "a path that comes out empty")
    }

    func testBadTemplates() {
        XCTAssertEqual(assertThrows(UsageError.self, try Layout("{symbol/{file}"))?.message, "--layout: unknown placeholder {symbol/{file}; known: {source} {market} {period} {type} {symbol} {interval} {date} {file} {key} {year} {month} {day}")
        XCTAssertEqual(assertThrows(UsageError.self, try Layout("{symbol}/{file"))?.message, "--layout: unclosed '{' in '{symbol}/{file'")
        XCTAssertTrue(assertThrows(UsageError.self, try Layout("{sym}/{file}"))?.message.hasPrefix("--layout: unknown placeholder {sym};") ?? false)
        XCTAssertEqual(assertThrows(UsageError.self, try Layout("all/in/one.zip"))?.message,
                       "--layout: 'all/in/one.zip' has no placeholder, so every archive would land on one path")
        XCTAssertNotNil(assertThrows(UsageError.self, try Layout("")))
    }
}

final class PlannerTests: LedgerTestCase {
    private func planner(force: Bool = false, root: String = "/lake", layout: String = "{key}") -> Planner {
        Planner(destRoot: root, layout: try! Layout(layout), ledger: ledger, force: force)
    }

    private func task(_ p: Planner, _ r: Record) throws -> Record? {
        guard let bytes = try p.plan(r) else { return nil }
        XCTAssertEqual(bytes.last, 0x0A, "a task ends with a newline")
        return try Record(parsing: String(decoding: bytes.dropLast(), as: UTF8.self))
    }

    private func hold(_ r: Record, root: String = "/lake", size: Int64?, etag: String?, ok: Bool = true) throws {
        let dest = root + "/" + (try r.string("key")!)
        var item = Ledger.Item(dest: dest, url: try r.string("url")!)
        item.size = size
        item.etag = etag
        try ledger.transaction {
            if ok {
                try ledger.recordSuccess(item, sha256: "abc", verified: true, attempts: 1, at: "t")
            } else {
                try ledger.recordFailure(item, code: .timeout, message: "m", attempts: 5, at: "t")
            }
        }
    }

    func testNewArchiveBecomesATask() throws {
        let r = archive(extra: #""tag":{"team":"q"},"note":"x\u00e9""#)
        let t = try task(planner(), r)!
        let dest = "/lake/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-02.zip"
        XCTAssertEqual(try t.string("dest"), dest)
        XCTAssertEqual(try t.string("reason"), "new")
        XCTAssertTrue(Hex.isHex(Substring(try t.string("task_id")!), count: 16))
        // The archive's fields, known or not, come first and byte for byte.
        XCTAssertTrue(t.text.hasPrefix(String(r.text.dropLast()) + ","), t.text)
        XCTAssertEqual(t.fields.map { t.keyText($0) }.suffix(3), ["task_id", "dest", "reason"])
    }

    func testTaskFieldsInTheInputAreReplacedNotDuplicated() throws {
        let r = archive(extra: #""task_id":"old","reason":"forced","dest":"/elsewhere","keep":1"#)
        let t = try task(planner(), r)!
        let keys = t.fields.map { t.keyText($0) }
        XCTAssertEqual(keys.filter { $0 == "task_id" }.count, 1)
        XCTAssertEqual(keys.filter { $0 == "dest" }.count, 1)
        XCTAssertEqual(try t.string("reason"), "new")
        XCTAssertNotEqual(try t.string("task_id"), "old")
        XCTAssertEqual(try t.int("keep"), 1)
    }

    func testTaskIDIsStableAndNamesTheVersionAndPlace() throws {
        let r = archive()
        let id1 = try task(planner(), r)!.string("task_id")!
        XCTAssertEqual(id1.count, 16)
        XCTAssertTrue(Hex.isHex(Substring(id1), count: 16))
        // Another planner (another run), after other work: the same archive to the same place, the same id.
        let p = planner()
        for d in ["2024-01-03", "2024-01-04"] { _ = try p.plan(archive(date: d)) }
        XCTAssertEqual(try task(p, r)!.string("task_id"), id1)
        XCTAssertEqual(try task(planner(layout: "data/spot/daily/klines/BTCUSDT/1m/{file}"), r)!.string("task_id"), id1,
                       "the id depends on where the archive goes, not on how the template spells it")

        var ids: Set<String> = [id1]
        for other in [try task(planner(), archive(etag: "e2")), try task(planner(), archive(size: 99)),
                      try task(planner(), archive(size: nil, etag: nil)), try task(planner(root: "/other"), r),
                      try task(planner(), archive(date: "2024-01-03")), try task(planner(layout: "{symbol}/{file}"), r)] {
            XCTAssertTrue(ids.insert(try other!.string("task_id")!).inserted, "another version or place, another id")
        }
        // Field boundaries matter: moving text from etag to size is another task.
        let a = try task(planner(), archive(size: 12, etag: "e3"))!.string("task_id")
        let b = try task(planner(), archive(size: 312, etag: "e"))!.string("task_id")
        XCTAssertNotEqual(a, b)
    }

    func testHeldArchivesAreNotPlanned() throws {
        let r = archive()
        try hold(r, size: 1234, etag: "e1")
        let p = planner()
        XCTAssertNil(try p.plan(r))
        XCTAssertEqual(p.held, 1)
        XCTAssertTrue(p.counts.isEmpty)
    }

    func testForcePlansHeldArchives() throws {
        let r = archive()
        try hold(r, size: 1234, etag: "e1")
        let p = planner(force: true)
        XCTAssertEqual(try task(p, r)?.string("reason"), "forced")
        XCTAssertEqual(p.counts[.forced], 1)
        XCTAssertEqual(p.held, 0)
    }

    func testRepublishedArchivesAreChanged() throws {
        let r = archive()
        try hold(r, size: 1234, etag: "old")
        XCTAssertEqual(try task(planner(), r)?.string("reason"), "changed", "another ETag")
        try hold(r, size: 999, etag: "e1")
        XCTAssertEqual(try task(planner(), r)?.string("reason"), "changed", "another size")
        XCTAssertEqual(try task(planner(force: true), r)?.string("reason"), "changed", "changed wins over forced")
    }

    func testUnknownValuesAreNoEvidenceOfChange() throws {
        try hold(archive(), size: nil, etag: nil)
        XCTAssertNil(try planner().plan(archive()), "the ledger knows neither: held")
        try hold(archive(), size: 1234, etag: "e1")
        XCTAssertNil(try planner().plan(archive(size: nil, etag: nil)), "the listing gives neither: held")
    }

    func testFailedArchivesAreRetried() throws {
        let r = archive()
        try hold(r, size: 1234, etag: "e1", ok: false)
        let p = planner()
        XCTAssertEqual(try task(p, r)?.string("reason"), "retry")
        XCTAssertEqual(p.counts, [.retry: 1])
    }

    func testCountsPerReason() throws {
        try hold(archive(date: "2024-01-01"), size: 1234, etag: "e1")
        try hold(archive(date: "2024-01-02"), size: 1234, etag: "e1", ok: false)
        let p = planner()
        for d in ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"] { _ = try p.plan(archive(date: d)) }
        XCTAssertEqual(p.counts, [.retry: 1, .new: 2])
        XCTAssertEqual(p.held, 1)
    }

    func testWithoutALedgerEverythingIsNew() throws {
        let p = Planner(destRoot: "/x", layout: try Layout("{key}"), ledger: nil, force: false)
        XCTAssertEqual(try task(p, archive())?.string("reason"), "new")
    }

    func testRecordsThatCannotBePlanned() throws {
        let p = planner()
        XCTAssertEqual(assertThrows(FieldError.self, try p.plan(try Record(parsing: #"{"key":"a.zip"}"#)))?.field, "url")
        XCTAssertEqual(assertThrows(FieldError.self, try p.plan(try Record(parsing: #"{"url":"u"}"#)))?.field, "key")
        XCTAssertEqual(assertThrows(FieldError.self, try p.plan(try Record(parsing: #"{"url":"u","key":"a","size":"big"}"#)))?.field, "size")
        XCTAssertEqual(assertThrows(FieldError.self, try p.plan(try Record(parsing: #"{"url":"u","key":"../a"}"#)))?.field, "key")
        XCTAssertTrue(p.counts.isEmpty)
    }
}

final class GapReportTests: XCTestCase {
    private var dir: TempDir!
    override func setUp() { dir = TempDir() }
    override func tearDown() { dir.remove() }

    private func report(_ records: [Record]) throws -> (records: [Record], totals: (series: Int, withGaps: Int, missing: Int)) {
        let g = GapReport()
        for r in records { try g.add(r) }
        let out = CapturedOutput(dir)
        let totals = try g.write(to: out.stream)
        return (try out.records(), totals)
    }

    func testDailyGaps() throws {
        let days = ["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-06", "2024-01-08", "2024-01-02"]
        let (records, totals) = try report(days.map { archive(date: $0) })
        XCTAssertEqual(records.count, 1)
        let r = records[0]
        XCTAssertEqual(try r.string("symbol"), "BTCUSDT")
        XCTAssertEqual(try r.string("interval"), "1m")
        XCTAssertEqual(try r.string("period"), "daily")
        XCTAssertEqual(try r.string("first"), "2024-01-01")
        XCTAssertEqual(try r.string("last"), "2024-01-08")
        XCTAssertEqual(try r.int("expected"), 8)
        XCTAssertEqual(try r.int("present"), 5, "a repeated day counts once")
        XCTAssertEqual(try r.int("missing_count"), 3)
        XCTAssertEqual(String(decoding: r.raw(r.field("missing")!), as: UTF8.self),
                       #"[{"from":"2024-01-03","to":"2024-01-04","count":2},{"from":"2024-01-07","to":"2024-01-07","count":1}]"#)
        XCTAssertEqual(totals.series, 1)
        XCTAssertEqual(totals.withGaps, 1)
        XCTAssertEqual(totals.missing, 3)
    }

    func testMonthlyGapsAcrossAYear() throws {
        let (records, _) = try report(["2023-11", "2024-02"].map { archive(period: "monthly", date: $0) })
        XCTAssertEqual(String(decoding: records[0].raw(records[0].field("missing")!), as: UTF8.self),
                       #"[{"from":"2023-12","to":"2024-01","count":2}]"#)
    }

    func testSeriesWithoutGapsAreCountedButNotWritten() throws {
        let input = [archive(symbol: "AAA", date: "2024-01-01"), archive(symbol: "AAA", date: "2024-01-02"),
                     archive(symbol: "BBB", date: "2024-01-01"), archive(symbol: "BBB", date: "2024-01-03"),
                     archive(symbol: "BBB", interval: "1h", date: "2024-01-01"),
                     archive(symbol: "BBB", period: "monthly", date: "2024-01")]
        let (records, totals) = try report(input)
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(try records[0].string("symbol"), "BBB")
        XCTAssertEqual(try records[0].string("interval"), "1m", "series are told apart by interval and period")
        XCTAssertEqual(totals.series, 4)
        XCTAssertEqual(totals.withGaps, 1)
    }

    func testOutputIsSorted() throws {
        let input = ["ZZZ", "AAA", "MMM"].flatMap { s in ["2024-01-01", "2024-01-03"].map { archive(symbol: s, date: $0) } }
        XCTAssertEqual(try report(input).records.map { try $0.string("symbol")! }, ["AAA", "MMM", "ZZZ"])
    }

    func testBadRecords() throws {
        let g = GapReport()
        XCTAssertEqual(assertThrows(FieldError.self, try g.add(try Record(parsing: #"{"date":"2024-01-01"}"#)))?.field, "period")
        XCTAssertEqual(assertThrows(FieldError.self, try g.add(archive(period: "weekly")))?.field, "period")
        XCTAssertEqual(assertThrows(FieldError.self, try g.add(archive(date: "2024-02-30")))?.field, "date")
        XCTAssertEqual(assertThrows(FieldError.self, try g.add(archive(period: "monthly", date: "2024-01-01")))?.field, "date")
        let out = CapturedOutput(dir)
        XCTAssertEqual(try g.write(to: out.stream).series, 0)
    }
}

final class MonthlyPreferenceTests: XCTestCase {
    func testDailyArchivesOfACoveredMonthAreSkipped() throws {
        let m = try MonthlyPreference()
        var planned: [String] = []
        let input = [
            archive(date: "2024-01-30"), archive(date: "2024-01-31"), archive(date: "2024-02-01"),
            archive(period: "monthly", date: "2024-01"),
            archive(symbol: "ETHUSDT", date: "2024-01-15"),              // another series: no monthly for it
            archive(interval: "1h", date: "2024-01-15"),                 // another interval
            archive(extra: #""note":"passes through""#),                 // 2024-01-02, covered
        ]
        for r in input where try m.admit(r) { planned.append(try r.string("date")! + " " + r.text) }
        XCTAssertEqual(planned.map { String($0.prefix(7)) }, ["2024-01"], "only the monthly archive is planned at once")
        var replayed: [Record] = []
        try m.replay { replayed.append($0) }
        let names = try replayed.map { "\(try $0.string("symbol")!)/\(try $0.string("interval")!)/\(try $0.string("date")!)" }
        XCTAssertEqual(names,
                       ["BTCUSDT/1m/2024-02-01", "ETHUSDT/1m/2024-01-15", "BTCUSDT/1h/2024-01-15"])
        XCTAssertEqual(m.skippedDaily, 3)
    }

    func testReplayKeepsRecordsByteForByte() throws {
        let m = try MonthlyPreference()
        let r = archive(extra: #""tag":{"a":[1,2.50]},"s":"\u00e9\n""#)
        XCTAssertFalse(try m.admit(r))
        var replayed: [Record] = []
        try m.replay { replayed.append($0) }
        XCTAssertEqual(replayed.map { $0.bytes }, [r.bytes])
    }

    func testRecordsWithoutPeriodOrDatePassAtOnce() throws {
        let m = try MonthlyPreference()
        XCTAssertTrue(try m.admit(try Record(parsing: #"{"url":"u"}"#)))
        XCTAssertTrue(try m.admit(try Record(parsing: #"{"period":"weekly","date":"2024-01-01"}"#)))
        var n = 0
        try m.replay { _ in n += 1 }
        XCTAssertEqual(n, 0)
    }
}

final class HashPairsTests: XCTestCase {
    func testInsertKeepsTheFirstValueAndGrows() {
        var pairs = HashPairs(capacity: 2)
        for k in 0..<10_000 as Range<UInt64> { XCTAssertNil(pairs.insertIfAbsent(k &* 0x9E37_79B9_7F4A_7C15, k)) }
        XCTAssertEqual(pairs.count, 10_000)
        for k in 0..<10_000 as Range<UInt64> { XCTAssertEqual(pairs.insertIfAbsent(k &* 0x9E37_79B9_7F4A_7C15, 7), k) }
        XCTAssertEqual(pairs.count, 10_000)
    }

    func testZeroIsAKeyLikeAnyOther() {
        var pairs = HashPairs()
        XCTAssertNil(pairs.insertIfAbsent(0, 5))
        XCTAssertEqual(pairs.insertIfAbsent(0, 6), 5)
    }
}
