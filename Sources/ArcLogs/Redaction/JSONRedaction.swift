import ArcCore

/// Rewrites a validated JSON object with its string values redacted. Keys, numbers,
/// literals, nesting and whitespace are copied as they are; a string that needs no mask
/// keeps its original escaping.
enum JSONRedaction {
    static func rewrite(_ b: UnsafeBufferPointer<UInt8>, _ redactor: Redactor) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(b.count + 16)
        var changed = false
        var context = Redactor.KeyContext.none
        var i = 0
        var copied = 0
        let n = b.count
        while i < n {
            guard b[i] == UInt8(ascii: "\"") else { i += 1; continue }
            // A string: find its closing quote.
            let open = i
            var escaped = false
            i += 1
            while i < n && b[i] != UInt8(ascii: "\"") {
                if b[i] == UInt8(ascii: "\\") { escaped = true; i += 1 }
                i += 1
            }
            let close = min(i, n - 1)
            i = close + 1
            var j = i
            while j < n && (b[j] == 0x20 || b[j] == 0x09 || b[j] == 0x0A || b[j] == 0x0D) { j += 1 }
            let inner = UnsafeBufferPointer(rebasing: b[(open + 1)..<close])
            if j < n && b[j] == UInt8(ascii: ":") {
                // A key: it decides how the value after it is treated.
                let key = escaped ? JSONText.unescape(inner.arraySlice) : String(decoding: inner, as: UTF8.self)
                context = Redactor.KeyContext(key: key)
                continue
            }
            let masked: [UInt8]?
            if escaped {
                var decoded = Array(JSONText.unescape(inner.arraySlice).utf8)
                masked = decoded.withUnsafeMutableBufferPointer { redactor.redact(UnsafeBufferPointer($0), context: context) }
            } else {
                masked = redactor.redact(inner, context: context)
            }
            guard let masked else { continue }
            changed = true
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[copied..<open]))
            out.append(UInt8(ascii: "\""))
            masked.withUnsafeBufferPointer { JSONText.appendEscaped($0, to: &out) }
            out.append(UInt8(ascii: "\""))
            copied = close + 1
        }
        guard changed else { return nil }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[copied...]))
        return out
    }
}
