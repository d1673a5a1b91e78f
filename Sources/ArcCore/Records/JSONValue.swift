/// A whole JSON document as a tree, for the few inputs that are nested documents rather
/// than records: OTLP/JSON requests and answers, AWS credential helpers' output. Built
/// with the records' own validating scanner (which bounds the nesting), one level at a
/// time; off every hot path
/// (records themselves are read lazily, field by field, through `Record`).
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number as written, so 64-bit integers keep every digit.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order; a repeated key keeps both (lookups take the last).
    case object([Member])

    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue
    }

    /// Parses one JSON value; throws `JSONSyntaxError` with the offset of the problem.
    public init(parsing bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBufferPointer { try JSONValue(scanning: $0) }
    }

    public init(parsing text: String) throws { try self.init(parsing: Array(text.utf8)) }

    private init(scanning bytes: UnsafeBufferPointer<UInt8>) throws {
        var parts: [JSONField] = []
        let kind = try JSONScanner.scanValue(bytes, into: &parts)
        func slice(_ start: Int32, _ end: Int32) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: bytes[Int(start)..<Int(end)])
        }
        func text(_ start: Int32, _ end: Int32, escaped: Bool) -> String {
            let raw = slice(start, end)
            return escaped ? JSONText.unescape(ArraySlice(raw)) : String(decoding: raw, as: UTF8.self)
        }
        switch kind {
        case .object:
            self = .object(try parts.map { f in
                Member(key: text(f.keyStart, f.keyEnd, escaped: f.keyEscaped),
                       value: try JSONValue(scanning: slice(f.valueStart, f.valueEnd)))
            })
        case .array:
            self = .array(try parts.map { try JSONValue(scanning: slice($0.valueStart, $0.valueEnd)) })
        case .string:
            let f = parts[0]
            self = .string(text(f.valueStart + 1, f.valueEnd - 1, escaped: f.valueEscaped))
        case .number:
            self = .number(text(parts[0].valueStart, parts[0].valueEnd, escaped: false))
        case .bool:
            self = .bool(bytes[Int(parts[0].valueStart)] == UInt8(ascii: "t"))
        case .null:
            self = .null
        }
    }

    /// The value of member `key` of an object (the last, if repeated); nil otherwise.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// An integer given as a number or, as the protobuf JSON mapping writes 64-bit
    /// integers, as a string of digits.
    public var int64Value: Int64? {
        switch self {
        case .number(let text), .string(let text): return Int64(text)
        default: return nil
        }
    }

    /// A number, or a string holding one (the protobuf JSON mapping allows both).
    public var doubleValue: Double? {
        switch self {
        case .number(let text), .string(let text): return Double(text)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var members: [Member]? {
        if case .object(let members) = self { return members }
        return nil
    }
}
