import Glibc
import ArcCore

/// sync: both sides are listed, sorted by the bytes of their paths (in memory up to
/// 50,000 entries a side, spilling sorted runs to temporary files beyond), and merged
/// like two sorted files, so memory stays bounded whatever the number of objects.
enum SyncCommand {
    enum Side {
        case local(String)
        /// A folder in S3; with a pattern (`s3://b/p/*.gz`), only the keys it matches, named
        /// relative to the folder before the wildcard, as s5cmd's `sync 's3://b/p/*' dir/`.
        case s3(S3URL, pattern: Glob?)

        init(_ text: String, wildcardAllowed: Bool) throws {
            if S3URL.isS3(text) {
                var url = try S3URL(parsing: text)
                if url.hasWildcard {
                    guard wildcardAllowed else { throw UsageError("'\(text)': sync's destination is a prefix, not a wildcard") }
                    self = .s3(url.with(key: url.baseDirectory), pattern: Glob(url.key))
                    return
                }
                if !url.key.isEmpty && !url.key.hasSuffix("/") { url.key += "/" }
                self = .s3(url, pattern: nil)
            } else {
                var path = text
                while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
                self = .local(path)
            }
        }

        func list(_ context: S3xContext, client: S3Client, _ visit: (StoredObject) throws -> Void) throws {
            switch self {
            case .local(let root):
                guard FileSystem.isDirectory(root) else { return }
                try LocalWalk.walk(root, visit: visit)
            case .s3(let url, let pattern):
                let prefix = pattern.map { S3URL(bucket: url.bucket, key: $0.pattern).listPrefix } ?? url.key
                try ObjectLister(client: client, v1: context.listV1).list(bucket: url.bucket, prefix: prefix) { objects, _ in
                    for o in objects where !(o.key.hasSuffix("/") && o.size == 0) && (pattern?.matches(o.key) ?? true) {
                        let mtime = WallClock.parseRFC3339(o.lastModified).map { Double($0) / 1000 } ?? 0
                        try visit(StoredObject(relative: String(o.key.dropFirst(url.key.count)), size: o.size, mtime: mtime,
                                        etag: o.etag, storageClass: o.storageClass))
                    }
                }
            }
        }

        /// Whether an entry with this relative path is one the side names: always, but for
        /// a pattern's keys. --delete removes only such entries from the destination.
        func names(_ relative: String) -> Bool {
            guard case .s3(let url, let pattern?) = self else { return true }
            return pattern.matches(url.key + relative)
        }
    }

    /// The destination as given, or for `sync dir s3://b/p/` (a folder named without a
    /// trailing `/`) p/dir/: the folder itself is synced, as s5cmd and cp place it, and
    /// --delete stays inside p/dir/. `dir/` syncs its contents.
    static func destination(_ dest: Side, for source: Side, _ sourceText: String) throws -> Side {
        if case .local = source, case .local = dest { throw UsageError("sync: one side must be an s3:// URL") }
        guard case .local(let root) = source else { return dest }
        guard FileSystem.isDirectory(root) else { throw UsageError("sync: '\(root)' is not a directory") }
        let name = FileSystem.baseName(of: root)
        guard !sourceText.hasSuffix("/"), !["", ".", "..", "/"].contains(name), case .s3(var url, _) = dest else { return dest }
        url.key += name + "/"
        return .s3(url, pattern: nil)
    }

    static func run(_ sourceText: String, _ destText: String, _ p: ParsedCommand, _ context: S3xContext) throws {
        let source = try Side(sourceText, wildcardAllowed: true)
        let dest = try destination(try Side(destText, wildcardAllowed: false), for: source, sourceText)
        let options = try S3xCommand.moveOptions(p)
        let sizeOnly = p.flag("size-only"), checksum = p.flag("checksum"), delete = p.flag("delete")
        let filter = PathFilter(include: p.list("include"), exclude: p.list("exclude"))
        let mover = Mover(context: context, options: options)
        let remover = BatchRemover(context: context, operation: "rm")

        // Both listings, sorted the same way (spilling to disk past 50,000 entries a side); the
        // destination's is read on its own thread while the source is listed.
        let sortedSource = SortedEntries(), sortedDest = SortedEntries()
        let listError = Locked<Error?>(nil)
        let lister = WorkerThread(name: "sync-dest") {
            do {
                try dest.list(context, client: context.client) { try sortedDest.add($0) }
                try sortedDest.finish()
            } catch { listError.withLock { $0 = error } }
        }
        try source.list(context, client: context.sourceClient) { entry in
            if filter.accepts(entry.relative) { try sortedSource.add(entry) }
        }
        try sortedSource.finish()
        lister.join()
        if let error = listError.current { throw error }
        var pendingDest = try sortedDest.next()

        func copy(_ entry: StoredObject) {
            switch (source, dest) {
            case (.local(let root), .s3(let url, _)):
                mover.upload(path: root + "/" + entry.relative, size: entry.size, mtime: entry.mtime, to: url.with(key: url.key + entry.relative))
            case (.s3(let url, _), .local(let root)):
                mover.download(url.with(key: url.key + entry.relative), entry: entry, to: root + "/" + entry.relative)
            case (.s3(let from, _), .s3(let to, _)):
                mover.copy(from.with(key: from.key + entry.relative), entry: entry, to: to.with(key: to.key + entry.relative))
            case (.local, .local): break
            }
        }

        func removeExtra(_ entry: StoredObject) {
            guard delete, filter.accepts(entry.relative), source.names(entry.relative) else { return }
            switch dest {
            case .s3(let url, _): remover.add(url.with(key: url.key + entry.relative))
            case .local(let root):
                let path = root + "/" + entry.relative
                if context.dryRun { return context.output.emit("rm", source: path, destination: nil, dryRun: true) }
                if unlink(path) == 0 {
                    context.output.emit("rm", source: path, destination: nil)
                } else {
                    context.output.emit("rm", source: path, destination: nil, status: .failed, error: SystemError("unlink", path: path, errno: errno))
                }
            }
        }

        /// Whether a source entry must be copied over the destination's.
        func differs(_ s: StoredObject, _ d: StoredObject) -> Bool {
            if s.size != d.size { return true }
            if sizeOnly { return false }
            if checksum { return !sameContent(s, d) }
            // S3 keeps LastModified in whole seconds: a file uploaded at 12:00:05.7 shows as
            // 12:00:05, so compare the file's time at that precision.
            var sourceTime = s.mtime
            if case .s3 = dest, case .local = source { sourceTime = sourceTime.rounded(.down) }
            guard sourceTime > d.mtime + 0.001 else { return false }
            // An object looks newer than the file it was downloaded to (its LastModified is
            // its upload time); the mtime stored with it says whether it really is.
            if case .s3(let url, _) = source, case .local = dest,
               let stored = try? context.sourceClient.perform(S3Call.head(url.with(key: url.key + s.relative))).headers.metadata["mtime"],
               let time = Double(stored) {
                return abs(time - d.mtime) > 0.002
            }
            return true
        }

        func sameContent(_ s: StoredObject, _ d: StoredObject) -> Bool {
            switch (source, dest) {
            case (.local(let root), .s3): return LocalETag.matches(path: root + "/" + s.relative, size: s.size, etag: d.etag, options: options)
            case (.s3, .local(let root)): return LocalETag.matches(path: root + "/" + d.relative, size: d.size, etag: s.etag, options: options)
            default: return s.etag == d.etag
            }
        }

        while let entry = try sortedSource.next() {
            while let d = pendingDest, d.relative.utf8.lexicographicallyPrecedes(entry.relative.utf8) {
                removeExtra(d)
                pendingDest = try sortedDest.next()
            }
            // Bytes, not String ==: Unicode equivalence would call an NFD name and an NFC key the same.
            if let d = pendingDest, d.relative.utf8.elementsEqual(entry.relative.utf8) {
                pendingDest = try sortedDest.next()
                if differs(entry, d) { copy(entry) }
            } else {
                copy(entry)
            }
        }
        while let d = pendingDest {
            removeExtra(d)
            pendingDest = try sortedDest.next()
        }
        mover.close()
        remover.finish()
    }
}

/// Compares a local file with an ETag by content: its MD5 for a single-part ETag, or the
/// MD5 of its parts' MD5s for a multipart one, trying the part sizes tools commonly use.
enum LocalETag {
    static func matches(path: String, size: Int64, etag: String, options: MoveOptions) -> Bool {
        let lower = etag.lowercased()
        if lower.isPlainMD5 { return (try? digests(path: path, partSize: max(size, 1)).first.map(Hex.encode)) == lower }
        guard let dash = lower.lastIndex(of: "-"), let count = Int(lower[lower.index(after: dash)...]), count > 0 else { return false }
        let mib: Int64 = 1 << 20
        var candidates = [options.partSize(for: size), (size + Int64(count) - 1) / Int64(count)]
        candidates.append(((size + Int64(count) - 1) / Int64(count) + mib - 1) / mib * mib)
        candidates += [8 * mib, 16 * mib, 50 * mib, 64 * mib, 100 * mib]
        for part in candidates where part > 0 && (size + part - 1) / part == Int64(count) {
            if let d = try? digests(path: path, partSize: part), MD5.multipartETag(partDigests: d) == lower { return true }
        }
        return false
    }

    static func digests(path: String, partSize: Int64) throws -> [[UInt8]] {
        let file = try SharedFile(path: path)
        var st = stat()
        fstat(file.fd, &st)
        let size = Int64(st.st_size)
        var result: [[UInt8]] = []
        var offset: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        repeat {
            let body = FileRangeBody(file: file, offset: offset, length: min(partSize, size - offset))
            while try buffer.withUnsafeMutableBytes({ try body.read(into: $0) }) > 0 {}
            result.append(body.md5.finalize())
            offset += partSize
        } while offset < size
        return result
    }
}
