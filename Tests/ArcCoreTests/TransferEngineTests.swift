import CCurl
import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport

/// One transfer's outcome, filled in by its completion on the engine thread.
final class Outcome: @unchecked Sendable { // `box` is the synchronisation
    private let box = Locked<(result: Result<TransferResponse, TransferError>, attempts: Int)?>(nil)
    private let finishedAt = Locked<UInt64>(0)

    var completion: TransferCompletion {
        { result, attempts in
            self.finishedAt.withLock { $0 = MonotonicClock.nanos() }
            self.box.withLock { $0 = (result, attempts) }
        }
    }

    var isDone: Bool { box.current != nil }
    var at: UInt64 { finishedAt.current }

    /// Waits for the completion (polling; never a fixed sleep).
    @discardableResult
    func wait(timeout: Double = 30, file: StaticString = #filePath, line: UInt = #line) -> (result: Result<TransferResponse, TransferError>, attempts: Int)? {
        waitUntil(timeout: timeout, "the transfer's completion", file: file, line: line) { isDone }
        return box.current
    }

    /// The response, failing the test on an error.
    func response(file: StaticString = #filePath, line: UInt = #line) -> TransferResponse? {
        guard let (result, _) = wait(file: file, line: line) else { return nil }
        switch result {
        case .success(let r): return r
        case .failure(let e):
            XCTFail("transfer failed: \(e)", file: file, line: line)
            return nil
        }
    }

    /// The error, failing the test on a success.
    func error(timeout: Double = 30, file: StaticString = #filePath, line: UInt = #line) -> TransferError? {
        guard let (result, _) = wait(timeout: timeout, file: file, line: line) else { return nil }
        if case .failure(let e) = result { return e }
        XCTFail("expected a failure", file: file, line: line)
        return nil
    }

    var attempts: Int { box.current?.attempts ?? 0 }
}

/// TransferEngine against FaultServer: retries, resumes, restarts, stalls, --bwlimit,
/// cancellation and connection reuse, each seen on the wire.
final class TransferEngineTests: XCTestCase {
    private var server: FaultServer!
    private var dir: TempDir!
    private var engines: [TransferEngine] = []

    override func setUpWithError() throws {
        server = try FaultServer()
        dir = TempDir("arc-engine")
    }

    override func tearDown() {
        for e in engines {
            e.cancelAll()
            e.wait()
        }
        engines = []
        server.stop()
        dir.remove()
    }

    private func engine(_ configuration: TransferConfiguration = TransferConfiguration(maxConcurrent: 4, stallTimeout: 10)) -> TransferEngine {
        let e = TransferEngine(configuration)
        e.start()
        engines.append(e)
        return e
    }

    /// Fast retries for tests: many attempts, short waits.
    private let quick = RetryPolicy(maxAttempts: 5, baseDelay: 0.02, maxDelay: 2)

    /// Bytes that differ at every offset, so a misplaced range shows.
    static func bytes(_ count: Int, seed: Int = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761 &+ seed) >> 7) }
    }

    /// Downloads `path` into a FileSink (a `.part` file in the temporary directory).
    private func download(_ path: String, with engine: TransferEngine, retry: RetryPolicy? = nil, ifRange: String? = nil,
                          expectedSize: Int64? = nil) -> (FileSink, Outcome) {
        let sink = FileSink(path: dir.file(String(path.dropFirst()) + ".part"), expectedSize: expectedSize)
        let outcome = Outcome()
        engine.submit(Transfer(TransferRequest(url: server.base + path, ifRange: ifRange, retry: retry ?? quick),
                               sink: sink, completion: outcome.completion))
        return (sink, outcome)
    }

    private func seconds(_ from: UInt64, _ to: UInt64) -> Double { Double(Int64(to) - Int64(from)) / 1e9 }

    // MARK: retries

    func testA5xxIsRetriedWithBackoff() throws {
        let body = Self.bytes(10_000)
        server.serve("/a", body)
        server.script("/a", .status(500), .status(502))
        let retry = RetryPolicy(maxAttempts: 5, baseDelay: 0.2, maxDelay: 5)
        let e = engine()
        let (sink, outcome) = download("/a", with: e, retry: retry)
        let response = try XCTUnwrap(outcome.response())
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(outcome.attempts, 3)
        XCTAssertEqual(e.stats.retries, 2)
        XCTAssertEqual(sink.digest(), SHA256.hex(body))
        let seen = server.requests(to: "/a")
        guard seen.count == 3 else { return XCTFail("\(seen.count) requests, expected 3") }
        // Backoff after attempt n: between half and all of 0.2 * 2^(n-1) seconds.
        XCTAssertGreaterThanOrEqual(seconds(seen[0].receivedAt, seen[1].receivedAt), 0.09, "no backoff after the first 5xx")
        XCTAssertGreaterThanOrEqual(seconds(seen[1].receivedAt, seen[2].receivedAt), 0.19, "the backoff did not grow")
    }

    func testRetriesEndAfterMaxAttemptsAndA404IsNotRetried() throws {
        server.serve("/down", Self.bytes(10))
        server.script("/down", .status(503), .status(503), .status(503))
        let e = engine()
        let (_, down) = download("/down", with: e, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.01))
        XCTAssertEqual(down.error()?.code, FailureCode("server_error"))
        XCTAssertEqual(down.attempts, 2)
        XCTAssertEqual(server.requests(to: "/down").count, 2)

        let (_, missing) = download("/missing", with: e)
        XCTAssertEqual(missing.error()?.code, FailureCode("not_found"))
        XCTAssertEqual(missing.attempts, 1)
        XCTAssertEqual(server.requests(to: "/missing").count, 1)
    }

    func testRetryAfterIsHonoured() throws {
        server.serve("/busy", Self.bytes(1000))
        server.script("/busy", .status(503, retryAfter: 1))
        let e = engine()
        let (_, outcome) = download("/busy", with: e, retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 5))
        XCTAssertNotNil(outcome.response())
        let seen = server.requests(to: "/busy")
        guard seen.count == 2 else { return XCTFail("\(seen.count) requests, expected 2") }
        XCTAssertGreaterThanOrEqual(seconds(seen[0].receivedAt, seen[1].receivedAt), 0.95, "Retry-After: 1 was not waited for")
    }

    func testAnOutagePageIsForbiddenUnlessToldToRetryIt() throws {
        server.serve("/x", Self.bytes(100))
        server.script("/x", .outagePage, .outagePage)
        let e = engine()
        let (_, refused) = download("/x", with: e)
        XCTAssertEqual(refused.error()?.code, FailureCode("forbidden"))
        XCTAssertEqual(refused.attempts, 1)

        let (sink, retried) = download("/x", with: e, retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01, retryForbidden: true))
        XCTAssertNotNil(retried.response())
        XCTAssertEqual(retried.attempts, 2)
        XCTAssertEqual(sink.written, 100, "the HTML page is not part of the body")
    }

    func testConnectionResetsAreRetried() throws {
        let body = Self.bytes(50_000)
        server.serve("/r", body)
        server.script("/r", .resetBeforeHeaders, .resetAfterHeaders)
        let e = engine()
        let (sink, outcome) = download("/r", with: e)
        XCTAssertNotNil(outcome.response())
        XCTAssertEqual(outcome.attempts, 3)
        XCTAssertEqual(sink.digest(), SHA256.hex(body))

        // Twice: libcurl itself tries again, once, when a reused connection dies unanswered.
        server.serve("/r2", body)
        server.script("/r2", .resetBeforeHeaders, .resetBeforeHeaders)
        let (_, lost) = download("/r2", with: e, retry: RetryPolicy(maxAttempts: 1))
        XCTAssertEqual(lost.error()?.code, FailureCode("connection_lost"))
    }

    // MARK: resuming

    func testACutBodyResumesWithRangeAndIfRange() throws {
        let body = Self.bytes(1_000_000)
        server.serve("/big", body, etag: "abc")
        server.script("/big", .cutBody(after: 300_000))
        let e = engine()
        let (sink, outcome) = download("/big", with: e, ifRange: "abc", expectedSize: 1_000_000)
        let response = try XCTUnwrap(outcome.response())
        XCTAssertEqual(response.status, 206)
        XCTAssertEqual(outcome.attempts, 2)
        let seen = server.requests(to: "/big")
        guard seen.count == 2 else { return XCTFail("\(seen.count) requests, expected 2") }
        XCTAssertNil(seen[0].header("range"))
        XCTAssertEqual(seen[1].header("Range"), "bytes=300000-")
        XCTAssertEqual(seen[1].header("If-Range"), "\"abc\"")
        XCTAssertEqual(sink.resumedBytes, 300_000, "the bytes that came were kept")
        XCTAssertEqual(response.bytesReceived, 1_000_000, "nothing was fetched twice")
        XCTAssertEqual(sink.digest(), SHA256.hex(body))
        sink.keepPartial()
        XCTAssertEqual(dir.read("big.part"), body)
    }

    func testAServerIgnoringRangeRestartsFromZero() throws {
        let body = Self.bytes(500_000)
        server.serve("/big", body)
        server.script("/big", .cutBody(after: 200_000), .ignoreRange)
        let e = engine()
        let (sink, outcome) = download("/big", with: e)
        XCTAssertEqual(outcome.response()?.status, 200)
        let seen = server.requests(to: "/big")
        guard seen.count == 2 else { return XCTFail("\(seen.count) requests, expected 2") }
        XCTAssertEqual(seen[1].header("range"), "bytes=200000-", "it asked for the rest")
        XCTAssertEqual(sink.digest(), SHA256.hex(body), "the whole body replaced the kept bytes")
        sink.keepPartial()
        XCTAssertEqual(dir.read("big.part"), body)
    }

    func testAChangedEntityRestartsFromZero() throws {
        let old = Self.bytes(400_000), new = Self.bytes(300_000, seed: 99)
        server.serve("/obj", old, etag: "v1")
        server.script("/obj", .cutBodyThenChange(after: 100_000, body: new, etag: "v2"))
        let e = engine()
        let (sink, outcome) = download("/obj", with: e, ifRange: "v1")
        XCTAssertEqual(outcome.response()?.status, 200)
        XCTAssertEqual(outcome.response()?.headers.etag, "\"v2\"")
        let seen = server.requests(to: "/obj")
        guard seen.count == 2 else { return XCTFail("\(seen.count) requests, expected 2") }
        XCTAssertEqual(seen[1].header("range"), "bytes=100000-")
        XCTAssertEqual(seen[1].header("if-range"), "\"v1\"")
        sink.keepPartial()
        XCTAssertEqual(dir.read("obj.part"), new, "no bytes of the old entity are left")
    }

    func testAWrongContentRangeStartsOver() throws {
        let body = Self.bytes(500_000)
        server.serve("/big", body)
        server.script("/big", .cutBody(after: 200_000), .wrongRangeStart(by: 1000))
        let e = engine()
        let (sink, outcome) = download("/big", with: e)
        XCTAssertEqual(outcome.response()?.status, 200)
        let seen = server.requests(to: "/big")
        guard seen.count == 3 else { return XCTFail("\(seen.count) requests, expected 3") }
        XCTAssertEqual(seen[1].header("range"), "bytes=200000-")
        XCTAssertNil(seen[2].header("range"), "after a range it cannot trust, it starts from byte 0")
        XCTAssertEqual(sink.digest(), SHA256.hex(body))
        sink.keepPartial()
        XCTAssertEqual(dir.read("big.part"), body)
    }

    func testAFlippedByteArrivesAsSent() throws {
        var body = Self.bytes(100_000)
        server.serve("/f", body)
        server.script("/f", .flipByte(at: 54_321))
        let e = engine()
        let (sink, outcome) = download("/f", with: e)
        XCTAssertNotNil(outcome.response())
        XCTAssertNotEqual(sink.digest(), SHA256.hex(body), "the engine cannot know; the caller's checksum catches it")
        sink.keepPartial()
        body[54_321] ^= 0xff
        XCTAssertEqual(dir.read("f.part"), body)
    }

    // MARK: stalls and speed

    func testAStallIsCutByTheStallTimeoutThenResumed() throws {
        let body = Self.bytes(400_000)
        server.serve("/s", body)
        server.script("/s", .stall(seconds: 60, after: 100_000))
        let e = engine(TransferConfiguration(maxConcurrent: 2, stallTimeout: 1))
        let started = MonotonicClock.nanos()
        let (sink, outcome) = download("/s", with: e)
        XCTAssertNotNil(outcome.response())
        XCTAssertEqual(outcome.attempts, 2)
        // libcurl measures speed over its last 5 s: after a burst, a stall shows that much later.
        XCTAssertLessThan(seconds(started, outcome.at), 15, "the stall was waited out, not cut")
        let seen = server.requests(to: "/s")
        guard seen.count == 2 else { return XCTFail("\(seen.count) requests, expected 2") }
        XCTAssertEqual(seen[1].header("range"), "bytes=100000-")
        XCTAssertEqual(sink.digest(), SHA256.hex(body))
    }

    func testASlowBodyIsNotAStall() throws {
        let body = Self.bytes(60_000)
        server.serve("/slow", body)
        server.script("/slow", .slowBody(bytesPerSecond: 30_000))
        let e = engine(TransferConfiguration(maxConcurrent: 2, stallTimeout: 1))
        let (sink, outcome) = download("/slow", with: e)
        XCTAssertNotNil(outcome.response())
        XCTAssertEqual(outcome.attempts, 1, "bytes kept coming: no stall")
        XCTAssertEqual(sink.digest(), SHA256.hex(body))
    }

    func testTheBandwidthLimitIsRoughlyRespected() throws {
        let limit = 1_000_000
        let e = engine(TransferConfiguration(maxConcurrent: 4, stallTimeout: 10, bandwidthLimit: Int64(limit)))
        var all: [(FileSink, Outcome, [UInt8])] = []
        let started = MonotonicClock.nanos()
        for i in 0..<4 {
            let body = Self.bytes(500_000, seed: i)
            server.serve("/bw\(i)", body)
            let (sink, outcome) = download("/bw\(i)", with: e)
            all.append((sink, outcome, body))
        }
        for (sink, outcome, body) in all {
            XCTAssertNotNil(outcome.response())
            XCTAssertEqual(sink.digest(), SHA256.hex(body))
        }
        let elapsed = seconds(started, all.map { $0.1.at }.max()!)
        // 2 MB at 1 MB/s: about 2 s. Loose: a burst of a chunk per transfer is allowed, and
        // a slow machine may take longer, but not ten times longer.
        XCTAssertGreaterThan(elapsed, 1.2, "2 MB took \(elapsed) s: faster than the limit")
        XCTAssertLessThan(elapsed, 10, "2 MB took \(elapsed) s")
    }

    // MARK: cancellation and many transfers

    func testCancelAllEndsEverythingPromptly() throws {
        let e = engine(TransferConfiguration(maxConcurrent: 4, stallTimeout: 30))
        server.serve("/retry", Self.bytes(100))
        server.script("/retry", .status(503, retryAfter: 30))
        var outcomes = [download("/retry", with: e, retry: RetryPolicy(maxAttempts: 5, baseDelay: 0.01, maxDelay: 60)).1]
        for i in 0..<8 {
            server.serve("/slow\(i)", Self.bytes(100_000))
            server.script("/slow\(i)", .slowBody(bytesPerSecond: 2000))
            outcomes.append(download("/slow\(i)", with: e).1)
        }
        // The 503 answered (that transfer now waits 30 s to retry), four slow bodies flowing, four queued.
        waitUntil("the first requests") { server.requests.count >= 5 }
        let cancelled = MonotonicClock.nanos()
        e.cancelAll()
        for outcome in outcomes {
            XCTAssertEqual(outcome.error(timeout: 5)?.code, FailureCode("interrupted"))
            XCTAssertLessThan(seconds(cancelled, outcome.at), 2, "a transfer ended late")
        }
        e.wait() // the loop ends: cancelAll also finishes the engine
        XCTAssertEqual(server.requests.count, 5, "nothing started after the cancel")
    }

    /// Work handed back to the loop after a stop ended it (a part's CRC computed on another
    /// thread) still runs, one at a time, or the job waiting for it never ends (s3x hung
    /// after Ctrl-C once); work it submits in turn is queued, not a deadlock.
    func testWorkSubmittedAfterTheLoopEndedStillRunsInOrder() throws {
        let e = engine()
        e.cancelAll()
        e.wait()
        let ran = Locked<[Int]>([])
        e.submitOnLoop {
            ran.withLock { $0.append(1) }
            e.submitOnLoop { ran.withLock { $0.append(3) } }
            ran.withLock { $0.append(2) }
        }
        XCTAssertEqual(ran.withLock { $0 }, [1, 2, 3])
        // A transfer submitted from such work completes at once, cancelled, as any after the loop.
        let outcome = Outcome()
        e.submitOnLoop { [server, quick] in
            e.submit(Transfer(TransferRequest(url: server.base + "/none", retry: quick), sink: MemorySink(limit: 10),
                              completion: outcome.completion))
        }
        XCTAssertEqual(outcome.error(timeout: 1)?.code, FailureCode("interrupted"))
    }

    func testManyConcurrentTransfersReuseConnections() throws {
        let count = 200
        for i in 0..<count { server.serve("/m\(i)", Self.bytes(5000 + i, seed: i)) }
        let e = engine(TransferConfiguration(maxConcurrent: 8, stallTimeout: 10))
        var sinks: [(MemorySink, Outcome)] = []
        for i in 0..<count {
            let sink = MemorySink()
            let outcome = Outcome()
            e.submit(Transfer(TransferRequest(url: server.base + "/m\(i)", retry: quick), sink: sink, completion: outcome.completion))
            sinks.append((sink, outcome))
        }
        for (i, (sink, outcome)) in sinks.enumerated() {
            XCTAssertNotNil(outcome.response())
            XCTAssertEqual(sink.bytes, Self.bytes(5000 + i, seed: i), "transfer \(i)")
        }
        XCTAssertEqual(server.requests.count, count)
        XCTAssertLessThanOrEqual(server.connections, 16, "\(server.connections) connections for \(count) requests: not reused")
        XCTAssertEqual(e.stats.bytesReceived, Int64((0..<count).reduce(0) { $0 + 5000 + $1 }))
    }

    // MARK: requests a second per host (HostThrottle, on the engine thread)

    func testTheRatePerHostSpacesRequestsAcrossConcurrentTransfers() throws {
        let count = 8
        for i in 0..<count { server.serve("/r\(i)", Self.bytes(100, seed: i)) }
        var configuration = TransferConfiguration(maxConcurrent: 8, stallTimeout: 10)
        configuration.hostRates = HostRateLimits(everyHost: 20)
        let e = engine(configuration)
        let outcomes = (0..<count).map { i -> Outcome in
            let outcome = Outcome()
            e.submit(Transfer(TransferRequest(url: server.base + "/r\(i)", retry: quick), sink: MemorySink(),
                              completion: outcome.completion))
            return outcome
        }
        for outcome in outcomes { XCTAssertNotNil(outcome.response()) }
        let times = server.requests.map(\.receivedAt).sorted()
        XCTAssertEqual(times.count, count)
        // One token a 1/20 s: no two requests start closer than that (less the clock's slack).
        for (a, b) in zip(times, times.dropFirst()) {
            XCTAssertGreaterThanOrEqual(seconds(a, b), 0.04, "two requests 1/20 s apart at most")
        }
    }

    func testABanFromALimitedHostIsWaitedOutNotReportedMissing() throws {
        server.serve("/b0", Self.bytes(100))
        server.serve("/b1", Self.bytes(200))
        server.script("/b1", .status(403), .status(403))
        var configuration = TransferConfiguration(maxConcurrent: 2, stallTimeout: 10)
        configuration.hostRates = HostRateLimits(everyHost: 50, banBackoff: 0.05)
        let e = engine(configuration)
        let first = Outcome()
        e.submit(Transfer(TransferRequest(url: server.base + "/b0", retry: quick), sink: MemorySink(), completion: first.completion))
        XCTAssertNotNil(first.response())
        // The host has answered: its 403s now are a ban, waited out (and not counted as attempts).
        let sink = MemorySink()
        let banned = Outcome()
        e.submit(Transfer(TransferRequest(url: server.base + "/b1", retry: RetryPolicy(maxAttempts: 1)), sink: sink,
                          completion: banned.completion))
        XCTAssertEqual(try XCTUnwrap(banned.response()).status, 200)
        XCTAssertEqual(sink.bytes, Self.bytes(200))
        let seen = server.requests(to: "/b1")
        XCTAssertEqual(seen.count, 3)
        if seen.count == 3 {
            XCTAssertGreaterThanOrEqual(seconds(seen[0].receivedAt, seen[1].receivedAt), 0.04, "the first ban was not waited out")
            XCTAssertGreaterThanOrEqual(seconds(seen[1].receivedAt, seen[2].receivedAt), 0.09, "the wait did not double")
        }
    }

    // MARK: ranges into one file (RangeSink's writer threads)

    func testRangesDownloadInParallelIntoOneFile() throws {
        let body = Self.bytes((3 << 20) + 12_345)
        server.serve("/obj", body)
        let path = dir.file("obj")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let e = engine()
        let cuts = [0, 1 << 20, (2 << 20) + 7, body.count]
        var parts: [(RangeSink, Outcome, Range<Int>)] = []
        for i in 0..<3 {
            let range = cuts[i]..<cuts[i + 1]
            let sink = RangeSink(fd: fd, path: path, offset: Int64(range.lowerBound))
            let outcome = Outcome()
            let request = TransferRequest(url: server.base + "/obj", headers: ["Range: bytes=\(range.lowerBound)-\(range.upperBound - 1)"], retry: quick)
            e.submit(Transfer(request, sink: sink, completion: outcome.completion))
            parts.append((sink, outcome, range))
        }
        for (sink, outcome, range) in parts {
            XCTAssertEqual(outcome.response()?.status, 206)
            try sink.finishWrites()
            XCTAssertEqual(sink.digest(), MD5.digest(Array(body[range])), "part at \(range.lowerBound)")
        }
        XCTAssertEqual(dir.read("obj"), body)
    }

    func testAFailedRangeWriteIsReported() throws {
        server.serve("/obj", Self.bytes(4 << 20))
        let path = dir.write("readonly", [UInt8]())
        let fd = open(path, O_RDONLY | O_CLOEXEC) // pwrite fails: EBADF
        defer { close(fd) }
        let sink = RangeSink(fd: fd, path: path, offset: 0)
        let outcome = Outcome()
        engine().submit(Transfer(TransferRequest(url: server.base + "/obj", retry: quick), sink: sink, completion: outcome.completion))
        let result = try XCTUnwrap(outcome.wait()?.result)
        // The writer thread's failure shows in a later write (the transfer fails) or at the end.
        var reported: Error?
        if case .failure(let error) = result { reported = error } else {
            do { try sink.finishWrites() } catch { reported = error }
        }
        XCTAssertTrue(reported.map { "\($0)".contains("write") } ?? false, String(describing: reported))
    }

    // MARK: libcurl refusing an option

    func testARefusedOptionIsASetupErrorAndTheEngineGoesOn() throws {
        server.serve("/ok", Self.bytes(1000))
        let e = engine(TransferConfiguration(maxConcurrent: 1, stallTimeout: 10))
        // libcurl refuses strings over 8 MB (CURL_MAX_INPUT_LENGTH).
        let refused = Outcome()
        e.submit(Transfer(TransferRequest(url: server.base + "/" + String(repeating: "x", count: 9_000_000), retry: quick),
                          sink: MemorySink(), completion: refused.completion))
        let error = try XCTUnwrap(refused.error())
        XCTAssertEqual(error.code, FailureCode("transfer_setup_failed"))
        XCTAssertEqual(error.exitStatus, .failures)
        XCTAssertTrue(error.description.contains("CURLOPT_URL"), String(error.description.suffix(200)))
        XCTAssertEqual(refused.attempts, 1, "not retried: it would fail the same way")
        let (_, fine) = download("/ok", with: e)
        XCTAssertNotNil(fine.response(), "the handle went back to the pool in working order")
    }

    func testCurlEasyThrowsOnARefusedOption() throws {
        let easy = try CurlEasy()
        XCTAssertNoThrow(try easy.set(CURLOPT_MAXREDIRS, 5))
        let e = assertThrows(TransferError.self, try easy.set(CURLOPT_MAXREDIRS, -5))
        XCTAssertEqual(e?.code, FailureCode("transfer_setup_failed"))
        XCTAssertTrue(e?.description.contains("curl_easy_setopt(CURLOPT_MAXREDIRS)") ?? false, e?.description ?? "")
    }
}

/// SimpleHTTP against FaultServer: status, headers, the body and its limit, failures.
final class SimpleHTTPTests: XCTestCase {
    private var server: FaultServer!

    override func setUpWithError() throws { server = try FaultServer() }
    override func tearDown() { server.stop() }

    func testStatusHeadersAndBody() throws {
        server.serve("/doc", "hello", contentType: "text/plain", headers: ["X-Custom:  yes  "])
        let got = try SimpleHTTP.request(server.base + "/doc?x=1", headers: ["X-Hello: there"])
        XCTAssertEqual(got.status, 200)
        XCTAssertEqual(got.text, "hello")
        XCTAssertEqual(got.header("Content-Type"), "text/plain")
        XCTAssertEqual(got.header("x-custom"), "yes", "values trimmed")
        XCTAssertNotNil(got.header("etag"))
        XCTAssertTrue(got.headers.allSatisfy { $0.name == $0.name.lowercased() })
        let sent = try XCTUnwrap(server.requests.last)
        XCTAssertEqual(sent.method, "GET")
        XCTAssertEqual(sent.path, "/doc")
        XCTAssertEqual(sent.query, "x=1")
        XCTAssertEqual(sent.header("x-hello"), "there")
        XCTAssertNil(sent.header("expect"))

        let head = try SimpleHTTP.request(server.base + "/doc", method: "HEAD")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, [])
        XCTAssertEqual(head.header("content-length"), "5")
    }

    func testBodiesAreSentAsGiven() throws {
        let put = try SimpleHTTP.request(server.base + "/stored", method: "PUT", body: Array("pay\u{0}load".utf8))
        XCTAssertEqual(put.status, 200)
        var sent = try XCTUnwrap(server.requests.last)
        XCTAssertEqual(sent.method, "PUT")
        XCTAssertEqual(sent.body, Array("pay\u{0}load".utf8), "a NUL is data")
        XCTAssertNil(sent.header("content-type"), "no form Content-Type slipped in")
        XCTAssertNil(sent.header("expect"))
        XCTAssertEqual(server.body("/stored"), Array("pay\u{0}load".utf8))

        _ = try SimpleHTTP.request(server.base + "/token", method: "PUT")
        sent = try XCTUnwrap(server.requests.last)
        XCTAssertEqual(sent.header("content-length"), "0", "a PUT without a body says so")

        _ = try SimpleHTTP.request(server.base + "/stored", method: "POST", headers: ["Content-Type: application/json"], body: Array("{}".utf8))
        sent = try XCTUnwrap(server.requests.last)
        XCTAssertEqual(sent.method, "POST")
        XCTAssertEqual(sent.header("content-type"), "application/json")
        XCTAssertEqual(sent.body, Array("{}".utf8))
    }

    func testErrorStatusesAreResponsesNotRetried() throws {
        let missing = try SimpleHTTP.request(server.base + "/nothing")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.text, "not here\n")

        server.serve("/busy", "x")
        server.script("/busy", .status(503, retryAfter: 7))
        let busy = try SimpleHTTP.request(server.base + "/busy")
        XCTAssertEqual(busy.status, 503)
        XCTAssertEqual(busy.header("retry-after"), "7")
        XCTAssertEqual(server.requests(to: "/busy").count, 1, "one request, no retries")
    }

    func testTheBodyLimit() throws {
        server.serve("/big", TransferEngineTests.bytes(100_000))
        XCTAssertEqual(try SimpleHTTP.request(server.base + "/big", maxBody: 100_000).body.count, 100_000)
        let e = assertThrows(TransferError.self, try SimpleHTTP.request(server.base + "/big", maxBody: 99_999))
        XCTAssertTrue(e?.description.contains("larger than 99999 bytes") ?? false, e?.description ?? "")
    }

    func testResetsAndStallsAreNetworkErrors() throws {
        server.serve("/x", "body")
        server.script("/x", .resetBeforeHeaders)
        XCTAssertEqual(assertThrows(TransferError.self, try SimpleHTTP.request(server.base + "/x"))?.code, FailureCode("connection_lost"))

        server.script("/x", .stall(seconds: 30))
        let started = MonotonicClock.nanos()
        XCTAssertEqual(assertThrows(TransferError.self, try SimpleHTTP.request(server.base + "/x", timeout: 0.5))?.code, FailureCode("timeout"))
        XCTAssertLessThan(MonotonicClock.nanos() - started, 5_000_000_000)
    }
}
