import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testStreamingEqualsOneShot() {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let h = SHA256()
        var i = 0
        for size in [1, 63, 64, 65, 1000, 4096] where i < data.count {
            h.update(Array(data[i..<min(i + size, data.count)]))
            i += size
        }
        h.update(Array(data[i...]))
        h.update([]) // empty updates change nothing
        XCTAssertEqual(h.finalizeHex(), SHA256.hex(data))
    }

    func testResetStartsOver() {
        let h = SHA256()
        h.update(Array("garbage".utf8))
        h.reset()
        h.update(Array("abc".utf8))
        XCTAssertEqual(h.finalizeHex(), SHA256.hex(Array("abc".utf8)))
    }

    func testHexOfFile() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let big = [UInt8](repeating: 0x61, count: 300_000) // larger than one read block
        let path = dir.write("f", big)
        XCTAssertEqual(try SHA256.hexOfFile(path), SHA256.hex(big))
        XCTAssertEqual(try SHA256.hexOfFile(dir.write("empty", [UInt8]())), SHA256.hex([]))
        XCTAssertEqual(assertThrows(SystemError.self, try SHA256.hexOfFile(dir.file("missing")))?.code, FailureCode("not_found"))
    }

    func testHex() {
        XCTAssertEqual(Hex.encode([0x00, 0x0f, 0xa0, 0xff]), "000fa0ff")
        XCTAssertEqual(Hex.encode([]), "")
        XCTAssertTrue(Hex.isHex("00ffAAbb", count: 8))
        XCTAssertFalse(Hex.isHex("00ffAAbb", count: 7))
        XCTAssertFalse(Hex.isHex("00ffAAbg", count: 8))
        XCTAssertFalse(Hex.isHex("", count: 1))
    }
}

final class RetryPolicyTests: XCTestCase {
    func testAtLeastOneAttempt() {
        XCTAssertEqual(RetryPolicy(maxAttempts: 0).maxAttempts, 1)
        XCTAssertEqual(RetryPolicy(maxAttempts: -5).maxAttempts, 1)
        XCTAssertEqual(RetryPolicy(maxAttempts: 3).maxAttempts, 3)
    }

    func testDelayDoublesWithJitterAndIsCapped() {
        let p = RetryPolicy(maxAttempts: 10, baseDelay: 0.5, maxDelay: 30)
        for _ in 0..<200 {
            let d1 = p.delay(afterAttempt: 1)
            XCTAssertTrue((0.25...0.5).contains(d1), "\(d1)")
            let d3 = p.delay(afterAttempt: 3)
            XCTAssertTrue((1.0...2.0).contains(d3), "\(d3)")
            let d20 = p.delay(afterAttempt: 20)
            XCTAssertTrue((15.0...30.0).contains(d20), "\(d20)")
            let huge = p.delay(afterAttempt: 10_000)
            XCTAssertTrue((15.0...30.0).contains(huge), "no overflow for many attempts: \(huge)")
        }
    }

    func testDelayIsJittered() {
        let p = RetryPolicy(baseDelay: 1, maxDelay: 100)
        let delays = Set((0..<50).map { _ in p.delay(afterAttempt: 4) })
        XCTAssertGreaterThan(delays.count, 1, "many transfers failing together do not retry in lockstep")
    }

    func testRetryAfterIsHonouredUpToTheCap() {
        let p = RetryPolicy(baseDelay: 0.5, maxDelay: 30)
        XCTAssertEqual(p.delay(afterAttempt: 1, retryAfter: 7), 7)
        XCTAssertEqual(p.delay(afterAttempt: 1, retryAfter: 120), 30)
        let d = p.delay(afterAttempt: 1, retryAfter: 0)
        XCTAssertTrue((0.25...0.5).contains(d), "a shorter Retry-After does not shorten the backoff")
    }

    func testRetryableStatuses() {
        let p = RetryPolicy()
        for s in [500, 502, 503, 504, 408, 429] { XCTAssertTrue(p.isRetryable(status: s), "\(s)") }
        for s in [200, 206, 301, 400, 401, 403, 404, 416] { XCTAssertFalse(p.isRetryable(status: s), "\(s)") }
        XCTAssertTrue(RetryPolicy(retryForbidden: true).isRetryable(status: 403))
        XCTAssertFalse(RetryPolicy(retryForbidden: true).isRetryable(status: 404))
    }

    func testConfigurationFloors() {
        let c = TransferConfiguration(maxConcurrent: 0, maxConnections: 2)
        XCTAssertEqual(c.maxConcurrent, 1)
        XCTAssertEqual(TransferConfiguration(maxConcurrent: 64, maxConnections: 8).maxConnections, 64)
        XCTAssertEqual(TransferConfiguration(maxConcurrent: 4, maxConnections: 100).maxConnections, 100)
    }
}

final class TransferErrorTests: XCTestCase {
    func testCodesAndExitStatuses() {
        XCTAssertEqual(TransferError.http(status: 404, url: "u", detail: "").code, FailureCode("not_found"))
        XCTAssertEqual(TransferError.http(status: 403, url: "u", detail: "").code, FailureCode("forbidden"))
        XCTAssertEqual(TransferError.http(status: 401, url: "u", detail: "").code, FailureCode("unauthorized"))
        XCTAssertEqual(TransferError.http(status: 503, url: "u", detail: "").code, FailureCode("server_error"))
        XCTAssertEqual(TransferError.http(status: 416, url: "u", detail: "").code, FailureCode("http_error"))
        XCTAssertEqual(TransferError.http(status: 500, url: "u", detail: "").exitStatus, .failures)
        // libcurl's codes: 7 couldn't connect, 28 timed out, 18 partial file, 56 recv error, 35 SSL.
        XCTAssertEqual(TransferError.network(curlCode: 7, url: "u", message: "").code, FailureCode("connection_failed"))
        XCTAssertEqual(TransferError.network(curlCode: 28, url: "u", message: "").code, FailureCode("timeout"))
        XCTAssertEqual(TransferError.network(curlCode: 18, url: "u", message: "").code, FailureCode("connection_lost"))
        XCTAssertEqual(TransferError.network(curlCode: 56, url: "u", message: "").code, FailureCode("connection_lost"))
        XCTAssertEqual(TransferError.network(curlCode: 35, url: "u", message: "").code, FailureCode("network_error"))
        XCTAssertEqual(TransferError.network(curlCode: 7, url: "u", message: "").exitStatus, .unavailable)
        XCTAssertEqual(TransferError.sink(url: "u", error: SystemError("write", path: "/f", errno: ENOSPC)).code, FailureCode("disk_full"))
        XCTAssertEqual(TransferError.sink(url: "u", error: BodyTooLargeError(limit: 1)).code, FailureCode("body_too_large"))
        XCTAssertEqual(TransferError.cancelled(url: "u").code, FailureCode("interrupted"))
        XCTAssertEqual(TransferError.setup(url: "u", message: "m").code, FailureCode("transfer_setup_failed"))
        XCTAssertEqual(TransferError.setup(url: "u", message: "m").exitStatus, .failures)
    }

    func testDescriptions() {
        XCTAssertEqual(TransferError.http(status: 404, url: "http://h/k", detail: "NoSuchKey").description, "http://h/k: HTTP 404 (NoSuchKey)")
        XCTAssertEqual(TransferError.http(status: 500, url: "http://h/k", detail: "").description, "http://h/k: HTTP 500")
        XCTAssertEqual(TransferError.cancelled(url: "http://h/k").description, "http://h/k: cancelled")
        XCTAssertEqual(TransferError.setup(url: "http://h/k", message: "curl_easy_setopt(CURLOPT_URL): bad").description,
                       "http://h/k: curl_easy_setopt(CURLOPT_URL): bad")
        XCTAssertEqual(TransferError.setup(url: "", message: "curl_global_init: failed").description, "curl_global_init: failed")
    }
}

final class TransferRetryReportTests: XCTestCase {
    func testARetryNoticeSaysWhatFailedAndWhatComesNext() {
        let notice = RetryNotice(url: "http://h/k", attempt: 2, maxAttempts: 5, delay: 0.25,
                                 error: TransferError.http(status: 503, url: "http://h/k", detail: ""))
        XCTAssertEqual(notice.message, "attempt 2 of 5 failed, retrying in 250 ms: http://h/k: HTTP 503")
        XCTAssertEqual(notice.logFields.map(\.0), ["url", "code", "attempt", "max_attempts", "retry_in_ms"])
        guard case .string("server_error") = notice.logFields[1].1 else { return XCTFail("code") }
    }

    /// Every failed attempt that is tried again is reported (the transfer's own hook wins
    /// over the engine's); the last one, which is not, is the completion's.
    func testEachRetryIsReportedAndTheFinalFailureIsNot() {
        let port = freeLoopbackPort()
        let engine = TransferEngine(TransferConfiguration(maxConcurrent: 2, connectTimeout: 2))
        let notices = Locked([Int]()), engineNotices = Locked(0)
        engine.onRetry = { _ in engineNotices.withLock { $0 += 1 } }
        engine.start()
        let done = BlockingQueue<(Result<TransferResponse, TransferError>, Int)>(capacity: 1)
        let transfer = Transfer(TransferRequest(url: "http://127.0.0.1:\(port)/x", retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.001)),
                                sink: MemorySink()) { done.put(($0, $1)) }
        transfer.onRetry = { n in notices.withLock { $0.append(n.attempt) } }
        engine.submit(transfer)
        let (result, attempts) = done.take()!
        engine.finishWhenIdle()
        engine.wait()
        guard case .failure(let error) = result else { return XCTFail("a refused connection succeeded") }
        XCTAssertEqual(error.code, FailureCode("connection_failed"))
        XCTAssertEqual(attempts, 3)
        XCTAssertEqual(notices.current, [1, 2])
        XCTAssertEqual(engineNotices.current, 0)
    }

    /// After a stop the loop may have ended: a late submission completes at once, cancelled,
    /// instead of waiting for ever.
    func testASubmissionAfterTheLoopEndedIsCancelledAtOnce() {
        let engine = TransferEngine(TransferConfiguration())
        engine.start()
        engine.cancelAll()
        engine.wait()
        let outcome = Locked<(Result<TransferResponse, TransferError>, Int)?>(nil)
        engine.submit(Transfer(TransferRequest(url: "http://127.0.0.1:9/x", retry: RetryPolicy()), sink: MemorySink()) {
            let result = ($0, $1)
            outcome.withLock { $0 = result }
        })
        let seen = outcome.current
        guard case .failure(.cancelled)? = seen?.0 else { return XCTFail("not cancelled at once: \(String(describing: seen))") }
        XCTAssertEqual(seen?.1, 0)
    }

    private func freeLoopbackPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

final class SinkTests: XCTestCase {
    private var dir: TempDir!
    override func setUp() { dir = TempDir() }
    override func tearDown() { dir.remove() }

    private func write(_ sink: TransferSink, _ text: String) throws {
        try Array(text.utf8).withUnsafeBytes { try sink.write($0) }
    }

    private func contents(_ name: String) -> String { String(decoding: dir.read(name), as: UTF8.self) }

    func testFreshDownloadHashesAndCommits() throws {
        let sink = FileSink(path: dir.file(".a.part"), expectedSize: 11)
        XCTAssertEqual(try sink.beginAttempt(), 0)
        try write(sink, "hello ")
        try write(sink, "world")
        XCTAssertEqual(sink.written, 11)
        XCTAssertEqual(sink.resumedBytes, 0)
        XCTAssertEqual(sink.digest(), SHA256.hex(Array("hello world".utf8)))
        try sink.commit(to: dir.file("a"))
        XCTAssertEqual(contents("a"), "hello world")
        XCTAssertFalse(FileSystem.exists(dir.file(".a.part")), "the temporary name is gone after the rename")
    }

    func testResumesAPartialFileFromAnEarlierRun() throws {
        dir.write(".a.part", "hello ")
        let sink = FileSink(path: dir.file(".a.part"), expectedSize: 11)
        XCTAssertEqual(try sink.beginAttempt(), 6, "the download continues at byte 6")
        XCTAssertEqual(sink.resumedBytes, 6)
        try write(sink, "world")
        XCTAssertEqual(sink.written, 11)
        XCTAssertEqual(sink.digest(), SHA256.hex(Array("hello world".utf8)), "the kept bytes are hashed too")
        sink.keepPartial()
        XCTAssertEqual(contents(".a.part"), "hello world")
    }

    func testASecondWriterOfAPartialFileIsTurnedAwayUntilTheFirstLetsGo() throws {
        let first = FileSink(path: dir.file(".a.part"), expectedSize: 11)
        XCTAssertEqual(try first.beginAttempt(), 0)
        try write(first, "hello ")
        let second = FileSink(path: dir.file(".a.part"), expectedSize: 11)
        XCTAssertThrowsError(try second.beginAttempt()) { error in
            XCTAssertEqual((error as? ArcError)?.code, .storeBusy)
        }
        XCTAssertEqual(contents(".a.part"), "hello ", "the busy writer neither truncated nor wrote")
        first.keepPartial()
        XCTAssertEqual(try second.beginAttempt(), 6, "free again: resumed where the first stopped")
    }

    func testResumesWhenTheSizeIsUnknown() throws {
        dir.write(".a.part", "abc")
        let sink = FileSink(path: dir.file(".a.part"), expectedSize: nil)
        XCTAssertEqual(try sink.beginAttempt(), 3)
    }

    func testAPartialFileAsLargeAsTheArchiveStartsOver() throws {
        // Not smaller than the listed size: it cannot be a prefix of it, so it is dropped.
        for stale in ["hello world", "hello world and more"] {
            dir.write(".a.part", stale)
            let sink = FileSink(path: dir.file(".a.part"), expectedSize: 11)
            XCTAssertEqual(try sink.beginAttempt(), 0, stale)
            XCTAssertEqual(sink.resumedBytes, 0)
            try write(sink, "fresh")
            XCTAssertEqual(sink.digest(), SHA256.hex(Array("fresh".utf8)))
            sink.keepPartial()
            XCTAssertEqual(contents(".a.part"), "fresh", "the stale bytes were truncated")
        }
    }

    func testRestartDropsEverythingKeptSoFar() throws {
        dir.write(".a.part", "old ")
        let sink = FileSink(path: dir.file(".a.part"), expectedSize: 100)
        XCTAssertEqual(try sink.beginAttempt(), 4)
        try write(sink, "partial")
        // The server ignored the Range request and sent the whole body: start again at byte 0.
        try sink.restart()
        XCTAssertEqual(sink.written, 0)
        try write(sink, "whole body")
        XCTAssertEqual(sink.digest(), SHA256.hex(Array("whole body".utf8)))
        sink.keepPartial()
        XCTAssertEqual(contents(".a.part"), "whole body")
    }

    func testALaterAttemptContinuesWhereTheLastStopped() throws {
        let sink = FileSink(path: dir.file(".a.part"), expectedSize: 10)
        XCTAssertEqual(try sink.beginAttempt(), 0)
        try write(sink, "01234")
        // The connection was cut; the retry resumes from byte 5.
        XCTAssertEqual(try sink.beginAttempt(), 5)
        XCTAssertEqual(sink.resumedBytes, 5)
        try write(sink, "56789")
        XCTAssertEqual(sink.digest(), SHA256.hex(Array("0123456789".utf8)))
    }

    func testDiscardRemovesTheTemporaryFile() throws {
        let sink = FileSink(path: dir.file(".a.part"), expectedSize: nil)
        _ = try sink.beginAttempt()
        try write(sink, "x")
        sink.discard()
        XCTAssertFalse(FileSystem.exists(dir.file(".a.part")))
    }

    func testUnwritableDirectoryIsASystemError() {
        let sink = FileSink(path: dir.file("missing/.a.part"), expectedSize: nil)
        XCTAssertEqual(assertThrows(SystemError.self, try sink.beginAttempt())?.code, FailureCode("not_found"))
    }

    func testMemorySinkLimitAndAttempts() throws {
        let sink = MemorySink(limit: 8)
        XCTAssertEqual(try sink.beginAttempt(), 0)
        try write(sink, "12345")
        XCTAssertEqual(assertThrows(BodyTooLargeError.self, try write(sink, "6789"))?.code, FailureCode("body_too_large"))
        XCTAssertEqual(try sink.beginAttempt(), 0, "a memory sink never resumes")
        XCTAssertEqual(sink.bytes, [])
        try write(sink, "12345678")
        try sink.restart()
        XCTAssertEqual(sink.bytes, [])
    }
}
