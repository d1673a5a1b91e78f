import ArcCore

/// S3-to-S3 copies. On one endpoint with one identity the bytes never leave S3: CopyObject
/// up to --copy-threshold, UploadPartCopy in ranges above it. Across endpoints or
/// identities (--source-*) each part streams through memory: a ranged GET from the source,
/// then an UploadPart (or one PUT) to the destination, signed with the part's SHA-256 so
/// the destination checks what it receives. No local disk is touched either way.
extension Mover {
    public func copy(_ source: S3URL, entry: StoredObject, to dest: S3URL, operation: String = "cp") {
        move(operation, source: source.description, destination: dest.description, size: entry.size, deleteSource: { [self] in
            sourceClient.send(S3Call.deleteObject(source)) { _ in }
        }) { [self] finish in
            checkDestination(dest, sourceSize: entry.size, sourceMtime: entry.mtime) { [self] proceed in
                guard proceed else { return finish(.skipped(size: entry.size)) }
                if context.serverSideCopy && entry.size <= options.copyThreshold {
                    copyObject(source, entry: entry, to: dest, finish: finish)
                } else if !context.serverSideCopy && entry.size <= options.multipartThreshold {
                    streamSingle(source, entry: entry, to: dest, finish: finish)
                } else {
                    offload { [self] in PartCopy(mover: self, source: source, entry: entry, dest: dest, finish: finish).begin() }
                }
            }
        }
    }

    /// Headers given by the user replace the source's metadata; none given, it is copied.
    private var replacesMetadata: Bool { !options.headers.isEmpty || options.contentType != nil }

    private func copyObject(_ source: S3URL, entry: StoredObject, to dest: S3URL, finish: @escaping @Sendable (MoveOutcome) -> Void) {
        let headers = replacesMetadata ? uploadHeaders(path: dest.key, mtime: nil) : []
        client.send(S3Call.copy(from: source, to: dest, headers: headers, replaceMetadata: replacesMetadata)) { result in
            switch result {
            case .failure(let error): finish(.failed(error))
            case .success(let response): finish(.done(size: entry.size, etag: S3Reply.copyETag(response.body)))
            }
        }
    }

    private func streamSingle(_ source: S3URL, entry: StoredObject, to dest: S3URL, finish: @escaping @Sendable (MoveOutcome) -> Void) {
        let sink = MemorySink(limit: Int(max(entry.size, 1) + (1 << 20)))
        sourceClient.send(S3Call.get(source), sink: sink) { [self] result in
            switch result {
            case .failure(let error): finish(.failed(error))
            case .success(let got):
                let md5 = MD5.digestHex(sink.bytes)
                let sourceETag = ETag.unquote(got.headers.etag ?? entry.etag)
                if options.verify, sourceETag.isPlainMD5, sourceETag.lowercased() != md5 {
                    return finish(.failed(IntegrityError(resource: source.description, expected: sourceETag, actual: md5)))
                }
                var headers = uploadHeaders(path: nil, mtime: got.headers.metadata["mtime"].flatMap(Double.init))
                if options.contentType == nil, let type = got.headers.contentType { headers.append(("Content-Type", type)) }
                for (name, value) in got.headers.metadata where name != "mtime" { headers.append(("x-amz-meta-" + name, value)) }
                let body = MemoryBody(sink.bytes)
                client.send(S3Call.put(dest, body: body, headers: headers, payloadHash: SHA256.hex(sink.bytes))) { result in
                    switch result {
                    case .failure(let error): finish(.failed(error))
                    case .success(let put): finish(.done(size: entry.size, etag: put.headers.etag.map(ETag.unquote)))
                    }
                }
            }
        }
    }
}

/// A multipart copy: UploadPartCopy ranges inside one store, or GET-then-UploadPart
/// ranges between two. Confined, not locked: `begin` runs on a finisher thread, then
/// everything else on the engine thread (handed over by `submitOnLoop`).
final class PartCopy: @unchecked Sendable { // confined in turn to one thread, see above
    let mover: Mover
    let source: S3URL
    let entry: StoredObject
    let dest: S3URL
    let finish: @Sendable (MoveOutcome) -> Void
    let partSize: Int64
    let partCount: Int
    var uploadID = ""
    var etags: [String?]
    var next = 0
    var running = 0
    var failure: ArcError?

    init(mover: Mover, source: S3URL, entry: StoredObject, dest: S3URL, finish: @escaping @Sendable (MoveOutcome) -> Void) {
        self.mover = mover
        self.source = source
        self.entry = entry
        self.dest = dest
        self.finish = finish
        partSize = mover.options.partSize(for: entry.size)
        partCount = max(1, Int((entry.size + partSize - 1) / partSize))
        etags = Array(repeating: nil, count: partCount)
    }

    var client: S3Client { mover.client }

    /// On a finisher thread: carry the source's type and metadata over, create the upload.
    func begin() {
        do {
            let head = try mover.sourceClient.perform(S3Call.head(source)).headers
            var headers = mover.options.headers
            if let type = mover.options.contentType ?? head.contentType { headers.append(("Content-Type", type)) }
            if mover.options.headers.isEmpty {
                for (name, value) in head.metadata { headers.append(("x-amz-meta-" + name, value)) }
            }
            uploadID = try S3Reply.uploadID(try client.perform(S3Call.createMultipart(dest, headers: headers)).body)
        } catch {
            return finish(.failed(error as? ArcError ?? UnavailableError(dest.description, "\(error)")))
        }
        client.engine.submitOnLoop { [self] in pump() }
    }

    private func range(_ i: Int) -> ClosedRange<Int64> {
        let start = Int64(i) * partSize
        return start...(min(entry.size, start + partSize) - 1)
    }

    private func pump() {
        if let failure {
            guard running == 0 else { return }
            client.send(S3Call.abortMultipart(dest, uploadID: uploadID)) { _ in }
            return finish(.failed(failure))
        }
        while running < mover.options.partsInFlight && next < partCount {
            let i = next
            next += 1
            running += 1
            if mover.context.serverSideCopy { copyPart(i) } else { streamPart(i) }
        }
        if running == 0 && next == partCount { complete() }
    }

    private func partDone(_ i: Int, _ result: Result<String?, S3Error>) {
        running -= 1
        switch result {
        case .failure(let error): failure = failure ?? error
        case .success(let etag): etags[i] = etag
        }
        pump()
    }

    private func copyPart(_ i: Int) {
        let request = S3Call.uploadPartCopy(dest, uploadID: uploadID, part: i + 1, source: source, range: range(i),
                                            ifMatch: entry.etag.isEmpty ? nil : entry.etag)
        client.send(request) { [self] result in partDone(i, result.map { S3Reply.copyETag($0.body) }) }
    }

    private func streamPart(_ i: Int) {
        let sink = MemorySink(limit: Int(partSize) + 1)
        mover.sourceClient.send(S3Call.get(source, range: range(i), ifMatch: entry.etag), sink: sink) { [self] result in
            switch result {
            case .failure(let error): partDone(i, .failure(error))
            case .success:
                let body = MemoryBody(sink.bytes)
                client.send(S3Call.uploadPart(dest, uploadID: uploadID, part: i + 1, body: body,
                                              payloadHash: SHA256.hex(sink.bytes))) { [self] result in
                    partDone(i, result.map { $0.headers.etag.map(ETag.unquote) })
                }
            }
        }
    }

    private func complete() {
        client.send(S3Call.completeMultipart(dest, uploadID: uploadID, etags: etags.map { $0 ?? "" })) { [self] result in
            switch result {
            case .failure(let error):
                client.send(S3Call.abortMultipart(dest, uploadID: uploadID)) { _ in }
                finish(.failed(error))
            case .success(let response):
                finish(.done(size: entry.size, etag: S3Reply.copyETag(response.body)))
            }
        }
    }
}
