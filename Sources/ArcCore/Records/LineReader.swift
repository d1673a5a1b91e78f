import Glibc

/// Reads newline-delimited lines from a file descriptor with one reusable buffer. Lines
/// are handed out as views into that buffer, so nothing is copied unless kept.
public final class LineReader {
    private let fd: Int32
    private let buffer: LineBuffer
    private let name: String
    /// The longest line kept; a longer one is skipped and reported, so memory stays
    /// bounded whatever arrives (`cat /dev/zero | arc-collect`).
    public var maxLineLength: Int { buffer.maxLineLength }
    /// Inside a line too long to keep: bytes are dropped up to its newline.
    private var skipping = false
    public private(set) var lineNumber = 0
    /// Runs before each blocking read: tools flush their output here, so records stream
    /// downstream as soon as input pauses, yet are written in large batches while it flows.
    public var willBlock: (() throws -> Void)?

    public init(fd: Int32, name: String, bufferSize: Int = 1 << 16, maxLineLength: Int = 16 << 20) {
        self.fd = fd
        self.name = name
        buffer = LineBuffer(size: bufferSize, maxLineLength: maxLineLength)
    }

    /// Calls `body` with the next line (without `\n` or a trailing `\r`); nil at end of input.
    /// Throws `LineTooLongError` for a line over `maxLineLength`, once skipped: the next
    /// call goes on with the line after it.
    public func nextLine<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        while true {
            if skipping {
                // Drop through the long line's newline, or all we have while it has none yet.
                if buffer.takeLine() == nil {
                    buffer.skipRest()
                    if !buffer.eof {
                        try fill()
                        continue
                    }
                }
                skipping = false
                lineNumber += 1
                throw LineTooLongError(name: name, line: lineNumber, limit: maxLineLength)
            }
            if let line = buffer.takeLine() {
                lineNumber += 1
                return try body(line)
            }
            if buffer.eof {
                guard buffer.hasUnread else { return nil }
                lineNumber += 1
                return try body(buffer.takeRest())
            }
            try fill()
        }
    }

    /// Kept out of line: it runs once per buffer, and inlined into the loop its reads of
    /// `fd` and `willBlock` were exclusivity-checked on every line.
    @inline(never)
    private func fill() throws {
        if buffer.makeRoom() { skipping = true }
        try willBlock?()
        try buffer.read(from: fd, name: name)
    }
}

/// A line longer than a reader keeps; it was skipped.
public struct LineTooLongError: Error, CustomStringConvertible {
    public let name: String
    public let line: Int
    public let limit: Int
    public var description: String { "line longer than \(limit) bytes" }
}
