/// A value bound to a statement's parameter: text, an integer, or SQL NULL.
public enum StateValue: Sendable, Equatable {
    case null
    case text(String)
    case integer(Int64)

    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    public init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    public init(_ value: Bool?) { self = value.map { .integer($0 ? 1 : 0) } ?? .null }

    /// A PostgreSQL array literal (`{"a","b",NULL}`) as one text parameter, for
    /// `= ANY(?N::text[])` and `unnest`: each value quoted, its backslashes and quotes
    /// escaped, nil as NULL. Bytes, not Characters: it carries a batch of ledger rows.
    public static func array(_ values: [String?]) -> StateValue {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(values.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (n, value) in values.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            guard let value else {
                out += Array("NULL".utf8)
                continue
            }
            out.append(UInt8(ascii: "\""))
            for c in value.utf8 {
                if c == UInt8(ascii: "\\") || c == UInt8(ascii: "\"") { out.append(UInt8(ascii: "\\")) }
                out.append(c)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return .text(String(decoding: out, as: UTF8.self))
    }

    /// Ids as a PostgreSQL array literal (`{1,2,3}`), for `= ANY(?N::bigint[])`.
    public static func array(_ ids: [Int64]) -> StateValue {
        .text("{" + ids.map(String.init).joined(separator: ",") + "}")
    }

    /// The value as PostgreSQL receives it: text the server casts to the column's type.
    var postgresText: String? {
        switch self {
        case .null: return nil
        case .text(let text): return text
        case .integer(let number): return String(number)
        }
    }
}

/// What the ledger and the catalog need from a state database, met by SQLite (`Database`)
/// and PostgreSQL (`PostgresState`) alike, so their SQL is written once. Parameters are
/// written `?1`, `?2`...: SQLite binds them by number, the PostgreSQL adapter turns them
/// into `$1`, `$2`.... Rows come back as text (nil for NULL); callers parse numbers.
/// This is the first slice of a shared state: tools not yet ported open a `Database`.
public protocol StateBackend: AnyObject {
    /// Runs one statement that returns no rows; the count of rows it changed.
    @discardableResult
    func run(_ sql: String, _ parameters: [StateValue]) throws -> Int
    /// Runs one query; its rows as text.
    func rows(_ sql: String, _ parameters: [StateValue]) throws -> [[String?]]
    /// Runs `body` in a write transaction (joined when one is open).
    func transaction<T>(_ body: () throws -> T) throws -> T
    /// Runs a read that may share a transaction with the reads around it (SQLite: see
    /// `Database.batchedRead`); `endReadBatch` ends it.
    func batchedRead<T>(_ body: () throws -> T) throws -> T
    func endReadBatch() throws
}

extension Database: StateBackend {
    @discardableResult
    public func run(_ sql: String, _ parameters: [StateValue]) throws -> Int {
        let s = try bound(sql, parameters)
        try s.run()
        return changes
    }

    public func rows(_ sql: String, _ parameters: [StateValue]) throws -> [[String?]] {
        let s = try bound(sql, parameters)
        // Reset at once: a statement left on its row keeps a read transaction open.
        defer { s.reset() }
        var rows: [[String?]] = []
        while try s.step() {
            rows.append((0..<s.columnCount).map { s.text($0) })
        }
        return rows
    }

    private func bound(_ sql: String, _ parameters: [StateValue]) throws -> Statement {
        let s = try statement(sql)
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .null: s.bind(index, nil as String?)
            case .text(let text): s.bind(index, text)
            case .integer(let number): s.bind(index, number)
            }
        }
        return s
    }
}
