import Glibc

/// A growable byte buffer the encoders write through a raw pointer: a step reserves room
/// for its worst case once, then stores without a capacity check per byte (appending to a
/// [UInt8] byte by byte costs a check and a possible reallocation each time). Memory comes
/// from malloc and grows with realloc: glibc moves a large block by remapping it, where
/// allocate-copy-free left freed holes in the heap that kept the process's RSS up.
final class ByteBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        base = ByteBuffer.reallocate(nil, self.capacity)
    }

    deinit { free(base) }

    private static func reallocate(_ old: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer {
        guard let p = realloc(old, size) else { fatalError("out of memory (\(size) bytes for a Parquet buffer)") }
        return p
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Makes room for `extra` more bytes; `end` is where they go.
    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    @inline(__always)
    var end: UnsafeMutableRawPointer { base + count }

    private func grow(_ needed: Int) {
        // 1.5x: a buffer holding a row group's pages wastes at most a third of itself.
        var newCapacity = capacity + capacity / 2
        while newCapacity < needed { newCapacity += newCapacity / 2 }
        base = ByteBuffer.reallocate(base, newCapacity)
        capacity = newCapacity
    }

    /// Gives memory back when a buffer grew far beyond its usual need (a row group of long
    /// strings), so one odd input does not keep the peak for the rest of the run.
    func removeAll(keepingCapacity limit: Int = Int.max) {
        count = 0
        if capacity > limit {
            capacity = max(limit, 64)
            base = ByteBuffer.reallocate(base, capacity)
        }
    }

    @inline(__always)
    func append(byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    func append(uint32 value: UInt32) {
        reserve(4)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    @inline(__always)
    func append(uint64 value: UInt64) {
        reserve(8)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt64.self)
        count += 8
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        reserve(bytes.count)
        (base + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
    }

    func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// An unsigned LEB128 varint (Parquet's encodings and Thrift's compact protocol).
    @inline(__always)
    func append(varint value: UInt64) {
        reserve(10)
        var v = value
        while v >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: count, as: UInt8.self)
            count += 1
            v >>= 7
        }
        base.storeBytes(of: UInt8(v), toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Overwrites 4 bytes written earlier (a length known only once what follows is encoded).
    func patch(uint32 value: UInt32, at offset: Int) {
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }
}

/// ZigZag: small negative and positive numbers both become small unsigned ones.
@inline(__always)
func zigzag(_ value: Int64) -> UInt64 {
    UInt64(bitPattern: (value << 1) ^ (value >> 63))
}
