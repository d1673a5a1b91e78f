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

    // MARK: key = value secrets, Authorization headers

    private static let secretWords = Redactor.secretWords.map { Array($0.utf8) }
    private static let authorization = Array("authorization".utf8)

    /// `password=hunter2`, `aws_secret_access_key = wJalr...`, `"client_secret": "..."`
    /// inside text, and `Authorization: Basic ...` up to the end of the text or a quote.
    static func keyed(_ t: Bytes, _ spans: inout [Redactor.Span]) {
        var i = 0
        while i < t.count {
            let c = lower(t[i])
            guard c == UInt8(ascii: "s") || c == UInt8(ascii: "p") || c == UInt8(ascii: "a") || c == UInt8(ascii: "r")
                    || c == UInt8(ascii: "c") else { i += 1; continue }
            var matched: (length: Int, isAuth: Bool)?
            if hasPrefix(t, i, authorization) {
                matched = (authorization.count, true)
            } else {
                for w in secretWords where hasPrefix(t, i, w) { matched = (w.count, false); break }
            }
            guard let (length, isAuth) = matched else { i += 1; continue }
            // The rest of the key's name (aws_secret_access_key), then a separator with : or =.
            var j = i + length
            while j < t.count && (isAlnum(t[j]) || t[j] == UInt8(ascii: "_") || t[j] == UInt8(ascii: "-")) { j += 1 }
            var sawSeparator = false
            let sepStart = j
            while j < t.count && j - sepStart < 6 {
                let s = t[j]
                if s == UInt8(ascii: ":") || s == UInt8(ascii: "=") { sawSeparator = true } else if !(s == 0x20 || s == 0x09 || s == 0x22 || s == 0x27) { break }
                j += 1
            }
            guard sawSeparator else { i += length; continue }
            let valueStart = j
            if isAuth {
                while j < t.count && t[j] != 0x22 && t[j] != 0x27 && t[j] != 0x0A { j += 1 }
                if j > valueStart { spans.append(.init(start: valueStart, end: j, mask: .token)) }
            } else {
                while j < t.count && !(t[j] == 0x20 || t[j] == 0x09 || t[j] == 0x22 || t[j] == 0x27 || t[j] == UInt8(ascii: ",")
                                       || t[j] == UInt8(ascii: ";") || t[j] == UInt8(ascii: "&") || t[j] == UInt8(ascii: "}")
                                       || t[j] == 0x0A) { j += 1 }
                if j > valueStart { spans.append(.init(start: valueStart, end: j, mask: .secret)) }
            }
            i = max(j, i + 1)
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
