/// One field read out of a protobuf message without its schema: enough for the small
/// answers a sender reads (an OTLP partial success, a google.rpc.Status message). The
/// receiver's full reader lives in ArcTraces.
public enum ProtobufScan {
    public enum Value: Equatable {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(ArraySlice<UInt8>)
    }

    /// The field at `path` (the numbers of the nested messages, then the field's), the
    /// last occurrence winning as in a parse; nil when absent or when the bytes are not
    /// a well-formed message.
    public static func field(_ path: [Int], in message: ArraySlice<UInt8>) -> Value? {
        guard let number = path.first else { return nil }
        var found: Value?
        var i = message.startIndex
        while i < message.endIndex {
            guard let key = varint(message, &i) else { return nil }
            let value: Value
            switch key & 7 {
            case 0:
                guard let v = varint(message, &i) else { return nil }
                value = .varint(v)
            case 1:
                guard message.endIndex - i >= 8 else { return nil }
                value = .fixed64(message[i..<i + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) })
                i += 8
            case 2:
                guard let length = varint(message, &i), length <= UInt64(message.endIndex - i) else { return nil }
                value = .bytes(message[i..<i + Int(length)])
                i += Int(length)
            case 5:
                guard message.endIndex - i >= 4 else { return nil }
                value = .fixed32(message[i..<i + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) })
                i += 4
            default:
                return nil // groups: not in any message we read
            }
            guard key >> 3 == UInt64(number) else { continue }
            if path.count == 1 {
                found = value
            } else if case .bytes(let nested) = value, let inner = field(Array(path.dropFirst()), in: nested) {
                found = inner
            }
        }
        return found
    }

    public static func varint(_ path: [Int], in message: [UInt8]) -> UInt64? {
        if case .varint(let v) = field(path, in: message[...]) { return v }
        return nil
    }

    public static func string(_ path: [Int], in message: [UInt8]) -> String? {
        if case .bytes(let b) = field(path, in: message[...]) { return String(decoding: b, as: UTF8.self) }
        return nil
    }

    /// A varint at `i`, moving `i` past it; nil when cut short or longer than ten bytes.
    static func varint(_ bytes: ArraySlice<UInt8>, _ i: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while i < bytes.endIndex && shift < 64 {
            let b = bytes[i]
            i += 1
            value |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return value }
            shift += 7
        }
        return nil
    }
}
