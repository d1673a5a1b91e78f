import ArcCore

/// Unquoted values: booleans, integers, floats and date-times. The cursor cuts the token;
/// the rules for what the token may be live here, as pure functions of its scalars.
extension TOMLCursor {
    mutating func readBareValue() throws -> TOMLValue.Kind {
        let start = index
        while let s = peek(), TOMLBareValue.isTokenScalar(s) { advance() }
        // "1979-05-27 07:32:00" is one value although a space splits it.
        if TOMLBareValue.isDate(scalars[start..<index]), peek() == " ",
           let h1 = peek(1), let h2 = peek(2), TOMLBareValue.isDigit(h1), TOMLBareValue.isDigit(h2), peek(3) == ":" {
            advance()
            while let s = peek(), TOMLBareValue.isTokenScalar(s) { advance() }
        }
        guard index > start else {
            if atEnd || atNewline || peek() == "#" { throw error("missing value") }
            let found = peek().map { TOMLCursor.isForbiddenControl($0) ? TOMLCursor.describe($0) : "'\(String($0))'" } ?? ""
            throw error("expected a value (string, number, boolean, date-time, array or inline table), found \(found)")
        }
        do {
            return try TOMLBareValue.parse(Array(scalars[start..<index]))
        } catch let problem as TOMLBareValue.Problem {
            throw error(problem.message, at: start)
        }
    }
}

enum TOMLBareValue {
    struct Problem: Error { let message: String }

    private static let radixes: [Unicode.Scalar: UInt32] = ["x": 16, "o": 8, "b": 2]

    static func isDigit(_ s: Unicode.Scalar) -> Bool { s >= "0" && s <= "9" }

    /// What an unquoted value can be made of; anything else ends the token.
    static func isTokenScalar(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "0"..."9", "a"..."z", "A"..."Z", "_", "+", "-", ".", ":": return true
        default: return false
        }
    }

    static func isDate<C: Collection>(_ t: C) -> Bool where C.Element == Unicode.Scalar {
        let a = Array(t)
        guard a.count == 10 else { return false }
        return a.enumerated().allSatisfy { i, s in i == 4 || i == 7 ? s == "-" : isDigit(s) }
    }

    static func parse(_ token: [Unicode.Scalar]) throws -> TOMLValue.Kind {
        var text = String.UnicodeScalarView()
        text.append(contentsOf: token)
        let written = String(text)
        switch written {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if let first = token.first, first.properties.isAlphabetic {
            throw Problem(message: "invalid value '\(written)' (strings need quotes; booleans are true and false)")
        }
        if token.contains(":") || (token.count >= 10 && token[4] == "-" && token.prefix(4).allSatisfy(isDigit)) {
            try TOMLDatetime.check(token, written: written)
            return .datetime(written)
        }
        var body = token[...]
        var negative = false, signed = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            signed = true
            body = body.dropFirst()
        }
        if body.count >= 2, body.first == "0", let radix = radixes[body[body.startIndex + 1]] {
            if signed {
                throw Problem(message: "invalid integer '\(written)': hexadecimal, octal and binary integers take no sign")
            }
            return .integer(try radixInteger(body.dropFirst(2), radix: radix, written: written))
        }
        if body.contains(".") || body.contains("e") || body.contains("E") {
            return .float(try float(body, written: written))
        }
        return .integer(try decimalInteger(body, negative: negative, written: written))
    }

    /// Digits with single underscores between them ("1_000", not "_1", "1_", "1__0"); the
    /// digits without the underscores, or nil if the run breaks these rules.
    private static func digits(_ run: ArraySlice<Unicode.Scalar>, radix: UInt32 = 10) -> [UInt32]? {
        var values: [UInt32] = []
        var previousWasDigit = false
        for s in run {
            if s == "_" {
                guard previousWasDigit else { return nil }
                previousWasDigit = false
                continue
            }
            guard let v = TOMLCursor.hexValue(s), v < radix else { return nil }
            values.append(v)
            previousWasDigit = true
        }
        return previousWasDigit ? values : nil
    }

    private static func decimalInteger(_ body: ArraySlice<Unicode.Scalar>, negative: Bool, written: String) throws -> Int64 {
        guard let values = digits(body) else {
            throw Problem(message: "invalid number '\(written)'")
        }
        if values.count > 1 && values[0] == 0 {
            throw Problem(message: "invalid integer '\(written)': leading zeros are not allowed")
        }
        // Accumulate towards the sign so that -9223372036854775808 fits.
        var result: Int64 = 0
        for v in values {
            let (shifted, o1) = result.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? shifted.subtractingReportingOverflow(Int64(v)) : shifted.addingReportingOverflow(Int64(v))
            if o1 || o2 { throw Problem(message: "integer '\(written)' does not fit in 64 bits") }
            result = next
        }
        return result
    }

    private static func radixInteger(_ body: ArraySlice<Unicode.Scalar>, radix: UInt32, written: String) throws -> Int64 {
        let name = radix == 16 ? "hexadecimal" : radix == 8 ? "octal" : "binary"
        guard let values = digits(body, radix: radix) else {
            throw Problem(message: "invalid \(name) integer '\(written)'")
        }
        var result: Int64 = 0
        for v in values {
            let (shifted, o1) = result.multipliedReportingOverflow(by: Int64(radix))
            let (next, o2) = shifted.addingReportingOverflow(Int64(v))
            if o1 || o2 { throw Problem(message: "integer '\(written)' does not fit in 64 bits") }
            result = next
        }
        return result
    }

    /// An integer part (no leading zeros), then a fraction, an exponent, or both.
    private static func float(_ body: ArraySlice<Unicode.Scalar>, written: String) throws -> Double {
        let bad = Problem(message: "invalid float '\(written)'")
        let exponentAt = body.firstIndex { $0 == "e" || $0 == "E" }
        let mantissa = body[..<(exponentAt ?? body.endIndex)]
        let pointAt = mantissa.firstIndex(of: ".")
        guard let whole = digits(mantissa[..<(pointAt ?? mantissa.endIndex)]) else { throw bad }
        if whole.count > 1 && whole[0] == 0 {
            throw Problem(message: "invalid float '\(written)': leading zeros are not allowed")
        }
        if let pointAt, digits(mantissa[(pointAt + 1)...]) == nil { throw bad }
        if let exponentAt {
            var exponent = body[(exponentAt + 1)...]
            if let sign = exponent.first, sign == "+" || sign == "-" { exponent = exponent.dropFirst() }
            if digits(exponent) == nil { throw bad }
        }
        var plain = String.UnicodeScalarView()
        plain.append(contentsOf: written.unicodeScalars.filter { $0 != "_" })
        guard let value = Double(String(plain)) else { throw bad }
        guard value.isFinite else { throw Problem(message: "float '\(written)' is out of range") }
        return value
    }
}
