import ArcCore

/// `count --by FIELD[,FIELD] [--every DURATION]`: lines per value of the fields, and per
/// time bucket. Memory grows with the number of distinct values, never with the input.
public final class LogCounter {
    public struct Key: Hashable {
        /// The bucket's start in milliseconds (nil: no --every, or a line without time).
        public var bucket: Int64?
        /// Each field's value as JSON text (`"arc-collect"`, `500`), nil when absent.
        public var values: [String?]
    }

    public let by: [FieldPath]
    public let every: Int64?
    public private(set) var counts: [Key: Int] = [:]
    public private(set) var total = 0
    private var scratch: [UInt8] = []

    public init(by: [FieldPath], every: Int64?) {
        self.by = by
        self.every = every
    }

    public func add(_ e: LogEntry) {
        var key = Key(bucket: nil, values: [])
        key.values.reserveCapacity(by.count)
        for path in by {
            // The usual names mean what the filters mean: `level` is the normalized
            // severity (WARNING and warn count together), `tool` is also `service`.
            if path.text == "level" {
                key.values.append(e.severity.map { "\"\($0.name)\"" })
                continue
            }
            let alias = path.text == "tool" ? FieldKey.toolKeys : path.text == "msg" ? FieldKey.messageKeys : []
            guard let v = alias.lazy.compactMap({ e.field($0).map(FieldValue.init) }).first ?? e.value(path) else {
                key.values.append(nil)
                continue
            }
            scratch.removeAll(keepingCapacity: true)
            e.appendJSON(of: v, to: &scratch)
            key.values.append(String(decoding: scratch, as: UTF8.self))
        }
        if let every, let ts = e.ts {
            key.bucket = ts >= 0 ? ts / every * every : (ts - every + 1) / every * every
        }
        counts[key, default: 0] += 1
        total += 1
    }

    /// Most frequent first; with buckets, in time order and most frequent first in each.
    public var sorted: [(key: Key, count: Int)] {
        counts.map { (key: $0.key, count: $0.value) }.sorted { a, b in
            if every != nil && a.key.bucket != b.key.bucket { return (a.key.bucket ?? .min) < (b.key.bucket ?? .min) }
            if a.count != b.count { return a.count > b.count }
            return a.key.values.map { $0 ?? "" }.lexicographicallyPrecedes(b.key.values.map { $0 ?? "" })
        }
    }

    /// One NDJSON record per value (and bucket): `{"ts"?, FIELD: value..., "count": n}`.
    public func records() -> [UInt8] {
        var out: [UInt8] = []
        for (key, count) in sorted {
            out.append(UInt8(ascii: "{"))
            if every != nil {
                out.append(contentsOf: Array(#""ts":"#.utf8))
                if let b = key.bucket { JSONText.appendQuoted(LogTime.format(b), to: &out) } else { out.append(contentsOf: Array("null".utf8)) }
                out.append(UInt8(ascii: ","))
            }
            for (path, value) in zip(by, key.values) {
                JSONText.appendQuoted(path.text, to: &out)
                out.append(UInt8(ascii: ":"))
                out.append(contentsOf: Array((value ?? "null").utf8))
                out.append(UInt8(ascii: ","))
            }
            out.append(contentsOf: Array("\"count\":\(count)}\n".utf8))
        }
        return out
    }

    /// The same as an aligned table, for a terminal.
    public func table() -> String {
        var header = (every != nil ? ["TIME"] : []) + by.map { $0.text.uppercased() }
        header.append("COUNT")
        var rows = [header]
        for (key, count) in sorted {
            var row: [String] = []
            if every != nil { row.append(key.bucket.map(LogTime.format) ?? "-") }
            row += key.values.map { LogCounter.plain($0) }
            row.append(String(count))
            rows.append(row)
        }
        var widths = Array(repeating: 0, count: header.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                // Counts are right-aligned, everything else left.
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == row.count - 1 ? pad + cell : cell + pad
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// A value's text for people and labels: a string without its quotes and escapes.
    static func plain(_ json: String?) -> String {
        guard let json else { return "-" }
        guard json.hasPrefix("\""), json.hasSuffix("\""), json.count >= 2 else { return json }
        return JSONText.unescape(Array(json.utf8).dropFirst().dropLast())
    }
}
