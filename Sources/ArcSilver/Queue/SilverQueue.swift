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

    /// Settles `claim` by how its archive went. A store out of reach may mend by itself;
    /// a bad or missing archive will not.
    func settle(_ claim: WorkQueue.Claim, _ outcome: ArchiveJob.Outcome) throws -> WorkQueue.Settlement {
        let me = worker.options.worker
        defer { worker.forget([claim.id]) }
        return try lock.withLock {
            guard let code = outcome.error else {
                return try settler.complete(worker: me, ids: [claim.id]).isEmpty ? .lost : .done
            }
            if code == .interrupted {
                try settler.release(worker: me, ids: [claim.id])
                return .released
            }
            return try settler.settleFailure(worker: me, claim: claim, code: code.rawValue,
                                             message: "arc-convert could not read the archive (\(code.rawValue))",
                                             maxAttempts: worker.options.maxAttempts)
        }
    }

    /// `line` (a record and its newline) with `queue {name, id, attempt, settled}` added.
    func annotate(_ line: [UInt8], _ claim: WorkQueue.Claim, settled: WorkQueue.Settlement) -> [UInt8] {
        var b = RecordBuilder()
        b.begin()
        claim.encode(into: &b, queue: name, settled: settled)
        b.end()
        // Both are objects this tool wrote: the record's last "}" meets the new member.
        guard let close = line.lastIndex(of: UInt8(ascii: "}")) else { return line }
        let member = b.bytes.dropFirst().dropLast(2) // without "{" and "}\n"
        return Array(line[..<close]) + (line[line.index(before: close)] == UInt8(ascii: "{") ? [] : [UInt8(ascii: ",")])
            + member + Array(line[close...])
    }
}
