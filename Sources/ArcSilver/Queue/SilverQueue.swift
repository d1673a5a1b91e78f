import ArcCore

/// arc-convert as a queue worker (`--queue NAME`): archive records (arc-collect's results,
/// put there with `arc-queue push`) come from the queue instead of stdin, and each is
/// settled once its record is made. The silver and quality ledgers are written first, in
/// their own transactions: a task run twice (its worker killed between the two) finds its
/// Parquet file in the silver ledger and reuses it, so it is converted once in effect.
final class SilverQueue: @unchecked Sendable { // `settler` is used under `lock`; `worker` is thread-safe
    let worker: QueueWorker
    private let settler: WorkQueue
    private let lock = Lock()

    init(worker: QueueWorker, statePath: String) throws {
        self.worker = worker
        settler = try WorkQueue.open(statePath, name: worker.options.queue)
    }

    var name: String { worker.options.queue }

    /// Settles `claim` by how its archive went; what became of it (done, failed, retry,
    /// released, lost), for the record.
    func settle(_ claim: WorkQueue.Claim, _ outcome: ArchiveJob.Outcome) throws -> String {
        let me = worker.options.worker
        defer { worker.forget([claim.id]) }
        return try lock.withLock {
            guard let code = outcome.error else {
                return try settler.complete(worker: me, ids: [claim.id]).isEmpty ? "lost" : "done"
            }
            if code == .interrupted {
                try settler.release(worker: me, ids: [claim.id])
                return "released"
            }
            let message = "arc-convert could not read the archive (\(code.rawValue))"
            // A store out of reach may mend by itself; a bad or missing archive will not.
            if WorkQueue.transientCodes.contains(code.rawValue) && claim.attempt < worker.options.maxAttempts {
                return try settler.retryLater(worker: me, id: claim.id, delay: WorkQueue.backoff(claim.attempt),
                                              code: code.rawValue, message: message) ? "retry" : "lost"
            }
            return try settler.fail(worker: me, id: claim.id, code: code.rawValue, message: message) ? "failed" : "lost"
        }
    }

    /// `line` (a record and its newline) with `queue {name, id, attempt, settled}` added.
    func annotate(_ line: [UInt8], _ claim: WorkQueue.Claim, settled: String) -> [UInt8] {
        var b = RecordBuilder()
        b.begin()
        b.object("queue") { q in
            q.string("name", name)
            q.int("id", claim.id)
            q.int("attempt", Int64(claim.attempt))
            q.string("settled", settled)
        }
        b.end()
        // Both are objects this tool wrote: the record's last "}" meets the new member.
        guard let close = line.lastIndex(of: UInt8(ascii: "}")) else { return line }
        let member = b.bytes.dropFirst().dropLast(2) // without "{" and "}\n"
        return Array(line[..<close]) + (line[line.index(before: close)] == UInt8(ascii: "{") ? [] : [UInt8(ascii: ",")])
            + member + Array(line[close...])
    }
}
