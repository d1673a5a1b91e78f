import Glibc
import ArcCore

/// Drives one run: starts each step once its needs are done and its condition holds, up
/// to `concurrency` at a time, retries failures with backoff, enforces timeouts on whole
/// process groups, and on SIGINT/SIGTERM stops the running steps and records the run as
/// cancelled. Every change is appended to the run's log before it is printed, so what
/// was printed is never more than what a resume will know.
///
/// One thread decides; a waiter thread per running attempt reports its exit through a
/// queue, and so does the signal thread.
final class WorkflowRunner {
    enum Message {
        case exited(step: String, attempt: Int, ended: Subprocess.Termination)
        case stop(Int32)
    }

    let workflow: Workflow
    let run: RunStore.RunRow
    let store: RunStore
    let output: RunOutput
    let telemetry: Telemetry
    let log: Logger
    let messages = BlockingQueue<Message>()
    let groups: ProcessGroups
    var steps: [String: StepRuntime] = [:]
    var stopSignal: Int32 = 0
    let startedAt = MonotonicClock.nanos()
    /// How long a step has to exit after SIGTERM (timeout, cancel) before SIGKILL.
    var grace = 5.0
    let baseEnvironment: [String: String]
    /// Read from the env files as this run started or resumed; masked in all wf-run writes.
    let envFiles: EnvFileValues

    init(workflow: Workflow, envFiles: EnvFileValues = EnvFileValues(), run: RunStore.RunRow, store: RunStore, output: RunOutput,
         telemetry: Telemetry, log: Logger, traceFile: String?) {
        self.workflow = workflow
        self.envFiles = envFiles
        self.run = run
        self.store = store
        self.output = output
        self.telemetry = telemetry
        self.log = log
        groups = ProcessGroups()
        var base = ProcessEnvironment.all
        // Ours is set for the steps, each its own span's.
        base["TRACEPARENT"] = nil
        if let inherited = FileSystem.environment("TRACEPARENT"), !telemetry.isTracing { base["TRACEPARENT"] = inherited }
        // The arc tools a step runs append their spans to the run's span file.
        if let traceFile, !traceFile.isEmpty { base["ARC_TRACE_FILE"] = FileSystem.absolute(traceFile) }
        baseEnvironment = base
        for step in workflow.steps + workflow.handlers {
            steps[step.id] = StepRuntime(step: step, directory: run.runDir + "/steps/" + step.id)
        }
    }

    /// Runs the steps not yet succeeded (all of them for a new run) and the handlers, and
    /// returns the run's exit status. `previous`: the log so far, on resume.
    func execute(previous: RunState?) throws -> ExitStatus {
        do {
            return try executeSteps(previous: previous)
        } catch {
            // The log cannot be written (a full disk, a broken database): steps must not run
            // on unrecorded. Stop them, then report the error.
            abandon()
            throw error
        }
    }

    /// Stops every running step: SIGTERM, then SIGKILL after the grace period.
    func abandon() {
        let running = active
        for s in running { kill(-s.processGroup, SIGTERM) }
        let giveUp = MonotonicClock.nanos() + UInt64(grace * 1e9)
        var left = running.count
        while left > 0, MonotonicClock.nanos() < giveUp {
            if case .exited? = messages.take(waitingAtMost: 0.1) { left -= 1 }
        }
        groups.killAll(SIGKILL)
    }

    func executeSteps(previous: RunState?) throws -> ExitStatus {
        StopSignal.shared.onStop { [messages] sig in messages.put(.stop(sig)) }
        StopSignal.shared.onForcedExit { [groups] in groups.killAll(SIGKILL) }
        var start = RunEvent(runID: run.runID, kind: previous == nil ? .runStarted : .runResumed)
        start.pid = Int(getpid())
        start.traceID = telemetry.isTracing ? telemetry.root.context.traceID : nil
        if let previous {
            for kept in previous.steps where kept.status.keptOnResume {
                guard let s = steps[kept.id], !s.step.isHandler else { continue }
                s.status = .succeeded
                s.attempt = kept.attempts
                if let from = kept.cachedFrom, let other = try store.run(from) { s.directory = other.runDir + "/steps/" + s.step.id }
            }
            killLeftovers(previous)
        }
        try record(start)

        try drive(workflow.steps.map(\.id))
        let failed = workflow.steps.filter { steps[$0.id]!.failsRun }.map(\.id)
        if stopSignal == 0 {
            if failed.isEmpty, let h = workflow.onSuccess { try drive([h.id], status: "succeeded", failed: failed) }
            if !failed.isEmpty, let h = workflow.onFailure { try drive([h.id], status: "failed", failed: failed) }
        }
        if stopSignal == 0, let h = workflow.onExit { try drive([h.id], status: failed.isEmpty ? "succeeded" : "failed", failed: failed) }
        return try finish(failed: failed)
    }

    func finish(failed: [String]) throws -> ExitStatus {
        let failedHandlers = workflow.handlers.filter { steps[$0.id]!.status == .failed }.map(\.id)
        var end = RunEvent(runID: run.runID, kind: .runSucceeded)
        end.durationMillis = Int64((MonotonicClock.nanos() - startedAt) / 1_000_000)
        let status: ExitStatus
        if stopSignal != 0 {
            end.kind = .runCancelled
            end.reason = "signal"
            end.message = "stopped by \(stopSignal == SIGTERM ? "SIGTERM" : stopSignal == SIGINT ? "SIGINT" : "signal \(stopSignal)")"
            status = stopSignal == SIGTERM ? .terminated : .interrupted
        } else if !failed.isEmpty || !failedHandlers.isEmpty {
            end.kind = .runFailed
            let names = failed + failedHandlers
            end.message = "\(names.count) step\(names.count == 1 ? "" : "s") failed: " + names.joined(separator: ", ")
            status = .failures
        } else {
            status = .ok
        }
        try record(end)
        observeRun(end.kind)
        return status
    }

    /// Runs `ids` until each has an outcome, or until a stop has ended every attempt.
    /// Work per event is proportional to what the event changes, not to the workflow's
    /// size: a step becomes ready when its last unsettled need settles (Kahn's order).
    func drive(_ ids: [String], status: String? = nil, failed: [String] = []) throws {
        handlerContext = status.map { ($0, failed) }
        phase = Phase(ids: ids, steps: steps)
        while true {
            let now = MonotonicClock.nanos()
            if stopSignal == 0 { try startReady(now: now) }
            if active.isEmpty && (stopSignal != 0 || (phase.retrying.isEmpty && phase.ready.isEmpty)) { break }
            let wake = active.compactMap { [$0.deadline, $0.killAt].compactMap { $0 }.min() }.min()
            // A retry that is due but has no free slot waits for an exit, not for a timer.
            let retry = active.count < workflow.concurrency ? phase.retrying.compactMap { steps[$0]!.retryAt }.min() : nil
            let next = [wake, retry].compactMap { $0 }.min()
            let wait = next.map { Double($0 > now ? $0 - now : 0) / 1e9 } ?? 1
            if let message = messages.take(waitingAtMost: wait) { try handle(message) }
            try enforceDeadlines(now: MonotonicClock.nanos())
        }
        if stopSignal != 0 {
            for id in phase.retrying {
                let s = steps[id]!
                s.status = .cancelled
                var e = RunEvent(runID: run.runID, kind: .stepCancelled, step: id)
                e.attempt = s.attempt
                e.reason = "signal"
                try record(e)
            }
            phase.retrying.removeAll()
        }
    }

    /// Set while handlers run: the run's outcome so far, for WF_RUN_STATUS and WF_FAILED_STEPS.
    var handlerContext: (String, [String])?

    /// The steps of one `drive`: which are ready (every need settled), which wait for a
    /// retry, and how many unsettled needs the others still have.
    struct Phase {
        var order: [String: Int] = [:]
        /// Ready steps by file position, so they start in file order.
        var ready: [Int] = []
        var ids: [String] = []
        var unsettled: [String: Int] = [:]
        var dependents: [String: [String]] = [:]
        var retrying: [String] = []

        init() {}

        init(ids: [String], steps: [String: StepRuntime]) {
            self.ids = ids
            for (i, id) in ids.enumerated() { order[id] = i }
            for (i, id) in ids.enumerated() where steps[id]!.status == .pending {
                let needs = steps[id]!.step.needs.filter { !steps[$0]!.isTerminal }
                for need in needs { dependents[need, default: []].append(id) }
                if needs.isEmpty { ready.append(i) } else { unsettled[id] = needs.count }
            }
        }

        mutating func settled(_ id: String) {
            retrying.removeAll { $0 == id }
            for d in dependents[id] ?? [] {
                unsettled[d]! -= 1
                if unsettled[d] == 0, let i = order[d] {
                    ready.insert(i, at: ready.firstIndex { $0 > i } ?? ready.endIndex)
                }
            }
        }
    }
    var phase = Phase()

    /// The attempts running now.
    var active: [StepRuntime] { activeSteps.values.map { $0 } }
    var activeSteps: [String: StepRuntime] = [:]

    /// Starts what may start, in file order, while there is room: due retries first.
    func startReady(now: UInt64) throws {
        for id in phase.retrying where activeSteps.count < workflow.concurrency {
            let s = steps[id]!
            if let at = s.retryAt, at <= now {
                phase.retrying.removeAll { $0 == id }
                try startAttempt(s)
            }
        }
        while let first = phase.ready.first {
            let s = steps[phase.ids[first]]!
            if let skip = skipReason(s) {
                phase.ready.removeFirst()
                try skipStep(s, reason: skip.reason, message: skip.message, upstreamFailed: skip.upstreamFailed)
                continue
            }
            if try cacheHit(s) {
                phase.ready.removeFirst()
                continue
            }
            guard activeSteps.count < workflow.concurrency else { return }
            phase.ready.removeFirst()
            try startAttempt(s)
        }
    }

    /// Why a step whose needs are done must not run, if it must not.
    func skipReason(_ s: StepRuntime) -> (reason: String, message: String, upstreamFailed: Bool)? {
        let needs = s.step.needs.map { steps[$0]! }
        switch s.step.when {
        case .always:
            return nil
        case .success:
            guard let blocker = needs.first(where: { !$0.letsDependentsRun }) else { return nil }
            let failedBefore = needs.contains { $0.failedUpstream }
            let what = blocker.status == .failed ? "failed" : blocker.status == .cancelled ? "was cancelled" : "was skipped"
            return (failedBefore ? "need_failed" : "need_skipped", "need \(blocker.step.id) \(what)", failedBefore)
        case .failure:
            if needs.contains(where: { $0.failedUpstream }) { return nil }
            return ("no_failure", "runs only when a need fails", false)
        }
    }

    func skipStep(_ s: StepRuntime, reason: String, message: String, upstreamFailed: Bool) throws {
        s.status = .skipped
        s.upstreamFailed = upstreamFailed
        var e = RunEvent(runID: run.runID, kind: .stepSkipped, step: s.step.id)
        e.reason = reason
        e.message = message
        try record(e)
        phase.settled(s.step.id)
        observeStep(s)
    }

    /// A step with a cache key that a successful run already ran with the same expanded key
    /// is skipped, its directory pointing at that run's output.
    func cacheHit(_ s: StepRuntime) throws -> Bool {
        guard let template = s.step.cacheKey else { return false }
        let key = envFiles.mask(environment(for: s, attempt: 1).expand(template))
        guard let cachedRun = try store.cachedRun(workflow: workflow.name, step: s.step.id, cacheKey: key),
              let other = try store.run(cachedRun) else { return false }
        // A shared state's run from another machine has its output there, not here.
        guard !store.isShared || FileSystem.exists(other.runDir) else { return false }
        s.status = .succeeded
        s.directory = other.runDir + "/steps/" + s.step.id
        var e = RunEvent(runID: run.runID, kind: .stepSkipped, step: s.step.id)
        e.reason = "cached"
        e.message = cachedRun
        e.cacheKey = key
        try record(e)
        phase.settled(s.step.id)
        observeStep(s)
        return true
    }

    func handle(_ message: Message) throws {
        switch message {
        case .exited(let id, let attempt, let ended):
            try attemptEnded(steps[id]!, attempt: attempt, ended: ended)
        case .stop(let sig):
            guard stopSignal == 0 else { return }
            stopSignal = sig
            log.warn("stopping: \(sig == SIGTERM ? "SIGTERM" : "SIGINT") received; the running steps get it too")
            let killAt = MonotonicClock.nanos() + UInt64(grace * 1e9)
            for s in active {
                kill(-s.processGroup, sig)
                s.killAt = killAt
                s.deadline = nil
            }
        }
    }

    /// Timeouts get SIGTERM, then SIGKILL after the grace period; so do stopped steps.
    func enforceDeadlines(now: UInt64) throws {
        for s in active {
            let id = s.step.id
            if let deadline = s.deadline, deadline <= now {
                s.timedOut = true
                s.deadline = nil
                s.killAt = now + UInt64(grace * 1e9)
                log.warn("step \(id) timed out after \(DurationText.format(Int64(s.step.timeout! * 1e9))); stopping its process group",
                         ["step": .string(id), "pgid": .int(Int64(s.processGroup))])
                kill(-s.processGroup, SIGTERM)
            } else if let killAt = s.killAt, killAt <= now {
                s.killAt = nil
                kill(-s.processGroup, SIGKILL)
            }
        }
    }

    /// Appends to the log, then prints: a record on stdout is always one a resume knows.
    /// A message can quote what a step wrote to stderr, which may hold an env_file value.
    func record(_ event: RunEvent) throws {
        var e = event
        e.message = e.message.map(envFiles.mask)
        try store.append(e)
        try output.emit(e)
    }
}
