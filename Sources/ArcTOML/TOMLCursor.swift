import ArcCore

/// The document as Unicode scalars with the line and column of each, and a read position.
/// The parser works on scalars (every TOML delimiter is one ASCII scalar) while columns
/// count characters, so a combining accent does not shift later columns.
struct TOMLCursor {
    let scalars: [Unicode.Scalar]
    private let lines: [Int32]
    private let columns: [Int32]
    /// Where the end of input is, for errors about something missing at the end.
    private let endLine: Int
    private let endColumn: Int
    /// Index of the next scalar to read.
    var index = 0

    init(_ text: String) {
        var scalars: [Unicode.Scalar] = [], lines: [Int32] = [], columns: [Int32] = []
        var line: Int32 = 1, column: Int32 = 1
        var first = true
        for character in text {
            // A byte-order mark is an encoding artefact, not content.
            if first, character == "\u{FEFF}" { first = false; continue }
            first = false
            for scalar in character.unicodeScalars {
                scalars.append(scalar)
                lines.append(line)
                columns.append(column)
            }
            // "\r\n" is one Character; a lone "\r" is not a line break in TOML.
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        self.scalars = scalars
        self.lines = lines
        self.columns = columns
        self.endLine = Int(line)
        self.endColumn = Int(column)
    }

    var atEnd: Bool { index >= scalars.count }

    /// The scalar `offset` places ahead, or nil past the end.
    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        let i = index + offset
        return i < scalars.count ? scalars[i] : nil
    }

    func peekIs(_ text: String) -> Bool {
        var offset = 0
        for scalar in text.unicodeScalars {
            guard peek(offset) == scalar else { return false }
            offset += 1
        }
        return true
    }

    mutating func advance(_ count: Int = 1) { index += count }

    /// Length of the line break at the read position (1 for LF, 2 for CRLF), or 0.
    var newlineLength: Int {
        if peek() == "\n" { return 1 }
        if peek() == "\r", peek(1) == "\n" { return 2 }
        return 0
    }

    var atNewline: Bool { newlineLength > 0 }

    /// Spaces and tabs, the only whitespace TOML allows inside a line.
    mutating func skipBlanks() {
        while let s = peek(), s == " " || s == "\t" { index += 1 }
    }

    func position(_ at: Int) -> (line: Int, column: Int) {
        at < scalars.count ? (Int(lines[at]), Int(columns[at])) : (endLine, endColumn)
    }

    func error(_ message: String, at: Int? = nil) -> TOMLError {
        let (line, column) = position(at ?? index)
        return TOMLError(line: line, column: column, message)
    }

    /// The text between two indices, for quoting a bad token in a message.
    func text(from start: Int, to end: Int) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<min(end, scalars.count)])
        return String(view)
    }

    /// Control characters other than tab may not appear in comments or strings.
    static func isForbiddenControl(_ s: Unicode.Scalar) -> Bool {
        (s.value < 0x20 && s != "\t") || s.value == 0x7F
    }

    static func describe(_ s: Unicode.Scalar) -> String {
        let hex = String(s.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// Skips a `#` comment up to (not including) the line break, checking its characters.
    mutating func skipComment() throws {
        guard peek() == "#" else { return }
        index += 1
        while let s = peek(), !atNewline {
            if TOMLCursor.isForbiddenControl(s) {
                throw error("control character \(TOMLCursor.describe(s)) is not allowed in a comment")
            }
            index += 1
        }
    }

    /// Skips blanks, comments and line breaks: the space between array elements.
    mutating func skipBlanksCommentsAndNewlines() throws {
        while true {
            skipBlanks()
            try skipComment()
            let length = newlineLength
            guard length > 0 else { return }
            index += length
        }
    }
}
