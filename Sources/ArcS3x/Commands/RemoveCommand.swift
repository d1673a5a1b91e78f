import ArcCore

/// rm: objects, prefixes and wildcards, deleted 1,000 keys a request (DeleteObjects), the
/// batches sent while the listing goes on.
enum RemoveCommand {
    static func run(_ targets: [String], _ p: ParsedCommand, _ context: S3xContext) throws {
        let urls = try targets.map { try S3URL(parsing: $0) }
        let filter = PathFilter(include: p.list("include"), exclude: p.list("exclude"))
        let remover = BatchRemover(context: context, operation: "rm")
        for url in urls {
            if url.hasWildcard || url.isDirectoryLike {
                let pattern = url.hasWildcard ? Glob(url.key) : nil
                var matched = false
                try ObjectLister(client: context.client, v1: context.listV1).list(bucket: url.bucket, prefix: url.listPrefix) { objects, _ in
                    for object in objects where pattern?.matches(object.key) ?? true {
                        guard filter.accepts(String(object.key.dropFirst(url.baseDirectory.count))) else { continue }
                        matched = true
                        remover.add(url.with(key: object.key))
                    }
                }
                if !matched {
                    context.output.emit("rm", source: url.description, destination: nil, status: .failed, error: NoMatchError(url: url.description))
                }
            } else {
                remover.add(url)
            }
        }
        remover.finish()
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
