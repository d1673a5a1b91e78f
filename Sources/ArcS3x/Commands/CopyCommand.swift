import Glibc
import ArcCore

/// cp and mv: expands each source (a file, a directory, a local glob, an object, a prefix
/// or a wildcard) as it is listed and hands each object to the mover, so transfers start
/// with the first page of a listing.
enum CopyCommand {
    static func run(_ operation: String, _ args: [String], _ p: ParsedCommand, _ context: S3xContext) throws {
        guard args.count >= 2 else { throw UsageError("\(operation) needs a SOURCE and a DEST") }
        var options = try S3xCommand.moveOptions(p)
        options.deleteSource = operation == "mv"
        let sources = Array(args.dropLast())
        let destText = args.last!
        let destIsS3 = S3URL.isS3(destText)
        let dest = destIsS3 ? try S3URL(parsing: destText) : nil
        for source in sources where !S3URL.isS3(source) && !destIsS3 {
            throw UsageError("'\(source)' to '\(destText)': one side must be an s3:// URL (use cp(1) for local copies)")
        }
        let expands = sources.count > 1 || sources.contains { expandsToMany($0) }
        let destIsFolder = destIsS3 ? dest!.isDirectoryLike : destText.hasSuffix("/") || FileSystem.isDirectory(destText)
        if expands && !destIsFolder && !(destIsS3 && dest!.key.isEmpty) {
            if destIsS3 || FileSystem.exists(destText) {
                throw UsageError("'\(destText)': several objects need a folder-like destination (end it with '/')")
            }
        }
        let filter = PathFilter(include: p.list("include"), exclude: p.list("exclude"))
        let mover = Mover(context: context, options: options)
        defer { mover.close() }
        let flatten = p.flag("flatten")

        /// Where an object with this relative path goes.
        func target(_ relative: String, single: Bool) -> String {
            let name = flatten ? FileSystem.baseName(of: relative) : relative
            if single && !destIsFolder { return destIsS3 ? dest!.key : destText }
            if destIsS3 {
                let key = dest!.key
                return key.isEmpty || key.hasSuffix("/") ? key + name : key + "/" + name
            }
            if destText == "." { return name }
            return destText.hasSuffix("/") ? destText + name : destText + "/" + name
        }

        for source in sources {
            if S3URL.isS3(source) {
                let src = try S3URL(parsing: source)
                try forEachObject(src, client: context.sourceClient, context: context, filter: filter,
                                  operation: operation, destination: destText) { entry, single in
                    let object = src.with(key: single ? src.key : src.baseDirectoryForCopy + entry.relative)
                    let to = target(entry.relative, single: single && !expands)
                    if destIsS3 {
                        mover.copy(object, entry: entry, to: dest!.with(key: to), operation: operation)
                    } else {
                        mover.download(object, entry: entry, to: to, operation: operation)
                    }
                }
            } else {
                try forEachFile(source, filter: filter) { path, entry, single in
                    mover.upload(path: path, size: entry.size, mtime: entry.mtime,
                                 to: dest!.with(key: target(entry.relative, single: single && !expands)), operation: operation)
                }
            }
        }
    }

    static func expandsToMany(_ source: String) -> Bool {
        if S3URL.isS3(source) {
            guard let url = try? S3URL(parsing: source) else { return false }
            return url.hasWildcard || url.isDirectoryLike
        }
        return source.contains { $0 == "*" || $0 == "?" } || FileSystem.isDirectory(source)
    }

    /// Objects named by an s3:// source: one object (HEAD), or every object a prefix or
    /// wildcard matches, page by page. `relative` is the key below the source's folder.
    /// Nothing found is one failed `operation` from the URL to `destination` (as given).
    static func forEachObject(_ url: S3URL, client: S3Client, context: S3xContext, filter: PathFilter,
                              operation: String, destination: String,
                              _ body: (StoredObject, Bool) throws -> Void) throws {
        guard url.hasWildcard || url.isDirectoryLike else {
            do {
                // With the CRC the store keeps, if any: a download checks that, not MD5.
                let h = try client.perform(S3Call.head(url, checksumMode: true)).headers
                let mtime = h.lastModified.flatMap(WallClock.parseHTTPDate).map { Double($0) / 1000 } ?? 0
                try body(StoredObject(relative: FileSystem.baseName(of: url.key), size: h.contentLength ?? 0, mtime: mtime,
                               etag: ETag.unquote(h.etag ?? ""), checksum: h.checksum), true)
            } catch let error as S3Error where error.isNotFound {
                context.output.emit(operation, source: url.description, destination: destination, status: .failed,
                                    error: S3Error(operation: "HeadObject", resource: url.description, status: 404,
                                                   s3Code: "NoSuchKey", message: "no such object"))
            }
            return
        }
        let pattern = url.hasWildcard ? Glob(url.key) : nil
        let base = url.baseDirectoryForCopy
        var matched = false
        try ObjectLister(client: client, v1: context.listV1).list(bucket: url.bucket, prefix: url.listPrefix) { objects, _ in
            for object in objects where pattern?.matches(object.key) ?? true {
                if object.key.hasSuffix("/") && object.size == 0 { continue }  // folder markers
                let relative = String(object.key.dropFirst(base.count))
                guard filter.accepts(relative) else { continue }
                matched = true
                let mtime = WallClock.parseRFC3339(object.lastModified).map { Double($0) / 1000 } ?? 0
                try body(StoredObject(relative: relative, size: object.size, mtime: mtime, etag: object.etag,
                               storageClass: object.storageClass), false)
            }
        }
        if !matched {
            context.output.emit(operation, source: url.description, destination: destination, status: .failed,
                                error: NoMatchError(url: url.description))
        }
    }

    /// Files named by a local source, as s5cmd names them: a file; `dir/` (its contents);
    /// `dir` (the folder itself, under its name); or a glob, expanded as a shell does (`*`
    /// stays within a folder), a matched folder copied whole. Paths are relative to the
    /// folder before the first wildcard.
    static func forEachFile(_ source: String, filter: PathFilter, _ body: (String, StoredObject, Bool) throws -> Void) throws {
        if source.contains(where: { $0 == "*" || $0 == "?" }) {
            let literal = source.prefix { $0 != "*" && $0 != "?" }
            let root = literal.contains("/") ? String(literal[...literal.lastIndex(of: "/")!]) : ""
            for path in try LocalGlob.expand(source) {
                let relative = String(path.dropFirst(root.count))
                try visit(path, relative: relative, filter: filter, body)
            }
            return
        }
        var st = stat()
        guard stat(source, &st) == 0 else { throw UsageError("'\(source)': \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            var root = source
            while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
            let keepName = !source.hasSuffix("/") && root != "." && root != ".."
            try visit(root, relative: keepName ? FileSystem.baseName(of: root) : "", filter: filter, body)
        } else {
            let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
            try body(source, StoredObject(relative: FileSystem.baseName(of: source), size: Int64(st.st_size), mtime: mtime), true)
        }
    }

    /// A file, or every file below a folder; `relative` is the name the path maps to.
    private static func visit(_ path: String, relative: String, filter: PathFilter,
                              _ body: (String, StoredObject, Bool) throws -> Void) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let prefix = relative.isEmpty ? "" : relative + "/"
            try LocalWalk.walk(path) { entry in
                var e = entry
                e.relative = prefix + entry.relative
                guard filter.accepts(e.relative) else { return }
                try body(path + "/" + entry.relative, e, false)
            }
        } else if (st.st_mode & S_IFMT) == S_IFREG, filter.accepts(relative), !LocalWalk.isPartial(path) {
            let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
            try body(path, StoredObject(relative: relative, size: Int64(st.st_size), mtime: mtime), false)
        }
    }
}

/// Shell-style expansion of a local pattern (glob(3)), sorted.
enum LocalGlob {
    static func expand(_ pattern: String) throws -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        let rc = glob(pattern, 0, nil, &result)
        if rc == GLOB_NOMATCH { return [] }
        guard rc == 0 else { throw UsageError("'\(pattern)': cannot expand the pattern") }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
    }
}

extension S3URL {
    /// The folder objects are copied relative to: a prefix ending in `/` itself, else the
    /// folder of the literal part before the wildcard.
    var baseDirectoryForCopy: String { hasWildcard ? baseDirectory : (key.isEmpty || key.hasSuffix("/") ? key : baseDirectory) }
}

extension FileSystem {
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}
