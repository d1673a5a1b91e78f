import Glibc

/// Reads lines from one file descriptor with one reusable buffer, like `LineReader`, but
/// also knows each line's byte offset (ingest resumes a file where it stopped) and can
/// stop at the end of the data written so far without losing a half-written last line
/// (`-f` waits for its newline).
public final class LogReader {
    public private(set) var fd: Int32
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var eof = false
    /// The file offset of `buffer[0]`.
    private var bufferOffset: Int64 = 0
    /// Inside a line too long to keep: bytes are dropped up to its newline.
    private var skipping = false
    /// With `follow`, the end of the file is only the end for now: a last line without
    /// its newline is kept for the next call instead of being handed out.
    public var follow: Bool
    public let maxLineLength: Int
    public private(set) var lineNumber = 0
    /// Lines over `maxLineLength` skipped so far (reported by the caller).
    public private(set) var skippedLongLines = 0
    /// Runs before each read that may block (flush output while input pauses).
    public var willBlock: (() throws -> Void)?
    public let name: String

    public init(fd: Int32, name: String, follow: Bool = false, bufferSize: Int = 1 << 20,
                maxLineLength: Int = 16 << 20) {
        self.fd = fd
        self.name = name
        self.follow = follow
        self.maxLineLength = max(maxLineLength, bufferSize)
        capacity = bufferSize
        buffer = .allocate(capacity: bufferSize)
    }

    deinit { buffer.deallocate() }

    /// The offset just after the last line handed out: where a later read resumes.
    public var offset: Int64 { bufferOffset + Int64(start) }

    /// Starts over at `offset` of the current descriptor (truncated file, resumed ingest).
    public func seek(to offset: Int64) {
        lseek(fd, off_t(offset), SEEK_SET)
        reset(at: offset)
    }

    /// Reads from a new descriptor (a rotated file's successor) from its start.
    public func replace(fd newFD: Int32) {
        fd = newFD
        reset(at: 0)
    }

    private func reset(at offset: Int64) {
        start = 0
        end = 0
        eof = false
        skipping = false
        bufferOffset = offset
    }

    /// Calls `body` with the next line (without `\n` or a trailing `\r`) and returns true,
    /// or returns false at the end of the input (for now, when following).
    public func next(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Bool {
        while true {
            if start < end, let nl = memchr(buffer + start, 0x0A, end - start) {
                let nlIndex = buffer.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                if skipping {
                    skipping = false
                    start = nlIndex + 1
                    continue
                }
                var lineEnd = nlIndex
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeBufferPointer(start: buffer + start, count: lineEnd - start)
                start = nlIndex + 1
                lineNumber += 1
                try body(line)
                return true
            }
            if eof {
                if follow {
                    // Ask the file again next time: it may have grown.
                    eof = false
                    return false
                }
                guard start < end else { return false }
                if skipping {
                    start = end
                    skipping = false
                    return false
                }
                var lineEnd = end
                if buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeBufferPointer(start: buffer + start, count: lineEnd - start)
                start = end
                lineNumber += 1
                try body(line)
                return true
            }
            try fill()
        }
    }

    private func fill() throws {
        if start > 0 {
            memmove(buffer, buffer + start, end - start)
            end -= start
            bufferOffset += Int64(start)
            start = 0
        }
        if end == capacity && capacity >= maxLineLength {
            // A line longer than we keep: drop what we have and skip to its newline, so
            // memory stays bounded whatever arrives.
            if !skipping { skippedLongLines += 1 }
            skipping = true
            bufferOffset += Int64(end)
            end = 0
        } else if end == capacity {
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
