/// One field read out of a protobuf message without its schema: enough for the small
/// answers a sender reads (an OTLP partial success, a google.rpc.Status message), with
/// the receiver's reader.
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
        guard !path.isEmpty else { return nil }
        let bytes = Array(message)
        return try? find(path[...], in: ProtobufReader(bytes), bytes)
    }

    private static func find(_ path: ArraySlice<Int>, in message: ProtobufReader, _ bytes: [UInt8]) throws -> Value? {
        var r = message
        var found: Value?
        while let (number, wire) = try r.nextField() {
            guard number == path.first else {
                try r.skip(wire)
                continue
            }
            switch wire {
            case .lengthDelimited where path.count > 1:
                if let inner = try find(path.dropFirst(), in: r.message(), bytes) { found = inner }
            case _ where path.count > 1: try r.skip(wire)
            case .varint: found = .varint(try r.varint())
            case .fixed64: found = .fixed64(try r.fixed64())
            case .fixed32: found = .fixed32(try r.fixed32())
            case .lengthDelimited: found = .bytes(bytes[try r.lengthDelimited()])
            case .startGroup, .endGroup: return nil
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
}
