import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcCollect

/// Collector (arc-collect's engine) against FaultServer: archives and Binance-style
/// CHECKSUM files served with scripted faults, every request recorded; results read from
/// the captured output, the ledger from its database.
final class CollectorTests: XCTestCase {
    private var server: FaultServer!
    private var dir: TempDir!
    private var log: CapturedLog!
    private var db: Database!
    private var ledger: Ledger!
    /// Runs started on a thread of their own (stop tests), joined in tearDown.
    private var threads: [WorkerThread] = []

    override func setUpWithError() throws {
        server = try FaultServer()
        dir = TempDir("arc-collector")
        log = CapturedLog(dir)
        db = try StateStore.open(dir.file("state.db"))
        ledger = Ledger(db)
    }

    override func tearDown() {
        server.stop() // ends any stall, so a run left waiting on one ends too
        for t in threads { t.join() }
        threads = []
        ledger = nil
        db = nil
        dir.remove()
    }

    // MARK: helpers

    /// A zip-like body: the local file header magic, then bytes that differ at every offset.
    static func archive(_ count: Int, seed: Int = 0) -> [UInt8] {
        [0x50, 0x4b, 0x03, 0x04] + (4..<count).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761 &+ seed) >> 7) }
    }

    /// Serves `name` under /data/spot/ with its CHECKSUM (`<sha256>  <name>`, no newline, as
    /// Binance writes it), or with `checksum` in its place. Returns the task record.
    @discardableResult
    private func publish(_ name: String, _ body: [UInt8], checksum: String? = nil, etag: String? = nil) -> String {
        let path = "/data/spot/" + name
        server.serve(path, body, etag: etag)
        server.serve(path + ".CHECKSUM", checksum ?? SHA256.hex(body) + "  " + name)
        var fields = [
            #""url":"\#(server.base + path)""#, #""checksum_url":"\#(server.base + path).CHECKSUM""#,
            #""dest":"\#(dest(name))""#, #""size":\#(body.count)"#, #""key":"data/spot/\#(name)""#,
            #""task_id":"t-\#(name)""#, #""reason":"new""#,
        ]
        if let etag { fields.append(#""etag":"\#(etag)""#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    private func dest(_ name: String) -> String { dir.file("lake/spot/" + name) }

    private func options(jobs: Int = 4, retries: Int = 4, stall: Double = 30) -> CollectOptions {
        var o = CollectOptions()
        o.jobs = jobs
        o.retry = RetryPolicy(maxAttempts: retries, baseDelay: 0.02, maxDelay: 1, retryForbidden: true)
        o.stallTimeout = stall
        o.connectTimeout = 5
        o.finishers = 2
        return o
    }

    private func collector(_ options: CollectOptions, output: CapturedOutput) -> Collector {
        Collector(options: options, ledger: ledger, output: output.stream, log: log.logger,
                  telemetry: .off(tool: "arc-collect", log: log.logger))
    }

    private var runs = 0

    /// The tasks as an input file, read as arc-collect reads its FILE arguments.
    private func input(_ tasks: [String]) -> RecordInput {
        runs += 1
        let path = dir.write("tasks-\(runs).ndjson", tasks.map { $0 + "\n" }.joined())
        return RecordInput(paths: [path], strict: true, log: log.logger)
    }

    /// Runs `tasks` to the end; returns the summary and the result records.
    private func collect(_ tasks: [String], _ options: CollectOptions) throws -> (CollectSummary, [Record]) {
        let output = CapturedOutput(dir, name: "results-\(runs + 1).ndjson")
        let summary = try collector(options, output: output).run(input(tasks))
        return (summary, try output.records())
    }

    private func result(_ records: [Record], _ name: String, file: StaticString = #filePath, line: UInt = #line) -> Record? {
        let found = records.first { (try? $0.string("task_id")) == "t-" + name }
        if found == nil { XCTFail("no result for \(name) in \(records.map(\.text))", file: file, line: line) }
        return found
    }

    private func errorCode(_ r: Record) -> String? {
        guard let e = r.field("error"), let inner = try? Record(parsing: String(decoding: r.raw(e), as: UTF8.self)) else { return nil }
        return try? inner.string("code")
    }

    /// Names in dest's directory, hidden partial files included.
    private func filesBeside(_ name: String) -> [String] {
        (try? FileSystem.directoryEntries(FileSystem.parent(of: dest(name))))?.sorted() ?? []
    }

    // MARK: success, retries, resumes

    func testAVerifiedArchiveIsStoredAndRecordedOk() throws {
        let body = Self.archive(300_000)
        let task = publish("BTCUSDT-1m-2024-01-01.zip", body)
        let (summary, results) = try collect([task], options())

        XCTAssertEqual(summary.ok, 1)
        XCTAssertEqual(summary.failed, 0)
        XCTAssertEqual(summary.bytes, Int64(body.count))
        let r = try XCTUnwrap(result(results, "BTCUSDT-1m-2024-01-01.zip"))
        XCTAssertEqual(try r.string("status"), "ok")
        XCTAssertEqual(try r.bool("verified"), true)
        XCTAssertEqual(try r.string("sha256"), SHA256.hex(body))
        XCTAssertEqual(try r.int("bytes"), Int64(body.count))
        XCTAssertEqual(try r.int("attempts"), 1)
        XCTAssertEqual(try r.string("key"), "data/spot/BTCUSDT-1m-2024-01-01.zip", "the task's fields pass through")
        XCTAssertEqual(try FileSystem.read(dest("BTCUSDT-1m-2024-01-01.zip")), body)
        XCTAssertEqual(filesBeside("BTCUSDT-1m-2024-01-01.zip"), ["BTCUSDT-1m-2024-01-01.zip"], "no partial file left")
        let entry = try XCTUnwrap(try ledger.entry(dest: dest("BTCUSDT-1m-2024-01-01.zip")))
        XCTAssertEqual(entry.status, "ok")
        XCTAssertEqual(entry.sha256, SHA256.hex(body))
        XCTAssertEqual(server.requests(to: "/data/spot/BTCUSDT-1m-2024-01-01.zip").count, 1)
        XCTAssertEqual(server.requests(to: "/data/spot/BTCUSDT-1m-2024-01-01.zip.CHECKSUM").count, 1)
    }

    func testA5xxIsRetriedAndTheTaskSucceeds() throws {
        let body = Self.archive(50_000)
        let task = publish("ETHUSDT-1m-2024-01-01.zip", body)
        server.script("/data/spot/ETHUSDT-1m-2024-01-01.zip", .status(503), .status(500))
        server.script("/data/spot/ETHUSDT-1m-2024-01-01.zip.CHECKSUM", .status(502))
        let (summary, results) = try collect([task], options(retries: 4))

        XCTAssertEqual(summary.ok, 1)
        let r = try XCTUnwrap(result(results, "ETHUSDT-1m-2024-01-01.zip"))
        XCTAssertEqual(try r.string("status"), "ok")
        XCTAssertEqual(try r.bool("verified"), true)
        XCTAssertEqual(try r.int("attempts"), 3, "the archive's attempts")
        XCTAssertEqual(server.requests(to: "/data/spot/ETHUSDT-1m-2024-01-01.zip").count, 3)
        XCTAssertEqual(server.requests(to: "/data/spot/ETHUSDT-1m-2024-01-01.zip.CHECKSUM").count, 2)
        XCTAssertEqual(try FileSystem.read(dest("ETHUSDT-1m-2024-01-01.zip")), body)
        let warnings = log.records.filter { (try? $0.string("level")) == "warn" }
        XCTAssertEqual(warnings.count, 3, "each retry is a warning: \(log.records.map(\.text))")
    }

    func testRetriesEndAtTheLimitWithTheFailureRecorded() throws {
        let task = publish("DOWN-1m-2024-01-01.zip", Self.archive(1000))
        server.script("/data/spot/DOWN-1m-2024-01-01.zip", .status(503), .status(503), .status(503))
        let (summary, results) = try collect([task], options(retries: 2))

        XCTAssertEqual(summary.failed, 1)
        let r = try XCTUnwrap(result(results, "DOWN-1m-2024-01-01.zip"))
        XCTAssertEqual(try r.string("status"), "failed")
        XCTAssertEqual(errorCode(r), "server_error")
        XCTAssertEqual(try r.int("attempts"), 2)
        XCTAssertEqual(server.requests(to: "/data/spot/DOWN-1m-2024-01-01.zip").count, 2)
        XCTAssertFalse(FileSystem.exists(dest("DOWN-1m-2024-01-01.zip")))
        XCTAssertEqual(try ledger.entry(dest: dest("DOWN-1m-2024-01-01.zip"))?.status, "failed")
    }

    func testACutBodyIsResumedWithRangeAndIfRange() throws {
        let body = Self.archive(400_000)
        let task = publish("BNBUSDT-1m-2024-01-01.zip", body, etag: "v1-bnb")
        server.script("/data/spot/BNBUSDT-1m-2024-01-01.zip", .cutBody(after: 150_000))
        let (summary, results) = try collect([task], options())

        XCTAssertEqual(summary.ok, 1)
        let r = try XCTUnwrap(result(results, "BNBUSDT-1m-2024-01-01.zip"))
        XCTAssertEqual(try r.string("status"), "ok")
        XCTAssertEqual(try r.bool("verified"), true)
        XCTAssertEqual(try r.int("attempts"), 2)
        XCTAssertEqual(try FileSystem.read(dest("BNBUSDT-1m-2024-01-01.zip")), body)
        let seen = server.requests(to: "/data/spot/BNBUSDT-1m-2024-01-01.zip")
        guard seen.count == 2 else { return XCTFail("\(seen.count) requests, expected 2") }
        XCTAssertNil(seen[0].header("range"))
        XCTAssertEqual(seen[1].header("range"), "bytes=150000-", "resumed where the body was cut")
        XCTAssertEqual(seen[1].header("if-range"), "\"v1-bnb\"", "pinned to the listed version")
    }

    // MARK: bad copies and bad CHECKSUMs

    func testAFlippedByteIsFetchedAgainWithItsChecksumThenVerified() throws {
        let body = Self.archive(200_000)
        let task = publish("SOLUSDT-1m-2024-01-01.zip", body)
        server.script("/data/spot/SOLUSDT-1m-2024-01-01.zip", .flipByte(at: 123_456))
        let (summary, results) = try collect([task], options())

        XCTAssertEqual(summary.ok, 1)
        let r = try XCTUnwrap(result(results, "SOLUSDT-1m-2024-01-01.zip"))
        XCTAssertEqual(try r.string("status"), "ok")
        XCTAssertEqual(try r.bool("verified"), true)
        XCTAssertEqual(try r.string("sha256"), SHA256.hex(body))
        XCTAssertEqual(try r.int("attempts"), 2)
        XCTAssertEqual(try FileSystem.read(dest("SOLUSDT-1m-2024-01-01.zip")), body)
        let archive = server.requests(to: "/data/spot/SOLUSDT-1m-2024-01-01.zip")
        XCTAssertEqual(archive.count, 2, "the archive once more")
        XCTAssertEqual(server.requests(to: "/data/spot/SOLUSDT-1m-2024-01-01.zip.CHECKSUM").count, 2, "and its CHECKSUM")
        XCTAssertEqual(archive.last.flatMap { $0.header("range") }, nil, "fetched again from byte 0")
        XCTAssertTrue(log.records.contains { (try? $0.string("code")) == "checksum_mismatch" && (try? $0.string("level")) == "warn" })
    }

    func testAWrongChecksumFailsWhenTwoDownloadsAgreeAndStoresNothing() throws {
        let body = Self.archive(80_000)
        let wrong = SHA256.hex(Self.archive(80_000, seed: 1))
        let task = publish("XRPUSDT-1m-2024-01-01.zip", body, checksum: wrong + "  XRPUSDT-1m-2024-01-01.zip")
        let (summary, results) = try collect([task], options(retries: 5))

        XCTAssertEqual(summary.failed, 1)
        let r = try XCTUnwrap(result(results, "XRPUSDT-1m-2024-01-01.zip"))
        XCTAssertEqual(try r.string("status"), "failed")
        XCTAssertEqual(errorCode(r), "checksum_mismatch")
        XCTAssertEqual(try r.string("sha256"), SHA256.hex(body), "the hash of what came")
        XCTAssertEqual(try r.bool("verified"), false)
        // Two rounds: the second brought the same hash against the same CHECKSUM, so the
        // file upstream is so; the --retries left are not spent.
        XCTAssertEqual(server.requests(to: "/data/spot/XRPUSDT-1m-2024-01-01.zip").count, 2)
        XCTAssertEqual(server.requests(to: "/data/spot/XRPUSDT-1m-2024-01-01.zip.CHECKSUM").count, 2)
        XCTAssertEqual(filesBeside("XRPUSDT-1m-2024-01-01.zip"), [], "nothing at dest, no partial file")
        XCTAssertEqual(try ledger.entry(dest: dest("XRPUSDT-1m-2024-01-01.zip"))?.status, "failed")
    }

    func testBadCopiesNoTwoAlikeEndWhenAttemptsRunOut() throws {
        let body = Self.archive(60_000)
        let task = publish("ADAUSDT-1m-2024-01-01.zip", body)
        server.script("/data/spot/ADAUSDT-1m-2024-01-01.zip", .flipByte(at: 100), .flipByte(at: 200), .flipByte(at: 300))
        let (_, results) = try collect([task], options(retries: 2))

        let r = try XCTUnwrap(result(results, "ADAUSDT-1m-2024-01-01.zip"))
        XCTAssertEqual(try r.string("status"), "failed")
        XCTAssertEqual(errorCode(r), "checksum_mismatch")
        XCTAssertEqual(server.requests(to: "/data/spot/ADAUSDT-1m-2024-01-01.zip").count, 2, "--retries 2 for the archive, all rounds together")
        XCTAssertEqual(filesBeside("ADAUSDT-1m-2024-01-01.zip"), [])
    }

    // MARK: stopping

    func testStopDuringAStallEndsPromptlyKeepsThePartialFileAndTheNextRunResumes() throws {
        let body = Self.archive(500_000)
        let name = "DOGEUSDT-1m-2024-01-01.zip"
        let task = publish(name, body, etag: "doge-v1")
        server.script("/data/spot/" + name, .stall(seconds: 60, after: 100_000))
        let output = CapturedOutput(dir, name: "stopped.ndjson")
        let collector = collector(options(stall: 30), output: output)
        let summary = Locked<CollectSummary?>(nil)
        let tasks = input([task])
        threads.append(WorkerThread(name: "collect") {
            let s = try? collector.run(tasks)
            summary.withLock { $0 = s }
        })

        let partial = try CollectTask(Record(parsing: task), line: 1).partialPath
        waitUntil("100,000 bytes in the partial file") { FileSystem.size(partial) == 100_000 }
        let stopped = MonotonicClock.nanos()
        collector.stop()
        waitUntil(timeout: 5, "the run to end after stop()") { summary.current != nil }
        XCTAssertLessThan(Double(MonotonicClock.nanos() - stopped) / 1e9, 2, "stop() does not wait for the stall")

        let s = try XCTUnwrap(summary.current)
        XCTAssertEqual(s.interrupted, 1)
        XCTAssertEqual(s.failed, 0, "an interrupted task is not a failure")
        let r = try XCTUnwrap(result(try output.records(), name))
        XCTAssertEqual(try r.string("status"), "failed")
        XCTAssertEqual(errorCode(r), "interrupted")
        XCTAssertFalse(FileSystem.exists(dest(name)), "nothing at the final name")
        XCTAssertEqual(FileSystem.size(partial), 100_000, "the partial file is kept")
        XCTAssertNil(try ledger.entry(dest: dest(name)), "an interrupted task leaves the ledger alone")

        // The next run takes up where this one stopped.
        let (again, results) = try collect([task], options())
        XCTAssertEqual(again.ok, 1)
        XCTAssertEqual(try result(results, name)?.bool("verified"), true)
        XCTAssertEqual(try FileSystem.read(dest(name)), body)
        let seen = server.requests(to: "/data/spot/" + name)
        XCTAssertEqual(seen.count, 2)
        XCTAssertEqual(seen.last?.header("range"), "bytes=100000-")
        XCTAssertEqual(seen.last?.header("if-range"), "\"doge-v1\"")
    }

    // MARK: concurrency

    func testNoMoreThanJobsTasksAreInFlight() throws {
        let names = (1...6).map { "PAIR\($0)-1m-2024-01-01.zip" }
        var tasks: [String] = []
        for (i, name) in names.enumerated() {
            tasks.append(publish(name, Self.archive(20_000, seed: i)))
            // Each archive takes at least `hold` seconds: head first, then a pause, then the body.
            server.script("/data/spot/" + name, .stall(seconds: 0.4, after: 0))
        }
        let (summary, results) = try collect(tasks, options(jobs: 2))
        XCTAssertEqual(summary.ok, 6)
        XCTAssertEqual(results.count, 6)

        let hold: UInt64 = 400_000_000
        let archives = server.requests.filter { names.contains(String($0.path.split(separator: "/").last!)) }
        let arrivals = archives.map(\.receivedAt).sorted()
        XCTAssertEqual(arrivals.count, 6)
        // With at most 2 in flight, the k-th archive request can only start after one of the
        // two before it has ended, and each lasts `hold`.
        for k in 2..<arrivals.count {
            XCTAssertGreaterThanOrEqual(arrivals[k], arrivals[k - 2] + hold - 20_000_000,
                                        "request \(k + 1) started while two others were in flight")
        }
        // And two do run at once: the second starts before the first can have ended.
        XCTAssertLessThan(arrivals[1], arrivals[0] + hold / 2, "the two jobs did not run side by side")
        XCTAssertGreaterThanOrEqual(Set(archives.map(\.connection)).count, 2)
    }
}
