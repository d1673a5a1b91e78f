import ArcCore

/// The document while it is being parsed. Tables stay mutable (classes) until the end
/// because later headers and dotted keys add to tables made earlier; each table remembers
/// how it was made, since TOML's rules about extending a table depend on exactly that.
final class TOMLTableNode {
    enum Origin {
        case root
        /// `[a.b]` made it.
        case header
        /// Named on the way to a deeper header (`a` in `[a.b]`); a later `[a]` may define it.
        case implicit
        /// Made by a dotted key (`a` in `a.b = 1`); no header may define it afterwards.
        case dotted
        /// `{ ... }`: complete as written. Stored as a finished value once parsed.
        case inline
        /// One `[[a]]` element.
        case arrayElement
    }

    enum Content {
        /// A finished value: scalars, arrays written with `[...]`, inline tables.
        case value(TOMLValue)
        case table(TOMLTableNode)
        case tableArray(TOMLTableArrayNode)
    }

    struct Slot {
        var key: String
        var keyLine: Int
        var keyColumn: Int
        var content: Content
    }

    var origin: Origin
    var line: Int
    var column: Int
    private(set) var slots: [Slot] = []
    private var positions: [String: Int] = [:]

    init(origin: Origin, line: Int, column: Int) {
        self.origin = origin
        self.line = line
        self.column = column
    }

    func slot(_ key: String) -> Slot? { positions[key].map { slots[$0] } }

    func add(_ slot: Slot) {
        positions[slot.key] = slots.count
        slots.append(slot)
    }

    /// When an implicit table gets its own `[header]`, the header is where it is defined.
    func moveKey(_ key: String, toLine line: Int, column: Int) {
        guard let i = positions[key] else { return }
        slots[i].keyLine = line
        slots[i].keyColumn = column
    }

    func build() -> TOMLTable {
        TOMLTable(slots.map { slot in
            TOMLTable.Entry(key: slot.key, keyLine: slot.keyLine, keyColumn: slot.keyColumn, value: slot.content.build())
        })
    }

    var value: TOMLValue { TOMLValue(kind: .table(build()), line: line, column: column) }
}

/// `[[a]]`: the array made by its first header, with one table per header.
final class TOMLTableArrayNode {
    let line: Int
    let column: Int
    var elements: [TOMLTableNode] = []

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

extension TOMLTableNode.Content {
    func build() -> TOMLValue {
        switch self {
        case .value(let value): return value
        case .table(let table): return table.value
        case .tableArray(let array):
            return TOMLValue(kind: .array(array.elements.map(\.value)), line: array.line, column: array.column)
        }
    }
}

/// One part of a dotted key, with where it was written (its index in the cursor).
struct TOMLKeyPart {
    let name: String
    let index: Int
}
