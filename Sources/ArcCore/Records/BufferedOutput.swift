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
public final class BufferedOutput: @unchecked Sendable { // `buffer` is guarded by `lock`
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let flushThreshold: Int
    private let lock = Lock()

    public init(fd: Int32, flushThreshold: Int = 1 << 16) {
        self.fd = fd
        self.flushThreshold = flushThreshold
        buffer.reserveCapacity(flushThreshold + 4096)
    }

    public static let stdout = BufferedOutput(fd: 1)

    public var isTerminal: Bool { isatty(fd) == 1 }

    public func write(_ bytes: [UInt8]) throws {
        try lock.withLock {
            buffer.append(contentsOf: bytes)
            if buffer.count >= flushThreshold { try flushLocked() }
        }
    }

    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Writes `bytes` and a newline. For lines passed on straight from an input buffer
    /// (telem-log's hot path): copied once into ours, with no array made per line.
    public func writeLine(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        try lock.withLock {
            buffer.append(contentsOf: bytes)
            buffer.append(0x0A)
            if buffer.count >= flushThreshold { try flushLocked() }
        }
    }

    public func flush() throws { try lock.withLock { try flushLocked() } }

    private func flushLocked() throws {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        try buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n >= 0 { offset += n; continue }
                if errno == EINTR { continue }
                if errno == EPIPE { throw BrokenPipeError() }
                throw SystemError("write", path: fd == 1 ? "stdout" : "fd \(fd)", errno: errno)
            }
        }
    }
}
