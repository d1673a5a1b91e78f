import ArcCore

/// The dependency map as Graphviz DOT: `telem-trace deps --format dot | dot -Tsvg > deps.svg`.
/// One node per service (named by the service, so the text can be edited by hand), one
/// edge per caller -> callee labelled with its calls, errors and p95; edges with errors red.
public enum DependencyDot {
    public static func render(_ edges: [ServiceEdge]) -> String {
        var services = Set<String>()
        for e in edges {
            services.insert(e.caller)
            services.insert(e.callee)
        }
        var out = "digraph services {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n"
        for s in services.sorted() { out += "  \(quote(s));\n" }
        for e in edges {
            let counts = "\(e.calls) call\(e.calls == 1 ? "" : "s")"
                + (e.errors > 0 ? ", \(e.errors) error\(e.errors == 1 ? "" : "s")" : "")
            var attributes = "label=\(quote(counts + "\n" + "p95 " + DurationText.format(e.p95)))"
            if e.errors > 0 { attributes += ", color=red, fontcolor=red" }
            out += "  \(quote(e.caller)) -> \(quote(e.callee)) [\(attributes)];\n"
        }
        return out + "}\n"
    }

    /// A DOT quoted string. Inside one, `\"` is a quote and `\\` a backslash (labels then
    /// read `\\` as one backslash, so a name with `\N` or `\l` in it is drawn as written);
    /// a newline becomes `\n`, a line break in the drawing. Other control characters become
    /// U+FFFD: dot would copy them into SVG, where XML forbids them.
    static func quote(_ s: String) -> String {
        var out = "\""
        out.unicodeScalars.reserveCapacity(s.unicodeScalars.count + 2)
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where c.value < 0x20 || c.value == 0x7f: out.unicodeScalars.append("\u{FFFD}")
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
