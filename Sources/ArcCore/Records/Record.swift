import Glibc

/// One NDJSON record: the line's bytes and where its top-level members are. Fields are
/// decoded on demand; fields nobody asks about are passed on byte for byte.
public struct Record: Sendable {
    public let bytes: [UInt8]
    public let fields: [JSONField]

    /// Parses one line (without its newline). Throws `JSONSyntaxError` unless it is one JSON object.
    public init(line: UnsafeBufferPointer<UInt8>) throws {
        var fields: [JSONField] = []
        fields.reserveCapacity(16)
        try JSONScanner.scanObject(line, into: &fields)
        self.bytes = Array(line)
        self.fields = fields
    }

    public init(parsing text: String) throws {
        var copy = Array(text.utf8)
        self = try copy.withUnsafeMutableBufferPointer { try Record(line: UnsafeBufferPointer($0)) }
    }

    /// The member named `key` (the last one, if a line repeats a key, as JavaScript does).
    public func field(_ key: String) -> JSONField? {
        var key = key
        return key.withUTF8 { k in
            bytes.withUnsafeBufferPointer { b in
                for f in fields.reversed() where Int(f.keyEnd - f.keyStart) == k.count || f.keyEscaped {
                    if f.keyEscaped {
                        if keyText(f) == String(decoding: k, as: UTF8.self) { return f }
                    } else if JSONText.sameBytes(b.baseAddress! + Int(f.keyStart), k.baseAddress!, count: k.count) {
                        return f
                    }
                }
                return nil
            }
        }
    }

    public func has(_ key: String) -> Bool { field(key) != nil }

    /// The key of a member, unescaped.
    public func keyText(_ f: JSONField) -> String {
        let slice = bytes[Int(f.keyStart)..<Int(f.keyEnd)]
        return f.keyEscaped ? JSONText.unescape(slice) : String(decoding: slice, as: UTF8.self)
    }

    /// A value's bytes exactly as written.
    public func raw(_ f: JSONField) -> ArraySlice<UInt8> { bytes[Int(f.valueStart)..<Int(f.valueEnd)] }

    // MARK: typed access; absent and null read as nil, a value of the wrong type throws.

    public func string(_ key: String) throws -> String? {
        guard let f = field(key), f.kind != .null else { return nil }
        guard f.kind == .string else { throw FieldError(field: key, expected: "a string", kind: f.kind) }
        return stringValue(f)
    }

    public func stringValue(_ f: JSONField) -> String {
        let slice = bytes[Int(f.valueStart) + 1..<Int(f.valueEnd) - 1]
        return f.valueEscaped ? JSONText.unescape(slice) : String(decoding: slice, as: UTF8.self)
    }

    /// Appends a string field's value (unescaped UTF-8) to `out`, without making a String:
    /// for hot paths that build bytes. False when the field is absent or null.
    public func appendString(_ key: String, to out: inout [UInt8]) throws -> Bool {
        guard let f = field(key), f.kind != .null else { return false }
        guard f.kind == .string else { throw FieldError(field: key, expected: "a string", kind: f.kind) }
        let slice = bytes[Int(f.valueStart) + 1..<Int(f.valueEnd) - 1]
        if f.valueEscaped { out.append(contentsOf: JSONText.unescape(slice).utf8) } else { out.append(contentsOf: slice) }
        return true
    }

    /// Calls `body` with a string field's value as unescaped UTF-8, without making a String
    /// unless the value holds escapes: for hot paths that only hash or copy it. Nil when the
    /// field is absent or null; throws as `string` does for another type, and with
    /// `required`, as `requiredString` does for an absent, null or empty one.
    public func withStringBytes<T>(_ key: String, required: Bool = false,
                                   _ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        guard let f = field(key), f.kind != .null else {
            if required { throw FieldError(field: key, expected: "a string", kind: nil) }
            return nil
        }
        guard f.kind == .string else { throw FieldError(field: key, expected: "a string", kind: f.kind) }
        if f.valueEscaped {
            var text = stringValue(f)
            if required && text.isEmpty { throw FieldError(field: key, expected: "a non-empty string", kind: .string) }
            return try text.withUTF8(body)
        }
        let start = Int(f.valueStart) + 1, end = Int(f.valueEnd) - 1
        if required && start == end { throw FieldError(field: key, expected: "a non-empty string", kind: .string) }
        return try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<end])) }
    }

    public func int(_ key: String) throws -> Int64? {
        guard let f = field(key), f.kind != .null else { return nil }
        guard f.kind == .number, let v = JSONText.parseInt(raw(f)) else {
            throw FieldError(field: key, expected: "an integer", kind: f.kind)
        }
        return v
    }

    public func double(_ key: String) throws -> Double? {
        guard let f = field(key), f.kind != .null else { return nil }
        guard f.kind == .number, let v = Double(String(decoding: raw(f), as: UTF8.self)) else {
            throw FieldError(field: key, expected: "a number", kind: f.kind)
        }
        return v
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let f = field(key), f.kind != .null else { return nil }
        guard f.kind == .bool else { throw FieldError(field: key, expected: "true or false", kind: f.kind) }
        return bytes[Int(f.valueStart)] == UInt8(ascii: "t")
    }

    /// A string field that must be present and non-empty.
    public func requiredString(_ key: String) throws -> String {
        guard let v = try string(key) else { throw FieldError(field: key, expected: "a string", kind: nil) }
        guard !v.isEmpty else { throw FieldError(field: key, expected: "a non-empty string", kind: .string) }
        return v
    }
}

/// A field with the wrong type or missing; the reader adds file and line.
public struct FieldError: Error, CustomStringConvertible {
    public let field: String
    public let expected: String
    public let kind: JSONKind?
    /// Set when the value has the right type but is wrong for another reason.
    public var problem: String?

    public init(field: String, expected: String, kind: JSONKind?) {
        self.field = field
        self.expected = expected
        self.kind = kind
    }

    public init(field: String, problem: String) {
        self.init(field: field, expected: "", kind: nil)
        self.problem = problem
    }

    public var description: String {
        if let problem { return problem }
        guard let kind else { return "missing; expected \(expected)" }
        return "expected \(expected), found \(kind == .null ? "null" : "a " + String(describing: kind))"
    }
}
