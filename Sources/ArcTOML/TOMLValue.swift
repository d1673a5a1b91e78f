import ArcCore

/// One parsed TOML value with the place it starts, so that whoever reads a workflow file
/// can say "line 12, column 9: ..." about any value it rejects.
public struct TOMLValue: Sendable {
    public indirect enum Kind: Sendable {
        case string(String), integer(Int64), float(Double), boolean(Bool)
        /// Offset and local date-times, local dates and local times, kept exactly as
        /// written: the workflow runner has no date type, and the text is what users wrote.
        case datetime(String)
        case array([TOMLValue])
        case table(TOMLTable)
    }

    public var kind: Kind
    /// 1-based line where the value starts. A table from `[header]` or `[[header]]` starts
    /// at its header; an implicit table at the key that first mentioned it.
    public var line: Int
    /// 1-based column, counted in characters (grapheme clusters), not bytes.
    public var column: Int

    public init(kind: Kind, line: Int, column: Int) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    /// For messages such as "expected a string, got an integer".
    public var typeName: String {
        switch kind {
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .boolean: return "boolean"
        case .datetime: return "datetime"
        case .array: return "array"
        case .table: return "table"
        }
    }

    public var string: String? { if case .string(let s) = kind { return s }; return nil }
    public var integer: Int64? { if case .integer(let i) = kind { return i }; return nil }
    public var float: Double? { if case .float(let d) = kind { return d }; return nil }
    public var bool: Bool? { if case .boolean(let b) = kind { return b }; return nil }
    public var datetime: String? { if case .datetime(let s) = kind { return s }; return nil }
    public var array: [TOMLValue]? { if case .array(let a) = kind { return a }; return nil }
    public var table: TOMLTable? { if case .table(let t) = kind { return t }; return nil }
}

/// A TOML table: its keys in document order, each with where the key was written.
public struct TOMLTable: Sendable {
    public struct Entry: Sendable {
        public var key: String
        public var keyLine: Int
        public var keyColumn: Int
        public var value: TOMLValue

        public init(key: String, keyLine: Int, keyColumn: Int, value: TOMLValue) {
            self.key = key
            self.keyLine = keyLine
            self.keyColumn = keyColumn
            self.value = value
        }
    }

    public private(set) var entries: [Entry]
    /// Key to position in `entries`, so lookups stay O(1) in big tables.
    private var positions: [String: Int]

    /// Keeps the first entry for a key repeated in `entries`; the parser never repeats one.
    public init(_ entries: [Entry] = []) {
        self.entries = []
        self.positions = [:]
        for entry in entries where positions[entry.key] == nil {
            positions[entry.key] = self.entries.count
            self.entries.append(entry)
        }
    }

    public subscript(key: String) -> TOMLValue? { entry(key)?.value }

    public func entry(_ key: String) -> Entry? { positions[key].map { entries[$0] } }

    public var keys: [String] { entries.map(\.key) }
}

/// A file that is not the TOML this parser reads, with the exact place of the problem.
public struct TOMLError: ArcError {
    public let line: Int
    public let column: Int
    public let message: String

    public init(line: Int, column: Int, _ message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var code: FailureCode { .tomlSyntax }
    public var exitStatus: ExitStatus { .usage }
    public var description: String { "line \(line), column \(column): \(message)" }
}

extension FailureCode {
    /// A TOML document that does not parse.
    public static let tomlSyntax = FailureCode("toml_syntax")
}
