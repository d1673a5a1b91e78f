import ArcCore

/// What arc-check and arc-convert were asked to do.
struct SilverOptions: Sendable {
    enum Mode: Sendable { case check, convert }

    var mode: Mode
    /// Archives read at once (each one's inflating runs on a thread of its own besides).
    var jobs = 2
    var force = false
    /// --source: whose archives the arguments (and records without `source`) are.
    var source: String?
    var strict = false
    /// arc-check: a warning counts as a failure for the exit status.
    var failOnWarn = false
    /// arc-convert:
    var gate = GatePolicy.fail
    var target: SilverTarget?
    var parquet = ParquetOptions()
    /// Rows parsed into one batch before it goes to the writer.
    var batchRows = 65_536
    /// Inflated chunks (1 MiB) read ahead of the parser.
    var chunksAhead = ArchivePass.chunksAhead
    var mergeMonth = false
    /// arc-convert --queue: a queue worker.
    var queue: QueueWorkerOptions?
}

/// How a run went, for the summary and the exit status.
struct SilverSummary: Sendable {
    var read = 0
    var passed = 0, warned = 0, failed = 0
    /// Archives that could not be read at all (error in the record), of which unreachable:
    var errors = 0, unreachable = 0
    var cached = 0
    var written = 0, reused = 0, gated = 0
    var passedThrough = 0
    var rows: Int64 = 0
    var silverBytes: Int64 = 0
}
