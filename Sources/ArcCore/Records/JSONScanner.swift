import CChecksum

/// What kind of JSON value a field holds.
public enum JSONKind: UInt8, Sendable {
    case string, number, object, array, bool, null
}

/// One top-level member of a JSON object, as byte offsets into the line it came from.
/// Nothing is decoded until a caller asks for the value: passing a record through
/// unchanged costs a scan and a copy, not a parse into Swift values.
public struct JSONField: Sendable {
    /// Bytes of the key, without its quotes (still escaped if `keyEscaped`).
    public var keyStart: Int32
    public var keyEnd: Int32
    /// Bytes of the value exactly as written (a string keeps its quotes).
    public var valueStart: Int32
    public var valueEnd: Int32
    public var kind: JSONKind
    public var keyEscaped: Bool
    /// For strings: whether the contents contain backslash escapes.
    public var valueEscaped: Bool
}

/// Why a line is not a JSON object; `offset` is 0-based into the line.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable {
    public let offset: Int
    public let reason: String
    public var description: String { "\(reason) at column \(offset + 1)" }
}

/// A validating scanner over UTF-8 bytes. It checks the whole line against JSON's
/// grammar but records only the top-level members of the object.
public struct JSONScanner {
    private let base: UnsafePointer<UInt8>
    private let end: Int
    private var i = 0
    private static let maxDepth = 256
    /// For a clean line (`QuoteMap`): bit k of word k / 64 is set where byte k is a quote.
    /// Such a line's strings end at their next quote, found here without scanning them.
    private var quotes: UnsafePointer<UInt64>?

    private init(_ base: UnsafePointer<UInt8>, _ count: Int) {
        self.base = base
        self.end = count
    }

    /// Scans a line that must hold exactly one JSON object, appending its members to `fields`.
    public static func scanObject(_ bytes: UnsafeBufferPointer<UInt8>, into fields: inout [JSONField]) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONSyntaxError(offset: 0, reason: "empty line")
        }
        // Most lines are short, with no escape, control character or non-ASCII byte: one
        // vector pass maps their quotes, and then each string is one bit search, not a scan
        // of its bytes (the scan's branches on where a string ends were mispredicted).
        // The grammar is the same code either way, so are the answers and error offsets.
        if bytes.count <= QuoteMap.maxLength {
            return try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: QuoteMap.maxWords) { words in
                let map = words.baseAddress!
                try scanObject(base, bytes.count, quotes: QuoteMap.build(base, bytes.count, into: map) ? UnsafePointer(map) : nil,
                               into: &fields)
            }
        }
        try scanObject(base, bytes.count, quotes: nil, into: &fields)
    }

    /// `scanObject` without the quote map, every string scanned byte by byte: what the
    /// map must agree with (the differential test).
    static func scanObjectByBytes(_ bytes: UnsafeBufferPointer<UInt8>, into fields: inout [JSONField]) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONSyntaxError(offset: 0, reason: "empty line")
        }
        try scanObject(base, bytes.count, quotes: nil, into: &fields)
    }

    private static func scanObject(_ base: UnsafePointer<UInt8>, _ count: Int, quotes: UnsafePointer<UInt64>?,
                                   into fields: inout [JSONField]) throws {
        var s = JSONScanner(base, count)
        s.quotes = quotes
        s.skipSpace()
        guard s.i < s.end, s.base[s.i] == UInt8(ascii: "{") else {
            throw JSONSyntaxError(offset: s.i, reason: s.i < s.end ? "not a JSON object" : "empty line")
        }
        try s.scanTopObject(&fields)
        s.skipSpace()
        if s.i != s.end { throw JSONSyntaxError(offset: s.i, reason: "unexpected data after the object") }
    }

    /// Scans bytes that must hold exactly one JSON value of any kind, appending the
    /// top-level members of an object, or the elements of an array (with empty keys), to
    /// `parts`. Returns the value's kind. Nested values are validated, not recorded: read
    /// them by scanning their bytes again.
    public static func scanValue(_ bytes: UnsafeBufferPointer<UInt8>, into parts: inout [JSONField]) throws -> JSONKind {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONSyntaxError(offset: 0, reason: "empty input")
        }
        var s = JSONScanner(base, bytes.count)
        s.skipSpace()
        guard s.i < s.end else { throw JSONSyntaxError(offset: s.i, reason: "empty input") }
        let kind: JSONKind
        switch s.base[s.i] {
        case UInt8(ascii: "{"):
            try s.scanTopObject(&parts)
            kind = .object
        case UInt8(ascii: "["):
            try s.scanTopArray(&parts)
            kind = .array
        default:
            var escaped = false
            let start = s.i
            kind = try s.scanValue(depth: 1, escaped: &escaped)
            parts.append(JSONField(keyStart: Int32(start), keyEnd: Int32(start), valueStart: Int32(start),
                                   valueEnd: Int32(s.i), kind: kind, keyEscaped: false, valueEscaped: escaped))
        }
        s.skipSpace()
        if s.i != s.end { throw JSONSyntaxError(offset: s.i, reason: "unexpected data after the value") }
        return kind
    }

    @inline(__always) private mutating func skipSpace() {
        while i < end {
            let c = base[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { break }
        }
    }

    private func fail(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: i, reason: i >= end ? "unexpected end of line" : reason)
    }

    private mutating func scanTopObject(_ fields: inout [JSONField]) throws {
        i += 1
        skipSpace()
        if i < end && base[i] == UInt8(ascii: "}") { i += 1; return }
        while true {
            skipSpace()
            guard i < end, base[i] == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
            let keyStart = i + 1
            let keyEscaped = try scanString()
            let keyEnd = i - 1
            skipSpace()
            guard i < end, base[i] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
            i += 1
            skipSpace()
            let valueStart = i
            var valueEscaped = false
            let kind: JSONKind
            // Most values of records are strings: scanned here, without the call and switch.
            if i < end && base[i] == UInt8(ascii: "\"") {
                valueEscaped = try scanString()
                kind = .string
            } else {
                kind = try scanValue(depth: 1, escaped: &valueEscaped)
            }
            fields.append(JSONField(keyStart: Int32(keyStart), keyEnd: Int32(keyEnd),
                                    valueStart: Int32(valueStart), valueEnd: Int32(i),
                                    kind: kind, keyEscaped: keyEscaped, valueEscaped: valueEscaped))
            skipSpace()
            guard i < end else { throw fail("unterminated object") }
            let c = base[i]
            i += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { return }
            i -= 1
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func scanTopArray(_ elements: inout [JSONField]) throws {
        i += 1
        skipSpace()
        if i < end && base[i] == UInt8(ascii: "]") { i += 1; return }
        while true {
            skipSpace()
            let valueStart = i
            var valueEscaped = false
            let kind = try scanValue(depth: 1, escaped: &valueEscaped)
            elements.append(JSONField(keyStart: Int32(valueStart), keyEnd: Int32(valueStart),
                                      valueStart: Int32(valueStart), valueEnd: Int32(i),
                                      kind: kind, keyEscaped: false, valueEscaped: valueEscaped))
            skipSpace()
            guard i < end else { throw fail("unterminated array") }
            let c = base[i]
            i += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "]") { return }
            i -= 1
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func scanValue(depth: Int, escaped: inout Bool) throws -> JSONKind {
        guard i < end else { throw fail("expected a value") }
        switch base[i] {
        case UInt8(ascii: "\""):
            escaped = try scanString()
            return .string
        case UInt8(ascii: "{"):
            try scanNested(depth: depth, close: UInt8(ascii: "}"), isObject: true)
            return .object
        case UInt8(ascii: "["):
            try scanNested(depth: depth, close: UInt8(ascii: "]"), isObject: false)
            return .array
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
            return .number
        default:
            throw fail("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= end else { throw fail("bad literal") }
        let w = word.utf8Start
        for k in 0..<n where base[i + k] != w[k] { throw fail("bad literal") }
        i += n
    }

    /// Scans a string starting at its opening quote; returns whether it holds escapes.
    @inline(__always) private mutating func scanString() throws -> Bool {
        i += 1
        if let quotes {
            // A clean line: the string ends at the next quote (there are no escapes).
            guard i < end else { throw fail("unterminated string") }
            var w = i &>> 6
            var bits = quotes[w] & (~0 &<< UInt64(i & 63))
            let last = (end &- 1) &>> 6
            while bits == 0 {
                guard w < last else {
                    i = end
                    throw fail("unterminated string")
                }
                w &+= 1
                bits = quotes[w]
            }
            i = w &<< 6 &+ bits.trailingZeroBitCount &+ 1
            return false
        }
        return try scanStringBytes()
    }

    /// The rest of `scanString` for a line that is not clean: kept out of line, so that
    /// the clean case stays small enough to be inlined where strings are scanned.
    @inline(never) private mutating func scanStringBytes() throws -> Bool {
        var escaped = false
        while true {
            i = JSONText.nextSpecial(base, from: i, end: end, nonASCII: true)
            guard i < end else { break }
            let c = base[i]
            if c == UInt8(ascii: "\"") { i += 1; return escaped }
            if c >= 0x80 {
                // Records are UTF-8: a byte that is not would reach every tool downstream.
                let n = JSONText.utf8SequenceLength(base, at: i, end: end)
                guard n > 0 else { throw fail("invalid UTF-8 in string") }
                i += n
                continue
            }
            if c == UInt8(ascii: "\\") {
                escaped = true
                i += 1
                guard i < end else { break }
                switch base[i] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 1
                case UInt8(ascii: "u"):
                    guard i + 4 < end else { throw fail("bad \\u escape") }
                    for k in 1...4 where !isHex(base[i + k]) { throw fail("bad \\u escape") }
                    i += 5
                default:
                    throw fail("bad escape")
                }
                continue
            }
            throw fail("control character in string")
        }
        throw fail("unterminated string")
    }

    @inline(__always) private func isHex(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
    }

    private mutating func scanNumber() throws {
        if base[i] == UInt8(ascii: "-") { i += 1 }
        guard i < end else { throw fail("bad number") }
        if base[i] == UInt8(ascii: "0") {
            i += 1
        } else if base[i] >= 49 && base[i] <= 57 {
            while i < end && base[i] >= 48 && base[i] <= 57 { i += 1 }
        } else {
            throw fail("bad number")
        }
        if i < end && base[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < end && base[i] >= 48 && base[i] <= 57 { i += 1 }
            if i == start { throw fail("bad number") }
        }
        if i < end && (base[i] == UInt8(ascii: "e") || base[i] == UInt8(ascii: "E")) {
            i += 1
            if i < end && (base[i] == UInt8(ascii: "+") || base[i] == UInt8(ascii: "-")) { i += 1 }
            let start = i
            while i < end && base[i] >= 48 && base[i] <= 57 { i += 1 }
            if i == start { throw fail("bad number") }
        }
    }

    private mutating func scanNested(depth: Int, close: UInt8, isObject: Bool) throws {
        guard depth < JSONScanner.maxDepth else { throw fail("nested too deeply") }
        i += 1
        skipSpace()
        if i < end && base[i] == close { i += 1; return }
        var ignored = false
        while true {
            skipSpace()
            if isObject {
                guard i < end, base[i] == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
                _ = try scanString()
                skipSpace()
                guard i < end, base[i] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
                i += 1
                skipSpace()
            }
            _ = try scanValue(depth: depth + 1, escaped: &ignored)
            skipSpace()
            guard i < end else { throw fail("unterminated \(isObject ? "object" : "array")") }
            let c = base[i]
            i += 1
            if c == UInt8(ascii: ",") { continue }
            if c == close { return }
            i -= 1
            throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))'")
        }
    }
}

/// The quotes of a line that needs no more than them to find its strings' ends: one with
/// no backslash, no control character and no byte from 0x80 up (so no escape to skip and
/// no UTF-8 to validate). Built 64 bytes a step in C (CChecksum's header: SSE2's movemask).
enum QuoteMap {
    static let maxLength = 4096
    static let maxWords = maxLength / 64

    /// Sets bit k of `words` where byte k is a quote (every word up to the line's end is
    /// written); returns whether the line is clean.
    @inline(__always)
    static func build(_ base: UnsafePointer<UInt8>, _ count: Int, into words: UnsafeMutablePointer<UInt64>) -> Bool {
        arc_json_quote_map(base, count, words) != 0
    }
}
