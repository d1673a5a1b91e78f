import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcS3x

/// Mover (s3x's engine) against FaultServer speaking the S3 calls it makes: downloads
/// resumed and checked against the ETag, ranged downloads of multipart objects, single and
/// multipart uploads verified part by part, a multipart upload resumed, -n and -s
/// decisions, and cancel(). Each Mover runs on a context of its own: a client on a fresh
/// engine pointed at the server, events captured as JSON records.
final class MoverTests: XCTestCase {
    private var server: FaultServer!
    private var dir: TempDir!
    private var log: CapturedLog!
    private var engines: [TransferEngine] = []
    private var threads: [WorkerThread] = []
    private var outputs = 0

    override func setUpWithError() throws {
        server = try FaultServer()
        dir = TempDir("arc-mover")
        log = CapturedLog(dir)
        for sub in ["up", "down"] { try FileSystem.makeDirectories(dir.file(sub)) }
    }

    override func tearDown() {
        for e in engines { e.cancelAll() }
        server.stop()
        for t in threads { t.join() }
        for e in engines { e.wait() }
        engines = []
        threads = []
        dir.remove()
    }

    // MARK: helpers

    static let mib = 1 << 20

    /// Bytes that differ at every offset, so a misplaced range shows.
    static func bytes(_ count: Int, seed: Int = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761 &+ seed) >> 7) }
    }

    /// A Mover on a context of its own (a signed client on a fresh engine, pointed at the
    /// server), and the capture of its events.
    private func mover(_ options: MoveOptions = MoveOptions(), workers: Int = 4) throws -> (Mover, CapturedOutput) {
        let engine = TransferEngine(TransferConfiguration(maxConcurrent: workers * 2, maxConnections: workers * 2 + 8,
                                                          stallTimeout: 30))
        engine.start()
        engines.append(engine)
        let client = S3Client(engine: engine, endpoint: try S3Endpoint(url: server.base, region: "us-east-1", style: .path),
                              credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret"),
                              region: "us-east-1", retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.02, maxDelay: 1))
        outputs += 1
        let output = CapturedOutput(dir, name: "events-\(outputs).ndjson")
        let context = S3xContext(parsed: ParsedCommand(path: ["s3x", "cp"], spec: S3xCommand.spec), log: log.logger,
                                 telemetry: .off(tool: "s3x", log: log.logger), engine: engine, client: client,
                                 output: EventOutput(json: true, quiet: true, log: log.logger, stream: output.stream),
                                 numWorkers: workers, region: "us-east-1")
        return (Mover(context: context, options: options), output)
    }

    private func errorCode(_ r: Record) -> String? {
        try? r.string("error_code")
    }

    private func single(_ output: CapturedOutput, file: StaticString = #filePath, line: UInt = #line) throws -> Record {
        let events = try output.records()
        XCTAssertEqual(events.count, 1, "\(events.map(\.text))", file: file, line: line)
        return try XCTUnwrap(events.first, file: file, line: line)
    }

    private func object(_ path: String, etag: String? = nil, size: Int) -> StoredObject {
        StoredObject(relative: FileSystem.baseName(of: path), size: Int64(size), mtime: 1_700_000_000, etag: etag ?? "")
    }

    /// Part numbers of the UploadPart requests among `requests`.
    private func partNumbers(_ requests: [FaultServer.Request]) -> [Int] {
        requests.filter { $0.method == "PUT" && $0.query.contains("uploadId=") }
            .compactMap { FaultServer.queryItems($0.query)["partNumber"].flatMap { Int($0) } }
    }

    // MARK: downloads

    func testADownloadCutShortIsResumedWithRangeAndVerifiedByItsETag() throws {
        let body = Self.bytes(600_000)
        let md5 = MD5.digestHex(body)
        server.serve("/lake/2024/a.bin", body, etag: md5)
        server.script("/lake/2024/a.bin", .cutBody(after: 200_000))
        let (mover, output) = try mover()
        let path = dir.file("out/2024/a.bin")
        mover.download(S3URL(bucket: "lake", key: "2024/a.bin"), entry: object("a.bin", etag: md5, size: body.count), to: path)
        mover.close()

        let event = try single(output)
        XCTAssertEqual(try event.string("status"), "ok")
        XCTAssertEqual(try event.string("etag"), md5)
        XCTAssertEqual(try event.int("size"), Int64(body.count))
        XCTAssertEqual(try FileSystem.read(path), body)
        XCTAssertFalse(FileSystem.exists(Mover.partialPath(path)), "the partial file became the file")
        let seen = server.requests(to: "/lake/2024/a.bin")
        guard seen.count == 2 else { return XCTFail("\(seen.count) requests, expected 2") }
        XCTAssertEqual(seen[1].header("range"), "bytes=200000-")
        XCTAssertEqual(seen[1].header("if-range"), "\"\(md5)\"")
        XCTAssertTrue(seen.allSatisfy { $0.header("authorization")?.hasPrefix("AWS4-HMAC-SHA256 ") == true }, "each attempt signed")
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        XCTAssertEqual(st.st_mtim.tv_sec, 1_700_000_000, "the object's time (no Last-Modified: the listing's)")
    }

    func testADownloadThatDoesNotMatchItsETagFailsAndLeavesNothing() throws {
        let body = Self.bytes(100_000)
        let md5 = MD5.digestHex(body)
        server.serve("/lake/b.bin", body, etag: md5)
        server.script("/lake/b.bin", .flipByte(at: 4242))
        let (mover, output) = try mover()
        let path = dir.file("out/b.bin")
        mover.download(S3URL(bucket: "lake", key: "b.bin"), entry: object("b.bin", etag: md5, size: body.count), to: path)
        mover.close()

        let event = try single(output)
        XCTAssertEqual(try event.string("status"), "failed")
        XCTAssertEqual(errorCode(event), "checksum_mismatch")
        XCTAssertFalse(FileSystem.exists(path))
        XCTAssertFalse(FileSystem.exists(Mover.partialPath(path)))
    }

    /// Seeds a multipart object through the client: parts of `sizes`, completed.
    private func putInParts(_ url: S3URL, _ body: [UInt8], sizes: [Int], checksum: ChecksumAlgorithm? = nil,
                            composite: Bool = false) throws -> String {
        let (seeder, _) = try mover()
        let client = seeder.client
        var create = S3Call.createMultipart(url, headers: [], checksum: checksum)
        if composite { create.headers = create.headers.map { $0.0 == "x-amz-checksum-type" ? ($0.0, "COMPOSITE") : $0 } }
        let id = try S3Reply.uploadID(client.perform(create).body)
        var etags: [String] = [], crcs: [CRCValue] = [], offset = 0
        for (i, size) in sizes.enumerated() {
            let bytes = Array(body[offset..<offset + size])
            let crc = checksum.map { CRCValue.of($0, bytes) }
            let response = try client.perform(S3Call.uploadPart(url, uploadID: id, part: i + 1, body: MemoryBody(bytes), checksum: crc))
            etags.append(ETag.unquote(try XCTUnwrap(response.headers.etag)))
            if let crc { crcs.append(crc) }
            offset += size
        }
        let done = try client.perform(S3Call.completeMultipart(url, uploadID: id, etags: etags, checksums: checksum == nil ? nil : crcs))
        return try XCTUnwrap(S3Reply.copyETag(done.body))
    }

    func testAMultipartObjectIsFetchedInRangesOnItsPartBoundariesAndChecked() throws {
        let body = Self.bytes(700_000, seed: 3)
        let url = S3URL(bucket: "lake", key: "big.bin")
        let etag = try putInParts(url, body, sizes: [300_000, 300_000, 100_000])
        XCTAssertTrue(etag.hasSuffix("-3"))
        let entry = object("big.bin", etag: etag, size: body.count)
        var options = MoveOptions()
        options.multipartThreshold = 100_000
        options.partsInFlight = 1
        let before = server.requests.count

        // HEAD ?partNumber=1 first, a HEAD for the CRC kept (none here), then the ranges in
        // order: the first range gets a 503.
        server.script("/lake/big.bin", .pass, .pass, .status(503))
        let (mover, output) = try mover(options)
        let path = dir.file("out/big.bin")
        mover.download(url, entry: entry, to: path)
        mover.close()
        let done = try single(output)
        XCTAssertEqual(try done.string("status"), "ok")
        XCTAssertEqual(try done.string("verified"), "md5", "no CRC kept: the MD5 of the parts' MD5s")
        XCTAssertEqual(try FileSystem.read(path), body)
        let seen = Array(server.requests.dropFirst(before))
        XCTAssertEqual(seen.first?.method, "HEAD")
        XCTAssertEqual(seen.first?.query, "partNumber=1")
        XCTAssertEqual(seen.dropFirst().first?.header("x-amz-checksum-mode"), "ENABLED")
        let ranges = seen.filter { $0.method == "GET" }
        XCTAssertEqual(ranges.map { $0.header("range") ?? "" },
                       ["bytes=0-299999", "bytes=0-299999", "bytes=300000-599999", "bytes=600000-699999"],
                       "cut on the part boundaries; the first retried")
        XCTAssertTrue(ranges.allSatisfy { $0.header("if-match") == "\"\(etag)\"" }, "each range pinned to the version")

        // A byte damaged in the second range: the MD5 of the parts' MD5s is not the ETag.
        server.script("/lake/big.bin", .pass, .pass, .pass, .flipByte(at: 400_000))
        let (again, failed) = try self.mover(options)
        let other = dir.file("out/big-again.bin")
        again.download(url, entry: entry, to: other)
        again.close()
        let event = try single(failed)
        XCTAssertEqual(try event.string("status"), "failed")
        XCTAssertEqual(errorCode(event), "checksum_mismatch")
        XCTAssertFalse(FileSystem.exists(other))
        XCTAssertFalse(FileSystem.exists(Mover.partialPath(other)))
    }

    func testAnInterruptedRangedDownloadFetchesOnlyTheRangesNotRecordedComplete() throws {
        let body = Self.bytes(700_000, seed: 11)
        let url = S3URL(bucket: "lake", key: "r.bin")
        let etag = try putInParts(url, body, sizes: [300_000, 300_000, 100_000])
        let entry = object("r.bin", etag: etag, size: body.count)
        var options = MoveOptions()
        options.multipartThreshold = 100_000
        options.partsInFlight = 1
        let path = dir.file("out/r.bin")
        let journal = Mover.partialPath(path) + ".ranges"

        // HEAD ?partNumber=1, HEAD for a CRC (none), ranges 1 and 2, then range 3 stalls
        // part-way until the run is stopped.
        server.script("/lake/r.bin", .pass, .pass, .pass, .pass, .stall(seconds: 60, after: 50_000))
        let (first, firstOutput) = try mover(options)
        first.download(url, entry: entry, to: path)
        waitUntil("ranges 1 and 2 recorded") {
            ((try? FileSystem.read(journal)).map { String(decoding: $0, as: UTF8.self).split(separator: "\n").count } ?? 0) == 3
        }
        first.client.engine.cancelAll()
        first.close()
        XCTAssertEqual(errorCode(try single(firstOutput)), "interrupted")
        XCTAssertFalse(FileSystem.exists(path))
        XCTAssertTrue(FileSystem.exists(Mover.partialPath(path)), "the partial file is kept")
        XCTAssertTrue(FileSystem.exists(journal), "and its journal")
        // Preallocated, the partial file is full-size with range 3 missing: the journal, not
        // the size, says what is there (range 3 is fetched again below).
        var st = stat()
        XCTAssertEqual(stat(Mover.partialPath(path), &st), 0)
        XCTAssertEqual(Int(st.st_size), body.count, "preallocated to the object's size")

        // Range 1's bytes damaged on disk: they no longer match their recorded MD5.
        let fd = open(Mover.partialPath(path), O_WRONLY)
        XCTAssertEqual(pwrite(fd, [body[10] ^ 0xff], 1, 10), 1)
        close(fd)
        let before = server.requests.count
        let (second, output) = try mover(options)
        second.download(url, entry: entry, to: path)
        second.close()
        XCTAssertEqual(try single(output).string("status"), "ok")
        XCTAssertEqual(try FileSystem.read(path), body)
        let ranges = server.requests.dropFirst(before).filter { $0.method == "GET" }.map { $0.header("range") ?? "" }
        XCTAssertEqual(ranges, ["bytes=0-299999", "bytes=600000-699999"], "range 2 kept; 1 failed its check; 3 was not complete")
        XCTAssertFalse(FileSystem.exists(Mover.partialPath(path)))
        XCTAssertFalse(FileSystem.exists(journal))
        let resumed = log.records.first { (try? $0.string("msg"))?.hasPrefix("resuming the download") == true }
        XCTAssertEqual(try resumed?.int("ranges_kept"), 1)
    }

    // MARK: uploads

    func testASinglePartUploadIsVerifiedByItsETag() throws {
        let body = Self.bytes(150_000, seed: 1)
        let file = dir.write("up/c.bin", body)
        let (mover, output) = try mover()
        mover.upload(path: file, size: Int64(body.count), mtime: 1_700_000_123.5, to: S3URL(bucket: "lake", key: "in/c.bin"))
        mover.close()

        let event = try single(output)
        XCTAssertEqual(try event.string("status"), "ok")
        XCTAssertEqual(try event.string("etag"), MD5.digestHex(body))
        XCTAssertEqual(server.body("/lake/in/c.bin"), body)
        let put = try XCTUnwrap(server.requests(to: "/lake/in/c.bin").first)
        XCTAssertEqual(put.method, "PUT")
        XCTAssertEqual(put.header("x-amz-meta-mtime"), "1700000123.500")
    }

    func testAnUploadStoredDamagedIsDeletedAndFails() throws {
        let body = Self.bytes(150_000, seed: 2)
        let file = dir.write("up/d.bin", body)
        server.script("/lake/in/d.bin", .flipByte(at: 77))
        let (mover, output) = try mover()
        mover.upload(path: file, size: Int64(body.count), mtime: 1_700_000_000, to: S3URL(bucket: "lake", key: "in/d.bin"))
        mover.close()

        let event = try single(output)
        XCTAssertEqual(try event.string("status"), "failed")
        XCTAssertEqual(errorCode(event), "checksum_mismatch")
        // The server records a request before it acts on it: wait for the effect, not the request.
        waitUntil("the damaged object's DELETE") {
            server.requests(to: "/lake/in/d.bin").contains { $0.method == "DELETE" } && server.body("/lake/in/d.bin") == nil
        }
    }

    private func multipartOptions(inFlight: Int = 2) -> MoveOptions {
        var o = MoveOptions()
        o.multipartThreshold = Int64(Self.mib)
        o.partSize = Int64(Self.mib)
        o.partsInFlight = inFlight
        return o
    }

    func testAMultipartUploadSendsVerifiedPartsAndCompletes() throws {
        let body = Self.bytes(3 * Self.mib + 500_000, seed: 4)
        let file = dir.write("up/e.bin", body)
        // CreateMultipartUpload passes; the first part to come gets a 503.
        server.script("/lake/in/e.bin", .pass, .status(503))
        let (mover, output) = try mover(multipartOptions())
        mover.upload(path: file, size: Int64(body.count), mtime: 1_700_000_000, to: S3URL(bucket: "lake", key: "in/e.bin"))
        mover.close()

        let event = try single(output)
        XCTAssertEqual(try event.string("status"), "ok")
        XCTAssertEqual(try event.string("verified"), "md5", "a store that keeps no CRC: the MD5 way")
        let digests = stride(from: 0, to: body.count, by: Self.mib).flatMap { MD5.digest(Array(body[$0..<min($0 + Self.mib, body.count)])) }
        let expected = MD5.digestHex(digests) + "-4"
        XCTAssertEqual(try event.string("etag"), expected)
        XCTAssertEqual(server.body("/lake/in/e.bin"), body)
        XCTAssertEqual(server.etag("/lake/in/e.bin"), expected)
        let seen = server.requests(to: "/lake/in/e.bin")
        XCTAssertEqual(seen.filter { $0.method == "POST" && $0.query.hasPrefix("uploads") }.count, 1)
        XCTAssertEqual(partNumbers(seen).count, 5, "four parts, one sent twice")
        XCTAssertEqual(Set(partNumbers(seen)), [1, 2, 3, 4])
        XCTAssertEqual(seen.filter { $0.method == "POST" && $0.query.hasPrefix("uploadId=") }.count, 1, "one CompleteMultipartUpload")
        XCTAssertTrue(server.uploadsInProgress.isEmpty)
    }

    func testAPartThatFailsForGoodAbortsTheUpload() throws {
        let body = Self.bytes(2 * Self.mib + 10, seed: 5)
        let file = dir.write("up/f.bin", body)
        // A part refused (400, not retried), and a part stored damaged (its ETag is not the
        // MD5 of what was sent): either way the upload is aborted.
        for (key, fault) in [("f400.bin", FaultServer.Fault.status(400)), ("fdamaged.bin", .flipByte(at: 5))] {
            let path = "/lake/in/" + key
            server.script(path, .pass, fault)
            let (mover, output) = try mover(multipartOptions(inFlight: 1))
            mover.upload(path: file, size: Int64(body.count), mtime: 1_700_000_000, to: S3URL(bucket: "lake", key: "in/" + key))
            mover.close()

            let event = try single(output)
            XCTAssertEqual(try event.string("status"), "failed", key)
            if case .flipByte = fault { XCTAssertEqual(errorCode(event), "checksum_mismatch", key) }
            // The server records a request before it acts on it: wait for the abort's effect too.
            waitUntil("AbortMultipartUpload of \(key)") {
                server.requests(to: path).contains { $0.method == "DELETE" && $0.query.hasPrefix("uploadId=") }
                    && !server.uploadsInProgress.values.contains { $0.path == path }
            }
            XCTAssertNil(server.body(path), key)
            XCTAssertFalse(server.requests(to: path).contains { $0.method == "POST" && $0.query.hasPrefix("uploadId=") },
                           "\(key) never completed")
        }
    }

    func testAnInterruptedMultipartUploadIsResumedKeepingThePartsThatStillMatch() throws {
        var body = Self.bytes(3 * Self.mib + 1000, seed: 6)
        let file = dir.write("up/g.bin", body)
        let dest = S3URL(bucket: "lake", key: "in/g.bin")
        // One part at a time: create, parts 1 and 2, then part 3 stalls until we stop.
        server.script("/lake/in/g.bin", .pass, .pass, .pass, .stall(seconds: 60))
        let (first, firstOutput) = try mover(multipartOptions(inFlight: 1))
        first.upload(path: file, size: Int64(body.count), mtime: 1_700_000_000, to: dest)
        waitUntil("part 3 to be sent") { partNumbers(server.requests(to: "/lake/in/g.bin")).contains(3) }
        first.client.engine.cancelAll()
        first.close()
        XCTAssertEqual(errorCode(try single(firstOutput)), "interrupted")
        let kept = try XCTUnwrap(server.uploadsInProgress["upload-1"], "the interrupted upload is not aborted")
        XCTAssertEqual(kept.parts, [1, 2])

        // Part 1 of the file changes before the next run (part 2 does not).
        body[10] ^= 0xff
        dir.write("up/g.bin", body)
        let before = server.requests(to: "/lake/in/g.bin").count
        let (second, output) = try mover(multipartOptions(inFlight: 1))
        second.upload(path: file, size: Int64(body.count), mtime: 1_700_000_000, to: dest)
        second.close()

        XCTAssertEqual(try single(output).string("status"), "ok")
        XCTAssertEqual(server.body("/lake/in/g.bin"), body)
        let seen = Array(server.requests(to: "/lake/in/g.bin").dropFirst(before))
        XCTAssertFalse(seen.contains { $0.method == "POST" && $0.query.hasPrefix("uploads") }, "no new upload")
        XCTAssertEqual(partNumbers(seen), [1, 3, 4], "part 2 kept; part 1 no longer matched the file")
        XCTAssertTrue(seen.filter { $0.method == "PUT" }.allSatisfy { FaultServer.queryItems($0.query)["uploadId"] == "upload-1" })
        XCTAssertTrue(log.records.contains { (try? $0.string("msg"))?.hasPrefix("resuming the multipart upload") == true })
        XCTAssertTrue(server.uploadsInProgress.isEmpty)
    }

    func testAnUploadLeftWithAnotherPartSizeIsAbortedNotLeftBehind() throws {
        let body = Self.bytes(3 * Self.mib + 1000, seed: 12)
        let file = dir.write("up/s.bin", body)
        let dest = S3URL(bucket: "lake", key: "in/s.bin")
        server.script("/lake/in/s.bin", .pass, .pass, .stall(seconds: 60))
        let (first, _) = try mover(multipartOptions(inFlight: 1))
        first.upload(path: file, size: Int64(body.count), mtime: 1_700_000_000, to: dest)
        waitUntil("part 2 to be sent") { partNumbers(server.requests(to: "/lake/in/s.bin")).contains(2) }
        first.client.engine.cancelAll()
        first.close()
        XCTAssertEqual(server.uploadsInProgress["upload-1"]?.parts, [1])

        // 2 MiB parts this time: the 1 MiB part left cannot be one of them.
        var options = multipartOptions(inFlight: 1)
        options.partSize = 2 * Int64(Self.mib)
        let (second, output) = try mover(options)
        second.upload(path: file, size: Int64(body.count), mtime: 1_700_000_000, to: dest)
        second.close()
        XCTAssertEqual(try single(output).string("status"), "ok")
        XCTAssertEqual(server.body("/lake/in/s.bin"), body)
        XCTAssertTrue(server.requests(to: "/lake/in/s.bin").contains { $0.method == "DELETE" && $0.query == "uploadId=upload-1" })
        XCTAssertTrue(server.uploadsInProgress.isEmpty, "\(server.uploadsInProgress)")
    }

    // MARK: -n, -s, cancel

    func testNoClobberAndIfSizeDifferDecideBeforeAnyTransfer() throws {
        // Uploads: -n asks S3 (HEAD) and sends nothing over an object that is there.
        server.serve("/lake/there.bin", Self.bytes(10))
        let local = dir.write("up/h.bin", Self.bytes(500))
        var noClobber = MoveOptions()
        noClobber.noClobber = true
        let (up, upOutput) = try mover(noClobber)
        up.upload(path: local, size: 500, mtime: 1_700_000_000, to: S3URL(bucket: "lake", key: "there.bin"))
        up.upload(path: local, size: 500, mtime: 1_700_000_000, to: S3URL(bucket: "lake", key: "new.bin"))
        up.close()
        let events = try upOutput.records()
        let byDest = Dictionary(uniqueKeysWithValues: events.map { ((try? $0.string("destination")) ?? "", $0) })
        XCTAssertEqual(try byDest["s3://lake/there.bin"]?.string("status"), "skipped")
        XCTAssertEqual(try byDest["s3://lake/new.bin"]?.string("status"), "ok", "\(events.map(\.text))")
        XCTAssertEqual(server.requests(to: "/lake/there.bin").map(\.method), ["HEAD"])
        XCTAssertEqual(server.requests(to: "/lake/new.bin").map(\.method), ["HEAD", "PUT"])
        XCTAssertEqual(server.body("/lake/there.bin"), Self.bytes(10), "not overwritten")

        // Downloads: decided on the local file alone, without a request.
        let remote = Self.bytes(300, seed: 9)
        server.serve("/lake/r.bin", remote, etag: MD5.digestHex(remote))
        let entry = object("r.bin", etag: MD5.digestHex(remote), size: remote.count)
        let same = dir.write("down/same.bin", Self.bytes(300))
        let differs = dir.write("down/differs.bin", Self.bytes(299))
        var sizeOnly = MoveOptions()
        sizeOnly.ifSizeDiffer = true
        let (down, downOutput) = try mover(sizeOnly)
        down.download(S3URL(bucket: "lake", key: "r.bin"), entry: entry, to: same)
        down.close()
        XCTAssertEqual(try single(downOutput).string("status"), "skipped")
        XCTAssertEqual(server.requests(to: "/lake/r.bin").count, 0, "-s: same size, nothing fetched")
        XCTAssertEqual(try FileSystem.read(same), Self.bytes(300))

        let (down2, down2Output) = try mover(sizeOnly)
        down2.download(S3URL(bucket: "lake", key: "r.bin"), entry: entry, to: differs)
        down2.close()
        XCTAssertEqual(try single(down2Output).string("status"), "ok")
        XCTAssertEqual(try FileSystem.read(differs), remote)
        XCTAssertEqual(server.requests(to: "/lake/r.bin").count, 1)
    }

    func testCancelStopsObjectsWaitingForASlotAndTheStoppedOneKeepsItsPartialFile() throws {
        let a = Self.bytes(400_000, seed: 7), b = Self.bytes(1000, seed: 8)
        server.serve("/lake/a.bin", a, etag: MD5.digestHex(a))
        server.serve("/lake/b.bin", b, etag: MD5.digestHex(b))
        server.script("/lake/a.bin", .stall(seconds: 60, after: 50_000))
        let (mover, output) = try mover(workers: 1)
        let pathA = dir.file("out/a.bin"), pathB = dir.file("out/b.bin")
        let returned = Locked(false)
        let entryA = object("a.bin", etag: MD5.digestHex(a), size: a.count)
        let entryB = object("b.bin", etag: MD5.digestHex(b), size: b.count)
        // The caller's thread blocks in download(b) while a holds the only slot.
        threads.append(WorkerThread(name: "caller") {
            mover.download(S3URL(bucket: "lake", key: "a.bin"), entry: entryA, to: pathA)
            mover.download(S3URL(bucket: "lake", key: "b.bin"), entry: entryB, to: pathB)
            returned.withLock { $0 = true }
        })
        waitUntil("50,000 bytes of a") { FileSystem.size(Mover.partialPath(pathA)) == 50_000 }
        XCTAssertFalse(returned.current, "download(b) waits for a slot")

        mover.cancel()
        waitUntil(timeout: 5, "download(b) to return after cancel()") { returned.current }
        mover.client.engine.cancelAll() // as s3x does on a signal: the transfer in flight ends
        mover.close()

        let event = try single(output)
        XCTAssertEqual(try event.string("source"), "s3://lake/a.bin")
        XCTAssertEqual(try event.string("status"), "failed")
        XCTAssertEqual(errorCode(event), "interrupted")
        XCTAssertTrue(server.requests(to: "/lake/b.bin").isEmpty, "b never started")
        XCTAssertFalse(FileSystem.exists(pathA))
        XCTAssertEqual(FileSystem.size(Mover.partialPath(pathA)), 50_000, "the partial file is kept")
    }

    // MARK: CRCs the store keeps

    func testAMultipartUploadToAStoreKeepingCRCsSendsEachPartsCRCAndChecksTheObjects() throws {
        server.keepsChecksums = true
        let body = Self.bytes(3 * Self.mib + 500_000, seed: 11)
        let file = dir.write("up/c.bin", body)
        let (mover, output) = try mover(multipartOptions())
        mover.upload(path: file, size: Int64(body.count), mtime: 1_700_000_000, to: S3URL(bucket: "lake", key: "in/c.bin"))
        mover.close()

        let event = try single(output)
        XCTAssertEqual(try event.string("status"), "ok")
        XCTAssertEqual(try event.string("verified"), "crc32c")
        XCTAssertEqual(server.body("/lake/in/c.bin"), body)
        XCTAssertEqual(server.checksum("/lake/in/c.bin"), "crc32c:" + CRCValue.of(.crc32c, body).base64, "FULL_OBJECT")
        let seen = server.requests(to: "/lake/in/c.bin")
        XCTAssertEqual(seen.first { $0.query.hasPrefix("uploads") }?.header("x-amz-checksum-algorithm"), "CRC32C")
        let parts = seen.filter { $0.method == "PUT" && $0.query.contains("uploadId=") }
        XCTAssertEqual(parts.count, 4)
        for part in parts {
            let n = try XCTUnwrap(FaultServer.queryItems(part.query)["partNumber"].flatMap { Int($0) })
            let bytes = Array(body[(n - 1) * Self.mib..<min(n * Self.mib, body.count)])
            XCTAssertEqual(part.header("x-amz-checksum-crc32c"), CRCValue.of(.crc32c, bytes).base64, "part \(n)")
        }
        let complete = try XCTUnwrap(seen.first { $0.method == "POST" && $0.query.hasPrefix("uploadId=") })
        XCTAssertEqual(String(decoding: complete.body, as: UTF8.self).split(separator: "<ChecksumCRC32C>").count, 5)
    }

    func testAPartDamagedOnTheWayToAStoreKeepingCRCsIsRefusedAndTheUploadAborted() throws {
        server.keepsChecksums = true
        let body = Self.bytes(2 * Self.mib + 10, seed: 12)
        let file = dir.write("up/g.bin", body)
        // CreateMultipartUpload passes; the first part arrives with a byte flipped.
        server.script("/lake/in/g.bin", .pass, .flipByte(at: 1000))
        let (mover, output) = try mover(multipartOptions(inFlight: 1))
        mover.upload(path: file, size: Int64(body.count), mtime: 1_700_000_000, to: S3URL(bucket: "lake", key: "in/g.bin"))
        mover.close()

        let event = try single(output)
        XCTAssertEqual(try event.string("status"), "failed")
        let message = try XCTUnwrap(event.string("error"))
        XCTAssertTrue(message.contains("BadDigest"), message)
        XCTAssertNil(server.body("/lake/in/g.bin"))
        waitUntil("the upload's abort") { server.uploadsInProgress.isEmpty }
    }

    func testARangedDownloadIsCheckedAgainstTheCRCTheStoreKeeps() throws {
        server.keepsChecksums = true
        let body = Self.bytes(700_000, seed: 13)
        let url = S3URL(bucket: "lake", key: "crc.bin")
        let etag = try putInParts(url, body, sizes: [300_000, 300_000, 100_000], checksum: .crc32c)
        XCTAssertEqual(server.checksum("/lake/crc.bin"), "crc32c:" + CRCValue.of(.crc32c, body).base64)
        let entry = object("crc.bin", etag: etag, size: body.count)
        var options = MoveOptions()
        options.multipartThreshold = 100_000
        options.partsInFlight = 2

        let (mover, output) = try mover(options)
        let path = dir.file("out/crc.bin")
        mover.download(url, entry: entry, to: path)
        mover.close()
        let done = try single(output)
        XCTAssertEqual(try done.string("status"), "ok")
        XCTAssertEqual(try done.string("verified"), "crc32c")
        XCTAssertEqual(try FileSystem.read(path), body)

        // HEAD ?partNumber=1, the HEAD for the CRC, then the ranges one at a time: the third damaged.
        server.script("/lake/crc.bin", .pass, .pass, .pass, .pass, .flipByte(at: 650_000))
        options.partsInFlight = 1
        let (again, failed) = try self.mover(options)
        let other = dir.file("out/crc-again.bin")
        again.download(url, entry: entry, to: other)
        again.close()
        let event = try single(failed)
        XCTAssertEqual(try event.string("status"), "failed")
        XCTAssertEqual(errorCode(event), "checksum_mismatch")
        let message = try XCTUnwrap(event.string("error"))
        XCTAssertTrue(message.contains("crc32c:"), message)
        XCTAssertFalse(FileSystem.exists(other))
        XCTAssertFalse(FileSystem.exists(Mover.partialPath(other)))
    }

    func testACompositeCRCIsCheckedOnTheObjectsOwnParts() throws {
        server.keepsChecksums = true
        let body = Self.bytes(700_000, seed: 14)
        let url = S3URL(bucket: "lake", key: "comp.bin")
        let etag = try putInParts(url, body, sizes: [300_000, 300_000, 100_000], checksum: .crc32c, composite: true)
        let parts = [body[0..<300_000], body[300_000..<600_000], body[600_000...]].map { CRCValue.of(.crc32c, Array($0)) }
        XCTAssertEqual(server.checksum("/lake/comp.bin"), "crc32c:" + CRCValue.composite(parts))
        var options = MoveOptions()
        options.multipartThreshold = 100_000
        let entry = object("comp.bin", etag: etag, size: body.count)
        let (mover, output) = try mover(options)
        mover.download(url, entry: entry, to: dir.file("out/comp.bin"))
        mover.close()
        XCTAssertEqual(try single(output).string("verified"), "crc32c")
        XCTAssertEqual(try FileSystem.read(dir.file("out/comp.bin")), body)

        // The store's record says otherwise: refused.
        server.setChecksum("/lake/comp.bin", "x-amz-checksum-crc32c: AAAAAA==-3")
        let (again, failed) = try self.mover(options)
        again.download(url, entry: entry, to: dir.file("out/comp-again.bin"))
        again.close()
        XCTAssertEqual(errorCode(try single(failed)), "checksum_mismatch")
        XCTAssertFalse(FileSystem.exists(dir.file("out/comp-again.bin")))
    }

    func testAStreamedDownloadIsCheckedAgainstTheCRCItsHeadGave() throws {
        let body = Self.bytes(200_000, seed: 15)
        let crc = CRCValue.of(.crc32, body)
        server.serve("/lake/s.bin", body, etag: MD5.digestHex(body), headers: ["x-amz-checksum-crc32: \(crc.base64)"])
        var entry = object("s.bin", etag: MD5.digestHex(body), size: body.count)
        entry.checksum = StoredChecksum(algorithm: .crc32, value: crc.base64)
        let (mover, output) = try mover()
        mover.download(S3URL(bucket: "lake", key: "s.bin"), entry: entry, to: dir.file("out/s.bin"))
        mover.close()
        XCTAssertEqual(try single(output).string("verified"), "crc32")
        XCTAssertEqual(try FileSystem.read(dir.file("out/s.bin")), body)
        XCTAssertEqual(server.requests(to: "/lake/s.bin").last?.header("if-match"), "\"\(MD5.digestHex(body))\"",
                       "pinned to the object the CRC is of")

        server.script("/lake/s.bin", .flipByte(at: 123))
        let (again, failed) = try self.mover()
        again.download(S3URL(bucket: "lake", key: "s.bin"), entry: entry, to: dir.file("out/s2.bin"))
        again.close()
        let event = try single(failed)
        XCTAssertEqual(errorCode(event), "checksum_mismatch")
        XCTAssertFalse(FileSystem.exists(dir.file("out/s2.bin")))
    }
}
