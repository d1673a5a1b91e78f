import Glibc
import ArcCore

/// Uploads: one PUT for small files, a multipart upload for large ones. A multipart upload
/// asks the store to keep a CRC-32C of the whole object: each part then goes with its
/// CRC-32C (computed from the file just before it is sent, with the CPU's instruction),
/// which the store checks against the bytes it receives (refusing the part otherwise) and
/// gives back, and the whole object's CRC, combined from the parts', is checked against
/// the one the store answers. A store that does not keep CRCs (its answer to the upload's
/// creation does not name the algorithm) gets the MD5 way: every part's MD5 computed as it
/// is read and checked against the ETag S3 answers, and the whole object's against the
/// final ETag; so does a single PUT. A multipart upload cut short by a signal is left for
/// the next run, which finds it (ListMultipartUploads), keeps the parts whose MD5 still
/// matches the file (ListParts) and sends only the rest, or aborts it when its parts are
/// of another size; one that failed is aborted.
extension Mover {
    public func upload(path: String, size: Int64, mtime: Double, to dest: S3URL, operation: String = "cp") {
        move(operation, source: path, destination: dest.description, size: size, deleteSource: { [self] in
            if unlink(path) != 0 { context.log.warn("\(path): uploaded but not removed: \(String(cString: strerror(errno)))") }
        }) { [self] finish in
            checkDestination(dest, sourceSize: size, sourceMtime: mtime) { [self] proceed in
                guard proceed else { return finish(.skipped(size: size)) }
                let file: SharedFile
                do { file = try SharedFile(path: path) } catch { return finish(.failed(error as! ArcError)) }
                let headers = uploadHeaders(path: path, mtime: mtime)
                if size <= options.multipartThreshold {
                    putSingle(file: file, size: size, to: dest, headers: headers, finish: finish)
                } else {
                    offload { [self] in
                        MultipartUpload(mover: self, file: file, size: size, dest: dest, headers: headers, finish: finish).begin()
                    }
                }
            }
        }
    }

    private func putSingle(file: SharedFile, size: Int64, to dest: S3URL, headers: [(String, String)],
                           finish: @escaping @Sendable (MoveOutcome) -> Void) {
        let body = FileRangeBody(file: file, offset: 0, length: size)
        client.send(S3Call.put(dest, body: body, headers: headers)) { [self] result in
            switch result {
            case .failure(let error): finish(.failed(error))
            case .success(let response):
                let etag = response.headers.etag.map(ETag.unquote)
                let md5 = Hex.encode(body.md5.finalize())
                let checked = options.verify && etag?.isPlainMD5 == true
                if checked, let etag, etag.lowercased() != md5 {
                    // What S3 holds is not what we sent: do not leave it looking complete.
                    client.send(S3Call.deleteObject(dest)) { _ in }
                    return finish(.failed(IntegrityError(resource: dest.description, expected: etag, actual: md5)))
                }
                finish(.done(size: size, etag: etag, verified: checked ? "md5" : nil))
            }
        }
    }

    /// -n, -s, -u: whether the copy should go ahead, given what is at the destination.
    func checkDestination(_ dest: S3URL, sourceSize: Int64, sourceMtime: Double, then: @escaping @Sendable (Bool) -> Void) {
        guard options.noClobber || options.ifSizeDiffer || options.ifSourceNewer else { return then(true) }
        client.send(S3Call.head(dest)) { [self] result in
            guard case .success(let response) = result else { return then(true) }
            then(decide(existingSize: response.headers.contentLength ?? -1,
                        existingMtime: WallClock.parseHTTPDate(response.headers.lastModified ?? "").map { Double($0) / 1000 } ?? 0,
                        sourceSize: sourceSize, sourceMtime: sourceMtime))
        }
    }

    func decide(existingSize: Int64, existingMtime: Double, sourceSize: Int64, sourceMtime: Double) -> Bool {
        if options.noClobber { return false }
        if options.ifSizeDiffer && existingSize == sourceSize { return false }
        if options.ifSourceNewer && sourceMtime <= existingMtime { return false }
        return true
    }
}

/// One multipart upload of a file: parts sent --concurrency at a time, each verified.
/// Confined, not locked: `begin` runs on a finisher thread, then everything else on the
/// engine thread (handed over by `submitOnLoop`).
final class MultipartUpload: @unchecked Sendable { // confined in turn to one thread, see above
    let mover: Mover
    let file: SharedFile
    let size: Int64
    let dest: S3URL
    let headers: [(String, String)]
    let finish: @Sendable (MoveOutcome) -> Void
    let partSize: Int64
    let partCount: Int
    var uploadID = ""
    /// Per part (index = number - 1): its ETag and MD5 (MD5 way) or CRC (CRC way) once sent.
    var etags: [String?]
    var digests: [[UInt8]?]
    var crcs: [CRCValue?]
    /// The CRC the parts carry and the store keeps; nil: the MD5 way (or --no-verify).
    var crc: ChecksumAlgorithm?
    var nextPart = 0
    var running = 0
    var failure: ArcError?

    init(mover: Mover, file: SharedFile, size: Int64, dest: S3URL, headers: [(String, String)],
         finish: @escaping @Sendable (MoveOutcome) -> Void) {
        self.mover = mover
        self.file = file
        self.size = size
        self.dest = dest
        self.headers = headers
        self.finish = finish
        partSize = mover.options.partSize(for: size)
        partCount = Int((size + partSize - 1) / partSize)
        etags = Array(repeating: nil, count: partCount)
        digests = Array(repeating: nil, count: partCount)
        crcs = Array(repeating: nil, count: partCount)
    }

    var client: S3Client { mover.client }

    /// Called on a finisher thread: finds an upload to resume, or creates one.
    func begin() {
        do {
            if try resume() {
                mover.context.log.info("resuming the multipart upload of \(dest)", ["parts_kept": .int(Int64(etags.compactMap { $0 }.count))])
            } else {
                let wanted: ChecksumAlgorithm? = mover.options.verify ? .crc32c : nil
                let response = try client.perform(S3Call.createMultipart(dest, headers: headers, checksum: wanted))
                uploadID = try S3Reply.uploadID(response.body)
                // The store says it keeps the CRC by naming it back; else it is the MD5 way.
                if let wanted, response.headers.checksumAlgorithm == wanted { crc = wanted }
            }
        } catch {
            return finish(.failed(error as? ArcError ?? UnavailableError(dest.description, "\(error)")))
        }
        client.engine.submitOnLoop { [self] in pump() }
    }

    /// An unfinished upload of the same key, in this file's layout (part size, part
    /// count), keeping its parts that still match the file. Every other upload of the key,
    /// left by an earlier run with another part size or of another file, is aborted: it
    /// could never be completed, and S3 keeps (and bills) its parts until it is.
    private func resume() throws -> Bool {
        let uploads = try UploadListing.uploads(of: dest.key, bucket: dest.bucket, client)
        var found: [S3Reply.Part]?
        for upload in uploads.reversed() {
            if found == nil, let parts = try compatibleParts(of: upload.uploadID) {
                uploadID = upload.uploadID
                found = parts
                // Its parts carry what it was created with, as far as the store tells.
                if mover.options.verify, upload.checksumAlgorithm == .crc32c { crc = .crc32c }
                continue
            }
            mover.context.log.info("aborting a multipart upload of \(dest) left by an earlier run",
                                   ["upload_id": .string(upload.uploadID)])
            do { _ = try client.perform(S3Call.abortMultipart(dest, uploadID: upload.uploadID)) } catch {
                mover.context.log.warn("\(dest): the stale upload \(upload.uploadID) is not aborted: \(error)")
            }
        }
        guard let found else { return false }
        for part in found {
            let i = part.number - 1
            let length = min(partSize, size - Int64(i) * partSize)
            guard part.size == length else { continue }
            let body = FileRangeBody(file: file, offset: Int64(i) * partSize, length: length)
            let crcDigest = crc.map { CRCDigest($0) }
            try body.readThrough { crcDigest?.update($0) }
            let md5 = body.md5.finalize()
            if Hex.encode(md5) == part.etag.lowercased() {
                etags[i] = part.etag
                digests[i] = md5
                crcs[i] = crcDigest?.value
            }
        }
        return true
    }

    /// The parts of upload `id`, or nil when they belong to another layout.
    private func compatibleParts(of id: String) throws -> [S3Reply.Part]? {
        var marker: Int?
        var found: [S3Reply.Part] = []
        repeat {
            let page = S3Reply.parts(try client.perform(S3Call.listParts(dest, uploadID: id, marker: marker)).body)
            found += page.parts
            marker = page.next
        } while marker != nil
        return found.allSatisfy({ $0.number <= partCount && ($0.size == partSize || $0.number == partCount) }) ? found : nil
    }

    /// Starts parts until --concurrency are in flight; completes when all are in. Engine thread.
    private func pump() {
        if let failure {
            guard running == 0 else { return }
            client.send(S3Call.abortMultipart(dest, uploadID: uploadID)) { _ in }
            return finish(.failed(failure))
        }
        while running < mover.options.partsInFlight && nextPart < partCount {
            let i = nextPart
            nextPart += 1
            if etags[i] != nil { continue }
            send(part: i)
        }
        if running == 0 && nextPart == partCount { complete() }
    }

    private func send(part i: Int) {
        running += 1
        let offset = Int64(i) * partSize
        let length = min(partSize, size - offset)
        guard let crc else { return send(part: i, body: FileRangeBody(file: file, offset: offset, length: length), crc: nil) }
        // The CRC goes in a header, ahead of the body: read the part once for it, off the
        // engine thread (from the page cache the send reads again).
        mover.offload { [self] in
            let result = Result { try CRCValue.of(crc, file: file, offset: offset, length: length) }
            client.engine.submitOnLoop { [self] in
                switch result {
                case .success(let value):
                    send(part: i, body: FileRangeBody(file: file, offset: offset, length: length, hashing: false), crc: value)
                case .failure(let error):
                    running -= 1
                    failure = failure ?? (error as? ArcError ?? UnavailableError(file.path, "\(error)"))
                    pump()
                }
            }
        }
    }

    /// Sends part `i` (counted in `running` already): with its CRC, checked by the store
    /// and compared with the one it gives back, or hashed with MD5 as it goes, checked
    /// against the ETag.
    private func send(part i: Int, body: FileRangeBody, crc: CRCValue?) {
        client.send(S3Call.uploadPart(dest, uploadID: uploadID, part: i + 1, body: body, checksum: crc)) { [self] result in
            running -= 1
            switch result {
            case .failure(let error):
                failure = failure ?? error
            case .success(let response):
                let etag = ETag.unquote(response.headers.etag ?? "")
                if let crc {
                    // The store compared it with what it received; it must say it kept that one.
                    let kept = response.headers.checksum
                    if kept?.algorithm != crc.algorithm || kept?.value != crc.base64 {
                        failure = failure ?? IntegrityError(resource: "\(dest) part \(i + 1)",
                                                            expected: "\(crc.algorithm.rawValue):\(crc.base64)",
                                                            actual: kept?.description ?? "no checksum")
                    }
                    crcs[i] = crc
                } else {
                    let md5 = body.md5.finalize()
                    if mover.options.verify && etag.isPlainMD5 && etag.lowercased() != Hex.encode(md5) {
                        failure = failure ?? IntegrityError(resource: "\(dest) part \(i + 1)", expected: etag, actual: Hex.encode(md5))
                    }
                    digests[i] = md5
                }
                etags[i] = etag
            }
            if case .cancelled = (failure as? S3Error)?.transfer {
                // Interrupted: keep the upload for the next run to resume.
                if running == 0 { finish(.failed(failure!)) }
                return
            }
            pump()
        }
    }

    private func complete() {
        let all = etags.map { $0 ?? "" }
        let partCRCs = crc.map { _ in crcs.compactMap { $0 } }
        client.send(S3Call.completeMultipart(dest, uploadID: uploadID, etags: all, checksums: partCRCs)) { [self] result in
            switch result {
            case .failure(let error):
                client.send(S3Call.abortMultipart(dest, uploadID: uploadID)) { _ in }
                finish(.failed(error))
            case .success(let response):
                let etag = S3Reply.copyETag(response.body) ?? response.headers.etag.map(ETag.unquote)
                if let crc, let partCRCs {
                    let kept = S3Reply.checksum(response.body, crc) ?? response.headers.checksum
                    return checkObject(crc, parts: partCRCs, kept: kept, etag: etag, askIfMissing: true)
                }
                let expected = MD5.multipartETag(partDigests: digests.map { $0 ?? [] })
                let checked = mover.options.verify && etag?.contains("-") == true
                if checked, let etag, etag.lowercased() != expected {
                    client.send(S3Call.deleteObject(dest)) { _ in }
                    return finish(.failed(IntegrityError(resource: dest.description, expected: etag, actual: expected)))
                }
                finish(.done(size: size, etag: etag, verified: checked ? "md5" : nil))
            }
        }
    }

    /// The whole object's CRC as the store keeps it, against the parts' combined (FULL_OBJECT)
    /// or hashed (COMPOSITE, `-N`). Missing from the completion's answer, it is asked for
    /// once with a HEAD in checksum mode; missing there too, the object is not vouched for.
    private func checkObject(_ algorithm: ChecksumAlgorithm, parts: [CRCValue], kept: StoredChecksum?, etag: String?,
                             askIfMissing: Bool) {
        guard let kept, kept.algorithm == algorithm else {
            if askIfMissing {
                return client.send(S3Call.head(dest, checksumMode: true)) { [self] result in
                    let headers = (try? result.get())?.headers
                    checkObject(algorithm, parts: parts, kept: headers?.checksum, etag: etag, askIfMissing: false)
                }
            }
            client.send(S3Call.deleteObject(dest)) { _ in }
            let ours = CRCValue.combined(algorithm, parts)
            return finish(.failed(IntegrityError(resource: dest.description, expected: "\(algorithm.rawValue):\(ours.base64)",
                                                 actual: "no \(algorithm.rawValue) kept by the store")))
        }
        let ours = kept.text(ofParts: parts)
        if ours != kept.text {
            client.send(S3Call.deleteObject(dest)) { _ in }
            return finish(.failed(IntegrityError(resource: dest.description, expected: kept.description,
                                                 actual: "\(algorithm.rawValue):\(ours)")))
        }
        finish(.done(size: size, etag: etag, verified: algorithm.rawValue))
    }
}
