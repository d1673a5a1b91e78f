import Glibc
import ArcCore
import CSystem

/// Downloads: into a hidden partial file beside the destination, renamed into place when
/// complete and verified. What is checked is what the store vouches for, cheapest first:
/// the CRC it keeps (HEAD with checksum mode; CRC-32C costs a few percent of MD5), else
/// the MD5 its ETag is. A single-part object streams in one GET, hashed as it arrives;
/// an interrupted one resumes from its partial file. A large multipart object is fetched
/// in concurrent ranges, pinned with If-Match, each range hashed on its own: CRCs combine
/// into the whole object's (any ranges) or, for a COMPOSITE checksum, hash into it as
/// MD5s do into the multipart ETag, both needing ranges cut on the object's own part
/// boundaries (learned with HEAD ?partNumber=1). The ranges complete are recorded beside
/// the partial file (RangeJournal), so an interrupted one fetches only the rest.
extension Mover {
    public func download(_ source: S3URL, entry: StoredObject, to path: String, operation: String = "cp") {
        move(operation, source: source.description, destination: path, size: entry.size, deleteSource: { [self] in
            sourceClient.send(S3Call.deleteObject(source)) { _ in }
        }) { [self] finish in
            if options.noClobber || options.ifSizeDiffer || options.ifSourceNewer {
                var st = stat()
                if stat(path, &st) == 0, !decide(existingSize: Int64(st.st_size), existingMtime: Double(st.st_mtim.tv_sec),
                                                  sourceSize: entry.size, sourceMtime: entry.mtime) {
                    return finish(.skipped(size: entry.size))
                }
            }
            do { try FileSystem.makeDirectories(FileSystem.parent(of: path)) } catch {
                return finish(.failed(error as! ArcError))
            }
            if entry.size > options.multipartThreshold && entry.etag.contains("-") {
                offload { [self] in RangedDownload(mover: self, source: source, entry: entry, path: path, finish: finish).begin() }
            } else {
                streamDownload(source, entry: entry, to: path, finish: finish)
            }
        }
    }

    static func partialPath(_ path: String) -> String {
        let parent = FileSystem.parent(of: path)
        return (parent == "." && !path.hasPrefix("./") ? "" : parent + "/") + "." + FileSystem.baseName(of: path) + ".s3x-partial"
    }

    private func streamDownload(_ source: S3URL, entry: StoredObject, to path: String, finish: @escaping @Sendable (MoveOutcome) -> Void) {
        // A partial file left by a ranged download has holes: it is no prefix to go on from.
        let journal = RangeJournal(partial: Self.partialPath(path))
        if FileSystem.exists(journal.path) {
            unlink(Self.partialPath(path))
            journal.remove()
        }
        // A CRC of the whole object, when the store keeps one (a composite one needs parts).
        let crc = options.verify ? entry.checksum.flatMap { $0.parts == nil ? $0 : nil } : nil
        let crcDigest = crc.map { CRCDigest($0.algorithm) }
        let sink = FileSink(path: Self.partialPath(path), expectedSize: entry.size,
                            digest: crcDigest ?? (options.verify ? MD5() as StreamingDigest : NoDigest()))
        // The CRC is the HEAD's: the GET must be of the same object (a changed one is a 412).
        var request = S3Call.get(source, ifMatch: crc != nil && !entry.etag.isEmpty ? entry.etag : nil)
        request.ifRange = entry.etag.isEmpty ? nil : entry.etag
        sourceClient.send(request, sink: sink) { [self] result in
            switch result {
            case .failure(let error):
                if case .cancelled = error.transfer { sink.keepPartial() } else { sink.discard() }
                finish(.failed(error))
            case .success(let response):
                offload { [self] in
                    let etag = ETag.unquote(response.headers.etag ?? entry.etag)
                    var verified: String?
                    if let crc, let crcDigest {
                        let ours = crcDigest.value.base64
                        if ours != crc.value {
                            sink.discard()
                            return finish(.failed(IntegrityError(resource: source.description, expected: crc.description,
                                                                 actual: "\(crc.algorithm.rawValue):\(ours)")))
                        }
                        verified = crc.algorithm.rawValue
                    } else if options.verify, etag.isPlainMD5 {
                        let md5 = sink.digest()
                        if etag.lowercased() != md5 {
                            sink.discard()
                            return finish(.failed(IntegrityError(resource: source.description, expected: etag, actual: md5)))
                        }
                        verified = "md5"
                    }
                    sink.setModificationTime(Self.modificationTime(response.headers, entry: entry))
                    do {
                        try sink.commit(to: path)
                        finish(.done(size: sink.written, etag: etag, verified: verified))
                    } catch {
                        sink.discard()
                        finish(.failed(error as? ArcError ?? UnavailableError(path, "\(error)")))
                    }
                }
            }
        }
    }

    /// The time a downloaded file gets: the uploader's mtime when stored, else LastModified.
    static func modificationTime(_ headers: ResponseHeaders, entry: StoredObject) -> Double {
        if let stored = headers.metadata["mtime"].flatMap(Double.init) { return stored }
        if let modified = headers.lastModified.flatMap(WallClock.parseHTTPDate) { return Double(modified) / 1000 }
        return entry.mtime
    }
}

/// A multipart object fetched in concurrent ranges into one partial file. Confined, not
/// locked: `begin` runs on a finisher thread, then `pump` and the range completions on the
/// engine thread only, then `commit` on a finisher thread; each hand-over goes through a
/// queue's lock, so one thread at a time touches the state. Recording a range complete
/// (fdatasync, then the journal) runs on a finisher thread and touches only the journal.
final class RangedDownload: @unchecked Sendable { // confined in turn to one thread, see above
    let mover: Mover
    let source: S3URL
    let entry: StoredObject
    let path: String
    let finish: @Sendable (MoveOutcome) -> Void
    let journal: RangeJournal
    var partSize: Int64 = 0
    var ranges: [ClosedRange<Int64>] = []
    /// Each range's digest: MD5 bytes, or a CRC's (big-endian), as `hash` says.
    var digests: [[UInt8]?] = []
    /// How the ranges are hashed, and the store's CRC they check against (when `.crc`).
    var hash = RangeHash.none
    var checksum: StoredChecksum?
    /// Ranges complete: kept from an earlier run, or fetched in this one.
    var complete: [Bool] = []
    var aligned = false
    var next = 0
    var running = 0
    /// Ranges fetched and being recorded in the journal.
    var recording = 0
    var failure: ArcError?
    var fd: Int32 = -1
    var headers = ResponseHeaders()
    var partial: String { Mover.partialPath(path) }

    init(mover: Mover, source: S3URL, entry: StoredObject, path: String, finish: @escaping @Sendable (MoveOutcome) -> Void) {
        self.mover = mover
        self.source = source
        self.entry = entry
        self.path = path
        self.finish = finish
        journal = RangeJournal(partial: Mover.partialPath(path))
    }

    /// On a finisher thread: learn the part layout, open the partial file, take over the
    /// ranges an earlier run completed, start the rest.
    func begin() {
        do {
            let head = try mover.sourceClient.perform(S3Call.head(source, partNumber: 1))
            headers = head.headers
            let count = Int(entry.etag.split(separator: "-").last ?? "") ?? 0
            if let first = head.headers.contentLength, first > 0, count > 0,
               Int64(count - 1) * first < entry.size, entry.size <= Int64(count) * first {
                partSize = first
                aligned = true
            } else {
                partSize = mover.options.partSize(for: entry.size)
            }
            var start: Int64 = 0
            while start < entry.size {
                ranges.append(start...min(entry.size, start + partSize) - 1)
                start += partSize
            }
            digests = Array(repeating: nil, count: ranges.count)
            complete = Array(repeating: false, count: ranges.count)
            if mover.options.verify { try chooseHash(partCount: count) }
            fd = open(partial, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw SystemError("open", path: partial, errno: errno) }
            // Ranges recorded with another hash are not taken over: their digests would not
            // compare (a journal of an MD5 download, then a store that keeps CRCs).
            var hashName = ""
            if case .crc(let algorithm) = hash { hashName = " " + algorithm.rawValue }
            let layout = RangeJournal.Layout(size: entry.size, rangeSize: partSize, etag: entry.etag + hashName)
            let kept = try keep(journal.recorded(for: layout, rangeCount: ranges.count))
            // The journal first: a crash between the two leaves stale bytes no line claims.
            try journal.begin(layout, kept: kept)
            if kept.isEmpty && ftruncate(fd, 0) != 0 { throw SystemError("ftruncate", path: partial, errno: errno) }
            // The whole file's blocks at once, not a few at a time as the ranges write:
            // less work per write for the filesystem, and a full disk shows here, before any
            // byte is fetched. The file is then full-size from the start: what is in it is
            // what the journal says (written before this), never what its size suggests.
            // Where the filesystem cannot (EOPNOTSUPP), blocks come as the ranges write.
            let preallocated = arc_fallocate(fd, entry.size)
            if preallocated != 0 && preallocated != EOPNOTSUPP && preallocated != EINVAL {
                throw SystemError("fallocate", path: partial, errno: preallocated)
            }
            if !kept.isEmpty {
                let bytes = kept.keys.reduce(Int64(0)) { $0 + Int64(ranges[$1].count) }
                mover.context.log.info("resuming the download of \(source)", ["ranges_kept": .int(Int64(kept.count)),
                                                                               "bytes_kept": .int(bytes)])
            }
        } catch {
            if fd >= 0 { close(fd) }
            journal.close()
            return finish(.failed(error as? ArcError ?? UnavailableError(path, "\(error)")))
        }
        mover.client.engine.submitOnLoop { [self] in pump() }
    }

    /// Checks with the CRC the store keeps when it keeps one (asked with a HEAD in checksum
    /// mode unless the entry came from one): of the whole object, with any ranges; a
    /// COMPOSITE one only with ranges on its parts. Else MD5, checked when aligned.
    private func chooseHash(partCount: Int) throws {
        checksum = entry.checksum
        if checksum == nil {
            let head = try mover.sourceClient.perform(S3Call.head(source, checksumMode: true)).headers
            // Another object since the listing: its CRC is not this one's (If-Match fails the GETs).
            if ETag.unquote(head.etag ?? "") == entry.etag { checksum = head.checksum }
        }
        if let checksum, checksum.parts == nil || (aligned && checksum.parts == partCount) {
            hash = .crc(checksum.algorithm)
        } else {
            checksum = nil
            hash = .md5
        }
    }

    /// The recorded ranges whose bytes are still in the partial file: when verifying, each
    /// is read back and hashed, kept only if it matches its recorded digest (a crash can
    /// tear what was written but not recorded; a file edited meanwhile shows too).
    private func keep(_ recorded: [Int: String]) throws -> [Int: String] {
        var kept: [Int: String] = [:]
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        for (i, md5) in recorded {
            guard mover.options.verify else {
                kept[i] = md5
                complete[i] = true
                continue
            }
            let digest = hash.makeDigest()
            var offset = ranges[i].lowerBound
            while offset <= ranges[i].upperBound {
                let want = Int(min(Int64(buffer.count), ranges[i].upperBound + 1 - offset))
                let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                buffer.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                offset += Int64(n)
            }
            guard offset > ranges[i].upperBound else { continue }
            let bytes = digest.finalize()
            guard md5 == "-" || Hex.encode(bytes) == md5.lowercased() else { continue }
            kept[i] = Hex.encode(bytes)
            digests[i] = bytes
            complete[i] = true
        }
        return kept
    }

    private func pump() {
        if let failure {
            guard running == 0 && recording == 0 else { return }
            close(fd)
            if case .cancelled = (failure as? S3Error)?.transfer {
                // Interrupted: the partial file and its journal are for the next run.
                journal.close()
            } else {
                // The partial first: a crash between the two leaves a journal without
                // its file, never a full-size (preallocated) file that no journal describes.
                unlink(partial)
                journal.remove()
            }
            return finish(.failed(failure))
        }
        while running < mover.options.partsInFlight && next < ranges.count {
            if !complete[next] { fetch(next) }
            next += 1
        }
        if running == 0 && recording == 0 && next == ranges.count { mover.offload { [self] in commit() } }
    }

    private func fetch(_ i: Int) {
        running += 1
        let sink = RangeSink(fd: fd, path: partial, offset: ranges[i].lowerBound, hash: hash)
        mover.sourceClient.send(S3Call.get(source, range: ranges[i], ifMatch: entry.etag), sink: sink) { [self] result in
            running -= 1
            switch result {
            case .failure(let error):
                try? sink.finishWrites()
                failure = failure ?? error
            case .success:
                do { try sink.finishWrites() } catch {
                    failure = failure ?? (error as? ArcError ?? UnavailableError(partial, "\(error)"))
                }
                if sink.written != Int64(ranges[i].count) {
                    failure = failure ?? S3Error(operation: "GetObject", resource: source.description, status: 0, s3Code: "",
                                                 message: "range \(i + 1) returned \(sink.written) of \(ranges[i].count) bytes")
                }
                digests[i] = sink.digest()
                if failure == nil { record(i) }
            }
            pump()
        }
    }

    /// Records range `i` complete once its bytes are durable, off the engine thread; the
    /// download commits (or gives up) only when every record is written.
    private func record(_ i: Int) {
        complete[i] = true
        recording += 1
        let (fd, journal, partial) = (self.fd, self.journal, self.partial)
        let md5 = hash == .none ? "-" : Hex.encode(digests[i] ?? [])
        mover.offload { [self] in
            if fdatasync(fd) == 0 {
                do { try journal.record(i, md5: md5) } catch {
                    // Only resuming suffers: the range is fetched again if the run is cut short.
                    mover.context.log.warn("\(partial): range \(i + 1) not recorded: \(error)")
                }
            }
            mover.client.engine.submitOnLoop { [self] in
                recording -= 1
                pump()
            }
        }
    }

    private func commit() {
        defer { if fd >= 0 { close(fd) } }
        var verified: String?
        if case .crc(let algorithm) = hash, let checksum {
            let crcs = digests.indices.map { i in
                CRCValue(algorithm, value: (digests[i] ?? []).reduce(UInt32(0)) { $0 << 8 | UInt32($1) },
                         length: Int64(ranges[i].count))
            }
            let ours = checksum.text(ofParts: crcs)
            if ours != checksum.text {
                unlink(partial)
                journal.remove()
                return finish(.failed(IntegrityError(resource: source.description, expected: checksum.description,
                                                     actual: "\(algorithm.rawValue):\(ours)")))
            }
            verified = algorithm.rawValue
        } else if hash == .md5 && aligned {
            let expected = MD5.multipartETag(partDigests: digests.map { $0 ?? [] })
            if expected != entry.etag.lowercased() {
                unlink(partial)
                journal.remove()
                return finish(.failed(IntegrityError(resource: source.description, expected: entry.etag, actual: expected)))
            }
            verified = "md5"
        }
        let mtime = Mover.modificationTime(headers, entry: entry)
        FileSystem.setModificationTime(fd, mtime)
        do {
            if fdatasync(fd) != 0 { throw SystemError("fdatasync", path: partial, errno: errno) }
            try FileSystem.rename(partial, path)
            journal.remove()
            finish(.done(size: entry.size, etag: entry.etag, verified: verified))
        } catch {
            unlink(partial)
            journal.remove()
            finish(.failed(error as? ArcError ?? UnavailableError(path, "\(error)")))
        }
    }
}
