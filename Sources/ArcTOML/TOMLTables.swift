import ArcCore

/// TOML 1.0's rules for which keys and headers may add to which tables. Every key is
/// defined once; a table once (by a header or by dotted keys, not both); inline tables
/// and arrays written as values are complete as written. Errors point at the key part
/// that breaks a rule and say where the earlier definition is.
extension TOMLParser {
    /// `a.b.c = value` relative to `table`.
    mutating func assign(_ key: [TOMLKeyPart], _ value: TOMLValue, into table: TOMLTableNode) throws {
        var table = table
        for part in key.dropLast() { table = try enterForDottedKey(table, part) }
        let last = key[key.count - 1]
        if let existing = table.slot(last.name) { throw alreadyDefined(last, existing) }
        table.add(slot(last, .value(value)))
    }

    /// `[a.b.c]`: the new current table.
    mutating func openTable(_ path: [TOMLKeyPart], header: Int) throws -> TOMLTableNode {
        var table = root
        for part in path.dropLast() { table = try enterForHeader(table, part) }
        let last = path[path.count - 1]
        let (line, column) = cursor.position(header)
        guard let existing = table.slot(last.name) else {
            let node = TOMLTableNode(origin: .header, line: line, column: column)
            table.add(slot(last, .table(node)))
            return node
        }
        let name = TOMLParser.dotted(path)
        switch existing.content {
        case .table(let node) where node.origin == .implicit:
            node.origin = .header
            node.line = line
            node.column = column
            let (keyLine, keyColumn) = cursor.position(last.index)
            table.moveKey(last.name, toLine: keyLine, column: keyColumn)
            return node
        case .table(let node) where node.origin == .dotted:
            throw cursor.error("table [\(name)] is already defined by dotted keys (first defined at line \(existing.keyLine))",
                               at: last.index)
        case .table(let node):
            throw cursor.error("table [\(name)] is defined twice (first defined at line \(node.line))", at: last.index)
        case .tableArray(let array):
            throw cursor.error("[\(name)] is an array of tables (first defined at line \(array.line)); "
                               + "add elements with [[\(name)]]", at: last.index)
        case .value(let value):
            throw valueInTheWay(last, existing, value)
        }
    }

    /// `[[a.b.c]]`: appends a table to the array (making it the first time) and returns it.
    mutating func openArrayElement(_ path: [TOMLKeyPart], header: Int) throws -> TOMLTableNode {
        var table = root
        for part in path.dropLast() { table = try enterForHeader(table, part) }
        let last = path[path.count - 1]
        let (line, column) = cursor.position(header)
        let element = TOMLTableNode(origin: .arrayElement, line: line, column: column)
        guard let existing = table.slot(last.name) else {
            let array = TOMLTableArrayNode(line: line, column: column)
            array.elements.append(element)
            table.add(slot(last, .tableArray(array)))
            return element
        }
        let name = TOMLParser.dotted(path)
        switch existing.content {
        case .tableArray(let array):
            array.elements.append(element)
            return element
        case .table(let node):
            throw cursor.error("[[\(name)]] cannot make an array of tables: '\(last.name)' is already a table "
                               + "(first defined at line \(node.line))", at: last.index)
        case .value(let value) where value.array != nil:
            throw cursor.error("[[\(name)]] cannot add to the array '\(last.name)' written as a value "
                               + "(first defined at line \(existing.keyLine))", at: last.index)
        case .value(let value):
            throw valueInTheWay(last, existing, value)
        }
    }

    /// A part before the last of a header: any table may be named on the way, and an array
    /// of tables means its latest element.
    private func enterForHeader(_ table: TOMLTableNode, _ part: TOMLKeyPart) throws -> TOMLTableNode {
        guard let existing = table.slot(part.name) else {
            let (line, column) = cursor.position(part.index)
            let node = TOMLTableNode(origin: .implicit, line: line, column: column)
            table.add(slot(part, .table(node)))
            return node
        }
        switch existing.content {
        case .table(let node): return node
        case .tableArray(let array): return array.elements[array.elements.count - 1]
        case .value(let value): throw valueInTheWay(part, existing, value)
        }
    }

    /// A part before the last of a dotted key: it may make tables, and go into tables that
    /// dotted keys made, but not into tables that have their own header.
    private func enterForDottedKey(_ table: TOMLTableNode, _ part: TOMLKeyPart) throws -> TOMLTableNode {
        guard let existing = table.slot(part.name) else {
            let (line, column) = cursor.position(part.index)
            let node = TOMLTableNode(origin: .dotted, line: line, column: column)
            table.add(slot(part, .table(node)))
            return node
        }
        switch existing.content {
        case .table(let node):
            switch node.origin {
            case .dotted:
                return node
            case .implicit:
                // Now defined by this dotted key: a later [header] for it is a redefinition.
                node.origin = .dotted
                return node
            case .header, .arrayElement, .root, .inline:
                throw cursor.error("cannot add to table '\(part.name)' with a dotted key: it has its own "
                                   + "[header] (at line \(node.line))", at: part.index)
            }
        case .tableArray(let array):
            throw cursor.error("cannot add to '\(part.name)' with a dotted key: it is an array of tables "
                               + "(first defined at line \(array.line))", at: part.index)
        case .value(let value):
            throw valueInTheWay(part, existing, value)
        }
    }

    /// A value already holds the key that a table or another value wants.
    private func valueInTheWay(_ part: TOMLKeyPart, _ existing: TOMLTableNode.Slot, _ value: TOMLValue) -> TOMLError {
        switch value.kind {
        case .table:
            return cursor.error("cannot add to the inline table '\(part.name)' (defined at line \(existing.keyLine)): "
                                + "an inline table is complete as written", at: part.index)
        case .array:
            return cursor.error("cannot add to the array '\(part.name)' (defined at line \(existing.keyLine)): "
                                + "an array written as a value is complete as written", at: part.index)
        default:
            return alreadyDefined(part, existing)
        }
    }

    private func alreadyDefined(_ part: TOMLKeyPart, _ existing: TOMLTableNode.Slot) -> TOMLError {
        cursor.error("duplicate key '\(part.name)' (first defined at line \(existing.keyLine))", at: part.index)
    }

    private func slot(_ part: TOMLKeyPart, _ content: TOMLTableNode.Content) -> TOMLTableNode.Slot {
        let (line, column) = cursor.position(part.index)
        return TOMLTableNode.Slot(key: part.name, keyLine: line, keyColumn: column, content: content)
    }
}
