/// Hides credentials in what the tools write for people and machines to read: log lines,
/// error messages, span attributes and events, metric labels, wf-run's events and dry runs.
/// Records on stdout are the user's own data and keep what was given; what the tools add
/// must never carry a secret, whoever reads the log, the span file or the collector.
///
/// Masked, each with `***` in place of the value only (what it was stays readable):
/// - the password of a URL's userinfo (`https://user:***@host/`),
/// - query parameters that carry credentials or signatures (`X-Amz-Signature`,
///   `X-Amz-Credential`, `X-Amz-Security-Token`, `Signature`, `AWSAccessKeyId`, `token`,
///   `access_token`, `sig`, `key`, `password`...: `SecretKeys`' list, which telem-log
///   redact uses too), in any case,
/// - the value of an `Authorization` (or `Proxy-Authorization`) header written as
///   `Authorization: Bearer ***` or `authorization=***` (OTEL_EXPORTER_OTLP_HEADERS' form),
/// - every value registered as secret when it was read (AWS secret keys and session tokens,
///   OTLP header values), wherever it appears.
public enum Secrets {
    public static let mask = "***"

    /// Values read from credentials (at least 8 characters: shorter ones would mask
    /// ordinary words), longest first so a secret containing another is masked whole.
    private static let known = Locked<[[UInt8]]>([])

    /// Remembers a secret value read from the environment or a file, so that it is masked
    /// wherever it would be written.
    public static func register(_ secret: String) {
        let bytes = Array(secret.trimmed().utf8)
        guard bytes.count >= 8 else { return }
        known.withLock { list in
            guard !list.contains(bytes) else { return }
            list.append(bytes)
            list.sort { $0.count > $1.count }
        }
    }

    /// The text with its secrets masked (the same string when it has none, found quickly).
    public static func redact(_ text: String) -> String {
        let secrets = known.current
        // Most lines ("planned 12 tasks") have nothing to mask: no copy of them is made.
        if secrets.isEmpty && !text.utf8.contains(where: isTrigger) { return text }
        var bytes = Array(text.utf8)
        guard mayHold(bytes, secrets) else { return text }
        var changed = maskKnown(&bytes, secrets)
        // Until nothing changes (a few passes at most): masking one value can bring another
        // pattern together (a secret between `http:` and `//u:p@h`).
        for _ in 0..<4 {
            var more = maskURLPasswords(&bytes)
            more = maskParameters(&bytes) || more
            more = maskAuthorization(&bytes) || more
            guard more else { break }
            changed = true
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }

    /// A text with no `@`, `=` or `:`, and no registered secret, holds nothing to mask.
    private static func mayHold(_ b: [UInt8], _ secrets: [[UInt8]]) -> Bool {
        b.contains(where: isTrigger) || secrets.contains { find($0, in: b, from: 0) != nil }
    }

    /// A byte every pattern but a registered secret needs: `@` (userinfo), `=` (parameters,
    /// header lists), `:` (URLs, `Authorization:`).
    private static func isTrigger(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "@") || c == UInt8(ascii: "=") || c == UInt8(ascii: ":")
    }

    private static let maskBytes = Array(mask.utf8)

    private static func maskKnown(_ b: inout [UInt8], _ secrets: [[UInt8]]) -> Bool {
        guard let masked = replacing(secrets, in: b, with: maskBytes) else { return false }
        b = masked
        return true
    }

    /// `bytes` with every occurrence of `values` (longest first, so a value holding another
    /// goes whole) replaced by `placeholder`, in one pass; a placeholder already there is
    /// kept whole, so replacing twice changes nothing more. nil when nothing was replaced.
    /// For known values: registered secrets here, wf-run's env_file values.
    public static func replacing(_ values: [[UInt8]], in bytes: [UInt8], with placeholder: [UInt8]) -> [UInt8]? {
        guard !values.isEmpty, !placeholder.isEmpty else { return nil }
        var out: [UInt8] = []
        var replaced = false
        var i = 0
        scan: while i < bytes.count {
            if bytes[i] == placeholder[0], bytes[i...].starts(with: placeholder) {
                out += placeholder
                i += placeholder.count
                continue
            }
            for value in values where !value.isEmpty && value[0] == bytes[i] && bytes[i...].starts(with: value) {
                out += placeholder
                i += value.count
                replaced = true
                continue scan
            }
            out.append(bytes[i])
            i += 1
        }
        return replaced ? out : nil
    }

    /// `scheme://user:password@host` → `scheme://user:***@host`.
    private static func maskURLPasswords(_ b: inout [UInt8]) -> Bool {
        let found = b.withUnsafeBufferPointer { urlPasswords(in: $0) }.filter { !isMasked(b, at: $0.lowerBound) }
        // From the last, so the ranges before stay where they were found.
        for range in found.reversed() { b.replaceSubrange(range, with: maskBytes) }
        return !found.isEmpty
    }

    /// Where the passwords of URLs' userinfo are (`scheme://user:PASSWORD@host/`), for
    /// every reader that hides them (this one and `telem-log redact`). The authority runs to
    /// the first `/ ? #`, space, quote or bracket, and its last `@` ends the userinfo (as URL
    /// parsers read it, so a password with a bare `@` is found whole). The search goes on
    /// from each authority's start, not its end: `x://a:b/` may end where the next URL's
    /// `://` begins (`x://y://u:p@h`).
    public static func urlPasswords(in b: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var found: [Range<Int>] = []
        var i = 1
        while i + 2 < b.count {
            guard b[i] == UInt8(ascii: ":"), b[i + 1] == UInt8(ascii: "/"), b[i + 2] == UInt8(ascii: "/"),
                  isSchemeByte(b[i - 1]) else {
                i += 1
                continue
            }
            let start = i + 3
            var end = start
            while end < b.count, !endsAuthority(b[end]) { end += 1 }
            if let at = b[start..<end].lastIndex(of: UInt8(ascii: "@")),
               let colon = b[start..<at].firstIndex(of: UInt8(ascii: ":")), colon + 1 < at {
                found.append(colon + 1..<at)
            }
            i = start
        }
        return found
    }

    private static func isSchemeByte(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    private static func endsAuthority(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "/") || c == UInt8(ascii: "?") || c == UInt8(ascii: "#") || c == UInt8(ascii: "\\") || endsValue(c)
    }

    /// Where a value written inside a line ends: space, quote, bracket or control byte.
    private static func endsValue(_ c: UInt8) -> Bool {
        c <= 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") || c == UInt8(ascii: "<")
            || c == UInt8(ascii: ">") || c == UInt8(ascii: "`") || c == 0x7F
    }

    /// `?name=value` and `&name=value` for the names in `secretParameters`.
    private static func maskParameters(_ b: inout [UInt8]) -> Bool {
        var changed = false
        var i = 0
        while i < b.count {
            defer { i += 1 }
            guard b[i] == UInt8(ascii: "?") || b[i] == UInt8(ascii: "&") else { continue }
            var eq = i + 1
            while eq < b.count, isNameByte(b[eq]) { eq += 1 }
            guard eq < b.count, b[eq] == UInt8(ascii: "="), eq > i + 1 else { continue }
            guard SecretKeys.classify(b[i + 1..<eq], inQuery: true) != .none else { continue }
            var end = eq + 1
            while end < b.count, b[end] != UInt8(ascii: "&"), b[end] != UInt8(ascii: "#"), !endsValue(b[end]) { end += 1 }
            guard end > eq + 1, !isMasked(b, at: eq + 1) else { continue }
            b.replaceSubrange(eq + 1..<end, with: maskBytes)
            changed = true
            i = eq
        }
        return changed
    }

    private static func isNameByte(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
            || c == UInt8(ascii: ".")
    }

    /// `Authorization: Bearer xyz` → `Authorization: Bearer ***`; `authorization=xyz` (a
    /// header list) → `authorization=***`. The value ends at a comma, a quote or the line's end.
    private static func maskAuthorization(_ b: inout [UInt8]) -> Bool {
        var changed = false
        var from = 0
        let word = Array("authorization".utf8)
        while let at = findIgnoringCase(word, in: b, from: from) {
            var i = at + word.count
            from = i
            // JSON writes it "authorization":"Bearer x": a quote on each side of the colon.
            if i < b.count, b[i] == UInt8(ascii: "\"") { i += 1 }
            guard i < b.count, b[i] == UInt8(ascii: ":") || b[i] == UInt8(ascii: "=") else { continue }
            i += 1
            while i < b.count, b[i] == UInt8(ascii: " ") { i += 1 }
            if i < b.count, b[i] == UInt8(ascii: "\"") { i += 1 }
            // Keep the scheme (Bearer, Basic, AWS4-HMAC-SHA256) when a space follows it.
            var scheme = i
            while scheme < b.count, isNameByte(b[scheme]) { scheme += 1 }
            if scheme < b.count, b[scheme] == UInt8(ascii: " "), scheme > i { i = scheme + 1 }
            var end = i
            while end < b.count, b[end] != UInt8(ascii: ","), b[end] != UInt8(ascii: "\""), b[end] != UInt8(ascii: "'"),
                  b[end] >= 0x20 || b[end] == UInt8(ascii: "\t") { end += 1 }
            guard end > i, !isMasked(b, at: i) else { continue }
            b.replaceSubrange(i..<end, with: maskBytes)
            from = i + maskBytes.count
            changed = true
        }
        return changed
    }

    /// A value that starts with the mask was masked already (by this scan or another,
    /// whose value may have ended elsewhere): it is left as it is, so that masking twice
    /// changes nothing more than masking once.
    private static func isMasked(_ b: [UInt8], at i: Int) -> Bool {
        i + maskBytes.count <= b.count && b[i..<i + maskBytes.count].elementsEqual(maskBytes)
    }

    private static func find(_ needle: [UInt8], in b: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, b.count >= needle.count, from <= b.count - needle.count else { return nil }
        let first = needle[0]
        var i = from
        while i <= b.count - needle.count {
            if b[i] == first && b[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    private static func findIgnoringCase(_ needle: [UInt8], in b: [UInt8], from: Int) -> Int? {
        guard b.count >= needle.count, from <= b.count - needle.count else { return nil }
        var i = from
        while i <= b.count - needle.count {
            if zip(b[i..<i + needle.count], needle).allSatisfy({ ($0 | 0x20) == $1 }) { return i }
            i += 1
        }
        return nil
    }
}
