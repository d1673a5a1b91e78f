/// Where an archive (or the silver file made from it) is stored under the destination: a
/// template such as `{market}/{type}/{symbol}/{interval}/{file}`. arc-plan's default,
/// `{key}`, keeps the source's own key path (Binance's `data/futures/um/daily/klines/...`).
/// A folder left empty by a field the record lacks (`{interval}` of trades) is dropped,
/// and so is a hive-style `interval={interval}` folder with nothing after its `=`: a
/// partitioned dataset has no `interval=` level for types without intervals.
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
        // The template's own text may not climb out of the destination; values are checked per record.
        if template.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
            throw UsageError("--layout: '\(template)' has a '.' or '..' folder; paths stay under --dest")
        }
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
        var joined: [UInt8] = []
        joined.reserveCapacity(160)
        try appendPath(for: record, to: &joined)
        return String(decoding: joined, as: UTF8.self)
    }

    /// Appends `path(for: record)`'s bytes to `out`, which may already hold the start of a
    /// longer path (arc-plan's destination): it runs once per record on arc-plan's hot
    /// path, where a String per path was a good part of the work.
    public func appendPath(for record: Record, to out: inout [UInt8]) throws {
        let start = out.count
        for part in parts {
            switch part {
            case .text(let t): out.append(contentsOf: t.utf8)
            case .field(let name): try append(name, of: record, to: &out)
            }
        }
        try normalize(&out, from: start)
    }

    /// Makes `out[start...]` its components joined by single slashes: {interval} of a type
    /// without intervals leaves "//", and a leading "/" must not make the path absolute.
    /// One pass checks the bytes; only a path with empty components is rebuilt.
    private func normalize(_ out: inout [UInt8], from start: Int) throws {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        let emptyComponents = try out.withUnsafeBufferPointer { whole in
            let p = UnsafeBufferPointer(rebasing: whole[start...])
            var emptyComponents = p.isEmpty || p.first == slash || p.last == slash
            var componentStart = 0
            for i in 0...p.count {
                let atEnd = i == p.count
                if !atEnd && p[i] != slash {
                    if p[i] == 0 { throw FieldError(field: "key", problem: "a path with a NUL byte") }
                    continue
                }
                let length = i - componentStart
                if length == 0 && i > 0 { emptyComponents = true }
                if length > 0 && p[i - 1] == UInt8(ascii: "=") { emptyComponents = true }
                if length > 0 && length <= 2 && p[componentStart] == dot && (length == 1 || p[componentStart + 1] == dot) {
                    throw FieldError(field: "key", problem: "a path with a '.' or '..' component")
                }
                componentStart = i + 1
            }
            return emptyComponents
        }
        guard emptyComponents else { return }
        let kept = out[start...].split(separator: slash).filter { $0.last != UInt8(ascii: "=") }
        let joined = Array(kept.joined(separator: [slash]))
        guard !joined.isEmpty else { throw FieldError(field: fields.first ?? "key", expected: "a non-empty path", kind: .string) }
        out.replaceSubrange(start..., with: joined)
    }

    private func append(_ name: String, of record: Record, to out: inout [UInt8]) throws {
        switch name {
        case "file":
            let start = out.count
            try appendRequired("key", of: record, to: &out)
            guard out.last != UInt8(ascii: "/") else {
                throw FieldError(field: "key", expected: "the key of a file, not of a folder", kind: .string)
            }
            if let slash = out[start...].lastIndex(of: UInt8(ascii: "/")) { out.removeSubrange(start...slash) }
        case "year", "month", "day":
            let date = try record.requiredString("date")
            let parts = date.split(separator: "-")
            let index = name == "year" ? 0 : name == "month" ? 1 : 2
            guard index < parts.count else {
                throw FieldError(field: "date", expected: "a date with a \(name)", kind: .string)
            }
            out.append(contentsOf: parts[index].utf8)
        case "interval":
            _ = try record.appendString("interval", to: &out)
        default:
            try appendRequired(name, of: record, to: &out)
        }
    }

    private func appendRequired(_ name: String, of record: Record, to out: inout [UInt8]) throws {
        let start = out.count
        guard try record.appendString(name, to: &out) else { throw FieldError(field: name, expected: "a string", kind: nil) }
        guard out.count > start else { throw FieldError(field: name, expected: "a non-empty string", kind: .string) }
    }
}
