import ArcCore

/// The detectors behind `Redactor`: each scans the bytes once and appends the spans it
/// would mask. Boundaries are explicit: a match must not continue a longer word or number.
enum RedactScan {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    @inline(__always) static func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 97 && (c | 0x20) <= 122 }
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || isAlpha(c) }
    @inline(__always) static func isHex(_ c: UInt8) -> Bool { isDigit(c) || ((c | 0x20) >= 97 && (c | 0x20) <= 102) }
    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { (c >= 65 && c <= 90) ? c + 32 : c }

    static func hasPrefix(_ t: Bytes, _ at: Int, _ word: [UInt8]) -> Bool {
        guard at + word.count <= t.count else { return false }
        for k in 0..<word.count where lower(t[at + k]) != word[k] { return false }
        return true
    }

    // MARK: key = value secrets, Authorization headers, URL passwords

    @inline(__always) static func isKeyByte(_ c: UInt8) -> Bool {
        isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
    }

    /// The values of secret keys (`SecretKeys` says which) in text: `password=hunter2`,
    /// `password='two words'`, `api_key: "abc def"`, `"client_secret": "..."`, `?token=...&sig=...`
    /// in a URL, `Authorization: Basic ...`. The whole value is masked, the key and the quotes
    /// kept: a quoted value up to its closing quote (the rest of the line when there is
    /// none), a `{...}` or `[...]` up to its closing bracket, an Authorization or Cookie value
    /// up to a quote or the end of the line (it holds spaces), any other value up to a space
    /// or one of `" ' , ; & } ]` (and `#` in a query). A bare null, true or false is kept:
    /// it says a secret was not set, which is no secret.
    static func keyed(_ t: Bytes, _ spans: inout [Redactor.Span]) {
        let n = t.count
        var i = 0
        while i < n {
            guard isAlnum(t[i]) || t[i] == UInt8(ascii: "_"), i == 0 || !isKeyByte(t[i - 1]) else { i += 1; continue }
            var j = i
            while j < n && isKeyByte(t[j]) { j += 1 }
            let keyEnd = j
            if i > 0 && (t[i - 1] == 0x22 || t[i - 1] == 0x27) && j < n && t[j] == t[i - 1] { j += 1 }
            while j < n && (t[j] == 0x20 || t[j] == 0x09) { j += 1 }
            // One `:` or `=`: `std::vector` and `a==b` name no value.
            guard j < n, t[j] == UInt8(ascii: ":") || t[j] == UInt8(ascii: "="), j + 1 == n || t[j + 1] != t[j] else {
                i = keyEnd
                continue
            }
            j += 1
            while j < n && (t[j] == 0x20 || t[j] == 0x09) { j += 1 }
            let inQuery = i > 0 && (t[i - 1] == UInt8(ascii: "?") || t[i - 1] == UInt8(ascii: "&"))
            let context = SecretKeys.classify(UnsafeBufferPointer(rebasing: t[i..<keyEnd]), inQuery: inQuery)
            guard context != .none, j < n else { i = keyEnd; continue }
            let value = valueExtent(t, j, credential: context == .authorization, inQuery: inQuery)
            if value.end > value.start && !isLiteral(t, value.start, value.end) {
                spans.append(.init(start: value.start, end: value.end, mask: context == .authorization ? .token : .secret,
                                   fromKey: true))
            }
            i = max(value.next, keyEnd)
        }
    }

    /// The part of a value starting at `at` to mask, and where scanning goes on. Nothing
    /// runs past the end of the line.
    static func valueExtent(_ t: Bytes, _ at: Int, credential: Bool, inQuery: Bool) -> (start: Int, end: Int, next: Int) {
        let n = t.count
        let c = t[at]
        if c == 0x22 || c == 0x27 {
            let close = closingQuote(t, at)
            return close < n && t[close] == c ? (at + 1, close, close + 1) : (at + 1, close, close)
        }
        if !inQuery && (c == UInt8(ascii: "{") || c == UInt8(ascii: "[")) {
            let close = closingBracket(t, at)
            return close < n && !isLineEnd(t[close]) ? (at, close + 1, close + 1) : (at, close, close)
        }
        var k = at
        if credential {
            while k < n && t[k] != 0x22 && t[k] != 0x27 && !isLineEnd(t[k]) { k += 1 }
            while k > at && (t[k - 1] == 0x20 || t[k - 1] == 0x09) { k -= 1 }
        } else {
            while k < n && !isValueEnd(t[k]) && !isLineEnd(t[k]) && !(inQuery && t[k] == UInt8(ascii: "#")) { k += 1 }
        }
        return (at, k, k)
    }

    /// The quote closing the one at `at` (a backslash escapes the byte after it), or where
    /// the line ends when none does.
    static func closingQuote(_ t: Bytes, _ at: Int) -> Int {
        var k = at + 1
        while k < t.count && t[k] != t[at] && !isLineEnd(t[k]) {
            k += t[k] == UInt8(ascii: "\\") && k + 1 < t.count && !isLineEnd(t[k + 1]) ? 2 : 1
        }
        return k
    }

    @inline(__always) static func isLineEnd(_ c: UInt8) -> Bool { c == 0x0A || c == 0x0D }

    @inline(__always) static func isValueEnd(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x22 || c == 0x27 || c == UInt8(ascii: ",") || c == UInt8(ascii: ";")
            || c == UInt8(ascii: "&") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]")
    }

    private static let literals = ["null", "true", "false"].map { Array($0.utf8) }

    static func isLiteral(_ t: Bytes, _ start: Int, _ end: Int) -> Bool {
        literals.contains { $0.count == end - start && hasPrefix(t, start, $0) }
    }

    /// The `}` or `]` closing the bracket at `at` (brackets inside double-quoted strings
    /// skipped), or where the line ends when none does.
    static func closingBracket(_ t: Bytes, _ at: Int) -> Int {
        var depth = 0
        var k = at
        while k < t.count && !isLineEnd(t[k]) {
            switch t[k] {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return k }
            case 0x22:
                k = closingQuote(t, k)
                guard k < t.count && t[k] == 0x22 else { return k }
            default: break
            }
            k += 1
        }
        return k
    }

    /// The password of a URL's userinfo (`Secrets.urlPasswords` finds them for every reader).
    static func urlPasswords(_ t: Bytes, _ spans: inout [Redactor.Span]) {
        for range in Secrets.urlPasswords(in: t) {
            spans.append(.init(start: range.lowerBound, end: range.upperBound, mask: .secret, fromKey: true))
        }
    }

    // MARK: tokens

    private static let bearerWord = Array("bearer".utf8)

    @inline(__always) static func isTokenByte(_ c: UInt8) -> Bool {
        isAlnum(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "~")
            || c == UInt8(ascii: "+") || c == UInt8(ascii: "/") || c == UInt8(ascii: "=")
    }

    /// `Bearer <token>`: the word is kept, the token masked.
    static func bearer(_ t: Bytes, _ spans: inout [Redactor.Span]) {
        var i = 0
        while i + 7 < t.count {
            guard lower(t[i]) == UInt8(ascii: "b"), hasPrefix(t, i, bearerWord), i == 0 || !isAlnum(t[i - 1]),
                  t[i + 6] == 0x20 || t[i + 6] == 0x09 else { i += 1; continue }
            var j = i + 6
            while j < t.count && (t[j] == 0x20 || t[j] == 0x09) { j += 1 }
            let start = j
            while j < t.count && isTokenByte(t[j]) { j += 1 }
            if j - start >= 8 { spans.append(.init(start: start, end: j, mask: .token)) }
            i = max(j, i + 1)
        }
    }

    /// JSON Web Tokens: `eyJ` base64url, a dot, base64url, a dot, an optional signature.
    static func jwt(_ t: Bytes, _ spans: inout [Redactor.Span]) {
        var i = 0
        while i + 10 < t.count {
            guard t[i] == UInt8(ascii: "e"), t[i + 1] == UInt8(ascii: "y"), t[i + 2] == UInt8(ascii: "J"),
                  i == 0 || !isTokenByte(t[i - 1]) else { i += 1; continue }
            var j = i
            var dots = 0
            var segment = 0
            var shortSegment = false
            while j < t.count {
                let c = t[j]
                if c == UInt8(ascii: ".") {
                    if segment < 4 && dots < 2 { shortSegment = true }
                    dots += 1
                    segment = 0
                    if dots > 2 { break }
                } else if isAlnum(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") {
                    segment += 1
                } else {
                    break
                }
                j += 1
            }
            if dots == 2 && !shortSegment { spans.append(.init(start: i, end: j, mask: .token)) }
            i = max(j, i + 1)
        }
    }

    /// AWS access key ids: AKIA (long-term) or ASIA (temporary), then 16 of [A-Z0-9].
    static func awsKeys(_ t: Bytes, _ spans: inout [Redactor.Span]) {
        guard t.count >= 20 else { return }
        var i = 0
        while i + 20 <= t.count {
            guard t[i] == UInt8(ascii: "A"), (t[i + 1] == UInt8(ascii: "K") || t[i + 1] == UInt8(ascii: "S")),
                  t[i + 2] == UInt8(ascii: "I"), t[i + 3] == UInt8(ascii: "A"), i == 0 || !isAlnum(t[i - 1]) else { i += 1; continue }
            var ok = true
            for k in (i + 4)..<(i + 20) where !(isDigit(t[k]) || (t[k] >= 65 && t[k] <= 90)) { ok = false; break }
            if ok && (i + 20 == t.count || !isAlnum(t[i + 20])) {
                spans.append(.init(start: i, end: i + 20, mask: .awsKey))
                i += 20
            } else {
                i += 1
            }
        }
    }

    // MARK: emails

    @inline(__always) static func isLocalByte(_ c: UInt8) -> Bool {
        isAlnum(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "%") || c == UInt8(ascii: "+")
            || c == UInt8(ascii: "-")
    }

    /// local@domain.tld: found at each `@`, the local part scanned back, the domain forward
    /// (labels of letters, digits and hyphens, at least two, the last all letters).
    static func emails(_ t: Bytes, _ spans: inout [Redactor.Span]) {
        var i = 0
        while i < t.count {
            guard t[i] == UInt8(ascii: "@") else { i += 1; continue }
            var s = i
            while s > 0 && isLocalByte(t[s - 1]) { s -= 1 }
            while s < i && t[s] == UInt8(ascii: ".") { s += 1 }
            guard s < i else { i += 1; continue }
            var j = i + 1
            var labels = 0
            var lastLabelAlpha = false
            var end = i + 1
            while j < t.count {
                let labelStart = j
                var alpha = true
                while j < t.count && (isAlnum(t[j]) || t[j] == UInt8(ascii: "-")) {
                    if !isAlpha(t[j]) { alpha = false }
                    j += 1
                }
                guard j > labelStart else { break }
                labels += 1
                lastLabelAlpha = alpha && j - labelStart >= 2
                end = j
                guard j + 1 < t.count, t[j] == UInt8(ascii: "."), isAlnum(t[j + 1]) else { break }
                j += 1
            }
            if labels >= 2 && lastLabelAlpha {
                spans.append(.init(start: s, end: end, mask: .email))
                i = end
            } else {
                i += 1
            }
        }
    }

    // MARK: card numbers

    /// 13-19 digits, contiguous or in groups of four split by one space or hyphen (Amex
    /// 4-6-5), with an issuer's prefix and a valid Luhn check digit.
    static func cards(_ t: Bytes, _ spans: inout [Redactor.Span]) {
        var i = 0
        var digits: [UInt8] = []
        digits.reserveCapacity(24)
        while i < t.count {
            guard isDigit(t[i]), i == 0 || !(isAlnum(t[i - 1]) || t[i - 1] == UInt8(ascii: ".")) else { i += 1; continue }
            digits.removeAll(keepingCapacity: true)
            var groups: [Int] = []
            var separator: UInt8 = 0
            var j = i
            while true {
                let groupStart = j
                while j < t.count && isDigit(t[j]) { digits.append(t[j] - 48); j += 1 }
                groups.append(j - groupStart)
                guard j + 1 < t.count, t[j] == 0x20 || t[j] == UInt8(ascii: "-"), isDigit(t[j + 1]),
                      separator == 0 || separator == t[j], digits.count < 19 else { break }
                separator = t[j]
                j += 1
            }
            let bounded = j == t.count || !(isAlnum(t[j]) || (t[j] == UInt8(ascii: ".") && j + 1 < t.count && isDigit(t[j + 1])))
            if bounded && groupsLookLikeACard(groups, digits.count) && hasIssuerPrefix(digits) && luhn(digits) {
                spans.append(.init(start: i, end: j, mask: .card))
            }
            i = max(j, i + 1)
        }
    }

    static func groupsLookLikeACard(_ groups: [Int], _ total: Int) -> Bool {
        guard (13...19).contains(total) else { return false }
        if groups.count == 1 { return true }
        if groups == [4, 6, 5] || groups == [4, 6, 4] { return true }
        return groups.dropLast().allSatisfy { $0 == 4 } && (1...4).contains(groups.last!)
    }

    /// The issuers' ranges (Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay,
    /// Maestro) with their lengths: a Luhn-valid order id or timestamp rarely has both.
    static func hasIssuerPrefix(_ d: [UInt8]) -> Bool {
        func prefix(_ n: Int) -> Int { d.prefix(n).reduce(0) { $0 * 10 + Int($1) } }
        let n = d.count
        switch d[0] {
        case 4: return n == 13 || n == 16 || n == 19
        case 5:
            let p2 = prefix(2)
            if (51...55).contains(p2) { return n == 16 }
            return p2 == 50 || (56...58).contains(p2)
        case 2: return (2221...2720).contains(prefix(4)) && n == 16
        case 3:
            let p2 = prefix(2), p3 = prefix(3), p4 = prefix(4)
            if p2 == 34 || p2 == 37 { return n == 15 }
            if (300...305).contains(p3) || p2 == 36 || p2 == 38 || p2 == 39 { return n >= 14 }
            return (3528...3589).contains(p4) && n >= 16
        case 6:
            let p2 = prefix(2), p3 = prefix(3), p4 = prefix(4)
            return p4 == 6011 || p2 == 65 || (644...649).contains(p3) || p2 == 62 || p2 == 67 || p4 == 6304
        default: return false
        }
    }

    static func luhn(_ d: [UInt8]) -> Bool {
        var sum = 0
        for (k, digit) in d.reversed().enumerated() {
            var v = Int(digit)
            if k % 2 == 1 {
                v *= 2
                if v > 9 { v -= 9 }
            }
            sum += v
        }
        return sum % 10 == 0
    }

    // MARK: IP addresses

    /// Four parts 0-255 without leading zeros, not part of a longer dotted run and not
    /// after a letter (`v1.2.3.4` is a version).
    static func ipv4(_ t: Bytes, _ spans: inout [Redactor.Span]) {
        var i = 0
        while i < t.count {
            guard isDigit(t[i]), i == 0 || !(isAlnum(t[i - 1]) || t[i - 1] == UInt8(ascii: ".")) else { i += 1; continue }
            if let end = ipv4End(t, i),
               end == t.count || !(isAlnum(t[end]) || (t[end] == UInt8(ascii: ".") && end + 1 < t.count && isDigit(t[end + 1]))) {
                spans.append(.init(start: i, end: end, mask: .ipv4))
                i = end
            } else {
                while i < t.count && (isDigit(t[i]) || t[i] == UInt8(ascii: ".")) { i += 1 }
            }
        }
    }

    /// The end of a dotted quad starting at `at`, or nil.
    static func ipv4End(_ t: Bytes, _ at: Int) -> Int? {
        var j = at
        for part in 0..<4 {
            let start = j
            var v = 0
            while j < t.count && isDigit(t[j]) && j - start < 4 { v = v * 10 + Int(t[j] - 48); j += 1 }
            let len = j - start
            guard len >= 1 && len <= 3 && v <= 255, !(len > 1 && t[start] == 48) else { return nil }
            if part < 3 {
                guard j < t.count, t[j] == UInt8(ascii: ".") else { return nil }
                j += 1
            }
        }
        return j
    }

    /// Colon-separated groups of 1-4 hex digits: eight of them, or fewer with exactly one
    /// `::` (which is what sets an address apart from `12:00:00` or a MAC address), an
    /// optional dotted quad at the end.
    static func ipv6(_ t: Bytes, _ spans: inout [Redactor.Span]) {
        var i = 0
        while i < t.count {
            let c = t[i]
            guard isHex(c) || c == UInt8(ascii: ":"),
                  i == 0 || !(isAlnum(t[i - 1]) || t[i - 1] == UInt8(ascii: ":") || t[i - 1] == UInt8(ascii: ".")) else { i += 1; continue }
            if let end = ipv6End(t, i), end == t.count || !(isAlnum(t[end]) || t[end] == UInt8(ascii: ":")) {
                spans.append(.init(start: i, end: end, mask: .ipv6))
                i = end
            } else {
                i += 1
                while i < t.count && (isHex(t[i]) || t[i] == UInt8(ascii: ":")) { i += 1 }
            }
        }
    }

    static func ipv6End(_ t: Bytes, _ at: Int) -> Int? {
        var j = at
        var groups = 0
        var compressed = false
        var lastEnd = at
        while j < t.count {
            if j + 1 < t.count && t[j] == UInt8(ascii: ":") && t[j + 1] == UInt8(ascii: ":") {
                if compressed { return nil }
                compressed = true
                j += 2
                lastEnd = j
                continue
            }
            if j > at && !(t[j - 1] == UInt8(ascii: ":")) { break }
            // A dotted quad closes an address: it stands for two groups.
            if groups > 0 || compressed, let v4 = ipv4End(t, j) {
                groups += 2
                lastEnd = v4
                break
            }
            let start = j
            while j < t.count && isHex(t[j]) && j - start < 5 { j += 1 }
            let len = j - start
            guard len >= 1 && len <= 4 else {
                if len == 0 { break }
                return nil
            }
            groups += 1
            lastEnd = j
            if j < t.count && t[j] == UInt8(ascii: ":") && !(j + 1 < t.count && t[j + 1] == UInt8(ascii: ":")) {
                guard j + 1 < t.count && isHex(t[j + 1]) else { break }
                j += 1
            }
        }
        guard groups >= 1, compressed ? groups <= 7 : groups == 8 else { return nil }
        return lastEnd
    }
}
