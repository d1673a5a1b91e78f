import Glibc
import ArcCore

/// Reads span records (NDJSON, as `--trace FILE` writes them) from files or stdin into
/// the store, in transactions of `batchSize` spans: one fsync per batch, not per span,
/// and memory bounded by the batch whatever the input's size. A batch is also committed
/// whenever the input pauses, so `tail -f spans.ndjson | telem-trace ingest` keeps up.
public struct SpanIngest {
    public struct Outcome: Equatable {
        public var spans = 0
        public var badLines = 0
    }

    public let store: TraceStore
    public let log: Logger
    public var batchSize = 10_000

    public init(store: TraceStore, log: Logger) {
        self.store = store
        self.log = log
    }

    /// Ingests `paths` (stdin when empty or `-`). Bad lines are reported on stderr with
    /// their file and line and skipped; with `strict` the first one throws (exit 2), after
    /// the batches before it were committed.
    public func run(paths: [String], strict: Bool) throws -> Outcome {
        // Span ids are random, so each insert lands on a random page of the primary key:
        // a larger page cache (64 MiB, this connection only) keeps those pages in memory.
        try store.db.execute("PRAGMA cache_size = -65536")
        let input = RecordInput(paths: paths, strict: strict, log: log)
        try input.checkSources()
        var batch: [StoredSpan] = []
        batch.reserveCapacity(batchSize)
        var outcome = Outcome()
        func commit() throws {
            guard !batch.isEmpty else { return }
            try store.insert(batch)
            outcome.spans += batch.count
            batch.removeAll(keepingCapacity: true)
        }
        input.willBlock = {
            // Before a read of stdin that would wait: commit what came so far. (Files and a
            // busy pipe never wait, so a big input still goes in whole batches.)
            guard input.currentName == "stdin" else { return }
            var p = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 0) == 0 { try commit() }
        }
        do {
            while let (record, line) = try input.next() {
                guard let span = try input.decode(record, line: line, StoredSpan.init(record:)) else { continue }
                batch.append(span)
                if batch.count >= batchSize { try commit() }
            }
        } catch let error as InputError {
            // --strict: what came before the bad line is kept (ingesting again is harmless).
            try commit()
            throw error
        }
        try commit()
        outcome.badLines = input.badLines
        return outcome
    }
}
