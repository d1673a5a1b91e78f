import ArcCore

/// The four TOML string forms: basic "...", multi-line basic """...""", literal '...' and
/// multi-line literal '''...'''. Unterminated strings are reported at the opening quote,
/// where the reader has to look; bad characters and escapes at themselves.
extension TOMLCursor {
    /// Reads the string at the read position (which is at a quote). Keys pass
    /// `allowMultiline: false`: TOML does not allow multi-line strings as keys.
    mutating func readString(allowMultiline: Bool) throws -> String {
        let quote = peek()!
        let triple = quote == "\"" ? "\"\"\"" : "'''"
        if peekIs(triple) {
            guard allowMultiline else { throw error("a multi-line string cannot be a key") }
            return try readMultilineString(literal: quote == "'")
        }
        let open = index
        advance()
        var text = String.UnicodeScalarView()
        while true {
            guard let s = peek() else { throw error("unterminated string", at: open) }
            if atNewline {
                throw error("unterminated string: a single-line string cannot contain a newline"
                            + " (use \(triple) for a multi-line string)", at: open)
            }
            if s == quote { advance(); return String(text) }
            if s == "\\" && quote == "\"" {
                text.append(try readEscape(open: open))
                continue
            }
            if TOMLCursor.isForbiddenControl(s) {
                throw error("control character \(TOMLCursor.describe(s)) is not allowed in a string")
            }
            text.append(s)
            advance()
        }
    }

    /// At `"""` or `'''`. A newline right after the opening delimiter is dropped; one or two
    /// quotes may sit right before the closing delimiter (`""""` ends with one quote).
    private mutating func readMultilineString(literal: Bool) throws -> String {
        let open = index
        let quote: Unicode.Scalar = literal ? "'" : "\""
        advance(3)
        advance(newlineLength)
        var text = String.UnicodeScalarView()
        while true {
            guard let s = peek() else { throw error("unterminated multi-line string", at: open) }
            if s == quote {
                var run = 0
                while peek(run) == quote { run += 1 }
                if run >= 3 {
                    // Up to five quotes: the extra ones (at most two) belong to the string.
                    // A sixth is left for the caller to report as junk after the value.
                    let extra = min(run - 3, 2)
                    for _ in 0..<extra { text.append(quote) }
                    advance(3 + extra)
                    return String(text)
                }
                for _ in 0..<run { text.append(quote) }
                advance(run)
                continue
            }
            let newline = newlineLength
            if newline > 0 {
                text.append("\n")
                advance(newline)
                continue
            }
            if s == "\\" && !literal {
                if try skipLineEndingBackslash() { continue }
                text.append(try readEscape(open: open))
                continue
            }
            if TOMLCursor.isForbiddenControl(s) {
                throw error("control character \(TOMLCursor.describe(s)) is not allowed in a string")
            }
            text.append(s)
            advance()
        }
    }

    /// A backslash that is the last thing on its line (blanks may follow it) joins the
    /// lines: it and all whitespace and line breaks after it are dropped.
    private mutating func skipLineEndingBackslash() throws -> Bool {
        var offset = 1
        while let s = peek(offset), s == " " || s == "\t" { offset += 1 }
        let lineBreak = peek(offset) == "\n" || (peek(offset) == "\r" && peek(offset + 1) == "\n")
        guard lineBreak else { return false }
        advance(offset)
        while true {
            skipBlanks()
            let length = newlineLength
            guard length > 0 else { return true }
            advance(length)
        }
    }

    /// At a backslash in a basic string: exactly TOML 1.0's escapes.
    private mutating func readEscape(open: Int) throws -> Unicode.Scalar {
        let start = index
        guard let letter = peek(1) else { throw error("unterminated string", at: open) }
        if letter == "\n" || letter == "\r" && peek(2) == "\n" {
            // Only multi-line strings may continue a line with a backslash.
            throw error("unterminated string: a single-line string cannot contain a newline", at: open)
        }
        advance(2)
        switch letter {
        case "b": return "\u{08}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{0C}"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            let digits = letter == "u" ? 4 : 8
            var value: UInt32 = 0
            for offset in 0..<digits {
                guard let d = peek(offset), let v = TOMLCursor.hexValue(d) else {
                    throw error("invalid escape: \\\(letter) needs \(digits) hexadecimal digits", at: start)
                }
                value = value &* 16 &+ v
            }
            let written = text(from: start, to: index + digits)
            advance(digits)
            guard let scalar = Unicode.Scalar(value) else {
                throw error("invalid escape \(written): not a Unicode scalar value", at: start)
            }
            return scalar
        default:
            let shown = TOMLCursor.isForbiddenControl(letter) || letter == " " ? TOMLCursor.describe(letter) : String(letter)
            throw error("invalid escape '\\\(shown)' (TOML allows \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)", at: start)
        }
    }

    static func hexValue(_ s: Unicode.Scalar) -> UInt32? {
        switch s {
        case "0"..."9": return s.value - 48
        case "a"..."f": return s.value - 97 + 10
        case "A"..."F": return s.value - 65 + 10
        default: return nil
        }
    }
}
