import Glibc
import ArcCore

/// `wf-run run`, `resume` and `cancel`: the commands that start or stop runs.
enum RunControl {
    static func run(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let workflow = try WorkflowCommand.load(p.positionals[0], tool)
        let envFiles = try WorkflowCommand.readEnvFiles(workflow, tool)
        let parameters = try resolveParameters(workflow, p.list("param"))
        let store = try RunStore.open(tool.statePath)
        let overlap = try lockWorkflow(workflow.name, store, tool)
        try refuseOverLeftovers(workflow.name, store, resuming: nil, tool)

        var row: RunStore.RunRow
        var attempts = 0
        while true {
            let runID = WorkflowCommand.newRunID()
            row = RunStore.RunRow(runID: runID, workflow: workflow.name, file: workflow.file, definition: workflow.text,
                                  parameters: parameters, runDir: WorkflowCommand.runsRoot(tool) + "/" + workflow.name + "/" + runID,
                                  scheduledAt: p.value("scheduled-time"), createdAt: WallClock.now())
            // A shared state can hold another machine's run started in the same second
            // with the same suffix, whose directory is not here.
            var taken = FileSystem.exists(row.runDir)
            if !taken && store.isShared { taken = try store.run(runID) != nil }
            guard taken && attempts < 5 else { break }
            attempts += 1
        }
        try FileSystem.makeDirectories(row.runDir, mode: 0o700)
        try FileSystem.writeAtomically(row.runDir + "/workflow.toml", Array(workflow.text.utf8))
        let runLock = try RunLock.tryAcquire(WorkflowCommand.runLockPath(row.runDir), name: RunLock.runName(row.runID), store)
        runLock?.setOwner("\(getpid()) \(row.runID)")
        overlap?.setOwner("\(getpid()) \(row.runID)")
        try store.insert(row)
        // The locks are held until the run ends (the optimizer may end a local's life early).
        return try withExtendedLifetime((overlap, runLock)) { try execute(workflow, envFiles, row, store, previous: nil, tool) }
    }

    static func resume(_ tool: ToolContext) throws -> ExitStatus {
        let store = try RunStore.open(tool.statePath)
        let row = try WorkflowCommand.findRun(store, tool.parsed.positionals.first)
        let workflow: Workflow
        do { workflow = try WorkflowLoader.parse(row.definition, file: row.file) } catch let error as WorkflowError {
            throw UnavailableError("run \(row.runID)", "its saved workflow no longer loads: \(error)")
        }
        // Read again, as they are now: the state never kept their values.
        let envFiles = try WorkflowCommand.readEnvFiles(workflow, tool)
        try WorkflowCommand.refuseIfElsewhere(row, store, "resume")
        guard let runLock = try RunLock.tryAcquire(WorkflowCommand.runLockPath(row.runDir), name: RunLock.runName(row.runID), store) else {
            throw UsageError("run \(row.runID) is running now (\(RunLock.owner(WorkflowCommand.runLockPath(row.runDir)).map { "pid \($0.split(separator: " ")[0])" } ?? "another wf-run"))")
        }
        let (previous, _) = try WorkflowCommand.state(of: row, store)
        if previous.ended == .runSucceeded {
            tool.log.info("run \(row.runID) already succeeded: nothing to resume")
            return .ok
        }
        let overlap = try lockWorkflow(workflow.name, store, tool)
        try refuseOverLeftovers(workflow.name, store, resuming: row.runID, tool)
        runLock.setOwner("\(getpid()) \(row.runID)")
        overlap?.setOwner("\(getpid()) \(row.runID)")
        return try withExtendedLifetime((overlap, runLock)) { try execute(workflow, envFiles, row, store, previous: previous, tool) }
    }

    static func execute(_ workflow: Workflow, _ envFiles: EnvFileValues, _ row: RunStore.RunRow, _ store: RunStore, previous: RunState?,
                        _ tool: ToolContext) throws -> ExitStatus {
        StopSignal.shared.install()
        tool.telemetry.root.name = "wf-run " + workflow.name
        tool.telemetry.root.set("run_id", .string(row.runID))
        let human = tool.parsed.wantsTable
        let runner = WorkflowRunner(workflow: workflow, envFiles: envFiles, run: row, store: store, output: RunOutput(workflow: workflow.name, human: human),
                                    telemetry: tool.telemetry, log: tool.log, traceFile: tool.parsed.value("trace"))
        if let grace = try tool.parsed.duration("grace") { runner.grace = grace }
        runner.declareMetrics()
        return try runner.execute(previous: previous)
    }

    /// The workflow's lock, so cron firings never overlap (on any machine, with a shared
    /// state); nil with --allow-overlap.
    static func lockWorkflow(_ name: String, _ store: RunStore, _ tool: ToolContext) throws -> RunLock? {
        guard !tool.parsed.flag("allow-overlap") else { return nil }
        let path = WorkflowCommand.workflowLockPath(tool, name)
        if let lock = try RunLock.tryAcquire(path, name: RunLock.workflowName(name), store) { return lock }
        let owner = RunLock.owner(path)?.split(separator: " ").map(String.init) ?? []
        var who = owner.count == 2 ? " (run \(owner[1]), pid \(owner[0]))" : ""
        if who.isEmpty, store.isShared, !FileLock.isHeld(path) {
            // Held through the shared state by a wf-run with other runs directories.
            let running = try store.unendedRuns(workflow: name).reversed().first {
                try RunLock.isHeld(WorkflowCommand.runLockPath($0.runDir), name: RunLock.runName($0.runID), store)
            }
            who = " (\(running.map { "run \($0.runID), " } ?? "")by a wf-run with other runs directories, perhaps on another machine)"
        }
        throw BusyError(message: "workflow \(name) is already running\(who); not starting another (--allow-overlap runs them side by side)")
    }

    /// The workflow's lock died with a wf-run killed by SIGKILL, but its steps' process
    /// groups did not: a new run must not overlap them any more than a live run. Refused
    /// (exit 75) rather than stopped, as this run did not start them and cannot know that
    /// they are safe to cut short: `resume` or `cancel` of their run stops them (and a
    /// resume stops its own run's before going on); nothing with --allow-overlap.
    static func refuseOverLeftovers(_ workflow: String, _ store: RunStore, resuming: String?, _ tool: ToolContext) throws {
        guard !tool.parsed.flag("allow-overlap") else { return }
        for row in try store.unendedRuns(workflow: workflow) where row.runID != resuming {
            // A live run (one started with --allow-overlap) holds its steps itself.
            guard !(try RunLock.isHeld(WorkflowCommand.runLockPath(row.runDir), name: RunLock.runName(row.runID), store)) else { continue }
            // A run another machine ran (shared state): its process groups are not here.
            guard !store.isShared || FileSystem.exists(row.runDir) else { continue }
            let state = RunState(runID: row.runID, events: try store.events(row.runID), stepOrder: [])
            let left = state.leftoverGroups()
            guard !left.isEmpty else { continue }
            let one = left.count == 1
            let steps = left.map { "\($0.step) (process group \($0.group.id))" }.joined(separator: ", ")
            throw BusyError(message: "workflow \(workflow): run \(row.runID) was interrupted (its wf-run was killed), but its step\(one ? "" : "s") "
                            + "\(steps) still run\(one ? "s" : ""); not starting another (wf-run resume \(row.runID) or wf-run cancel "
                            + "\(row.runID) stops \(one ? "it" : "them"); --allow-overlap runs beside \(one ? "it" : "them"))")
        }
    }

    /// `-p name=value` over the file's defaults. A name the file does not declare is an
    /// error: a typo must not silently run with the default.
    static func resolveParameters(_ workflow: Workflow, _ given: [String]) throws -> [(String, String)] {
        var values = workflow.parameters
        for item in given {
            guard let eq = item.firstIndex(of: "=") else { throw UsageError("--param: expected NAME=VALUE, got '\(item)'") }
            let name = String(item[..<eq]), value = String(item[item.index(after: eq)...])
            guard let i = values.firstIndex(where: { $0.0 == name }) else {
                let known = workflow.parameters.map(\.0)
                throw UsageError("--param: workflow \(workflow.name) has no parameter '\(name)'"
                                 + (known.isEmpty ? " (it declares none)" : " (it has: \(known.joined(separator: ", ")))"))
            }
            values[i].1 = value
        }
        return values
    }

    /// `wf-run cancel RUN`: a running run gets SIGTERM and is waited for; a run whose
    /// wf-run was killed is marked cancelled (and its leftover steps stopped) so status
    /// says so. Either way `resume` can go on with it.
    static func cancel(_ tool: ToolContext) throws -> ExitStatus {
        let store = try RunStore.open(tool.statePath)
        let row = try WorkflowCommand.findRun(store, tool.parsed.positionals.first)
        let lockPath = WorkflowCommand.runLockPath(row.runDir)
        let (state, live) = try WorkflowCommand.state(of: row, store)
        if live {
            guard let pid = RunLock.owner(lockPath)?.split(separator: " ").first.flatMap({ pid_t($0) }), pid > 1 else {
                if store.isShared && !FileSystem.exists(row.runDir) {
                    throw UnavailableError("run \(row.runID)", "running on another machine (its directory \(row.runDir) is not here): cancel it there")
                }
                throw UnavailableError("run \(row.runID)", "running, but its lock does not say which process holds it")
            }
            kill(pid, SIGTERM)
            let wait = try tool.parsed.duration("wait") ?? 30
            let giveUp = MonotonicClock.nanos() + UInt64(wait * 1e9)
            let name = RunLock.runName(row.runID)
            while try RunLock.isHeld(lockPath, name: name, store) && MonotonicClock.nanos() < giveUp { usleep(20_000) }
            if try RunLock.isHeld(lockPath, name: name, store) {
                throw UnavailableError("run \(row.runID)", "pid \(pid) got SIGTERM but has not stopped after \(DurationText.format(Int64(wait * 1e9)))")
            }
            tool.log.info("run \(row.runID) cancelled (pid \(pid) stopped)")
            return .ok
        }
        guard state.ended == nil else {
            throw UsageError("run \(row.runID) is not running: it \(state.status(live: false).rawValue)")
        }
        try WorkflowCommand.refuseIfElsewhere(row, store, "cancel")
        guard let lock = try RunLock.tryAcquire(lockPath, name: RunLock.runName(row.runID), store) else { return .ok }
        defer { lock.release() }
        for (_, group) in state.leftoverGroups() { kill(-group.id, SIGKILL) }
        var e = RunEvent(runID: row.runID, kind: .runCancelled)
        e.reason = "cancel"
        e.message = "cancelled after its wf-run stopped"
        try store.append(e)
        tool.log.info("run \(row.runID) marked cancelled; wf-run resume \(row.runID) goes on with it")
        return .ok
    }
}

/// The workflow is running already: exit 75, so cron's overlap is told apart from a failure.
struct BusyError: ArcError {
    let message: String
    var code: FailureCode { .workflowRunning }
    var exitStatus: ExitStatus { .busy }
    var description: String { message }
}
