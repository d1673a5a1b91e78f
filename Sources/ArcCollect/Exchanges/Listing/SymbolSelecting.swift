import ArcCore

/// A selection whose --symbol values are exact names or globs (TreeSelection, Bybit's):
/// which symbols it wants, and when the names are exact enough to skip listing them.
public protocol SymbolSelecting {
    /// Exact names or globs; empty: every symbol listed.
    var symbols: [Glob] { get }
}

extension SymbolSelecting {
    /// The symbols named exactly, when no pattern needs a listing to expand.
    public var literalSymbols: [String]? {
        guard !symbols.isEmpty, symbols.allSatisfy({ $0.isLiteral }) else { return nil }
        return symbols.map { $0.pattern }
    }

    public func wantsSymbol(_ symbol: String) -> Bool {
        symbols.isEmpty || symbols.contains { $0.matches(symbol) }
    }
}
