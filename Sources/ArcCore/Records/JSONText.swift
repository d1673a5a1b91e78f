/// Escaping and unescaping of JSON string contents, on bytes.
public enum JSONText {
    /// Decodes the contents of a JSON string (between the quotes) with escapes.
    public static func unescape(_ slice: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(slice.count)
        var i = slice.startIndex
        let end = slice.endIndex
        while i < end {
            let c = slice[i]
            guard c == UInt8(ascii: "\\"), i + 1 < end else {
                out.append(c)
                i += 1
                continue
            }
            let e = slice[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(slice, i) else { out.append(UInt8(ascii: "?")); continue }
                i += 4
                // A high surrogate followed by \uDC00-\uDFFF is one scalar.
                if scalar >= 0xD800 && scalar < 0xDC00, i + 5 < end, slice[i] == UInt8(ascii: "\\"),
                   slice[i + 1] == UInt8(ascii: "u"), let low = hex4(slice, i + 2), low >= 0xDC00 && low < 0xE000 {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex4(_ s: ArraySlice<UInt8>, _ at: Int) -> UInt32? {
        guard at + 4 <= s.endIndex else { return nil }
        var v: UInt32 = 0
        for k in at..<at + 4 {
            let c = s[k]
            let d: UInt8
            switch c {
            case 48...57: d = c - 48
            case 65...70: d = c - 55
            case 97...102: d = c - 87
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// Appends `s` as a quoted JSON string.
    @inline(__always)
    public static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { appendEscaped($0, to: &out) }
        out.append(UInt8(ascii: "\""))
    }

    public static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard let base = bytes.baseAddress else { return }
        var runStart = 0
        while true {
            let i = nextSpecial(base, from: runStart, end: bytes.count)
            if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
            if i == bytes.count { return }
            let c = bytes[i]
            runStart = i + 1
            out.append(UInt8(ascii: "\\"))
            switch c {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            default:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "u"), 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]])
            }
        }
    }

    /// The index of the first byte at or after `from` that a JSON string cannot hold as
    /// is (a quote, a backslash or a control character), or `end`. Sixteen bytes a step,
    /// then eight (SWAR): most of a record is plain strings, and this is the loop they go
    /// through.
    /// With `nonASCII`, bytes from 0x80 up stop the scan too (the scanner validates UTF-8).
    @inline(__always)
    public static func nextSpecial(_ base: UnsafePointer<UInt8>, from: Int, end: Int, nonASCII: Bool = false) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var i = from
        // Sixteen bytes a step while they fit (a record's strings mostly end within one):
        // a mask lane is all ones, so the first special byte is the lowest set byte of
        // the mask's low half, else of its high half (Swift has no movemask).
        // The constants typed and made once: written inline in the compares, these became
        // loops over the lanes (2.5x the instructions of the SWAR loop, by callgrind).
        let raw = UnsafeRawPointer(base)
        let quotes = SIMD16<UInt8>(repeating: 0x22), backslashes = SIMD16<UInt8>(repeating: 0x5C)
        let zeros = SIMD16<UInt8>(repeating: 0), top3 = SIMD16<UInt8>(repeating: 0xE0)
        let high = SIMD16<UInt8>(repeating: nonASCII ? 0x80 : 0)
        while i &+ 16 <= end {
            let x = raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            // Control characters are the bytes with none of the top three bits; with
            // `nonASCII`, a byte with its top bit is special too (`high` is 0 without).
            let m: SIMDMask<SIMD16<Int8>> = (x .== quotes) .| (x .== backslashes) .| ((x & top3) .== zeros)
                .| ((x & high) .!= zeros)
            let halves = unsafeBitCast(m, to: SIMD2<UInt64>.self)
            if halves[0] != 0 { return i &+ halves[0].trailingZeroBitCount >> 3 }
            if halves[1] != 0 { return i &+ 8 &+ halves[1].trailingZeroBitCount >> 3 }
            i &+= 16
        }
        while i + 8 <= end {
            let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
            // A zero byte in x shows as (x - 1) & ~x & 0x80 per byte; a byte below 0x20 as
            // (w - 0x20) & ~w & 0x80. A borrow runs only upwards from a byte that shows, so
            // the lowest byte that shows is the first special one (little-endian): its
            // index comes straight from the bits, with no byte loop to find it again.
            var special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- ones &* 0x20) & ~w)
            if nonASCII { special |= w }
            special &= highs
            if special != 0 { return i + special.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < end {
            let c = base[i]
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 || (nonASCII && c >= 0x80) { return i }
            i += 1
        }
        return end
    }

    /// What a lead byte starts (RFC 3629): the sequence's length and the range its second
    /// byte must be in (no overlong forms, no surrogates, nothing above U+10FFFF); nil for
    /// a byte that starts no sequence (ASCII is not asked about).
    @inline(__always)
    public static func utf8Lead(_ lead: UInt8) -> (length: Int, second: ClosedRange<UInt8>)? {
        switch lead {
        case 0xC2...0xDF: return (2, 0x80...0xBF)
        case 0xE0: return (3, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: return (3, 0x80...0xBF)
        case 0xED: return (3, 0x80...0x9F)
        case 0xF0: return (4, 0x90...0xBF)
        case 0xF1...0xF3: return (4, 0x80...0xBF)
        case 0xF4: return (4, 0x80...0x8F)
        default: return nil
        }
    }

    /// The length of the well-formed UTF-8 sequence at `i` (RFC 3629: no overlong forms,
    /// no surrogates, nothing above U+10FFFF), or 0.
    @inline(__always)
    public static func utf8SequenceLength(_ base: UnsafePointer<UInt8>, at i: Int, end: Int) -> Int {
        guard let (length, second) = utf8Lead(base[i]) else { return 0 }
        guard i + length <= end, second.contains(base[i + 1]) else { return 0 }
        for k in 2..<length where base[i + k] & 0xC0 != 0x80 { return 0 }
        return length
    }

    /// Whether `count` bytes at `a` and `b` are equal. Inlined, for keys: a call to memcmp
    /// for a few bytes cost more than the compare, once per member of every record.
    @inline(__always)
    public static func sameBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int) -> Bool {
        var i = 0
        while i + 8 <= count {
            if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) {
                return false
            }
            i += 8
        }
        while i < count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// Parses a JSON integer (no fraction or exponent) that fits in Int64.
    public static func parseInt(_ s: ArraySlice<UInt8>) -> Int64? {
        var i = s.startIndex
        guard i < s.endIndex else { return nil }
        let negative = s[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < s.endIndex else { return nil }
        // Accumulated as a negative number, whose range reaches Int64.min.
        var v: Int64 = 0
        while i < s.endIndex {
            let c = s[i]
            guard c >= 48 && c <= 57 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.subtractingReportingOverflow(Int64(c - 48))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        if negative { return v }
        return v == .min ? nil : -v
    }
}
