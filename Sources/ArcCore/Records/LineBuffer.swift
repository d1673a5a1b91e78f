import Glibc

/// The input buffer under `LineReader` and `LogReader`: one reusable allocation that a
/// descriptor is read into, compacted as lines are taken, doubled for a line longer than
/// it, and emptied when a line outgrows `maxLineLength`, so memory stays bounded whatever
/// arrives. Lines are views into it; what a reader does with a skipped line (throw, count)
/// is the reader's business.
///
/// `takeLine` is every reader's hot path, and it is deliberately not `@inlinable`: inlined
/// into another module, each of its reads of this class's fields is checked for exclusive
/// access at run time (four calls into the runtime a line, 6% of telem-log's time, seen
/// with callgrind); called, the checks are proven away inside ArcCore, for one call a line.
public final class LineBuffer {
    private var bytes: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// The unread input is `bytes[start..<end]`.
    private var start = 0
    private var end = 0
    /// The input offset of `bytes[0]`, counted from the last `reset`.
    private var bufferOffset: Int64 = 0
    /// The last read returned nothing. A following reader clears it to ask again.
    public var eof = false
    public let maxLineLength: Int

    public init(size: Int, maxLineLength: Int) {
        self.maxLineLength = max(maxLineLength, size)
        capacity = size
        bytes = .allocate(capacity: size)
    }

    deinit { bytes.deallocate() }

    /// The offset just after the last line taken.
    public var offset: Int64 { bufferOffset + Int64(start) }

    public var hasUnread: Bool { start < end }

    /// Up to `count` of the input's bytes just before `offset` that are still held: at least
    /// the last line taken, its newline included (a follower checks the file still has
    /// them there). Valid until the next call that reads or takes.
    public func taken(last count: Int) -> UnsafeBufferPointer<UInt8> {
        let n = min(count, start)
        return UnsafeBufferPointer(start: bytes + start - n, count: n)
    }

    /// Takes the next whole line, without its `\n` or a `\r` before it; nil when the
    /// buffered input holds no newline. A reader skipping the end of a long line takes
    /// it the same way and drops it.
    public func takeLine() -> UnsafeBufferPointer<UInt8>? {
        guard start < end, let nl = memchr(bytes + start, 0x0A, end - start) else { return nil }
        let newline = bytes.distance(to: nl.assumingMemoryBound(to: UInt8.self))
        let line = trimmed(upTo: newline)
        start = newline + 1
        return line
    }

    /// Takes the next line, whose newline a reader already found `length` bytes into the
    /// unread input (telem-log's prefilter): `takeLine` without searching for it again.
    public func takeLine(length: Int) -> UnsafeBufferPointer<UInt8> {
        let newline = start + length
        assert(newline < end && bytes[newline] == 0x0A, "takeLine(length:) not at a newline")
        let line = trimmed(upTo: newline)
        start = newline + 1
        return line
    }

    /// Takes all the unread input as a last line that has no newline.
    public func takeRest() -> UnsafeBufferPointer<UInt8> {
        let line = trimmed(upTo: end)
        start = end
        return line
    }

    /// Drops all the unread input.
    public func skipRest() { start = end }

    /// The unread input, for a reader that searches it before taking lines (telem-log's
    /// prefilter). Valid until the next call that reads or takes.
    public var unread: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: bytes + start, count: end - start) }

    /// Drops the next `count` unread bytes: whole lines such a search ruled out.
    public func skip(_ count: Int) { start += min(max(count, 0), end - start) }

    @inline(__always) private func trimmed(upTo lineEnd: Int) -> UnsafeBufferPointer<UInt8> {
        var lineEnd = lineEnd
        if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        return UnsafeBufferPointer(start: bytes + start, count: lineEnd - start)
    }

    /// Makes room for a read: moves the unread input to the front, and when the buffer is
    /// all one unfinished line, doubles it, or, at `maxLineLength`, drops that line's start
    /// and returns true (the reader then skips to its newline). Separate from `read` so the
    /// reader notes the skip before anything it runs before blocking can throw.
    public func makeRoom() -> Bool {
        if start > 0 {
            memmove(bytes, bytes + start, end - start)
            end -= start
            bufferOffset += Int64(start)
            start = 0
        }
        guard end == capacity else { return false }
        if capacity >= maxLineLength {
            bufferOffset += Int64(end)
            end = 0
            return true
        }
        // A line longer than the buffer: grow it rather than split the line.
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
        bigger.update(from: bytes, count: end)
        bytes.deallocate()
        bytes = bigger
        capacity *= 2
        return false
    }

    /// One read into the free space (call `makeRoom` first); sets `eof` when there was nothing.
    public func read(from fd: Int32, name: String) throws {
        while true {
            let n = Glibc.read(fd, bytes + end, capacity - end)
            if n > 0 { end += n; return }
            if n == 0 { eof = true; return }
            if errno == EINTR { continue }
            throw SystemError("read", path: name, errno: errno)
        }
    }

    /// Forgets the buffered input: reading starts over at `offset` of the input.
    public func reset(at offset: Int64) {
        start = 0
        end = 0
        eof = false
        bufferOffset = offset
    }
}
