import Glibc
import ArcCore

/// An object as a listing shows it, or a local file as a walk finds it (s5cmd's
/// storage.Object): what sync compares and cp moves.
public struct StoredObject: Sendable {
    /// The path relative to what was listed (`a/b.txt`), always with `/`.
    public var relative: String
    public var size: Int64
    /// Seconds since the epoch: a file's mtime, an object's LastModified.
    public var mtime: Double
    public var etag: String
    public var storageClass: String
    /// The CRC the store keeps for the object, when a HEAD with checksum mode gave one
    /// (a listing does not).
    public var checksum: StoredChecksum?

    public init(relative: String, size: Int64, mtime: Double, etag: String = "", storageClass: String = "",
                checksum: StoredChecksum? = nil) {
        self.relative = relative
        self.size = size
        self.mtime = mtime
        self.etag = etag
        self.storageClass = storageClass
        self.checksum = checksum
    }
}

/// Streams a bucket's listing page by page, asking for the next page before handing the
/// current one over, so transfers start while the listing goes on and memory holds one
/// page at a time whatever the bucket's size.
public struct ObjectLister {
    let client: S3Client
    let v1: Bool

    public init(client: S3Client, v1: Bool) {
        self.client = client
        self.v1 = v1
    }

    /// Calls `page` with each page's objects and common prefixes, in key order.
    public func list(bucket: String, prefix: String, delimiter: String? = nil,
                     page: ([ListedObject], [String]) throws -> Void) throws {
        var token: String?
        var pending = BlockingQueue<Result<S3Response, S3Error>>(capacity: 1)
        send(bucket: bucket, prefix: prefix, delimiter: delimiter, token: nil, into: pending)
        while true {
            let response = try pending.take()!.get()
            let parsed = try ListObjects.parse(response.body, urlEncoded: true)
            let next = v1 ? try parsed.continuation(after: token) : parsed.isTruncated ? parsed.nextContinuationToken : nil
            if parsed.isTruncated && next == nil {
                throw ListParseError(message: "the page is truncated but has no continuation token")
            }
            if let next {
                pending = BlockingQueue(capacity: 1)
                send(bucket: bucket, prefix: prefix, delimiter: delimiter, token: next, into: pending)
            }
            try page(parsed.objects, parsed.commonPrefixes)
            guard let next else { return }
            token = next
        }
    }

    private func send(bucket: String, prefix: String, delimiter: String?, token: String?,
                      into queue: BlockingQueue<Result<S3Response, S3Error>>) {
        client.send(S3Call.list(bucket: bucket, prefix: prefix, delimiter: delimiter, continuation: token, v1: v1)) {
            queue.put($0)
        }
    }
}

/// Walks a directory tree in the byte order of relative paths (the order S3 lists keys
/// in), one directory's entries in memory at a time, so it merges with a listing.
public enum LocalWalk {
    public static func walk(_ root: String, visit: (StoredObject) throws -> Void) throws {
        var ancestors = Set<FileID>()
        try walk(root: root, relative: "", ancestors: &ancestors, visit: visit)
    }

    /// A directory's identity, to notice a symbolic link back to one of its ancestors.
    struct FileID: Hashable {
        let device: UInt
        let inode: UInt
    }

    private static func walk(root: String, relative: String, ancestors: inout Set<FileID>,
                             visit: (StoredObject) throws -> Void) throws {
        let directory = relative.isEmpty ? root : root + "/" + relative.dropLast()
        var own = stat()
        guard stat(directory, &own) == 0 else { throw SystemError("stat", path: directory, errno: errno) }
        let id = FileID(device: UInt(own.st_dev), inode: UInt(own.st_ino))
        // Links are followed (as s5cmd does), but a loop is walked once.
        guard ancestors.insert(id).inserted else { return }
        defer { ancestors.remove(id) }
        var names: [(sortKey: String, name: String, isDirectory: Bool, stat: stat)] = []
        for name in try FileSystem.directoryEntries(directory) {
            var st = stat()
            let path = directory + "/" + name
            guard stat(path, &st) == 0 else { continue }  // vanished, or a dangling link
            let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
            guard isDirectory || (st.st_mode & S_IFMT) == S_IFREG else { continue }
            if !isDirectory && isPartial(name) { continue }
            names.append((isDirectory ? name + "/" : name, name, isDirectory, st))
        }
        names.sort { $0.sortKey.utf8.lexicographicallyPrecedes($1.sortKey.utf8) }
        for n in names {
            if n.isDirectory {
                try walk(root: root, relative: relative + n.name + "/", ancestors: &ancestors, visit: visit)
            } else {
                let mtime = Double(n.stat.st_mtim.tv_sec) + Double(n.stat.st_mtim.tv_nsec) / 1e9
                try visit(StoredObject(relative: relative + n.name, size: Int64(n.stat.st_size), mtime: mtime))
            }
        }
    }

    /// s3x's own partial downloads (and their range journals) are not part of the tree.
    public static func isPartial(_ name: String) -> Bool { name.hasSuffix(".s3x-partial") || name.hasSuffix(".s3x-partial.ranges") }
}

/// `--include` and `--exclude` globs, matched whole against the path relative to the
/// source folder (`*` crosses `/`), as s5cmd matches them: include first, then exclude.
public struct PathFilter: Sendable {
    let include: [Glob]
    let exclude: [Glob]

    public init(include: [String], exclude: [String]) {
        self.include = include.map(Glob.init)
        self.exclude = exclude.map(Glob.init)
    }

    public func accepts(_ relative: String) -> Bool {
        if !include.isEmpty && !include.contains(where: { $0.matches(relative) }) { return false }
        return !excludes(relative)
    }

    public func excludes(_ relative: String) -> Bool {
        exclude.contains { $0.matches(relative) }
    }
}
