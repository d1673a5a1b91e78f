/// Just enough XML for S3 responses: find elements by name, decode entities. S3's XML is
/// flat and machine-written, so a scanner over bytes beats a general parser here.
public enum XMLText {
    /// The text of the first `<name>...</name>` in `text`, entities decoded.
    public static func firstElement(_ name: String, in text: String) -> String? {
        var scanner = XMLScanner(Array(text.utf8))
        while let element = scanner.next() {
            if element.name == name, let text = element.text { return text }
        }
        return nil
    }

    /// Decodes the five predefined entities and numeric character references. On bytes: as
    /// Characters, a ';' followed by a combining mark (a key "a&b\u{301}") is no ';'.
    public static func decode<C: Collection>(_ raw: C) -> String where C.Element == UInt8 {
        guard raw.contains(UInt8(ascii: "&")) else { return String(decoding: raw, as: UTF8.self) }
        let b = Array(raw)
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            guard b[i] == UInt8(ascii: "&") else {
                out.append(b[i])
                i += 1
                continue
            }
            guard let semi = b[(i + 1)...].firstIndex(of: UInt8(ascii: ";")) else {
                out += b[i...]
                break
            }
            let entity = String(decoding: b[(i + 1)..<semi], as: UTF8.self)
            switch entity {
            case "amp": out.append(UInt8(ascii: "&"))
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                var value: UInt32?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    value = UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    value = UInt32(entity.dropFirst())
                }
                if let v = value, let scalar = Unicode.Scalar(v) {
                    out += Array(String(scalar).utf8)
                } else {
                    out += b[i...semi]
                }
            }
            i = semi + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Walks leaf elements (`<Name>text</Name>`) in document order, and reports the
/// opening and closing of container elements by name with empty text.
public struct XMLScanner {
    public struct Element {
        public var name: String
        /// Decoded text of a leaf element; nil for a container's opening or closing tag.
        public var text: String?
        public var isClosing: Bool
    }

    private let bytes: [UInt8]
    private var i = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public mutating func next() -> Element? {
        while i < bytes.count {
            guard let lt = find(UInt8(ascii: "<"), from: i) else { return nil }
            i = lt + 1
            guard i < bytes.count else { return nil }
            let c = bytes[i]
            if c == UInt8(ascii: "?") || c == UInt8(ascii: "!") {
                // Declarations and comments.
                guard let gt = find(UInt8(ascii: ">"), from: i) else { return nil }
                i = gt + 1
                continue
            }
            let closing = c == UInt8(ascii: "/")
            if closing { i += 1 }
            guard let gt = find(UInt8(ascii: ">"), from: i) else { return nil }
            var nameEnd = i
            while nameEnd < gt, bytes[nameEnd] != 0x20, bytes[nameEnd] != UInt8(ascii: "/"), bytes[nameEnd] != 0x0A,
                  bytes[nameEnd] != 0x09, bytes[nameEnd] != 0x0D { nameEnd += 1 }
            let name = String(decoding: bytes[i..<nameEnd], as: UTF8.self)
            let selfClosing = gt > i && bytes[gt - 1] == UInt8(ascii: "/")
            i = gt + 1
            if closing { return Element(name: name, text: nil, isClosing: true) }
            if selfClosing { return Element(name: name, text: "", isClosing: false) }
            // A leaf: text up to the next '<', which must close this element.
            guard let nextLT = find(UInt8(ascii: "<"), from: i) else { return nil }
            if nextLT + 1 < bytes.count, bytes[nextLT + 1] == UInt8(ascii: "/") {
                let text = XMLText.decode(bytes[i..<nextLT])
                if let closeGT = find(UInt8(ascii: ">"), from: nextLT) { i = closeGT + 1 } else { i = bytes.count }
                return Element(name: name, text: text, isClosing: false)
            }
            return Element(name: name, text: nil, isClosing: false)
        }
        return nil
    }

    private func find(_ byte: UInt8, from: Int) -> Int? {
        var j = from
        while j < bytes.count {
            if bytes[j] == byte { return j }
            j += 1
        }
        return nil
    }
}
