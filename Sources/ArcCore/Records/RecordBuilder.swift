/// Writes one JSON object into a reusable byte buffer. Tools build their output by copying
/// the input record's members they do not own (unknown fields pass through untouched)
/// and appending their own.
public struct RecordBuilder {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    /// Starts a new object, reusing the buffer.
    public mutating func begin() {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Closes the object and appends the newline that ends every record.
    public mutating func end() {
        bytes.append(UInt8(ascii: "}"))
        bytes.append(UInt8(ascii: "\n"))
    }

    /// Member names to leave out of `copyFields`, as bytes once: checked against every
    /// member of every record on hot paths (arc-plan's), where comparing Strings was most
    /// of the copy. Hot paths keep theirs in a `static let`.
    public struct FieldNames: Sendable, ExpressibleByArrayLiteral {
        public let names: [String]
        /// The names' bytes one after another, and where each is in them.
        private let flat: [UInt8]
        private let spans: [Range<Int>]
        /// Bit n set when a name is n bytes long (names of 64 bytes or more set bit 63).
        private let lengths: UInt64

        public init(_ names: [String]) {
            self.names = names
            var flat: [UInt8] = [], spans: [Range<Int>] = [], lengths: UInt64 = 0
            for name in names {
                spans.append(flat.count..<flat.count + name.utf8.count)
                flat.append(contentsOf: name.utf8)
                lengths |= 1 << UInt64(min(name.utf8.count, 63))
            }
            self.flat = flat
            self.spans = spans
            self.lengths = lengths
        }

        public init(arrayLiteral names: String...) { self.init(names) }

        fileprivate func contains(_ r: Record, _ f: JSONField, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
            if f.keyEscaped { return names.contains(r.keyText(f)) }
            let length = Int(f.keyEnd - f.keyStart)
            guard lengths & (1 << UInt64(min(length, 63))) != 0 else { return false }
            let key = b.baseAddress! + Int(f.keyStart)
            return flat.withUnsafeBufferPointer { flat in
                spans.contains { $0.count == length && JSONText.sameBytes(flat.baseAddress! + $0.lowerBound, key, count: length) }
            }
        }
    }

    /// Copies every member of `record` except those named in `except`. Members are copied
    /// as one run of bytes when none is excluded (the common case on every hot path).
    public mutating func copyFields(of record: Record, except: FieldNames = []) {
        guard let first = record.fields.first, let last = record.fields.last else { return }
        record.bytes.withUnsafeBufferPointer { b in
            guard record.fields.contains(where: { except.contains(record, $0, b) }) else {
                comma()
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: b[Int(first.keyStart) - 1..<Int(last.valueEnd)]))
                return
            }
            for f in record.fields where !except.contains(record, f, b) {
                comma()
                let start = Int(f.keyStart) - 1
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<Int(f.keyEnd) + 1]))
                bytes.append(UInt8(ascii: ":"))
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: b[Int(f.valueStart)..<Int(f.valueEnd)]))
            }
        }
    }

    @inline(__always) private mutating func comma() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    @inline(__always) private mutating func key(_ k: String) {
        comma()
        JSONText.appendQuoted(k, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func string(_ k: String, _ v: String) {
        key(k)
        JSONText.appendQuoted(v, to: &bytes)
    }

    /// A string given as UTF-8 bytes (escaped as `string` escapes it).
    public mutating func string(_ k: String, utf8 v: UnsafeBufferPointer<UInt8>) {
        key(k)
        bytes.append(UInt8(ascii: "\""))
        JSONText.appendEscaped(v, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// `v` as a string of 16 lowercase hex digits, most significant first (a StableHash's `hex`).
    public mutating func hex(_ k: String, _ v: UInt64) {
        key(k)
        bytes.append(UInt8(ascii: "\""))
        for shift in stride(from: 60, through: 0, by: -4) {
            let d = UInt8(truncatingIfNeeded: v >> UInt64(shift)) & 15
            bytes.append(d < 10 ? 48 + d : 87 + d)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes the string, or nothing at all when it is nil.
    public mutating func optionalString(_ k: String, _ v: String?) {
        if let v { string(k, v) }
    }

    /// Writes the string, or `null` when it is nil.
    public mutating func stringOrNull(_ k: String, _ v: String?) {
        if let v { string(k, v) } else { null(k) }
    }

    public mutating func int(_ k: String, _ v: Int64) {
        key(k)
        appendDecimal(v)
    }
    public mutating func int(_ k: String, _ v: Int) { int(k, Int64(v)) }

    public mutating func intOrNull(_ k: String, _ v: Int64?) {
        if let v { int(k, v) } else { null(k) }
    }

    public mutating func double(_ k: String, _ v: Double) {
        key(k)
        if v.isFinite {
            bytes.append(contentsOf: Array(String(v).utf8))
        } else {
            bytes.append(contentsOf: Array("null".utf8))
        }
    }

    public mutating func bool(_ k: String, _ v: Bool) {
        key(k)
        bytes.append(contentsOf: v ? Array("true".utf8) : Array("false".utf8))
    }

    public mutating func null(_ k: String) {
        key(k)
        bytes.append(contentsOf: [110, 117, 108, 108])
    }

    /// A value that is already JSON (an object, array or number built elsewhere).
    public mutating func raw<C: Collection>(_ k: String, _ json: C) where C.Element == UInt8 {
        key(k)
        bytes.append(contentsOf: json)
    }

    /// A nested object built by `body` with the same builder.
    public mutating func object(_ k: String, _ body: (inout RecordBuilder) -> Void) {
        key(k)
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// An array of strings.
    public mutating func strings(_ k: String, _ values: [String]) {
        key(k)
        bytes.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(v, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// An array of objects, each built by `body`.
    public mutating func objects<T>(_ k: String, _ items: [T], _ body: (inout RecordBuilder, T) -> Void) {
        key(k)
        bytes.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "{"))
            needsComma = false
            body(&self, item)
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    private mutating func appendDecimal(_ v: Int64) {
        if v == 0 { bytes.append(48); return }
        var n = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while n > 0 {
                d[count] = UInt8(n % 10) + 48
                n /= 10
                count += 1
            }
            if v < 0 { bytes.append(UInt8(ascii: "-")) }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(d[i]) }
        }
    }
}
