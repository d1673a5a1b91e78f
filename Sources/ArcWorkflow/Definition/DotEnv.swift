/// The `KEY=value` files `env_file` names, in the dotenv format docker compose, systemd's
/// EnvironmentFile and python-dotenv read: blank lines and `#` comments, an optional
/// `export ` before the key, single-quoted values taken literally, double-quoted ones with
/// `\n` `\t` `\r` `\"` `\\` escapes (any other backslash is kept), either kind able to go
/// on over several lines (a PEM key), and unquoted values trimmed and ending at a ` #`
/// comment. Values are never expanded: secrets often hold a `$`.
///
/// Problems name the line and column but never quote the file: it holds secrets.
public enum DotEnv {
    /// The pairs in file order (for a key written twice, the later wins when applied).
    public static func parse(_ text: String, file: String) throws -> [(String, String)] {
        var parser = Parser(text)
        parser.parse()
        guard parser.problems.isEmpty else { throw WorkflowError(file: file, problems: parser.problems) }
        return parser.pairs
    }

    struct Parser {
        var s: [Unicode.Scalar]
        var i = 0
        var line = 1
        var lineStart = 0
        var pairs: [(String, String)] = []
        var problems: [WorkflowError.Problem] = []

        init(_ text: String) {
            // CRLF files read as LF files; a byte-order mark is not part of the first key.
            var scalars: [Unicode.Scalar] = []
            let all = Array(text.unicodeScalars)
            for (k, c) in all.enumerated() where !(c == "\r" && k + 1 < all.count && all[k + 1] == "\n") {
                scalars.append(c)
            }
            if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
            s = scalars
        }

        var atEnd: Bool { i >= s.count }
        var current: Unicode.Scalar? { atEnd ? nil : s[i] }
        var column: Int { i - lineStart + 1 }

        mutating func fail(_ message: String, line: Int? = nil, column: Int? = nil) {
            problems.append(.init(line: line ?? self.line, column: column ?? self.column, message))
        }

        mutating func skipBlanks() {
            while let c = current, c == " " || c == "\t" { i += 1 }
        }

        /// Past the end of this line (its newline included).
        mutating func skipLine() {
            while let c = current, c != "\n" { i += 1 }
            newline()
        }

        mutating func newline() {
            guard current == "\n" else { return }
            i += 1
            line += 1
            lineStart = i
        }

        mutating func parse() {
            while !atEnd {
                skipBlanks()
                guard let c = current, c != "\n", c != "#" else {
                    skipLine()
                    continue
                }
                entry()
            }
        }

        /// One `KEY=value` (the value possibly over several lines), or a problem and the
        /// rest of the line skipped.
        mutating func entry() {
            if hasWord("export"), i + 6 < s.count, s[i + 6] == " " || s[i + 6] == "\t" {
                i += 6
                skipBlanks()
            }
            let (keyLine, keyColumn) = (line, column)
            let keyStart = i
            while let c = current, c != "=", c != " ", c != "\t", c != "\n" { i += 1 }
            let key = String(String.UnicodeScalarView(s[keyStart..<i]))
            skipBlanks()
            guard current == "=" else {
                fail("expected KEY=value", column: keyColumn)
                return skipLine()
            }
            guard WorkflowLoader.isVariableName(key) else {
                fail("the name before '=' is not a variable name (letters, digits and '_', not first a digit)", column: keyColumn)
                return skipLine()
            }
            i += 1
            skipBlanks()
            let value: String?
            switch current {
            case "'": value = quoted(key, "'", escapes: false)
            case "\"": value = quoted(key, "\"", escapes: true)
            default: value = unquoted()
            }
            guard let value else { return }
            if value.unicodeScalars.contains("\0") {
                fail("the value of \(key) holds a NUL character, which no environment variable can",
                     line: keyLine, column: keyColumn)
                return
            }
            pairs.append((key, value))
        }

        func hasWord(_ word: String) -> Bool {
            let w = Array(word.unicodeScalars)
            return i + w.count <= s.count && Array(s[i..<(i + w.count)]) == w
        }

        /// To the end of the line, up to a `#` that follows a blank, trimmed.
        mutating func unquoted() -> String {
            var out: [Unicode.Scalar] = []
            // After '=' and its blanks: a `#` here starts the value (`KEY=#fff`), unless
            // blanks came before it (`KEY= # nothing`).
            var afterBlank = i > 0 && (s[i - 1] == " " || s[i - 1] == "\t")
            while let c = current, c != "\n" {
                if c == "#" && afterBlank { break }
                afterBlank = c == " " || c == "\t"
                out.append(c)
                i += 1
            }
            skipLine()
            while let last = out.last, last == " " || last == "\t" { out.removeLast() }
            return String(String.UnicodeScalarView(out))
        }

        /// From the opening quote to its closing one, across lines; after it only blanks
        /// and a comment. Nil after a problem.
        mutating func quoted(_ key: String, _ quote: Unicode.Scalar, escapes: Bool) -> String? {
            let (openLine, openColumn) = (line, column)
            i += 1
            var out: [Unicode.Scalar] = []
            while true {
                guard let c = current else {
                    fail("the \(quote == "'" ? "single" : "double") quote that starts the value of \(key) is never closed",
                         line: openLine, column: openColumn)
                    return nil
                }
                if c == quote {
                    i += 1
                    break
                }
                if c == "\n" {
                    out.append(c)
                    newline()
                    continue
                }
                // A backslash before a line break is kept, so the break still counts as a line.
                if escapes && c == "\\", i + 1 < s.count, s[i + 1] != "\n" {
                    let next = s[i + 1]
                    switch next {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "r": out.append("\r")
                    case "\"", "\\": out.append(next)
                    default: out += [c, next]
                    }
                    i += 2
                    continue
                }
                out.append(c)
                i += 1
            }
            skipBlanks()
            if let c = current, c != "\n", c != "#" {
                fail("unexpected text after the closing quote of \(key)'s value (a comment needs '#')")
                skipLine()
                return nil
            }
            skipLine()
            return String(String.UnicodeScalarView(out))
        }
    }
}
