import Glibc

/// Reads newline-delimited lines from a file descriptor with one reusable buffer. Lines
/// are handed out as views into that buffer, so nothing is copied unless kept.
public final class LineReader {
    private let fd: Int32
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var eof = false
    private let name: String
    /// The longest line kept; a longer one is skipped and reported, so memory stays
    /// bounded whatever arrives (`cat /dev/zero | arc-collect`).
    public let maxLineLength: Int
    /// Inside a line too long to keep: bytes are dropped up to its newline.
    private var skipping = false
    public private(set) var lineNumber = 0
    /// Runs before each blocking read: tools flush their output here, so records stream
    /// downstream as soon as input pauses, yet are written in large batches while it flows.
    public var willBlock: (() throws -> Void)?

    public init(fd: Int32, name: String, bufferSize: Int = 1 << 16, maxLineLength: Int = 16 << 20) {
        self.fd = fd
        self.name = name
        self.maxLineLength = max(maxLineLength, bufferSize)
        capacity = bufferSize
        buffer = .allocate(capacity: bufferSize)
    }

    deinit { buffer.deallocate() }

    /// Calls `body` with the next line (without `\n` or a trailing `\r`); nil at end of input.
    /// Throws `LineTooLongError` for a line over `maxLineLength`, once skipped: the next
    /// call goes on with the line after it.
    public func nextLine<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        while true {
            if skipping {
                if start < end, let nl = memchr(buffer + start, 0x0A, end - start) {
                    start = buffer.distance(to: nl.assumingMemoryBound(to: UInt8.self)) + 1
                } else if !eof {
                    start = end
                    try fill()
                    continue
                } else {
                    start = end
                }
                skipping = false
                lineNumber += 1
                throw LineTooLongError(name: name, line: lineNumber, limit: maxLineLength)
            }
            if start < end, let nl = memchr(buffer + start, 0x0A, end - start) {
                let nlIndex = buffer.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                var lineEnd = nlIndex
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeBufferPointer(start: buffer + start, count: lineEnd - start)
                start = nlIndex + 1
                lineNumber += 1
                return try body(line)
            }
            if eof {
                guard start < end else { return nil }
                var lineEnd = end
                if buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeBufferPointer(start: buffer + start, count: lineEnd - start)
                start = end
                lineNumber += 1
                return try body(line)
            }
            try fill()
        }
    }

    private func fill() throws {
        if start > 0 {
            memmove(buffer, buffer + start, end - start)
            end -= start
            start = 0
        }
        if end == capacity && capacity >= maxLineLength {
            skipping = true
            start = 0
            end = 0
        } else if end == capacity {
            // A line longer than the buffer: grow it rather than split the line.
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
            bigger.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = bigger
            capacity *= 2
        }
        try willBlock?()
        while true {
            let n = read(fd, buffer + end, capacity - end)
            if n > 0 { end += n; return }
            if n == 0 { eof = true; return }
            if errno == EINTR { continue }
            throw SystemError("read", path: name, errno: errno)
        }
    }
}

/// A line longer than a reader keeps; it was skipped.
public struct LineTooLongError: Error, CustomStringConvertible {
    public let name: String
    public let line: Int
    public let limit: Int
    public var description: String { "line longer than \(limit) bytes" }
}
