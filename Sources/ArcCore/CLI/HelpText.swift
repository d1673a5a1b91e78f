/// `--help`: what a user reads first. Generated from the spec like everything else.
public enum HelpText {
    public static func render(_ spec: CommandSpec, path: [String], inherited: [OptionSpec] = [], width: Int = 80) -> String {
        let full = path.joined(separator: " ")
        var out = "\(full): \(spec.summary)\n\n"
        for (n, line) in spec.usage.enumerated() {
            out += (n == 0 ? "Usage: " : "       ") + full + (line.isEmpty ? "" : " " + line) + "\n"
        }
        if !spec.description.isEmpty {
            out += "\n" + wrapParagraphs(spec.description, width: width, indent: "") + "\n"
        }
        if !spec.subcommands.isEmpty || spec.externalSubcommand != nil {
            out += "\nCommands:\n"
            var rows = spec.subcommands.map { ($0.name, $0.summary) }
            if let ext = spec.externalSubcommand { rows.append((ext.name, ext.help)) }
            out += table(rows, width: width)
        }
        if !spec.arguments.isEmpty {
            out += "\nArguments:\n" + table(spec.arguments.map { (argumentLabel($0), $0.help) }, width: width)
        }
        let own = spec.visibleOptions
        if !own.isEmpty {
            out += "\nOptions:\n" + table(own.map { (optionLabel($0), optionHelp($0)) }, width: width)
        }
        let global = inherited.filter { !$0.hidden }
        if !global.isEmpty {
            out += "\nGlobal options:\n" + table(global.map { (optionLabel($0), optionHelp($0)) }, width: width)
        }
        if !spec.examples.isEmpty {
            out += "\nExamples:\n"
            for e in spec.examples {
                out += wrap(e.text, width: width, indent: "  # ") + "\n"
                out += "  " + e.command + "\n"
            }
        }
        return out
    }

    static func argumentLabel(_ a: ArgumentSpec) -> String {
        (a.optional ? "[" : "") + a.name + (a.repeating ? "..." : "") + (a.optional ? "]" : "")
    }

    static func optionLabel(_ o: OptionSpec) -> String {
        var label = o.short.map { "-\($0), " } ?? "    "
        label += "--" + o.long
        if o.takesValue { label += " " + o.valueName }
        return label
    }

    static func optionHelp(_ o: OptionSpec) -> String {
        var text = o.help
        if !o.choices.isEmpty && o.choices.count <= 8 && !text.contains(o.choices[0]) {
            text += " (\(o.choices.joined(separator: ", ")))"
        }
        if let d = o.defaultValue { text += " [default: \(d)]" }
        if let e = o.environment { text += " [env: \(e)]" }
        return text
    }

    static func table(_ rows: [(String, String)], width: Int) -> String {
        let column = min(30, (rows.map { $0.0.count }.max() ?? 0) + 4)
        var out = ""
        for (left, right) in rows {
            let head = "  " + left
            let pad = head.count + 2 <= column ? String(repeating: " ", count: column - head.count) : "\n" + String(repeating: " ", count: column)
            let body = wrap(right, width: width, indent: String(repeating: " ", count: column))
            out += head + pad + body.dropFirst(column) + "\n"
        }
        return out
    }

    /// Wraps each paragraph; lines that start with two spaces are kept as written.
    public static func wrapParagraphs(_ text: String, width: Int, indent: String) -> String {
        var out: [String] = []
        for paragraph in text.components(separatedByBlankLines: ()) {
            if paragraph.hasPrefix("  ") {
                out.append(paragraph.split(separator: "\n", omittingEmptySubsequences: false).map { indent + $0 }.joined(separator: "\n"))
            } else {
                out.append(wrap(paragraph.split(separator: "\n").joined(separator: " "), width: width, indent: indent))
            }
        }
        return out.joined(separator: "\n\n")
    }

    static func wrap(_ text: String, width: Int, indent: String) -> String {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            if line.count > indent.count && line.count + 1 + word.count > width {
                lines.append(line)
                line = indent
            }
            line += (line.count > indent.count ? " " : "") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// Splits text into paragraphs at blank lines.
    func components(separatedByBlankLines: ()) -> [String] {
        var paragraphs: [String] = []
        var current: [Substring] = []
        for line in split(separator: "\n", omittingEmptySubsequences: false) {
            if line.allSatisfy({ $0 == " " }) {
                if !current.isEmpty { paragraphs.append(current.joined(separator: "\n")) }
                current = []
            } else {
                current.append(line)
            }
        }
        if !current.isEmpty { paragraphs.append(current.joined(separator: "\n")) }
        return paragraphs
    }
}
