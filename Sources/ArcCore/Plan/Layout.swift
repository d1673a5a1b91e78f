/// Where an archive is stored under the destination: a template such as
/// `{market}/{type}/{symbol}/{interval}/{file}`. The default, `{key}`, keeps the source's
/// own key path (Binance's `data/futures/um/daily/klines/...`).
public struct Layout: Sendable {
    public static let defaultTemplate = "{key}"
    public static let placeholders = ["source", "market", "period", "type", "symbol", "interval", "date", "file", "key",
                                      "year", "month", "day"]

    private enum Part: Sendable {
        case text(String)
        case field(String)
    }

    public let template: String
    private let parts: [Part]

    public init(_ template: String) throws {
        self.template = template
        var parts: [Part] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { parts.append(.text(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw UsageError("--layout: unclosed '{' in '\(template)'")
            }
            let name = String(rest[rest.index(after: open)..<close])
            guard Layout.placeholders.contains(name) else {
                throw UsageError("--layout: unknown placeholder {\(name)}; known: "
                                 + Layout.placeholders.map { "{\($0)}" }.joined(separator: " "))
            }
            parts.append(.field(name))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        guard parts.contains(where: { if case .field = $0 { return true } else { return false } }) else {
            throw UsageError("--layout: '\(template)' has no placeholder, so every archive would land on one path")
        }
        self.parts = parts
    }

    /// The fields the template reads from each record.
    public var fields: [String] {
        parts.compactMap { if case .field(let f) = $0 { return f } else { return nil } }
    }

    /// The relative path for one record. Throws `FieldError` when a field it needs is
    /// missing, or when the result would leave the destination (`..`, absolute paths).
    public func path(for record: Record) throws -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .field(let name): out += try value(name, record)
            }
        }
        // {interval} of a type without intervals leaves "//": collapse it.
        let components = out.split(separator: "/", omittingEmptySubsequences: true)
        for c in components where c == ".." || c == "." || c.utf8.contains(0) {
            throw FieldError(field: "key", expected: "a path without '.' or '..' components", kind: .string)
        }
        guard !components.isEmpty else { throw FieldError(field: fields.first ?? "key", expected: "a non-empty path", kind: .string) }
        return components.joined(separator: "/")
    }

    private func value(_ name: String, _ record: Record) throws -> String {
        switch name {
        case "file":
            let key = try record.requiredString("key")
            return String(key.split(separator: "/").last ?? Substring(key))
        case "year", "month", "day":
            let date = try record.requiredString("date")
            let parts = date.split(separator: "-")
            let index = name == "year" ? 0 : name == "month" ? 1 : 2
            guard index < parts.count else {
                throw FieldError(field: "date", expected: "a date with a \(name)", kind: .string)
            }
            return String(parts[index])
        case "interval":
            return try record.string("interval") ?? ""
        default:
            return try record.requiredString(name)
        }
    }
}
