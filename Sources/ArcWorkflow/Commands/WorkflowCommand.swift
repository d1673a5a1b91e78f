import Glibc
import ArcCore

/// wf-run: the entry point. One command per job: run, validate, graph, status, history,
/// logs, resume, cancel, schedule, next.
public enum WorkflowCommand {
    public static func main() -> Never {
        Tool.main(spec) { context in try run(context) }
    }

    static func run(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        guard p.path.count > 1 else { throw UsageError("missing command (run, validate, graph, status, history, logs, resume, cancel, schedule, next)") }
        switch p.path[1] {
        case "run": return try RunControl.run(tool)
        case "resume": return try RunControl.resume(tool)
        case "cancel": return try RunControl.cancel(tool)
        case "validate": return try GraphCommand.validate(tool)
        case "graph": return try GraphCommand.graph(tool)
        case "status": return try StatusCommand.status(tool)
        case "history": return try StatusCommand.history(tool)
        case "logs": return try StatusCommand.logs(tool)
        case "schedule": return try ScheduleCommand.schedule(tool)
        case "next": return try ScheduleCommand.next(tool)
        default: throw UsageError("unknown command '\(p.path[1])'")
        }
    }

    /// Loads a workflow file; its problems go to stderr one per line, as compilers print
    /// them, and the command stops with exit status 2.
    static func load(_ path: String, _ tool: ToolContext) throws -> Workflow {
        do {
            return try WorkflowLoader.load(path: path)
        } catch let error as WorkflowError {
            throw report(error, tool)
        }
    }

    /// The values of the workflow's env files, or their problems as `load` reports them.
    static func readEnvFiles(_ workflow: Workflow, _ tool: ToolContext) throws -> EnvFileValues {
        do {
            return try EnvFileValues.read(workflow)
        } catch let error as WorkflowError {
            throw report(error, tool)
        }
    }

    /// Logs every problem but the last, which is returned for the runtime to report.
    static func report(_ error: WorkflowError, _ tool: ToolContext) -> WorkflowError {
        for line in error.lines.dropLast() { tool.log.error(line, ["code": .string(error.code.rawValue)]) }
        return error.problems.count > 1 ? WorkflowError(file: error.file, problems: [error.problems.last!]) : error
    }

    /// Where runs keep their directories (logs, step outputs, the workflow's copy) and
    /// the workflows their locks: --runs-dir, $WF_RUNS_DIR, else `runs/` beside the state
    /// database. A PostgreSQL state has no "beside": each machine keeps its runs in its own
    /// state directory ($XDG_STATE_HOME/arc/runs, else ~/.local/state/arc/runs).
    static func runsRoot(_ tool: ToolContext) -> String {
        if let dir = tool.parsed.value("runs-dir"), !dir.isEmpty { return FileSystem.absolute(dir) }
        guard PostgresConnection.isURL(tool.statePath) else {
            return FileSystem.absolute(FileSystem.parent(of: tool.statePath) + "/runs")
        }
        if let xdg = getenv("XDG_STATE_HOME").map({ String(cString: $0) }), !xdg.isEmpty {
            return FileSystem.absolute(xdg + "/arc/runs")
        }
        let home = getenv("HOME").map { String(cString: $0) } ?? "."
        return FileSystem.absolute(home + "/.local/state/arc/runs")
    }

    static func workflowLockPath(_ tool: ToolContext, _ workflow: String) -> String {
        runsRoot(tool) + "/" + workflow + "/.lock"
    }

    static func runLockPath(_ runDir: String) -> String { runDir + "/.lock" }

    /// A run id that sorts by start time: `20261125-144318-3f9a`.
    static func newRunID() -> String {
        let now = WallClock.now()   // 2026-11-25T14:43:18.123Z
        let digits = now.filter { $0.isNumber }
        let stamp = String(digits.prefix(8)) + "-" + String(digits.dropFirst(8).prefix(6))
        return stamp + "-" + Hex.encode((0..<2).map { _ in UInt8.random(in: 0...255) })
    }

    /// The run named on the command line (an id or a unique prefix of one), or the newest.
    static func findRun(_ store: RunStore, _ id: String?, workflow: String? = nil) throws -> RunStore.RunRow {
        if let id {
            guard let row = try store.run(id) else { throw UsageError("no run '\(id)' in the state database") }
            return row
        }
        guard let newest = try store.runs(workflow: workflow, limit: 1).first else {
            throw UsageError(workflow.map { "no runs of workflow '\($0)' yet" } ?? "no runs yet")
        }
        return newest
    }

    /// A run's log folded into its state, and whether a wf-run process holds it now.
    static func state(of row: RunStore.RunRow, _ store: RunStore) throws -> (RunState, Bool) {
        let order: [String]
        if let workflow = try? WorkflowLoader.parse(row.definition, file: row.file) {
            order = (workflow.steps + workflow.handlers).map(\.id)
        } else { order = [] }
        let state = RunState(runID: row.runID, events: try store.events(row.runID), stepOrder: order)
        return (state, try RunLock.isHeld(runLockPath(row.runDir), name: RunLock.runName(row.runID), store))
    }

    /// A run from a shared state whose directory is not on this machine ran on another:
    /// its step outputs and logs, and any steps left running, are there, so it is resumed
    /// or cancelled there. (A runs directory on a filesystem the machines share is here.)
    static func refuseIfElsewhere(_ row: RunStore.RunRow, _ store: RunStore, _ command: String) throws {
        guard store.isShared, !FileSystem.exists(row.runDir) else { return }
        throw UsageError("run \(row.runID) ran on another machine (its directory \(row.runDir) is not here): \(command) it there")
    }
}
