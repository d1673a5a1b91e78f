import Glibc
import ArcCore

/// One log line as read: its bytes in a buffer the entry owns and reuses, and, when the
/// line is a JSON object, where its top-level members are. Nothing is decoded unless a
/// filter or an output asks: a line that only passes through costs a scan and a copy.
///
/// Its stored properties are internal (as LogReader's): public ones, and any accessed
/// across a call the optimizer cannot see into (`&fields` to the scanner), were checked
/// for exclusive access at run time on each line.
public final class LogEntry {
    /// The line's bytes: `owned`, or the reader's buffer after `load(borrowing:)`.
    private(set) var base: UnsafePointer<UInt8>
    private(set) var count = 0
    /// Storage the entry owns, for lines it copies (and a borrowed line once repaired).
    private var owned: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var fields: [JSONField] = []
    /// False for plain text and for anything that is not one valid JSON object: such a
    /// line is kept as its `msg`, never dropped.
    private(set) var isJSON = false
    /// Milliseconds since the epoch: the line's own time, or else the time of the line
    /// before it in the same file (a stack trace sorts with the error it belongs to).
    var ts: Int64?
    var hasOwnTime = false
    /// Which input the line came from (the merge breaks ties by input, then by order).
    var source = 0
    var sequence = 0

    public init(capacity: Int = 1024) {
        self.capacity = capacity
        owned = .allocate(capacity: capacity)
        base = UnsafePointer(owned)
        var fields: [JSONField] = []
        fields.reserveCapacity(32)
        self.fields = fields
    }

    deinit { owned.deallocate() }

    public var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// Takes a copy of `line` and scans it. A JSON object with invalid UTF-8 in it is read
    /// (and written) with each bad sequence replaced by U+FFFD, as jq reads it: one stray
    /// byte in a message must not cost the line its level, tool and fields.
    public func load(_ line: UnsafeBufferPointer<UInt8>) {
        copy(line)
        scan()
        if !isJSON, looksLikeObject, let repaired = LogText.replacingInvalidUTF8(bytes) {
            repaired.withUnsafeBufferPointer { copy($0) }
            scan()
            // Still no object: the line stays text, with its bytes as they came.
            if !isJSON { copy(line) }
        }
    }

    /// As `load`, but the entry reads `line` where it is, without a copy: for a reader's
    /// line, which stays put until that reader's next call (LogSources.advance). A line
    /// that needs its UTF-8 repaired is copied then (the repair is the entry's own).
    /// Most candidate lines only pass through, so the copy was one memcpy a line for nothing.
    func load(borrowing line: UnsafeBufferPointer<UInt8>) {
        guard let p = line.baseAddress else { return load(line) }
        base = p
        count = line.count
        scan()
        if !isJSON, looksLikeObject, let repaired = LogText.replacingInvalidUTF8(bytes) {
            repaired.withUnsafeBufferPointer { copy($0) }
            scan()
            if !isJSON {
                base = p
                count = line.count
            }
        }
    }

    private func copy(_ line: UnsafeBufferPointer<UInt8>) {
        if line.count > capacity {
            owned.deallocate()
            capacity = max(line.count, capacity * 2)
            owned = .allocate(capacity: capacity)
        }
        if let p = line.baseAddress { owned.update(from: p, count: line.count) }
        base = UnsafePointer(owned)
        count = line.count
    }

    private var looksLikeObject: Bool {
        var i = 0
        while i < count && (base[i] == 0x20 || base[i] == 0x09) { i += 1 }
        return i < count && base[i] == UInt8(ascii: "{")
    }

    /// The fields array, emptied (its storage kept), left empty in the entry meanwhile.
    private func takeFields() -> [JSONField] {
        var found = fields
        fields = []
        found.removeAll(keepingCapacity: true)
        return found
    }

    private func scan() {
        ts = nil
        hasOwnTime = false
        // Only a line that starts with `{` can be an object; plain text skips the scanner.
        guard looksLikeObject else {
            fields = takeFields()
            isJSON = false
            return
        }
        // Scanned into a local array, not `&fields`: an inout access to a stored property
        // that spans a call into ArcCore could overlap another, so every access to
        // `fields` would be checked at run time (swift_beginAccess, several a line).
        var found = takeFields()
        do {
            try JSONScanner.scanObject(bytes, into: &found)
            isJSON = true
        } catch {
            found.removeAll(keepingCapacity: true)
            isJSON = false
        }
        fields = found
    }

    public func load(_ text: String) {
        var text = text
        text.withUTF8 { load($0) }
    }

    /// The text of the line (tests, slow paths).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    // MARK: fields

    /// The last top-level member named `key` (JavaScript's rule for repeated keys).
    public func field(_ key: FieldKey) -> JSONField? {
        guard isJSON else { return nil }
        return LogEntry.find(key, in: fields, base)
    }

    static func find(_ key: FieldKey, in fields: [JSONField], _ base: UnsafePointer<UInt8>) -> JSONField? {
        let n = key.bytes.count
        return key.bytes.withUnsafeBufferPointer { k in
            var i = fields.count - 1
            while i >= 0 {
                let f = fields[i]
                if f.keyEscaped {
                    let text = JSONText.unescape(UnsafeBufferPointer(start: base + Int(f.keyStart), count: Int(f.keyEnd - f.keyStart)).arraySlice)
                    if text == key.text { return f }
                } else if Int(f.keyEnd - f.keyStart) == n && memcmp(base + Int(f.keyStart), k.baseAddress!, n) == 0 {
                    return f
                }
                i -= 1
            }
            return nil
        }
    }

    /// The value at a field path: a top-level key as written (`error.code` when a line has
    /// that key), else the dot path into nested objects (`error` → `code`).
    public func value(_ path: FieldPath) -> FieldValue? {
        guard isJSON else {
            // A text line is the record {"msg": line}.
            return path.isMessage ? FieldValue(kind: .string, start: 0, end: count, escaped: true, quoted: false) : nil
        }
        if let f = field(path.whole) { return FieldValue(f) }
        guard path.parts.count > 1, var f = field(path.parts[0]) else { return nil }
        var nested: [JSONField] = []
        for part in path.parts.dropFirst() {
            guard f.kind == .object else { return nil }
            nested.removeAll(keepingCapacity: true)
            let slice = UnsafeBufferPointer(start: base + Int(f.valueStart), count: Int(f.valueEnd - f.valueStart))
            // The line was validated: this cannot fail, but a nested object's offsets are
            // relative to its own start.
            guard (try? JSONScanner.scanObject(slice, into: &nested)) != nil,
                  let inner = LogEntry.find(part, in: nested, base + Int(f.valueStart)) else { return nil }
            let shift = f.valueStart
            f = inner
            f.keyStart += shift
            f.keyEnd += shift
            f.valueStart += shift
            f.valueEnd += shift
        }
        return FieldValue(f)
    }

    /// A value's text: a string's contents unescaped, anything else as written.
    public func text(of v: FieldValue) -> String {
        let raw = UnsafeBufferPointer(start: base + v.start, count: v.end - v.start)
        if v.kind == .string && v.quoted {
            let inner = UnsafeBufferPointer(rebasing: raw.dropFirst().dropLast())
            return v.escaped ? JSONText.unescape(inner.arraySlice) : String(decoding: inner, as: UTF8.self)
        }
        return String(decoding: raw, as: UTF8.self)
    }

    /// A value's text as bytes in the line, when that needs no decoding: a string without
    /// escapes (its contents), anything else as written; nil for an escaped string. What
    /// the filters test first, with no closure (which copied the filter's values in).
    func directText(of v: FieldValue) -> UnsafeBufferPointer<UInt8>? {
        if v.kind == .string && v.quoted {
            return v.escaped ? nil : UnsafeBufferPointer(start: base + v.start + 1, count: v.end - v.start - 2)
        }
        return UnsafeBufferPointer(start: base + v.start, count: v.end - v.start)
    }

    /// Calls `body` with a value's text as bytes: a string's contents (unescaped only when
    /// it holds escapes), anything else as written. No String is made on the common path.
    public func withText<T>(of v: FieldValue, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        if let direct = directText(of: v) { return try body(direct) }
        // An escaped string: its contents decoded.
        let inner = UnsafeBufferPointer(start: base + v.start + 1, count: v.end - v.start - 2)
        let decoded = Array(JSONText.unescape(inner.arraySlice).utf8)
        return try decoded.withUnsafeBufferPointer { try body($0) }
    }

    /// The raw JSON of a value (a text line's msg quoted and escaped).
    public func appendJSON(of v: FieldValue, to out: inout [UInt8]) {
        if v.quoted || v.kind != .string {
            out.append(contentsOf: UnsafeBufferPointer(start: base + v.start, count: v.end - v.start))
        } else {
            out.append(UInt8(ascii: "\""))
            LogText.appendEscapedLossy(UnsafeBufferPointer(start: base + v.start, count: v.end - v.start), to: &out)
            out.append(UInt8(ascii: "\""))
        }
    }

    // MARK: the common log fields

    /// The line's severity, from `level`, `severity` or `lvl`; nil when it has none.
    public var severity: Severity? {
        for key in FieldKey.levelKeys {
            if let f = field(key) {
                return Severity(UnsafeBufferPointer(start: base + Int(f.valueStart), count: Int(f.valueEnd - f.valueStart)),
                                kind: f.kind)
            }
        }
        return nil
    }

    /// The line's own time from `ts`, `time`, `timestamp` or `@timestamp` (RFC 3339 or
    /// epoch seconds, milliseconds, microseconds or nanoseconds).
    public var ownTime: Int64? {
        for key in FieldKey.timeKeys {
            if let f = field(key) {
                let raw = UnsafeBufferPointer(start: base + Int(f.valueStart), count: Int(f.valueEnd - f.valueStart))
                switch f.kind {
                case .string: return LogTime.parseRFC3339(UnsafeBufferPointer(rebasing: raw.dropFirst().dropLast()))
                case .number: return LogTime.epochMillis(raw)
                default: return nil
                }
            }
        }
        return nil
    }

    /// The first of `keys` present as a string, as text.
    public func string(_ keys: [FieldKey]) -> String? {
        for key in keys {
            if let f = field(key), f.kind == .string { return text(of: FieldValue(f)) }
        }
        return nil
    }

    /// The message: `msg` or `message`; a text line is all message.
    public var message: String? { isJSON ? string(FieldKey.messageKeys) : LogText.lossyString(bytes) }
}

/// A field's value as offsets into its entry's bytes.
public struct FieldValue {
    public var kind: JSONKind
    public var start: Int
    public var end: Int
    public var escaped: Bool
    /// False only for a text line's msg: raw text, not a JSON string.
    public var quoted: Bool

    init(kind: JSONKind, start: Int, end: Int, escaped: Bool, quoted: Bool) {
        self.kind = kind
        self.start = start
        self.end = end
        self.escaped = escaped
        self.quoted = quoted
    }

    init(_ f: JSONField) {
        self.init(kind: f.kind, start: Int(f.valueStart), end: Int(f.valueEnd), escaped: f.valueEscaped, quoted: true)
    }
}

/// A key as bytes, made once per command (not per line).
public struct FieldKey: Sendable {
    public let text: String
    public let bytes: [UInt8]
    public init(_ text: String) {
        self.text = text
        bytes = Array(text.utf8)
    }

    static let levelKeys = ["level", "severity", "lvl"].map(FieldKey.init)
    static let timeKeys = ["ts", "time", "timestamp", "@timestamp"].map(FieldKey.init)
    static let messageKeys = ["msg", "message"].map(FieldKey.init)
    static let toolKeys = ["tool", "service"].map(FieldKey.init)
    static let traceKeys = ["trace_id", "traceId"].map(FieldKey.init)
    static let spanKeys = ["span_id", "spanId"].map(FieldKey.init)
}

/// A field named on the command line: `level`, or a dot path `error.code`.
public struct FieldPath: Sendable {
    public let whole: FieldKey
    public let parts: [FieldKey]
    public var text: String { whole.text }
    var isMessage: Bool { whole.text == "msg" || whole.text == "message" }

    public init(_ text: String) {
        whole = FieldKey(text)
        parts = text.split(separator: ".", omittingEmptySubsequences: false).map { FieldKey(String($0)) }
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    var arraySlice: ArraySlice<UInt8> { Array(self)[...] }
}
