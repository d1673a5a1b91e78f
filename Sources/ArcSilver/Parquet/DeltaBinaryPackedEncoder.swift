/// DELTA_BINARY_PACKED (Encodings.md) for INT64: a header (block size 128, 4 miniblocks,
/// value count, first value), then per block of 128 deltas the smallest delta and four
/// miniblocks of 32 bit-packed (delta - smallest). Increasing ids pack to 0 bits a value
/// and times to about 11: far smaller than 8-byte PLAIN values before any codec runs.
/// Deltas wrap on overflow, as readers undo them.
enum DeltaBinaryPackedEncoder {
    static let blockSize = 128
    static let miniblocks = 4
    static let miniblockSize = 32

    static func encode(_ values: UnsafeBufferPointer<Int64>, into out: ByteBuffer) {
        let n = values.count
        out.append(varint: UInt64(blockSize))
        out.append(varint: UInt64(miniblocks))
        out.append(varint: UInt64(n))
        out.append(varint: zigzag(n > 0 ? values[0] : 0))
        guard n > 1 else { return }
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: blockSize) { adjusted in
            var i = 1
            while i < n {
                let m = min(blockSize, n - i)
                encodeBlock(values, from: i, count: m, adjusted, into: out)
                i += m
            }
        }
    }

    /// One block: the deltas of values[from ..< from+count] against their predecessors.
    @inline(__always)
    private static func encodeBlock(_ values: UnsafeBufferPointer<Int64>, from i: Int, count m: Int,
                                    _ adjusted: UnsafeMutableBufferPointer<UInt64>, into out: ByteBuffer) {
        var minDelta = Int64.max
        for k in 0..<m {
            let delta = values[i + k] &- values[i + k - 1]
            adjusted[k] = UInt64(bitPattern: delta)
            if delta < minDelta { minDelta = delta }
        }
        let floor = UInt64(bitPattern: minDelta)
        for k in 0..<m { adjusted[k] = adjusted[k] &- floor }
        for k in m..<blockSize { adjusted[k] = 0 } // the last miniblock's padding
        out.append(varint: zigzag(minDelta))
        out.reserve(miniblocks + blockSize * 8)
        // Every miniblock's width is written, 0 for those past the data (no body for them).
        let used = (m + miniblockSize - 1) / miniblockSize
        var widths: UInt32 = 0 // four widths, one a byte
        for b in 0..<used {
            var any: UInt64 = 0
            for k in b * miniblockSize..<(b + 1) * miniblockSize { any |= adjusted[k] }
            widths |= UInt32(bitWidth(any)) << (8 * UInt32(b))
        }
        out.append(uint32: widths)
        var writer = BitWriter(out.end)
        for b in 0..<used {
            let width = Int((widths >> (8 * UInt32(b))) & 0xFF)
            guard width > 0 else { continue }
            for k in b * miniblockSize..<(b + 1) * miniblockSize { writer.put(adjusted[k], width: width) }
        }
        let end = writer.finish()
        out.count = end - out.base
    }
}
