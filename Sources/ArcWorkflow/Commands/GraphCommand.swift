import Glibc
import ArcCore
import ArcSchedule

/// `wf-run validate` and `wf-run graph`: a workflow checked, and drawn.
enum GraphCommand {
    /// Every problem on stderr (FILE:LINE:COLUMN: message) and exit 2, or a one-line summary.
    static func validate(_ tool: ToolContext) throws -> ExitStatus {
        var status = ExitStatus.ok
        for path in tool.parsed.positionals {
            do {
                let w = try WorkflowLoader.load(path: path)
                let envFiles = try EnvFileValues.read(w)
                var summary = "\(path): ok: workflow \(w.name), \(w.steps.count) step\(w.steps.count == 1 ? "" : "s")"
                if !w.handlers.isEmpty { summary += ", handlers " + w.handlers.map(\.id).joined(separator: ", ") }
                // How many keys, never a value.
                if envFiles.count > 0 { summary += ", \(envFiles.count) variable\(envFiles.count == 1 ? "" : "s") from env_file" }
                if let schedule = w.schedule {
                    summary += ", schedule '\(schedule.expression)'" + (w.timeZone.name == "UTC" ? "" : " in \(w.timeZone.name)")
                }
                try BufferedOutput.stdout.write(summary + "\n")
            } catch let error as WorkflowError {
                for line in error.lines { Terminal.stderr.writeLine(line) }
                status = .usage
            } catch let error as SystemError {
                Terminal.stderr.writeLine("\(error)")
                if status == .ok { status = .unavailable }
            } catch let error as UnavailableError {
                Terminal.stderr.writeLine("\(error)")
                if status == .ok { status = .unavailable }
            }
        }
        return status
    }

    static func graph(_ tool: ToolContext) throws -> ExitStatus {
        let w = try WorkflowCommand.load(tool.parsed.positionals[0], tool)
        let format = tool.parsed.value("format") ?? "text"
        try BufferedOutput.stdout.write(format == "dot" ? dot(w) : text(w))
        return .ok
    }

    /// Graphviz: `wf-run graph --format dot FILE | dot -Tsvg > flow.svg`.
    static func dot(_ w: Workflow) -> String {
        func quote(_ s: String) -> String { "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\"" }
        var out = "digraph \(quote(w.name)) {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n"
        for s in w.steps {
            var attributes: [String] = []
            if s.retries > 0 { attributes.append("retries \(s.retries)") }
            if let t = s.timeout { attributes.append("timeout \(DurationText.format(Int64(t * 1e9)))") }
            if s.cacheKey != nil { attributes.append("cached") }
            let label = attributes.isEmpty ? s.id : s.id + "\\n" + attributes.joined(separator: ", ")
            out += "  \(quote(s.id)) [label=\(quote(label))\(s.continueOnFailure ? ", style=\"rounded,dashed\"" : "")];\n"
        }
        for s in w.steps {
            for need in s.needs {
                let style = s.when == .success ? "" : " [label=\(quote(s.when.rawValue))\(s.when == .failure ? ", color=red" : "")]"
                out += "  \(quote(need)) -> \(quote(s.id))\(style);\n"
            }
        }
        for h in w.handlers { out += "  \(quote(h.id)) [shape=note];\n" }
        return out + "}\n"
    }

    /// The steps by level (what can run together), each with what it needs.
    static func text(_ w: Workflow) -> String {
        let levels = WorkflowGraph.levels(w.steps)
        var rows = [["LEVEL", "STEP", "NEEDS", "WHEN", "RUN"]]
        for level in 0...(levels.values.max() ?? 0) {
            for s in w.steps where levels[s.id] == level {
                let run = s.run.split(separator: "\n").first.map(String.init) ?? ""
                rows.append([String(level + 1), s.id, s.needs.joined(separator: ","), s.when == .success ? "" : s.when.rawValue,
                             run.count > 50 ? String(run.prefix(49)) + "…" : run])
            }
        }
        for h in w.handlers {
            rows.append(["after", h.id, "", h.id == "on_exit" ? "always" : String(h.id.dropFirst(3)), String(h.run.prefix(50))])
        }
        var out = "workflow \(w.name): \(w.steps.count) steps, at most \(w.concurrency) at once\n"
        if let schedule = w.schedule { out += "schedule \(schedule.expression) (\(w.timeZone.name))\n" }
        return out + TextTable.render(rows, rightAligned: [0])
    }
}
