import ArcCore

/// Parses the TOML 1.0 that workflow files use into a `TOMLTable`, or throws a
/// `TOMLError` with the line and column of the first problem.
public enum TOML {
    public static func parse(_ text: String) throws -> TOMLTable {
        var parser = TOMLParser(text)
        try parser.parseDocument()
        return parser.root.build()
    }
}

/// Line-level grammar: comments, `[header]`, `[[header]]` and `key = value` lines.
/// Values are in TOMLValueParser.swift, the rules for adding to tables in TOMLTables.swift.
struct TOMLParser {
    /// Nothing legitimate comes near these; they keep hostile input from exhausting the
    /// stack, since values and tables are parsed and built recursively.
    static let maximumNesting = 32
    static let maximumKeyParts = 32

    var cursor: TOMLCursor
    let root = TOMLTableNode(origin: .root, line: 1, column: 1)
    /// The table that `key = value` lines go into: the last header's.
    var current: TOMLTableNode
    /// Arrays and inline tables open around the read position.
    var nesting = 0

    init(_ text: String) {
        cursor = TOMLCursor(text)
        current = root
    }

    mutating func parseDocument() throws {
        while !cursor.atEnd {
            cursor.skipBlanks()
            guard let next = cursor.peek() else { break }
            if next == "[" {
                try parseHeader()
                try finishLine(after: "the table header")
            } else if next == "#" || cursor.atNewline {
                try finishLine(after: "")
            } else {
                try parseKeyValue(into: current)
                try finishLine(after: "the value")
            }
        }
    }

    /// Blanks and a comment may end a line; anything else is junk.
    private mutating func finishLine(after what: String) throws {
        cursor.skipBlanks()
        try cursor.skipComment()
        if cursor.atEnd { return }
        let length = cursor.newlineLength
        if length > 0 {
            cursor.advance(length)
            return
        }
        let s = cursor.peek()!
        if TOMLCursor.isForbiddenControl(s) {
            throw cursor.error("control character \(TOMLCursor.describe(s)) is not allowed here"
                               + (s == "\r" ? " (a carriage return must be followed by a line feed)" : ""))
        }
        throw cursor.error("expected a newline or comment after \(what)")
    }

    /// `[a.b]` or `[[a.b]]`; makes the named table the current one.
    private mutating func parseHeader() throws {
        let start = cursor.index
        cursor.advance()
        let isArray = cursor.peek() == "["
        if isArray { cursor.advance() }
        let path = try parseKey()
        let closing = isArray ? "]]" : "]"
        guard cursor.peekIs(closing) else {
            throw cursor.error("expected '\(closing)' to close the table header")
        }
        cursor.advance(closing.unicodeScalars.count)
        current = isArray ? try openArrayElement(path, header: start) : try openTable(path, header: start)
    }

    /// `key = value`, at top level or inside an inline table.
    mutating func parseKeyValue(into table: TOMLTableNode) throws {
        let key = try parseKey()
        guard cursor.peek() == "=" else {
            throw cursor.error("expected '=' after the key '\(TOMLParser.dotted(key))'")
        }
        cursor.advance()
        cursor.skipBlanks()
        let value = try parseValue()
        try assign(key, value, into: table)
    }

    /// A bare, quoted or dotted key, with the blanks around it.
    mutating func parseKey() throws -> [TOMLKeyPart] {
        var parts: [TOMLKeyPart] = []
        while true {
            cursor.skipBlanks()
            let start = cursor.index
            guard let s = cursor.peek(), !cursor.atNewline, s != "=", s != "]", s != "." else {
                throw cursor.error("missing key")
            }
            let name: String
            if s == "\"" || s == "'" {
                name = try cursor.readString(allowMultiline: false)
            } else if TOMLParser.isBareKeyScalar(s) {
                while let b = cursor.peek(), TOMLParser.isBareKeyScalar(b) { cursor.advance() }
                name = cursor.text(from: start, to: cursor.index)
                if let after = cursor.peek(), !TOMLParser.canFollowKey(after), !cursor.atNewline {
                    throw TOMLParser.invalidKeyCharacter(after, cursor: cursor)
                }
            } else {
                throw TOMLParser.invalidKeyCharacter(s, cursor: cursor)
            }
            parts.append(TOMLKeyPart(name: name, index: start))
            guard parts.count <= TOMLParser.maximumKeyParts else {
                throw cursor.error("key has more than \(TOMLParser.maximumKeyParts) parts", at: parts[0].index)
            }
            cursor.skipBlanks()
            guard cursor.peek() == "." else { return parts }
            cursor.advance()
        }
    }

    static func isBareKeyScalar(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
        default: return false
        }
    }

    private static func canFollowKey(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "." || s == "=" || s == "]" || s == "#" || s == "," || s == "}"
    }

    private static func invalidKeyCharacter(_ s: Unicode.Scalar, cursor: TOMLCursor) -> TOMLError {
        let shown = TOMLCursor.isForbiddenControl(s) ? TOMLCursor.describe(s) : "'\(String(s))'"
        return cursor.error("invalid character \(shown) in a key (bare keys are A-Z a-z 0-9 _ -; quote any other key)")
    }

    static func dotted(_ key: [TOMLKeyPart]) -> String {
        key.map { part in
            part.name.unicodeScalars.allSatisfy(isBareKeyScalar) && !part.name.isEmpty ? part.name : "\"\(part.name)\""
        }.joined(separator: ".")
    }
}
