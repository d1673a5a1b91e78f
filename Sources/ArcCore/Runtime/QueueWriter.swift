/// Enqueues records as they are produced, a thousand per transaction, so a long listing
/// is queued with few round trips and memory that does not grow with it. Enqueueing is
/// idempotent: a run cut short and run again queues each task once.
public final class QueueWriter {
    public let queue: WorkQueue
    private var pending: [(identity: String, task: String)] = []
    public private(set) var counts = WorkQueue.EnqueueCounts()

    public init(_ queue: WorkQueue) { self.queue = queue }

    /// Adds a task (its record without the newline) under `identity`.
    public func add(identity: String, task: String) throws {
        pending.append((identity, task))
        if pending.count >= WorkQueue.insertChunk { try flush() }
    }

    public func flush() throws {
        guard !pending.isEmpty else { return }
        let c = try queue.enqueue(pending)
        pending.removeAll(keepingCapacity: true)
        counts.added += c.added
        counts.requeued += c.requeued
        counts.kept += c.kept
    }

    /// "N tasks into queue Q: ..." for the log.
    public var summary: String {
        "\(counts.added + counts.requeued) tasks into queue \(queue.name): \(counts.added) new, "
            + "\(counts.requeued) again (done or failed before), \(counts.kept) already queued"
    }
}
