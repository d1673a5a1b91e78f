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
            i += invalidSequenceLength(base, at: i, end: end)
            run = i
        }
        JSONText.appendEscaped(UnsafeBufferPointer(start: base + run, count: end - run), to: &out)
    }

    /// `bytes` with each invalid UTF-8 sequence replaced by U+FFFD, or nil when they are
    /// valid UTF-8 already.
    static func replacingInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard let base = bytes.baseAddress else { return nil }
        var out: [UInt8]?
        var i = 0
        var run = 0
        let end = bytes.count
        while i < end {
            if base[i] < 0x80 { i += 1; continue }
            let n = JSONText.utf8SequenceLength(base, at: i, end: end)
            if n > 0 { i += n; continue }
            if out == nil { out = []; out!.reserveCapacity(end + 16) }
            out!.append(contentsOf: UnsafeBufferPointer(start: base + run, count: i - run))
            out!.append(contentsOf: replacement)
            i += invalidSequenceLength(base, at: i, end: end)
            run = i
        }
        out?.append(contentsOf: UnsafeBufferPointer(start: base + run, count: end - run))
        return out
    }

    /// How many bytes at `i` (not a well-formed sequence) one U+FFFD stands for: the start
    /// of a sequence that broke off counts once (E2 82 then 'y' is one), a byte that can
    /// start nothing counts alone. Unicode's recommended practice, as Swift's String and
    /// browsers decode, and as jq does for these common cases.
    static func invalidSequenceLength(_ base: UnsafePointer<UInt8>, at i: Int, end: Int) -> Int {
        guard let (length, second) = JSONText.utf8Lead(base[i]) else { return 1 }
        guard i + 1 < end, second.contains(base[i + 1]) else { return 1 }
        var n = 2
        while n < length - 1 && i + n < end && base[i + n] & 0xC0 == 0x80 { n += 1 }
        return n
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
