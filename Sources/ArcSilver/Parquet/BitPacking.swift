/// Packs values of `width` bits back to back, least significant bit first: the bit-packed
/// runs of the RLE hybrid and DELTA_BINARY_PACKED's miniblocks (Encodings.md). The caller
/// reserves the bytes first; full 64-bit words are stored at once.
struct BitWriter {
    private var out: UnsafeMutableRawPointer
    private var word: UInt64 = 0
    private var bits = 0

    init(_ out: UnsafeMutableRawPointer) { self.out = out }

    /// `value` must fit in `width` bits (0...64).
    @inline(__always)
    mutating func put(_ value: UInt64, width: Int) {
        word |= value &<< UInt64(bits)
        let total = bits + width
        if total >= 64 {
            out.storeBytes(of: word.littleEndian, as: UInt64.self)
            out += 8
            word = bits == 0 ? 0 : value >> UInt64(64 - bits)
            bits = total - 64
        } else {
            bits = total
        }
    }

    /// Stores the last partial word, its final byte padded with zeros; returns the end.
    mutating func finish() -> UnsafeMutableRawPointer {
        var left = (bits + 7) / 8
        while left > 0 {
            out.storeBytes(of: UInt8(truncatingIfNeeded: word), as: UInt8.self)
            out += 1
            word >>= 8
            left -= 1
        }
        bits = 0
        word = 0
        return out
    }
}

/// Bits needed for `value` (0 for 0).
@inline(__always)
func bitWidth(_ value: UInt64) -> Int { 64 - value.leadingZeroBitCount }
