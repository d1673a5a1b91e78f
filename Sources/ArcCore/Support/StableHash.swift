/// A 64-bit hash that is the same in every run and on every machine (Swift's `Hasher` is
/// seeded per process), for identifiers such as task ids. Eight bytes a step with one
/// multiply each, so a 300-byte record costs tens of cycles, not the hundreds a
/// byte-at-a-time hash (FNV-1a) chains up. Not a security boundary.
public struct StableHash {
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    private static let multiplier: UInt64 = 0xBF58_476D_1CE4_E5B9

    public init() {}

    private mutating func mix(_ word: UInt64) {
        state = (state ^ word) &* StableHash.multiplier
        state ^= state >> 31
    }

    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        while i + 8 <= bytes.count {
            mix(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < bytes.count {
            tail |= UInt64(bytes[i]) << shift
            shift += 8
            i += 1
        }
        // The length goes in too: "ab" + "c" and "a" + "bc" must differ.
        mix(tail ^ (UInt64(bytes.count) << 56))
    }

    public mutating func add(_ text: String) {
        var text = text
        text.withUTF8 { add(UnsafeRawBufferPointer($0)) }
    }

    public mutating func add(_ number: Int64) { mix(UInt64(bitPattern: number)) }

    /// The hash, with a final mix so every input bit reaches every output bit.
    public var value: UInt64 {
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The value as 16 hex digits.
    public var hex: String { Hex.encode(withUnsafeBytes(of: value.bigEndian) { Array($0) }) }
}
