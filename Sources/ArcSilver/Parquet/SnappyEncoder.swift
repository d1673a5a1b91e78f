/// Snappy's raw block format (Parquet's SNAPPY codec; google/snappy format_description.txt):
/// the uncompressed length as a varint, then literals and back-references. Greedy
/// matching of 4-byte sequences through a hash table, one 64 KiB fragment at a time so every
/// offset fits the 2-byte copy form, and a skip that grows over incompressible stretches.
enum SnappyEncoder {
    private static let fragment = 1 << 16
    private static let tableBits = 14

    /// The most `encode` writes for `count` input bytes.
    static func maxLength(_ count: Int) -> Int { 32 + count + count / 6 }

    static func encode(_ input: UnsafeRawBufferPointer, into out: ByteBuffer) {
        out.reserve(maxLength(input.count))
        out.append(varint: UInt64(input.count))
        guard let base = input.baseAddress, input.count > 0 else { return }
        var dst = out.end
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 1 << tableBits) { table in
            var start = 0
            while start < input.count {
                let end = min(start + fragment, input.count)
                table.initialize(repeating: 0)
                dst = block(base, start, end, table, dst)
                start = end
            }
        }
        out.count = dst - out.base
    }

    @inline(__always)
    private static func load32(_ p: UnsafeRawPointer, _ i: Int) -> UInt32 {
        p.loadUnaligned(fromByteOffset: i, as: UInt32.self)
    }

    @inline(__always)
    private static func hash(_ v: UInt32) -> Int { Int((v &* 0x1E35_A7BD) >> (32 - UInt32(tableBits))) }

    private static func block(_ src: UnsafeRawPointer, _ start: Int, _ end: Int,
                              _ table: UnsafeMutableBufferPointer<UInt16>, _ out: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        var dst = out
        var nextEmit = start
        // The last bytes are never the start of a match: 4-byte loads stay inside the input.
        let limit = end - 15
        if limit > start {
            var ip = start + 1
            search: while true {
                var skip = 32
                var candidate = 0
                while true {
                    if ip > limit { break search }
                    let h = hash(load32(src, ip))
                    candidate = start + Int(table[h])
                    table[h] = UInt16(ip - start)
                    if load32(src, candidate) == load32(src, ip) && candidate < ip { break }
                    ip += skip >> 5
                    skip += 1
                }
                dst = literal(src + nextEmit, ip - nextEmit, dst)
                while true {
                    var length = 4
                    while ip + length < end && src.load(fromByteOffset: candidate + length, as: UInt8.self)
                            == src.load(fromByteOffset: ip + length, as: UInt8.self) { length += 1 }
                    dst = copy(offset: ip - candidate, length: length, dst)
                    ip += length
                    nextEmit = ip
                    if ip >= limit { break search }
                    table[hash(load32(src, ip - 1))] = UInt16(ip - 1 - start)
                    let h = hash(load32(src, ip))
                    candidate = start + Int(table[h])
                    table[h] = UInt16(ip - start)
                    if load32(src, candidate) != load32(src, ip) { break }
                }
                ip += 1
            }
        }
        if nextEmit < end { dst = literal(src + nextEmit, end - nextEmit, dst) }
        return dst
    }

    private static func literal(_ from: UnsafeRawPointer, _ count: Int, _ out: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        var dst = out
        let n = count - 1
        if n < 60 {
            dst.storeBytes(of: UInt8(n << 2), as: UInt8.self)
            dst += 1
        } else {
            let bytes = n < 1 << 8 ? 1 : n < 1 << 16 ? 2 : n < 1 << 24 ? 3 : 4
            dst.storeBytes(of: UInt8((59 + bytes) << 2), as: UInt8.self)
            dst += 1
            for k in 0..<bytes {
                dst.storeBytes(of: UInt8(truncatingIfNeeded: n >> (8 * k)), as: UInt8.self)
                dst += 1
            }
        }
        dst.copyMemory(from: from, byteCount: count)
        return dst + count
    }

    private static func copy(offset: Int, length: Int, _ out: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        var dst = out
        var left = length
        // 2-byte-offset copies carry 1...64 bytes; keep at least 4 for the last one.
        while left >= 68 {
            dst = copy2(offset, 64, dst)
            left -= 64
        }
        if left > 64 {
            dst = copy2(offset, 60, dst)
            left -= 60
        }
        if left >= 4 && left < 12 && offset < 2048 {
            dst.storeBytes(of: UInt8(1 | (left - 4) << 2 | (offset >> 8) << 5), as: UInt8.self)
            dst.storeBytes(of: UInt8(offset & 0xFF), toByteOffset: 1, as: UInt8.self)
            return dst + 2
        }
        return copy2(offset, left, dst)
    }

    @inline(__always)
    private static func copy2(_ offset: Int, _ length: Int, _ dst: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        dst.storeBytes(of: UInt8(2 | (length - 1) << 2), as: UInt8.self)
        dst.storeBytes(of: UInt16(offset).littleEndian, toByteOffset: 1, as: UInt16.self)
        return dst + 3
    }
}
