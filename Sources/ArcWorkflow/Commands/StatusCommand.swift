import Glibc
import ArcCore

/// `wf-run status`, `history` and `logs`: what ran, what failed and why, read from the
/// runs' event logs and directories.
enum StatusCommand {
    static func status(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let store = try RunStore.open(tool.statePath)
        let row = try WorkflowCommand.findRun(store, p.positionals.first, workflow: p.value("workflow"))
        let (state, live) = try WorkflowCommand.state(of: row, store)
        let status = state.status(live: live)
        if p.wantsTable {
            var out = "run       \(row.runID)\nworkflow  \(row.workflow)  (\(row.file))\n"
            out += "status    \(status.rawValue)\(state.message.map { ": " + $0 } ?? "")\n"
            out += "started   \(state.startedAt ?? row.createdAt)" + (duration(state).map { "   took \($0)" } ?? "") + "\n"
            if let scheduled = row.scheduledAt { out += "scheduled \(scheduled)\n" }
            if !row.parameters.isEmpty { out += "params    " + row.parameters.map { "\($0.0)=\($0.1)" }.joined(separator: " ") + "\n" }
            if state.resumes > 0 { out += "resumed   \(state.resumes) time\(state.resumes == 1 ? "" : "s")\n" }
            if let trace = state.traceID { out += "trace     \(trace)\n" }
            if status == .interrupted || status == .cancelled || status == .failed { out += "resume    wf-run resume \(row.runID)\n" }
            var rows = [["STEP", "STATUS", "ATTEMPTS", "DURATION", "EXIT", "WHY"]]
            for s in state.shownSteps {
                rows.append([s.id, s.cachedFrom != nil ? "cached" : s.status.rawValue, String(s.attempts),
                             s.durationMillis.map { DurationText.format($0 * 1_000_000) } ?? "",
                             s.exitStatus.map(String.init) ?? "", s.cachedFrom.map { "the output of run \($0)" } ?? s.message ?? ""])
            }
            try BufferedOutput.stdout.write(out + "\n" + TextTable.render(rows, rightAligned: [2, 3, 4]))
            return .ok
        }
        var b = RecordBuilder(capacity: 1024)
        record(row, state, status, into: &b, withSteps: true)
        try BufferedOutput.stdout.write(b.bytes)
        return .ok
    }

    static func history(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let store = try RunStore.open(tool.statePath)
        let rows = try store.runs(workflow: p.value("workflow"), limit: try p.int("limit", range: 1...Int.max) ?? 20)
        let table = p.wantsTable
        var lines = [["RUN", "WORKFLOW", "STATUS", "STARTED", "DURATION", "STEPS", "WHY"]]
        var b = RecordBuilder(capacity: 512)
        for row in rows {
            let (state, live) = try WorkflowCommand.state(of: row, store)
            let status = state.status(live: live)
            if table {
                let ok = state.steps.filter { $0.status == .succeeded }.count
                lines.append([row.runID, row.workflow, status.rawValue, state.startedAt ?? row.createdAt,
                              duration(state) ?? "", "\(ok)/\(state.shownSteps.count)", state.message ?? ""])
            } else {
                record(row, state, status, into: &b, withSteps: false)
                try BufferedOutput.stdout.write(b.bytes)
            }
        }
        if table { try BufferedOutput.stdout.write(TextTable.render(lines, rightAligned: [4])) }
        return .ok
    }

    /// One run as a record: `run_id workflow file status started ended? duration_ms? ...`.
    static func record(_ row: RunStore.RunRow, _ state: RunState, _ status: RunState.Status,
                       into b: inout RecordBuilder, withSteps: Bool) {
        b.begin()
        b.string("run_id", row.runID)
        b.string("workflow", row.workflow)
        b.string("file", row.file)
        b.string("status", status.rawValue)
        b.string("started", state.startedAt ?? row.createdAt)
        b.optionalString("ended", state.endedAt)
        if let ms = durationMillis(state) { b.int("duration_ms", ms) }
        b.optionalString("message", state.message)
        b.optionalString("scheduled_at", row.scheduledAt)
        b.object("params") { o in for (k, v) in row.parameters { o.string(k, v) } }
        b.optionalString("trace_id", state.traceID)
        b.string("run_dir", row.runDir)
        b.int("resumes", state.resumes)
        b.int("steps_succeeded", state.steps.filter { $0.status == .succeeded }.count)
        b.int("steps_failed", state.steps.filter { $0.status == .failed }.count)
        if withSteps {
            b.objects("steps", state.shownSteps) { o, s in
                o.string("step", s.id)
                o.string("status", s.status.rawValue)
                o.int("attempts", s.attempts)
                if let code = s.exitStatus { o.int("exit_status", code) }
                if let ms = s.durationMillis { o.int("duration_ms", ms) }
                o.optionalString("reason", s.reason)
                o.optionalString("message", s.message)
                o.optionalString("cached_from", s.cachedFrom)
            }
        }
        b.end()
    }

    static func durationMillis(_ state: RunState) -> Int64? {
        guard let start = state.startedAt.flatMap(WallClock.parseRFC3339) else { return nil }
        let end = state.endedAt.flatMap(WallClock.parseRFC3339) ?? (state.ended == nil ? nil : start)
        return end.map { $0 - start }
    }

    static func duration(_ state: RunState) -> String? {
        durationMillis(state).map { DurationText.format($0 * 1_000_000) }
    }

    /// `wf-run logs RUN [STEP]`: the kept stdout and stderr of each attempt. One file is
    /// printed as it is; several get `==> step, attempt, stream <==` headers, as tail does.
    static func logs(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let store = try RunStore.open(tool.statePath)
        let row = try WorkflowCommand.findRun(store, p.positionals.first)
        let (state, _) = try WorkflowCommand.state(of: row, store)
        var chosen = state.steps.filter { $0.attempts > 0 }
        if p.positionals.count > 1 {
            let id = p.positionals[1]
            guard let s = state.step(id) else {
                throw UsageError("run \(row.runID) has no step '\(id)' (steps: \(state.steps.map(\.id).joined(separator: ", ")))")
            }
            chosen = [s]
        }
        let streams: [String] = switch p.value("stream") ?? "both" {
        case "stdout": ["out"]
        case "stderr": ["err"]
        default: ["out", "err"]
        }
        var files: [(String, String)] = []
        for s in chosen {
            let attempts = try p.int("attempt", range: 1...Int.max).map { [$0] } ?? (p.flag("all-attempts") ? Array(1...max(s.attempts, 1)) : [s.attempts])
            for attempt in attempts where attempt > 0 {
                for stream in streams {
                    let path = row.runDir + "/logs/\(s.id).\(attempt).\(stream)"
                    // An empty stream is left out unless asked for by name.
                    if let size = FileSystem.size(path), size > 0 || streams.count == 1 {
                        files.append(("\(s.id), attempt \(attempt), \(stream == "out" ? "stdout" : "stderr")", path))
                    }
                }
            }
        }
        for (n, (label, path)) in files.enumerated() {
            if files.count > 1 { try BufferedOutput.stdout.write((n > 0 ? "\n" : "") + "==> \(label) <==\n") }
            try copy(path)
        }
        if files.isEmpty { tool.log.info("no output kept for \(chosen.count == 1 ? "step " + chosen[0].id : "run " + row.runID)") }
        return .ok
    }

    /// Streams a file to stdout: a step's log can be larger than memory should hold.
    static func copy(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path, errno: errno) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                if n < 0 { throw SystemError("read", path: path, errno: errno) }
                return
            }
            try BufferedOutput.stdout.write(Array(buffer[..<n]))
        }
    }
}
