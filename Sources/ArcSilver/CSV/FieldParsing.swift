import ArcCore
import Glibc

/// Parsers for one CSV field on bytes, no String made. Each reads from `p` and returns
/// the value and where it stopped (the first byte that is not part of the value), or nil
/// when the field does not start as its type must; the caller checks that the stop is
/// the field's end (a comma or the line's end).
enum FieldParsing {
    typealias Bytes = UnsafePointer<UInt8>

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c &- 48 < 10 }

    /// The value of the 8 ASCII digits at `p`, or nil when one of them is not a digit:
    /// eight digits in a few multiplications instead of eight dependent steps (the SWAR
    /// method of fast_float's parse_eight_digits_unrolled). The caller makes sure 8
    /// bytes are there to read.
    @inline(__always)
    static func eightDigits(_ p: Bytes) -> UInt64? {
        var v = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        guard ((v &+ 0x4646_4646_4646_4646) | (v &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080 == 0 else { return nil }
        v = v &- 0x3030_3030_3030_3030
        v = (v &* 10) &+ (v >> 8)
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        v = (((v & mask) &* 0x000F_4240_0000_0064) &+ (((v >> 16) & mask) &* 0x0000_2710_0000_0001)) >> 32
        return v
    }

    /// A decimal integer, optionally negative; nil on overflow or no digits.
    @inline(__always)
    static func int64(_ p: Bytes, _ end: Bytes) -> (Int64, Bytes)? {
        var i = p
        let negative = i < end && i.pointee == UInt8(ascii: "-")
        if negative { i += 1 }
        let first = i
        var value: UInt64 = 0
        // Eight digits at a time up to 16 (no overflow), then one at a time with checks.
        while end - i >= 8, i - first < 16, let eight = eightDigits(i) {
            value = value &* 100_000_000 &+ eight
            i += 8
        }
        while i < end {
            let d = i.pointee &- 48
            if d >= 10 { break }
            // 19 digits always fit in a UInt64; past them, check.
            if i - first >= 18 {
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(UInt64(d))
                if o1 || o2 { return nil }
                value = sum
            } else {
                value = value &* 10 &+ UInt64(d)
            }
            i += 1
        }
        guard i > first else { return nil }
        if negative {
            guard value <= UInt64(Int64.max) + 1 else { return nil }
            return (Int64(bitPattern: 0 &- value), i)
        }
        guard value <= UInt64(Int64.max) else { return nil }
        return (Int64(value), i)
    }

    /// 10^e for e in 0...22, all exact in a double (a switch over constants: a table
    /// lookup, with no lazy global to initialise on the hot path).
    @inline(__always)
    static func powerOfTen(_ e: Int) -> Double {
        switch e {
        case 0: return 1e0
        case 1: return 1e1
        case 2: return 1e2
        case 3: return 1e3
        case 4: return 1e4
        case 5: return 1e5
        case 6: return 1e6
        case 7: return 1e7
        case 8: return 1e8
        case 9: return 1e9
        case 10: return 1e10
        case 11: return 1e11
        case 12: return 1e12
        case 13: return 1e13
        case 14: return 1e14
        case 15: return 1e15
        case 16: return 1e16
        case 17: return 1e17
        case 18: return 1e18
        case 19: return 1e19
        case 20: return 1e20
        case 21: return 1e21
        default: return 1e22
        }
    }

    /// A decimal number: `[-+]digits[.digits][(e|E)[-+]digits]`, with a digit on at least
    /// one side of the point; no spaces, `inf`, `nan` or hex (which strtod would take).
    /// Equal to strtod's result for the same text: the fast path is Clinger's (a mantissa
    /// of at most 2^53 and a power of ten of at most 22, both exact, so the one division
    /// or multiplication rounds correctly); the rest goes to strtod itself.
    /// Appends the decimal digits at `i` to `mantissa` (wrapping), eight at a time while
    /// they come, and moves `i` past them.
    @inline(__always)
    static func accumulateDigits(_ i: inout Bytes, _ end: Bytes, into mantissa: inout UInt64) {
        while end - i >= 8, let eight = eightDigits(i) {
            mantissa = mantissa &* 100_000_000 &+ eight
            i += 8
        }
        while i < end {
            let d = i.pointee &- 48
            if d >= 10 { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
    }

    @inline(__always)
    static func double(_ p: Bytes, _ end: Bytes) -> (Double, Bytes)? {
        var i = p
        var negative = false
        if i < end, i.pointee == UInt8(ascii: "-") || i.pointee == UInt8(ascii: "+") {
            negative = i.pointee == UInt8(ascii: "-")
            i += 1
        }
        var mantissa: UInt64 = 0
        let digitsStart = i
        // Past 19 digits the mantissa wraps, and the digit count sends the number to strtod.
        accumulateDigits(&i, end, into: &mantissa)
        var digits = i - digitsStart  // leading zeros included: more than 19 only goes the slow way
        var scale = 0                 // digits after the point
        if i < end, i.pointee == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            accumulateDigits(&i, end, into: &mantissa)
            scale = i - fractionStart
            digits += scale
        }
        guard digits > 0 else { return nil }
        var exponent = 0
        if i < end, i.pointee | 0x20 == UInt8(ascii: "e") {
            var j = i + 1
            var expNegative = false
            if j < end, j.pointee == UInt8(ascii: "-") || j.pointee == UInt8(ascii: "+") {
                expNegative = j.pointee == UInt8(ascii: "-")
                j += 1
            }
            let first = j
            while j < end, isDigit(j.pointee) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(j.pointee - 48) }
                j += 1
            }
            guard j > first else { return nil }
            if expNegative { exponent = -exponent }
            i = j
        }
        // Fast path: at most 19 digits (the mantissa did not wrap), exact in a double.
        let power = exponent - scale
        if digits <= 19, mantissa <= 1 << 53, power >= -22, power <= 22 {
            let value = Double(mantissa)
            let result = power < 0 ? value / powerOfTen(-power) : value * powerOfTen(power)
            return (negative ? -result : result, i)
        }
        return (strtodFallback(p, i), i)
    }

    /// strtod on the field's text (already checked to be a plain decimal).
    static func strtodFallback(_ p: Bytes, _ end: Bytes) -> Double {
        let count = end - p
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer in
            let base = buffer.baseAddress!
            UnsafeMutableRawPointer(base).copyMemory(from: p, byteCount: count)
            base[count] = 0
            return strtod(base, nil)
        }
    }

    /// `true`/`True` or `false`/`False`.
    @inline(__always)
    static func boolean(_ p: Bytes, _ end: Bytes) -> (Bool, Bytes)? {
        let n = end - p
        if n >= 4, p[0] | 0x20 == UInt8(ascii: "t"), p[1] == UInt8(ascii: "r"), p[2] == UInt8(ascii: "u"),
           p[3] == UInt8(ascii: "e") {
            return (true, p + 4)
        }
        if n >= 5, p[0] | 0x20 == UInt8(ascii: "f"), p[1] == UInt8(ascii: "a"), p[2] == UInt8(ascii: "l"),
           p[3] == UInt8(ascii: "s"), p[4] == UInt8(ascii: "e") {
            return (false, p + 5)
        }
        return nil
    }

    /// Seconds since the epoch with an optional fraction (`1704067200`, `1704067200.1234`)
    /// in microseconds, from the digits: the whole seconds times 10^6 plus the fraction's
    /// first six digits (fewer are padded with zeros; digits past the microsecond are
    /// dropped, as silver holds microseconds). No sign, no exponent.
    static func seconds(_ p: Bytes, _ end: Bytes) -> (Int64, Bytes)? {
        guard p < end, isDigit(p.pointee), let (whole, q) = int64(p, end) else { return nil }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { return nil }
        var i = q
        guard i < end, i.pointee == UInt8(ascii: ".") else { return (scaled, i) }
        i += 1
        let first = i
        var fraction: Int64 = 0
        var scale: Int64 = 100_000
        while i < end, isDigit(i.pointee) {
            fraction += Int64(i.pointee - 48) * scale
            scale /= 10
            i += 1
        }
        guard i > first else { return nil }
        let (micros, over) = scaled.addingReportingOverflow(fraction)
        return over ? nil : (micros, i)
    }

    /// `YYYY-MM-DD HH:MM:SS[.ffffff]` or `YYYY-MM-DD` (UTC) in microseconds since the epoch.
    static func textTime(_ p: Bytes, _ end: Bytes) -> (Int64, Bytes)? {
        guard end - p >= 10, p[4] == UInt8(ascii: "-"), p[7] == UInt8(ascii: "-"),
              let year = digits(p, 4), let month = digits(p + 5, 2), let day = digits(p + 8, 2),
              (1...12).contains(month), day >= 1, day <= Day.daysIn(year: year, month: month)
        else { return nil }
        var micros = Int64(Day.civilToDays(year: year, month: month, day: day)) * 86_400_000_000
        var i = p + 10
        guard i < end, i.pointee == UInt8(ascii: " ") || i.pointee == UInt8(ascii: "T") else { return (micros, i) }
        guard end - i >= 9, i[3] == UInt8(ascii: ":"), i[6] == UInt8(ascii: ":"),
              let h = digits(i + 1, 2), let m = digits(i + 4, 2), let s = digits(i + 7, 2), h < 24, m < 60, s < 61
        else { return nil }
        micros += Int64(h * 3600 + m * 60 + s) * 1_000_000
        i += 9
        if i < end, i.pointee == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100_000
            let first = i
            while i < end, isDigit(i.pointee) {
                micros += Int64(i.pointee - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > first else { return nil }
        }
        return (micros, i)
    }

    @inline(__always)
    private static func digits(_ p: Bytes, _ count: Int) -> Int? {
        var value = 0
        for k in 0..<count {
            let d = p[k] &- 48
            guard d < 10 else { return nil }
            value = value * 10 + Int(d)
        }
        return value
    }
}
