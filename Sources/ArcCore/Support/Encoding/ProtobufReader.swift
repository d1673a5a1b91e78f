/// Reads the protobuf wire format, field by field: the OTLP receiver's decoders, and
/// `ProtobufScan` for the small answers our exporters read. A reader is a window (`position..<end`) on the one body array: a
/// sub-message is a narrower window on the same bytes, never a copy. Everything the
/// sender declares is checked against what is really there before it is used: a
/// length-delimited field claiming 2^62 bytes is an error, not an allocation.
public struct ProtobufReader {
    public enum WireType: UInt8, Sendable {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    /// How deep messages may nest (the request is depth 0). OTLP's own structure is about
    /// six deep; AnyValue -> ArrayValue/KeyValueList -> AnyValue nests without limit in
    /// the schema, so a hostile body could otherwise recurse until the stack runs out.
    public static let maxDepth = 32

    let bytes: [UInt8]
    public private(set) var position: Int
    let end: Int
    public let depth: Int

    public init(_ bytes: [UInt8]) {
        self.init(bytes, from: 0, to: bytes.count, depth: 0)
    }

    init(_ bytes: [UInt8], from: Int, to: Int, depth: Int) {
        self.bytes = bytes
        self.position = from
        self.end = to
        self.depth = depth
    }

    public var isAtEnd: Bool { position >= end }

    /// The next field's number and wire type, or nil at the end of the message.
    public mutating func nextField() throws -> (number: Int, wire: WireType)? {
        guard position < end else { return nil }
        let key = try varint("field key")
        let number = key >> 3
        guard number >= 1, number <= 536_870_911 else { throw ProtobufError("field number \(number) out of range") }
        guard let wire = WireType(rawValue: UInt8(key & 7)) else {
            throw ProtobufError("field \(number): unknown wire type \(key & 7)")
        }
        if wire == .startGroup || wire == .endGroup {
            throw ProtobufError("field \(number): groups (wire types 3 and 4) are not part of OTLP")
        }
        return (Int(number), wire)
    }

    /// A base-128 varint: at most 10 bytes, and the 10th may only carry the top bit.
    public mutating func varint(_ what: String = "varint") throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw ProtobufError("truncated \(what)") }
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 { throw ProtobufError("\(what) overflows 64 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            if shift > 63 { throw ProtobufError("\(what) longer than 10 bytes") }
        }
    }

    public mutating func fixed64() throws -> UInt64 {
        guard end - position >= 8 else { throw ProtobufError("truncated fixed64 field") }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return value
    }

    public mutating func fixed32() throws -> UInt32 {
        guard end - position >= 4 else { throw ProtobufError("truncated fixed32 field") }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return value
    }

    /// The range of a length-delimited field's bytes, after checking they are all there.
    public mutating func lengthDelimited() throws -> Range<Int> {
        let declared = try varint("length")
        guard declared <= UInt64(end - position) else {
            throw ProtobufError("truncated length-delimited field (declares \(declared) bytes, \(end - position) left)")
        }
        let start = position
        position += Int(declared)
        return start..<position
    }

    /// A nested message: a reader over the field's bytes, one level deeper.
    public mutating func message() throws -> ProtobufReader {
        let range = try lengthDelimited()
        guard depth < Self.maxDepth else {
            throw ProtobufError("messages nested deeper than \(Self.maxDepth) levels")
        }
        return ProtobufReader(bytes, from: range.lowerBound, to: range.upperBound, depth: depth + 1)
    }

    /// A string field; invalid UTF-8 is repaired (U+FFFD), as JSON text needs valid text.
    public mutating func string() throws -> String {
        let range = try lengthDelimited()
        return String(decoding: bytes[range], as: UTF8.self)
    }

    public mutating func byteSlice() throws -> ArraySlice<UInt8> {
        bytes[try lengthDelimited()]
    }

    /// Skips a field this decoder does not know (newer OTLP, or another message's).
    public mutating func skip(_ wire: WireType) throws {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw ProtobufError("groups (wire types 3 and 4) are not part of OTLP")
        }
    }

    /// Fails unless the field came with `wire`: a known field of the wrong type means the
    /// body is not the message the path says it is.
    public func expect(_ wire: WireType, _ got: WireType, field: String) throws {
        guard wire == got else { throw ProtobufError("\(field): wire type \(got.rawValue), expected \(wire.rawValue)") }
    }
}

extension ProtobufReader {
    /// Calls `body` with each occurrence of the message field `number` (a repeated field,
    /// or a single one, read each time it comes), skipping every other field. An error
    /// inside names where: `name[i]`, or `name` when `indexed` is false.
    public mutating func forEachMessage(_ number: Int, named name: String, indexed: Bool = true,
                                        _ body: (inout ProtobufReader) throws -> Void) throws {
        var i = 0
        while let (n, wire) = try nextField() {
            guard n == number else {
                try skip(wire)
                continue
            }
            try ProtobufError.at(indexed ? "\(name)[\(i)]" : name) {
                try expect(.lengthDelimited, wire, field: name)
                var nested = try message()
                try body(&nested)
            }
            i += 1
        }
    }
}

/// A body that is not the protobuf message expected. `path` is where (outermost first,
/// `resource_spans[0].scope_spans[0].spans[3].attributes[1].value`), `reason` what.
public struct ProtobufError: Error, CustomStringConvertible, Sendable {
    public var path: [String] = []
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String {
        path.isEmpty ? reason : path.joined(separator: ".") + ": " + reason
    }

    /// Runs `body`, naming `component` in the path of any error it throws (errors unwind
    /// from the innermost field out, so each level puts its name in front).
    @inline(__always)
    public static func at<T>(_ component: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch var e as ProtobufError {
            e.path.insert(component(), at: 0)
            throw e
        }
    }
}
