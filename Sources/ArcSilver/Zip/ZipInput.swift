import ArcCore
import Glibc

/// The archive's bytes as they arrive from a ByteSource, through one buffer: the zip
/// reader parses records where they lie and hands zlib the bytes in place. Never seeks.
/// The buffer grows only for a record longer than it (a header with 64 KB of name, extra
/// and comment), so memory stays bounded whatever the archive's size.
final class ZipInput {
    private let source: ByteSource
    private(set) var buffer: UnsafeMutableRawBufferPointer
    /// The next unread byte and the end of what was read: bytes[position..<end] are pending.
    private(set) var position = 0
    private(set) var end = 0
    /// The archive offset of buffer[0].
    private var base: Int64 = 0
    /// The source said end of file.
    private(set) var atEnd = false

    init(source: ByteSource, capacity: Int) {
        self.source = source
        buffer = .allocate(byteCount: max(capacity, 64), alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Bytes read but not consumed.
    var available: Int { end - position }

    /// The archive offset of the next unread byte.
    var offset: Int64 { base + Int64(position) }

    /// The pending bytes.
    var pending: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[position..<end]) }

    func consume(_ count: Int) {
        precondition(count <= available)
        position += count
    }

    /// One read from the source into the free space after moving pending bytes to the
    /// front; false at the end of the source. One read, not a loop: a network source must
    /// not be made to wait for a full buffer when part of one is enough to go on.
    @discardableResult
    func refill() throws -> Bool {
        if atEnd { return false }
        // Pending bytes move to the front once less than half the buffer is free behind
        // them: reads stay large, and a move copies little (pending is a header's worth).
        if position > 0 && (position == end || buffer.count - end < buffer.count / 2) {
            let count = available
            if count > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + position, count) }
            base += Int64(position)
            position = 0
            end = count
        }
        if end == buffer.count { grow(to: buffer.count * 2) }
        let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        if n == 0 {
            atEnd = true
            return false
        }
        end += n
        return true
    }

    /// Makes at least `count` bytes pending, reading as needed; false when the source
    /// ended first (what there was stays pending).
    func request(_ count: Int) throws -> Bool {
        if count > buffer.count { grow(to: count) }
        while available < count {
            if !(try refill()) { return false }
        }
        return true
    }

    /// Moves the pending bytes to the front of a bigger buffer.
    private func grow(to capacity: Int) {
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, buffer.count), alignment: 16)
        let count = available
        if count > 0 { memcpy(bigger.baseAddress!, buffer.baseAddress! + position, count) }
        buffer.deallocate()
        buffer = bigger
        base += Int64(position)
        position = 0
        end = count
    }

    /// Little-endian integers at `at` bytes past the position (which must be pending).
    func u16(_ at: Int) -> UInt16 { UInt16(buffer[position + at]) | UInt16(buffer[position + at + 1]) << 8 }
    func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
    func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }

    /// The pending bytes from `at` for `count`, as text (a name: not validated, replaced where not UTF-8).
    func text(_ at: Int, _ count: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: buffer[(position + at)..<(position + at + count)]), as: UTF8.self)
    }

    /// The pending bytes from `at` for `count`.
    func bytes(_ at: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[(position + at)..<(position + at + count)])
    }
}
