/// Trimming, padding and emptiness, written once for every tool. ASCII whitespace only:
/// what these trim are protocol and file texts (headers, INI lines, lists of values),
/// where a Unicode space is data, not layout.
extension StringProtocol {
    /// Without leading and trailing spaces, tabs, carriage returns and line feeds.
    public func trimmed() -> String {
        var bytes = Substring(self).utf8[...]
        while let first = bytes.first, asciiWhitespace(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, asciiWhitespace(last) { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Padded with spaces on the right to `width` characters (never cut).
    public func padded(to width: Int) -> String {
        let text = String(self)
        return text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Padded with spaces on the left to `width` characters (never cut).
    public func padded(toLeft width: Int) -> String {
        let text = String(self)
        return text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}

func asciiWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
}

extension String {
    /// nil for the empty string: `AWS_PROFILE=` in a script means "unset", not a profile named "".
    public var nonEmpty: String? { isEmpty ? nil : self }
}

extension Optional where Wrapped == String {
    /// nil for nil and for the empty string.
    public var nonEmpty: String? {
        guard let s = self, !s.isEmpty else { return nil }
        return s
    }
}

/// `value` in decimal with leading zeros to `width` digits: dates, times, fractions.
@inline(__always)
public func zeroPadded<I: BinaryInteger>(_ value: I, _ width: Int) -> String {
    let s = String(value)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

extension String {
    /// The text of a C buffer (getcwd, readlink, an error buffer) up to its first NUL, or
    /// all of it when it has none, as UTF-8.
    public init(nulTerminated buffer: [CChar]) {
        let end = buffer.firstIndex(of: 0) ?? buffer.count
        self = String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
