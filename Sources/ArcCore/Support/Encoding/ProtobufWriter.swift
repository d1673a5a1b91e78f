/// Protocol Buffers wire format, written canonically: the caller writes fields in
/// ascending field-number order, and proto3 defaults (0, "", false, empty bytes) are
/// left out unless `always` says the field has presence (a oneof member), so a reference
/// parser re-serializes a body to the same bytes. OTLP/HTTP protobuf bodies are built
/// with it, a batch of 512 spans at a time.
///
/// Nested messages are written in place: `beginMessage` reserves one byte for the length,
/// `endMessage` patches it, and only a message of 128 bytes or more moves its contents up
/// by the extra length bytes (one memmove). Nothing is measured twice.
public struct ProtobufWriter {
    public private(set) var bytes: [UInt8] = []

    public enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    public init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    // MARK: fields

    /// uint64, and int64 / int32 / enum values that are not negative.
    public mutating func uint64(_ field: Int, _ value: UInt64, always: Bool = false) {
        guard value != 0 || always else { return }
        tag(field, .varint)
        varint(value)
    }

    /// int64 (and int32 and enums, which the wire sign-extends the same way): a negative
    /// value is its two's complement, ten bytes.
    public mutating func int64(_ field: Int, _ value: Int64, always: Bool = false) {
        uint64(field, UInt64(bitPattern: value), always: always)
    }

    public mutating func bool(_ field: Int, _ value: Bool, always: Bool = false) {
        uint64(field, value ? 1 : 0, always: always)
    }

    public mutating func fixed64(_ field: Int, _ value: UInt64, always: Bool = false) {
        guard value != 0 || always else { return }
        tag(field, .fixed64)
        littleEndian64(value)
    }

    /// A double is the default only when its bits are all zero: -0.0 is written, as the
    /// reference serializers do.
    public mutating func double(_ field: Int, _ value: Double, always: Bool = false) {
        fixed64(field, value.bitPattern, always: always)
    }

    public mutating func string(_ field: Int, _ value: String, always: Bool = false) {
        var value = value
        value.withUTF8 { lengthDelimited(field, $0, always: always) }
    }

    public mutating func bytesField(_ field: Int, _ value: [UInt8], always: Bool = false) {
        value.withUnsafeBufferPointer { lengthDelimited(field, $0, always: always) }
    }

    /// A `bytes` field given as hex text (trace and span ids). Text that is not an even
    /// number of hex digits writes nothing and returns false; empty text writes nothing.
    @discardableResult
    public mutating func hexBytes(_ field: Int, _ hex: String) -> Bool {
        var hex = hex
        return hex.withUTF8 { digits in
            guard !digits.isEmpty else { return true }
            guard digits.count % 2 == 0 else { return false }
            let mark = bytes.count
            tag(field, .lengthDelimited)
            varint(UInt64(digits.count / 2))
            let start = bytes.count
            // Room first, then decoded in place: one growth instead of one per byte.
            bytes.append(contentsOf: repeatElement(0, count: digits.count / 2))
            let decoded = bytes.withUnsafeMutableBufferPointer { out in
                for i in 0..<digits.count / 2 {
                    guard let high = Self.nibble(digits[2 * i]), let low = Self.nibble(digits[2 * i + 1]) else { return false }
                    out[start + i] = high << 4 | low
                }
                return true
            }
            if !decoded { bytes.removeSubrange(mark...) }
            return decoded
        }
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }

    /// A nested message; written even when empty (a message field has presence).
    public mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        let start = beginMessage(field)
        body(&self)
        endMessage(start)
    }

    /// Starts a nested message; pass what it returns to `endMessage` after its fields.
    public mutating func beginMessage(_ field: Int) -> Int {
        tag(field, .lengthDelimited)
        bytes.append(0)
        return bytes.count - 1
    }

    /// Ends the message begun at `start`: writes its length, moving the contents up when
    /// the length takes more than the one byte reserved.
    public mutating func endMessage(_ start: Int) {
        let length = bytes.count - start - 1
        if length < 0x80 {
            bytes[start] = UInt8(truncatingIfNeeded: length)
            return
        }
        let extra = Self.varintSize(UInt64(length)) - 1
        bytes.append(contentsOf: repeatElement(0, count: extra))
        bytes.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            UnsafeMutableRawPointer(base + start + 1 + extra).copyMemory(from: base + start + 1, byteCount: length)
            var v = UInt64(length)
            var i = start
            while v >= 0x80 {
                base[i] = UInt8(truncatingIfNeeded: v) | 0x80
                v >>= 7
                i += 1
            }
            base[i] = UInt8(truncatingIfNeeded: v)
        }
    }

    // MARK: the wire

    public mutating func lengthDelimited(_ field: Int, _ value: UnsafeBufferPointer<UInt8>, always: Bool = false) {
        guard !value.isEmpty || always else { return }
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func tag(_ field: Int, _ type: WireType) {
        varint(UInt64(field) << 3 | type.rawValue)
    }

    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    private mutating func littleEndian64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// Bytes a varint of `value` takes (1 to 10).
    public static func varintSize(_ value: UInt64) -> Int {
        // 7 bits a byte; 0 still takes one.
        (64 - (value | 1).leadingZeroBitCount + 6) / 7
    }
}
