/// The man page, in roff (man(7) macros), generated from the spec.
public enum ManPage {
    public static func render(_ spec: CommandSpec, version: String) -> String {
        var out = ".\\\" Generated from the command spec by `\(spec.name) --generate-man`; edit the spec, not this file.\n"
        out += ".TH \(spec.name.uppercased()) 1 \"\" \"arc \(version)\" \"arc manual\"\n"
        out += ".SH NAME\n\(escape(spec.name)) \\- \(escape(spec.summary))\n"
        out += ".SH SYNOPSIS\n"
        for line in spec.usage {
            out += ".B \(escape(spec.name))\n\(escape(line))\n.br\n"
        }
        for sub in spec.subcommands {
            for line in sub.usage {
                out += ".B \(escape(spec.name + " " + sub.name))\n\(escape(line))\n.br\n"
            }
        }
        if !spec.description.isEmpty {
            out += ".SH DESCRIPTION\n" + paragraphs(spec.description)
        }
        if !spec.arguments.isEmpty {
            out += ".SH ARGUMENTS\n"
            for a in spec.arguments {
                out += ".TP\n.I \(escape(HelpText.argumentLabel(a)))\n\(escape(a.help))\n"
            }
        }
        if !spec.subcommands.isEmpty || spec.externalSubcommand != nil {
            out += ".SH COMMANDS\n"
            for sub in spec.subcommands {
                out += ".SS \(escape(sub.name))\n\(escape(sub.summary))\n"
                if !sub.description.isEmpty { out += paragraphs(sub.description) }
                if !sub.visibleOptions.isEmpty {
                    out += ".PP\nOptions of \\fB\(escape(sub.name))\\fR:\n"
                    out += options(sub.visibleOptions)
                }
            }
            if let ext = spec.externalSubcommand {
                out += ".SS \(escape(ext.name))\n\(escape(ext.help))\n"
            }
        }
        if !spec.visibleOptions.isEmpty {
            out += ".SH OPTIONS\n" + options(spec.visibleOptions)
        }
        for (title, text) in spec.sections {
            out += ".SH \(escape(title.uppercased()))\n" + paragraphs(text)
        }
        let env = spec.environment + spec.subcommands.flatMap { $0.environment }
        if !env.isEmpty {
            out += ".SH ENVIRONMENT\n"
            var seen = Set<String>()
            for e in env where seen.insert(e.name).inserted {
                out += ".TP\n.B \(escape(e.name))\n\(escape(e.help))\n"
            }
        }
        out += ".SH EXIT STATUS\n"
        for status in spec.exitStatuses {
            out += ".TP\n.B \(status.rawValue)\n\(escape(status.meaning))\n"
        }
        let examples = spec.examples + spec.subcommands.flatMap { $0.examples }
        if !examples.isEmpty {
            out += ".SH EXAMPLES\n"
            for e in examples {
                out += ".PP\n\(escape(e.text))\n.PP\n.RS 4\n.nf\n\(escape(e.command))\n.fi\n.RE\n"
            }
        }
        if !spec.seeAlso.isEmpty {
            out += ".SH SEE ALSO\n" + spec.seeAlso.map { page in
                let parts = page.split(separator: "(")
                return parts.count == 2 ? "\\fB\(escape(String(parts[0])))\\fR(\(parts[1])" : escape(page)
            }.joined(separator: ",\n") + "\n"
        }
        return out
    }

    static func options(_ options: [OptionSpec]) -> String {
        var out = ""
        for o in options {
            var head = ".TP\n"
            var names: [String] = []
            if let s = o.short { names.append("\\fB\\-\(s)\\fR") }
            names.append("\\fB\\-\\-\(escape(o.long))\\fR" + (o.takesValue ? " \\fI\(escape(o.valueName))\\fR" : ""))
            head += names.joined(separator: ", ") + "\n"
            // \: after a slash lets a long URL or path break there instead of overflowing.
            out += head + escape(HelpText.optionHelp(o)).replacing("/", with: "/\\:") + "\n"
        }
        return out
    }

    static func paragraphs(_ text: String) -> String {
        var out = ""
        for p in text.components(separatedByBlankLines: ()) {
            if p.hasPrefix("  ") {
                let lines = p.split(separator: "\n", omittingEmptySubsequences: false).map { escape(String($0.dropFirst(2))) }
                out += ".PP\n.RS 4\n.nf\n" + lines.joined(separator: "\n") + "\n.fi\n.RE\n"
            } else {
                out += ".PP\n" + escape(p.split(separator: "\n").joined(separator: " ")) + "\n"
            }
        }
        return out
    }

    /// Escapes text for roff: backslashes, hyphens, and a leading dot or quote.
    static func escape(_ text: String) -> String {
        var s = text.replacing("\\", with: "\\e").replacing("-", with: "\\-")
        if s.hasPrefix(".") || s.hasPrefix("'") { s = "\\&" + s }
        return s.replacing("\n.", with: "\n\\&.").replacing("\n'", with: "\n\\&'")
    }
}
