// A workflow file's text through the TOML parser. Properties: no crash, no hang; an error
// names a line and column inside the document; every value has a position; and a parsed
// document written back as TOML (dotted keys, inline arrays and tables, escaped basic
// strings) parses to the same tree.
import FuzzSupport
@testable import ArcTOML

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTOML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    let table: TOMLTable
    do {
        table = try TOML.parse(text)
    } catch let e as TOMLError {
        let lines = text.reduce(1) { $1 == "\n" || $1 == "\r\n" ? $0 + 1 : $0 }
        fuzzCheck(e.line >= 1 && e.line <= lines && e.column >= 1, "error at line \(e.line), column \(e.column) of \(lines) lines: \(e.message)")
        return 0
    } catch {
        fuzzFail("TOML.parse threw \(error), not a TOMLError")
    }
    checkPositions(table)
    var writer = Writer()
    writer.table(table, path: [])
    guard writer.deepest <= TOMLParser.maximumNesting && writer.longestKey <= TOMLParser.maximumKeyParts else { return 0 }
    let again: TOMLTable
    do { again = try TOML.parse(writer.out) } catch {
        fuzzFail("the document written back does not parse: \(error)\n\(writer.out)")
    }
    fuzzCheck(same(table, again), "the document written back parses differently:\n\(writer.out)")
    return 0
}

private func checkPositions(_ t: TOMLTable) {
    for e in t.entries {
        fuzzCheck(e.keyLine >= 1 && e.keyColumn >= 1 && e.value.line >= 1 && e.value.column >= 1, "bad position for \(e.key)")
        check(e.value)
    }
}

private func check(_ v: TOMLValue) {
    switch v.kind {
    case .table(let t): checkPositions(t)
    case .array(let a): a.forEach(check)
    default: break
    }
}

/// TOML text for a table: one `dotted.key = value` line per scalar or array; tables
/// become dotted paths (an empty one `{}`), arrays and their tables are written inline.
private struct Writer {
    var out = ""
    var deepest = 0
    var longestKey = 0

    mutating func table(_ t: TOMLTable, path: [String]) {
        if t.entries.isEmpty && !path.isEmpty {
            line(path, "{}", depth: 1)
            return
        }
        for e in t.entries {
            if case .table(let inner) = e.value.kind {
                table(inner, path: path + [e.key])
            } else {
                var depth = 0
                let text = value(e.value, depth: &depth)
                line(path + [e.key], text, depth: depth)
            }
        }
    }

    mutating func line(_ path: [String], _ value: String, depth: Int) {
        deepest = max(deepest, depth)
        longestKey = max(longestKey, path.count)
        out += path.map(quoted).joined(separator: ".") + " = " + value + "\n"
    }

    /// `depth`: how deep arrays and inline tables nest inside this value.
    func value(_ v: TOMLValue, depth: inout Int) -> String {
        switch v.kind {
        case .string(let s): return quoted(s)
        case .integer(let i): return String(i)
        case .float(let d): return d.isNaN ? "nan" : d == .infinity ? "inf" : d == -.infinity ? "-inf" : String(d)
        case .boolean(let b): return b ? "true" : "false"
        case .datetime(let s): return s
        case .array(let a):
            var inner = 0
            let items = a.map { item -> String in
                var d = 0
                let text = value(item, depth: &d)
                inner = max(inner, d)
                return text
            }
            depth = inner + 1
            return "[" + items.joined(separator: ", ") + "]"
        case .table(let t):
            var inner = 0
            let members = t.entries.map { e -> String in
                var d = 0
                let text = value(e.value, depth: &d)
                inner = max(inner, d)
                return quoted(e.key) + " = " + text
            }
            depth = inner + 1
            return "{" + members.joined(separator: ", ") + "}"
        }
    }

    func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

private func same(_ a: TOMLTable, _ b: TOMLTable) -> Bool {
    a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { x, y in x.key == y.key && same(x.value, y.value) }
}

private func same(_ a: TOMLValue, _ b: TOMLValue) -> Bool {
    switch (a.kind, b.kind) {
    case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
    case (.integer(let x), .integer(let y)): return x == y
    case (.float(let x), .float(let y)): return (x.isNaN && y.isNaN) || x.bitPattern == y.bitPattern
    case (.boolean(let x), .boolean(let y)): return x == y
    case (.datetime(let x), .datetime(let y)): return x == y
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(same)
    case (.table(let x), .table(let y)): return same(x, y)
    default: return false
    }
}
