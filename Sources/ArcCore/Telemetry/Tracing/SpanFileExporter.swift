import Glibc

/// `--trace FILE` / `ARC_TRACE_FILE`: appends span records as NDJSON. Lines are buffered
/// and written whole with O_APPEND, one write(2) per batch, so the stages of a pipeline
/// can share one file without tearing each other's lines.
public final class SpanFileExporter: SpanExporter, @unchecked Sendable { // the builder and pending bytes are guarded by `lock`
    public let path: String
    private let fd: Int32
    private let lock = Lock()
    private var builder = RecordBuilder(capacity: 1024)
    private var pending: [UInt8] = []
    private var lastFlush = MonotonicClock.nanos()
    private var failure: String?
    /// Flush at this size, or when a span ends a second after the last flush (a long
    /// run still shows its spans while it runs).
    static let flushBytes = 64 * 1024

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw UnavailableError("trace file \(path)", String(cString: strerror(errno))) }
        pending.reserveCapacity(Self.flushBytes)
    }

    deinit { close(fd) }

    public func export(_ span: SpanRecord) {
        lock.withLock {
            span.write(into: &builder)
            pending.append(contentsOf: builder.bytes)
            let now = MonotonicClock.nanos()
            if pending.count >= Self.flushBytes || now - lastFlush > 1_000_000_000 { flushLocked(now) }
        }
    }

    private func flushLocked(_ now: UInt64) {
        lastFlush = now
        guard !pending.isEmpty else { return }
        defer { pending.removeAll(keepingCapacity: true) }
        guard failure == nil else { return }
        do { try FileSystem.writeAll(fd, pending, path: path) } catch { failure = "\(error)" }
    }

    public func shutdown(deadline: Double) -> String? {
        lock.withLock {
            flushLocked(MonotonicClock.nanos())
            return failure.map { "trace file \(path): spans lost: \($0)" }
        }
    }
}
