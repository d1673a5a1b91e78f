import Glibc

/// The reader downstream went away (EPIPE): stop quietly, as `head` expects of us.
public struct BrokenPipeError: ArcError {
    public init() {}
    public var code: FailureCode { .brokenPipe }
    public var exitStatus: ExitStatus { .failures }
    public var description: String { "output closed by the reader" }
}

/// Buffered writes to a file descriptor. Records reach the kernel in large writes; `flush`
/// pushes out what is buffered (at pauses in input, after each batch of results, at exit).
public final class BufferedOutput: @unchecked Sendable { // `bytes` and `used` are guarded by `lock`
    private let fd: Int32
    /// The buffered bytes are `bytes[..<used]`, in an allocation of our own rather than an
    /// array: an array property appended to in place (a call into the standard library
    /// that could grow it) had every access to it checked for exclusivity at run time,
    /// once a line on telem-log's hot path. Raw memory and an Int are never checked.
    private var bytes: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var used = 0
    private let flushThreshold: Int
    private let lock = Lock()

    public init(fd: Int32, flushThreshold: Int = 1 << 16) {
        self.fd = fd
        self.flushThreshold = flushThreshold
        capacity = flushThreshold + 4096
        bytes = .allocate(capacity: capacity)
    }

    deinit { bytes.deallocate() }

    public static let stdout = BufferedOutput(fd: 1)

    public var isTerminal: Bool { isatty(fd) == 1 }

    public func write(_ bytes: [UInt8]) throws {
        try lock.withLock {
            bytes.withUnsafeBufferPointer { append($0) }
            if used >= flushThreshold { try flushLocked() }
        }
    }

    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Writes `bytes` and a newline. For lines passed on straight from an input buffer
    /// (telem-log's hot path): copied once into ours, with no array made per line.
    public func writeLine(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        try lock.withLock {
            append(bytes, newline: true)
            if used >= flushThreshold { try flushLocked() }
        }
    }

    public func flush() throws { try lock.withLock { try flushLocked() } }

    /// Copies `source` (and a newline) after what is buffered, growing the buffer for a
    /// record larger than the room left (it is flushed at the threshold, so that is rare).
    private func append(_ source: UnsafeBufferPointer<UInt8>, newline: Bool = false) {
        let n = source.count + (newline ? 1 : 0)
        let at = used
        if at + n > capacity {
            let grown = max(capacity * 2, at + n)
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            bigger.update(from: bytes, count: at)
            bytes.deallocate()
            bytes = bigger
            capacity = grown
        }
        let to = bytes + at
        if let p = source.baseAddress { to.update(from: p, count: source.count) }
        if newline { to[source.count] = 0x0A }
        used = at + n
    }

    private func flushLocked() throws {
        let count = used
        guard count > 0 else { return }
        let base = bytes
        // Emptied whatever happens, as before: a failed write does not leave the bytes to
        // be written again by a later flush.
        defer { used = 0 }
        var offset = 0
        while offset < count {
            let n = Glibc.write(fd, base + offset, count - offset)
            if n >= 0 { offset += n; continue }
            if errno == EINTR { continue }
            if errno == EPIPE { throw BrokenPipeError() }
            throw SystemError("write", path: fd == 1 ? "stdout" : "fd \(fd)", errno: errno)
        }
    }
}
