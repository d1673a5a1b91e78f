import ArcCore

/// arc-collect into S3: each archive streams from the source straight into the store,
/// never touching local disk. The SHA-256 (and the MD5, for an MD5 checksum) is computed
/// as the bytes arrive and checked against the task's checksum (its CHECKSUM, its ETag)
/// before the object is made visible: a small archive is held in
/// memory and PUT with its verified hash as the signed payload hash (so S3 checks the
/// bytes too) and as x-amz-meta-sha256; a large one goes part by part (ranged GET, then
/// UploadPart) and the upload is completed only when the hash matches, else aborted:
/// nothing ever appears at the key that is not verified.
extension Collector {
    /// Archives up to this size go in one PUT; larger ones in parts of this size.
    static let s3PartSize: Int64 = 8 << 20

    /// True when `task`'s archive goes to S3 in parts (too large for one PUT).
    func goesInParts(_ task: CollectTask) -> Bool { (task.size ?? 0) > Self.s3PartSize }

    func startS3(_ task: CollectTask, _ url: S3URL) {
        let job = CollectJob(task: task, phase: .download)
        if case .failed(let error) = s3 { return complete(job, .failed(error.code, error.description)) }
        if goesInParts(task) {
            // Large: the CHECKSUM first (its hash goes into the upload's metadata), then the parts.
            job.pending = task.checksumURL == nil ? 0 : 1
            if task.checksumURL != nil { fetchChecksum(job) } else { finishQueueS3(job) }
            return
        }
        job.pending = task.checksumURL == nil ? 1 : 2
        if task.checksumURL != nil { fetchChecksum(job) }
        fetchArchiveToMemory(job)
    }

    /// A small archive, into memory (hashed as it arrives).
    func fetchArchiveToMemory(_ job: CollectJob) {
        let sink = HashingMemorySink(limit: Int(job.task.size ?? (256 << 20)) + 1, kind: job.task.checksum.kind)
        job.memory = sink
        submitArchive(job, TransferRequest(url: job.task.url, ifRange: job.task.etag,
                                           retry: retryPolicy(spent: job.archiveAttempts)), sink)
    }

    func finishQueueS3(_ job: CollectJob) {
        job.pending = 1
        partDone(job)
    }

    /// On a finisher thread, with the expected hash (nil for kinds size and none).
    func storeInS3(_ job: CollectJob, expected: String?) {
        guard case .ready(let client) = s3, let url = job.task.s3Dest else { return }
        if let memory = job.memory {
            switch job.download {
            case .failure(let error)?:
                if case .cancelled = error { return interrupted(job) }
                return complete(job, .failed(error.code, error.description))
            case .success?, nil:
                let kind = job.task.checksum.kind
                let hashes = memory.digest.hashes()
                let digest = hashes.sha256
                if let expected, let got = hashes.compared(kind), got != expected {
                    let verdict = fetchAgain(job, seen: got + " " + expected,
                                             why: "checksum mismatch; downloading the archive"
                                                + (job.task.checksumURL != nil ? " and its CHECKSUM" : "") + " again",
                                             fields: mismatchFields(kind, got, expected))
                    switch verdict {
                    case .started: return
                    case .stopped: return interrupted(job)
                    case .confirmed, .exhausted:
                        var outcome = mismatch(job, hashes, expected, verdict, "; nothing was stored")
                        outcome.bytes = Int64(memory.bytes.count)
                        return complete(job, outcome)
                    }
                }
                if expected == nil, let size = job.task.size, Int64(memory.bytes.count) != size {
                    return complete(job, sizeMismatch(job.task, received: Int64(memory.bytes.count)))
                }
                if let outcome = emptyArchive(job.task, hashes: hashes, bytes: Int64(memory.bytes.count), verified: expected != nil,
                                              holdsNothing: { EmptyGzip.holdsNothing(memory.bytes) }) {
                    return complete(job, outcome)
                }
                guard mayStore(job) else { return complete(job, Collector.leaseLost) }
                let body = MemoryBody(memory.bytes)
                let headers = [("x-amz-meta-sha256", digest), ("Content-Type", ContentType.guess(url.key) ?? "application/octet-stream")]
                client.send(S3Call.put(url, body: body, headers: headers, payloadHash: digest)) { [self] result in
                    switch result {
                    case .failure(let error):
                        if case .cancelled = error.transfer { return interrupted(job) }
                        complete(job, .failed(error.code, error.description))
                    case .success(let response):
                        var outcome = CollectOutcome(status: .ok)
                        outcome.bytes = Int64(body.bytes.count)
                        outcome.sha256 = digest
                        outcome.verified = expected != nil
                        outcome.attempts = job.attempts + response.attempts - 1
                        complete(job, outcome)
                    }
                }
            }
            return
        }
        if case .failure(let error)? = job.checksum {
            if case .cancelled = error { return interrupted(job) }
            return complete(job, .failed(error.code, "CHECKSUM: \(error)"))
        }
        S3PartUpload(collector: self, client: client, job: job, url: url, expected: expected).begin()
    }
}

/// One large archive into S3, a part at a time: ranged GET, hash in order, UploadPart.
/// Confined, not locked: `begin` runs on a finisher thread, then one part at a time is in
/// flight, each step started by the completion of the one before (on the engine thread).
final class S3PartUpload: @unchecked Sendable { // one step at a time, see above
    let collector: Collector
    let client: S3Client
    let job: CollectJob
    let url: S3URL
    let expected: String?
    let size: Int64
    let digest: ArchiveDigest
    var uploadID = ""
    var etags: [String] = []
    var part = 0
    /// The most attempts any part needed: what this round spent of --retries.
    var mostAttempts = 0

    init(collector: Collector, client: S3Client, job: CollectJob, url: S3URL, expected: String?) {
        self.collector = collector
        self.client = client
        self.job = job
        self.url = url
        self.expected = expected
        size = job.task.size ?? 0
        digest = ArchiveDigest(for: job.task.checksum.kind)
    }

    /// On a finisher thread: create the upload, then run the parts from the engine thread.
    func begin() {
        var headers = [("Content-Type", ContentType.guess(url.key) ?? "application/octet-stream")]
        // Known before the bytes only when it is a SHA-256 (an MD5 is no x-amz-meta-sha256).
        if let expected, job.task.checksum.kind == .sha256 { headers.append(("x-amz-meta-sha256", expected)) }
        do {
            uploadID = try S3Reply.uploadID(try client.perform(S3Call.createMultipart(url, headers: headers)).body)
        } catch {
            let e = error as? ArcError
            return collector.complete(job, .failed(e?.code ?? .s3Error, "\(error)"))
        }
        nextPart()
    }

    private func nextPart() {
        let start = Int64(part) * Collector.s3PartSize
        guard start < size else { return finish() }
        let end = min(size, start + Collector.s3PartSize) - 1
        let sink = MemorySink(limit: Int(Collector.s3PartSize) + 1)
        let request = TransferRequest(url: job.task.url, headers: ["Range: bytes=\(start)-\(end)"] + (job.task.etag.map { ["If-Match: \"\(ETag.unquote($0))\""] } ?? []),
                                      retry: collector.retryPolicy(spent: job.archiveAttempts))
        let transfer = Transfer(request, sink: sink) { [self] result, attempts in
            job.attempts += attempts
            mostAttempts = max(mostAttempts, attempts)
            switch result {
            case .failure(let error):
                if case .cancelled = error { return collector.interrupted(job) }
                return fail(error.code, error.description)
            case .success:
                guard Int64(sink.bytes.count) == end - start + 1 else {
                    return fail(.sizeMismatch, "range \(start)-\(end) returned \(sink.bytes.count) bytes")
                }
                digest.update(sink.bytes)
                part += 1
                let number = part
                client.send(S3Call.uploadPart(url, uploadID: uploadID, part: number, body: MemoryBody(sink.bytes),
                                              payloadHash: SHA256.hex(sink.bytes))) { [self] result in
                    switch result {
                    case .failure(let error):
                        if case .cancelled = error.transfer { return collector.interrupted(job) }
                        fail(error.code, error.description)
                    case .success(let response):
                        etags.append(ETag.unquote(response.headers.etag ?? ""))
                        nextPart()
                    }
                }
            }
        }
        transfer.onRetry = collector.retryNotices(job)
        collector.engine.submit(transfer)
    }

    private func finish() {
        let kind = job.task.checksum.kind
        let hashes = digest.hashes()
        if let expected, let got = hashes.compared(kind), got != expected {
            client.send(S3Call.abortMultipart(url, uploadID: uploadID)) { _ in }
            // Most likely a bad copy: another round, with a new upload once the CHECKSUM is in.
            job.archiveAttempts += mostAttempts
            let verdict = collector.fetchAgain(job, seen: got + " " + expected,
                                               why: "checksum mismatch; downloading the archive"
                                                  + (job.task.checksumURL != nil ? " and its CHECKSUM" : "") + " again",
                                               fields: collector.mismatchFields(kind, got, expected))
            switch verdict {
            case .started: return
            case .stopped: return collector.interrupted(job)
            case .confirmed, .exhausted:
                return collector.complete(job, collector.mismatch(job, hashes, expected, verdict, "; the upload was aborted"))
            }
        }
        guard collector.mayStore(job) else {
            client.send(S3Call.abortMultipart(url, uploadID: uploadID)) { _ in }
            return collector.complete(job, Collector.leaseLost)
        }
        client.send(S3Call.completeMultipart(url, uploadID: uploadID, etags: etags)) { [self] result in
            switch result {
            case .failure(let error): fail(error.code, error.description)
            case .success:
                var outcome = CollectOutcome(status: .ok)
                outcome.bytes = size
                outcome.sha256 = hashes.sha256
                outcome.verified = expected != nil
                collector.complete(job, outcome)
            }
        }
    }

    private func fail(_ code: FailureCode, _ message: String, sha: String? = nil) {
        client.send(S3Call.abortMultipart(url, uploadID: uploadID)) { _ in }
        var outcome = CollectOutcome.failed(code, message)
        outcome.sha256 = sha
        collector.complete(job, outcome)
    }
}

/// Keeps a body in memory and hashes it (SHA-256, and MD5 for an MD5 checksum) as it arrives.
final class HashingMemorySink: TransferSink, @unchecked Sendable { // handed over, see TransferSink
    private(set) var bytes: [UInt8] = []
    let digest: ArchiveDigest
    private let limit: Int

    init(limit: Int, kind: ArchiveChecksum.Kind) {
        self.limit = limit
        digest = ArchiveDigest(for: kind)
    }

    func beginAttempt() throws -> Int64 { Int64(bytes.count) }

    func restart() throws {
        bytes.removeAll(keepingCapacity: true)
        digest.reset()
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard bytes.count + chunk.count <= limit else { throw BodyTooLargeError(limit: limit) }
        bytes.append(contentsOf: chunk)
        digest.update(chunk)
    }
}
