import ArcCore

/// One task on its way through arc-collect: its transfers (CHECKSUM and archive, at once),
/// then verification and the safe write, then the ledger and the result record.
///
/// Confined, not locked: the engine thread touches a job while its transfers run, a
/// finisher thread once they are done, then the writer thread; each hand-over goes
/// through a queue's lock, so one thread at a time sees it.
final class CollectJob: @unchecked Sendable { // confined in turn to one thread, see above
    enum Phase {
        /// Downloading the archive (and its CHECKSUM).
        case download
        /// The file at dest already has the listed size: fetch only the CHECKSUM and hash it.
        case checkExisting
    }

    let task: CollectTask
    let started = MonotonicClock.nanos()
    /// Wall-clock start, for the task's span.
    let startedWall = WallClock.nowNanos()
    /// When the outcome was settled (monotonic), for the task's span.
    var finished: UInt64 = 0
    /// The task's span id, made when tracing and first needed (a log line, the span).
    var spanID: String?
    var phase: Phase
    var sink: FileSink?
    /// The hashes `sink` takes as bytes arrive (SHA-256, and MD5 for an MD5 checksum).
    var digest: ArchiveDigest?
    /// The download, verified, waiting for the writer's group commit to make it durable
    /// and rename it to dest (see GroupCommit.swift).
    var staged: FileSink?
    /// The archive's bytes on their way to S3 (a small archive, or the part in flight).
    var memory: HashingMemorySink?
    var pending = 0
    var checksum: Result<[UInt8], TransferError>?
    var download: Result<TransferResponse, TransferError>?
    var attempts = 0
    /// Attempts at the archive counted against --retries, all rounds together: `attempts`
    /// for single GETs; for an upload in parts, the most any part needed in each round.
    var archiveAttempts = 0
    /// Attempts at the CHECKSUM file, all rounds together.
    var checksumAttempts = 0
    /// What each download that did not verify brought (its hash and the CHECKSUM's, or a
    /// CHECKSUM file that is not one): the same twice is the file upstream, not a bad copy.
    var badCopies: [String] = []
    /// Set once a resumed download failed verification and was fetched again from byte 0.
    var refetched = false
    var outcome: CollectOutcome?
    /// Set by the first `Collector.complete` (under the collector's lock): a job ends once.
    var ended = false
    /// What became of its queue task, for a queue worker (set by the writer).
    var settlement: WorkQueue.Settlement?

    init(task: CollectTask, phase: Phase) {
        self.task = task
        self.phase = phase
    }
}
