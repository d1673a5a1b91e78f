import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcCollect

final class CollectTaskTests: XCTestCase {
    private func task(_ json: String) throws -> CollectTask { try CollectTask(try Record(parsing: json), line: 7) }

    func testReadsTheFieldsItActsOn() throws {
        let t = try task(#"{"url":"https://h/a.zip","dest":"/lake/x/../a.zip","checksum_url":"https://h/a.zip.CHECKSUM","size":10,"etag":"abc","reason":"new","task_id":"t1","key":"k","symbol":"BTCUSDT","extra":[1]}"#)
        XCTAssertEqual(t.url, "https://h/a.zip")
        XCTAssertEqual(t.dest, "/lake/a.zip", "dest is made absolute and normalised")
        XCTAssertEqual(t.checksumURL, "https://h/a.zip.CHECKSUM")
        XCTAssertEqual(t.size, 10)
        XCTAssertEqual(t.etag, "abc")
        XCTAssertEqual(t.reason, "new")
        XCTAssertEqual(t.line, 7)
        let item = t.ledgerItem
        XCTAssertEqual(item.dest, "/lake/a.zip")
        XCTAssertEqual(item.taskID, "t1")
        XCTAssertEqual(item.key, "k")
        XCTAssertEqual(item.symbol, "BTCUSDT")
        XCTAssertNil(item.interval)
        XCTAssertEqual(item.size, 10)
    }

    func testRejectsWhatItCannotRun() {
        let cases: [(String, String)] = [
            (#"{"dest":"/a"}"#, "url"),
            (#"{"url":"ftp://h/a","dest":"/a"}"#, "url"),
            (#"{"url":"/local/a","dest":"/a"}"#, "url"),
            (#"{"url":"http://h/a"}"#, "dest"),
            (#"{"url":"http://h/a","dest":""}"#, "dest"),
            (#"{"url":"http://h/a","dest":"s3://bucket"}"#, "dest"),
            (#"{"url":"http://h/a","dest":"s3://bucket/*.zip"}"#, "dest"),
            (#"{"url":"http://h/a","dest":"ftp://h/a"}"#, "dest"),
            (#"{"url":"http://h/a","dest":"/lake/dir/"}"#, "dest"),
            (#"{"url":"http://h/a","dest":"/a","size":"10"}"#, "size"),
            (#"{"url":"http://h/a","dest":"/a","etag":5}"#, "etag"),
        ]
        for (json, field) in cases {
            XCTAssertEqual(assertThrows(FieldError.self, try task(json))?.field, field, json)
        }
    }

    func testS3DestinationsAreKeptAsGiven() throws {
        let t = try task(#"{"url":"http://h/a","dest":"s3://lake/binance/a b.zip"}"#)
        XCTAssertEqual(t.dest, "s3://lake/binance/a b.zip")
        XCTAssertEqual(t.s3Dest, S3URL(bucket: "lake", key: "binance/a b.zip"))
    }

    func testPartialPathSitsBesideDestAndNamesTheVersion() throws {
        let t = try task(#"{"url":"http://h/a","dest":"/lake/d/a.zip","etag":"\"9d2b-1e7a/4f0c3c51c7f5\""}"#)
        XCTAssertEqual(t.partialPath, "/lake/d/.a.zip.9d2b1e7a4f0c.part")
        XCTAssertEqual(try task(#"{"url":"http://h/a","dest":"/lake/a.zip","size":42}"#).partialPath, "/lake/.a.zip.s42.part")
        XCTAssertEqual(try task(#"{"url":"http://h/a","dest":"/lake/a.zip"}"#).partialPath, "/lake/.a.zip.x.part")
        XCTAssertEqual(try task(#"{"url":"http://h/a","dest":"/lake/a.zip","etag":"--"}"#).partialPath, "/lake/.a.zip.x.part")
        let v1 = try task(#"{"url":"http://h/a","dest":"/lake/a.zip","etag":"aaa"}"#).partialPath
        let v2 = try task(#"{"url":"http://h/a","dest":"/lake/a.zip","etag":"bbb"}"#).partialPath
        XCTAssertNotEqual(v1, v2, "a partial file of one version is never resumed into another")
    }

    func testResultRecordKeepsTheTaskAndReplacesOutcomeFields() throws {
        let t = try task(#"{"url":"http://h/a","dest":"/a","tag":"mine","status":"stale","error":null,"dry_run":false}"#)
        var ok = CollectOutcome(status: .ok)
        ok.bytes = 10
        ok.sha256 = "ab"
        ok.verified = true
        ok.attempts = 2
        ok.durationMillis = 15
        var b = RecordBuilder()
        ok.encode(t, into: &b, dryRun: false)
        XCTAssertEqual(String(decoding: b.bytes, as: UTF8.self),
                       #"{"url":"http://h/a","dest":"/a","tag":"mine","status":"ok","bytes":10,"sha256":"ab","verified":true,"verification":"none","attempts":2,"duration_ms":15}"# + "\n")

        let failed = CollectOutcome.failed(.checksumMismatch, "expected \"x\"")
        failed.encode(t, into: &b, dryRun: true)
        let r = try Record(parsing: String(decoding: b.bytes.dropLast(), as: UTF8.self))
        XCTAssertEqual(try r.string("status"), "failed")
        XCTAssertNil(try r.string("sha256"))
        XCTAssertTrue(r.has("sha256"), "sha256 is null, not absent")
        XCTAssertEqual(String(decoding: r.raw(r.field("error")!), as: UTF8.self), #"{"code":"checksum_mismatch","message":"expected \"x\""}"#)
        XCTAssertEqual(try r.bool("dry_run"), true)
        XCTAssertEqual(r.fields.filter { r.keyText($0) == "status" }.count, 1)
    }
}

final class TelemetryTests: XCTestCase {
    private var dir: TempDir!
    override func setUp() { dir = TempDir() }
    override func tearDown() { dir.remove() }

    func testJSONLinesCarryTheContractFields() throws {
        let log = CapturedLog(dir)
        log.logger.info("hello \"there\"", ["n": 3, "ok": true, "s": "v", "d": .double(1.5)])
        let r = try XCTUnwrap(log.records.first)
        XCTAssertEqual(try r.string("level"), "info")
        XCTAssertEqual(try r.string("tool"), "arc-test")
        XCTAssertEqual(try r.string("msg"), "hello \"there\"")
        XCTAssertEqual(try r.int("n"), 3)
        XCTAssertEqual(try r.bool("ok"), true)
        XCTAssertEqual(try r.string("s"), "v")
        XCTAssertEqual(try r.double("d"), 1.5)
        XCTAssertNotNil(WallClock.parseRFC3339(try r.string("ts")!))
        XCTAssertEqual(r.fields.prefix(4).map { r.keyText($0) }, ["ts", "level", "tool", "msg"])
    }

    func testLevelsFilter() {
        let log = CapturedLog(dir)
        log.logger.level = .warn
        log.logger.debug("d")
        log.logger.info("i")
        log.logger.warn("w")
        log.logger.error("e")
        XCTAssertEqual(log.records.compactMap { try? $0.string("level") }, ["warn", "error"])
    }

    func testHumanFormat() throws {
        let log = CapturedLog(dir)
        log.logger.format = .human
        log.logger.warn("disk low", ["path": "/a b", "free": 3, "q": "x\"y"])
        log.logger.info("plain")
        XCTAssertEqual(String(decoding: dir.read("log.ndjson"), as: UTF8.self),
                       "arc-test: warning: disk low path=\"/a b\" free=3 q=\"x\\\"y\"\narc-test: plain\n")
    }

    func testLogLevelNames() {
        XCTAssertEqual(LogLevel(name: "WARNING"), .warn)
        XCTAssertEqual(LogLevel(name: "debug"), .debug)
        XCTAssertNil(LogLevel(name: "loud"))
        XCTAssertEqual(LogLevel.allCases.map { $0.name }, ["debug", "info", "warn", "error"])
        XCTAssertLessThan(LogLevel.debug, LogLevel.error)
    }

    func testExitStatuses() {
        XCTAssertEqual(ExitStatus.standard.map { $0.rawValue }, [0, 1, 2, 3, 130, 143])
        XCTAssertEqual(ExitStatus.busy.rawValue, 75, "wf-run's: the workflow is already running")
        XCTAssertEqual(UsageError("x").exitStatus, .usage)
        XCTAssertEqual(UnavailableError("db", "gone").description, "db: gone")
        XCTAssertEqual(UnavailableError("db", "gone").exitStatus, .unavailable)
    }
}
