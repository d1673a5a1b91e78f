import ArcCore

/// Attributes and events between their stored JSON text and the telemetry model's values.
/// The text was validated when it was stored (the record scanner, or our own writer), so
/// reading it back never fails; a value that does not fit a scalar becomes its JSON text.
enum SpanJSON {
    /// `{"k":"v","n":1}` -> [("k", .string("v")), ("n", .int(1))]. Arrays and objects
    /// become strings holding their JSON; nulls are dropped.
    static func attributes(_ text: String?) -> [(String, LogValue)] {
        guard let text, let r = try? Record(parsing: text) else { return [] }
        var out: [(String, LogValue)] = []
        out.reserveCapacity(r.fields.count)
        for f in r.fields {
            let key = r.keyText(f)
            switch f.kind {
            case .string: out.append((key, .string(r.stringValue(f))))
            case .number:
                if let i = JSONText.parseInt(r.raw(f)) {
                    out.append((key, .int(i)))
                } else if let d = Double(String(decoding: r.raw(f), as: UTF8.self)) {
                    out.append((key, .double(d)))
                }
            case .bool: out.append((key, .bool(r.bytes[Int(f.valueStart)] == UInt8(ascii: "t"))))
            case .null: continue
            case .object, .array: out.append((key, .string(String(decoding: r.raw(f), as: UTF8.self))))
            }
        }
        return out
    }

    /// `[{"name":"retry","time":"…","attributes":{…}}]` -> events; an element without a
    /// name or a readable time is skipped.
    static func events(_ text: String?) -> [SpanEvent] {
        guard let text else { return [] }
        return elements(ofArray: Array(text.utf8)).compactMap { element -> SpanEvent? in
            guard let r = try? Record(parsing: String(decoding: element, as: UTF8.self)),
                  let name = try? r.string("name"), let time = try? r.string("time"),
                  let nanos = WallClock.parseRFC3339Nanos(time) else { return nil }
            let attributes = r.field("attributes").flatMap { f in
                f.kind == .object ? String(decoding: r.raw(f), as: UTF8.self) : nil
            }
            return SpanEvent(name: name, timeNanos: nanos, attributes: Self.attributes(attributes))
        }
    }

    /// The JSON object text of scalar attributes.
    static func object(_ attributes: [(String, LogValue)]) -> String {
        var b = RecordBuilder(capacity: 256)
        b.begin()
        SpanRecord.writeAttributes(attributes, into: &b)
        b.end()
        return String(decoding: b.bytes.dropLast(), as: UTF8.self)
    }

    /// The JSON array text of events, as `SpanRecord.write` writes them.
    static func events(_ events: [SpanEvent]) -> String {
        var b = RecordBuilder(capacity: 256)
        b.begin()
        SpanRecord.writeEvents(events, key: "e", into: &b)
        b.end()
        // {"e":[…]}\n -> […]
        return String(decoding: b.bytes.dropFirst(5).dropLast(2), as: UTF8.self)
    }

    /// The elements of a valid JSON array, as byte slices: commas at depth one split
    /// elements; strings (and the escapes in them) are skipped over whole.
    static func elements(ofArray bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var depth = 0
        var inString = false
        var escaped = false
        var start = -1
        for (i, c) in bytes.enumerated() {
            if inString {
                if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch c {
            case UInt8(ascii: "\""):
                inString = true
                if depth == 1 && start < 0 { start = i }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth == 2 && start < 0 { start = i }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 && start >= 0 { out.append(trimmed(bytes[start..<i])); start = -1 }
            case UInt8(ascii: ","):
                if depth == 1 && start >= 0 { out.append(trimmed(bytes[start..<i])); start = -1 }
            case 0x20, 0x09, 0x0A, 0x0D:
                break
            default:
                if depth == 1 && start < 0 { start = i }
            }
        }
        return out
    }

    private static func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let l = s.last, l == 0x20 || l == 0x09 || l == 0x0A || l == 0x0D { s = s.dropLast() }
        return s
    }
}
