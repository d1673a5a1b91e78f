import ArcCore

/// Values after `=` and inside arrays: strings, unquoted values, arrays and inline tables.
extension TOMLParser {
    mutating func parseValue() throws -> TOMLValue {
        let start = cursor.index
        let (line, column) = cursor.position(start)
        let kind: TOMLValue.Kind
        switch cursor.peek() {
        case "\"", "'": kind = .string(try cursor.readString(allowMultiline: true))
        case "[": kind = try parseArray()
        case "{": kind = try parseInlineTable()
        default: kind = try cursor.readBareValue()
        }
        return TOMLValue(kind: kind, line: line, column: column)
    }

    /// `[ ... ]`: may span lines, hold comments, mix types and end with a comma.
    private mutating func parseArray() throws -> TOMLValue.Kind {
        let open = cursor.index
        try enterNesting()
        defer { nesting -= 1 }
        cursor.advance()
        var elements: [TOMLValue] = []
        while true {
            try cursor.skipBlanksCommentsAndNewlines()
            if cursor.atEnd { throw cursor.error("unterminated array: no ']' for this '['", at: open) }
            if cursor.peek() == "]" { break }
            elements.append(try parseValue())
            try cursor.skipBlanksCommentsAndNewlines()
            if cursor.atEnd { throw cursor.error("unterminated array: no ']' for this '['", at: open) }
            if cursor.peek() == "," {
                cursor.advance()
                continue
            }
            if cursor.peek() == "]" { break }
            let (line, column) = cursor.position(open)
            throw cursor.error("expected ',' or ']' after an array element (the array starts at line \(line), column \(column))")
        }
        cursor.advance()
        return .array(elements)
    }

    /// `{ a = 1, b.c = 2 }`: on one line (values inside may span lines), no trailing comma.
    private mutating func parseInlineTable() throws -> TOMLValue.Kind {
        let open = cursor.index
        try enterNesting()
        defer { nesting -= 1 }
        let (line, column) = cursor.position(open)
        let table = TOMLTableNode(origin: .inline, line: line, column: column)
        cursor.advance()
        cursor.skipBlanks()
        if cursor.peek() == "}" {
            cursor.advance()
            return .table(table.build())
        }
        let unterminated = "unterminated inline table: an inline table must end with '}' on the line where it starts"
        while true {
            cursor.skipBlanks()
            if cursor.atEnd || cursor.atNewline || cursor.peek() == "#" { throw cursor.error(unterminated, at: open) }
            try parseKeyValue(into: table)
            cursor.skipBlanks()
            if cursor.peek() == "," {
                let comma = cursor.index
                cursor.advance()
                cursor.skipBlanks()
                if cursor.peek() == "}" {
                    throw cursor.error("trailing comma in an inline table (TOML 1.0 allows none)", at: comma)
                }
                continue
            }
            if cursor.peek() == "}" { break }
            if cursor.atEnd || cursor.atNewline || cursor.peek() == "#" { throw cursor.error(unterminated, at: open) }
            throw cursor.error("expected ',' or '}' after a value in the inline table")
        }
        cursor.advance()
        return .table(table.build())
    }

    private mutating func enterNesting() throws {
        guard nesting < TOMLParser.maximumNesting else {
            throw cursor.error("arrays and inline tables are nested more than \(TOMLParser.maximumNesting) deep")
        }
        nesting += 1
    }
}
