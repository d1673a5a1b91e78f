import ArcCore

/// Rewrites a validated JSON object with its values redacted. Keys, nesting and
/// whitespace are copied as they are; a string that needs no mask keeps its original
/// escaping. A secret key's value is masked whole: a string or a number becomes the
/// string "[secret]" ("[token]" under Authorization or Cookie), and an object or array
/// under it has every string and number inside masked so, its keys and shape kept. null,
/// true, false and "" are kept: they say no secret was set. What a key says ends with its
/// value, so the next member or array element is judged on its own. A number elsewhere
/// that is a card number becomes "[card]"; other numbers are kept.
enum JSONRedaction {
    private struct Container {
        var isObject: Bool
        /// What the container's own key said: it covers everything inside.
        var context: Redactor.KeyContext
    }

    static func rewrite(_ b: UnsafeBufferPointer<UInt8>, _ redactor: Redactor) -> [UInt8]? {
        var out: [UInt8] = []
        var changed = false
        var copied = 0
        var containers: [Container] = []
        var memberContext = Redactor.KeyContext.none  // what the last key said about its value
        func valueContext() -> Redactor.KeyContext {
            guard let top = containers.last else { return .none }
            return top.isObject ? memberContext : top.context
        }
        func replace(_ from: Int, _ to: Int, with bytes: [UInt8]) {
            if !changed { out.reserveCapacity(b.count + 16) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[copied..<from]))
            out.append(contentsOf: bytes)
            copied = to
            changed = true
        }
        var i = 0
        let n = b.count
        while i < n {
            switch b[i] {
            case UInt8(ascii: "\""):
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
                    let inherited = containers.last?.context ?? .none
                    if inherited != .none {
                        memberContext = inherited
                    } else {
                        memberContext = escaped ? Redactor.KeyContext(key: JSONText.unescape(inner.arraySlice))
                            : SecretKeys.classify(inner)
                    }
                    continue
                }
                let context = valueContext()
                let masked: [UInt8]?
                if escaped {
                    var decoded = Array(JSONText.unescape(inner.arraySlice).utf8)
                    masked = decoded.withUnsafeMutableBufferPointer { redactor.redact(UnsafeBufferPointer($0), context: context) }
                } else {
                    masked = redactor.redact(inner, context: context)
                }
                guard let masked else { continue }
                var quoted: [UInt8] = [UInt8(ascii: "\"")]
                masked.withUnsafeBufferPointer { JSONText.appendEscaped($0, to: &quoted) }
                quoted.append(UInt8(ascii: "\""))
                replace(open, close + 1, with: quoted)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                containers.append(Container(isObject: b[i] == UInt8(ascii: "{"), context: valueContext()))
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = containers.popLast()
                i += 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = i
                while i < n && isNumberByte(b[i]) { i += 1 }
                if let mask = numberMask(UnsafeBufferPointer(rebasing: b[start..<i]), valueContext()) {
                    replace(start, i, with: Array("\"[\(mask.rawValue)]\"".utf8))
                }
            default:
                i += 1
            }
        }
        guard changed else { return nil }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[copied...]))
        return out
    }

    @inline(__always) static func isNumberByte(_ c: UInt8) -> Bool {
        RedactScan.isDigit(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
            || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
    }

    /// How a number is masked: as its key says, else as a card when it is one, else not.
    static func numberMask(_ number: UnsafeBufferPointer<UInt8>, _ context: Redactor.KeyContext) -> Redactor.Mask? {
        switch context {
        case .secret: return .secret
        case .authorization: return .token
        case .none:
            guard (13...19).contains(number.count), number.allSatisfy(RedactScan.isDigit) else { return nil }
            var spans: [Redactor.Span] = []
            RedactScan.cards(number, &spans)
            return spans.count == 1 ? .card : nil
        }
    }
}
