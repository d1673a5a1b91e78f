import XCTest
@testable import ArcCore
import ArcTestSupport

/// S3ObjectSource and S3MultipartSink against FaultServer: an object read as a stream (a
/// slow reader pauses the transfer; a cut connection resumes from where it was), and one
/// written as a stream of parts (committed whole, or aborted leaving nothing).
final class S3StreamTests: XCTestCase {
    var server: FaultServer!
    var engine: TransferEngine!
    var client: S3Client!

    override func setUpWithError() throws {
        server = try FaultServer()
        engine = TransferEngine(TransferConfiguration(maxConcurrent: 4, connectTimeout: 2, stallTimeout: 5))
        engine.start()
        client = S3Client(engine: engine, endpoint: try S3Endpoint(url: server.base, region: "us-east-1", style: .path),
                          credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret"),
                          region: "us-east-1", retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.02, maxDelay: 1))
    }

    override func tearDown() {
        engine.cancelAll()
        engine.wait()
        server.stop()
    }

    static func bytes(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) } }

    func readAll(_ source: ByteSource, chunk: Int, pause: Bool = false) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { return out }
            out += buffer[0..<n]
            if pause && out.count % (1 << 20) < chunk { usleep(2_000) }
        }
    }

    func testAnObjectReadsWholeThroughASmallBufferAndASlowReader() throws {
        let body = Self.bytes(6 << 20)
        server.serve("/bucket/a/b.zip", body)
        // A 256 KB limit: the transfer pauses again and again while the reader lags.
        let source = S3ObjectSource(client: client, url: S3URL(bucket: "bucket", key: "a/b.zip"), limit: 256 << 10)
        XCTAssertEqual(try readAll(source, chunk: 7_001, pause: true), body)
    }

    func testACutConnectionResumesWhereItStopped() throws {
        let body = Self.bytes(3 << 20)
        server.serve("/bucket/cut.zip", body)
        server.script("/bucket/cut.zip", .cutBody(after: 1_000_000))
        let source = S3ObjectSource(client: client, url: S3URL(bucket: "bucket", key: "cut.zip"))
        XCTAssertEqual(try readAll(source, chunk: 65_536), body)
        let ranges = server.requests(to: "/bucket/cut.zip").compactMap { $0.header("range") }
        XCTAssertEqual(ranges, ["bytes=1000000-"])
    }

    func testAMissingObjectIsAnErrorFromRead() throws {
        let source = S3ObjectSource(client: client, url: S3URL(bucket: "bucket", key: "nothing.zip"))
        XCTAssertThrowsError(try readAll(source, chunk: 1024)) { error in
            XCTAssertEqual((error as? ArcError)?.code, .notFound, "\(error)")
        }
    }

    func testAReaderThatStopsEarlyLetsTheTransferGo() throws {
        server.serve("/bucket/big.zip", Self.bytes(8 << 20))
        var source: S3ObjectSource? = S3ObjectSource(client: client, url: S3URL(bucket: "bucket", key: "big.zip"), limit: 64 << 10)
        var buffer = [UInt8](repeating: 0, count: 1000)
        XCTAssertEqual(try buffer.withUnsafeMutableBytes { try source!.read(into: $0) } > 0, true)
        source = nil
        // The paused transfer is cancelled by its sink: the engine goes idle.
        engine.finishWhenIdle()
        engine.wait()
    }

    func testPartsAreUploadedAsTheyFillAndCommittedWhole() throws {
        let body = Self.bytes(12 << 20 + 12_345)
        let sink = S3MultipartSink(client: client, url: S3URL(bucket: "bucket", key: "out/file.parquet"), partSize: 5 << 20)
        var offset = 0
        while offset < body.count {
            let n = min(999_983, body.count - offset)
            try body[offset..<offset + n].withUnsafeBytes { try sink.write($0) }
            offset += n
        }
        XCTAssertNil(server.body("/bucket/out/file.parquet"), "nothing before commit")
        XCTAssertEqual(server.uploadsInProgress.count, 1, "the upload began before the end")
        try sink.commit()
        XCTAssertEqual(server.body("/bucket/out/file.parquet"), body)
        XCTAssertTrue(server.uploadsInProgress.isEmpty)
    }

    func testASmallObjectIsOnePut() throws {
        let sink = S3MultipartSink(client: client, url: S3URL(bucket: "bucket", key: "small"))
        try sink.write(Array("tiny".utf8))
        try sink.commit()
        XCTAssertEqual(server.body("/bucket/small"), Array("tiny".utf8))
        XCTAssertEqual(server.requests.filter { $0.method == "POST" }.count, 0)
    }

    func testAbortLeavesNothing() throws {
        let sink = S3MultipartSink(client: client, url: S3URL(bucket: "bucket", key: "gone"), partSize: 5 << 20)
        try sink.write(Self.bytes(11 << 20))
        XCTAssertFalse(server.uploadsInProgress.isEmpty)
        sink.abort()
        XCTAssertTrue(server.uploadsInProgress.isEmpty)
        XCTAssertNil(server.body("/bucket/gone"))
    }

    func testAFailedPartFailsTheCommitAndAbortsTheUpload() throws {
        // CreateMultipartUpload passes, the first part is refused; the abort goes through.
        server.script("/bucket/bad", .pass, .status(400))
        let sink = S3MultipartSink(client: client, url: S3URL(bucket: "bucket", key: "bad"), partSize: 5 << 20)
        do {
            try sink.write(Self.bytes(6 << 20))
            try sink.commit()
            XCTFail("the commit should fail")
        } catch {}
        XCTAssertTrue(server.uploadsInProgress.isEmpty)
        XCTAssertNil(server.body("/bucket/bad"))
    }
}
