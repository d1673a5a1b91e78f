/// Writes an S3 object as a stream: bytes are cut into parts uploaded while later ones are
/// still being produced (a few in flight), so a file of any size goes up with bounded
/// memory and no local temporary file. The object exists only after `commit`
/// (CompleteMultipartUpload, or one PUT when everything fit in the first part); `abort`
/// (or any failure) aborts the upload, leaving nothing behind. Each part's MD5 is checked
/// against the ETag S3 returns for the whole object.
public final class S3MultipartSink: ByteSink, @unchecked Sendable { // used by one thread; `parts` is guarded by its lock
    public let url: S3URL
    public private(set) var written: Int64 = 0
    private let client: S3Client
    private let headers: [(String, String)]
    private let partSize: Int
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

    /// `partSize` at least 5 MiB (S3's minimum for all but the last part).
    public init(client: S3Client, url: S3URL, headers: [(String, String)] = [], partSize: Int = 8 << 20,
                partsInFlight: Int = 2) {
        self.client = client
        self.url = url
        self.headers = headers
        self.partSize = max(partSize, 5 << 20)
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
            let etag = response.headers.etag.map(ListObjects.unquote)
            if let etag, !etag.contains("-"), etag.count == 32, etag.lowercased() != MD5.digestHex(body) {
                _ = try? client.perform(S3Call.deleteObject(url))
                throw UnavailableError(url.description, "S3 stored other bytes than were sent (ETag \(etag))")
            }
            return
        }
        do {
            if !buffer.isEmpty { try sendPart() }
            let (etags, failure) = waitForParts()
            if let failure { throw failure }
            let response = try client.perform(S3Call.completeMultipart(url, uploadID: uploadID, etags: etags))
            if let etag = S3Reply.copyETag(response.body), etag.contains("-"),
               etag.lowercased() != MD5.multipartETag(partDigests: digests) {
                _ = try? client.perform(S3Call.deleteObject(url))
                throw UnavailableError(url.description, "S3 stored other bytes than were sent (ETag \(etag))")
            }
        } catch {
            // Parts still in flight would land after the abort and be kept (and billed).
            _ = waitForParts()
            _ = try? client.perform(S3Call.abortMultipart(url, uploadID: uploadID))
            throw error
        }
    }

    public func abort() {
        guard !finished else { return }
        finished = true
        buffer = []
        guard let uploadID else { return }
        _ = waitForParts()
        _ = try? client.perform(S3Call.abortMultipart(url, uploadID: uploadID))
    }

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
                case .success(let r): $0.etags[number - 1] = r.headers.etag.map(ListObjects.unquote) ?? ""
                }
                $0.running -= 1
            }
            slots.release()
            done.put(true)
        }
    }

    private func waitForParts() -> (etags: [String], failure: S3Error?) {
        while parts.current.running > 0 { _ = done.take() }
        return parts.withLock { ($0.etags, $0.failure) }
    }
}
