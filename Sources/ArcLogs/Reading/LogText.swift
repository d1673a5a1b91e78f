import ArcCore

/// Text lines as JSON: a plain line becomes a string value, and a log file may hold any
/// bytes, so invalid UTF-8 is replaced (U+FFFD) rather than passed on into JSON output.
enum LogText {
    private static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// Appends `bytes` escaped for the inside of a JSON string, invalid UTF-8 replaced.
    static func appendEscapedLossy(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard let base = bytes.baseAddress else { return }
        var i = 0
        var run = 0
        let end = bytes.count
        while i < end {
            let c = base[i]
            if c < 0x80 { i += 1; continue }
            let n = JSONText.utf8SequenceLength(base, at: i, end: end)
            if n > 0 { i += n; continue }
            JSONText.appendEscaped(UnsafeBufferPointer(start: base + run, count: i - run), to: &out)
            out.append(contentsOf: replacement)
            i += 1
            run = i
        }
        JSONText.appendEscaped(UnsafeBufferPointer(start: base + run, count: end - run), to: &out)
    }

    /// Appends `bytes` as a quoted JSON string.
    static func appendQuotedLossy(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscapedLossy(bytes, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    static func lossyString(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in line where !(c == 0x20 || c == 0x09 || c == 0x0D) { return false }
        return true
    }
}
