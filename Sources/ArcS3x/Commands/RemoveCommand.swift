import ArcCore

/// rm: objects and wildcards, deleted 1,000 keys a request (DeleteObjects), the batches
/// sent while the listing goes on.
enum RemoveCommand {
    static func run(_ targets: [String], _ p: ParsedCommand, _ context: S3xContext) throws {
        let urls = try targets.map { try S3URL(parsing: $0) }
        // Before anything is deleted. A bucket or prefix is refused, as s5cmd refuses it:
        // a missing wildcard must not empty a bucket.
        for (target, url) in zip(targets, urls) where !url.hasWildcard && url.isDirectoryLike {
            guard !url.key.isEmpty, try markerExists(url, context) else {
                throw UsageError("'\(target)': s3 bucket/prefix cannot be used for delete operations (forgot wildcard character?)")
            }
        }
        let filter = PathFilter(include: p.list("include"), exclude: p.list("exclude"))
        let remover = BatchRemover(context: context, operation: "rm")
        for url in urls {
            guard url.hasWildcard else {
                remover.add(url)
                continue
            }
            let pattern = Glob(url.key)
            var matched = false
            try ObjectLister(client: context.client, v1: context.listV1).list(bucket: url.bucket, prefix: url.listPrefix) { objects, _ in
                for object in objects where pattern.matches(object.key) {
                    guard filter.accepts(String(object.key.dropFirst(url.baseDirectory.count))) else { continue }
                    matched = true
                    // A folder marker goes only when named, as s5cmd never deletes one a wildcard matches.
                    if !object.key.hasSuffix("/") { remover.add(url.with(key: object.key)) }
                }
            }
            if !matched {
                context.output.emit("rm", source: url.description, destination: nil, status: .failed, error: NoMatchError(url: url.description))
            }
        }
        remover.finish()
    }

    /// True when `prefix/` is itself an object (a folder marker), not only the start of keys.
    /// A listing, not HEAD: some stores answer HEAD for any folder that holds objects.
    static func markerExists(_ url: S3URL, _ context: S3xContext) throws -> Bool {
        let response = try context.client.perform(S3Call.list(bucket: url.bucket, prefix: url.key, delimiter: "/", continuation: nil,
                                                              v1: context.listV1, maxKeys: 1))
        return try ListObjects.parse(response.body, urlEncoded: true).objects.first?.key == url.key
    }
}

/// Collects keys per bucket and sends DeleteObjects for each 1,000, at most 8 at once.
final class BatchRemover: @unchecked Sendable { // the batch is built on the caller's thread; `running` is guarded by `lock`
    let context: S3xContext
    let operation: String
    private var bucket = ""
    private var keys: [String] = []
    private let slots = Slots(8)
    private let lock = Lock()
    private var running = 0
    private let done = BlockingQueue<Void>()

    init(context: S3xContext, operation: String) {
        self.context = context
        self.operation = operation
    }

    func add(_ url: S3URL) {
        if url.bucket != bucket || keys.count == 1000 { flush() }
        bucket = url.bucket
        keys.append(url.key)
    }

    func finish() {
        flush()
        while lock.withLock({ running }) > 0 { _ = done.take() }
    }

    private func flush() {
        guard !keys.isEmpty else { return }
        let batch = keys, bucket = self.bucket
        keys.removeAll(keepingCapacity: true)
        if context.dryRun {
            for key in batch { context.output.emit(operation, source: "s3://\(bucket)/\(key)", destination: nil, dryRun: true) }
            return
        }
        guard slots.acquire() else { return }
        lock.withLock { running += 1 }
        context.client.send(S3Call.deleteObjects(bucket: bucket, keys: batch)) { [self] result in
            switch result {
            case .failure(let error):
                for key in batch { context.output.emit(operation, source: "s3://\(bucket)/\(key)", destination: nil, status: .failed, error: error) }
            case .success(let response):
                var failed: [String: (String, String)] = [:]
                for e in S3Reply.deleteErrors(response.body) { failed[e.key] = (e.code, e.message) }
                for key in batch {
                    let resource = "s3://\(bucket)/\(key)"
                    if let (code, message) = failed[key] {
                        context.output.emit(operation, source: resource, destination: nil, status: .failed,
                                            error: S3Error(operation: "DeleteObjects", resource: resource, status: 200, s3Code: code, message: message))
                    } else {
                        context.output.emit(operation, source: resource, destination: nil)
                    }
                }
            }
            slots.release()
            lock.withLock { running -= 1 }
            done.put(())
        }
    }
}
