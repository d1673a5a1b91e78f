import Glibc
import ArcCore

/// One `--where` test: `FIELD=VALUE`, `!=`, `>`, `>=`, `<`, `<=`, `~REGEX`, `!~REGEX`.
/// `=` and `!=` compare numbers as numbers when both sides are numbers (`status=503.0`,
/// also when the field holds "503" as a string), anything else as text, byte by byte.
/// `>`, `>=`, `<` and `<=` are numeric only: N must be a number, and only a number or a
/// numeric string (spaces around it trimmed) can hold; text, true, false, null, objects
/// and arrays never do, so `v>10` is no accident of byte order ("abc" > "10"). A missing
/// field fails every test except `!=` and `!~` (it is not the value), as jq's select does.
/// A class, not a struct: a filter tests each line with each expression, and a struct
/// (two arrays, two strings, a regex) was copied out of the filter's array for the call,
/// four retains and releases a line; a reference is one.
public final class WhereExpression {
    public enum Operator: String, CaseIterable, Sendable {
        case equal = "=", notEqual = "!=", greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<="
        case matches = "~", notMatches = "!~"

        var isOrdering: Bool { self == .greater || self == .greaterOrEqual || self == .less || self == .lessOrEqual }
    }

    public let path: FieldPath
    public let op: Operator
    public let value: String
    private let valueBytes: [UInt8]
    private let number: Double?
    private let regex: ByteRegex?

    /// Parses `text`; a malformed expression or regex is a usage error naming --where.
    public init(_ text: String, ignoreCase: Bool = false) throws {
        let b = Array(text.utf8)
        guard let at = b.firstIndex(where: { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "!") || $0 == UInt8(ascii: "<")
                                             || $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: "~") }), at > 0 else {
            throw UsageError("--where: expected FIELD=VALUE, FIELD!=VALUE, FIELD>N, FIELD<N or FIELD~REGEX, got '\(text)'")
        }
        let two = at + 1 < b.count ? String(decoding: b[at...at + 1], as: UTF8.self) : ""
        let op: Operator
        var valueStart = at + 2
        switch two {
        case "!=": op = .notEqual
        case ">=": op = .greaterOrEqual
        case "<=": op = .lessOrEqual
        case "!~": op = .notMatches
        case "==": op = .equal
        default:
            valueStart = at + 1
            switch b[at] {
            case UInt8(ascii: "="): op = .equal
            case UInt8(ascii: ">"): op = .greater
            case UInt8(ascii: "<"): op = .less
            case UInt8(ascii: "~"): op = .matches
            default: throw UsageError("--where: '!' must be followed by '=' or '~' in '\(text)'")
            }
        }
        let field = String(decoding: b[..<at], as: UTF8.self)
        guard !field.contains(" "), !field.hasPrefix("."), !field.hasSuffix(".") else {
            throw UsageError("--where: bad field name '\(field)' in '\(text)'")
        }
        path = FieldPath(field)
        self.op = op
        value = String(decoding: b[valueStart...], as: UTF8.self)
        valueBytes = Array(b[valueStart...])
        number = op.isOrdering ? LogNumber.parse(LogNumber.trimmed(valueBytes)) : LogNumber.parse(valueBytes)
        if op == .matches || op == .notMatches {
            regex = try ByteRegex(value, ignoreCase: ignoreCase, flag: "--where")
        } else {
            regex = nil
            if op.isOrdering {
                if value.isEmpty { throw UsageError("--where: '\(text)' compares with nothing") }
                // A time belongs to --since/--until, which know its forms and zones.
                guard number != nil else {
                    throw UsageError("--where: '\(text)' compares with '\(value)', not a number (FIELD\(op.rawValue)N is numeric; --since and --until take times)")
                }
            }
        }
    }

    /// `=` and `!=` with a number compare numbers: 503 also equals 503.0 and "5.03e2".
    var comparesNumbers: Bool { number != nil }
    /// `~` and `!~` with a plain literal for a pattern.
    var regexLiteral: [UInt8]? { regex?.literal }

    public func test(_ entry: LogEntry) -> Bool {
        guard let v = entry.value(path) else { return op == .notEqual || op == .notMatches }
        // Most values need no decoding: tested in place, with no closure (whose context
        // copied this expression, four retains and releases a line).
        if let text = entry.directText(of: v) { return test(text, kind: v.kind) }
        return entry.withText(of: v) { test($0, kind: v.kind) }
    }

    /// The test on a value's text (`kind` is the value's JSON kind).
    private func test(_ text: UnsafeBufferPointer<UInt8>, kind: JSONKind) -> Bool {
        if let regex {
            return regex.matches(text) == (op == .matches)
        }
        let order: Int
        if op.isOrdering {
            guard let number, kind == .number || kind == .string,
                  let mine = LogNumber.parse(LogNumber.trimmed(text)) else { return false }
            order = mine < number ? -1 : (mine > number ? 1 : 0)
        } else if let number, kind == .number || kind == .string, let mine = LogNumber.parse(text) {
            order = mine < number ? -1 : (mine > number ? 1 : 0)
        } else {
            order = compare(text)
        }
        switch op {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .greater: return order > 0
        case .greaterOrEqual: return order >= 0
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .matches, .notMatches: return false
        }
    }

    /// The number an ordering test compares, or nil when the field is missing or not a
    /// number (then `>`, `>=`, `<` and `<=` all fail).
    func orderedNumber(in entry: LogEntry) -> Double? {
        guard let v = entry.value(path), v.kind == .number || v.kind == .string else { return nil }
        return entry.withText(of: v) { LogNumber.parse(LogNumber.trimmed($0)) }
    }

    private func compare(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        valueBytes.withUnsafeBufferPointer { v in
            let n = min(text.count, v.count)
            let c = n == 0 ? 0 : memcmp(text.baseAddress!, v.baseAddress!, n)
            if c != 0 { return c < 0 ? -1 : 1 }
            return text.count == v.count ? 0 : (text.count < v.count ? -1 : 1)
        }
    }
}

/// Numbers in field values and on the command line: decimal only (no hex, inf or nan,
/// which strtod would take), the whole text or nothing.
enum LogNumber {
    static func parse(_ b: [UInt8]) -> Double? { b.withUnsafeBufferPointer { parse($0) } }
    static func parse(_ b: Slice<UnsafeBufferPointer<UInt8>>) -> Double? { parse(UnsafeBufferPointer(rebasing: b)) }
    static func parse(_ b: ArraySlice<UInt8>) -> Double? { b.withUnsafeBufferPointer { parse($0) } }

    /// Without the spaces, tabs and line ends around it (" 500 " is the number 500).
    static func trimmed<C: BidirectionalCollection>(_ b: C) -> C.SubSequence where C.Element == UInt8 {
        func space(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
        var start = b.startIndex, end = b.endIndex
        while start != end && space(b[start]) { start = b.index(after: start) }
        while end != start && space(b[b.index(before: end)]) { end = b.index(before: end) }
        return b[start..<end]
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        guard !b.isEmpty, b.count < 64 else { return nil }
        var sawDigit = false
        var integer = true
        for (i, c) in b.enumerated() {
            switch c {
            case 48...57: sawDigit = true
            case UInt8(ascii: "-"), UInt8(ascii: "+"):
                if i != 0 && b[i - 1] != UInt8(ascii: "e") && b[i - 1] != UInt8(ascii: "E") { return nil }
                if i != 0 { integer = false }
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): integer = false
            default: return nil
            }
        }
        guard sawDigit else { return nil }
        if integer, b.count <= 18 {
            var v: Int64 = 0
            var negative = false
            for c in b {
                if c == UInt8(ascii: "-") { negative = true; continue }
                if c == UInt8(ascii: "+") { continue }
                v = v * 10 + Int64(c - 48)
            }
            return Double(negative ? -v : v)
        }
        var buf = [CChar](repeating: 0, count: b.count + 1)
        for i in 0..<b.count { buf[i] = CChar(bitPattern: b[i]) }
        var endPtr: UnsafeMutablePointer<CChar>?
        let v = buf.withUnsafeMutableBufferPointer { p -> Double in
            let r = strtod(p.baseAddress!, &endPtr)
            if endPtr != p.baseAddress! + b.count { endPtr = nil }
            return r
        }
        return endPtr == nil ? nil : v
    }
}
