/// Writes an S3 object as a stream: bytes are cut into parts uploaded while later ones are
/// still being produced (a few in flight), so an object of any size, known or not, goes up
/// with bounded memory and no local temporary file (arc-convert's silver files, s3x pipe's
/// stdin). The object exists only after `commit` (CompleteMultipartUpload, or one PUT when
/// everything fit in the first part); `abort` (or a failed commit) aborts the upload,
/// leaving nothing behind. With `verify`, the ETag S3 returns is checked against the MD5
/// of the bytes sent (of each part, for a multipart upload).
public final class S3MultipartSink: ByteSink, @unchecked Sendable { // used by one thread; `parts` is guarded by its lock
    public let url: S3URL
    /// Bytes written so far.
    public private(set) var written: Int64 = 0
    /// The object's ETag once committed.
    public private(set) var etag: String?
    private let client: S3Client
    private let headers: [(String, String)]
    private var partSize: Int
    private let growEvery: Int?
    private let verify: Bool
    private let slots: Slots
    private var buffer: [UInt8] = []
    private var uploadID: String?
    private var digests: [[UInt8]] = []
    private var finished = false

    /// What the part completions (on the engine thread) report back.
    private struct Parts {
        var etags: [String] = []
        var failure: S3Error?
        var running = 0
    }
    private let parts = Locked(Parts())
    private let done = BlockingQueue<Bool>()

    /// `partSize` at least 5 MiB (S3's minimum for all but the last part). `growEvery`: the
    /// part size doubles after every that many parts, so a stream of unknown size never
    /// runs out of S3's 10,000 parts (s3x pipe uses 2,000).
    public init(client: S3Client, url: S3URL, headers: [(String, String)] = [], partSize: Int = 8 << 20,
                partsInFlight: Int = 2, growEvery: Int? = nil, verify: Bool = true) {
        self.client = client
        self.url = url
        self.headers = headers
        self.partSize = max(partSize, 5 << 20)
        self.growEvery = growEvery
        self.verify = verify
        slots = Slots(max(1, partsInFlight))
        buffer.reserveCapacity(self.partSize)
    }

    deinit { abort() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = min(partSize - buffer.count, bytes.count - offset)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
            offset += n
            if buffer.count == partSize { try sendPart() }
        }
        written += Int64(bytes.count)
    }

    public func commit() throws {
        guard !finished else { return }
        finished = true
        guard let uploadID else {
            // Everything fit in one part: one PUT.
            let body = buffer
            let response = try client.perform(S3Call.put(url, body: MemoryBody(body), headers: headers,
                                                         payloadHash: SHA256.hex(body)))
            etag = response.headers.etag.map(ETag.unquote)
            if verify, let etag, etag.isPlainMD5, etag.lowercased() != MD5.digestHex(body) {
                _ = try? client.perform(S3Call.deleteObject(url))
                throw IntegrityError(resource: url.description, expected: etag, actual: MD5.digestHex(body))
            }
            return
        }
        do {
            if !buffer.isEmpty { try sendPart() }
            let (etags, failure) = waitForParts()
            if let failure { throw failure }
            let response = try client.perform(S3Call.completeMultipart(url, uploadID: uploadID, etags: etags))
            etag = S3Reply.copyETag(response.body)
            let expected = MD5.multipartETag(partDigests: digests)
            if verify, let etag, etag.contains("-"), etag.lowercased() != expected {
                _ = try? client.perform(S3Call.deleteObject(url))
                throw IntegrityError(resource: url.description, expected: etag, actual: expected)
            }
        } catch {
            // Parts still in flight would land after the abort and be kept (and billed).
            _ = waitForParts()
            _ = try? client.perform(S3Call.abortMultipart(url, uploadID: uploadID))
            throw error
        }
    }

    public func abort() { abort(using: nil) }

    /// Aborts through `other` when this sink's engine was cancelled (after SIGINT the
    /// abort must still go out).
    public func abort(using other: S3Client?) {
        guard !finished else { return }
        finished = true
        buffer = []
        guard let uploadID else { return }
        _ = waitForParts()
        _ = try? (other ?? client).perform(S3Call.abortMultipart(url, uploadID: uploadID))
    }

    /// Makes a write waiting for a part slot give up (a stop was asked for).
    public func cancel() { slots.cancel() }

    private func sendPart() throws {
        if let failure = parts.current.failure { throw failure }
        if uploadID == nil {
            uploadID = try S3Reply.uploadID(try client.perform(S3Call.createMultipart(url, headers: headers)).body)
        }
        guard slots.acquire() else { throw UnavailableError(url.description, "upload cancelled") }
        let number = digests.count + 1
        let bytes = buffer
        buffer.removeAll(keepingCapacity: true)
        digests.append(MD5.digest(bytes))
        parts.withLock {
            $0.etags.append("")
            $0.running += 1
        }
        let parts = self.parts, slots = self.slots, done = self.done
        client.send(S3Call.uploadPart(url, uploadID: uploadID!, part: number, body: MemoryBody(bytes),
                                      payloadHash: SHA256.hex(bytes))) { result in
            parts.withLock {
                switch result {
                case .failure(let error): $0.failure = $0.failure ?? error
                case .success(let r): $0.etags[number - 1] = r.headers.etag.map(ETag.unquote) ?? ""
                }
                $0.running -= 1
            }
            slots.release()
            done.put(true)
        }
        if let growEvery, number % growEvery == 0 { partSize *= 2 }
    }

    private func waitForParts() -> (etags: [String], failure: S3Error?) {
        while parts.current.running > 0 { _ = done.take() }
        return parts.withLock { ($0.etags, $0.failure) }
    }
}
